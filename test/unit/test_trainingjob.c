/* TrainingJob: the engine object of every framework against golden JSON
 * (test/unit/fixtures/trainingjob/<framework>.json; CUBIT_UPDATE_GOLDEN=1
 * rewrites them, to be reviewed in the diff), the progress read off each
 * engine's recorded status and the pods, and the plan: a table of observed
 * states (engine object, pods, previous status, spec) in, phase, the four
 * conditions kstatus and Argo CD read, reason, message, children, events
 * and requeue out, for a batch Job, an operator kind, a Volcano Job, a
 * RayJob and a SparkApplication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/status.h"
#include "testutil.h"
#include "util/json.h"
#include "util/time.h"

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
     "{\"master\":{\"replicas\":1,\"resources\":{\"cpu\":4,\"gpu\":\"1(A100)\"}},\"worker\":{\"replicas\":3,\"resources\":{\"gpu\":\"1(A100)\"},"
     "\"podTemplate\":{\"spec\":{\"serviceAccountName\":\"worker\",\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}}}}",
     ",\"gang\":{\"queue\":\"research\",\"scheduleTimeoutSeconds\":600},\"failurePolicy\":{\"restartPolicy\":\"OnFailure\"},"
     "\"podTemplate\":{\"metadata\":{\"labels\":{\"team\":\"vision\"}},\"spec\":{\"serviceAccountName\":\"trainer\","
     "\"imagePullSecrets\":[{\"name\":\"registry\"}],\"containers\":[{\"name\":\"pytorch\",\"envFrom\":[{\"secretRef\":"
     "{\"name\":\"wandb\"}}]},{\"name\":\"proxy\",\"image\":\"envoy:1\"}]}}"},
    {"tensorflow", "{\"chief\":{},\"ps\":{\"replicas\":2},\"worker\":{\"replicas\":4,\"resources\":{\"gpu\":\"0.5\"}},\"evaluator\":{}}",
     NULL},
    {"mpi", "{\"launcher\":{\"command\":[\"mpirun\",\"-np\",\"2\",\"python\",\"train.py\"]},\"worker\":{\"replicas\":2}}",
     ",\"suspend\":true"},
    {"xgboost", "{\"master\":{},\"worker\":{\"replicas\":2}}", ",\"failurePolicy\":{\"restartPolicy\":\"ExitCode\"}"},
    {"volcano", "{\"ps\":{\"replicas\":1},\"trainer\":{\"replicas\":2,\"resources\":{\"gpu\":\"2\"}}}",
     ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":3}},\"gang\":{\"minAvailable\":2}"},
    {"paddle", "{\"master\":{\"resources\":{\"cpu\":\"4\"}},\"worker\":{\"replicas\":2,\"resources\":{\"gpu\":\"1\"}}}",
     ",\"gang\":{\"queue\":\"research\"},\"activeDeadlineSeconds\":3600"},
    {"jax", "{\"worker\":{\"replicas\":2,\"resources\":{\"cpu\":\"8\",\"memory\":\"32Gi\"}}}", ",\"suspend\":true"},
    /* The job's command and args become Ray's entrypoint, quoted. */
    {"ray",
     "{\"head\":{\"resources\":{\"cpu\":\"2\",\"memory\":\"8Gi\"}},\"gpu-workers\":{\"replicas\":2,\"minReplicas\":1,"
     "\"maxReplicas\":4,\"resources\":{\"cpu\":\"4\",\"gpu\":\"1(A100)\"},\"podTemplate\":{\"spec\":{\"tolerations\":"
     "[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}}},\"cpu-workers\":{\"replicas\":3}}",
     ",\"args\":[\"--epochs\",\"10 20\",\"--name=it's\"],\"ray\":{\"runtimeEnv\":{\"pip\":[\"torch\"],\"env_vars\":"
     "{\"A\":\"b\"}},\"rayVersion\":\"2.40.0\"},\"failurePolicy\":{\"backoffLimit\":1},\"activeDeadlineSeconds\":7200"},
    {"spark",
     "{\"driver\":{\"resources\":{\"cpu\":\"500m\",\"memory\":\"2Gi\"},\"podTemplate\":{\"spec\":"
     "{\"serviceAccountName\":\"spark\"}}},\"executor\":{\"replicas\":3,\"image\":\"registry.example.com/ml/spark:1\","
     "\"resources\":{\"cpu\":\"2\",\"memory\":\"3000M\",\"gpu\":\"1\"}}}",
     ",\"command\":[],\"args\":[\"--input\",\"s3a://data/x\"],\"spark\":{\"type\":\"Python\",\"mainApplicationFile\":"
     "\"local:///opt/app/main.py\",\"sparkVersion\":\"3.5.5\",\"sparkConf\":{\"spark.sql.shuffle.partitions\":\"64\"}},"
     "\"failurePolicy\":{\"backoffLimit\":2}"},
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
  tj_env env = {.gang = {.scheduler = GANG_VOLCANO}, .project = "team-a"};
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
  tj_env volcano = {.gang = {.scheduler = GANG_VOLCANO}, .project = "team-a"}, none = {.project = "team-a"};
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

/* Every replica's template of a gang placed in a member carries what the
 * pod webhook gives the pods of a gang in the hub (group = the job, role =
 * the role); in the hub the template stays as it was, the webhook marks
 * the pods; a job of one pod is no gang. */
static const struct {
  const char *name;
  const char *framework, *roles;
  gang_scheduler scheduler;
  int in_member;
  const char *path;  /* a replica's template */
  const char *marks; /* template_marks */
} gang_templates[] = {
    {"hub, Volcano: the operator's own marks only", "pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}",
     GANG_VOLCANO, 0, "spec.pytorchReplicaSpecs.Worker.template",
     "scheduler=volcano group=- task=- pod-group=- queue=-"},
    {"member, Volcano: worker", "pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}", GANG_VOLCANO, 1,
     "spec.pytorchReplicaSpecs.Worker.template", "scheduler=volcano group=train task=worker pod-group=- queue=-"},
    {"member, Volcano: master", "pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}", GANG_VOLCANO, 1,
     "spec.pytorchReplicaSpecs.Master.template", "scheduler=volcano group=train task=master pod-group=- queue=-"},
    {"member, coscheduling", "pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}", GANG_COSCHEDULING, 1,
     "spec.pytorchReplicaSpecs.Master.template", "scheduler=- group=- task=- pod-group=train queue=-"},
    {"member, kueue", "batch", "{\"main\":{\"replicas\":2}}", GANG_KUEUE, 1, "spec.template",
     "scheduler=- group=- task=- pod-group=- queue=team-a"},
    {"member, none", "batch", "{\"main\":{\"replicas\":2}}", GANG_NONE, 1, "spec.template",
     "scheduler=- group=- task=- pod-group=- queue=-"},
    {"member, Volcano, one pod: no gang", "batch", "{\"main\":{}}", GANG_VOLCANO, 1, "spec.template",
     "scheduler=- group=- task=- pod-group=- queue=-"},
};

static void template_marks(const json_t *tmpl, char *out, size_t len);

START_TEST(gang_marks_in_templates) {
  json_t *tj = tj_object(gang_templates[_i].framework, gang_templates[_i].roles, NULL);
  tj_spec s;
  char err[256];
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  tj_env env = {.gang = {.scheduler = gang_templates[_i].scheduler}, .project = "team-a",
                .in_member = gang_templates[_i].in_member};
  json_t *child = tj_desired_child(tj, &s, &env);
  const json_t *tmpl = js_get(child, gang_templates[_i].path);
  ck_assert_msg(tmpl != NULL, "%s: no %s", gang_templates[_i].name, gang_templates[_i].path);
  char got[256];
  template_marks(tmpl, got, sizeof(got));
  ck_assert_msg(strcmp(got, gang_templates[_i].marks) == 0, "%s: \"%s\", want \"%s\"", gang_templates[_i].name, got,
                gang_templates[_i].marks);
  json_decref(child);
  json_decref(tj);
}
END_TEST

/* A ray job's debug pod plays its first role with index 0 too. */
START_TEST(debug_pod_of_a_ray_worker_group) {
  json_t *tj = tj_object("ray", "{\"a-workers\":{},\"head\":{}}", ",\"debug\":true");
  tj_spec s;
  char err[256];
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  json_t *pod = tj_desired_debug_pod(tj, &s);
  json_t *env = js_get(json_array_get(js_get(pod, "spec.containers"), 0), "env");
  int found = 0;
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e) {
    if (strcmp(js_str(e, "name"), "CUBIT_REPLICA_INDEX") == 0) {
      ck_assert_str_eq(js_str(e, "value"), "0");
      found++;
    }
  }
  ck_assert_int_eq(found, 1);
  json_decref(pod);
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
    {"caffe", "{\"a\":{}}", NULL,
     "spec.framework: want batch, pytorch, tensorflow, mpi, xgboost, volcano, paddle, jax, ray or spark, got \"caffe\""},
    {"paddle", "{\"master\":{}}", NULL, "spec.roles.worker: required for a paddle job"},
    {"jax", "{\"master\":{}}", NULL, "spec.roles.master: not a jax role"},
    {"ray", "{\"workers\":{}}", NULL, "spec.roles.head: required for a ray job"},
    {"ray", "{\"head\":{\"replicas\":2}}", NULL, "spec.roles.head.replicas: a ray job has one head"},
    {"ray", "{\"head\":{},\"w\":{\"replicas\":2,\"minReplicas\":3}}", NULL,
     "spec.roles.w: want minReplicas (3) <= replicas (2) <= maxReplicas (2)"},
    {"ray", "{\"head\":{},\"w\":{\"replicas\":4,\"maxReplicas\":2}}", NULL,
     "spec.roles.w: want minReplicas (4) <= replicas (4) <= maxReplicas (2)"},
    {"ray", "{\"head\":{\"minReplicas\":1}}", NULL,
     "spec.roles.head: minReplicas and maxReplicas are for the worker groups of a ray job"},
    {"pytorch", "{\"master\":{},\"worker\":{\"maxReplicas\":3}}", NULL,
     "spec.roles.worker: minReplicas and maxReplicas are for the worker groups of a ray job"},
    {"ray", "{\"head\":{\"command\":[\"ray\",\"start\"]}}", NULL,
     "spec.roles.head.command: ray runs its own processes in its pods; the program is spec.ray.entrypoint"},
    {"ray", "{\"head\":{}}", ",\"command\":[]",
     "spec.ray.entrypoint: required (or spec.command): the command Ray runs on its cluster"},
    {"ray", "{\"head\":{}}", ",\"ray\":{\"runtimeEnv\":[\"pip\"]}",
     "spec.ray.runtimeEnv: want an object (Ray's runtime_env: pip, env_vars, working_dir...)"},
    {"pytorch", "{\"master\":{}}", ",\"ray\":{\"entrypoint\":\"x\"}", "spec.ray: only for framework ray"},
    {"spark", "{\"driver\":{},\"executor\":{}}", NULL,
     "spec.command: spark runs spark-submit; the program is spec.spark.mainApplicationFile"},
    {"spark", "{\"driver\":{}}", ",\"command\":[]", "spec.roles.executor: required for a spark job"},
    {"spark", "{\"driver\":{\"replicas\":2},\"executor\":{}}", ",\"command\":[]",
     "spec.roles.driver.replicas: a spark job has one driver"},
    {"spark", "{\"driver\":{},\"executor\":{\"args\":[\"x\"]}}", ",\"command\":[]",
     "spec.roles.executor.command: spark runs its own processes in its pods; the program is spec.spark.mainApplicationFile"},
    {"spark", "{\"driver\":{},\"executor\":{}}", ",\"command\":[],\"spark\":{\"type\":\"Go\"}",
     "spec.spark.type: want Python, Scala, Java or R, got \"Go\""},
    {"spark", "{\"driver\":{},\"executor\":{}}",
     ",\"command\":[],\"spark\":{\"type\":\"Python\",\"mainApplicationFile\":\"local:///a.py\"}",
     "spec.spark.sparkVersion: required (the image's Spark, e.g. 3.5.5)"},
    {"spark", "{\"driver\":{},\"executor\":{}}",
     ",\"command\":[],\"spark\":{\"type\":\"Scala\",\"mainApplicationFile\":\"local:///a.jar\",\"sparkVersion\":\"3.5.5\"}",
     "spec.spark.mainClass: required for a Scala application"},
    {"spark", "{\"driver\":{},\"executor\":{}}",
     ",\"command\":[],\"spark\":{\"type\":\"Python\",\"mainApplicationFile\":\"local:///a.py\",\"sparkVersion\":\"3.5.5\","
     "\"sparkConf\":{\"spark.executor.cores\":2}}",
     "spec.spark.sparkConf.spark.executor.cores: want a string"},
    {"batch", "{\"main\":{}}", ",\"spark\":{}", "spec.spark: only for framework spark"},
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

/* ------------------------------------------------------------- progress */

#define POD_UNSCHEDULED(msg)                                                                                        \
  "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\"," \
  "\"message\":\"" msg "\"}]}"
#define POD_WAITING(reason, msg)                                                                                    \
  "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],\"containerStatuses\":"     \
  "[{\"name\":\"main\",\"state\":{\"waiting\":{\"reason\":\"" reason "\",\"message\":\"" msg "\"}}}]}"
#define POD_RUNNING "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"running\":{}}}]}"
#define POD_SUCCEEDED "{\"phase\":\"Succeeded\"}"
#define POD_EXITED(code, reason)                                                                                    \
  "{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":" #code      \
  ",\"reason\":\"" reason "\"}}}]}"
#define NO_NODE "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
#define NO_CLAIM "0/3 nodes are available: persistentvolumeclaim \\\"data\\\" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."

/* A pod of the job "train": "name role" and its status. */
static json_t *make_pod(const char *spec, const char *owner_uid) {
  char name[64], role[48];
  const char *status = NULL;
  ck_assert_int_eq(sscanf(spec, "%63s %47s", name, role), 2);
  status = strchr(strchr(spec, ' ') + 1, ' ') + 1;
  json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:b}]}}", "apiVersion", "v1", "kind",
                          "Pod", "metadata", "name", name, "namespace", "team-a", "labels", TJ_LABEL, "train",
                          TJ_ROLE_LABEL, role, "ownerReferences", "kind", "Job", "name", "train", "uid", owner_uid,
                          "controller", 1);
  json_error_t e;
  json_t *st = json_loads(status, 0, &e);
  ck_assert_msg(st != NULL, "pod status %s: %s", status, e.text);
  json_object_set_new(pod, "status", st);
  return pod;
}

static void progress(const char *framework, const char *roles, const char *child_status, const char *const *pod_specs,
                     tj_progress *p) {
  json_t *tj = tj_object(framework, roles, NULL);
  tj_spec s;
  char err[256];
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  json_t *child = json_loads(child_status, 0, NULL);
  ck_assert_ptr_nonnull(child);
  json_t *pods[4] = {NULL};
  size_t n = 0;
  for (; pod_specs && pod_specs[n]; n++) pods[n] = make_pod(pod_specs[n], "child-uid");
  tj_progress_of(&s, child, (const json_t *const *)pods, n, p);
  for (size_t i = 0; i < n; i++) json_decref(pods[i]);
  json_decref(child);
  json_decref(tj);
}

