/* Tests of history/record: what the recorder writes for a run and its
 * pods, and the cubit.dev/history finalizer's fate. Pure: no cluster. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "history/record.h"
#include "history/recorder.h"
#include "util/json.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *load(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  ck_assert_msg(j != NULL, "bad JSON %s: %s", text, e.text);
  return j;
}

#define NOW 1796090000 /* 2026-12-01T01:53:20Z */

/* ---- pod intervals --------------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *pod;
  int want_rc;
  int64_t start, end, gpu_milli;
  const char *model;
} pod_case;

#define META "\"metadata\": {\"uid\": \"p1\", \"name\": \"job-0\", \"namespace\": \"team\"}"
#define SPEC(res) "\"spec\": {\"nodeName\": \"n1\", \"containers\": [{\"name\": \"c\", \"resources\": " res "}]}"

static const pod_case pod_cases[] = {
    {"pending: never ran",
     "{" META ", " SPEC("{}") ", \"status\": {\"phase\": \"Pending\", \"containerStatuses\": [{\"state\": {\"waiting\": {\"reason\": \"ContainerCreating\"}}}]}}",
     -1, 0, 0, 0, ""},
    {"running: open interval from the container start",
     "{" META ", " SPEC("{\"limits\": {\"nvidia.com/gpu\": \"2\"}}") ", \"status\": {\"phase\": \"Running\", "
     "\"startTime\": \"2026-12-01T00:00:00Z\", \"containerStatuses\": [{\"state\": {\"running\": {\"startedAt\": \"2026-12-01T00:01:00Z\"}}}]}}",
     0, 1796083260, 0, 2000, ""},
    {"restarted container: the first start counts",
     "{" META ", " SPEC("{}") ", \"status\": {\"phase\": \"Running\", \"containerStatuses\": [{\"state\": {\"running\": "
     "{\"startedAt\": \"2026-12-01T00:10:00Z\"}}, \"lastState\": {\"terminated\": {\"startedAt\": \"2026-12-01T00:01:00Z\", "
     "\"finishedAt\": \"2026-12-01T00:09:00Z\"}}}]}}",
     0, 1796083260, 0, 0, ""},
    {"succeeded: the last container's finish ends it",
     "{\"metadata\": {\"uid\": \"p1\", \"name\": \"job-0\", \"annotations\": {\"cubit.dev/gpu\": \"1(A100)\"}}, " SPEC("{}")
     ", \"status\": {\"phase\": \"Succeeded\", \"containerStatuses\": ["
     "{\"state\": {\"terminated\": {\"startedAt\": \"2026-12-01T00:01:00Z\", \"finishedAt\": \"2026-12-01T00:31:00Z\"}}},"
     "{\"state\": {\"terminated\": {\"startedAt\": \"2026-12-01T00:02:00Z\", \"finishedAt\": \"2026-12-01T00:41:00Z\"}}}]}}",
     0, 1796083260, 1796085660, 0, "A100"},
    {"failed without finish times: ends now",
     "{" META ", " SPEC("{}") ", \"status\": {\"phase\": \"Failed\", \"containerStatuses\": [{\"lastState\": "
     "{\"terminated\": {\"startedAt\": \"2026-12-01T00:01:00Z\"}}, \"state\": {\"waiting\": {}}}]}}",
     0, 1796083260, NOW, 0, ""},
    {"model from the node selector",
     "{" META ", \"spec\": {\"nodeSelector\": {\"nvidia.com/gpu.product\": \"T4\"}, \"containers\": [{\"name\": \"c\"}]}, "
     "\"status\": {\"phase\": \"Running\", \"containerStatuses\": [{\"state\": {\"running\": {\"startedAt\": \"2026-12-01T00:01:00Z\"}}}]}}",
     0, 1796083260, 0, 0, "T4"},
};

START_TEST(pod_interval_table) {
  const pod_case *c = &pod_cases[_i];
  json_t *pod = load(c->pod);
  hist_interval iv;
  char model[GPU_MODEL_LEN];
  int rc = hist_pod_interval(pod, NULL, NOW, &iv, model);
  ck_assert_msg(rc == c->want_rc, "%s: rc %d", c->name, rc);
  if (rc == 0) {
    ck_assert_msg(iv.started_at == c->start, "%s: start %lld", c->name, (long long)iv.started_at);
    ck_assert_msg(iv.ended_at == c->end, "%s: end %lld", c->name, (long long)iv.ended_at);
    ck_assert_msg(iv.gpu_milli == c->gpu_milli, "%s: gpu %lld", c->name, (long long)iv.gpu_milli);
    ck_assert_msg(strcmp(model, c->model) == 0, "%s: model %s", c->name, model);
    ck_assert_str_eq(iv.pod_uid, "p1");
  }
  json_decref(pod);
}
END_TEST

/* ---- a run ---------------------------------------------------------------------------- */

