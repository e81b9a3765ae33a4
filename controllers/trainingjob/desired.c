#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"
#include "api/labels.h"
#include "api/podtemplate/podtemplate.h"
#include "runtime/apply.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/quantity.h"

static const kube_resource engines[TJ_NFRAMEWORKS] = {
    [TJ_BATCH] = {"batch", "v1", "jobs", "Job", 1},
    [TJ_PYTORCH] = {"kubeflow.org", "v1", "pytorchjobs", "PyTorchJob", 1},
    [TJ_TENSORFLOW] = {"kubeflow.org", "v1", "tfjobs", "TFJob", 1},
    [TJ_MPI] = {"kubeflow.org", "v1", "mpijobs", "MPIJob", 1},
    [TJ_XGBOOST] = {"kubeflow.org", "v1", "xgboostjobs", "XGBoostJob", 1},
    [TJ_VOLCANO] = {"batch.volcano.sh", "v1alpha1", "jobs", "Job", 1},
    [TJ_PADDLE] = {"kubeflow.org", "v1", "paddlejobs", "PaddleJob", 1},
    [TJ_JAX] = {"kubeflow.org", "v1", "jaxjobs", "JAXJob", 1},
    [TJ_RAY] = {"ray.io", "v1", "rayjobs", "RayJob", 1},
    [TJ_SPARK] = {"sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication", 1},
};

const kube_resource *tj_engine(tj_framework f) {
  return &engines[f];
}

const kube_resource tj_podgroup_resource = {"scheduling.volcano.sh", "v1beta1", "podgroups", "PodGroup", 1};

/* The training operator's replica types for Cubit's lower-case role names. */
static const char *replica_type(const char *role) {
  static const char *map[][2] = {{"master", "Master"}, {"worker", "Worker"},         {"chief", "Chief"},
                                 {"ps", "PS"},         {"evaluator", "Evaluator"},   {"launcher", "Launcher"}};
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
    if (strcmp(map[i][0], role) == 0) return map[i][1];
  return role;
}

/* Where each engine records a pod's index within its role; NULL for a
 * role of one pod whose engine records none (a Ray head, a Spark driver:
 * index 0) and for Ray's worker groups, whose pods have no index. */
static const char *index_field(tj_framework f, const char *role) {
  switch (f) {
    case TJ_BATCH: return "metadata.annotations['batch.kubernetes.io/job-completion-index']";
    case TJ_VOLCANO: return "metadata.annotations['volcano.sh/task-index']";
    case TJ_RAY: return NULL;
    /* Spark numbers its executors from 1. */
    case TJ_SPARK: return strcmp(role, "executor") == 0 ? "metadata.labels['spark-exec-id']" : NULL;
    default: return "metadata.labels['training.kubeflow.org/replica-index']";
  }
}

static json_t *as_string(const json_t *v) {
  if (json_is_string(v)) return json_string(json_string_value(v));
  if (json_is_integer(v)) {
    char text[32];
    snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
    return json_string(text);
  }
  return NULL;
}

static json_t *env_value(const char *name, const char *value) {
  return json_pack("{s:s, s:s}", "name", name, "value", value);
}