START_TEST(progress_batch_job) {
  tj_progress p;
  /* The Job counts pending pods as active: only the pods say what runs. */
  const char *pending[] = {"train-0 main " POD_UNSCHEDULED(NO_NODE), "train-1 main " POD_RUNNING, NULL};
  progress("batch", "{\"main\":{\"replicas\":2}}",
           "{\"status\":{\"active\":2,\"ready\":1,\"startTime\":\"2026-11-22T07:00:00Z\"}}", pending, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_RUNNING);
  ck_assert_int_eq(p.running, 1);
  ck_assert_int_eq(p.pending, 1);
  ck_assert_int_eq(p.completions, 2);
  ck_assert_int_eq(js_int(p.roles, "main.running", -1), 1);
  ck_assert_int_eq(js_int(p.roles, "main.pending", -1), 1);
  ck_assert_str_eq(p.wait_pod, "train-0");
  ck_assert_str_eq(p.wait_reason, "Unschedulable");
  ck_assert_str_eq(p.wait_message, NO_NODE);
  ck_assert_int_eq(p.wait_unscheduled, 1);
  ck_assert_str_eq(p.start_time, "2026-11-22T07:00:00Z");
  tj_progress_free(&p);
  progress("batch", "{\"main\":{\"replicas\":2}}",
           "{\"status\":{\"succeeded\":2,\"startTime\":\"2026-11-22T07:00:00Z\",\"completionTime\":\"2026-11-22T07:01:35Z\","
           "\"conditions\":[{\"type\":\"SuccessCriteriaMet\",\"status\":\"True\"},{\"type\":\"Complete\",\"status\":\"True\"}]}}",
           NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_SUCCEEDED);
  ck_assert_int_eq(p.succeeded, 2);
  ck_assert_str_eq(p.completion_time, "2026-11-22T07:01:35Z");
  tj_progress_free(&p);
  /* A pod killed with 137 explains the failure. */
  const char *oom[] = {"train-0-abc main " POD_EXITED(137, "OOMKilled"), NULL};
  progress("batch", "{\"main\":{}}",
           "{\"status\":{\"failed\":1,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\","
           "\"message\":\"Job has reached the specified backoff limit\"}]}}",
           oom, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_FAILED);
  ck_assert_str_eq(p.reason, "OOMKilled");
  ck_assert_int_eq(p.exit_code, 137);
  ck_assert_int_eq(p.failed, 1);
  ck_assert_str_eq(p.message, "pod train-0-abc (role main): container main exited with code 137 (OOMKilled: out of memory); "
                              "Job has reached the specified backoff limit");
  tj_progress_free(&p);
}
END_TEST

START_TEST(progress_operator_jobs) {
  tj_progress p;
  const char *pods[] = {"train-master-0 master " POD_RUNNING, "train-worker-0 worker " POD_RUNNING,
                        "train-worker-1 worker " POD_WAITING("ImagePullBackOff", "Back-off pulling image"), NULL};
  progress("pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"True\"}],"
           "\"replicaStatuses\":{\"Master\":{\"active\":1},\"Worker\":{\"active\":2,\"failed\":1}},\"startTime\":\"2026-11-22T07:00:00Z\"}}",
           pods, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_RUNNING);
  ck_assert_int_eq(p.running, 2);
  ck_assert_int_eq(p.pending, 1);
  ck_assert_int_eq(p.any_failed, 1);
  ck_assert_int_eq(js_int(p.roles, "worker.failed", -1), 1);
  ck_assert_int_eq(js_int(p.roles, "master.running", -1), 1);
  ck_assert_str_eq(p.wait_reason, "ImagePullBackOff");
  ck_assert_int_eq(p.wait_unscheduled, 0);
  tj_progress_free(&p);
  const char *failed[] = {"train-worker-0 worker " POD_EXITED(2, "Error"), NULL};
  progress("tensorflow", "{\"ps\":{},\"worker\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"False\"},"
           "{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"TFJobFailed\",\"message\":\"TFJob train has failed because 1 Worker replica(s) failed.\"}],"
           "\"replicaStatuses\":{\"PS\":{\"succeeded\":1},\"Worker\":{\"failed\":1}}}}",
           failed, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_FAILED);
  ck_assert_str_eq(p.reason, "TFJobFailed");
  ck_assert_int_eq(p.exit_code, 2);
  ck_assert_int_eq(js_int(p.roles, "ps.succeeded", -1), 1);
  tj_progress_free(&p);
  progress("xgboost", "{\"master\":{}}", "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"}]}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_WAITING);
  tj_progress_free(&p);
  progress("mpi", "{\"launcher\":{},\"worker\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_SUSPENDED);
  tj_progress_free(&p);
  progress("pytorch", "{\"master\":{}}",
           "{\"status\":{\"conditions\":[{\"type\":\"Running\",\"status\":\"False\"},{\"type\":\"Succeeded\",\"status\":\"True\"}],"
           "\"completionTime\":\"2026-11-22T08:00:00Z\"}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_SUCCEEDED);
  ck_assert_str_eq(p.completion_time, "2026-11-22T08:00:00Z");
  tj_progress_free(&p);
}
END_TEST

START_TEST(progress_volcano_job) {
  tj_progress p;
  progress("volcano", "{\"trainer\":{\"replicas\":2}}",
           "{\"status\":{\"state\":{\"phase\":\"Running\",\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"},"
           "\"taskStatusCount\":{\"trainer\":{\"phase\":{\"Running\":2}}}}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_RUNNING);
  ck_assert_int_eq(p.running, 0); /* no pod runs */
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Completed\"}}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_SUCCEEDED);
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Aborted\",\"reason\":\"PodFailed\"}}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_FAILED);
  ck_assert_str_eq(p.reason, "PodFailed");
  tj_progress_free(&p);
  progress("volcano", "{\"trainer\":{}}", "{\"status\":{\"state\":{\"phase\":\"Inqueue\"}}}", NULL, &p);
  ck_assert_int_eq(p.engine, TJ_ENGINE_WAITING);
  tj_progress_free(&p);
}
END_TEST

/* Ray and Spark: the engine's own status in, what the job makes of it out. */
#define SPARK_SPEC                                                                                                  \
  ",\"command\":[],\"spark\":{\"type\":\"Python\",\"mainApplicationFile\":\"local:///opt/app/main.py\","             \
  "\"sparkVersion\":\"3.5.5\"}"
#define RAY_ROLES "{\"head\":{},\"workers\":{\"replicas\":2}}"
#define SPARK_ROLES "{\"driver\":{},\"executor\":{\"replicas\":2}}"

static const struct {
  const char *framework, *roles, *extra, *child;
  tj_engine_state engine;
  const char *reason, *message, *start, *end;
  int executors_succeeded, executors_failed;
} engine_reads[] = {
    {"ray", RAY_ROLES, NULL, "{}", TJ_ENGINE_WAITING, "", "", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Initializing\"}}", TJ_ENGINE_WAITING, "", "", "",
     "", 0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Running\",\"jobStatus\":\"PENDING\"}}",
     TJ_ENGINE_WAITING, "", "", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL,
     "{\"status\":{\"jobDeploymentStatus\":\"Running\",\"jobStatus\":\"RUNNING\",\"startTime\":\"2026-11-22T07:00:00Z\"}}",
     TJ_ENGINE_RUNNING, "", "", "2026-11-22T07:00:00Z", "", 0, 0},
    {"ray", RAY_ROLES, NULL,
     "{\"status\":{\"jobDeploymentStatus\":\"Complete\",\"jobStatus\":\"SUCCEEDED\",\"startTime\":\"2026-11-22T07:00:00Z\","
     "\"endTime\":\"2026-11-22T07:30:00Z\"}}",
     TJ_ENGINE_SUCCEEDED, "", "", "2026-11-22T07:00:00Z", "2026-11-22T07:30:00Z", 0, 0},
    {"ray", RAY_ROLES, NULL,
     "{\"status\":{\"jobDeploymentStatus\":\"Complete\",\"jobStatus\":\"FAILED\",\"reason\":\"AppFailed\","
     "\"message\":\"Job entrypoint command failed with exit code 1\"}}",
     TJ_ENGINE_FAILED, "AppFailed", "Job entrypoint command failed with exit code 1", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Complete\",\"jobStatus\":\"STOPPED\"}}",
     TJ_ENGINE_FAILED, "AppFailed", "the Ray job ended STOPPED", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL,
     "{\"status\":{\"jobDeploymentStatus\":\"Failed\",\"reason\":\"DeadlineExceeded\",\"message\":\"The RayJob has "
     "passed the activeDeadlineSeconds.\"}}",
     TJ_ENGINE_FAILED, "DeadlineExceeded", "The RayJob has passed the activeDeadlineSeconds.", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"ValidationFailed\"}}", TJ_ENGINE_FAILED,
     "ValidationFailed", "the Ray job ended ValidationFailed", "", "", 0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Suspended\"}}", TJ_ENGINE_SUSPENDED, "", "", "", "",
     0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Suspending\"}}", TJ_ENGINE_WAITING, "", "", "", "",
     0, 0},
    {"ray", RAY_ROLES, NULL, "{\"status\":{\"jobDeploymentStatus\":\"Retrying\",\"failed\":1}}", TJ_ENGINE_RESTARTING,
     "Retrying", "KubeRay retries the job on a new Ray cluster", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC, "{}", TJ_ENGINE_WAITING, "", "", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC,
     "{\"status\":{\"applicationState\":{\"state\":\"SUBMITTED\"},\"lastSubmissionAttemptTime\":\"2026-11-22T07:00:00Z\"}}",
     TJ_ENGINE_WAITING, "", "", "2026-11-22T07:00:00Z", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC,
     "{\"status\":{\"applicationState\":{\"state\":\"RUNNING\"},\"executorState\":{\"train-exec-1\":\"RUNNING\","
     "\"train-exec-2\":\"PENDING\"}}}",
     TJ_ENGINE_RUNNING, "", "", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC,
     "{\"status\":{\"applicationState\":{\"state\":\"COMPLETED\"},\"terminationTime\":\"2026-11-22T07:30:00Z\","
     "\"executorState\":{\"train-exec-1\":\"COMPLETED\",\"train-exec-2\":\"COMPLETED\"}}}",
     TJ_ENGINE_SUCCEEDED, "", "", "", "2026-11-22T07:30:00Z", 2, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC,
     "{\"status\":{\"applicationState\":{\"state\":\"FAILED\",\"errorMessage\":\"driver container failed with "
     "ExitCode: 1, Reason: Error\"},\"executorState\":{\"train-exec-1\":\"FAILED\"}}}",
     TJ_ENGINE_FAILED, "SparkApplicationFailed", "driver container failed with ExitCode: 1, Reason: Error", "", "", 0,
     1},
    {"spark", SPARK_ROLES, SPARK_SPEC, "{\"status\":{\"applicationState\":{\"state\":\"SUBMISSION_FAILED\"}}}",
     TJ_ENGINE_FAILED, "SubmissionFailed", "the SparkApplication is SUBMISSION_FAILED", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC, "{\"status\":{\"applicationState\":{\"state\":\"PENDING_RERUN\"}}}",
     TJ_ENGINE_RESTARTING, "PendingRerun", "spark-operator submits the application again", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC, "{\"status\":{\"applicationState\":{\"state\":\"SUSPENDED\"}}}",
     TJ_ENGINE_SUSPENDED, "", "", "", "", 0, 0},
    {"spark", SPARK_ROLES, SPARK_SPEC, "{\"status\":{\"applicationState\":{\"state\":\"SUCCEEDING\"}}}",
     TJ_ENGINE_RUNNING, "", "", "", "", 0, 0},
    {"paddle", "{\"worker\":{\"replicas\":2}}", NULL,
     "{\"status\":{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"True\"}],"
     "\"replicaStatuses\":{\"Worker\":{\"active\":2}}}}",
     TJ_ENGINE_RUNNING, "", "", "", "", 0, 0},
    {"jax", "{\"worker\":{}}", NULL,
     "{\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"JAXJobFailed\",\"message\":"
     "\"JAXJob train is failed because 1 Worker replica(s) failed.\"}],\"replicaStatuses\":{\"Worker\":{\"failed\":1}}}}",
     TJ_ENGINE_FAILED, "JAXJobFailed", "JAXJob train is failed because 1 Worker replica(s) failed.", "", "", 0, 0},
};

START_TEST(engine_read_back) {
  json_t *tj = tj_object(engine_reads[_i].framework, engine_reads[_i].roles, engine_reads[_i].extra);
  tj_spec s;
  char err[256];
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  json_t *child = json_loads(engine_reads[_i].child, 0, NULL);
  ck_assert_ptr_nonnull(child);
  tj_progress p;
  tj_progress_of(&s, child, NULL, 0, &p);
  ck_assert_int_eq(p.engine, engine_reads[_i].engine);
  ck_assert_str_eq(p.reason, engine_reads[_i].reason);
  ck_assert_str_eq(p.message, engine_reads[_i].message);
  ck_assert_str_eq(p.start_time, engine_reads[_i].start);
  ck_assert_str_eq(p.completion_time, engine_reads[_i].end);
  if (strcmp(engine_reads[_i].framework, "spark") == 0) {
    ck_assert_int_eq(js_int(p.roles, "executor.succeeded", -1), engine_reads[_i].executors_succeeded);
    ck_assert_int_eq(js_int(p.roles, "executor.failed", -1), engine_reads[_i].executors_failed);
  }
  tj_progress_free(&p);
  json_decref(child);
  json_decref(tj);
}
END_TEST

/* Ray's entrypoint: spec.ray.entrypoint as written, else the command and
 * args as one shell line. */
static const struct {
  const char *extra, *want;
} entrypoints[] = {
    {NULL, "python train.py"},
    {",\"ray\":{\"entrypoint\":\"python -c 'import ray'\"}", "python -c 'import ray'"},
    {",\"args\":[\"--lr\",\"0.1\",\"a b\",\"it's\",\"\",\"$HOME\"]",
     "python train.py --lr 0.1 'a b' 'it'\\''s' '' '$HOME'"},
};

START_TEST(ray_entrypoint) {
  json_t *tj = tj_object("ray", "{\"head\":{}}", entrypoints[_i].extra);
  tj_spec s;
  char err[256];
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  char *got = tj_ray_entrypoint(&s);
  ck_assert_str_eq(got, entrypoints[_i].want);
  free(got);
  json_decref(tj);
}
END_TEST

/* What one pod does, in the scheduler's and the kubelet's words. */
static const struct {
  const char *pod, *reason, *message;
  tj_pod_phase phase;
  int unscheduled;
} pod_states[] = {
    {"{\"status\":{\"phase\":\"Pending\"}}", "Scheduling", "waiting for the scheduler", TJ_POD_WAITING, 1},
    {"{\"status\":" POD_UNSCHEDULED(NO_NODE) "}", "Unschedulable", NO_NODE, TJ_POD_WAITING, 1},
    {"{\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\","
     "\"message\":\"Scheduling is blocked due to non-empty scheduling gates\"}]}}",
     "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", TJ_POD_WAITING, 1},
    {"{\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Pending\"}}", "Starting", "the kubelet is starting it",
     TJ_POD_WAITING, 0},
    /* The news (a failed pull) before a normal start of another container. */
    {"{\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],\"initContainerStatuses\":"
     "[{\"name\":\"init\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}],\"containerStatuses\":[{\"name\":\"main\","
     "\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\",\"message\":\"pull access denied\"}}}]}}",
     "ErrImagePull", "pull access denied", TJ_POD_WAITING, 0},
    {"{\"status\":" POD_RUNNING "}", NULL, "", TJ_POD_RUNNING, 0},
    {"{\"status\":" POD_SUCCEEDED "}", NULL, "", TJ_POD_SUCCEEDED, 0},
    {"{\"status\":" POD_EXITED(1, "Error") "}", NULL, "", TJ_POD_FAILED, 0},
    {"{\"metadata\":{\"deletionTimestamp\":\"2026-11-22T07:00:00Z\"},\"status\":" POD_RUNNING "}", NULL, "",
     TJ_POD_TERMINATING, 0},
};

START_TEST(pod_state) {
  json_t *pod = json_loads(pod_states[_i].pod, 0, NULL);
  ck_assert_ptr_nonnull(pod);
  tj_pod_state ps;
  tj_pod_state_of(pod, &ps);
  ck_assert_int_eq(ps.phase, pod_states[_i].phase);
  ck_assert_int_eq(ps.unscheduled, pod_states[_i].unscheduled);
  if (pod_states[_i].reason) ck_assert_str_eq(ps.reason, pod_states[_i].reason);
  ck_assert_str_eq(ps.message, pod_states[_i].message);
  json_decref(pod);
}
END_TEST

/* ----------------------------------------------------------------- plan */

#define NOW "2026-11-22T08:00:00Z"

/* A previous status: its phase and the reason of its Reconciling condition. */
#define PREV(phase, reason)                                                                                         \
  "{\"phase\":\"" phase "\",\"observedGeneration\":1,\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\","     \
  "\"reason\":\"" reason "\",\"message\":\"before\",\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"}]}"

