/* The status vocabulary (pkg/runtime/status.h) and the plan builder
 * (pkg/runtime/plan.h): what every kind's status says in each state, as
 * docs/status.md tables it. */
#include <string.h>

#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "runtime/plan.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"
#include "util/time.h"

/* A condition's status, or "-" when absent. */
static const char *cond(const json_t *status, const char *type) {
  json_t *c = rt_condition_get(status, type);
  return c ? js_str(c, "status") : "-";
}

static const struct {
  rt_state state;
  const char *ready, *reconciling, *stalled, *suspended;
} states[] = {
    {RT_STATE_PROGRESSING, "False", "True", "False", "-"},
    {RT_STATE_READY, "True", "False", "False", "-"},
    {RT_STATE_SUCCEEDED, "True", "False", "False", "-"},
    {RT_STATE_FAILED, "False", "False", "True", "-"},
    {RT_STATE_SUSPENDED, "-", "False", "False", "True"},
};

/* The phase each state is written with (rt_status_state tells SUCCEEDED
 * from READY by the phase). */
static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed", "Suspended"};

static json_t *event(const char *uid, const char *reason, const char *last, const char *msg) {
  return json_pack("{s:{s:s}, s:s, s:s, s:s}", "involvedObject", "uid", uid, "reason", reason, "lastTimestamp", last,
                   "message", msg);
}

/* The newest FailedCreate about the object, not older than 'since'; other
 * objects' and other reasons' events do not count. */
START_TEST(create_refusal_picks_the_newest) {
  json_t *ev[5] = {event("u1", "FailedCreate", "2026-12-07T10:00:00Z", "older"),
                   event("u1", "FailedCreate", "2026-12-07T10:05:00Z", "newest"),
                   event("u2", "FailedCreate", "2026-12-07T10:09:00Z", "another object"),
                   event("u1", "SuccessfulCreate", "2026-12-07T10:09:00Z", "not a refusal"),
                   json_pack("{s:{s:s}, s:s, s:{s:s}, s:s}", "involvedObject", "uid", "u3", "reason", "FailedCreate",
                             "series", "lastObservedTime", "2026-12-07T10:07:00.123456Z", "message", "series")};
  int64_t when = 0, t = 0;
  const json_t *e = rt_create_refusal(ev, 5, "u1", 0, &when);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(js_str(e, "message"), "newest");
  ck_assert_int_eq(time_parse_rfc3339("2026-12-07T10:05:00Z", &t), 0);
  ck_assert_int_eq(when, t);
  /* a pod made after the refusal: overcome */
  ck_assert_ptr_null(rt_create_refusal(ev, 5, "u1", t + 1, NULL));
  ck_assert_ptr_nonnull(rt_create_refusal(ev, 5, "u1", t, NULL));
  ck_assert_str_eq(js_str(rt_create_refusal(ev, 5, "u3", 0, NULL), "message"), "series");
  ck_assert_ptr_null(rt_create_refusal(ev, 5, "u9", 0, NULL));
  ck_assert_ptr_null(rt_create_refusal(ev, 5, NULL, 0, NULL));
  ck_assert_ptr_null(rt_create_refusal(NULL, 0, "u1", 0, NULL));
  for (int i = 0; i < 5; i++) json_decref(ev[i]);
}
END_TEST

START_TEST(each_state_writes_its_conditions) {
  json_t *status = json_object();
  rt_status_set_state(status, phases[_i], states[_i].state, "Because", "the reason", 7, 1000);
  ck_assert_str_eq(js_str(status, "phase"), phases[_i]);
  ck_assert_int_eq(js_int(status, "observedGeneration", 0), 7);
  ck_assert_str_eq(cond(status, "Ready"), states[_i].ready);
  ck_assert_str_eq(cond(status, "Reconciling"), states[_i].reconciling);
  ck_assert_str_eq(cond(status, "Stalled"), states[_i].stalled);
  ck_assert_str_eq(cond(status, "Suspended"), states[_i].suspended);
  json_t *c = rt_condition_get(status, "Reconciling");
  ck_assert_str_eq(js_str(c, "reason"), "Because");
  ck_assert_str_eq(js_str(c, "message"), "the reason");
  ck_assert_int_eq(js_int(c, "observedGeneration", 0), 7);
  ck_assert_int_eq(rt_status_state(status), states[_i].state);
  json_decref(status);
}
END_TEST