static json_t *container(const json_t *tj, const tj_spec *s, const tj_role *r) {
  json_t *env = json_array();
  char num[16];
  snprintf(num, sizeof(num), "%d", tj_role_completions(s, r));
  json_array_append_new(env, env_value("CUBIT_JOB_NAME", js_name(tj)));
  json_array_append_new(env, env_value("CUBIT_ROLE", r->name));
  const char *index = index_field(s->framework, r->name);
  if (index)
    json_array_append_new(env, json_pack("{s:s, s:{s:{s:s}}}", "name", "CUBIT_REPLICA_INDEX", "valueFrom", "fieldRef",
                                         "fieldPath", index));
  else if (tj_single_pod_role(s->framework, r->name))
    json_array_append_new(env, env_value("CUBIT_REPLICA_INDEX", "0"));
  json_array_append_new(env, env_value("CUBIT_NUM_REPLICAS", num));
  /* The user's own variables come last: a duplicate name takes the last value. */
  size_t i;
  json_t *e;
  json_array_foreach(s->env, i, e) json_array_append(env, e);
  json_t *c = json_pack("{s:s, s:s, s:o}", "name", tj_container_name(s->framework), "image", r->image ? r->image : s->image,
                        "env", env);
  int own_command = tj_runs_own_command(s->framework);
  const json_t *command = json_array_size(r->command) ? r->command : s->command;
  const json_t *args = json_array_size(r->args) ? r->args : s->args;
  if (json_array_size(command) && !own_command) json_object_set_new(c, "command", json_deep_copy(command));
  if (json_array_size(args) && !own_command) json_object_set_new(c, "args", json_deep_copy(args));
  if (s->working_dir) json_object_set_new(c, "workingDir", json_string(s->working_dir));
  json_t *amounts = json_object();
  static const char *keys[] = {"cpu", "memory"};
  for (int k = 0; k < 2; k++) {
    json_t *v = as_string(json_object_get(r->resources, keys[k]));
    if (v) json_object_set_new(amounts, keys[k], v);
  }
  /* Guaranteed: requests equal limits, as distributed training wants. */
  if (json_object_size(amounts))
    json_object_set_new(c, "resources", json_pack("{s:O, s:O}", "requests", amounts, "limits", amounts));
  json_decref(amounts);
  json_t *mounts = json_array();
  json_array_foreach(s->volumes, i, e) {
    const char *name = js_str(e, "name") ? js_str(e, "name") : js_str(e, "claimName");
    json_t *m = json_pack("{s:s, s:s}", "name", name, "mountPath", js_str(e, "mountPath"));
    if (js_str(e, "subPath")) json_object_set_new(m, "subPath", json_string(js_str(e, "subPath")));
    if (js_bool(e, "readOnly", 0)) json_object_set_new(m, "readOnly", json_true());
    json_array_append_new(mounts, m);
  }
  if (json_array_size(mounts)) json_object_set_new(c, "volumeMounts", mounts);
  else json_decref(mounts);
  return c;
}

static json_t *pod_volumes(const tj_spec *s) {
  json_t *vols = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(s->volumes, i, e) {
    const char *name = js_str(e, "name") ? js_str(e, "name") : js_str(e, "claimName");
    json_t *pvc = json_pack("{s:s}", "claimName", js_str(e, "claimName"));
    if (js_bool(e, "readOnly", 0)) json_object_set_new(pvc, "readOnly", json_true());
    json_array_append_new(vols, json_pack("{s:s, s:o}", "name", name, "persistentVolumeClaim", pvc));
  }
  return vols;
}

static const char *user_of(const json_t *tj) {
  return json_string_value(json_object_get(js_get(tj, "metadata.annotations"), CUBIT_ANNOTATION_USER));
}

/* Metadata every pod of the job carries: who and what it is (the job, the
 * role, the creator, and the cubit.dev/ labels the job itself carries: a
 * pipeline run's run, task and attempt, the project), its GPU request in
 * Cubit's grammar (the pod webhook translates it), and the user's own
 * labels and annotations. */