static const char *const tj_succeeded =
    "{\"apiVersion\": \"cubit.dev/v1alpha1\", \"kind\": \"TrainingJob\", \"metadata\": {\"uid\": \"u1\", \"name\": \"job\","
    " \"namespace\": \"team\", \"creationTimestamp\": \"2026-12-01T00:00:00Z\","
    " \"annotations\": {\"cubit.dev/user\": \"alice\"}, \"finalizers\": [\"cubit.dev/history\"]},"
    " \"spec\": {\"templateRef\": {\"name\": \"tpl\"}, \"roles\": {\"worker\": {\"replicas\": 2, \"resources\": "
    "{\"cpu\": \"1\", \"memory\": \"1Gi\", \"gpu\": \"1\"}}}},"
    " \"status\": {\"phase\": \"Succeeded\", \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": "
    "\"Succeeded\", \"message\": \"all done\", \"lastTransitionTime\": \"2026-12-01T00:41:00Z\"}]}}";

START_TEST(observe_trainingjob) {
  json_t *tj = load(tj_succeeded);
  json_t *ns = load("{\"metadata\": {\"name\": \"team\", \"labels\": {\"cubit.dev/project\": \"proj\"}}}");
  json_t *pod = load(pod_cases[3].pod);
  json_t *pending = load(pod_cases[0].pod);
  const json_t *pods[] = {pod, pending};
  hist_records *r = malloc(sizeof *r);
  hist_observe_run(&hist_kinds[0], tj, pods, 2, ns, NULL, NOW, r);
  ck_assert_str_eq(r->run.uid, "u1");
  ck_assert_str_eq(r->run.kind, "TrainingJob");
  ck_assert_str_eq(r->run.project, "proj");
  ck_assert_str_eq(r->run.creator, "alice");
  ck_assert_str_eq(r->run.template_ref, "tpl");
  ck_assert_str_eq(r->run.phase, "Succeeded");
  ck_assert_str_eq(r->reason, "Succeeded");
  ck_assert_str_eq(r->message, "all done");
  ck_assert_int_eq(r->run.created_at, 1796083200);
  ck_assert_int_eq(r->transition_at, 1796085660);
  ck_assert_int_eq(r->run.finished_at, 1796085660);
  ck_assert_int_eq(r->run.cpu_milli, 2000);
  ck_assert_int_eq(r->run.gpu_milli, 2000);
  ck_assert_uint_eq(r->npods, 1); /* the pending pod never ran */
  ck_assert_str_eq(r->pods[0].run_uid, "u1");
  ck_assert_str_eq(r->run.gpu_model, "A100");
  ck_assert_int_eq(r->deleting, 0);
  hist_records_free(r);
  free(r);
  json_decref(tj);
  json_decref(ns);
  json_decref(pod);
  json_decref(pending);
}
END_TEST

START_TEST(observe_service_not_finished_by_phase) {
  json_t *nb = load("{\"metadata\": {\"uid\": \"n1\", \"name\": \"nb\", \"namespace\": \"team\", \"labels\": "
                    "{\"cubit.dev/project\": \"proj\"}}, \"status\": {\"phase\": \"Failed\"}}");
  hist_records *r = malloc(sizeof *r);
  hist_observe_run(&hist_kinds[2], nb, NULL, 0, NULL, NULL, NOW, r);
  ck_assert_str_eq(r->run.kind, "Notebook");
  ck_assert_str_eq(r->run.project, "proj"); /* no namespace object: the object's label */
  ck_assert_int_eq(r->run.finished_at, 0);
  ck_assert_int_eq(r->run.created_at, NOW);
  ck_assert_int_eq(r->transition_at, NOW);
  hist_records_free(r);
  free(r);
  json_decref(nb);
}
END_TEST

