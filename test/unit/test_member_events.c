/* Member Warning Events relayed onto hub objects (pkg/runtime/member_events.h):
 * which are relayed, once, and which hub object a member's Event wakes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/member_events.h"
#include "runtime/plan.h"
#include "testutil.h"
#include "util/json.h"

/* A Warning (or Normal) Event about a child of the job in the member. */
static json_t *ev(const char *name, const char *type, const char *reason, const char *kind, const char *obj,
                  const char *last, const char *message) {
  return json_pack("{s:{s:s, s:s}, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s}", "metadata", "name", name,
                   "namespace", "team-a", "type", type, "reason", reason, "message", message, "involvedObject",
                   "kind", kind, "name", obj, "namespace", "team-a", "uid", "u", "lastTimestamp", last);
}

#define T0 "2026-12-07T10:00:00Z"
#define T1 "2026-12-07T10:01:00Z"
#define T2 "2026-12-07T10:02:00Z"
#define UNSCHED "0/1 nodes are available: 1 Insufficient cpu."

typedef struct relay_case {
  const char *name;
  const char *prev;          /* status.memberWarnings before, JSON; NULL = absent */
  int nevents;
  struct {
    const char *type, *reason, *kind, *obj, *last, *message;
  } events[10];
  const char *want_events;   /* "Reason=message; ..." in the order planned */
  int want_kept;             /* entries in status.memberWarnings (0: the field is gone) */
} relay_case;

static const relay_case cases[] = {
    {"a pod's FailedScheduling: relayed, remembered", NULL, 1,
     {{"Warning", "FailedScheduling", "Pod", "train-0", T0, UNSCHED}},
     "FailedScheduling=cluster east: Pod train-0: " UNSCHED, 1},
    {"unchanged (a requeue, a manager restart): nothing relayed",
     "[{\"object\":\"Pod/train-0\",\"reason\":\"FailedScheduling\",\"message\":\"" UNSCHED "\"}]", 1,
     {{"Warning", "FailedScheduling", "Pod", "train-0", T1, UNSCHED}}, "", 1},
    {"the same words about every pod of the gang: once", NULL, 3,
     {{"Warning", "FailedScheduling", "Pod", "train-0", T0, UNSCHED},
      {"Warning", "FailedScheduling", "Pod", "train-1", T1, UNSCHED},
      {"Warning", "FailedScheduling", "Pod", "train-2", T0, UNSCHED}},
     "FailedScheduling=cluster east: Pod train-1: " UNSCHED, 1},
    {"the message changed: relayed again",
     "[{\"object\":\"Pod/train-0\",\"reason\":\"FailedScheduling\",\"message\":\"" UNSCHED "\"}]", 2,
     {{"Warning", "FailedScheduling", "Pod", "train-0", T0, UNSCHED},
      {"Warning", "FailedScheduling", "Pod", "train-0", T1, "0/1 nodes are available: 1 node(s) had untolerated taint."}},
     "FailedScheduling=cluster east: Pod train-0: 0/1 nodes are available: 1 node(s) had untolerated taint.", 2},
    {"several new ones: oldest first", NULL, 3,
     {{"Warning", "BackOff", "Pod", "train-0", T2, "Back-off restarting failed container main"},
      {"Warning", "FailedCreate", "Job", "train", T0, "exceeded quota: q"},
      {"Warning", "FailedMount", "Pod", "train-0", T1, "MountVolume.SetUp failed"}},
     "FailedCreate=cluster east: Job train: exceeded quota: q; FailedMount=cluster east: Pod train-0: MountVolume.SetUp "
     "failed; BackOff=cluster east: Pod train-0: Back-off restarting failed container main",
     3},
    {"Normal events are not relayed", NULL, 1, {{"Normal", "Scheduled", "Pod", "train-0", T0, "assigned"}}, "", 0},
    {"no Events left (expired): the field goes",
     "[{\"object\":\"Pod/train-0\",\"reason\":\"FailedScheduling\",\"message\":\"" UNSCHED "\"}]", 0, {{0}}, "", 0},
    {"more than the bound: the newest kept, each relayed once", NULL, 10,
     {{"Warning", "R0", "Pod", "p", "2026-12-07T10:00:00Z", "m"},
      {"Warning", "R1", "Pod", "p", "2026-12-07T10:00:01Z", "m"},
      {"Warning", "R2", "Pod", "p", "2026-12-07T10:00:02Z", "m"},
      {"Warning", "R3", "Pod", "p", "2026-12-07T10:00:03Z", "m"},
      {"Warning", "R4", "Pod", "p", "2026-12-07T10:00:04Z", "m"},
      {"Warning", "R5", "Pod", "p", "2026-12-07T10:00:05Z", "m"},
      {"Warning", "R6", "Pod", "p", "2026-12-07T10:00:06Z", "m"},
      {"Warning", "R7", "Pod", "p", "2026-12-07T10:00:07Z", "m"},
      {"Warning", "R8", "Pod", "p", "2026-12-07T10:00:08Z", "m"},
      {"Warning", "R9", "Pod", "p", "2026-12-07T10:00:09Z", "m"}},
     "R2=cluster east: Pod p: m; R3=cluster east: Pod p: m; R4=cluster east: Pod p: m; R5=cluster east: Pod p: m; "
     "R6=cluster east: Pod p: m; R7=cluster east: Pod p: m; R8=cluster east: Pod p: m; R9=cluster east: Pod p: m",
     RT_MEMBER_WARNINGS_MAX},
};

