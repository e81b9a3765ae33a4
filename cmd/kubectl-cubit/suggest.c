/* "did you mean": the existing name closest to a mistyped one. Pure. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Edit distance where swapping two neighbours is one edit (the optimal
 * string alignment distance), giving up (returning limit + 1) past limit.
 * Names are at most 253 bytes, so three rows on the stack do. */
static size_t distance(const char *a, const char *b, size_t limit) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 253 || lb > 253) return limit + 1;
  if ((la > lb ? la - lb : lb - la) > limit) return limit + 1;
  size_t before[254], prev[254], cur[254];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && before[j - 2] + 1 < cur[j])
        cur[j] = before[j - 2] + 1;
      if (cur[j] < row_min) row_min = cur[j];
    }
    if (row_min > limit) return limit + 1;
    memcpy(before, prev, (lb + 1) * sizeof(size_t));
    memcpy(prev, cur, (lb + 1) * sizeof(size_t));
  }
  return prev[lb];
}

const char *cli_suggest(const char *const *names, size_t n, const char *typed) {
  /* Up to a third of the name may be wrong (at least one character), or the
   * typed name is the start of an existing one ("nightly-3" of
   * "nightly-31"). Ties go to the first in names' order. */
  size_t limit = strlen(typed) / 3 ? strlen(typed) / 3 : 1;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    if (names[i] == NULL || strcmp(names[i], typed) == 0) continue;
    size_t d = distance(typed, names[i], limit);
    if (strncmp(names[i], typed, strlen(typed)) == 0 && d > 1) d = 1;
    if (d < best_d) {
      best = names[i];
      best_d = d;
    }
  }
  return best;
}