START_TEST(observe_many_pods) {
  /* No cap on a run's pods: a 300-pod job has 300 intervals. */
  json_t *tj = load(tj_succeeded);
  enum { NPODS = 300 };
  json_t *objs[NPODS];
  const json_t *pods[NPODS];
  for (int i = 0; i < NPODS; i++) {
    objs[i] = load(pod_cases[1].pod);
    json_object_set_new(json_object_get(objs[i], "metadata"), "uid", json_sprintf("p%d", i));
    pods[i] = objs[i];
  }
  hist_records *r = malloc(sizeof *r);
  hist_observe_run(&hist_kinds[0], tj, pods, NPODS, NULL, NULL, NOW, r);
  ck_assert_uint_eq(r->npods, NPODS);
  ck_assert_str_eq(r->pods[NPODS - 1].pod_uid, "p299");
  hist_records_free(r);
  free(r);
  for (int i = 0; i < NPODS; i++) json_decref(objs[i]);
  json_decref(tj);
}
END_TEST

/* ---- tasks and trials ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *meta; /* labels, annotations, ownerReferences of a TrainingJob */
  const char *parent_kind, *parent_name, *parent_uid, *task;
  int64_t attempt, trial;
  const char *parameters; /* NULL: none kept */
  int has_value;
  double value;
} parent_case;

static const parent_case parent_cases[] = {
    {"a plain TrainingJob", "\"labels\": {}", NULL, NULL, NULL, NULL, 0, 0, NULL, 0, 0},
    {"a task, owned by its run",
     "\"labels\": {\"cubit.dev/pipelinerun\": \"nightly-1\", \"cubit.dev/task\": \"train\", \"cubit.dev/attempt\": \"2\"},"
     " \"ownerReferences\": [{\"kind\": \"PipelineRun\", \"name\": \"nightly-1\", \"uid\": \"pr-uid\"}]",
     "PipelineRun", "nightly-1", "pr-uid", "train", 2, 0, NULL, 0, 0},
    {"a task without owner nor attempt",
     "\"labels\": {\"cubit.dev/pipelinerun\": \"r\", \"cubit.dev/task\": \"t\", \"cubit.dev/attempt\": \"x\"}",
     "PipelineRun", "r", NULL, "t", 0, 0, NULL, 0, 0},
    {"a run's label without a task is no task", "\"labels\": {\"cubit.dev/pipelinerun\": \"r\"}", NULL, NULL, NULL,
     NULL, 0, 0, NULL, 0, 0},
    {"a trial with parameters and a value",
     "\"labels\": {\"cubit.dev/experiment\": \"hpo\", \"cubit.dev/trial\": \"7\"},"
     " \"annotations\": {\"cubit.dev/trial-parameters\": \"{\\\"lr\\\": 0.01}\","
     " \"cubit.dev/trial-metrics\": \"{\\\"state\\\": \\\"Succeeded\\\", \\\"value\\\": 0.5}\"},"
     " \"ownerReferences\": [{\"kind\": \"Experiment\", \"name\": \"hpo\", \"uid\": \"e-uid\"}]",
     "Experiment", "hpo", "e-uid", NULL, 0, 7, "{\"lr\": 0.01}", 1, 0.5},
    {"a running trial: no value yet",
     "\"labels\": {\"cubit.dev/experiment\": \"hpo\", \"cubit.dev/trial\": \"1\"},"
     " \"annotations\": {\"cubit.dev/trial-parameters\": \"{}\"}",
     "Experiment", "hpo", NULL, NULL, 0, 1, "{}", 0, 0},
    {"parameters that are no JSON object are not kept",
     "\"labels\": {\"cubit.dev/experiment\": \"hpo\", \"cubit.dev/trial\": \"3\"},"
     " \"annotations\": {\"cubit.dev/trial-parameters\": \"[1]\", \"cubit.dev/trial-metrics\": \"{\\\"value\\\": \\\"high\\\"}\"}",
     "Experiment", "hpo", NULL, NULL, 0, 3, NULL, 0, 0},
    {"a trial number that is no number", "\"labels\": {\"cubit.dev/experiment\": \"hpo\", \"cubit.dev/trial\": \"-1\"}",
     NULL, NULL, NULL, NULL, 0, 0, NULL, 0, 0},
};

