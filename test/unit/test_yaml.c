/* Tests of util/yaml. The expected JSON of the tables and of the manifest
 * fixture is what sigs.k8s.io/yaml (kubectl's YAML reader) produces for the
 * same text, except where yaml.h documents a deliberate difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/yaml.h"

static void assert_json(json_t *got, const char *want_text, const char *yaml) {
  json_error_t jerr;
  json_t *want = json_loads(want_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  ck_assert_msg(want != NULL, "bad expected JSON %s: %s", want_text, jerr.text);
  char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
  ck_assert_msg(json_equal(got, want), "YAML %s\n gave %s\n want %s", yaml, g, want_text);
  free(g);
  json_decref(want);
}

/* ---- one document: YAML -> JSON ------------------------------------------------ */

typedef struct {
  const char *yaml;
  const char *json;
} ok_case;

static const ok_case ok_cases[] = {
    /* null */
    {"a:", "{\"a\": null}"},
    {"a: ~", "{\"a\": null}"},
    {"a: null", "{\"a\": null}"},
    {"a: Null", "{\"a\": null}"},
    {"a: NULL", "{\"a\": null}"},
    {"a: nULL", "{\"a\": \"nULL\"}"},
    {"a: ''", "{\"a\": \"\"}"},
    /* booleans, YAML 1.2 and the 1.1 words kubectl still reads */
    {"[true, True, TRUE, false, False, FALSE]", "[true, true, true, false, false, false]"},
    {"[yes, Yes, YES, no, No, NO, on, On, ON, off, Off, OFF, y, Y, n, N]",
     "[true, true, true, false, false, false, true, true, true, false, false, false, true, true, false, false]"},
    {"[tRUE, yEs, 'true', \"no\"]", "[\"tRUE\", \"yEs\", \"true\", \"no\"]"},
    /* integers */
    {"[0, 12, -12, +3, -0]", "[0, 12, -12, 3, 0]"},
    {"[0x1F, 0X1f, -0x1F, 0o17, 0O17, 0b101, -0b101]", "[31, 31, -31, 15, 15, 5, -5]"},
    {"mode: 0644", "{\"mode\": 420}"},
    {"[1_000, 1__0, 0x_1F]", "[1000, 10, 31]"},
    {"[08, 09.5]", "[8, 9.5]"},
    {"[9223372036854775807, -9223372036854775808]", "[9223372036854775807, -9223372036854775808]"},
    {"[9223372036854775808, 18446744073709551615]",
     "[9.223372036854775808e18, 1.8446744073709551615e19]"},
    {"[0x, 0b2, 0o8, 1_, _1, '12']", "[\"0x\", \"0b2\", \"0o8\", 1, \"_1\", \"12\"]"},
    /* floats; an integral value prints as an integer, as in kubectl's JSON */
    {"[1.5, -0.25, .5, -.5, +.5, 1e-2, 1E+2, 2.0, 1., 1e3, 6.02e23]",
     "[1.5, -0.25, 0.5, -0.5, 0.5, 0.01, 100, 2, 1, 1000, 6.02e23]"},
    {"[1e400, 1.2.3, 1e, e3, .e3, '.5']", "[\"1e400\", \"1.2.3\", \"1e\", \"e3\", \".e3\", \".5\"]"},
    /* strings that look like something else */
    {"[500m, 1Gi, 1.5Gi, 2024-01-01, 2024-01-01T00:00:00Z, '12:30', 12:30, +, -, ., v1.2]",
     "[\"500m\", \"1Gi\", \"1.5Gi\", \"2024-01-01\", \"2024-01-01T00:00:00Z\", \"12:30\", \"12:30\", "
     "\"+\", \"-\", \".\", \"v1.2\"]"},
    {"a: \"tab\\there \\u00e9 \\x41\"", "{\"a\": \"tab\\there \\u00e9 A\"}"},
    {"a: \"nul\\0byte\"", "{\"a\": \"nul\\u0000byte\"}"},
    {"a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n", "{\"a\": \"line 1\\nline 2\\n\", \"b\": \"folded text\"}"},
    {"a: plain\n  continued", "{\"a\": \"plain continued\"}"},
    /* tags */
    {"[!!str 12, !!str true, ! 12, !custom 12, !!timestamp 2024-01-01]",
     "[\"12\", \"true\", \"12\", \"12\", \"2024-01-01\"]"},
    {"[!!int \"12\", !!int 0x10, !!float 3, !!float '2.5', !!bool yes, !!null '']", "[12, 16, 3, 2.5, true, null]"},
    {"!!map {a: !!seq [1]}", "{\"a\": [1]}"},
    /* keys */
    {"{1: a, -2: b, 0x10: c, yes: d, 1.5: f, 1e7: g, '3': h}",
     "{\"1\": \"a\", \"-2\": \"b\", \"16\": \"c\", \"true\": \"d\", \"1.5\": \"f\", \"1e7\": \"g\", \"3\": \"h\"}"},
    {"{y: 1, n: 2, x: 3}", "{\"true\": 1, \"false\": 2, \"x\": 3}"},
    {"'<<': literal", "{\"<<\": \"literal\"}"},
    {"? a\n: b", "{\"a\": \"b\"}"},
    {"a: {}\nb: []\nc: [[], {}]", "{\"a\": {}, \"b\": [], \"c\": [[], {}]}"},
    /* anchors and aliases */
    {"a: &x 5\nb: *x\nc: &s hello\nd: [*s, *x]", "{\"a\": 5, \"b\": 5, \"c\": \"hello\", \"d\": [\"hello\", 5]}"},
    {"a: &m {k: [1, 2]}\nb: *m\nc: [*m]", "{\"a\": {\"k\": [1, 2]}, \"b\": {\"k\": [1, 2]}, \"c\": [{\"k\": [1, 2]}]}"},
    {"a: &x 1\na2: &x 2\nb: *x", "{\"a\": 1, \"a2\": 2, \"b\": 2}"},
    {"- &k name\n- {*k : v}", "[\"name\", {\"name\": \"v\"}]"},
    {"- &n 7\n- {*n : v}", "[7, {\"7\": \"v\"}]"},
    /* merge keys */
    {"base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3", "{\"base\": {\"x\": 1, \"z\": 2}, \"d\": {\"x\": 1, \"z\": 3}}"},
    {"base: &b {x: 1, z: 2}\nd: {z: 3, <<: *b}", "{\"base\": {\"x\": 1, \"z\": 2}, \"d\": {\"z\": 3, \"x\": 1}}"},
    {"a: &a {x: 1}\nb: &b {x: 2, w: 3}\nc: {<<: [*a, *b], v: 0}",
     "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2, \"w\": 3}, \"c\": {\"x\": 1, \"w\": 3, \"v\": 0}}"},
    {"c:\n  <<: {x: 1, v: 1}\n  <<: [{x: 2, w: 2}, {x: 3, w: 3, u: 3}]",
     "{\"c\": {\"x\": 2, \"w\": 2, \"v\": 1, \"u\": 3}}"},
    {"c: {!!merge <<: {x: 1}}", "{\"c\": {\"x\": 1}}"},
    {"c: {<<: []}", "{\"c\": {}}"},
    /* JSON is YAML */
    {"{\"a\": [1, 2.5, \"x\", null, true], \"b\": {\"c\": {}}, \"d\": \"\\u00e9\"}",
     "{\"a\": [1, 2.5, \"x\", null, true], \"b\": {\"c\": {}}, \"d\": \"\\u00e9\"}"},
    /* documents */
    {"", "null"},
    {"# only a comment\n", "null"},
    {"---\na: 1\n...\n", "{\"a\": 1}"},
    {"a: 1\n---\n", "{\"a\": 1}"},
    {"---\n---\nx\n---\n~\n", "\"x\""},
    {"- 1\n- 2", "[1, 2]"},
    {"just text", "\"just text\""},
};

