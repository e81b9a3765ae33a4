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
  tcase_add_loop_test(tc, rfc3339, 0, sizeof(times) / sizeof(times[0]));
  tcase_add_test(tc, rfc3339_format);
  tcase_add_test(tc, metrics_text);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
