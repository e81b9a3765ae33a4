#include <stdio.h>
#include <string.h>

#include "api/podtemplate/podtemplate.h"
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"

const kube_resource trainingjob_resource = {"cubit.dev", "v1alpha1", "trainingjobs", "TrainingJob", 1};

static const char *framework_names[TJ_NFRAMEWORKS] = {"batch",   "pytorch", "tensorflow", "mpi", "xgboost",
                                                       "volcano", "paddle",  "jax",        "ray", "spark"};

const char *tj_framework_name(tj_framework f) {
  return f < TJ_NFRAMEWORKS ? framework_names[f] : "?";
}

const char *tj_container_name(tj_framework f) {
  switch (f) {
    case TJ_PYTORCH: return "pytorch";
    case TJ_TENSORFLOW: return "tensorflow";
    case TJ_MPI: return "mpi";
    case TJ_XGBOOST: return "xgboost";
    case TJ_PADDLE: return "paddle";
    case TJ_JAX: return "jax";
    case TJ_RAY: return "ray";
    case TJ_SPARK: return "spark";
    default: return "main";
  }
}

int tj_role_completions(const tj_spec *s, const tj_role *r) {
  if (s->framework == TJ_BATCH) return r->completions ? r->completions : r->replicas;
  return r->replicas;
}

/* The role names each framework knows; NULL = any (volcano, batch, and
 * ray, whose roles besides head are worker groups). */
static const char *const *valid_roles(tj_framework f) {
  static const char *pytorch[] = {"master", "worker", NULL};
  static const char *tensorflow[] = {"chief", "ps", "worker", "evaluator", NULL};
  static const char *mpi[] = {"launcher", "worker", NULL};
  static const char *jax[] = {"worker", NULL};
  static const char *spark[] = {"driver", "executor", NULL};
  switch (f) {
    case TJ_PYTORCH:
    case TJ_XGBOOST:
    case TJ_PADDLE: return pytorch;
    case TJ_TENSORFLOW: return tensorflow;
    case TJ_MPI: return mpi;
    case TJ_JAX: return jax;
    case TJ_SPARK: return spark;
    default: return NULL;
  }
}

/* The roles the new engines cannot run without (the CRD's rules say the
 * same for the older ones), and those that are one pod. */
static const char *const *required_roles(tj_framework f) {
  static const char *worker[] = {"worker", NULL};
  static const char *head[] = {"head", NULL};
  static const char *spark[] = {"driver", "executor", NULL};
  switch (f) {
    case TJ_PADDLE:
    case TJ_JAX: return worker;
    case TJ_RAY: return head;
    case TJ_SPARK: return spark;
    default: return NULL;
  }
}

int tj_single_pod_role(tj_framework f, const char *role) {
  return (f == TJ_RAY && strcmp(role, "head") == 0) || (f == TJ_SPARK && strcmp(role, "driver") == 0);
}

int tj_runs_own_command(tj_framework f) {
  return f == TJ_RAY || f == TJ_SPARK;
}

static int int_field(const json_t *o, const char *key, int def, int min, const char *path, int *out, char *err,
                     size_t errlen) {
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v)) {
    *out = def;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > 1000000) {
    snprintf(err, errlen, "%s.%s: want an integer of at least %d", path, key, min);
    return CUBIT_EINVAL;
  }
  *out = (int)json_integer_value(v);
  return 0;
}

static int nonempty_array(const json_t *o, const char *key) {
  return json_array_size(json_object_get(o, key)) > 0;
}

/* What a role says that only some engines read: one pod for a Ray head
 * and a Spark driver, a Ray worker group's autoscaling bounds, no command
 * of its own where the engine runs its own. */