static void str_or_null(const char *name, const char *what, const char *got, const char *want) {
  if (want == NULL) ck_assert_msg(got == NULL || got[0] == '\0', "%s: %s = %s", name, what, got);
  else ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s = %s, want %s", name, what, got ? got : "(null)", want);
}

START_TEST(parent_table) {
  const parent_case *c = &parent_cases[_i];
  char *text = NULL;
  if (asprintf(&text, "{\"kind\": \"TrainingJob\", \"metadata\": {\"uid\": \"u\", \"name\": \"n\", \"namespace\": \"team\", %s}}",
               c->meta) < 0)
    ck_abort();
  json_t *tj = load(text);
  free(text);
  hist_records r;
  hist_observe_run(&hist_kinds[0], tj, NULL, 0, NULL, NULL, NOW, &r);
  str_or_null(c->name, "parent_kind", r.run.parent_kind, c->parent_kind);
  str_or_null(c->name, "parent_name", r.run.parent_name, c->parent_name);
  str_or_null(c->name, "parent_uid", r.run.parent_uid, c->parent_uid);
  str_or_null(c->name, "task", r.run.task, c->task);
  str_or_null(c->name, "parameters", r.run.parameters, c->parameters);
  ck_assert_msg(r.run.attempt == c->attempt, "%s: attempt %lld", c->name, (long long)r.run.attempt);
  ck_assert_msg(r.run.trial == c->trial, "%s: trial %lld", c->name, (long long)r.run.trial);
  ck_assert_msg(r.run.has_value == c->has_value && r.run.value == c->value, "%s: value %d %g", c->name,
                r.run.has_value, r.run.value);
  hist_records_free(&r);
  json_decref(tj);
}
END_TEST

/* A PipelineRun's task pods belong to the task's TrainingJob record; its
 * own pods (the outputs reader) stay its own. */
START_TEST(parent_kind_leaves_task_pods) {
  json_t *run = load("{\"metadata\": {\"uid\": \"pr\", \"name\": \"r\", \"namespace\": \"team\"}}");
  json_t *task_pod = load(pod_cases[3].pod), *reader = load(pod_cases[3].pod);
  json_object_set_new(json_object_get(task_pod, "metadata"), "labels",
                      json_pack("{s:s, s:s}", "cubit.dev/pipelinerun", "r", "cubit.dev/trainingjob", "r-train-1"));
  json_object_set_new(json_object_get(reader, "metadata"), "labels", json_pack("{s:s}", "cubit.dev/pipelinerun", "r"));
  json_object_set_new(json_object_get(reader, "metadata"), "uid", json_string("reader"));
  const json_t *pods[] = {task_pod, reader};
  hist_records r;
  ck_assert_str_eq(hist_kinds[1].resource->kind, "PipelineRun");
  hist_observe_run(&hist_kinds[1], run, pods, 2, NULL, NULL, NOW, &r);
  ck_assert_uint_eq(r.npods, 1);
  ck_assert_str_eq(r.pods[0].pod_uid, "reader");
  hist_records_free(&r);
  /* the task's own recorder keeps it */
  hist_observe_run(&hist_kinds[0], run, pods, 1, NULL, NULL, NOW, &r);
  ck_assert_uint_eq(r.npods, 1);
  hist_records_free(&r);
  json_decref(run);
  json_decref(task_pod);
  json_decref(reader);
}
END_TEST

/* ---- the finalizer ---------------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *obj;
  int written;
  int want_kind; /* -1 no action */
  int want_event, want_requeue;
} fin_case;

#define DEL "\"deletionTimestamp\": \"2026-12-01T01:50:00Z\"" /* 200 s before NOW */
static const fin_case fin_cases[] = {
    {"alive without it: added", "{\"metadata\": {\"uid\": \"u\"}}", 1, RT_ACT_ADD_FINALIZER, 0, 0},
    {"alive with it: nothing", "{\"metadata\": {\"uid\": \"u\", \"finalizers\": [\"cubit.dev/history\"]}}", 1, -1, 0, 0},
    {"alive, write failed: still added", "{\"metadata\": {\"uid\": \"u\"}}", 0, RT_ACT_ADD_FINALIZER, 0, 0},
    {"deleting, written: removed",
     "{\"metadata\": {\"uid\": \"u\", " DEL ", \"finalizers\": [\"cubit.dev/history\"]}}", 1, RT_ACT_REMOVE_FINALIZER, 0, 0},
    {"deleting, write failed within the timeout: waits",
     "{\"metadata\": {\"uid\": \"u\", " DEL ", \"finalizers\": [\"cubit.dev/history\"]}}", 0, -1, 0, 100000},
    {"deleting without it: nothing", "{\"metadata\": {\"uid\": \"u\", " DEL "}}", 1, -1, 0, 0},
};

