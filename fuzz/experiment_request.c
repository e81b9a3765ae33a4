/* api/experiment's request parser and the search algorithms behind it
 * (cubit-suggest's input). Input: a request body, as cubit-suggest reads
 * it on stdin.
 *
 * Properties:
 *   - hpo_request_parse refuses with CUBIT_EINVAL and a message, or gives
 *     a request;
 *   - hpo_suggest on it returns 0 with at most count suggestions, numbered
 *     one after another from the highest trial number, each inside the
 *     space (its JSON reads back as the same values) and, except for
 *     Hyperband's promotions, no repeat of a trial or of another
 *     suggestion; fewer than asked comes with a reason;
 *   - a second call gives the same suggestions (no hidden state);
 *   - medianstop names only running trials, each once. */
#include <math.h>

#include "api/experiment/experiment.h"
#include "controllers/experiment/suggest/suggest.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

static int same(const double *a, const double *b, size_t d) { return memcmp(a, b, d * sizeof(double)) == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  if (j == NULL) return 0;
  hpo_request rq;
  char err[512] = "";
  int rc = hpo_request_parse(j, &rq, err, sizeof(err));
  json_decref(j);
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && err[0], "hpo_request_parse returned %d (%s)", rc, err);
    hpo_request_free(&rq);
    return 0;
  }
  /* The algorithms' cost grows with trials x count; a fuzzer's inputs
   * stay small, but a long one should not time out the run. */
  if (rq.trials.n * (rq.count + 1) > 20000) rq.count = 1;
  size_t d = rq.space.n;
  hpo_suggestions a, b;
  rc = hpo_suggest(&rq.space, &rq.objective, &rq.algorithm, &rq.trials, rq.count, &a, err, sizeof(err));
  FUZZ_ASSERT(rc == 0, "hpo_suggest refused a parsed request: %s", err);
  FUZZ_ASSERT(a.n <= rq.count, "%zu suggestions for %zu", a.n, rq.count);
  FUZZ_ASSERT(a.n == rq.count || a.reason[0], "%zu of %zu suggestions and no reason", a.n, rq.count);
  int64_t next = rq.trials.n ? rq.trials.items[rq.trials.n - 1].number + 1 : 1;
  double *back = calloc(d, sizeof(double));
  for (size_t i = 0; i < a.n; i++) {
    const double *x = a.x + i * d;
    FUZZ_ASSERT(a.numbers[i] == next + (int64_t)i, "suggestion %zu is numbered %lld", i, (long long)a.numbers[i]);
    json_t *obj = hpo_assignment_json(&rq.space, x);
    rc = hpo_assignment_parse(&rq.space, obj, "suggestion", back, err, sizeof(err));
    json_decref(obj);
    FUZZ_ASSERT(rc == 0, "suggestion %zu is outside the space: %s", i, err);
    FUZZ_ASSERT(same(back, x, d), "suggestion %zu does not read back as itself", i);
    if (rq.algorithm.kind == HPO_HYPERBAND) continue;
    for (size_t k = 0; k < rq.trials.n; k++)
      FUZZ_ASSERT(!same(x, rq.trials.items[k].x, d), "suggestion %zu repeats trial %lld", i,
                  (long long)rq.trials.items[k].number);
    for (size_t k = 0; k < i; k++) FUZZ_ASSERT(!same(x, a.x + k * d, d), "suggestions %zu and %zu are equal", k, i);
  }
  free(back);
  rc = hpo_suggest(&rq.space, &rq.objective, &rq.algorithm, &rq.trials, rq.count, &b, err, sizeof(err));
  FUZZ_ASSERT(rc == 0 && b.n == a.n && b.exhausted == a.exhausted && strcmp(a.reason, b.reason) == 0,
              "a second call differs (%zu vs %zu suggestions)", a.n, b.n);
  FUZZ_ASSERT(a.n == 0 || same(a.x, b.x, a.n * d), "a second call suggests other values");
  hpo_suggestions_free(&a);
  hpo_suggestions_free(&b);

  hpo_stops st;
  hpo_early_stop(&rq.objective, &rq.early_stopping, &rq.trials, &st);
  for (size_t i = 0; i < st.n; i++) {
    FUZZ_ASSERT(st.items[i].trial < rq.trials.n, "stop %zu names trial index %zu", i, st.items[i].trial);
    FUZZ_ASSERT(rq.trials.items[st.items[i].trial].state == HPO_TRIAL_RUNNING, "stop %zu is not a running trial", i);
    FUZZ_ASSERT(i == 0 || st.items[i].trial > st.items[i - 1].trial, "stops out of order or repeated");
  }
  hpo_stops_free(&st);
  hpo_request_free(&rq);
  return 0;
}
