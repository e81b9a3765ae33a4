/* util: JSON helpers, time, metrics exposition. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/json.h"
#include "util/metrics.h"
#include "util/time.h"

START_TEST(json_paths) {
  json_t *o = json_loads("{\"metadata\":{\"name\":\"a\",\"labels\":{\"cubit.dev/project\":\"p\"},\"generation\":3},"
                         "\"spec\":{\"on\":true}}",
                         0, NULL);
  ck_assert_str_eq(js_name(o), "a");
  ck_assert_int_eq(js_int(o, "metadata.generation", 0), 3);
  ck_assert_int_eq(js_int(o, "metadata.missing", 7), 7);
  ck_assert_int_eq(js_bool(o, "spec.on", 0), 1);
  ck_assert_ptr_null(js_str(o, "metadata.name.deeper"));
  ck_assert_str_eq(json_string_value(json_object_get(js_get(o, "metadata.labels"), "cubit.dev/project")), "p");
  ck_assert_int_eq(js_set_str(o, "status.phase", "Running"), 0);
  ck_assert_str_eq(js_str(o, "status.phase"), "Running");
  ck_assert_int_eq(js_set(o, "spec.on.x", json_integer(1)), 0); /* replaces the non-object */
  ck_assert_int_eq(js_int(o, "spec.on.x", 0), 1);
  char *s = js_dump(js_get(o, "status"));
  ck_assert_str_eq(s, "{\"phase\":\"Running\"}");
  free(s);
  json_decref(o);
}
END_TEST

static const struct {
  const char *in;
  int rc;
  int64_t want;
} times[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2026-11-22T07:00:00Z", 0, 1795330800},
    {"2026-11-22T07:00:00.123456Z", 0, 1795330800},
    {"2026-11-22T08:00:00+01:00", 0, 1795330800},
    {"2026-11-22T06:30:00-00:30", 0, 1795330800},
    {"2026-11-22 07:00:00Z", 0, 1795330800},
    {"2026-11-22T07:00:00", CUBIT_EINVAL, 0},
    {"2026-13-22T07:00:00Z", CUBIT_EINVAL, 0},
    {"garbage", CUBIT_EINVAL, 0},
    {"2026-11-22T07:00:00Zjunk", CUBIT_EINVAL, 0},
};

/* js_pack/js_unpack: any value comes back equal, and the text is compact
 * (no spaces) and exactly sized. */
static const struct {
  const char *json, *packed;
} packs[] = {
    {"{ \"a\" : 1, \"b\" : [true, null] }", "{\"a\":1,\"b\":[true,null]}"},
    {"[]", "[]"},
    {"\"x\\u0000y\"", "\"x\\u0000y\""},
    {"-0.5", "-0.5"},
    {"{\"z\":{},\"a\":9223372036854775807}", "{\"z\":{},\"a\":9223372036854775807}"},
};

