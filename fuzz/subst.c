/* The pipeline {{...}} substitution (pl_subst_check, pl_subst_json,
 * pl_ref_parse). Input: a JSON document (a workload with references).
 *
 * Properties:
 *   - the check and the substitution agree: the substitution succeeds
 *     exactly when the check, accepting the references that have a value,
 *     passes; errors are CUBIT_EINVAL with a message naming the field
 *     ("spec...");
 *   - after a substitution with values that hold no braces, no string
 *     value holds "{{" (keys are never substituted), so substituting again
 *     changes nothing;
 *   - a document without "{{" anywhere comes out equal to itself;
 *   - every reference the check visits formats to a text that parses back
 *     to the same reference. */
#include <jansson.h>

#include "fuzz.h"
#include "pipeline_api.h"

static json_t *values; /* made once */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  values = json_pack("{s:i, s:f, s:s, s:s, s:s, s:b, s:{s:s}, s:[i,s], s:n}", "params.workers", 4, "params.lr", 0.5,
                     "run.name", "etl-1", "run.namespace", "ml", "tasks.a.outputs.model", "s3://m", "params.flag", 1,
                     "params.cfg", "k", "v", "params.list", 1, "x", "params.none");
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

/* Accepts a reference when it has a value; counts those without. */
static int check_ref(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  char text[200];
  pl_ref_format(ref, text, sizeof(text));
  pl_ref back;
  FUZZ_ASSERT(pl_ref_parse(text, strlen(text), &back) == 0 && back.kind == ref->kind &&
                  strcmp(back.name, ref->name) == 0 && strcmp(back.task, ref->task) == 0,
              "reference %s does not parse back to itself", text);
  if (json_object_get(values, text) == NULL) {
    (*(int *)arg)++;
    snprintf(err, errlen, "no value");
    return CUBIT_EINVAL;
  }
  return 0;
}

/* 1 when a string value anywhere in v (not a key) holds "{{". */
static int has_ref(const json_t *v) {
  if (json_is_string(v)) return memmem(json_string_value(v), json_string_length(v), "{{", 2) != NULL;
  if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++)
      if (has_ref(json_array_get(v, i))) return 1;
  } else if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) if (has_ref(x)) return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
  if (in == NULL) return 0;
  char err[1024] = "";
  int missing = 0;
  int checked = pl_subst_check(in, "spec", check_ref, &missing, err, sizeof(err));
  if (checked) FUZZ_ASSERT(checked == CUBIT_EINVAL && strncmp(err, "spec", 4) == 0, "check: %d \"%s\"", checked, err);

  json_t *out = NULL;
  char err2[1024] = "";
  int rc = pl_subst_json(in, "spec", value_of, NULL, &out, err2, sizeof(err2));
  if (checked == 0) FUZZ_ASSERT(rc == 0, "the check passes but the substitution fails: %s", err2);
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && out == NULL && strncmp(err2, "spec", 4) == 0, "subst: %d \"%s\"", rc, err2);
  } else {
    FUZZ_ASSERT(checked == 0, "the substitution succeeds where the check fails (%d without a value): %s", missing,
                err);
    FUZZ_ASSERT(!has_ref(out), "a reference is left after substituting");
    if (!has_ref(in)) FUZZ_ASSERT(json_equal(in, out), "a document without references changed");
    json_t *again = NULL;
    FUZZ_ASSERT(pl_subst_json(out, "spec", value_of, NULL, &again, err2, sizeof(err2)) == 0 && json_equal(again, out),
                "substituting again changes the result");
    json_decref(again);
    json_decref(out);
  }
  json_decref(in);
  return 0;
}