static json_t *pod_metadata(const json_t *tj, const tj_spec *s, const char *role, const json_t *resources) {
  json_t *labels = json_is_object(s->pod_labels) ? json_deep_copy(s->pod_labels) : json_object();
  json_object_set_new(labels, TJ_LABEL, json_string(js_name(tj)));
  json_object_set_new(labels, TJ_ROLE_LABEL, json_string(role));
  /* No engine indexes these pods; the pod webhook labels the others. */
  if (tj_single_pod_role(s->framework, role)) json_object_set_new(labels, CUBIT_LABEL_REPLICA_INDEX, json_string("0"));
  char creator[64];
  if (user_of(tj) && cubit_label_value(user_of(tj), creator, sizeof(creator)) == 0)
    json_object_set_new(labels, CUBIT_LABEL_CREATOR, json_string(creator));
  cubit_labels_inherit(labels, js_get(tj, "metadata.labels"));
  json_t *ann = json_is_object(s->pod_annotations) ? json_deep_copy(s->pod_annotations) : json_object();
  if (user_of(tj)) json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(user_of(tj)));
  const char *gpu = js_str(resources, "gpu");
  if (gpu && strcmp(gpu, "0") != 0) json_object_set_new(ann, "cubit.dev/gpu", json_string(gpu));
  json_t *meta = json_pack("{s:o}", "labels", labels);
  if (json_object_size(ann)) json_object_set_new(meta, "annotations", ann);
  else json_decref(ann);
  return meta;
}

/* A pod template's own restart policy: ExitCode is the training operator's
 * replica-level policy; the pod itself then never restarts in place. */
static const char *pod_restart_policy(const tj_spec *s) {
  return strcmp(s->restart_policy, "OnFailure") == 0 ? "OnFailure" : "Never";
}

/* The user's podTemplate (the role's over the job's) under Cubit's pod
 * template: api/podtemplate's rules. */
static void merge_pod_template(json_t *tmpl, const tj_spec *s, const tj_role *r) {
  json_t *pt = pt_layer(s->pod_template, r->pod_template);
  pt_merge(tmpl, pt);
  json_decref(pt);
}

static int volcano_gang(const tj_spec *s, const tj_env *env) {
  return s->gang && env && env->gang.scheduler == GANG_VOLCANO;
}

static const char *queue_of(const tj_spec *s, const tj_env *env) {
  if (s->queue) return s->queue;
  return env ? env->project : NULL;
}

/* Outside a project, or in a member cluster, the GPU grammar becomes the
 * GPU-sharing system's resources and the model's node selector here (inside
 * one in the hub the pod webhook does it). Admission checked the string against the same profile; one it
 * cannot translate any more keeps only its annotation. */
static void translate_gpu(const tj_role *r, const tj_env *env, json_t *c, json_t *pod_spec) {
  const char *gpu = js_str(r->resources, "gpu");
  if (env == NULL || (env->project != NULL && !env->in_member) || env->gpu == NULL || gpu == NULL ||
      strcmp(gpu, "0") == 0)
    return;
  gpu_request req;
  gpu_translation t;
  char why[512];
  if (gpu_request_parse(gpu, &req, why, sizeof(why)) || gpu_translate(env->gpu, &req, &t, why, sizeof(why))) return;
  json_t *limits = js_ensure_obj(c, "resources.limits"), *requests = js_ensure_obj(c, "resources.requests");
  for (size_t i = 0; i < t.nlimits; i++) {
    json_object_set_new(limits, t.limits[i].name, json_string(t.limits[i].value));
    json_object_set_new(requests, t.limits[i].name, json_string(t.limits[i].value));
  }
  if (t.node_selector_key[0])
    json_object_set_new(js_ensure_obj(pod_spec, "nodeSelector"), t.node_selector_key,
                        json_string(t.node_selector_value));
  if (t.visible_devices[0])
    json_array_append_new(json_object_get(c, "env"), env_value("NVIDIA_VISIBLE_DEVICES", t.visible_devices));
}