START_TEST(relay_table) {
  const relay_case *c = &cases[_i];
  json_t *status = json_pack("{s:s}", "phase", "Queued");
  if (c->prev) json_object_set_new(status, RT_MEMBER_WARNINGS_FIELD, json_loads(c->prev, 0, NULL));
  json_t *events[10] = {NULL};
  for (int i = 0; i < c->nevents; i++) {
    char name[16];
    snprintf(name, sizeof(name), "e%d", i);
    events[i] = ev(name, c->events[i].type, c->events[i].reason, c->events[i].kind, c->events[i].obj,
                   c->events[i].last, c->events[i].message);
  }
  rt_plan p;
  rt_plan_init(&p);
  rt_plan_relay_member_events(&p, status, "east", events, (size_t)c->nevents);
  char got[2048] = "";
  size_t used = 0;
  for (size_t i = 0; i < p.nevents; i++) {
    ck_assert_str_eq(p.events[i].type, "Warning");
    int n = snprintf(got + used, sizeof(got) - used, "%s%s=%s", i ? "; " : "", p.events[i].reason, p.events[i].message);
    used += n > 0 ? (size_t)n : 0;
  }
  ck_assert_msg(strcmp(got, c->want_events) == 0, "%s: events \"%s\", want \"%s\"", c->name, got, c->want_events);
  json_t *kept = json_object_get(status, RT_MEMBER_WARNINGS_FIELD);
  if (c->want_kept == 0) ck_assert_msg(kept == NULL, "%s: memberWarnings kept", c->name);
  else ck_assert_msg(json_array_size(kept) == (size_t)c->want_kept, "%s: %zu kept, want %d", c->name,
                     json_array_size(kept), c->want_kept);
  /* Planned again on the status it wrote, with the same Events: nothing. */
  rt_plan again;
  rt_plan_init(&again);
  rt_plan_relay_member_events(&again, status, "east", events, (size_t)c->nevents);
  ck_assert_msg(again.nevents == 0, "%s: %zu events the second time", c->name, again.nevents);
  rt_plan_free(&again);
  rt_plan_free(&p);
  for (int i = 0; i < c->nevents; i++) json_decref(events[i]);
  json_decref(status);
}
END_TEST

/* Which hub object a member's Event wakes: the involved child's label, in
 * its namespace; only when the cached child is the one the Event names. */
START_TEST(event_key_through_the_label) {
  json_t *event = json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:s}}", "metadata", "namespace", "team-a", "involvedObject",
                            "kind", "Pod", "name", "train-0", "namespace", "team-a", "uid", "pod-uid");
  json_t *pod = json_pack("{s:{s:s, s:s, s:{s:s}}}", "metadata", "name", "train-0", "uid", "pod-uid", "labels",
                          "cubit.dev/trainingjob", "train");
  char *key = rt__member_event_key(event, pod, "cubit.dev/trainingjob");
  ck_assert_str_eq(key, "team-a/train");
  free(key);
  ck_assert_ptr_null(rt__member_event_key(event, pod, "cubit.dev/notebook"));
  ck_assert_ptr_null(rt__member_event_key(event, NULL, "cubit.dev/trainingjob"));
  json_object_set_new(json_object_get(pod, "metadata"), "uid", json_string("a-namesake"));
  ck_assert_ptr_null(rt__member_event_key(event, pod, "cubit.dev/trainingjob"));
  json_decref(pod);
  json_decref(event);
}
END_TEST

int main(void) {
  Suite *s = suite_create("member_events");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, relay_table, 0, sizeof(cases) / sizeof(cases[0]));
  tcase_add_test(tc, event_key_through_the_label);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
