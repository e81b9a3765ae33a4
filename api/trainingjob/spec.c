#include <stdio.h>
#include <string.h>

#include "api/podtemplate/podtemplate.h"
#include "api/trainingjob/trainingjob.h"
#include "util/json.h"

const kube_resource trainingjob_resource = {"cubit.dev", "v1alpha1", "trainingjobs", "TrainingJob", 1};

static const char *framework_names[TJ_NFRAMEWORKS] = {"batch", "pytorch", "tensorflow", "mpi", "xgboost", "volcano"};

const char *tj_framework_name(tj_framework f) {
  return f < TJ_NFRAMEWORKS ? framework_names[f] : "?";
}

const char *tj_container_name(tj_framework f) {
  switch (f) {
    case TJ_PYTORCH: return "pytorch";
    case TJ_TENSORFLOW: return "tensorflow";
    case TJ_MPI: return "mpi";
    case TJ_XGBOOST: return "xgboost";
    default: return "main";
  }
}

int tj_role_completions(const tj_spec *s, const tj_role *r) {
  if (s->framework == TJ_BATCH) return r->completions ? r->completions : r->replicas;
  return r->replicas;
}

/* The role names each framework knows; NULL = any (volcano, batch). */
static const char *const *valid_roles(tj_framework f) {
  static const char *pytorch[] = {"master", "worker", NULL};
  static const char *tensorflow[] = {"chief", "ps", "worker", "evaluator", NULL};
  static const char *mpi[] = {"launcher", "worker", NULL};
  switch (f) {
    case TJ_PYTORCH:
    case TJ_XGBOOST: return pytorch;
    case TJ_TENSORFLOW: return tensorflow;
    case TJ_MPI: return mpi;
    default: return NULL;
  }
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

int tj_spec_parse(const json_t *tj, tj_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  json_t *spec = json_object_get(tj, "spec");
  const char *fw = js_str(spec, "framework");
  int f = -1;
  for (int i = 0; fw && i < TJ_NFRAMEWORKS; i++)
    if (strcmp(fw, framework_names[i]) == 0) f = i;
  if (f < 0) {
    snprintf(err, errlen, "spec.framework: want batch, pytorch, tensorflow, mpi, xgboost or volcano, got \"%s\"",
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
  out->suspend = js_bool(spec, "suspend", 0);
  out->debug = js_bool(spec, "debug", 0);
  return 0;
}