static json_t *pod_template(const json_t *tj, const tj_spec *s, const tj_role *r, const tj_env *env) {
  json_t *c = container(tj, s, r);
  json_t *spec = json_pack("{s:s, s:[o]}", "restartPolicy", pod_restart_policy(s), "containers", c);
  translate_gpu(r, env, c, spec);
  json_t *vols = pod_volumes(s);
  if (json_array_size(vols)) json_object_set_new(spec, "volumes", vols);
  else json_decref(vols);
  json_t *meta = pod_metadata(tj, s, r->name, r->resources);
  if (volcano_gang(s, env)) {
    json_object_set_new(spec, "schedulerName", json_string("volcano"));
    /* Batch jobs' PodGroup is Cubit's own, named after the job; the training
     * operator and Volcano's Job controller name theirs themselves. */
    if (s->framework == TJ_BATCH) {
      json_t *ann = js_ensure_obj(meta, "annotations");
      json_object_set_new(ann, "scheduling.k8s.io/group-name", json_string(js_name(tj)));
    }
  }
  json_t *tmpl = json_pack("{s:o, s:o}", "metadata", meta, "spec", spec);
  merge_pod_template(tmpl, s, r);
  /* In a member no pod webhook marks the gang's pods (webhooks/pods does in
   * the hub): the template carries what it would write (group = the job,
   * role = the role's label), after the user's podTemplate as the webhook
   * comes after it. */
  if (env && env->in_member && s->gang)
    gang_mark(&env->gang, tmpl, js_name(tj), r->name, env->project ? env->project : "");
  return tmpl;
}

static json_t *child_metadata(const json_t *tj) {
  json_t *meta = json_pack("{s:s, s:s, s:{s:s}}", "name", js_name(tj), "namespace", js_namespace(tj), "labels", TJ_LABEL,
                           js_name(tj));
  json_t *labels = json_object_get(meta, "labels");
  char creator[64];
  if (user_of(tj) && cubit_label_value(user_of(tj), creator, sizeof(creator)) == 0)
    json_object_set_new(labels, CUBIT_LABEL_CREATOR, json_string(creator));
  cubit_labels_inherit(labels, js_get(tj, "metadata.labels"));
  if (user_of(tj)) json_object_set_new(meta, "annotations", json_pack("{s:s}", CUBIT_ANNOTATION_USER, user_of(tj)));
  return meta;
}

static json_t *run_policy(const tj_spec *s, const tj_env *env) {
  json_t *rp = json_pack("{s:i, s:b, s:s}", "backoffLimit", s->backoff_limit, "suspend", s->suspend, "cleanPodPolicy",
                         "None");
  if (s->active_deadline_s > 0) json_object_set_new(rp, "activeDeadlineSeconds", json_integer(s->active_deadline_s));
  if (s->gang) {
    json_t *sp = json_pack("{s:i}", "minAvailable", s->min_available ? s->min_available : s->total_pods);
    if (queue_of(s, env)) json_object_set_new(sp, "queue", json_string(queue_of(s, env)));
    if (s->schedule_timeout_s) json_object_set_new(sp, "scheduleTimeoutSeconds", json_integer(s->schedule_timeout_s));
    json_object_set_new(rp, "schedulingPolicy", sp);
  }
  return rp;
}

static json_t *operator_job(const json_t *tj, const tj_spec *s, const tj_env *env, const char *kind,
                            const char *specs_key) {
  json_t *replicas = json_object();
  for (size_t i = 0; i < s->nroles; i++) {
    const tj_role *r = &s->roles[i];
    json_object_set_new(replicas, replica_type(r->name),
                        json_pack("{s:i, s:s, s:o}", "replicas", r->replicas, "restartPolicy", s->restart_policy,
                                  "template", pod_template(tj, s, r, env)));
  }
  json_t *spec = json_pack("{s:o, s:o}", specs_key, replicas, "runPolicy", run_policy(s, env));
  if (s->framework == TJ_MPI) {
    json_object_set_new(spec, "mainContainer", json_string("mpi"));
    json_object_set_new(spec, "slotsPerWorker", json_integer(1));
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "kubeflow.org/v1", "kind", kind, "metadata",
                   child_metadata(tj), "spec", spec);
}