enum {
  CHILD_OTHER_OWNER = 1, /* controlled by someone else */
  CHILD_DELETING = 2,    /* deletionTimestamp set */
  CHILD_STALE = 4        /* applied from an older spec (another digest) */
};

typedef struct plan_case {
  const char *name;
  const char *framework, *roles, *extra; /* the spec (tj_object) */
  json_int_t generation;                 /* 0 = 1 */
  const char *status;                    /* the previous status, or NULL */
  const char *child;                     /* the engine object's status JSON; NULL = none */
  int child_flags;
  int child_age_s;                       /* how long ago it was created (default 100 s) */
  const char *pods[4];                   /* "name role status" of the engine's pods */
  const char *debug_pod;                 /* train-debug's status, or NULL */
  int engine_missing;
  gang_scheduler scheduler;
  const char *refused;                   /* the child's FailedCreate message, or NULL */
  /* expected */
  const char *phase;
  rt_state state;
  const char *reason;
  const char *message;    /* a part of the message */
  const char *actions;    /* "apply Job train; delete Pod train-debug Background" */
  const char *events;     /* "Warning Unschedulable; Normal Running" */
  int64_t requeue_ms;
  const char *status_has; /* JSON every field of which the status holds, or NULL */
} plan_case;

#define BATCH2 "batch", "{\"main\":{\"replicas\":2}}"
#define PYTORCH3 "pytorch", "{\"master\":{},\"worker\":{\"replicas\":2}}"
#define VOLCANO2 "volcano", "{\"trainer\":{\"replicas\":2}}"
#define JOB_ACTIVE2 "{\"active\":2,\"startTime\":\"2026-11-22T07:58:20Z\"}"
#define JOB_READY2 "{\"active\":2,\"ready\":2,\"startTime\":\"2026-11-22T07:58:20Z\"}"
#define PT_CREATED "{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"}]}"
#define PT_RUNNING                                                                                                  \
  "{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Running\",\"status\":\"True\"}],"            \
  "\"replicaStatuses\":{\"Master\":{\"active\":1},\"Worker\":{\"active\":2}},\"startTime\":\"2026-11-22T07:58:20Z\"}"
#define PT_WORKER_FAILED                                                                                            \
  "{\"conditions\":[{\"type\":\"Created\",\"status\":\"True\"},{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"    \
  "\"PyTorchJobFailed\",\"message\":\"PyTorchJob train is failed because 1 Worker replica(s) failed.\"}],"              \
  "\"replicaStatuses\":{\"Master\":{\"active\":1},\"Worker\":{\"active\":1,\"failed\":1}}}"
#define PT_PODS_RUNNING                                                                                             \
  {"train-master-0 master " POD_RUNNING, "train-worker-0 worker " POD_RUNNING, "train-worker-1 worker " POD_RUNNING}
#define PT_POD_FAILED                                                                                               \
  {"train-master-0 master " POD_RUNNING, "train-worker-0 worker " POD_RUNNING, "train-worker-1 worker " POD_EXITED(3, "Error")}

#define PSA_REFUSAL                                                                                                 \
  "Error creating: pods \"train-0-x\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container "   \
  "\"main\" must not set securityContext.privileged=true)"

