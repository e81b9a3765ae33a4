/* TrainingJob: the engine object of every framework against golden JSON
 * (test/unit/fixtures/trainingjob/<framework>.json; CUBIT_UPDATE_GOLDEN=1
 * rewrites them, to be reviewed in the diff), and the status mapping from
 * each engine's recorded status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"
#include "testutil.h"
#include "util/json.h"

static json_t *tj_object(const char *framework, const char *roles, const char *extra) {
  char *text = NULL;
  int n = asprintf(&text,
                   "{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"TrainingJob\",\"metadata\":{\"name\":\"train\","
                   "\"namespace\":\"team-a\",\"uid\":\"tj-uid\",\"generation\":1,\"annotations\":{\"cubit.dev/user\":\"alice\"}},"
                   "\"spec\":{\"framework\":\"%s\",\"image\":\"registry.example.com/ml/train:1\",\"command\":[\"python\",\"train.py\"],"
                   "\"env\":[{\"name\":\"EPOCHS\",\"value\":\"3\"}],\"volumes\":[{\"claimName\":\"datasets\",\"mountPath\":\"/data\",\"readOnly\":true}],"
                   "\"podMetadata\":{\"annotations\":{\"cubit.dev/fake-outcome\":\"succeed\"}},"
                   "\"roles\":%s%s}}",
                   framework, roles, extra ? extra : "");
  ck_assert_int_gt(n, 0);
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  ck_assert_msg(o != NULL, "fixture: %s", err.text);
  free(text);
  return o;
}

static const struct {
  const char *framework, *roles, *extra;
} cases[] = {
    {"batch", "{\"main\":{\"replicas\":4,\"parallelism\":2,\"resources\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}",
     ",\"failurePolicy\":{\"backoffLimit\":2},\"activeDeadlineSeconds\":3600"},
    {"pytorch",
     "{\"master\":{\"replicas\":1,\"resources\":{\"cpu\":4,\"gpu\":\"1(A100)\"}},\"worker\":{\"replicas\":3,\"resources\":{\"gpu\":\"1(A100)\"}}}",
     ",\"gang\":{\"queue\":\"research\",\"scheduleTimeoutSeconds\":600},\"failurePolicy\":{\"restartPolicy\":\"OnFailure\"}"},
    {"tensorflow", "{\"chief\":{},\"ps\":{\"replicas\":2},\"worker\":{\"replicas\":4,\"resources\":{\"gpu\":\"0.5\"}},\"evaluator\":{}}",
     NULL},
    {"mpi", "{\"launcher\":{\"command\":[\"mpirun\",\"-np\",\"2\",\"python\",\"train.py\"]},\"worker\":{\"replicas\":2}}",
     ",\"suspend\":true"},
    {"xgboost", "{\"master\":{},\"worker\":{\"replicas\":2}}", ",\"failurePolicy\":{\"restartPolicy\":\"ExitCode\"}"},
    {"volcano", "{\"ps\":{\"replicas\":1},\"trainer\":{\"replicas\":2,\"resources\":{\"gpu\":\"2\"}}}",
     ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":3}},\"gang\":{\"minAvailable\":2}"},
};

static void check_golden(const char *name, const json_t *got) {
  char rel[256];
  snprintf(rel, sizeof(rel), "test/unit/fixtures/trainingjob/%s.json", name);
  char *path = testutil_src_path(rel);
  if (getenv("CUBIT_UPDATE_GOLDEN")) {
    ck_assert_int_eq(json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
  }
  json_error_t err;
  json_t *want = json_load_file(path, 0, &err);
  ck_assert_msg(want != NULL, "golden %s: %s", path, err.text);
  if (!json_equal(want, (json_t *)got)) {
    char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
    ck_abort_msg("%s differs from %s:\n%s", name, path, g);
  }
  json_decref(want);
  free(path);
}

START_TEST(desired_child_per_framework) {
  json_t *tj = tj_object(cases[_i].framework, cases[_i].roles, cases[_i].extra);
  tj_spec s;
  char err[256];
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  tj_env env = {GANG_VOLCANO, "team-a"};
  json_t *child = tj_desired_child(tj, &s, &env);
  check_golden(cases[_i].framework, child);
  json_decref(child);
  json_decref(tj);
}
END_TEST

START_TEST(batch_gang_gets_a_podgroup) {
  json_t *tj = tj_object("batch", "{\"main\":{\"replicas\":3}}", NULL);
  tj_spec s;
  char err[256];
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  ck_assert_int_eq(s.gang, 1);
  tj_env volcano = {GANG_VOLCANO, "team-a"}, none = {GANG_NONE, "team-a"};
  json_t *pg = tj_desired_podgroup(tj, &s, &volcano);
  ck_assert_ptr_nonnull(pg);
  ck_assert_int_eq(js_int(pg, "spec.minMember", 0), 3);
  ck_assert_str_eq(js_str(pg, "spec.queue"), "team-a");
  json_decref(pg);
  ck_assert_ptr_null(tj_desired_podgroup(tj, &s, &none));
  json_decref(tj);
  /* One pod is no gang. */
  tj = tj_object("batch", "{\"main\":{}}", NULL);
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  ck_assert_int_eq(s.gang, 0);
  ck_assert_ptr_null(tj_desired_podgroup(tj, &s, &volcano));
  json_decref(tj);
}
END_TEST