static int parse_role_engine(tj_framework f, const json_t *r, tj_role *role, const char *path, char *err,
                             size_t errlen) {
  if (tj_single_pod_role(f, role->name) && role->replicas != 1) {
    snprintf(err, errlen, "%s.replicas: a %s job has one %s", path, tj_framework_name(f), role->name);
    return CUBIT_EINVAL;
  }
  if (tj_runs_own_command(f) && (nonempty_array(r, "command") || nonempty_array(r, "args"))) {
    snprintf(err, errlen, "%s.command: %s runs its own processes in its pods; the program is %s", path,
             tj_framework_name(f), f == TJ_RAY ? "spec.ray.entrypoint" : "spec.spark.mainApplicationFile");
    return CUBIT_EINVAL;
  }
  int autoscaled = json_object_get(r, "minReplicas") || json_object_get(r, "maxReplicas");
  if (autoscaled && (f != TJ_RAY || strcmp(role->name, "head") == 0)) {
    snprintf(err, errlen, "%s: minReplicas and maxReplicas are for the worker groups of a ray job", path);
    return CUBIT_EINVAL;
  }
  if (int_field(r, "minReplicas", role->replicas, 0, path, &role->min_replicas, err, errlen) ||
      int_field(r, "maxReplicas", role->replicas, 1, path, &role->max_replicas, err, errlen))
    return CUBIT_EINVAL;
  if (role->min_replicas > role->replicas || role->replicas > role->max_replicas) {
    snprintf(err, errlen, "%s: want minReplicas (%d) <= replicas (%d) <= maxReplicas (%d)", path, role->min_replicas,
             role->replicas, role->max_replicas);
    return CUBIT_EINVAL;
  }
  return 0;
}

/* spec.ray: what Ray runs (the entrypoint, else the job's command). */
static int parse_ray(const json_t *spec, tj_spec *out, char *err, size_t errlen) {
  const json_t *ray = json_object_get(spec, "ray");
  out->ray_entrypoint = js_str(ray, "entrypoint");
  if (out->ray_entrypoint && out->ray_entrypoint[0] == '\0') out->ray_entrypoint = NULL;
  out->ray_runtime_env = json_object_get(ray, "runtimeEnv");
  out->ray_version = js_str(ray, "rayVersion");
  if (out->ray_runtime_env && !json_is_object(out->ray_runtime_env)) {
    snprintf(err, errlen, "spec.ray.runtimeEnv: want an object (Ray's runtime_env: pip, env_vars, working_dir...)");
    return CUBIT_EINVAL;
  }
  if (out->ray_entrypoint == NULL && !nonempty_array(spec, "command")) {
    snprintf(err, errlen, "spec.ray.entrypoint: required (or spec.command): the command Ray runs on its cluster");
    return CUBIT_EINVAL;
  }
  return 0;
}

