#include "runtime/conditions.h"
#include "testutil.h"
#include "util/json.h"

START_TEST(transition_time_moves_only_on_status_change) {
  json_t *status = json_object();
  ck_assert_int_eq(rt_condition_set(status, "Ready", "False", "Creating", "waiting for pods", 1, 1000), 1);
  json_t *c = rt_condition_get(status, "Ready");
  ck_assert_str_eq(js_str(c, "lastTransitionTime"), "1970-01-01T00:16:40Z");
  /* Same everything: no change reported, nothing rewritten. */
  ck_assert_int_eq(rt_condition_set(status, "Ready", "False", "Creating", "waiting for pods", 1, 2000), 0);
  ck_assert_str_eq(js_str(c, "lastTransitionTime"), "1970-01-01T00:16:40Z");
  /* Reason and message change, status does not: time stays. */
  ck_assert_int_eq(rt_condition_set(status, "Ready", "False", "Pulling", "pulling image", 1, 3000), 1);
  c = rt_condition_get(status, "Ready");
  ck_assert_str_eq(js_str(c, "lastTransitionTime"), "1970-01-01T00:16:40Z");
  ck_assert_str_eq(js_str(c, "reason"), "Pulling");
  /* Status flips: time moves. */
  ck_assert_int_eq(rt_condition_set(status, "Ready", "True", "Running", "", 2, 4000), 1);
  c = rt_condition_get(status, "Ready");
  ck_assert_str_eq(js_str(c, "lastTransitionTime"), "1970-01-01T01:06:40Z");
  ck_assert_int_eq(js_int(c, "observedGeneration", 0), 2);
  ck_assert(rt_condition_true(status, "Ready"));
  /* A new generation alone is a change. */
  ck_assert_int_eq(rt_condition_set(status, "Ready", "True", "Running", "", 3, 5000), 1);
  ck_assert_str_eq(js_str(rt_condition_get(status, "Ready"), "lastTransitionTime"), "1970-01-01T01:06:40Z");
  json_decref(status);
}
END_TEST

START_TEST(several_conditions) {
  json_t *status = json_object();
  rt_condition_set(status, "Ready", "True", "Ok", NULL, 1, 10);
  rt_condition_set(status, "QuotaExceeded", "False", "WithinQuota", "", 1, 10);
  ck_assert_uint_eq(json_array_size(json_object_get(status, "conditions")), 2);
  ck_assert(!rt_condition_true(status, "QuotaExceeded"));
  ck_assert(!rt_condition_true(status, "Missing"));
  ck_assert_int_eq(rt_condition_remove(status, "QuotaExceeded"), 1);
  ck_assert_int_eq(rt_condition_remove(status, "QuotaExceeded"), 0);
  ck_assert_uint_eq(json_array_size(json_object_get(status, "conditions")), 1);
  ck_assert_str_eq(js_str(rt_condition_get(status, "Ready"), "message"), "");
  json_decref(status);
}
END_TEST

int main(void) {
  Suite *s = suite_create("conditions");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, transition_time_moves_only_on_status_change);
  tcase_add_test(tc, several_conditions);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