START_TEST(json_pack_unpack) {
  json_t *v = json_loads(packs[_i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  ck_assert_ptr_nonnull(v);
  size_t len;
  char *text = js_pack(v, &len);
  ck_assert_uint_eq(len, strlen(packs[_i].packed));
  ck_assert(memcmp(text, packs[_i].packed, len) == 0);
  json_t *back = js_unpack(text, len);
  ck_assert(json_equal(v, back));
  json_decref(back);
  free(text);
  json_decref(v);
}
END_TEST

/* The merge patch (RFC 7386) from one value to another: NULL when nothing
 * changes, removed keys as null, arrays and scalars whole. */
static const struct {
  const char *from, *to, *patch; /* patch NULL: no change */
} diffs[] = {
    {"{\"a\":1}", "{\"a\":1}", NULL},
    {"{\"a\":1,\"b\":{\"c\":[1,2]}}", "{\"b\":{\"c\":[1,2]},\"a\":1}", NULL},
    {"{\"a\":1}", "{\"a\":2}", "{\"a\":2}"},
    {"{\"a\":1,\"b\":2}", "{\"a\":1}", "{\"b\":null}"},
    {"{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"x\":1,\"y\":3,\"z\":4}}", "{\"a\":{\"y\":3,\"z\":4}}"},
    {"{\"a\":[1,2,3]}", "{\"a\":[1,3]}", "{\"a\":[1,3]}"},
    {"{\"a\":{\"x\":1}}", "{\"a\":[{\"x\":1}]}", "{\"a\":[{\"x\":1}]}"},
    {"{\"a\":[1]}", "{\"a\":{\"x\":null,\"y\":{\"z\":null}}}", "{\"a\":{\"y\":{}}}"},
    {"{\"a\":1}", "{\"a\":null}", "{\"a\":null}"},
    {"{}", "{\"a\":null}", NULL},
    {"null", "{\"a\":1,\"b\":null}", "{\"a\":1}"},
    {"{\"a\":1}", "{}", "{\"a\":null}"},
    {"{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":{}}}", "{\"a\":{\"b\":{\"c\":null}}}"},
    {"{\"a\":[null]}", "{\"a\":[null]}", NULL},
    {"3", "\"x\"", "\"x\""},
};

START_TEST(json_merge_diff) {
  json_t *from = json_loads(diffs[_i].from, JSON_DECODE_ANY, NULL);
  json_t *to = json_loads(diffs[_i].to, JSON_DECODE_ANY, NULL);
  json_t *patch = js_merge_diff(json_is_null(from) ? NULL : from, to);
  if (diffs[_i].patch == NULL) {
    ck_assert_msg(patch == NULL, "%s -> %s: want no patch", diffs[_i].from, diffs[_i].to);
  } else {
    json_t *want = json_loads(diffs[_i].patch, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(patch);
    char *got = js_dump(patch);
    ck_assert_msg(json_equal(patch, want), "%s -> %s: got %s, want %s", diffs[_i].from, diffs[_i].to, got,
                  diffs[_i].patch);
    free(got);
    json_decref(want);
  }
  json_decref(patch);
  json_decref(from);
  json_decref(to);
}
END_TEST

/* RFC 7386's MergePatch, to check a diff by applying it. Steals target. */
static json_t *merge_apply(json_t *target, const json_t *patch) {
  if (!json_is_object(patch)) {
    json_decref(target);
    return json_deep_copy(patch);
  }
  if (!json_is_object(target)) {
    json_decref(target);
    target = json_object();
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    if (json_is_null(v)) json_object_del(target, k);
    else json_object_set_new(target, k, merge_apply(json_incref(json_object_get(target, k)), v));
  }
  return target;
}

/* A small random value: objects over a few shared keys (so that two values
 * overlap), arrays, strings, numbers, booleans and nulls. */
static json_t *random_json(unsigned *seed, int depth) {
  static const char *keys[] = {"a", "b", "c", "phase", "conditions"};
  int kind = (int)(rand_r(seed) % (depth > 3 ? 4u : 6u));
  switch (kind) {
    case 0: return json_null();
    case 1: return json_integer(rand_r(seed) % 3);
    case 2: return json_string(rand_r(seed) % 2 ? "x" : "y");
    case 3: return json_boolean(rand_r(seed) % 2);
    case 4: {
      json_t *a = json_array();
      for (unsigned n = rand_r(seed) % 3; n > 0; n--) json_array_append_new(a, random_json(seed, depth + 1));
      return a;
    }
    default: {
      json_t *o = json_object();
      for (unsigned n = rand_r(seed) % 4; n > 0; n--)
        json_object_set_new(o, keys[rand_r(seed) % 5], random_json(seed, depth + 1));
      return o;
    }
  }
}

/* For random pairs, from merged with the diff is to without its nulls, and
 * a pair that merges to the same value has no diff. */
START_TEST(json_merge_diff_applies) {
  unsigned seed = 7;
  for (int i = 0; i < 5000; i++) {
    json_t *from = random_json(&seed, 0), *to = random_json(&seed, 0);
    if (!json_is_object(to)) {
      json_decref(to);
      to = json_pack("{s:o}", "a", random_json(&seed, 1));
    }
    json_t *patch = js_merge_diff(from, to);
    json_t *want = merge_apply(json_object(), to); /* to, nulls dropped */
    json_t *got = patch ? merge_apply(json_deep_copy(from), patch) : json_deep_copy(from);
    if (patch == NULL) ck_assert(json_is_object(from));
    if (!json_equal(got, want)) {
      char *f = js_dump(from), *t = js_dump(to), *g = js_dump(got);
      ck_abort_msg("from %s to %s gave %s", f, t, g);
    }
    json_decref(patch);
    json_decref(want);
    json_decref(got);
    json_decref(from);
    json_decref(to);
  }
}
END_TEST

START_TEST(rfc3339) {
  int64_t got = -1;
  int rc = time_parse_rfc3339(times[_i].in, &got);
  ck_assert_msg(rc == times[_i].rc, "%s: rc %d", times[_i].in, rc);
  if (rc == 0) ck_assert_msg(got == times[_i].want, "%s: got %lld", times[_i].in, (long long)got);
}
END_TEST

START_TEST(rfc3339_format) {
  char out[32];
  time_format_rfc3339(1795330800, out);
  ck_assert_str_eq(out, "2026-11-22T07:00:00Z");
}
END_TEST

START_TEST(metrics_text) {
  metrics_registry *r = metrics_registry_new();
  metric *c = metrics_counter(r, "controller_runtime_reconcile_total", "Total reconciles", "controller,result");
  ck_assert_ptr_eq(metrics_counter(r, "controller_runtime_reconcile_total", "again", "controller,result"), c);
  metric_add(c, 1, "notebook", "success");
  metric_add(c, 2, "notebook", "success");
  metric_add(c, 1, "notebook", "error");
  ck_assert(metric_value(c, "notebook", "success") == 3);
  metric *g = metrics_gauge(r, "workqueue_depth", "Depth", "name");
  metric_set(g, 5, "q\"1");
  static const double b[] = {0.1, 1};
  metric *h = metrics_histogram(r, "work_seconds", "Work", NULL, b, 2);
  metric_observe(h, 0.05);
  metric_observe(h, 0.5);
  metric_observe(h, 5);
  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(metrics_write(r, &out), 0);
  ck_assert_ptr_nonnull(strstr(out.data, "# TYPE controller_runtime_reconcile_total counter\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "controller_runtime_reconcile_total{controller=\"notebook\",result=\"success\"} 3\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "workqueue_depth{name=\"q\\\"1\"} 5\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "work_seconds_bucket{le=\"0.1\"} 1\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "work_seconds_bucket{le=\"1\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "work_seconds_bucket{le=\"+Inf\"} 3\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "work_seconds_sum 5.5499999999999998\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "work_seconds_count 3\n"));
  buf_free(&out);
  metrics_registry_free(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, json_paths);
  tcase_add_loop_test(tc, json_pack_unpack, 0, sizeof(packs) / sizeof(packs[0]));
  tcase_add_loop_test(tc, json_merge_diff, 0, sizeof(diffs) / sizeof(diffs[0]));
  tcase_add_test(tc, json_merge_diff_applies);
  tcase_add_loop_test(tc, rfc3339, 0, sizeof(times) / sizeof(times[0]));
  tcase_add_test(tc, rfc3339_format);
  tcase_add_test(tc, metrics_text);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