START_TEST(finalizer_table) {
  const fin_case *c = &fin_cases[_i];
  json_t *obj = load(c->obj);
  hist_records *r = malloc(sizeof *r);
  hist_observe_run(&hist_kinds[0], obj, NULL, 0, NULL, NULL, NOW, r);
  rt_plan plan;
  rt_plan_init(&plan);
  hist_plan_finalizer(obj, r, c->written, 300, NOW, &plan);
  if (c->want_kind < 0) ck_assert_msg(plan.nactions == 0, "%s: %zu actions", c->name, plan.nactions);
  else {
    ck_assert_msg(plan.nactions == 1, "%s: %zu actions", c->name, plan.nactions);
    ck_assert_msg((int)plan.actions[0].kind == c->want_kind, "%s: action %d", c->name, plan.actions[0].kind);
  }
  ck_assert_msg(plan.nevents == (size_t)c->want_event, "%s: %zu events", c->name, plan.nevents);
  ck_assert_msg(plan.requeue_after_ms == c->want_requeue, "%s: requeue %lld", c->name,
                (long long)plan.requeue_after_ms);
  rt_plan_free(&plan);
  hist_records_free(r);
  free(r);
  json_decref(obj);
}
END_TEST

START_TEST(finalizer_dropped_after_timeout) {
  json_t *obj = load("{\"metadata\": {\"uid\": \"u\", " DEL ", \"finalizers\": [\"cubit.dev/history\"]}}");
  hist_records *r = malloc(sizeof *r);
  hist_observe_run(&hist_kinds[0], obj, NULL, 0, NULL, NULL, NOW, r);
  rt_plan plan;
  rt_plan_init(&plan);
  hist_plan_finalizer(obj, r, 0, 200, NOW, &plan);
  ck_assert_uint_eq(plan.nactions, 1);
  ck_assert_int_eq(plan.actions[0].kind, RT_ACT_REMOVE_FINALIZER);
  ck_assert_uint_eq(plan.nevents, 1);
  ck_assert_str_eq(plan.events[0].type, "Warning");
  ck_assert_str_eq(plan.events[0].reason, "HistoryNotRecorded");
  ck_assert_ptr_nonnull(strstr(plan.events[0].message, "200s"));
  rt_plan_free(&plan);
  hist_records_free(r);
  free(r);
  json_decref(obj);
}
END_TEST

/* ---- settings ------------------------------------------------------------------------- */

typedef struct {
  const char *json; /* NULL: no section */
  int64_t want;     /* 0: refused */
  const char *err;
  int64_t retention_days, max_runs;
} settings_case;

static const settings_case settings_cases[] = {
    {NULL, 300, NULL, 0, 0},
    {"{}", 300, NULL, 0, 0},
    {"{\"finalizerTimeoutSeconds\": 30}", 30, NULL, 0, 0},
    {"{\"finalizerTimeoutSeconds\": 0}", 0, "history.finalizerTimeoutSeconds: want an integer from 1 to 604800", 0, 0},
    {"{\"finalizerTimeoutSeconds\": \"5m\"}", 0, "history.finalizerTimeoutSeconds: want an integer from 1 to 604800", 0, 0},
    {"{\"retention\": 3}", 0, "history.retention: unknown field", 0, 0},
    {"[]", 0, "history: want an object", 0, 0},
    {"{\"retentionDays\": 90, \"maxRuns\": 1000000}", 300, NULL, 90, 1000000},
    {"{\"retentionDays\": 0, \"maxRuns\": 0}", 300, NULL, 0, 0},
    {"{\"retentionDays\": -1}", 0, "history.retentionDays: want an integer from 0 (keep for ever) to 36500", 0, 0},
    {"{\"retentionDays\": 1.5}", 0, "history.retentionDays: want an integer from 0 (keep for ever) to 36500", 0, 0},
    {"{\"maxRuns\": 2000000000}", 0, "history.maxRuns: want an integer from 0 (no cap) to 1000000000", 0, 0},
};