static const plan_case plan_cases[] = {
    /* ---- batch Job */
    {.name = "batch: created", BATCH2, NULL, .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Creating",
     .message = "creating the Job train", .actions = "apply Job train", .events = "Normal Created; Normal Queued",
     .status_has = "{\"child\":{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"train\"},\"restarts\":0}"},
    {.name = "batch: a Volcano gang gets its PodGroup", BATCH2, NULL, .scheduler = GANG_VOLCANO, .phase = "Queued",
     .state = RT_STATE_PROGRESSING, .reason = "Creating", .actions = "apply Job train; apply PodGroup train",
     .events = "Normal Created; Normal Queued"},
    {.name = "batch: no pod yet", BATCH2, NULL, .status = PREV("Queued", "Creating"), .child = "{}",
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "WaitingForPods",
     .message = "waiting for the Job to create pods (0 of 2 running)", .actions = "apply Job train", .events = ""},
    {.name = "batch: the API server refuses its pods", BATCH2, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = "{}", .refused = PSA_REFUSAL, .phase = "Pending", .state = RT_STATE_PROGRESSING, .reason = "FailedCreate",
     .message = "the Job cannot create its pods (0 of 2 running): " PSA_REFUSAL, .actions = "apply Job train",
     .events = "Warning FailedCreate"},
    {.name = "batch: pending unschedulable", BATCH2, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = JOB_ACTIVE2, .pods = {"train-0 main " POD_UNSCHEDULED(NO_NODE), "train-1 main " POD_UNSCHEDULED(NO_NODE)},
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "pod train-0 and 1 more: " NO_NODE, .actions = "apply Job train", .events = "Warning Unschedulable",
     .status_has = "{\"pods\":{\"running\":0,\"pending\":2,\"succeeded\":0,\"failed\":0},\"completions\":\"0/2\","
                   "\"roles\":{\"main\":{\"running\":0,\"pending\":2}}}"},
    {.name = "batch: still unschedulable, no second event", BATCH2, NULL, .status = PREV("Queued", "Unschedulable"),
     .child = JOB_ACTIVE2, .pods = {"train-0 main " POD_UNSCHEDULED(NO_NODE), "train-1 main " POD_UNSCHEDULED(NO_NODE)},
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable", .actions = "apply Job train",
     .events = ""},
    {.name = "batch: a missing claim is Pending", BATCH2, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = JOB_ACTIVE2, .pods = {"train-1 main " POD_UNSCHEDULED(NO_CLAIM), "train-0 main " POD_UNSCHEDULED(NO_CLAIM)},
     .phase = "Pending", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "pod train-0 and 1 more: 0/3 nodes are available: persistentvolumeclaim \"data\" not found",
     .actions = "apply Job train", .events = "Warning Unschedulable"},
    {.name = "batch: pending pulling", BATCH2, NULL, .status = PREV("Queued", "Unschedulable"), .child = JOB_ACTIVE2,
     .pods = {"train-0 main " POD_WAITING("ContainerCreating", ""),
              "train-1 main " POD_WAITING("ImagePullBackOff", "Back-off pulling image \\\"x\\\"")},
     .phase = "Pending", .state = RT_STATE_PROGRESSING, .reason = "ImagePullBackOff",
     .message = "pod train-1 and 1 more: Back-off pulling image \"x\"", .actions = "apply Job train",
     .events = "Warning ImagePullBackOff"},
    {.name = "batch: containers creating is no warning", BATCH2, NULL, .status = PREV("Queued", "Unschedulable"),
     .child = JOB_ACTIVE2, .pods = {"train-0 main " POD_WAITING("ContainerCreating", ""), "train-1 main " POD_RUNNING},
     .phase = "Pending", .state = RT_STATE_PROGRESSING, .reason = "ContainerCreating", .actions = "apply Job train",
     .events = "Normal Pending"},
    {.name = "batch: running", BATCH2, NULL, .status = PREV("Pending", "ContainerCreating"), .child = JOB_READY2,
     .pods = {"train-0 main " POD_RUNNING, "train-1 main " POD_RUNNING}, .phase = "Running", .state = RT_STATE_READY,
     .reason = "Running", .message = "2 of 2 pods running", .actions = "apply Job train", .events = "Normal Running",
     .requeue_ms = 30000,
     .status_has = "{\"pods\":{\"running\":2,\"pending\":0},\"completions\":\"0/2\",\"startTime\":\"" NOW "\","
                   "\"duration\":\"0s\"}"},
    {.name = "batch: one runs, one cannot be placed", BATCH2, NULL, .status = PREV("Running", "Running"),
     .child = "{\"active\":2,\"ready\":1}", .pods = {"train-0 main " POD_RUNNING, "train-1 main " POD_UNSCHEDULED(NO_NODE)},
     .phase = "Running", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "1 of 2 pods running; pod train-1: " NO_NODE, .actions = "apply Job train",
     .events = "Warning Unschedulable", .requeue_ms = 30000},
    {.name = "batch: succeeded", BATCH2, ",\"ttlSecondsAfterFinished\":60", .status = PREV("Running", "Running"),
     .child = "{\"succeeded\":2,\"startTime\":\"2026-11-22T07:58:20Z\",\"completionTime\":\"2026-11-22T07:59:55Z\","
              "\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}",
     .pods = {"train-0 main " POD_SUCCEEDED, "train-1 main " POD_SUCCEEDED}, .phase = "Succeeded",
     .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the Job succeeded",
     .actions = "apply Job train", .events = "Normal Succeeded", .requeue_ms = 61000,
     .status_has = "{\"pods\":{\"running\":0,\"succeeded\":2},\"completions\":\"2/2\",\"startTime\":\"2026-11-22T07:58:20Z\","
                   "\"completionTime\":\"2026-11-22T07:59:55Z\",\"duration\":\"1m35s\"}"},
    {.name = "batch: failed (OOMKilled)", "batch", "{\"main\":{}}", NULL, .status = PREV("Running", "Running"),
     .child = "{\"failed\":1,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\","
              "\"message\":\"Job has reached the specified backoff limit\"}]}",
     .pods = {"train-0 main " POD_EXITED(137, "OOMKilled")}, .phase = "Failed", .state = RT_STATE_FAILED,
     .reason = "OOMKilled", .message = "container main exited with code 137 (OOMKilled: out of memory)",
     .actions = "apply Job train", .events = "Warning Failed",
     .status_has = "{\"reason\":\"OOMKilled\",\"exitCode\":137,\"completionTime\":\"" NOW "\",\"pods\":{\"failed\":1}}"},
    {.name = "batch: deadline", BATCH2, ",\"activeDeadlineSeconds\":60", .status = PREV("Running", "Running"),
     .child = "{\"failed\":2,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":\"DeadlineExceeded\","
              "\"message\":\"Job was active longer than specified deadline\"}]}",
     .phase = "Failed", .state = RT_STATE_FAILED, .reason = "DeadlineExceeded",
     .message = "Job was active longer than specified deadline", .actions = "apply Job train",
     .events = "Warning Failed"},
    {.name = "batch: suspended", BATCH2, ",\"suspend\":true", .status = PREV("Running", "Suspending"),
     .child = "{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\",\"reason\":\"JobSuspended\"}]}",
     .phase = "Suspended", .state = RT_STATE_SUSPENDED, .reason = "Suspended", .message = "the Job is suspended",
     .actions = "apply Job train", .events = "Normal Suspended"},
    {.name = "batch: suspending", BATCH2, ",\"suspend\":true", .status = PREV("Running", "Running"), .child = JOB_READY2,
     .pods = {"train-0 main " POD_RUNNING, "train-1 main " POD_RUNNING}, .phase = "Running",
     .state = RT_STATE_PROGRESSING, .reason = "Suspending", .actions = "apply Job train", .events = "",
     .requeue_ms = 30000},
    {.name = "batch: TTL not yet", BATCH2, ",\"ttlSecondsAfterFinished\":60",
     .status = "{\"phase\":\"Succeeded\",\"completionTime\":\"2026-11-22T07:59:30Z\",\"conditions\":[{\"type\":\"Ready\","
               "\"status\":\"True\",\"reason\":\"Succeeded\",\"message\":\"2 of 2 pods succeeded\"}]}",
     .child = "{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}", .phase = "Succeeded",
     .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .actions = "", .events = "", .requeue_ms = 30000},
    {.name = "batch: TTL expired", BATCH2, ",\"ttlSecondsAfterFinished\":60",
     .status = "{\"phase\":\"Succeeded\",\"completionTime\":\"2026-11-22T07:58:30Z\",\"conditions\":[{\"type\":\"Ready\","
               "\"status\":\"True\",\"reason\":\"Succeeded\",\"message\":\"2 of 2 pods succeeded\"}]}",
     .child = "{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}", .phase = "Succeeded",
     .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .actions = "delete Job train Background",
     .events = "Normal TTLExpired"},
    {.name = "batch: a failure recorded by an older Cubit gains Stalled", BATCH2, NULL,
     .status = "{\"phase\":\"Failed\",\"reason\":\"Error\",\"message\":\"exit 1\",\"conditions\":[{\"type\":\"Ready\","
               "\"status\":\"False\",\"reason\":\"Error\",\"message\":\"Failed: exit 1\"}]}",
     .child = "{}", .phase = "Failed", .state = RT_STATE_FAILED, .reason = "Error", .message = "exit 1", .actions = "",
     .events = ""},
    {.name = "batch: debug mode replaces the Job", BATCH2, ",\"debug\":true", .status = PREV("Running", "Running"),
     .child = JOB_READY2, .debug_pod = POD_RUNNING, .phase = "Running", .state = RT_STATE_READY, .reason = "Debugging",
     .message = "kubectl exec -it -n team-a train-debug -- sh",
     .actions = "delete Job train Background; apply Pod train-debug", .events = "",
     .status_has = "{\"child\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"train-debug\"},\"pods\":{\"running\":1}}"},
    {.name = "batch: debug pod unschedulable", BATCH2, ",\"debug\":true", .status = PREV("Pending", "DebugPodStarting"),
     .debug_pod = POD_UNSCHEDULED(NO_NODE), .phase = "Pending", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "debug pod train-debug: " NO_NODE, .actions = "apply Pod train-debug", .events = "Warning Unschedulable"},
    {.name = "batch: debug mode off removes the debug pod", BATCH2, NULL, .status = PREV("Running", "Debugging"),
     .debug_pod = POD_RUNNING, .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Creating",
     .actions = "delete Pod train-debug Background; apply Job train", .events = "Normal Created; Normal Queued"},
    {.name = "batch: invalid spec", "batch", "{\"a\":{},\"b\":{}}", NULL, .phase = "Failed", .state = RT_STATE_FAILED,
     .reason = "InvalidSpec", .message = "spec.roles: a batch job has exactly one role", .actions = "",
     .events = "Warning InvalidSpec", .status_has = "{\"reason\":\"InvalidSpec\"}"},
    {.name = "batch: a fixed spec starts the job", BATCH2, NULL, .generation = 2,
     .status = "{\"phase\":\"Failed\",\"reason\":\"InvalidSpec\",\"message\":\"spec.roles: a batch job has exactly one role\"}",
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Creating", .actions = "apply Job train",
     .events = "Normal Created; Normal Queued"},
    {.name = "batch: child owned by someone else", BATCH2, NULL, .child = "{}", .child_flags = CHILD_OTHER_OWNER,
     .phase = "Pending", .state = RT_STATE_FAILED, .reason = "ChildConflict",
     .message = "a Job named train exists and belongs to something else", .actions = "",
     .events = "Warning ChildConflict", .requeue_ms = 60000},
    /* ---- an operator kind: PyTorchJob */
    {.name = "pytorch: engine missing", PYTORCH3, NULL, .engine_missing = 1, .phase = "Pending",
     .state = RT_STATE_PROGRESSING, .reason = "EngineMissing",
     .message = "the PyTorchJob API (kubeflow.org/v1 pytorchjobs) is not installed", .actions = "",
     .events = "Warning EngineMissing",
     .status_has = "{\"conditions\":[{\"type\":\"EngineAvailable\",\"status\":\"False\",\"reason\":\"EngineMissing\"}]}"},
    {.name = "pytorch: created, no pods yet", PYTORCH3, NULL, .status = PREV("Pending", "EngineMissing"),
     .child = PT_CREATED, .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "WaitingForPods",
     .actions = "apply PyTorchJob train", .events = "Normal Queued",
     .status_has = "{\"conditions\":[{\"type\":\"EngineAvailable\",\"status\":\"True\"}]}"},
    {.name = "pytorch: the operator says Running, the pods wait", PYTORCH3, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = PT_RUNNING,
     .pods = {"train-master-0 master " POD_UNSCHEDULED(NO_NODE), "train-worker-0 worker " POD_UNSCHEDULED(NO_NODE),
              "train-worker-1 worker " POD_UNSCHEDULED(NO_NODE)},
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "pod train-master-0 and 2 more: " NO_NODE, .actions = "apply PyTorchJob train",
     .events = "Warning Unschedulable", .status_has = "{\"pods\":{\"running\":0,\"pending\":3}}"},
    {.name = "pytorch: running", PYTORCH3, NULL, .status = PREV("Queued", "Unschedulable"), .child = PT_RUNNING,
     .pods = PT_PODS_RUNNING, .phase = "Running", .state = RT_STATE_READY, .reason = "Running",
     .message = "3 of 3 pods running", .actions = "apply PyTorchJob train", .events = "Normal Running",
     .requeue_ms = 30000,
     .status_has = "{\"roles\":{\"master\":{\"running\":1},\"worker\":{\"running\":2}},\"completions\":\"0/3\"}"},
    {.name = "pytorch: succeeded", PYTORCH3, NULL, .status = PREV("Running", "Running"),
     .child = "{\"conditions\":[{\"type\":\"Succeeded\",\"status\":\"True\"}],\"replicaStatuses\":{\"Master\":{\"succeeded\":1},"
              "\"Worker\":{\"succeeded\":2}},\"completionTime\":\"2026-11-22T07:59:00Z\"}",
     .phase = "Succeeded", .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the PyTorchJob succeeded",
     .actions = "apply PyTorchJob train", .events = "Normal Succeeded",
     .status_has = "{\"completions\":\"3/3\",\"completionTime\":\"2026-11-22T07:59:00Z\"}"},
    {.name = "pytorch: the workers end after the master succeeded", PYTORCH3, NULL,
     .status = "{\"phase\":\"Succeeded\",\"completionTime\":\"2026-11-22T07:59:00Z\",\"pods\":{\"running\":2},"
               "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Succeeded\",\"message\":\"the PyTorchJob succeeded\"}]}",
     .child = "{\"conditions\":[{\"type\":\"Succeeded\",\"status\":\"True\"}],\"replicaStatuses\":{\"Master\":{\"succeeded\":1},"
              "\"Worker\":{\"active\":2}}}",
     .pods = {"train-master-0 master " POD_SUCCEEDED, "train-worker-0 worker " POD_SUCCEEDED,
              "train-worker-1 worker " POD_SUCCEEDED},
     .phase = "Succeeded", .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the PyTorchJob succeeded",
     .actions = "", .events = "",
     .status_has = "{\"pods\":{\"running\":0,\"succeeded\":3},\"completions\":\"3/3\",\"completionTime\":\"2026-11-22T07:59:00Z\"}"},
    {.name = "pytorch: failed", PYTORCH3, NULL, .status = PREV("Running", "Running"), .child = PT_WORKER_FAILED,
     .pods = PT_POD_FAILED, .phase = "Failed", .state = RT_STATE_FAILED, .reason = "PyTorchJobFailed",
     .message = "pod train-worker-1 (role worker): container main exited with code 3; PyTorchJob train is failed",
     .actions = "apply PyTorchJob train", .events = "Warning Failed", .status_has = "{\"exitCode\":3}"},
    {.name = "pytorch: the operator restarts replicas", PYTORCH3, ",\"failurePolicy\":{\"restartPolicy\":\"OnFailure\"}",
     .status = PREV("Running", "Running"),
     .child = "{\"conditions\":[{\"type\":\"Restarting\",\"status\":\"True\",\"reason\":\"PyTorchJobRestarting\","
              "\"message\":\"PyTorchJob train is restarting because 1 Worker replica(s) failed.\"}]}",
     .phase = "Restarting", .state = RT_STATE_PROGRESSING, .reason = "PyTorchJobRestarting",
     .message = "the PyTorchJob restarts failed replicas: PyTorchJob train is restarting",
     .actions = "apply PyTorchJob train", .events = "Normal Restarting"},
    {.name = "pytorch: gang restart within budget", PYTORCH3, ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":2}}",
     .status = PREV("Running", "Running"), .child = PT_WORKER_FAILED, .pods = PT_POD_FAILED, .phase = "Restarting",
     .state = RT_STATE_PROGRESSING, .reason = "GangRestart",
     .message = "restarting the whole job (1 of 2): pod train-worker-1 (role worker): container main exited with code 3",
     .actions = "delete PyTorchJob train Foreground", .events = "Warning GangRestart",
     .requeue_ms = 1000, .status_has = "{\"restarts\":1,\"child\":{\"uid\":\"child-uid\"}}"},
    {.name = "pytorch: a restart under way is not counted again", PYTORCH3,
     ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":2}}",
     .status = "{\"phase\":\"Restarting\",\"restarts\":1,\"child\":{\"kind\":\"PyTorchJob\",\"name\":\"train\",\"uid\":\"child-uid\"},"
               "\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":\"GangRestart\",\"message\":\"restarting the whole job (1 of 2): x\"}]}",
     .child = PT_WORKER_FAILED, .pods = PT_POD_FAILED, .phase = "Restarting", .state = RT_STATE_PROGRESSING,
     .reason = "GangRestart", .message = "restarting the whole job (1 of 2): x",
     .actions = "delete PyTorchJob train Foreground", .events = "", .requeue_ms = 1000,
     .status_has = "{\"restarts\":1}"},
    {.name = "pytorch: the old engine object goes", PYTORCH3, ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":2}}",
     .status = "{\"phase\":\"Restarting\",\"restarts\":1,\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\","
               "\"reason\":\"GangRestart\",\"message\":\"restarting the whole job (1 of 2): x\"}]}",
     .child = PT_WORKER_FAILED, .child_flags = CHILD_DELETING, .phase = "Restarting", .state = RT_STATE_PROGRESSING,
     .reason = "GangRestart", .actions = "", .events = "", .requeue_ms = 1000},
    {.name = "pytorch: gang restart beyond budget", PYTORCH3, ",\"failurePolicy\":{\"restartGang\":{\"maxRestarts\":2}}",
     .status = "{\"phase\":\"Running\",\"restarts\":2}", .child = PT_WORKER_FAILED, .pods = PT_POD_FAILED,
     .phase = "Failed", .state = RT_STATE_FAILED, .reason = "RestartLimitExceeded",
     .message = "failed after 2 gang restarts: pod train-worker-1", .actions = "apply PyTorchJob train",
     .events = "Warning Failed", .status_has = "{\"restarts\":2,\"reason\":\"RestartLimitExceeded\"}"},
    {.name = "pytorch: suspended", PYTORCH3, ",\"suspend\":true", .status = PREV("Queued", "Suspending"),
     .child = "{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}", .phase = "Suspended",
     .state = RT_STATE_SUSPENDED, .reason = "Suspended", .actions = "apply PyTorchJob train",
     .events = "Normal Suspended"},
    {.name = "pytorch: resuming", PYTORCH3, NULL, .status = PREV("Suspended", "Suspended"),
     .child = "{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}", .phase = "Queued",
     .state = RT_STATE_PROGRESSING, .reason = "Resuming", .actions = "apply PyTorchJob train", .events = "Normal Queued"},
    {.name = "pytorch: spec changed", PYTORCH3, NULL, .generation = 2, .status = PREV("Running", "Running"),
     .child = PT_RUNNING, .child_flags = CHILD_STALE, .pods = PT_PODS_RUNNING, .phase = "Running",
     .state = RT_STATE_PROGRESSING, .reason = "Updating", .message = "applying generation 2 of the spec to the PyTorchJob",
     .actions = "apply PyTorchJob train", .events = "", .requeue_ms = 30000,
     .status_has = "{\"observedGeneration\":2}"},
    /* ---- Volcano */
    {.name = "volcano: in queue", VOLCANO2, NULL, .status = PREV("Queued", "Creating"),
     .child = "{\"state\":{\"phase\":\"Inqueue\"}}", .phase = "Queued", .state = RT_STATE_PROGRESSING,
     .reason = "WaitingForPods", .actions = "apply Job train", .events = ""},
    {.name = "volcano: Running without pods is not running", VOLCANO2, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = "{\"state\":{\"phase\":\"Running\"},\"taskStatusCount\":{\"trainer\":{\"phase\":{\"Running\":2}}}}",
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "WaitingForPods", .actions = "apply Job train",
     .events = ""},
    {.name = "volcano: running", VOLCANO2, NULL, .status = PREV("Queued", "WaitingForPods"),
     .child = "{\"state\":{\"phase\":\"Running\"}}",
     .pods = {"train-trainer-0 trainer " POD_RUNNING, "train-trainer-1 trainer " POD_RUNNING}, .phase = "Running",
     .state = RT_STATE_READY, .reason = "Running", .actions = "apply Job train", .events = "Normal Running",
     .requeue_ms = 30000},
    {.name = "volcano: completed", VOLCANO2, NULL, .status = PREV("Running", "Running"),
     .child = "{\"state\":{\"phase\":\"Completed\"},\"taskStatusCount\":{\"trainer\":{\"phase\":{\"Succeeded\":2}}}}",
     .phase = "Succeeded", .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the Job succeeded",
     .actions = "apply Job train", .events = "Normal Succeeded"},
    {.name = "volcano: aborted", VOLCANO2, NULL, .status = PREV("Running", "Running"),
     .child = "{\"state\":{\"phase\":\"Aborted\",\"reason\":\"PodFailed\",\"message\":\"a pod failed\"}}",
     .phase = "Failed", .state = RT_STATE_FAILED, .reason = "PodFailed", .message = "a pod failed",
     .actions = "apply Job train", .events = "Warning Failed"},
    {.name = "volcano: suspending deletes the Job", VOLCANO2, ",\"suspend\":true", .status = PREV("Running", "Running"),
     .child = "{\"state\":{\"phase\":\"Running\"}}",
     .pods = {"train-trainer-0 trainer " POD_RUNNING, "train-trainer-1 trainer " POD_RUNNING}, .phase = "Running",
     .state = RT_STATE_PROGRESSING, .reason = "Suspending", .actions = "delete Job train Background", .events = "",
     .requeue_ms = 1000},
    {.name = "volcano: suspended once the Job is gone", VOLCANO2, ",\"suspend\":true",
     .status = PREV("Running", "Suspending"), .phase = "Suspended", .state = RT_STATE_SUSPENDED, .reason = "Suspended",
     .actions = "", .events = "Normal Suspended"},
    {.name = "volcano: deadline not yet", VOLCANO2, ",\"activeDeadlineSeconds\":600",
     .status = PREV("Running", "Running"), .child = "{\"state\":{\"phase\":\"Running\"}}", .child_age_s = 500,
     .pods = {"train-trainer-0 trainer " POD_RUNNING, "train-trainer-1 trainer " POD_RUNNING}, .phase = "Running",
     .state = RT_STATE_READY, .reason = "Running", .actions = "apply Job train", .events = "", .requeue_ms = 30000},
    {.name = "volcano: deadline soon", VOLCANO2, ",\"activeDeadlineSeconds\":600",
     .status = PREV("Running", "Running"), .child = "{\"state\":{\"phase\":\"Running\"}}", .child_age_s = 590,
     .pods = {"train-trainer-0 trainer " POD_RUNNING, "train-trainer-1 trainer " POD_RUNNING}, .phase = "Running",
     .state = RT_STATE_READY, .reason = "Running", .actions = "apply Job train", .events = "", .requeue_ms = 10000},
    {.name = "volcano: deadline exceeded", VOLCANO2, ",\"activeDeadlineSeconds\":600",
     .status = PREV("Running", "Running"), .child = "{\"state\":{\"phase\":\"Running\"}}", .child_age_s = 700,
     .pods = {"train-trainer-0 trainer " POD_RUNNING, "train-trainer-1 trainer " POD_RUNNING}, .phase = "Failed",
     .state = RT_STATE_FAILED, .reason = "DeadlineExceeded", .message = "ran longer than activeDeadlineSeconds (600)",
     .actions = "delete Job train Background", .events = "Warning Failed",
     .status_has = "{\"completionTime\":\"" NOW "\"}"},
    /* ---- the newer engines */
    {.name = "paddle: created", "paddle", "{\"worker\":{\"replicas\":2}}", NULL, .phase = "Queued",
     .state = RT_STATE_PROGRESSING, .reason = "Creating", .message = "creating the PaddleJob train",
     .actions = "apply PaddleJob train", .events = "Normal Created; Normal Queued",
     .status_has = "{\"child\":{\"apiVersion\":\"kubeflow.org/v1\",\"kind\":\"PaddleJob\",\"name\":\"train\"}}"},
    {.name = "jax: engine missing", "jax", "{\"worker\":{}}", NULL, .engine_missing = 1, .phase = "Pending",
     .state = RT_STATE_PROGRESSING, .reason = "EngineMissing",
     .message = "the JAXJob API (kubeflow.org/v1 jaxjobs) is not installed", .actions = "",
     .events = "Warning EngineMissing"},
    {.name = "ray: engine missing", "ray", RAY_ROLES, NULL, .engine_missing = 1, .phase = "Pending",
     .state = RT_STATE_PROGRESSING, .reason = "EngineMissing",
     .message = "the RayJob API (ray.io/v1 rayjobs) is not installed; waiting for it", .actions = "",
     .events = "Warning EngineMissing",
     .status_has = "{\"conditions\":[{\"type\":\"EngineAvailable\",\"status\":\"False\",\"reason\":\"EngineMissing\"}]}"},
    {.name = "ray: the cluster initializes", "ray", RAY_ROLES, NULL, .status = PREV("Queued", "Creating"),
     .child = "{\"jobDeploymentStatus\":\"Initializing\"}",
     .pods = {"train-head-x head " POD_RUNNING, "train-workers-a workers " POD_UNSCHEDULED(NO_NODE),
              "train-workers-b workers " POD_UNSCHEDULED(NO_NODE)},
     .phase = "Queued", .state = RT_STATE_PROGRESSING, .reason = "Unschedulable",
     .message = "pod train-workers-a and 1 more: " NO_NODE, .actions = "apply RayJob train",
     .events = "Warning Unschedulable", .status_has = "{\"pods\":{\"running\":1,\"pending\":2}}"},
    {.name = "ray: running", "ray", RAY_ROLES, NULL, .status = PREV("Queued", "Unschedulable"),
     .child = "{\"jobDeploymentStatus\":\"Running\",\"jobStatus\":\"RUNNING\",\"startTime\":\"2026-11-22T07:58:20Z\"}",
     .pods = {"train-head-x head " POD_RUNNING, "train-workers-a workers " POD_RUNNING,
              "train-workers-b workers " POD_RUNNING},
     .phase = "Running", .state = RT_STATE_READY, .reason = "Running", .message = "3 of 3 pods running",
     .actions = "apply RayJob train", .events = "Normal Running", .requeue_ms = 30000,
     .status_has = "{\"roles\":{\"head\":{\"running\":1},\"workers\":{\"running\":2}},\"child\":{\"apiVersion\":"
                   "\"ray.io/v1\",\"kind\":\"RayJob\"}}"},
    {.name = "ray: succeeded", "ray", RAY_ROLES, NULL, .status = PREV("Running", "Running"),
     .child = "{\"jobDeploymentStatus\":\"Complete\",\"jobStatus\":\"SUCCEEDED\",\"startTime\":\"2026-11-22T07:58:20Z\","
              "\"endTime\":\"2026-11-22T07:59:50Z\"}",
     .phase = "Succeeded", .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the RayJob succeeded",
     .actions = "apply RayJob train", .events = "Normal Succeeded",
     .status_has = "{\"completionTime\":\"2026-11-22T07:59:50Z\"}"},
    {.name = "ray: the Ray job failed", "ray", RAY_ROLES, NULL, .status = PREV("Running", "Running"),
     .child = "{\"jobDeploymentStatus\":\"Complete\",\"jobStatus\":\"FAILED\",\"reason\":\"AppFailed\",\"message\":"
              "\"Job entrypoint command failed with exit code 1\"}",
     .phase = "Failed", .state = RT_STATE_FAILED, .reason = "AppFailed",
     .message = "Job entrypoint command failed with exit code 1", .actions = "apply RayJob train",
     .events = "Warning Failed", .status_has = "{\"reason\":\"AppFailed\"}"},
    {.name = "ray: KubeRay retries", "ray", RAY_ROLES, ",\"failurePolicy\":{\"backoffLimit\":2}",
     .status = PREV("Running", "Running"), .child = "{\"jobDeploymentStatus\":\"Retrying\",\"failed\":1}",
     .phase = "Restarting", .state = RT_STATE_PROGRESSING, .reason = "Retrying",
     .message = "the RayJob restarts failed replicas: KubeRay retries the job", .actions = "apply RayJob train",
     .events = "Normal Restarting"},
    {.name = "ray: suspended", "ray", RAY_ROLES, ",\"suspend\":true", .status = PREV("Running", "Suspending"),
     .child = "{\"jobDeploymentStatus\":\"Suspended\"}", .phase = "Suspended", .state = RT_STATE_SUSPENDED,
     .reason = "Suspended", .message = "the RayJob is suspended", .actions = "apply RayJob train",
     .events = "Normal Suspended"},
    {.name = "spark: submitted, the driver waits", "spark", SPARK_ROLES, SPARK_SPEC, .status = PREV("Queued", "Creating"),
     .child = "{\"applicationState\":{\"state\":\"SUBMITTED\"}}",
     .pods = {"train-driver driver " POD_WAITING("ImagePullBackOff", "Back-off pulling image")}, .phase = "Pending",
     .state = RT_STATE_PROGRESSING, .reason = "ImagePullBackOff", .message = "pod train-driver: Back-off pulling image",
     .actions = "apply SparkApplication train", .events = "Warning ImagePullBackOff"},
    {.name = "spark: running", "spark", SPARK_ROLES, SPARK_SPEC, .status = PREV("Pending", "ContainerCreating"),
     .child = "{\"applicationState\":{\"state\":\"RUNNING\"}}",
     .pods = {"train-driver driver " POD_RUNNING, "train-exec-1 executor " POD_RUNNING,
              "train-exec-2 executor " POD_RUNNING},
     .phase = "Running", .state = RT_STATE_READY, .reason = "Running", .message = "3 of 3 pods running",
     .actions = "apply SparkApplication train", .events = "Normal Running", .requeue_ms = 30000},
    {.name = "spark: completed", "spark", SPARK_ROLES, SPARK_SPEC, .status = PREV("Running", "Running"),
     .child = "{\"applicationState\":{\"state\":\"COMPLETED\"},\"terminationTime\":\"2026-11-22T07:59:00Z\","
              "\"executorState\":{\"train-exec-1\":\"COMPLETED\",\"train-exec-2\":\"COMPLETED\"}}",
     .phase = "Succeeded", .state = RT_STATE_SUCCEEDED, .reason = "Succeeded", .message = "the SparkApplication succeeded",
     .actions = "apply SparkApplication train", .events = "Normal Succeeded",
     .status_has = "{\"completions\":\"3/3\",\"roles\":{\"executor\":{\"succeeded\":2},\"driver\":{\"succeeded\":1}}}"},
    {.name = "spark: failed", "spark", SPARK_ROLES, SPARK_SPEC, .status = PREV("Running", "Running"),
     .child = "{\"applicationState\":{\"state\":\"FAILED\",\"errorMessage\":\"driver container failed with ExitCode: 1\"}}",
     .pods = {"train-driver driver " POD_EXITED(1, "Error")}, .phase = "Failed", .state = RT_STATE_FAILED,
     .reason = "SparkApplicationFailed",
     .message = "pod train-driver (role driver): container main exited with code 1; driver container failed with ExitCode: 1",
     .actions = "apply SparkApplication train", .events = "Warning Failed", .status_has = "{\"exitCode\":1}"},
    {.name = "spark: deadline exceeded", "spark", SPARK_ROLES, SPARK_SPEC ",\"activeDeadlineSeconds\":600",
     .status = PREV("Running", "Running"), .child = "{\"applicationState\":{\"state\":\"RUNNING\"}}", .child_age_s = 700,
     .pods = {"train-driver driver " POD_RUNNING, "train-exec-1 executor " POD_RUNNING,
              "train-exec-2 executor " POD_RUNNING},
     .phase = "Failed", .state = RT_STATE_FAILED, .reason = "DeadlineExceeded",
     .message = "ran longer than activeDeadlineSeconds (600)", .actions = "delete SparkApplication train Background",
     .events = "Warning Failed"},
    {.name = "volcano: a deadline's deletion is retried", VOLCANO2, ",\"activeDeadlineSeconds\":600",
     .status = "{\"phase\":\"Failed\",\"reason\":\"DeadlineExceeded\",\"message\":\"ran longer than activeDeadlineSeconds (600)\"}",
     .child = "{\"state\":{\"phase\":\"Running\"}}", .child_age_s = 700, .phase = "Failed", .state = RT_STATE_FAILED,
     .reason = "DeadlineExceeded", .actions = "delete Job train Background", .events = ""},
};