START_TEST(converts) {
  const ok_case *c = &ok_cases[_i];
  json_t *got = NULL;
  char err[256];
  int rc = yaml_to_json(c->yaml, strlen(c->yaml), &got, err, sizeof(err));
  ck_assert_msg(rc == 0, "YAML %s: %d %s", c->yaml, rc, err);
  ck_assert_str_eq(err, "");
  assert_json(got, c->json, c->yaml);
  json_decref(got);
}
END_TEST

START_TEST(types_are_exact) {
  json_t *v = NULL;
  const char *y = "[1, 1.5, 2.0, '1', true, ~]";
  ck_assert_int_eq(yaml_to_json(y, strlen(y), &v, NULL, 0), 0);
  ck_assert(json_is_integer(json_array_get(v, 0)));
  ck_assert(json_is_real(json_array_get(v, 1)));
  ck_assert(json_is_integer(json_array_get(v, 2)));
  ck_assert(json_is_string(json_array_get(v, 3)));
  ck_assert(json_is_true(json_array_get(v, 4)));
  ck_assert(json_is_null(json_array_get(v, 5)));
  json_decref(v);
}
END_TEST

START_TEST(aliases_are_copies) {
  json_t *v = NULL;
  const char *y = "a: &m {k: [1]}\nb: *m\n";
  ck_assert_int_eq(yaml_to_json(y, strlen(y), &v, NULL, 0), 0);
  json_t *a = json_object_get(v, "a"), *b = json_object_get(v, "b");
  ck_assert_ptr_ne(a, b);
  ck_assert_ptr_ne(json_object_get(a, "k"), json_object_get(b, "k"));
  json_array_append_new(json_object_get(b, "k"), json_integer(2));
  ck_assert_uint_eq(json_array_size(json_object_get(a, "k")), 1);
  ck_assert_int_eq(a->refcount, 1);
  json_decref(v);
}
END_TEST