static json_t *batch_job(const json_t *tj, const tj_spec *s, const tj_env *env) {
  const tj_role *r = &s->roles[0];
  int completions = r->completions ? r->completions : r->replicas;
  int parallelism = r->parallelism ? r->parallelism : r->replicas;
  /* Indexed: every pod knows its index (CUBIT_REPLICA_INDEX). */
  json_t *spec = json_pack("{s:i, s:i, s:s, s:i, s:b, s:o}", "parallelism", parallelism, "completions", completions,
                           "completionMode", "Indexed", "backoffLimit", s->backoff_limit, "suspend", s->suspend,
                           "template", pod_template(tj, s, r, env));
  if (s->active_deadline_s > 0) json_object_set_new(spec, "activeDeadlineSeconds", json_integer(s->active_deadline_s));
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind", "Job", "metadata", child_metadata(tj),
                   "spec", spec);
}

static json_t *volcano_job(const json_t *tj, const tj_spec *s, const tj_env *env) {
  json_t *tasks = json_array();
  for (size_t i = 0; i < s->nroles; i++)
    json_array_append_new(tasks, json_pack("{s:s, s:i, s:o}", "name", s->roles[i].name, "replicas",
                                           s->roles[i].replicas, "template", pod_template(tj, s, &s->roles[i], env)));
  /* A failed replica fails the job, or restarts the whole gang when asked;
   * Volcano does the restarting itself, within maxRetry. The env and svc
   * plugins give every pod its index and every role's host names. */
  json_t *policies = json_pack("[{s:s, s:s}]", "event", "PodFailed", "action",
                               s->restart_gang ? "RestartJob" : "TerminateJob");
  json_t *spec = json_pack("{s:s, s:i, s:i, s:o, s:{s:[], s:[]}, s:o}", "schedulerName", "volcano", "minAvailable",
                           s->gang ? (s->min_available ? s->min_available : s->total_pods) : 1, "maxRetry",
                           s->restart_gang ? s->max_restarts : 0, "policies", policies, "plugins", "env", "svc", "tasks",
                           tasks);
  if (queue_of(s, env)) json_object_set_new(spec, "queue", json_string(queue_of(s, env)));
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch.volcano.sh/v1alpha1", "kind", "Job", "metadata",
                   child_metadata(tj), "spec", spec);
}

/* ------------------------------------------------------------------ Ray */

static int shell_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_./=:,+@%", c);
}

/* Appends word to *out (of *len bytes, *cap allocated) quoted for a POSIX
 * shell: as it is when every character is safe, else in single quotes with
 * each ' written '\''. */
static void append_quoted(char **out, size_t *len, size_t *cap, const char *word) {
  size_t need = *len + 4 * strlen(word) + 4;
  if (need > *cap) {
    *cap = need * 2;
    *out = xrealloc(*out, *cap);
  }
  char *p = *out + *len;
  if (*len) *p++ = ' ';
  int safe = *word != '\0';
  for (const char *c = word; *c; c++) safe &= shell_safe(*c);
  if (safe) {
    p += sprintf(p, "%s", word);
  } else {
    *p++ = '\'';
    for (const char *c = word; *c; c++) {
      if (*c == '\'') {
        memcpy(p, "'\\''", 4);
        p += 4;
      } else {
        *p++ = *c;
      }
    }
    *p++ = '\'';
  }
  *p = '\0';
  *len = (size_t)(p - *out);
}

/* The command Ray runs on its cluster: spec.ray.entrypoint, else the
 * job's command and args, each word quoted for the shell. The caller frees
 * it. */
char *tj_ray_entrypoint(const tj_spec *s) {
  if (s->ray_entrypoint) return xstrdup(s->ray_entrypoint);
  char *out = xstrdup("");
  size_t len = 0, cap = 1;
  const json_t *lists[] = {s->command, s->args};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *w;
    json_array_foreach(lists[l], i, w) {
      if (json_is_string(w)) append_quoted(&out, &len, &cap, json_string_value(w));
    }
  }
  return out;
}