/* The conditions every tool reads, per state (docs/status.md); "" = absent. */
static void check_state_conditions(const json_t *status, rt_state state, const char *name) {
  static const char *want[][4] = {
      [RT_STATE_PROGRESSING] = {"False", "True", "False", ""},
      [RT_STATE_READY] = {"True", "False", "False", ""},
      [RT_STATE_SUCCEEDED] = {"True", "False", "False", ""},
      [RT_STATE_FAILED] = {"False", "False", "True", ""},
      [RT_STATE_SUSPENDED] = {"", "False", "False", "True"},
  };
  static const char *types[] = {"Ready", "Reconciling", "Stalled", "Suspended"};
  for (int i = 0; i < 4; i++) {
    const char *have = js_str(rt_condition_get(status, types[i]), "status");
    ck_assert_msg(strcmp(have ? have : "", want[state][i]) == 0, "%s: condition %s is \"%s\", want \"%s\"", name,
                  types[i], have ? have : "", want[state][i]);
  }
}

static void describe_actions(const rt_plan *p, char *out, size_t len) {
  out[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < p->nactions && used < len; i++) {
    const rt_action *a = &p->actions[i];
    int n = snprintf(out + used, len - used, "%s%s %s %s%s%s", i ? "; " : "",
                     a->kind == RT_ACT_APPLY ? "apply" : a->kind == RT_ACT_DELETE ? "delete" : "finalizer",
                     a->resource ? a->resource->kind : "", js_name(a->object), a->propagation ? " " : "",
                     a->propagation ? a->propagation : "");
    used += n > 0 ? (size_t)n : 0;
  }
}

static void describe_events(const rt_plan *p, char *out, size_t len) {
  out[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < p->nevents && used < len; i++) {
    int n = snprintf(out + used, len - used, "%s%s %s", i ? "; " : "", p->events[i].type, p->events[i].reason);
    used += n > 0 ? (size_t)n : 0;
  }
}

/* The engine object as the API server holds it after Cubit applied it:
 * the desired object, its uid, age and applied digest, and the status the
 * case gives it. */
static json_t *live_child(const plan_case *c, const json_t *tj, const tj_spec *s, const tj_env *env, int64_t now) {
  json_t *child = tj_desired_child(tj, s, env);
  char hash[33];
  js_digest(child, hash, 32);
  json_t *meta = json_object_get(child, "metadata");
  json_object_set_new(meta, "uid", json_string("child-uid"));
  char created[32];
  time_format_rfc3339(now - (c->child_age_s ? c->child_age_s : 100), created);
  json_object_set_new(meta, "creationTimestamp", json_string(created));
  json_object_set_new(js_ensure_obj(child, "metadata.annotations"), RT_APPLIED_ANNOTATION,
                      json_string(c->child_flags & CHILD_STALE ? "0123456789abcdef0123456789abcdef" : hash));
  if (c->child_flags & CHILD_OTHER_OWNER)
    json_object_set_new(meta, "ownerReferences", json_pack("[{s:s, s:s, s:s, s:b}]", "kind", "Thing", "name", "train",
                                                           "uid", "someone-else", "controller", 1));
  if (c->child_flags & CHILD_DELETING) json_object_set_new(meta, "deletionTimestamp", json_string(NOW));
  json_error_t e;
  json_t *status = json_loads(c->child, 0, &e);
  ck_assert_msg(status != NULL, "%s: child status: %s", c->name, e.text);
  json_object_set_new(child, "status", status);
  return child;
}

static json_t *debug_pod_of(const plan_case *c, const json_t *tj) {
  json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                          "name", "train-debug", "namespace", "team-a", "uid", "debug-uid", "labels", TJ_LABEL, "train",
                          TJ_ROLE_LABEL, "main");
  rt_set_controller_ref(pod, tj);
  json_t *status = json_loads(c->debug_pod, 0, NULL);
  ck_assert_ptr_nonnull(status);
  json_object_set_new(pod, "status", status);
  return pod;
}