START_TEST(keys_keep_order_and_nul) {
  json_t *v = NULL;
  const char *y = "z: 1\na: 2\n\"n\\0k\": 3\nm: 4\n";
  ck_assert_int_eq(yaml_to_json(y, strlen(y), &v, NULL, 0), 0);
  const char *order[] = {"z", "a", NULL, "m"};
  size_t i = 0;
  for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it), i++) {
    if (order[i])
      ck_assert_str_eq(json_object_iter_key(it), order[i]);
    else
      ck_assert_uint_eq(json_object_iter_key_len(it), 3);
  }
  ck_assert_uint_eq(i, 4);
  ck_assert_ptr_nonnull(json_object_getn(v, "n\0k", 3));
  json_decref(v);
}
END_TEST

/* ---- errors ---------------------------------------------------------------------- */

typedef struct {
  const char *yaml;
  int code;
  const char *msg; /* the whole message */
} err_case;

static const err_case err_cases[] = {
    {"a: b: c", CUBIT_EINVAL, "line 1, column 5: mapping values are not allowed in this context"},
    {"a: [1, 2\nb: 3", CUBIT_EINVAL,
     "line 2, column 2: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)"},
    {"a:\n\t- 1", CUBIT_EINVAL,
     "line 2, column 1: found character that cannot start any token (while scanning for the next token at line 2, column 1)"},
    {"a: \"unterminated", CUBIT_EINVAL,
     "line 1, column 17: found unexpected end of stream (while scanning a quoted scalar at line 1, column 4)"},
    {"a: 1\na: 2", CUBIT_EINVAL, "line 2, column 1: duplicate key \"a\""},
    {"&k key: 1\n*k : 2", CUBIT_EINVAL, "line 2, column 1: duplicate key \"key\""},
    {"{1: a, 0x1: b}", CUBIT_EINVAL, "line 1, column 8: duplicate key \"1\""},
    {"a: .inf", CUBIT_EINVAL, "line 1, column 4: .inf has no JSON form"},
    {"a: [-.Inf]", CUBIT_EINVAL, "line 1, column 5: -.Inf has no JSON form"},
    {"a: .nan", CUBIT_EINVAL, "line 1, column 4: .nan has no JSON form"},
    {"~: 1", CUBIT_EINVAL, "line 1, column 1: a null mapping key has no JSON form"},
    {": 1", CUBIT_EINVAL, "line 1, column 1: did not find expected key (while parsing a block mapping at line 1, column 1)"},
    {"? \n: 1", CUBIT_EINVAL, "line 1, column 2: a null mapping key has no JSON form"},
    {"? [a]\n: b", CUBIT_EINVAL, "line 1, column 3: a mapping key must be a scalar"},
    {"a: &m {x: 1}\n*m : 2", CUBIT_EINVAL, "line 2, column 1: a mapping key must be a scalar"},
    {"a: !!int abc", CUBIT_EINVAL, "line 1, column 4: !!int value \"abc\" is not an int"},
    {"a: !!int 1.5", CUBIT_EINVAL, "line 1, column 4: !!int value \"1.5\" is not an int"},
    {"a: !!bool 1", CUBIT_EINVAL, "line 1, column 4: !!bool value \"1\" is not a bool"},
    {"a: !!null x", CUBIT_EINVAL, "line 1, column 4: !!null value \"x\" is not a null"},
    {"a: !!float x", CUBIT_EINVAL, "line 1, column 4: !!float value \"x\" is not a float"},
    {"a: !!binary aGVsbG8=", CUBIT_EINVAL,
     "line 1, column 4: !!binary is not supported: write the base64 text without the tag"},
    {"a: *nope", CUBIT_EINVAL, "line 1, column 4: alias *nope names no anchor"},
    {"a: &x [1, *x]", CUBIT_EINVAL, "line 1, column 11: alias *x refers to a node that contains it"},
    {"a: &x 1\n---\nb: *x", CUBIT_EINVAL, "line 3, column 4: alias *x names no anchor"},
    {"c: {<<: 1}", CUBIT_EINVAL, "line 1, column 9: the merge key << needs a mapping or a sequence of mappings"},
    {"c: {<<: [{x: 1}, 2]}", CUBIT_EINVAL,
     "line 1, column 19: the merge key << needs a mapping or a sequence of mappings"},
    {"a: 1\n---\nb: 2", CUBIT_EINVAL,
     "line 2, column 1: a second document where one was expected (use yaml_to_json_all)"},
    {"a: \"\xff\"", CUBIT_EINVAL, "byte 4: invalid leading UTF-8 octet"},
};