START_TEST(debug_pod) {
  json_t *tj = tj_object("pytorch", "{\"master\":{\"resources\":{\"gpu\":\"1\"}},\"worker\":{\"replicas\":2}}", ",\"debug\":true");
  tj_spec s;
  char err[256];
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  json_t *pod = tj_desired_debug_pod(tj, &s);
  check_golden("debug-pod", pod);
  json_decref(pod);
  json_decref(tj);
}
END_TEST

static const struct {
  const char *framework, *roles, *extra, *error;
} bad_specs[] = {
    {"pytorch", "{\"boss\":{}}", NULL, "spec.roles.boss: not a pytorch role"},
    {"tensorflow", "{\"master\":{}}", NULL, "spec.roles.master: not a tensorflow role"},
    {"batch", "{\"a\":{},\"b\":{}}", NULL, "spec.roles: a batch job has exactly one role"},
    {"batch", "{\"a\":{\"replicas\":0}}", NULL, "spec.roles.a.replicas: want an integer of at least 1"},
    {"volcano", "{\"a\":{\"replicas\":2}}", ",\"gang\":{\"minAvailable\":3}", "spec.gang.minAvailable: 3 is more than the job's 2 pods"},
    {"mpi", "{\"launcher\":{},\"worker\":{}}", ",\"failurePolicy\":{\"restartPolicy\":\"Always\"}",
     "spec.failurePolicy.restartPolicy: want OnFailure, Never or ExitCode, got \"Always\""},
    {"caffe", "{\"a\":{}}", NULL, "spec.framework: want batch, pytorch, tensorflow, mpi, xgboost or volcano, got \"caffe\""},
};

START_TEST(invalid_specs) {
  json_t *tj = tj_object(bad_specs[_i].framework, bad_specs[_i].roles, bad_specs[_i].extra);
  tj_spec s;
  char err[256] = "";
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, bad_specs[_i].error);
  json_decref(tj);
}
END_TEST

/* ------------------------------------------------------------- status */

static void progress(const char *framework, const char *roles, const char *child_json, const char *pod_json,
                     tj_progress *p) {
  json_t *tj = tj_object(framework, roles, NULL);
  tj_spec s;
  char err[256];
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  json_t *child = json_loads(child_json, 0, NULL);
  ck_assert_ptr_nonnull(child);
  json_t *pod = pod_json ? json_loads(pod_json, 0, NULL) : NULL;
  const json_t *pods[1] = {pod};
  tj_progress_of(&s, child, pod ? pods : NULL, pod ? 1 : 0, p);
  json_decref(pod);
  json_decref(child);
  json_decref(tj);
}

START_TEST(status_batch_job) {
  tj_progress p;
  progress("batch", "{\"main\":{\"replicas\":2}}",
           "{\"status\":{\"active\":2,\"ready\":2,\"startTime\":\"2026-11-22T07:00:00Z\"}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Running");
  ck_assert_int_eq(p.active, 2);
  ck_assert_int_eq(js_int(p.roles, "main.active", -1), 2);
  ck_assert_str_eq(p.start_time, "2026-11-22T07:00:00Z");
  tj_progress_free(&p);
  progress("batch", "{\"main\":{\"replicas\":2}}",
           "{\"status\":{\"succeeded\":2,\"startTime\":\"2026-11-22T07:00:00Z\",\"completionTime\":\"2026-11-22T07:01:35Z\","
           "\"conditions\":[{\"type\":\"SuccessCriteriaMet\",\"status\":\"True\"},{\"type\":\"Complete\",\"status\":\"True\"}]}}",
           NULL, &p);
  ck_assert_str_eq(p.phase, "Succeeded");
  ck_assert_str_eq(p.completion_time, "2026-11-22T07:01:35Z");
  tj_progress_free(&p);
  /* A pod killed with 137 explains the failure. */
  progress("batch", "{\"main\":{}}",
           "{\"status\":{\"failed\":1,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\","
           "\"message\":\"Job has reached the specified backoff limit\"}]}}",
           "{\"metadata\":{\"name\":\"train-0-abc\",\"labels\":{\"cubit.dev/role\":\"main\"}},\"status\":{\"phase\":\"Failed\","
           "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}}",
           &p);
  ck_assert_str_eq(p.phase, "Failed");
  ck_assert_str_eq(p.reason, "OOMKilled");
  ck_assert_int_eq(p.exit_code, 137);
  ck_assert_str_eq(p.message, "pod train-0-abc (role main): container main exited with code 137 (OOMKilled: out of memory); "
                              "Job has reached the specified backoff limit");
  tj_progress_free(&p);
}
END_TEST