/* Moving between states leaves no condition of the state before behind. */
START_TEST(transitions_clean_up) {
  json_t *status = json_object();
  for (size_t a = 0; a < sizeof(states) / sizeof(states[0]); a++) {
    rt_status_set_state(status, "A", states[a].state, "A", "a", 1, 10);
    rt_status_set_state(status, phases[_i], states[_i].state, "B", "", 2, 20);
    ck_assert_str_eq(cond(status, "Ready"), states[_i].ready);
    ck_assert_str_eq(cond(status, "Stalled"), states[_i].stalled);
    ck_assert_str_eq(cond(status, "Suspended"), states[_i].suspended);
    ck_assert_int_eq(rt_status_state(status), states[_i].state);
    /* An empty message reads as the phase. */
    json_t *c = rt_condition_get(status, "Reconciling");
    ck_assert_str_eq(js_str(c, "message"), phases[_i]);
  }
  json_decref(status);
}
END_TEST

START_TEST(status_from_copies_and_sets_generation) {
  json_t *obj = json_loads("{\"metadata\":{\"generation\":4},\"status\":{\"phase\":\"Running\",\"observedGeneration\":3}}",
                           0, NULL);
  json_t *st = rt_status_from(obj);
  ck_assert_int_eq(js_int(st, "observedGeneration", 0), 4);
  ck_assert_str_eq(js_str(st, "phase"), "Running");
  json_object_set_new(st, "phase", json_string("Failed"));
  ck_assert_str_eq(js_str(obj, "status.phase"), "Running"); /* a copy */
  json_decref(st);
  json_t *bare = json_loads("{\"metadata\":{}}", 0, NULL);
  st = rt_status_from(bare);
  ck_assert(json_is_object(st));
  ck_assert_int_eq(js_int(st, "observedGeneration", -1), 0);
  json_decref(st);
  json_decref(bare);
  json_decref(obj);
}
END_TEST

static const kube_resource things = {"example.com", "v1", "things", "Thing", 1};

START_TEST(plan_collects_in_order) {
  rt_plan p;
  rt_plan_init(&p);
  json_t *live = json_loads("{\"metadata\":{\"name\":\"old\",\"namespace\":\"n\",\"uid\":\"u\"}}", 0, NULL);
  for (int i = 0; i < 9; i++) rt_plan_apply(&p, &things, json_pack("{s:{s:s, s:i}}", "metadata", "name", "c", "i", i));
  rt_plan_delete(&p, &things, live, "Foreground");
  rt_plan_add_finalizer(&p, "example.com/f");
  rt_plan_patch_self(&p, json_pack("{s:{s:b}}", "spec", "stopped", 1));
  ck_assert_uint_eq(p.nactions, 12);
  for (int i = 0; i < 9; i++) {
    ck_assert_int_eq(p.actions[i].kind, RT_ACT_APPLY);
    ck_assert_int_eq(js_int(p.actions[i].object, "metadata.i", -1), i);
  }
  ck_assert_int_eq(p.actions[9].kind, RT_ACT_DELETE);
  ck_assert_str_eq(p.actions[9].propagation, "Foreground");
  ck_assert_ptr_eq(p.actions[9].object, live); /* a reference, not a copy */
  ck_assert_int_eq(p.actions[10].kind, RT_ACT_ADD_FINALIZER);
  ck_assert_int_eq(p.actions[11].kind, RT_ACT_PATCH_SELF);
  for (int i = 0; i < 6; i++) rt_plan_event(&p, i % 2 ? "Warning" : "Normal", "Reason", "event %d of %s", i, "six");
  ck_assert_uint_eq(p.nevents, 6);
  ck_assert_str_eq(p.events[5].type, "Warning");
  ck_assert_str_eq(p.events[5].message, "event 5 of six");
  rt_plan_set_status(&p, json_object());
  rt_plan_set_status(&p, json_pack("{s:s}", "phase", "Done")); /* replaces, the first is released */
  ck_assert_str_eq(js_str(p.status, "phase"), "Done");
  rt_plan_free(&p);
  json_decref(live);
}
END_TEST