START_TEST(rejects) {
  const err_case *c = &err_cases[_i];
  json_t *got = (json_t *)1;
  char err[256];
  int rc = yaml_to_json(c->yaml, strlen(c->yaml), &got, err, sizeof(err));
  ck_assert_msg(rc == c->code, "YAML %s: rc %d, want %d (%s)", c->yaml, rc, c->code, err);
  ck_assert_ptr_null(got);
  ck_assert_str_eq(err, c->msg);
}
END_TEST

START_TEST(error_buffer_optional_and_truncated) {
  json_t *got = NULL;
  ck_assert_int_eq(yaml_to_json("a: b: c", 7, &got, NULL, 0), CUBIT_EINVAL);
  char small[8];
  ck_assert_int_eq(yaml_to_json("a: b: c", 7, &got, small, sizeof(small)), CUBIT_EINVAL);
  ck_assert_str_eq(small, "line 1,");
}
END_TEST

START_TEST(limits) {
  char err[256];
  json_t *got = NULL;
  /* nesting */
  size_t n = YAML_MAX_DEPTH + 1;
  char *deep = xmalloc(2 * n + 1);
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  deep[2 * n] = '\0';
  ck_assert_int_eq(yaml_to_json(deep, 2 * n, &got, err, sizeof(err)), CUBIT_ETOOBIG);
  ck_assert_str_eq(err, "line 1, column 513: nesting deeper than 512 levels");
  deep[n - 1] = ' ';
  deep[n] = ' '; /* exactly YAML_MAX_DEPTH levels is fine */
  ck_assert_int_eq(yaml_to_json(deep, 2 * n, &got, err, sizeof(err)), 0);
  json_decref(got);
  free(deep);

  /* an alias may not carry a deep node past the limit either */
  size_t depth = YAML_MAX_DEPTH - 2; /* the anchored value's height; the root mapping is a level */
  char *nest = xmalloc(2 * depth + 64);
  size_t k = (size_t)sprintf(nest, "a: &d ");
  memset(nest + k, '[', depth);
  k += depth;
  nest[k++] = '1';
  memset(nest + k, ']', depth);
  k += depth;
  k += (size_t)sprintf(nest + k, "\nb: [*d]\nc: [[*d]]\n");
  ck_assert_int_eq(yaml_to_json(nest, k, &got, err, sizeof(err)), CUBIT_ETOOBIG);
  ck_assert_str_eq(err, "line 3, column 6: alias *d nests deeper than 512 levels");
  free(nest);

  /* the billion laughs: nine levels of ten aliases each */
  const char *lol =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
      "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
      "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
  ck_assert_int_eq(yaml_to_json(lol, strlen(lol), &got, err, sizeof(err)), CUBIT_ETOOBIG);
  ck_assert_ptr_null(got);
  ck_assert_msg(strstr(err, "aliases expand to more than 1000000 nodes") != NULL, "%s", err);
}
END_TEST

/* ---- streams --------------------------------------------------------------------- */