START_TEST(status_operator_jobs) {
  tj_progress p;
  progress("pytorch", "{\"master\":{},\"worker\":{\"replicas\":3}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"True\"}],"
           "\"replicaStatuses\":{\"Master\":{\"active\":1},\"Worker\":{\"active\":2,\"failed\":1}},\"startTime\":\"2026-11-22T07:00:00Z\"}}",
           NULL, &p);
  ck_assert_str_eq(p.phase, "Running");
  ck_assert_int_eq(p.active, 3);
  ck_assert_int_eq(p.any_failed, 1);
  ck_assert_int_eq(js_int(p.roles, "worker.failed", -1), 1);
  ck_assert_int_eq(js_int(p.roles, "master.active", -1), 1);
  tj_progress_free(&p);
  progress("tensorflow", "{\"ps\":{},\"worker\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"False\"},"
           "{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"TFJobFailed\",\"message\":\"TFJob train has failed because 1 Worker replica(s) failed.\"}],"
           "\"replicaStatuses\":{\"PS\":{\"succeeded\":1},\"Worker\":{\"failed\":1}}}}",
           "{\"metadata\":{\"name\":\"train-worker-0\",\"labels\":{\"cubit.dev/role\":\"worker\"}},\"status\":{\"containerStatuses\":"
           "[{\"name\":\"tensorflow\",\"state\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\"}}}]}}",
           &p);
  ck_assert_str_eq(p.phase, "Failed");
  ck_assert_str_eq(p.reason, "TFJobFailed");
  ck_assert_int_eq(p.exit_code, 2);
  ck_assert_int_eq(js_int(p.roles, "ps.succeeded", -1), 1);
  tj_progress_free(&p);
  progress("xgboost", "{\"master\":{}}", "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"}]}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Queued");
  tj_progress_free(&p);
  progress("mpi", "{\"launcher\":{},\"worker\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Suspended");
  tj_progress_free(&p);
  progress("pytorch", "{\"master\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Running\",\"status\":\"False\"},{\"type\":\"Succeeded\",\"status\":\"True\"}],"
           "\"completionTime\":\"2026-11-22T08:00:00Z\"}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Succeeded");
  ck_assert_str_eq(p.completion_time, "2026-11-22T08:00:00Z");
  tj_progress_free(&p);
}
END_TEST

START_TEST(status_volcano_job) {
  tj_progress p;
  progress("volcano", "{\"trainer\":{\"replicas\":2}}",
           "{\"status\":{\"state\":{\"phase\":\"Running\",\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"},"
           "\"taskStatusCount\":{\"trainer\":{\"phase\":{\"Running\":2}}}}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Running");
  ck_assert_int_eq(js_int(p.roles, "trainer.active", -1), 2);
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Completed\"}}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Succeeded");
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Aborted\",\"reason\":\"PodFailed\"}}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Failed");
  ck_assert_str_eq(p.reason, "PodFailed");
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Inqueue\"}}}", NULL, &p);
  ck_assert_str_eq(p.phase, "Queued");
  tj_progress_free(&p);
}
END_TEST

START_TEST(durations) {
  char d[32];
  tj_format_duration(95, d);
  ck_assert_str_eq(d, "1m35s");
  tj_format_duration(3723, d);
  ck_assert_str_eq(d, "1h2m3s");
  tj_format_duration(7, d);
  ck_assert_str_eq(d, "7s");
  tj_format_duration(-5, d);
  ck_assert_str_eq(d, "0s");
}
END_TEST

int main(void) {
  Suite *s = suite_create("trainingjob");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, desired_child_per_framework, 0, sizeof(cases) / sizeof(cases[0]));
  tcase_add_test(tc, batch_gang_gets_a_podgroup);
  tcase_add_test(tc, debug_pod);
  tcase_add_loop_test(tc, invalid_specs, 0, sizeof(bad_specs) / sizeof(bad_specs[0]));
  tcase_add_test(tc, status_batch_job);
  tcase_add_test(tc, status_operator_jobs);
  tcase_add_test(tc, status_volcano_job);
  tcase_add_test(tc, durations);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