/* spec.spark: the application spark-submit runs. */
static int parse_spark(const json_t *spec, tj_spec *out, char *err, size_t errlen) {
  const json_t *spark = json_object_get(spec, "spark");
  if (nonempty_array(spec, "command")) {
    snprintf(err, errlen, "spec.command: spark runs spark-submit; the program is spec.spark.mainApplicationFile");
    return CUBIT_EINVAL;
  }
  static const char *types[] = {"Python", "Scala", "Java", "R"};
  out->spark_type = js_str(spark, "type");
  int known = 0;
  for (size_t i = 0; out->spark_type && i < sizeof(types) / sizeof(types[0]); i++) known |= !strcmp(out->spark_type, types[i]);
  if (!known) {
    snprintf(err, errlen, "spec.spark.type: want Python, Scala, Java or R, got \"%s\"",
             out->spark_type ? out->spark_type : "");
    return CUBIT_EINVAL;
  }
  out->spark_main_file = js_str(spark, "mainApplicationFile");
  out->spark_main_class = js_str(spark, "mainClass");
  out->spark_version = js_str(spark, "sparkVersion");
  out->spark_conf = json_object_get(spark, "sparkConf");
  if (out->spark_main_file == NULL || out->spark_main_file[0] == '\0') {
    snprintf(err, errlen, "spec.spark.mainApplicationFile: required (local:///app/main.py, s3a://bucket/app.jar...)");
    return CUBIT_EINVAL;
  }
  if (out->spark_version == NULL || out->spark_version[0] == '\0') {
    snprintf(err, errlen, "spec.spark.sparkVersion: required (the image's Spark, e.g. 3.5.5)");
    return CUBIT_EINVAL;
  }
  int jvm = strcmp(out->spark_type, "Scala") == 0 || strcmp(out->spark_type, "Java") == 0;
  if (jvm && (out->spark_main_class == NULL || out->spark_main_class[0] == '\0')) {
    snprintf(err, errlen, "spec.spark.mainClass: required for a %s application", out->spark_type);
    return CUBIT_EINVAL;
  }
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)out->spark_conf, key, v) {
    if (!json_is_string(v)) {
      snprintf(err, errlen, "spec.spark.sparkConf.%s: want a string", key);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

/* The engine's own section, and none of another engine's. */
static int parse_engine_sections(const json_t *spec, tj_spec *out, char *err, size_t errlen) {
  if (json_object_get(spec, "ray") && out->framework != TJ_RAY) {
    snprintf(err, errlen, "spec.ray: only for framework ray");
    return CUBIT_EINVAL;
  }
  if (json_object_get(spec, "spark") && out->framework != TJ_SPARK) {
    snprintf(err, errlen, "spec.spark: only for framework spark");
    return CUBIT_EINVAL;
  }
  if (out->framework == TJ_RAY) return parse_ray(spec, out, err, errlen);
  if (out->framework == TJ_SPARK) return parse_spark(spec, out, err, errlen);
  return 0;
}

int tj_spec_parse(const json_t *tj, tj_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  json_t *spec = json_object_get(tj, "spec");
  const char *fw = js_str(spec, "framework");
  int f = -1;
  for (int i = 0; fw && i < TJ_NFRAMEWORKS; i++)
    if (strcmp(fw, framework_names[i]) == 0) f = i;
  if (f < 0) {
    snprintf(err, errlen,
             "spec.framework: want batch, pytorch, tensorflow, mpi, xgboost, volcano, paddle, jax, ray or spark, "
             "got \"%s\"",
             fw ? fw : "");
    return CUBIT_EINVAL;
  }
  out->framework = (tj_framework)f;
  out->image = js_str(spec, "image");
  if (out->image == NULL || *out->image == '\0') {
    snprintf(err, errlen, "spec.image: required");
    return CUBIT_EINVAL;
  }
  out->working_dir = js_str(spec, "workingDir");
  out->command = json_object_get(spec, "command");
  out->args = json_object_get(spec, "args");
  out->env = json_object_get(spec, "env");
  out->volumes = json_object_get(spec, "volumes");
  out->pod_labels = js_get(spec, "podMetadata.labels");
  out->pod_annotations = js_get(spec, "podMetadata.annotations");
  out->pod_template = json_object_get(spec, "podTemplate");
  if (pt_validate(out->pod_template, "spec.podTemplate", tj_container_name(out->framework), err, errlen))
    return CUBIT_EINVAL;
  if (json_is_null(out->pod_template)) out->pod_template = NULL;
  const char *const *valid = valid_roles(out->framework);
  const char *name;
  json_t *r;
  json_object_foreach(json_object_get(spec, "roles"), name, r) {
    if (out->nroles == TJ_MAX_ROLES) {
      snprintf(err, errlen, "spec.roles: at most %d roles", TJ_MAX_ROLES);
      return CUBIT_EINVAL;
    }
    if (strlen(name) >= sizeof(out->roles[0].name)) {
      snprintf(err, errlen, "spec.roles.%s: name longer than %zu characters", name, sizeof(out->roles[0].name) - 1);
      return CUBIT_EINVAL;
    }
    int known = valid == NULL;
    for (const char *const *v = valid; v && *v; v++) known |= strcmp(*v, name) == 0;
    if (!known) {
      snprintf(err, errlen, "spec.roles.%s: not a %s role", name, fw);
      return CUBIT_EINVAL;
    }
    tj_role *role = &out->roles[out->nroles++];
    snprintf(role->name, sizeof(role->name), "%s", name);
    char path[80];
    snprintf(path, sizeof(path), "spec.roles.%s", name);
    if (int_field(r, "replicas", 1, 1, path, &role->replicas, err, errlen) ||
        int_field(r, "parallelism", 0, 1, path, &role->parallelism, err, errlen) ||
        int_field(r, "completions", 0, 1, path, &role->completions, err, errlen))
      return CUBIT_EINVAL;
    if (parse_role_engine(out->framework, r, role, path, err, errlen)) return CUBIT_EINVAL;
    role->resources = json_object_get(r, "resources");
    role->image = js_str(r, "image");
    role->command = json_object_get(r, "command");
    role->args = json_object_get(r, "args");
    role->pod_template = json_object_get(r, "podTemplate");
    char ptpath[128];
    snprintf(ptpath, sizeof(ptpath), "%s.podTemplate", path);
    if (pt_validate(role->pod_template, ptpath, tj_container_name(out->framework), err, errlen)) return CUBIT_EINVAL;
    if (json_is_null(role->pod_template)) role->pod_template = NULL;
    /* A batch job runs 'parallelism' pods at once. */
    int at_once = out->framework == TJ_BATCH
                      ? (role->parallelism ? role->parallelism : role->replicas)
                      : role->replicas;
    out->total_pods += at_once;
  }
  if (out->nroles == 0) {
    snprintf(err, errlen, "spec.roles: at least one role");
    return CUBIT_EINVAL;
  }
  if (out->framework == TJ_BATCH && out->nroles != 1) {
    snprintf(err, errlen, "spec.roles: a batch job has exactly one role");
    return CUBIT_EINVAL;
  }
  for (const char *const *need = required_roles(out->framework); need && *need; need++)
    if (json_object_get(json_object_get(spec, "roles"), *need) == NULL) {
      snprintf(err, errlen, "spec.roles.%s: required for a %s job", *need, fw);
      return CUBIT_EINVAL;
    }
  if (parse_engine_sections(spec, out, err, errlen)) return CUBIT_EINVAL;
  json_t *gang = json_object_get(spec, "gang");
  out->gang = js_bool(gang, "enabled", out->total_pods > 1);
  if (int_field(gang, "minAvailable", 0, 1, "spec.gang", &out->min_available, err, errlen) ||
      int_field(gang, "scheduleTimeoutSeconds", 0, 1, "spec.gang", &out->schedule_timeout_s, err, errlen))
    return CUBIT_EINVAL;
  if (out->min_available > out->total_pods) {
    snprintf(err, errlen, "spec.gang.minAvailable: %d is more than the job's %d pods", out->min_available,
             out->total_pods);
    return CUBIT_EINVAL;
  }
  out->queue = js_str(gang, "queue");
  json_t *fp = json_object_get(spec, "failurePolicy");
  if (int_field(fp, "backoffLimit", 0, 0, "spec.failurePolicy", &out->backoff_limit, err, errlen)) return CUBIT_EINVAL;
  out->restart_policy = js_str(fp, "restartPolicy") ? js_str(fp, "restartPolicy") : "Never";
  if (strcmp(out->restart_policy, "OnFailure") && strcmp(out->restart_policy, "Never") &&
      strcmp(out->restart_policy, "ExitCode")) {
    snprintf(err, errlen, "spec.failurePolicy.restartPolicy: want OnFailure, Never or ExitCode, got \"%s\"",
             out->restart_policy);
    return CUBIT_EINVAL;
  }
  json_t *rg = json_object_get(fp, "restartGang");
  out->restart_gang = json_is_object(rg);
  if (int_field(rg, "maxRestarts", 0, 0, "spec.failurePolicy.restartGang", &out->max_restarts, err, errlen))
    return CUBIT_EINVAL;
  out->active_deadline_s = js_int(spec, "activeDeadlineSeconds", 0);
  out->ttl_s = (int)js_int(spec, "ttlSecondsAfterFinished", -1);
  if (placement_spec_parse(spec, &out->place, err, errlen)) return CUBIT_EINVAL;
  out->suspend = js_bool(spec, "suspend", 0);
  out->debug = js_bool(spec, "debug", 0);
  return 0;
}
