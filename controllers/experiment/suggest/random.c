/* Random search: each suggestion uniform over the space (a log scale
 * uniform in its logarithm), drawn from the stream of its trial number,
 * and never an assignment already tried or being tried. */
#include "controllers/experiment/suggest/internal.h"
#include "util/alloc.h"

void hpo__random(hpo__ctx *c) {
  double *x = xcalloc(c->d, sizeof(double));
  while (c->out->n < c->want) {
    if (!hpo__random_unseen(c, (uint64_t)hpo__next_number(c), x)) {
      hpo__stop(c, 1, "every one of the %llu assignments of the space has been tried",
                (unsigned long long)hpo_space_size(c->space));
      break;
    }
    hpo__emit(c, x);
  }
  free(x);
}