/* KubeRay reads the first container of each group as Ray's (ray start is
 * its command, so the job's own command is the entrypoint, not the
 * container's); the head and every worker group run until the job ends and
 * KubeRay shuts the cluster down (shutdownAfterJobFinishes). */
static json_t *ray_job(const json_t *tj, const tj_spec *s, const tj_env *env) {
  json_t *workers = json_array();
  json_t *head = NULL;
  int autoscale = 0;
  for (size_t i = 0; i < s->nroles; i++) {
    const tj_role *r = &s->roles[i];
    json_t *tmpl = pod_template(tj, s, r, env);
    if (strcmp(r->name, "head") == 0) {
      head = json_pack("{s:{}, s:o}", "rayStartParams", "template", tmpl);
      continue;
    }
    autoscale |= r->min_replicas != r->max_replicas;
    json_array_append_new(workers, json_pack("{s:s, s:i, s:i, s:i, s:{}, s:o}", "groupName", r->name, "replicas",
                                             r->replicas, "minReplicas", r->min_replicas, "maxReplicas",
                                             r->max_replicas, "rayStartParams", "template", tmpl));
  }
  json_t *cluster = json_pack("{s:o}", "headGroupSpec", head ? head : json_object());
  if (json_array_size(workers)) json_object_set_new(cluster, "workerGroupSpecs", workers);
  else json_decref(workers);
  /* Bounds that differ ask for Ray's autoscaler (a sidecar of the head). */
  if (autoscale) json_object_set_new(cluster, "enableInTreeAutoscaling", json_true());
  if (s->ray_version) json_object_set_new(cluster, "rayVersion", json_string(s->ray_version));
  char *entrypoint = tj_ray_entrypoint(s);
  json_t *spec = json_pack("{s:s, s:b, s:b, s:o}", "entrypoint", entrypoint, "shutdownAfterJobFinishes", 1, "suspend",
                           s->suspend, "rayClusterSpec", cluster);
  free(entrypoint);
  /* YAML is a superset of JSON: the runtime environment as Ray reads it. */
  if (json_object_size(s->ray_runtime_env)) {
    char *yaml = json_dumps(s->ray_runtime_env, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(spec, "runtimeEnvYAML", json_string(yaml));
    free(yaml);
  }
  if (s->backoff_limit > 0) json_object_set_new(spec, "backoffLimit", json_integer(s->backoff_limit));
  if (s->active_deadline_s > 0) json_object_set_new(spec, "activeDeadlineSeconds", json_integer(s->active_deadline_s));
  json_t *meta = child_metadata(tj);
  /* KubeRay's gang marks: its batch scheduler makes the PodGroup (head and
   * every worker group's minReplicas) in the queue this label names. */
  if (s->gang) {
    json_t *labels = json_object_get(meta, "labels");
    json_object_set_new(labels, "ray.io/gang-scheduling-enabled", json_string("true"));
    if (volcano_gang(s, env) && queue_of(s, env))
      json_object_set_new(labels, "volcano.sh/queue-name", json_string(queue_of(s, env)));
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "ray.io/v1", "kind", "RayJob", "metadata", meta, "spec",
                   spec);
}

/* ---------------------------------------------------------------- Spark */

/* Spark's memory ("512m", "4g": binary units) for a Kubernetes quantity:
 * whole gibibytes as g, else mebibytes rounded up. 0 and "" when absent or
 * unreadable (admission refused it). */
static int spark_memory(const json_t *v, char out[32]) {
  out[0] = '\0';
  const char *text = json_string_value(v);
  char number[32];
  if (json_is_integer(v)) {
    snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(v));
    text = number;
  }
  quantity q;
  if (text == NULL || quantity_parse(text, &q)) return 0;
  int64_t bytes = quantity_value(&q), mib = 1024 * 1024;
  if (bytes <= 0) return 0;
  if (bytes % (1024 * mib) == 0) snprintf(out, 32, "%lldg", (long long)(bytes / (1024 * mib)));
  else snprintf(out, 32, "%lldm", (long long)((bytes + mib - 1) / mib));
  return 1;
}

