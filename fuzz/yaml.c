/* pkg/util/yaml. Input: YAML text (any bytes).
 *
 * Properties:
 *   - errors are CUBIT_EINVAL or CUBIT_ETOOBIG with "line L, column C: ..."
 *     ("byte B: ..." for invalid UTF-8) and no result;
 *   - the two entry points agree: when yaml_to_json gives a document,
 *     yaml_to_json_all gives [that document] ([] for null);
 *   - the result, written as JSON, is YAML that reads back as the same
 *     value (JSON is YAML), skipped for strings that need surrogate escapes,
 *     which YAML cannot read. */
#include "fuzz.h"
#include "util/yaml.h"

static void check_error(int rc, const json_t *out, const char *err) {
  FUZZ_ASSERT(rc == CUBIT_EINVAL || rc == CUBIT_ETOOBIG || rc == CUBIT_ENOMEM, "yaml returned %d", rc);
  FUZZ_ASSERT(out == NULL, "a failure with a result");
  if (rc != CUBIT_ENOMEM)
    FUZZ_ASSERT(strncmp(err, "line ", 5) == 0 || strncmp(err, "byte ", 5) == 0, "an error without its position: "
                "\"%s\"", err);
}

/* 1 when the ASCII JSON text has a \uD800-\uDFFF escape. */
static int has_surrogate(const char *text) {
  for (const char *p = strstr(text, "\\u"); p; p = strstr(p + 2, "\\u")) {
    char c = p[2], d = p[3];
    if ((c == 'd' || c == 'D') && strchr("89abcdefABCDEF", d) && d != '\0') return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  json_t *doc = NULL, *all = NULL;
  char err[512] = "";
  int rc = yaml_to_json(text, size, &doc, err, sizeof(err));
  if (rc) {
    check_error(rc, doc, err);
    return 0;
  }
  FUZZ_ASSERT(doc != NULL, "success without a result");

  char err_all[512] = "";
  int rc_all = yaml_to_json_all(text, size, &all, err_all, sizeof(err_all));
  FUZZ_ASSERT(rc_all == 0, "yaml_to_json accepts what yaml_to_json_all refuses: %s", err_all);
  FUZZ_ASSERT(json_is_array(all), "yaml_to_json_all gave no array");
  if (json_is_null(doc)) {
    FUZZ_ASSERT(json_array_size(all) == 0, "a null document is not left out of the stream");
  } else {
    FUZZ_ASSERT(json_array_size(all) == 1 && json_equal(json_array_get(all, 0), doc),
                "yaml_to_json_all differs from yaml_to_json");
  }
  json_decref(all);

  char *json = json_dumps(doc, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_COMPACT);
  FUZZ_ASSERT(json != NULL, "the result cannot be written as JSON");
  if (!has_surrogate(json)) {
    json_t *again = NULL;
    char err2[512] = "";
    int rc2 = yaml_to_json(json, strlen(json), &again, err2, sizeof(err2));
    FUZZ_ASSERT(rc2 == 0, "the result as JSON is not readable YAML: %s\n  JSON: %.300s", err2, json);
    FUZZ_ASSERT(json_equal(again, doc), "the result as JSON reads back differently\n  JSON: %.300s", json);
    json_decref(again);
  }
  free(json);
  json_decref(doc);
  return 0;
}