START_TEST(plan_table) {
  const plan_case *c = &plan_cases[_i];
  int64_t now = 0;
  ck_assert_int_eq(time_parse_rfc3339(NOW, &now), 0);
  json_t *tj = tj_object(c->framework, c->roles, c->extra);
  json_object_set_new(json_object_get(tj, "metadata"), "generation", json_integer(c->generation ? c->generation : 1));
  if (c->status) {
    json_t *st = json_loads(c->status, 0, NULL);
    ck_assert_msg(st != NULL, "%s: status JSON", c->name);
    json_object_set_new(tj, "status", st);
  }
  tj_spec s;
  char err[256] = "";
  int valid = tj_spec_parse(tj, &s, err, sizeof(err)) == 0;
  tj_observed in = {.tj = tj, .spec = valid ? &s : NULL, .spec_error = err, .now = now};
  in.env.gang.scheduler = c->scheduler;
  in.env.project = "team-a";
  in.engine_available = !c->engine_missing;
  json_t *child = c->child && valid ? live_child(c, tj, &s, &in.env, now) : NULL;
  in.child = child;
  json_t *pods[6] = {NULL};
  size_t n = 0;
  for (; n < 4 && c->pods[n]; n++) pods[n] = make_pod(c->pods[n], "child-uid");
  json_t *debug = c->debug_pod ? debug_pod_of(c, tj) : NULL;
  if (debug) pods[n++] = json_incref(debug); /* it carries the job's label too */
  in.debug_pod = debug;
  in.pods = (const json_t *const *)pods;
  in.npods = n;
  json_t *refusal = c->refused ? json_pack("{s:s, s:s}", "reason", "FailedCreate", "message", c->refused) : NULL;
  in.create_refused = refusal;

  rt_plan plan;
  rt_plan_init(&plan);
  tj_plan(&in, &plan);

  const json_t *st = plan.status;
  ck_assert_msg(st != NULL, "%s: no status", c->name);
  ck_assert_msg(strcmp(js_str(st, "phase"), c->phase) == 0, "%s: phase %s, want %s", c->name, js_str(st, "phase"),
                c->phase);
  ck_assert_msg(rt_status_state(st) == c->state, "%s: state %d, want %d", c->name, rt_status_state(st), c->state);
  check_state_conditions(st, c->state, c->name);
  const json_t *reconciling = rt_condition_get(st, "Reconciling");
  ck_assert_msg(strcmp(js_str(reconciling, "reason"), c->reason) == 0, "%s: reason %s, want %s", c->name,
                js_str(reconciling, "reason"), c->reason);
  if (c->message)
    ck_assert_msg(strstr(js_str(reconciling, "message"), c->message) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  c->name, js_str(reconciling, "message"), c->message);
  ck_assert_int_eq(js_int(st, "observedGeneration", -1), c->generation ? c->generation : 1);
  ck_assert_msg(json_object_get(st, "replicas") == NULL, "%s: replicas is gone", c->name);
  char got[1024];
  describe_actions(&plan, got, sizeof(got));
  ck_assert_msg(strcmp(got, c->actions) == 0, "%s: actions \"%s\", want \"%s\"", c->name, got, c->actions);
  describe_events(&plan, got, sizeof(got));
  ck_assert_msg(strcmp(got, c->events) == 0, "%s: events \"%s\", want \"%s\"", c->name, got, c->events);
  ck_assert_msg(plan.requeue_after_ms == c->requeue_ms, "%s: requeue %lld, want %lld", c->name,
                (long long)plan.requeue_after_ms, (long long)c->requeue_ms);
  if (c->status_has) {
    json_t *want = json_loads(c->status_has, 0, NULL);
    ck_assert_msg(want != NULL, "%s: status_has JSON", c->name);
    /* Conditions are a list: each wanted one is found by type. */
    json_t *conds = json_object_get(want, "conditions");
    size_t i;
    json_t *wc;
    json_array_foreach(conds, i, wc) {
      const json_t *have = rt_condition_get(st, js_str(wc, "type"));
      ck_assert_msg(rt_json_subset(wc, have), "%s: condition %s differs: %s", c->name, js_str(wc, "type"),
                    js_dump(have));
    }
    json_object_del(want, "conditions");
    char *dump = json_dumps(st, JSON_SORT_KEYS);
    ck_assert_msg(rt_json_subset(want, st), "%s: status %s lacks %s", c->name, dump, c->status_has);
    free(dump);
    json_decref(want);
  }
  /* The plan is pure: the same input decides the same. */
  rt_plan again;
  rt_plan_init(&again);
  tj_plan(&in, &again);
  ck_assert_msg(json_equal(plan.status, again.status), "%s: not deterministic", c->name);
  rt_plan_free(&again);

  rt_plan_free(&plan);
  for (size_t i = 0; i < n; i++) json_decref(pods[i]);
  json_decref(refusal);
  json_decref(debug);
  json_decref(child);
  json_decref(tj);
}
END_TEST


/* ------------------------------------------------------------ placement */

/* One cluster of the project: "name ready serves cpu_milli memory_bytes
 * gpu_milli" and the message of a cluster not ready. */
typedef struct place_cluster {
  const char *name;
  int ready, serves;
  int64_t cpu, mem, gpu;
  const char *message;
  placement_node nodes[3]; /* its nodes' free resources, when known */
  size_t nnodes;
  const char *quota; /* placement_view.quota */
} place_cluster;

enum { PLACED_FINALIZER = 1, PLACED_DELETING = 2, PLACED_CHILD = 4, PLACED_PODS_RUN = 8, ABANDONED_CHILD = 16 };

typedef struct place_case {
  const char *name;
  const char *extra;      /* added to the spec */
  const char *status;     /* the previous status, or NULL */
  place_cluster clusters[3];
  int flags;
  int deleted_ago_s;      /* PLACED_DELETING: how long ago */
  /* expected */
  const char *phase;      /* NULL: no status written */
  const char *reason;     /* Reconciling's reason (with phase) */
  const char *message;    /* a part of it */
  const char *cluster;    /* status.cluster, "" = unset */
  const char *reachable;  /* ClusterReachable's status, "" = unset */
  const char *actions;
  const char *events;
  int64_t requeue_ms;
  const char *abandoned; /* status.abandonedClusters wanted, as JSON; NULL = unset */
  const char *member_events; /* the member's Warning Events about the children, a JSON array */
  gang_scheduler member_gang; /* the member Cluster's spec.gangScheduler */
  const char *marks;          /* the gang marks of the applied Job's pod template (template_marks) */
} place_case;

#define A100x2 "{\"main\":{\"replicas\":2,\"resources\":{\"cpu\":\"2\",\"memory\":\"1Gi\",\"gpu\":\"1(A100)\"}}}"
#define PLACED(cluster, phase, reason, reachable) PLACED_WITH("", cluster, phase, reason, reachable)
/* 'with': more fields of the status, each followed by a comma. */
#define PLACED_WITH(with, cluster, phase, reason, reachable)                                                        \
  "{" with "\"cluster\":\"" cluster "\",\"phase\":\"" phase "\",\"observedGeneration\":1,\"conditions\":["                  \
  "{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":\"" reason "\",\"message\":\"before\","                   \
  "\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"},{\"type\":\"ClusterReachable\",\"status\":\"" reachable "\","     \
  "\"reason\":\"x\",\"message\":\"x\",\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"}]}"
/* The member's Job could not make a pod, and the status that remembers it was relayed. */
#define QUOTA_REFUSED                                                                                               \
  "[{\"metadata\":{\"name\":\"train.1\",\"namespace\":\"team-a\"},\"type\":\"Warning\",\"reason\":\"FailedCreate\","       \
  "\"message\":\"exceeded quota\",\"involvedObject\":{\"kind\":\"Job\",\"name\":\"train\",\"uid\":\"child-uid\"},"     \
  "\"lastTimestamp\":\"2026-11-22T07:59:00Z\"}]"
#define QUOTA_WARNED                                                                                                \
  "\"memberWarnings\":[{\"object\":\"Job/train\",\"reason\":\"FailedCreate\",\"message\":\"exceeded quota\"}]"
#define RESCHEDULE ",\"placement\":{\"rescheduleOnClusterLoss\":true}"
/* Placed on east, never ran; east unreachable since 07:00 (an hour before NOW). */
#define NEVER_RAN_AWAY PLACED("east", "Queued", "Creating", "False")
#define RAN_AWAY                                                                                                    \
  "{\"cluster\":\"east\",\"phase\":\"Running\",\"startTime\":\"2026-11-22T06:00:00Z\",\"observedGeneration\":1,"     \
  "\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"False\",\"reason\":\"Running\",\"message\":\"before\","      \
  "\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"},{\"type\":\"ClusterReachable\",\"status\":\"False\",\"reason\":\"x\","   \
  "\"message\":\"x\",\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"}]}"
#define REPLACED                                                                                                    \
  "{\"cluster\":\"west\",\"abandonedClusters\":[\"east\"],\"phase\":\"Queued\",\"observedGeneration\":1,"             \
  "\"conditions\":[{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":\"Placed\",\"message\":\"before\","        \
  "\"lastTransitionTime\":\"2026-11-22T07:00:00Z\"}]}"
/* Designated: clang's -Wmissing-field-initializers counts a positional list cut short. */
#define ROOMY(n) {.name = n, .ready = 1, .serves = 1, .cpu = 64000, .mem = 1LL << 36, .gpu = 8000}
#define GPUS(n, g) {.name = n, .ready = 1, .serves = 1, .cpu = 64000, .mem = 1LL << 36, .gpu = g}
#define DOWN(n)                                                                                                   \
  {.name = n, .serves = 1, .cpu = 64000, .mem = 1LL << 36, .gpu = 8000,                                           \
   .message = "cannot reach the API server https://127.0.0.1:1: refused"}
/* The project's quota in cluster n leaves g thousandths of a card (the gather held the view to it). */
#define QUOTA_GPUS(n, g)                                                                                          \
  {.name = n, .ready = 1, .serves = 1, .cpu = 64000, .mem = 1LL << 36, .gpu = g,                                   \
   .quota = "project team-a's quota in cluster " n ": gpu used 3 of 4"}