/* A Spark pod's size: cores (whole, at least 1) for Spark's own
 * scheduling, the exact request and limit for the pod, and memory (Spark
 * adds its overhead to the pod's request). */
static void spark_size(json_t *pod_spec, const tj_role *r) {
  const json_t *cpu = json_object_get(r->resources, "cpu");
  json_t *text = as_string(cpu);
  quantity q;
  if (text && quantity_parse(json_string_value(text), &q) == 0 && quantity_sign(&q) > 0) {
    int64_t milli = quantity_milli_value(&q);
    json_object_set_new(pod_spec, "cores", json_integer(milli < 1000 ? 1 : (milli + 999) / 1000));
    json_object_set_new(pod_spec, "coreRequest", json_string(json_string_value(text)));
    json_object_set_new(pod_spec, "coreLimit", json_string(json_string_value(text)));
  }
  json_decref(text);
  char memory[32];
  if (spark_memory(json_object_get(r->resources, "memory"), memory))
    json_object_set_new(pod_spec, "memory", json_string(memory));
}

/* The driver or the executors: Spark's fields, and Cubit's pod template as
 * the pod template Spark starts each pod from (labels, GPU, volumes, the
 * user's podTemplate). */
static json_t *spark_pod(const json_t *tj, const tj_spec *s, const tj_role *r, const tj_env *env) {
  json_t *tmpl = pod_template(tj, s, r, env);
  json_t *pod = json_pack("{s:O, s:o}", "labels", js_get(tmpl, "metadata.labels"), "template", tmpl);
  json_t *ann = js_get(tmpl, "metadata.annotations");
  if (json_object_size(ann)) json_object_set(pod, "annotations", ann);
  if (r->image) json_object_set_new(pod, "image", json_string(r->image));
  /* The driver makes the executors: it needs an account allowed to. */
  const char *sa = js_str(tmpl, "spec.serviceAccountName");
  if (sa) json_object_set_new(pod, "serviceAccount", json_string(sa));
  spark_size(pod, r);
  if (strcmp(r->name, "executor") == 0) json_object_set_new(pod, "instances", json_integer(r->replicas));
  return pod;
}

static json_t *spark_application(const json_t *tj, const tj_spec *s, const tj_env *env) {
  json_t *spec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "type", s->spark_type, "sparkVersion", s->spark_version,
                           "mode", "cluster", "image", s->image, "mainApplicationFile", s->spark_main_file, "suspend",
                           s->suspend);
  for (size_t i = 0; i < s->nroles; i++)
    json_object_set_new(spec, s->roles[i].name, spark_pod(tj, s, &s->roles[i], env));
  if (s->spark_main_class) json_object_set_new(spec, "mainClass", json_string(s->spark_main_class));
  if (json_array_size(s->args)) json_object_set_new(spec, "arguments", json_deep_copy(s->args));
  if (json_object_size(s->spark_conf)) json_object_set_new(spec, "sparkConf", json_deep_copy(s->spark_conf));
  /* backoffLimit: how often spark-operator submits the application again. */
  json_t *restart = json_pack("{s:s}", "type", s->backoff_limit > 0 ? "OnFailure" : "Never");
  if (s->backoff_limit > 0) {
    json_object_set_new(restart, "onFailureRetries", json_integer(s->backoff_limit));
    json_object_set_new(restart, "onSubmissionFailureRetries", json_integer(s->backoff_limit));
  }
  json_object_set_new(spec, "restartPolicy", restart);
  /* spark-operator's gang marks: it makes the Volcano PodGroup itself. */
  if (volcano_gang(s, env)) {
    json_object_set_new(spec, "batchScheduler", json_string("volcano"));
    if (queue_of(s, env)) json_object_set_new(spec, "batchSchedulerOptions", json_pack("{s:s}", "queue", queue_of(s, env)));
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "sparkoperator.k8s.io/v1beta2", "kind", "SparkApplication",
                   "metadata", child_metadata(tj), "spec", spec);
}

