/* The pipeline `when` expressions (pl_when_parse, pl_when_check,
 * pl_when_eval). Input: the expression.
 *
 * Properties:
 *   - a syntax error is CUBIT_EINVAL with "column N: ..." (or "empty
 *     expression") and no result;
 *   - the check visits only references the parser accepted (params.X,
 *     tasks.T.outputs.Y);
 *   - evaluation over a fixed set of values gives 0 or 1, or CUBIT_EINVAL
 *     with a message; when E gives r, "!(E)" gives !r, "(E) && true" and
 *     "(E) || false" give r, and "false && (E)" gives 0 (short-circuit). */
#include <jansson.h>

#include "fuzz.h"
#include "pipeline_api.h"

static json_t *values; /* the values references evaluate to; made once */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  values = json_pack("{s:i, s:s, s:b, s:f, s:s, s:s, s:s, s:s}", "params.n", 5, "params.s", "fast", "params.b", 0,
                     "params.f", 0.01, "tasks.t.outputs.acc", "0.93", "tasks.t.outputs.ok", "true",
                     "tasks.t.outputs.label", "cat", "tasks.t.outputs.empty", "");
  if (values == NULL) abort();
  return 0;
}

static const json_t *value_of(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  char key[200];
  pl_ref_format(ref, key, sizeof(key));
  json_t *v = json_object_get(values, key);
  if (v == NULL) snprintf(err, errlen, "no value");
  return v;
}

static int check_ref(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  FUZZ_ASSERT(ref->kind == PL_REF_PARAM || ref->kind == PL_REF_OUTPUT, "a `when` reference of kind %d", ref->kind);
  FUZZ_ASSERT(ref->name[0] != '\0', "a reference without a name");
  FUZZ_ASSERT(ref->kind != PL_REF_OUTPUT || ref->task[0] != '\0', "an output reference without a task");
  (*(int *)arg)++;
  return 0;
}

/* Parses and evaluates src: 0 or 1, -1 for an evaluation error, -2 when it
 * does not parse. */
static int eval(const char *src) {
  pl_when *w = NULL;
  char err[512] = "";
  int rc = pl_when_parse(src, &w, err, sizeof(err));
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && w == NULL, "pl_when_parse returned %d", rc);
    FUZZ_ASSERT(strncmp(err, "column ", 7) == 0 || strcmp(err, "empty expression") == 0, "syntax error \"%s\"", err);
    return -2;
  }
  int refs = 0;
  rc = pl_when_check(w, check_ref, &refs, err, sizeof(err));
  FUZZ_ASSERT(rc == 0, "the check fails although every reference passes: %s", err);
  int result = -7;
  err[0] = '\0';
  rc = pl_when_eval(w, value_of, NULL, &result, err, sizeof(err));
  pl_when_free(w);
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && err[0], "pl_when_eval returned %d (%s)", rc, err);
    return -1;
  }
  FUZZ_ASSERT(result == 0 || result == 1, "result %d", result);
  return result;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = fuzz_cstr(data, size);
  int r = eval(src);
  if (r >= 0) {
    size_t n = strlen(src) + 32;
    char *wrapped = malloc(n);
    if (wrapped == NULL) abort();
    static const char *const forms[] = {"!(%s)", "(%s) && true", "(%s) || false", "false && (%s)"};
    for (int k = 0; k < 4; k++) {
      snprintf(wrapped, n, forms[k], src);
      int want = k == 0 ? !r : k == 3 ? 0 : r;
      int got = eval(wrapped);
      /* -2: wrapping went past a nesting cap */
      FUZZ_ASSERT(got == want || got == -2, "\"%s\" gives %d but \"%s\" gives %d", src, r, wrapped, got);
    }
    free(wrapped);
  }
  free(src);
  return 0;
}
