#include "api/gang/gang.h"

#include <stdio.h>
#include <string.h>

#include "api/trainingjob/trainingjob.h"
#include "util/json.h"

int gang_config_parse(const json_t *j, gang_config *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (j == NULL || json_is_null(j)) return 0;
  if (!json_is_object(j)) {
    snprintf(err, errlen, "gang: want an object");
    return CUBIT_EINVAL;
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    if (strcmp(key, "scheduler") != 0 && strcmp(key, "kueueQueue") != 0) {
      snprintf(err, errlen, "gang.%.64s: unknown setting (want scheduler, kueueQueue)", key);
      return CUBIT_EINVAL;
    }
    if (!json_is_string(v)) {
      snprintf(err, errlen, "gang.%s: want a string", key);
      return CUBIT_EINVAL;
    }
  }
  const char *s = js_str(j, "scheduler");
  if (s == NULL || strcmp(s, "none") == 0) out->scheduler = GANG_NONE;
  else if (strcmp(s, "volcano") == 0) out->scheduler = GANG_VOLCANO;
  else if (strcmp(s, "coscheduling") == 0) out->scheduler = GANG_COSCHEDULING;
  else if (strcmp(s, "kueue") == 0) out->scheduler = GANG_KUEUE;
  else {
    snprintf(err, errlen, "gang.scheduler: want volcano, coscheduling, kueue or none, got \"%s\"", s);
    return CUBIT_EINVAL;
  }
  const char *q = js_str(j, "kueueQueue");
  if (q) {
    if (strlen(q) >= sizeof(out->kueue_queue)) {
      snprintf(err, errlen, "gang.kueueQueue: longer than %zu characters", sizeof(out->kueue_queue) - 1);
      return CUBIT_EINVAL;
    }
    snprintf(out->kueue_queue, sizeof(out->kueue_queue), "%s", q);
  }
  return 0;
}

const char *gang_scheduler_name(gang_scheduler s) {
  switch (s) {
    case GANG_VOLCANO: return "volcano";
    case GANG_COSCHEDULING: return "coscheduling";
    case GANG_KUEUE: return "kueue";
    default: return "none";
  }
}

int gang_of_pod(const json_t *pod, char *group, size_t glen, char *role, size_t rlen) {
  json_t *labels = js_get(pod, "metadata.labels");
  const char *tj = json_string_value(json_object_get(labels, TJ_LABEL));
  const char *tj_role_label = json_string_value(json_object_get(labels, TJ_ROLE_LABEL));
  const char *replica = json_string_value(json_object_get(labels, "training.kubeflow.org/replica-type"));
  json_t *ref = js_controller_ref(pod);
  const char *kind = js_str(ref, "kind"), *api = js_str(ref, "apiVersion"), *name = js_str(ref, "name");
  if (tj) {
    snprintf(group, glen, "%s", tj);
    snprintf(role, rlen, "%s", tj_role_label ? tj_role_label : "");
    return 1;
  }
  if (kind == NULL || api == NULL || name == NULL) return 0;
  int operator_kind = strncmp(api, "kubeflow.org/", 13) == 0 &&
                      (strcmp(kind, "TFJob") == 0 || strcmp(kind, "PyTorchJob") == 0 || strcmp(kind, "MPIJob") == 0 ||
                       strcmp(kind, "XGBoostJob") == 0);
  int volcano_job = strncmp(api, "batch.volcano.sh/", 17) == 0 && strcmp(kind, "Job") == 0;
  if (!operator_kind && !volcano_job) return 0;
  snprintf(group, glen, "%s", name);
  const char *task = json_string_value(json_object_get(js_get(pod, "metadata.annotations"), "volcano.sh/task-spec"));
  snprintf(role, rlen, "%s", replica ? replica : task ? task : "");
  return 1;
}

static int set_string(json_t *obj, const char *key, const char *value) {
  const char *have = json_string_value(json_object_get(obj, key));
  if (have && strcmp(have, value) == 0) return 0;
  json_object_set_new(obj, key, json_string(value));
  return 1;
}

int gang_mark(const gang_config *g, json_t *pod, const char *group, const char *role, const char *project) {
  int changed = 0;
  switch (g->scheduler) {
    case GANG_VOLCANO: {
      json_t *ann = js_ensure_obj(pod, "metadata.annotations");
      changed |= set_string(json_object_get(pod, "spec"), "schedulerName", "volcano");
      /* A pod that already names its group (Volcano's own controller) keeps it. */
      if (json_object_get(ann, "scheduling.k8s.io/group-name") == NULL)
        changed |= set_string(ann, "scheduling.k8s.io/group-name", group);
      if (role && *role && json_object_get(ann, "volcano.sh/task-spec") == NULL)
        changed |= set_string(ann, "volcano.sh/task-spec", role);
      break;
    }
    case GANG_COSCHEDULING:
      changed |= set_string(js_ensure_obj(pod, "metadata.labels"), "scheduling.x-k8s.io/pod-group", group);
      break;
    case GANG_KUEUE:
      changed |= set_string(js_ensure_obj(pod, "metadata.labels"), "kueue.x-k8s.io/queue-name",
                            g->kueue_queue[0] ? g->kueue_queue : project);
      break;
    case GANG_NONE:
      break;
  }
  return changed;
}