json_t *tj_desired_child(const json_t *tj, const tj_spec *s, const tj_env *env) {
  json_t *child;
  switch (s->framework) {
    case TJ_BATCH: child = batch_job(tj, s, env); break;
    case TJ_PYTORCH: child = operator_job(tj, s, env, "PyTorchJob", "pytorchReplicaSpecs"); break;
    case TJ_TENSORFLOW: child = operator_job(tj, s, env, "TFJob", "tfReplicaSpecs"); break;
    case TJ_MPI: child = operator_job(tj, s, env, "MPIJob", "mpiReplicaSpecs"); break;
    case TJ_XGBOOST: child = operator_job(tj, s, env, "XGBoostJob", "xgbReplicaSpecs"); break;
    case TJ_PADDLE: child = operator_job(tj, s, env, "PaddleJob", "paddleReplicaSpecs"); break;
    case TJ_JAX: child = operator_job(tj, s, env, "JAXJob", "jaxReplicaSpecs"); break;
    case TJ_RAY: child = ray_job(tj, s, env); break;
    case TJ_SPARK: child = spark_application(tj, s, env); break;
    default: child = volcano_job(tj, s, env); break;
  }
  rt_set_controller_ref(child, tj);
  return child;
}

json_t *tj_desired_debug_pod(const json_t *tj, const tj_spec *s) {
  const tj_role *r = &s->roles[0];
  json_t *c = container(tj, s, r);
  json_object_set_new(c, "command", json_pack("[s, s]", "sleep", "infinity"));
  json_object_del(c, "args");
  /* The debug pod plays the first role with index 0: no engine indexes it. */
  json_t *env = json_object_get(c, "env");
  size_t i;
  json_t *e;
  int indexed = 0;
  json_array_foreach(env, i, e) {
    const char *n = js_str(e, "name");
    if (n && strcmp(n, "CUBIT_REPLICA_INDEX") == 0) {
      json_array_set_new(env, i, env_value("CUBIT_REPLICA_INDEX", "0"));
      indexed = 1;
      break;
    }
  }
  /* (A Ray worker group's pods have no index of their own.) */
  if (!indexed) json_array_insert_new(env, 2, env_value("CUBIT_REPLICA_INDEX", "0"));
  char *name = xasprintf("%s-debug", js_name(tj));
  json_t *meta = pod_metadata(tj, s, r->name, r->resources);
  json_object_set_new(meta, "name", json_string(name));
  json_object_set_new(meta, "namespace", json_string(js_namespace(tj)));
  json_t *spec = json_pack("{s:s, s:[o]}", "restartPolicy", "Always", "containers", c);
  json_t *vols = pod_volumes(s);
  if (json_array_size(vols)) json_object_set_new(spec, "volumes", vols);
  else json_decref(vols);
  json_t *pod = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec", spec);
  /* The debug pod runs where the job would, with its accounts and secrets;
   * its container is renamed once the podTemplate has extended it. */
  merge_pod_template(pod, s, r);
  json_object_set_new(c, "name", json_string("debug"));
  rt_set_controller_ref(pod, tj);
  free(name);
  return pod;
}

json_t *tj_desired_podgroup(const json_t *tj, const tj_spec *s, const tj_env *env) {
  if (s->framework != TJ_BATCH || !volcano_gang(s, env)) return NULL;
  json_t *spec = json_pack("{s:i}", "minMember", s->min_available ? s->min_available : s->total_pods);
  if (queue_of(s, env)) json_object_set_new(spec, "queue", json_string(queue_of(s, env)));
  json_t *pg = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "scheduling.volcano.sh/v1beta1", "kind", "PodGroup",
                         "metadata", child_metadata(tj), "spec", spec);
  rt_set_controller_ref(pg, tj);
  return pg;
}