START_TEST(all_documents) {
  json_t *got = NULL;
  const char *y = "a: 1\n---\n---\n# nothing\n---\nb: 2\n---\n~\n--- null\n--- [x]\n";
  ck_assert_int_eq(yaml_to_json_all(y, strlen(y), &got, NULL, 0), 0);
  assert_json(got, "[{\"a\": 1}, {\"b\": 2}, [\"x\"]]", y);
  json_decref(got);
  ck_assert_int_eq(yaml_to_json_all("", 0, &got, NULL, 0), 0);
  assert_json(got, "[]", "");
  json_decref(got);
  char err[256];
  got = (json_t *)1;
  const char *bad = "a: 1\n---\nb: [\n";
  ck_assert_int_eq(yaml_to_json_all(bad, strlen(bad), &got, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(got);
  ck_assert_msg(strncmp(err, "line 4, column 1: ", 18) == 0, "%s", err);
}
END_TEST

/* A multi-document manifest with the constructs real manifests use, against
 * the JSON kubectl's reader gave for it (fixtures/yaml/manifests.json). */
START_TEST(kubernetes_manifests) {
  size_t ylen, jlen;
  char *y = testutil_read_src("test/unit/fixtures/yaml/manifests.yaml", &ylen);
  char *j = testutil_read_src("test/unit/fixtures/yaml/manifests.json", &jlen);
  json_t *got = NULL;
  char err[256];
  ck_assert_msg(yaml_to_json_all(y, ylen, &got, err, sizeof(err)) == 0, "%s", err);
  assert_json(got, j, "fixtures/yaml/manifests.yaml");
  json_t *dep = json_array_get(got, 1);
  ck_assert_int_eq(js_int(dep, "spec.revisionHistoryLimit", -1), 10);
  json_t *vol = json_array_get(js_get(dep, "spec.template.spec.volumes"), 0);
  ck_assert_int_eq(js_int(vol, "configMap.defaultMode", -1), 0644);
  json_decref(got);
  free(y);
  free(j);
}
END_TEST

/* Cubit's own CRD reads as the API server will store it. */
START_TEST(project_crd) {
  size_t ylen;
  char *y = testutil_read_src("crds/cubit.dev_projects.yaml", &ylen);
  json_t *crd = NULL;
  char err[256];
  ck_assert_msg(yaml_to_json(y, ylen, &crd, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(js_str(crd, "kind"), "CustomResourceDefinition");
  ck_assert_str_eq(json_string_value(json_array_get(js_get(crd, "spec.names.shortNames"), 0)), "proj");
  json_t *v0 = json_array_get(js_get(crd, "spec.versions"), 0);
  ck_assert(json_is_true(json_object_get(v0, "served")));
  json_t *gpu = js_get(v0, "schema.openAPIV3Schema.properties.spec.properties.quota.properties.gpu");
  ck_assert_ptr_nonnull(gpu);
  ck_assert_str_eq(js_str(gpu, "pattern"), "^[0-9]+(\\.[0-9]{1,3})?$");
  ck_assert(json_is_true(json_object_get(gpu, "x-kubernetes-int-or-string")));
  json_decref(crd);
  free(y);
}
END_TEST

/* ---- allocation failure ------------------------------------------------------------ */

typedef struct {
  const char *text;
  int all;
} torture_arg;

static int convert_once(void *arg) {
  const torture_arg *a = arg;
  json_t *v = NULL;
  char err[128];
  int rc = a->all ? yaml_to_json_all(a->text, strlen(a->text), &v, err, sizeof(err))
                  : yaml_to_json(a->text, strlen(a->text), &v, err, sizeof(err));
  if (rc == 0 && v == NULL) return -100;
  if (rc != 0 && v != NULL) return -101;
  json_decref(v);
  return rc;
}

START_TEST(allocation_failure) {
  static const char *texts[] = {
      ("a: &b {x: [1, 2.5, \"s\", ~, yes, 0x10]}\nc: *b\nd: {<<: *b, y: 1_000}\n"
       "'k': |\n  block\ne: !!str 5\n? f\n: [*b, {}]\n"),
      "- &a {p: 1}\n- {<<: [*a, {q: 2}]}\n- 1e3\n- 1e400\n",
      "a: 1\na: 2\n",
      "x: [1, 2\n",
      "a: &x [*x]\n",
      "v: .inf\n",
  };
  size_t ylen;
  char *manifest = testutil_read_src("test/unit/fixtures/yaml/manifests.yaml", &ylen);
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    torture_arg a = {texts[i], 0};
    int points = testutil_alloc_torture(convert_once, &a);
    ck_assert_int_ne(points, 0);
  }
  torture_arg m = {manifest, 1};
  ck_assert_int_ne(testutil_alloc_torture(convert_once, &m), 0);
  free(manifest);
}
END_TEST

int main(void) {
  Suite *s = suite_create("yaml");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, converts, 0, (int)(sizeof(ok_cases) / sizeof(ok_cases[0])));
  tcase_add_test(tc, types_are_exact);
  tcase_add_test(tc, aliases_are_copies);
  tcase_add_test(tc, keys_keep_order_and_nul);
  tcase_add_loop_test(tc, rejects, 0, (int)(sizeof(err_cases) / sizeof(err_cases[0])));
  tcase_add_test(tc, error_buffer_optional_and_truncated);
  tcase_add_test(tc, limits);
  tcase_add_test(tc, all_documents);
  tcase_add_test(tc, kubernetes_manifests);
  tcase_add_test(tc, project_crd);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