START_TEST(plan_requeue_takes_the_earliest) {
  rt_plan p;
  rt_plan_init(&p);
  ck_assert_int_eq(p.requeue_after_ms, 0);
  rt_plan_requeue_after(&p, 30000);
  rt_plan_requeue_after(&p, 500);
  rt_plan_requeue_after(&p, 60000);
  ck_assert_int_eq(p.requeue_after_ms, 500);
  rt_plan_requeue_after(&p, 0); /* "at once" is the earliest there is */
  ck_assert_int_eq(p.requeue_after_ms, 1);
  rt_plan_free(&p);
}
END_TEST

START_TEST(error_reasons_are_named) {
  ck_assert_str_eq(rt_error_reason(CUBIT_ECONFLICT), "Conflict");
  ck_assert_str_eq(rt_error_reason(CUBIT_EFORBIDDEN), "Forbidden");
  ck_assert_str_eq(rt_error_reason(CUBIT_EINVALID), "Invalid");
  ck_assert_str_eq(rt_error_reason(CUBIT_ETOOMANYREQUESTS), "TooManyRequests");
  ck_assert_str_eq(rt_error_reason(-9999), "Error");
}
END_TEST

/* Which updates of a primary go ahead in the queue: a user's (or another
 * controller's) change of spec, deletion, labels, annotations, finalizers;
 * not a status write's echo, nor a resourceVersion or managedFields bump. */
START_TEST(urgent_primary_changes) {
  const char *base = "{\"metadata\":{\"name\":\"a\",\"generation\":1,\"resourceVersion\":\"5\","
                     "\"labels\":{\"l\":\"1\"},\"annotations\":{\"x\":\"1\"}},\"spec\":{\"n\":1},"
                     "\"status\":{\"phase\":\"Pending\"}}";
  static const struct {
    const char *what, *path, *value; /* value: JSON, or NULL: remove metadata.<path> */
    int urgent;
  } cases[] = {
      {"status only", "status.phase", "\"Running\"", 0},
      {"resourceVersion", "metadata.resourceVersion", "\"6\"", 0},
      {"managedFields", "metadata.managedFields", "[{\"manager\":\"m\"}]", 0},
      {"spec (generation)", "metadata.generation", "2", 1},
      {"deletion", "metadata.deletionTimestamp", "\"2026-12-07T00:00:00Z\"", 1},
      {"label changed", "metadata.labels.l", "\"2\"", 1},
      {"labels removed", "labels", NULL, 1},
      {"annotation added", "metadata.annotations.y", "\"1\"", 1},
      {"finalizer added", "metadata.finalizers", "[\"f\"]", 1},
  };
  json_t *old_obj = json_loads(base, 0, NULL);
  ck_assert_ptr_nonnull(old_obj);
  ck_assert_int_eq(rt_primary_change_urgent(old_obj, old_obj), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *new_obj = json_deep_copy(old_obj);
    if (cases[i].value) js_set(new_obj, cases[i].path, json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
    else json_object_del(json_object_get(new_obj, "metadata"), cases[i].path);
    ck_assert_msg(rt_primary_change_urgent(old_obj, new_obj) == cases[i].urgent, "%s: want %d", cases[i].what,
                  cases[i].urgent);
    json_decref(new_obj);
  }
  json_decref(old_obj);
}
END_TEST

int main(void) {
  Suite *s = suite_create("status");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, urgent_primary_changes);
  tcase_add_loop_test(tc, each_state_writes_its_conditions, 0, sizeof(states) / sizeof(states[0]));
  tcase_add_loop_test(tc, transitions_clean_up, 0, sizeof(states) / sizeof(states[0]));
  tcase_add_test(tc, create_refusal_picks_the_newest);
  tcase_add_test(tc, status_from_copies_and_sets_generation);
  tcase_add_test(tc, plan_collects_in_order);
  tcase_add_test(tc, plan_requeue_takes_the_earliest);
  tcase_add_test(tc, error_reasons_are_named);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