static const place_case place_cases[] = {
    {.name = "Ordered: the first cluster with room", .clusters = {GPUS("local", 1000), ROOMY("east"), ROOMY("west")},
     .phase = "Queued", .reason = "Placed", .message = "placed on cluster east (policy Ordered)", .cluster = "east",
     .reachable = "", .actions = "", .events = "Normal Placed"},
    {.name = "Ordered: the project's order wins over more room", .clusters = {GPUS("east", 2000), GPUS("west", 8000)},
     .phase = "Queued", .reason = "Placed", .cluster = "east", .reachable = "", .actions = "", .events = "Normal Placed"},
    {.name = "MostFreeGPUs", .extra = ",\"placement\":{\"policy\":\"MostFreeGPUs\"}",
     .clusters = {GPUS("east", 2000), GPUS("west", 6000), GPUS("local", 500)}, .phase = "Queued", .reason = "Placed",
     .message = "placed on cluster west (policy MostFreeGPUs)", .cluster = "west", .reachable = "", .actions = "",
     .events = "Normal Placed"},
    {.name = "a cluster not Ready or without the engine is no candidate",
     .clusters = {DOWN("east"), {.name = "west", .ready = 1, .cpu = 64000, .mem = 1LL << 36, .gpu = 8000}, ROOMY("local")}, .phase = "Queued",
     .reason = "Placed", .cluster = "local", .reachable = "", .actions = "", .events = "Normal Placed"},
    {.name = "no room: Queued, each cluster's lack named", .clusters = {GPUS("local", 1000), DOWN("east")},
     .phase = "Queued", .reason = "NoClusterFits",
     .message = "has room for the whole gang (cpu 4000m, memory 2147483648 bytes, 2 A100 GPUs): local: 1 free A100 "
                "GPUs, 2 needed; east: not Ready",
     .cluster = "", .reachable = "", .actions = "", .events = "Warning NoClusterFits", .requeue_ms = 15000},
    {.name = "room in sum but not node by node: the next cluster",
     .clusters = {{.name = "east", .ready = 1, .serves = 1, .cpu = 4000, .mem = 1LL << 32, .gpu = 2000,
                   .nodes = {{3000, 1LL << 31, 1000}, {1000, 1LL << 31, 1000}}, .nnodes = 2},
                  {.name = "west", .ready = 1, .serves = 1, .cpu = 4000, .mem = 1LL << 32, .gpu = 2000,
                   .nodes = {{2000, 1LL << 31, 1000}, {2000, 1LL << 31, 1000}}, .nnodes = 2}},
     .phase = "Queued", .reason = "Placed", .message = "placed on cluster west (policy Ordered)", .cluster = "west",
     .reachable = "", .actions = "", .events = "Normal Placed"},
    {.name = "room in sum on no cluster's nodes: Queued, said so",
     .clusters = {{.name = "east", .ready = 1, .serves = 1, .cpu = 65000, .mem = 1LL << 36, .gpu = 2000,
                   .nodes = {{64000, 1LL << 35, 1000}, {1000, 1LL << 35, 1000}}, .nnodes = 2}},
     .phase = "Queued", .reason = "NoClusterFits",
     .message = "east: enough free in sum, but no node has room for every pod", .cluster = "", .reachable = "",
     .actions = "", .events = "Warning NoClusterFits", .requeue_ms = 15000},
    {.name = "a cluster's quota holds its room: skipped, the quota named", .clusters = {QUOTA_GPUS("east", 1000),
     GPUS("local", 8000)}, .phase = "Queued", .reason = "Placed", .message = "placed on cluster local (policy Ordered)",
     .cluster = "local", .reachable = "", .actions = "", .events = "Normal Placed"},
    {.name = "no room under the quota: Queued, the quota named", .clusters = {QUOTA_GPUS("east", 1000)},
     .phase = "Queued", .reason = "NoClusterFits",
     .message = "east: 1 free A100 GPUs, 2 needed (project team-a's quota in cluster east: gpu used 3 of 4)",
     .cluster = "", .reachable = "", .actions = "", .events = "Warning NoClusterFits", .requeue_ms = 15000},
    {.name = "no room, still: no second event", .status = PREV("Queued", "NoClusterFits"),
     .clusters = {GPUS("local", 1000)}, .phase = "Queued", .reason = "NoClusterFits", .cluster = "", .reachable = "",
     .actions = "", .events = "", .requeue_ms = 15000},
    {.name = "spec.cluster: placed there whatever its room", .extra = ",\"cluster\":\"east\"",
     .clusters = {ROOMY("local"), GPUS("east", 0)}, .phase = "Queued", .reason = "Placed",
     .message = "placed on cluster east (spec.cluster)", .cluster = "east", .reachable = "", .actions = "",
     .events = "Normal Placed"},
    {.name = "spec.cluster not the project's", .extra = ",\"cluster\":\"west\"", .clusters = {ROOMY("east")},
     .phase = "Pending", .reason = "ClusterNotAllowed", .message = "spec.cluster: west is not one of team-a's clusters",
     .cluster = "", .reachable = "", .actions = "", .events = "Warning ClusterNotAllowed"},
    {.name = "placed: never moved, the finalizer first and alone", .status = PLACED("east", "Queued", "Placed", "True"),
     .extra = ",\"placement\":{\"policy\":\"MostFreeGPUs\"}", .clusters = {GPUS("east", 2000), GPUS("west", 8000)},
     .phase = NULL, .actions = "finalizer+ cubit.dev/remote-children", .events = ""},
    {.name = "placed on a member: the child there, no ownerReference",
     .status = PLACED("east", "Queued", "Placed", "True"), .clusters = {GPUS("east", 2000), GPUS("west", 8000)},
     .flags = PLACED_FINALIZER, .phase = "Queued", .reason = "Creating", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east", .events = "Normal Created"},
    /* The member's gang scheduler (its Cluster's spec.gangScheduler): the marks the pod
     * webhook gives a gang's pods in the hub are in the template, since none runs there. */
    {.name = "placed on a member without a gang scheduler: no marks, no PodGroup",
     .status = PLACED("east", "Queued", "Placed", "True"), .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER,
     .phase = "Queued", .reason = "Creating", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east", .events = "Normal Created",
     .marks = "scheduler=- group=- task=- pod-group=- queue=-"},
    {.name = "placed on a Volcano member: the marks in the Job's template, its PodGroup made there",
     .status = PLACED("east", "Queued", "Placed", "True"), .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER,
     .member_gang = GANG_VOLCANO, .phase = "Queued", .reason = "Creating", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east; apply PodGroup train in east", .events = "Normal Created",
     .marks = "scheduler=volcano group=train task=main pod-group=- queue=-"},
    {.name = "a Volcano member, the job running: the same marks and PodGroup, nothing new",
     .status = PLACED("east", "Running", "Running", "True"), .clusters = {ROOMY("east")},
     .flags = PLACED_FINALIZER | PLACED_CHILD | PLACED_PODS_RUN, .member_gang = GANG_VOLCANO, .phase = "Running",
     .reason = "Running", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east; apply PodGroup train in east", .events = "", .requeue_ms = 30000,
     .marks = "scheduler=volcano group=train task=main pod-group=- queue=-"},
    {.name = "placed on a coscheduling member: the pod-group label, no PodGroup of Volcano's",
     .status = PLACED("east", "Queued", "Placed", "True"), .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER,
     .member_gang = GANG_COSCHEDULING, .phase = "Queued", .reason = "Creating", .cluster = "east",
     .reachable = "True", .actions = "apply Job train in east", .events = "Normal Created",
     .marks = "scheduler=- group=- task=- pod-group=train queue=-"},
    {.name = "placed on a kueue member: the queue label, the project's by default",
     .status = PLACED("east", "Queued", "Placed", "True"), .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER,
     .member_gang = GANG_KUEUE, .phase = "Queued", .reason = "Creating", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east", .events = "Normal Created",
     .marks = "scheduler=- group=- task=- pod-group=- queue=team-a"},
    {.name = "placed on a member: its pods run", .status = PLACED("east", "Queued", "Creating", "True"),
     .clusters = {GPUS("east", 2000)}, .flags = PLACED_FINALIZER | PLACED_CHILD | PLACED_PODS_RUN, .phase = "Running",
     .reason = "Running", .message = "2 of 2 pods running", .cluster = "east", .reachable = "True",
     .actions = "apply Job train in east", .events = "Normal Running", .requeue_ms = 30000},
    {.name = "a member's Warning about the engine object: relayed onto the job once",
     .status = PLACED("east", "Running", "Running", "True"), .clusters = {ROOMY("east")},
     .flags = PLACED_FINALIZER | PLACED_CHILD | PLACED_PODS_RUN, .member_events = QUOTA_REFUSED, .phase = "Running",
     .reason = "Running", .cluster = "east", .reachable = "True", .actions = "apply Job train in east",
     .events = "Warning FailedCreate", .requeue_ms = 30000},
    {.name = "the same Warning again (a requeue, a restarted manager): not relayed twice",
     .status = PLACED_WITH(QUOTA_WARNED ",", "east", "Running", "Running", "True"), .clusters = {ROOMY("east")},
     .flags = PLACED_FINALIZER | PLACED_CHILD | PLACED_PODS_RUN, .member_events = QUOTA_REFUSED, .phase = "Running",
     .reason = "Running", .cluster = "east", .reachable = "True", .actions = "apply Job train in east",
     .events = "", .requeue_ms = 30000},
    {.name = "the member away: its Events as last seen, nothing relayed",
     .status = PLACED("east", "Running", "Running", "False"), .clusters = {DOWN("east")},
     .flags = PLACED_FINALIZER | PLACED_CHILD, .member_events = QUOTA_REFUSED, .phase = "Running", .reason = "Running",
     .cluster = "east", .reachable = "False", .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "the member goes away: phase kept, ClusterReachable=False once",
     .status = PLACED("east", "Running", "Running", "True"), .clusters = {DOWN("east")},
     .flags = PLACED_FINALIZER | PLACED_CHILD, .phase = "Running", .reason = "Running", .message = "before",
     .cluster = "east", .reachable = "False", .actions = "", .events = "Warning ClusterUnreachable",
     .requeue_ms = 5000},
    {.name = "the member still away: no second event", .status = PLACED("east", "Running", "Running", "False"),
     .clusters = {DOWN("east")}, .flags = PLACED_FINALIZER, .phase = "Running", .reason = "Running",
     .cluster = "east", .reachable = "False", .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "the member back: the same child, no duplicate", .status = PLACED("east", "Running", "Running", "False"),
     .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER | PLACED_CHILD | PLACED_PODS_RUN, .phase = "Running",
     .reason = "Running", .cluster = "east", .reachable = "True", .actions = "apply Job train in east",
     .events = "Normal ClusterReachable", .requeue_ms = 30000},
    {.name = "deleted: the member's child goes first", .status = PLACED("east", "Running", "Running", "True"),
     .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER | PLACED_DELETING | PLACED_CHILD, .phase = NULL,
     .actions = "delete Job train in east Background", .events = "", .requeue_ms = 1000},
    {.name = "deleted: the child gone, the finalizer goes", .status = PLACED("east", "Running", "Running", "True"),
     .clusters = {ROOMY("east")}, .flags = PLACED_FINALIZER | PLACED_DELETING, .phase = NULL,
     .actions = "finalizer- cubit.dev/remote-children", .events = ""},
    {.name = "deleted on a Volcano member, the Job gone: its PodGroup there goes with the finalizer",
     .status = PLACED("east", "Running", "Running", "True"), .clusters = {ROOMY("east")},
     .flags = PLACED_FINALIZER | PLACED_DELETING, .member_gang = GANG_VOLCANO, .phase = NULL,
     .actions = "delete PodGroup train in east Background; finalizer- cubit.dev/remote-children", .events = ""},
    {.name = "deleted on a Volcano member, the Job still there: the PodGroup waits for it",
     .status = PLACED("east", "Running", "Running", "True"), .clusters = {ROOMY("east")},
     .flags = PLACED_FINALIZER | PLACED_DELETING | PLACED_CHILD, .member_gang = GANG_VOLCANO, .phase = NULL,
     .actions = "delete Job train in east Background", .events = "", .requeue_ms = 1000},
    {.name = "deleted, the member away: waits", .status = PLACED("east", "Running", "Running", "False"),
     .clusters = {DOWN("east")}, .flags = PLACED_FINALIZER | PLACED_DELETING, .deleted_ago_s = 60, .phase = NULL,
     .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "deleted, the member away too long: the finalizer is dropped with a Warning",
     .status = PLACED("east", "Running", "Running", "False"), .clusters = {DOWN("east")},
     .flags = PLACED_FINALIZER | PLACED_DELETING, .deleted_ago_s = 301, .phase = NULL,
     .actions = "finalizer- cubit.dev/remote-children", .events = "Warning RemoteCleanupAbandoned"},
    /* spec.placement.rescheduleOnClusterLoss */
    {.name = "rescheduled: the member away past the grace, no pod ever ran", .extra = RESCHEDULE,
     .status = NEVER_RAN_AWAY, .clusters = {DOWN("east"), ROOMY("west")}, .flags = PLACED_FINALIZER,
     .phase = "Queued", .reason = "Placed",
     .message = "re-placed on cluster west: cluster east unreachable for 3600 s before any pod ran", .cluster = "west",
     .reachable = "", .actions = "", .events = "Warning Rescheduled", .abandoned = "[\"east\"]"},
    {.name = "not rescheduled once a pod ran", .extra = RESCHEDULE, .status = RAN_AWAY,
     .clusters = {DOWN("east"), ROOMY("west")}, .flags = PLACED_FINALIZER, .phase = "Running", .reason = "Running",
     .cluster = "east", .reachable = "False", .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "not rescheduled within the grace",
     .extra = ",\"placement\":{\"rescheduleOnClusterLoss\":true,\"clusterLossGraceSeconds\":3660}",
     .status = NEVER_RAN_AWAY, .clusters = {DOWN("east"), ROOMY("west")}, .flags = PLACED_FINALIZER, .phase = "Queued",
     .reason = "Creating", .cluster = "east", .reachable = "False", .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "not rescheduled when no other cluster has room", .extra = RESCHEDULE, .status = NEVER_RAN_AWAY,
     .clusters = {DOWN("east"), GPUS("west", 0)}, .flags = PLACED_FINALIZER, .phase = "Queued", .reason = "Creating",
     .cluster = "east", .reachable = "False", .actions = "", .events = "", .requeue_ms = 5000},
    {.name = "the abandoned member back: its child there goes, one run", .extra = RESCHEDULE, .status = REPLACED,
     .clusters = {ROOMY("east"), ROOMY("west")}, .flags = PLACED_FINALIZER | ABANDONED_CHILD, .phase = "Queued",
     .reason = "Creating", .cluster = "west", .reachable = "True",
     .actions = "apply Job train in west; delete Job train in east Background", .events = "Normal Created",
     .requeue_ms = 1000, .abandoned = "[\"east\"]"},
    {.name = "deleted after a reschedule: both members cleaned before the finalizer goes", .status = REPLACED,
     .clusters = {ROOMY("east"), ROOMY("west")}, .flags = PLACED_FINALIZER | PLACED_DELETING | ABANDONED_CHILD,
     .phase = NULL, .actions = "delete Job train in east Background", .events = "", .requeue_ms = 1000},
};

static int same(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static void describe_place_actions(const rt_plan *p, char *out, size_t len) {
  out[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < p->nactions && used < len; i++) {
    const rt_action *a = &p->actions[i];
    int n;
    if (a->kind == RT_ACT_ADD_FINALIZER || a->kind == RT_ACT_REMOVE_FINALIZER)
      n = snprintf(out + used, len - used, "%sfinalizer%c %s", i ? "; " : "", a->kind == RT_ACT_ADD_FINALIZER ? '+' : '-',
                   a->finalizer);
    else
      n = snprintf(out + used, len - used, "%s%s %s %s%s%s%s%s", i ? "; " : "", a->kind == RT_ACT_APPLY ? "apply" : "delete",
                   a->resource->kind, js_name(a->object), a->cluster ? " in " : "", a->cluster ? a->cluster : "",
                   a->propagation ? " " : "", a->propagation ? a->propagation : "");
    used += n > 0 ? (size_t)n : 0;
  }
}

/* The job's engine object in a member, as Cubit applied it there. */
static json_t *member_child(const json_t *tj, const tj_spec *s, const tj_env *env, int pods_run) {
  json_t *child = tj_desired_child(tj, s, env);
  json_t *meta = json_object_get(child, "metadata");
  json_object_del(meta, "ownerReferences");
  json_object_set_new(js_ensure_obj(child, "metadata.labels"), TJ_LABEL, json_string("train"));
  json_object_set_new(js_ensure_obj(child, "metadata.labels"), PLACEMENT_OWNER_UID_LABEL, json_string("tj-uid"));
  char hash[33];
  js_digest(child, hash, 32);
  json_object_set_new(meta, "uid", json_string("child-uid"));
  json_object_set_new(js_ensure_obj(child, "metadata.annotations"), RT_APPLIED_ANNOTATION, json_string(hash));
  json_object_set_new(child, "status", json_loads(pods_run ? JOB_READY2 : "{}", 0, NULL));
  return child;
}

/* The gang marks a pod template carries, as "scheduler=volcano group=train
 * task=main pod-group=- queue=-" ("-": none). */
static void template_marks(const json_t *tmpl, char *out, size_t len) {
  const json_t *ann = js_get(tmpl, "metadata.annotations"), *labels = js_get(tmpl, "metadata.labels");
  const char *v[5] = {js_str(tmpl, "spec.schedulerName"),
                      json_string_value(json_object_get(ann, "scheduling.k8s.io/group-name")),
                      json_string_value(json_object_get(ann, "volcano.sh/task-spec")),
                      json_string_value(json_object_get(labels, "scheduling.x-k8s.io/pod-group")),
                      json_string_value(json_object_get(labels, "kueue.x-k8s.io/queue-name"))};
  snprintf(out, len, "scheduler=%s group=%s task=%s pod-group=%s queue=%s", v[0] ? v[0] : "-", v[1] ? v[1] : "-",
           v[2] ? v[2] : "-", v[3] ? v[3] : "-", v[4] ? v[4] : "-");
}

START_TEST(place_table) {
  const place_case *c = &place_cases[_i];
  int64_t now = 0;
  ck_assert_int_eq(time_parse_rfc3339(NOW, &now), 0);
  json_t *tj = tj_object("batch", A100x2, c->extra);
  if (c->status) json_object_set_new(tj, "status", json_loads(c->status, 0, NULL));
  json_t *meta = json_object_get(tj, "metadata");
  if (c->flags & PLACED_FINALIZER) json_object_set_new(meta, "finalizers", json_pack("[s]", PLACEMENT_REMOTE_FINALIZER));
  if (c->flags & PLACED_DELETING) {
    char when[32];
    time_format_rfc3339(now - c->deleted_ago_s, when);
    json_object_set_new(meta, "deletionTimestamp", json_string(when));
  }
  tj_spec s;
  char err[256] = "";
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  placement_view views[3];
  size_t nviews = 0;
  for (; nviews < 3 && c->clusters[nviews].name; nviews++) {
    const place_cluster *pc = &c->clusters[nviews];
    views[nviews] = (placement_view){pc->name, pc->ready, pc->message, pc->serves, pc->cpu, pc->mem, pc->gpu,
                                     pc->nnodes ? pc->nodes : NULL, pc->nnodes, pc->quota};
  }
  tj_observed in = {.tj = tj, .spec = &s, .spec_error = err, .now = now, .clusters = views, .nclusters = nviews,
                    .project_name = "team-a", .engine_available = 1};
  in.env.project = "team-a";
  in.env.in_member = 1;
  in.env.gang.scheduler = c->member_gang;
  json_t *child = c->flags & PLACED_CHILD ? member_child(tj, &s, &in.env, c->flags & PLACED_PODS_RUN) : NULL;
  in.child = child;
  const char *abandoned[2] = {NULL};
  json_t *abandoned_child[2] = {NULL};
  size_t ai;
  json_t *an;
  json_array_foreach(js_get(tj, "status.abandonedClusters"), ai, an) {
    if (ai == 2) break;
    abandoned[ai] = json_string_value(an);
    if (c->flags & ABANDONED_CHILD) abandoned_child[ai] = member_child(tj, &s, &in.env, 0);
    in.nabandoned = ai + 1;
  }
  in.abandoned = abandoned;
  in.abandoned_child = (const json_t *const *)abandoned_child;
  json_t *pods[2] = {NULL};
  if (c->flags & PLACED_PODS_RUN) {
    pods[0] = make_pod("train-0 main " POD_RUNNING, "child-uid");
    pods[1] = make_pod("train-1 main " POD_RUNNING, "child-uid");
    in.pods = (const json_t *const *)pods;
    in.npods = 2;
  }
  json_t *member_events = c->member_events ? json_loads(c->member_events, 0, NULL) : json_array();
  json_t *mev[4] = {NULL};
  for (size_t i = 0; i < json_array_size(member_events) && i < 4; i++) mev[in.nmember_events++] = json_array_get(member_events, i);
  in.member_events = mev;
  rt_plan plan;
  rt_plan_init(&plan);
  tj_plan(&in, &plan);
  const json_t *st = plan.status;
  if (c->member_events && c->phase && strcmp(c->reachable, "True") == 0) {
    /* What was relayed is remembered, whether relayed now or before. */
    const json_t *w = json_array_get(json_object_get(st, "memberWarnings"), 0);
    ck_assert_msg(same(js_str(w, "reason"), "FailedCreate") && same(js_str(w, "object"), "Job/train"),
                  "%s: memberWarnings %s", c->name, js_dump(json_object_get(st, "memberWarnings")));
  }
  for (size_t i = 0; i < plan.nevents; i++)
    if (strcmp(plan.events[i].reason, "FailedCreate") == 0)
      ck_assert_str_eq(plan.events[i].message, "cluster east: Job train: exceeded quota");
  if (c->phase == NULL) {
    ck_assert_msg(st == NULL, "%s: a status is written: %s", c->name, js_dump(st));
  } else {
    ck_assert_msg(st != NULL, "%s: no status", c->name);
    ck_assert_msg(strcmp(js_str(st, "phase"), c->phase) == 0, "%s: phase %s, want %s", c->name, js_str(st, "phase"),
                  c->phase);
    const json_t *rec = rt_condition_get(st, "Reconciling");
    ck_assert_msg(same(js_str(rec, "reason"), c->reason), "%s: reason %s, want %s", c->name, js_str(rec, "reason"),
                  c->reason);
    if (c->message)
      ck_assert_msg(strstr(js_str(rec, "message"), c->message) != NULL, "%s: message \"%s\" lacks \"%s\"", c->name,
                    js_str(rec, "message"), c->message);
    const char *cluster = js_str(st, "cluster");
    ck_assert_msg(same(cluster ? cluster : "", c->cluster), "%s: status.cluster %s, want %s", c->name, cluster,
                  c->cluster);
    const char *reach = js_str(rt_condition_get(st, "ClusterReachable"), "status");
    if (!c->status || c->reachable[0] == '\0')
      ck_assert_msg(same(reach ? reach : "", c->reachable), "%s: ClusterReachable %s, want %s", c->name, reach,
                    c->reachable);
    else
      ck_assert_msg(same(reach, c->reachable), "%s: ClusterReachable %s, want %s", c->name, reach, c->reachable);
  }
  char got[1024];
  describe_place_actions(&plan, got, sizeof(got));
  ck_assert_msg(strcmp(got, c->actions) == 0, "%s: actions \"%s\", want \"%s\"", c->name, got, c->actions);
  for (size_t i = 0; i < plan.nactions; i++) {
    const rt_action *a = &plan.actions[i];
    if (a->kind != RT_ACT_APPLY) continue;
    /* In a member: labels back to the hub object, no ownerReference. */
    ck_assert_ptr_null(js_get(a->object, "metadata.ownerReferences"));
    ck_assert_str_eq(json_string_value(json_object_get(js_get(a->object, "metadata.labels"), PLACEMENT_OWNER_UID_LABEL)),
                     "tj-uid");
    ck_assert_str_eq(json_string_value(json_object_get(js_get(a->object, "metadata.labels"), TJ_LABEL)), "train");
    if (c->marks && strcmp(a->resource->kind, "Job") == 0) {
      template_marks(js_get(a->object, "spec.template"), got, sizeof(got));
      ck_assert_msg(strcmp(got, c->marks) == 0, "%s: marks \"%s\", want \"%s\"", c->name, got, c->marks);
    }
  }
  describe_events(&plan, got, sizeof(got));
  ck_assert_msg(strcmp(got, c->events) == 0, "%s: events \"%s\", want \"%s\"", c->name, got, c->events);
  ck_assert_msg(plan.requeue_after_ms == c->requeue_ms, "%s: requeue %lld, want %lld", c->name,
                (long long)plan.requeue_after_ms, (long long)c->requeue_ms);
  if (c->phase) {
    char *got_abandoned = json_object_get(st, "abandonedClusters")
                              ? json_dumps(json_object_get(st, "abandonedClusters"), JSON_COMPACT)
                              : NULL;
    ck_assert_msg(same(got_abandoned ? got_abandoned : "", c->abandoned ? c->abandoned : ""),
                  "%s: abandonedClusters %s, want %s", c->name, got_abandoned, c->abandoned);
    free(got_abandoned);
  }
  rt_plan_free(&plan);
  json_decref(abandoned_child[0]);
  json_decref(abandoned_child[1]);
  json_decref(pods[0]);
  json_decref(pods[1]);
  json_decref(member_events);
  json_decref(child);
  json_decref(tj);
}
END_TEST

/* A project that does not span clusters: the job runs in the hub as it
 * always did, and nothing about clusters is written; also when it is pinned
 * to "local" (a pipeline's task sharing its run's work volume is). */
START_TEST(place_no_clusters_is_local) {
  json_t *tj = tj_object("batch", A100x2, _i ? ",\"cluster\":\"local\"" : NULL);
  tj_spec s;
  char err[256] = "";
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  tj_observed in = {.tj = tj, .spec = &s, .spec_error = err, .now = 1, .engine_available = 1};
  in.env.project = "team-a";
  ck_assert_str_eq(tj_cluster_of(&in), "local");
  rt_plan plan;
  rt_plan_init(&plan);
  tj_plan(&in, &plan);
  char got[256];
  describe_place_actions(&plan, got, sizeof(got));
  ck_assert_str_eq(got, "apply Job train");
  ck_assert_ptr_nonnull(js_get(plan.actions[0].object, "metadata.ownerReferences"));
  ck_assert_ptr_null(json_object_get(plan.status, "cluster"));
  ck_assert_ptr_null(rt_condition_get(plan.status, "ClusterReachable"));
  rt_plan_free(&plan);
  json_decref(tj);
}
END_TEST

/* What a gang asks for, summed over its roles' pods. */
START_TEST(place_demand) {
  json_t *tj = tj_object("pytorch",
                         "{\"master\":{\"resources\":{\"cpu\":\"500m\",\"memory\":\"1Gi\",\"gpu\":\"0.5(V100)\"}},"
                         "\"worker\":{\"replicas\":3,\"resources\":{\"cpu\":\"2\",\"gpu\":\"1(V100)\"}}}",
                         NULL);
  tj_spec s;
  char err[256] = "";
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  placement_demand d;
  tj_demand_of(&s, &d);
  ck_assert_int_eq(d.cpu_milli, 6500);
  ck_assert_int_eq(d.memory_bytes, 1LL << 30);
  ck_assert_int_eq(d.gpu_milli, 3500);
  ck_assert_str_eq(d.model, "V100");
  json_decref(tj);
}
END_TEST

/* Planned again on the status it wrote, a job decides the same and emits
 * nothing: no event twice for an unchanged state. */
START_TEST(plan_is_stable) {
  const plan_case *c = &plan_cases[_i];
  int64_t now = 0;
  ck_assert_int_eq(time_parse_rfc3339(NOW, &now), 0);
  json_t *tj = tj_object(c->framework, c->roles, c->extra);
  json_object_set_new(json_object_get(tj, "metadata"), "generation", json_integer(c->generation ? c->generation : 1));
  if (c->status) json_object_set_new(tj, "status", json_loads(c->status, 0, NULL));
  tj_spec s;
  char err[256] = "";
  int valid = tj_spec_parse(tj, &s, err, sizeof(err)) == 0;
  tj_observed in = {.tj = tj, .spec = valid ? &s : NULL, .spec_error = err, .now = now};
  in.env.project = "team-a";
  in.env.gang.scheduler = c->scheduler;
  in.engine_available = !c->engine_missing;
  json_t *child = c->child && valid ? live_child(c, tj, &s, &in.env, now) : NULL;
  in.child = child;
  json_t *pods[6] = {NULL};
  size_t n = 0;
  for (; n < 4 && c->pods[n]; n++) pods[n] = make_pod(c->pods[n], "child-uid");
  json_t *debug = c->debug_pod ? debug_pod_of(c, tj) : NULL;
  if (debug) pods[n++] = json_incref(debug);
  in.debug_pod = debug;
  in.pods = (const json_t *const *)pods;
  in.npods = n;
  rt_plan first;
  rt_plan_init(&first);
  tj_plan(&in, &first);
  json_object_set(tj, "status", first.status);
  rt_plan second;
  rt_plan_init(&second);
  tj_plan(&in, &second);
  char *a = json_dumps(first.status, JSON_SORT_KEYS), *b = json_dumps(second.status, JSON_SORT_KEYS);
  /* A gang restart counts once: planned again, it only waits. */
  ck_assert_msg(strcmp(a, b) == 0, "%s: the status changed when planned again:\n%s\n%s", c->name, a, b);
  /* (Only the TTL's deletion is planned again while the cache still holds the Job.) */
  if (strstr(c->events, "TTLExpired") == NULL)
    ck_assert_msg(second.nevents == 0, "%s: %zu events when nothing changed, first %s", c->name, second.nevents,
                  second.nevents ? second.events[0].reason : "");
  free(a);
  free(b);
  rt_plan_free(&first);
  rt_plan_free(&second);
  for (size_t i = 0; i < n; i++) json_decref(pods[i]);
  json_decref(debug);
  json_decref(child);
  json_decref(tj);
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

/* Outside a project the job's pods carry the translated GPU request and the
 * model's node selector themselves (issue 14: "16(A100)" was dropped). */
START_TEST(gpu_translated_outside_project) {
  json_t *tj = json_loads("{\"apiVersion\":\"cubit.dev/v1alpha1\",\"kind\":\"TrainingJob\",\"metadata\":{\"name\":"
                          "\"big\",\"namespace\":\"solo\",\"uid\":\"u\"},\"spec\":{\"framework\":\"batch\",\"image\":"
                          "\"busybox\",\"roles\":{\"main\":{\"resources\":{\"gpu\":\"16(A100)\"}}}}}",
                          0, NULL);
  json_t *pj = json_loads("{\"system\":\"nvidia\",\"models\":{\"A100\":{\"memory\":\"80Gi\"}}}", 0, NULL);
  gpu_profile *gpu = NULL;
  char err[256];
  ck_assert_msg(gpu_profile_parse(pj, &gpu, err, sizeof(err)) == 0, "%s", err);
  tj_spec s;
  ck_assert_int_eq(tj_spec_parse(tj, &s, err, sizeof(err)), 0);
  tj_env outside = {.project = NULL, .gpu = gpu}, inside = {.project = "team-a", .gpu = gpu};
  json_t *child = tj_desired_child(tj, &s, &outside);
  json_t *pod = js_get(child, "spec.template.spec");
  json_t *c = json_array_get(json_object_get(pod, "containers"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.limits"), "nvidia.com/gpu")), "16");
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.requests"), "nvidia.com/gpu")), "16");
  ck_assert_int_eq(json_object_size(js_get(pod, "nodeSelector")), 1);
  json_decref(child);
  /* Inside a project the pod webhook translates: only the annotation. */
  child = tj_desired_child(tj, &s, &inside);
  c = json_array_get(js_get(child, "spec.template.spec.containers"), 0);
  ck_assert_ptr_null(js_get(c, "resources.limits"));
  ck_assert_ptr_null(js_get(child, "spec.template.spec.nodeSelector"));
  json_decref(child);
  gpu_profile_free(gpu);
  json_decref(pj);
  json_decref(tj);
}
END_TEST

/* The GPU grammar outside a project, for the newer engines: the pod
 * template each engine starts its pods from asks for the cards and the
 * model's nodes. */
static const struct {
  const char *framework, *roles, *extra, *template_path;
} gpu_engines[] = {
    {"paddle", "{\"worker\":{\"resources\":{\"gpu\":\"16(A100)\"}}}", NULL, "spec.paddleReplicaSpecs.Worker.template"},
    {"jax", "{\"worker\":{\"resources\":{\"gpu\":\"16(A100)\"}}}", NULL, "spec.jaxReplicaSpecs.Worker.template"},
    {"ray", "{\"head\":{\"resources\":{\"gpu\":\"16(A100)\"}}}", NULL, "spec.rayClusterSpec.headGroupSpec.template"},
    {"spark", "{\"driver\":{},\"executor\":{\"resources\":{\"gpu\":\"16(A100)\"}}}", SPARK_SPEC,
     "spec.executor.template"},
};

START_TEST(gpu_translated_outside_project_per_engine) {
  json_t *tj = tj_object(gpu_engines[_i].framework, gpu_engines[_i].roles, gpu_engines[_i].extra);
  json_t *pj = json_loads("{\"system\":\"nvidia\",\"models\":{\"A100\":{\"memory\":\"80Gi\"}}}", 0, NULL);
  gpu_profile *gpu = NULL;
  char err[256];
  ck_assert_msg(gpu_profile_parse(pj, &gpu, err, sizeof(err)) == 0, "%s", err);
  tj_spec s;
  ck_assert_msg(tj_spec_parse(tj, &s, err, sizeof(err)) == 0, "%s", err);
  tj_env outside = {.project = NULL, .gpu = gpu};
  json_t *child = tj_desired_child(tj, &s, &outside);
  json_t *tmpl = js_get(child, gpu_engines[_i].template_path);
  ck_assert_msg(tmpl != NULL, "%s: no %s", gpu_engines[_i].framework, gpu_engines[_i].template_path);
  json_t *c = json_array_get(js_get(tmpl, "spec.containers"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(js_get(c, "resources.limits"), "nvidia.com/gpu")), "16");
  ck_assert_int_eq(json_object_size(js_get(tmpl, "spec.nodeSelector")), 1);
  json_decref(child);
  gpu_profile_free(gpu);
  json_decref(pj);
  json_decref(tj);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trainingjob");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, desired_child_per_framework, 0, sizeof(cases) / sizeof(cases[0]));
  tcase_add_test(tc, batch_gang_gets_a_podgroup);
  tcase_add_loop_test(tc, gang_marks_in_templates, 0, sizeof(gang_templates) / sizeof(gang_templates[0]));
  tcase_add_test(tc, debug_pod);
  tcase_add_test(tc, debug_pod_of_a_ray_worker_group);
  tcase_add_test(tc, gpu_translated_outside_project);
  tcase_add_loop_test(tc, gpu_translated_outside_project_per_engine, 0, sizeof(gpu_engines) / sizeof(gpu_engines[0]));
  tcase_add_loop_test(tc, invalid_specs, 0, sizeof(bad_specs) / sizeof(bad_specs[0]));
  tcase_add_test(tc, progress_batch_job);
  tcase_add_test(tc, progress_operator_jobs);
  tcase_add_test(tc, progress_volcano_job);
  tcase_add_loop_test(tc, engine_read_back, 0, sizeof(engine_reads) / sizeof(engine_reads[0]));
  tcase_add_loop_test(tc, ray_entrypoint, 0, sizeof(entrypoints) / sizeof(entrypoints[0]));
  tcase_add_loop_test(tc, pod_state, 0, sizeof(pod_states) / sizeof(pod_states[0]));
  tcase_add_loop_test(tc, plan_table, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_loop_test(tc, plan_is_stable, 0, sizeof(plan_cases) / sizeof(plan_cases[0]));
  tcase_add_loop_test(tc, place_table, 0, sizeof(place_cases) / sizeof(place_cases[0]));
  tcase_add_loop_test(tc, place_no_clusters_is_local, 0, 2);
  tcase_add_test(tc, place_demand);
  tcase_add_test(tc, durations);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