START_TEST(settings_table) {
  const settings_case *c = &settings_cases[_i];
  json_t *j = c->json ? load(c->json) : NULL;
  hist_settings hs;
  char err[256] = "";
  int rc = hist_settings_parse(j, &hs, err, sizeof err);
  if (c->want) {
    ck_assert_msg(rc == 0, "%s: %s", c->json, err);
    ck_assert_int_eq(hs.finalizer_timeout_s, c->want);
    ck_assert_int_eq(hs.retention_days, c->retention_days);
    ck_assert_int_eq(hs.max_runs, c->max_runs);
  } else {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s accepted", c->json);
    ck_assert_str_eq(err, c->err);
  }
  json_decref(j);
}
END_TEST

/* History off: the finalizer a recorder left goes; nothing else is touched. */
START_TEST(cleanup_plan) {
  json_t *with = load(tj_succeeded);
  json_t *without = load("{\"metadata\": {\"name\": \"a\", \"finalizers\": [\"other.io/keep\"]}}");
  rt_plan plan;
  rt_plan_init(&plan);
  hist_plan_cleanup(with, &plan);
  ck_assert_uint_eq(plan.nactions, 1);
  ck_assert_int_eq(plan.actions[0].kind, RT_ACT_REMOVE_FINALIZER);
  ck_assert_str_eq(plan.actions[0].finalizer, HIST_FINALIZER);
  ck_assert_ptr_null(plan.status);
  rt_plan_free(&plan);
  rt_plan_init(&plan);
  hist_plan_cleanup(without, &plan);
  ck_assert_uint_eq(plan.nactions, 0);
  ck_assert_uint_eq(plan.nevents, 0);
  rt_plan_free(&plan);
  json_decref(with);
  json_decref(without);
}
END_TEST

/* One retention pass deletes in batches until nothing old is left. */
START_TEST(prune_pass) {
  hist_store *st = NULL;
  char err[256] = "";
  ck_assert_int_eq(hist_store_open(":memory:", &st, err, sizeof err), 0);
  for (int i = 0; i < HIST_PRUNE_BATCH + 7; i++) {
    char uid[16];
    snprintf(uid, sizeof uid, "r%d", i);
    hist_run r = {.uid = uid, .kind = "TrainingJob", .ns = "n", .name = uid, .created_at = NOW - 40 * 86400,
                  .finished_at = NOW - 31 * 86400};
    ck_assert_int_eq(hist_store_put_run(st, &r, err, sizeof err), 0);
  }
  hist_settings off = {300, 0, 0}, month = {300, 30, 0};
  int64_t n = -1;
  ck_assert_int_eq(hist_prune(st, &off, NOW, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, 0);
  ck_assert_ptr_null(hist_pruner_start(st, &off, 60)); /* nothing to do: no thread */
  ck_assert_int_eq(hist_prune(st, &month, NOW, &n, err, sizeof err), 0);
  ck_assert_int_eq(n, HIST_PRUNE_BATCH + 7);
  /* the thread starts, prunes at once, and stops promptly */
  hist_pruner *p = hist_pruner_start(st, &month, 3600);
  ck_assert_ptr_nonnull(p);
  hist_pruner_stop(p);
  hist_store_close(st);
}
END_TEST

int main(void) {
  Suite *s = suite_create("history_record");
  TCase *tc = tcase_create("record");
  tcase_add_loop_test(tc, pod_interval_table, 0, N(pod_cases));
  tcase_add_test(tc, observe_trainingjob);
  tcase_add_test(tc, observe_service_not_finished_by_phase);
  tcase_add_test(tc, observe_many_pods);
  tcase_add_loop_test(tc, parent_table, 0, N(parent_cases));
  tcase_add_test(tc, parent_kind_leaves_task_pods);
  tcase_add_test(tc, cleanup_plan);
  tcase_add_test(tc, prune_pass);
  tcase_add_loop_test(tc, finalizer_table, 0, N(fin_cases));
  tcase_add_test(tc, finalizer_dropped_after_timeout);
  tcase_add_loop_test(tc, settings_table, 0, N(settings_cases));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
