/* A trial: its TrainingJob, the pod its metrics are read from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/labels.h"
#include "api/trainingjob/trainingjob.h"
#include "controllers/experiment/experiment.h"
#include "runtime/apply.h"
#include "util/alloc.h"
#include "util/json.h"

static int has_record(const json_t *trial) {
  return json_object_get(js_get(trial, "metadata.annotations"), CUBIT_ANNOTATION_TRIAL_METRICS) != NULL;
}

int exp_trial_wants_metrics(const exp_spec *s, const json_t *trial) {
  if (has_record(trial)) return 0;
  const char *phase = js_str(trial, "status.phase");
  if (phase == NULL) return 0;
  if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0) return 1;
  return strcmp(phase, "Running") == 0 && s->early_stopping.kind != HPO_ES_NONE &&
         s->metrics_source == EXP_METRICS_STDOUT;
}

static int leader_role(const json_t *pod) {
  const char *role = json_string_value(json_object_get(js_get(pod, "metadata.labels"), CUBIT_LABEL_ROLE));
  return role && (strcmp(role, "master") == 0 || strcmp(role, "chief") == 0 || strcmp(role, "launcher") == 0);
}

const json_t *exp_trial_pod(const json_t *const *pods, size_t npods) {
  const json_t *best = NULL;
  for (size_t i = 0; i < npods; i++) {
    const json_t *p = pods[i];
    if (js_get(p, "metadata.deletionTimestamp") || js_name(p) == NULL) continue;
    if (best == NULL || (leader_role(p) && !leader_role(best)) ||
        (leader_role(p) == leader_role(best) && strcmp(js_name(p), js_name(best)) < 0))
      best = p;
  }
  return best;
}

const char *exp_termination_message(const json_t *pod, const char *container) {
  const json_t *statuses = js_get(pod, "status.containerStatuses");
  const char *any = NULL;
  size_t i;
  const json_t *cs;
  json_array_foreach(statuses, i, cs) {
    const char *msg = js_str(cs, "state.terminated.message");
    if (msg == NULL) continue;
    const char *name = js_str(cs, "name");
    if (name && container && strcmp(name, container) == 0) return msg;
    if (any == NULL) any = msg;
  }
  return any;
}

/* The file source: the trial container's termination message path. */
static void set_message_path(json_t *spec, const char *container, const char *path) {
  json_t *pt = js_ensure_obj(spec, "podTemplate");
  json_t *ps = js_ensure_obj(pt, "spec");
  json_t *containers = json_object_get(ps, "containers");
  if (!json_is_array(containers)) {
    containers = json_array();
    json_object_set_new(ps, "containers", containers);
  }
  size_t i;
  json_t *c;
  json_array_foreach(containers, i, c) {
    const char *name = js_str(c, "name");
    if (name && strcmp(name, container) == 0) {
      json_object_set_new(c, "terminationMessagePath", json_string(path));
      return;
    }
  }
  json_array_append_new(containers, json_pack("{s:s, s:s}", "name", container, "terminationMessagePath", path));
}

int exp_trial_desired(const json_t *experiment, const exp_spec *s, const json_t *tmpl, int64_t number,
                      const double *x, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  const char *ns = js_namespace(experiment), *name = js_name(experiment);
  exp_trial_refs refs;
  exp_trial_refs_init(&refs, &s->space, ns, name, (long long)number, x);
  json_t *spec = NULL;
  int rc = exp_trial_spec(s, json_object_get(tmpl, "spec"), &refs, &spec, err, errlen);
  if (rc == 0 && !json_is_object(spec)) rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "the trial's spec is no object");
  if (rc) {
    json_decref(spec);
    exp_trial_refs_free(&refs);
    return CUBIT_EINVAL;
  }
  char num[24];
  snprintf(num, sizeof(num), "%lld", (long long)number);
  /* The trial's pods carry the experiment and the trial's number too. */
  json_t *pod_labels = js_ensure_obj(js_ensure_obj(spec, "podMetadata"), "labels");
  json_object_set_new(pod_labels, CUBIT_LABEL_EXPERIMENT, json_string(name));
  json_object_set_new(pod_labels, CUBIT_LABEL_TRIAL, json_string(num));
  json_t *assignment = hpo_assignment_json(&s->space, x);
  char *assignment_text = json_dumps(assignment, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(assignment);
  json_t *annotations = json_pack("{s:s}", CUBIT_ANNOTATION_TRIAL_PARAMETERS, assignment_text);
  free(assignment_text);
  /* The creator is the trial's (quota per member, personal volume). */
  const char *user = json_string_value(json_object_get(js_get(experiment, "metadata.annotations"), "cubit.dev/user"));
  if (user) json_object_set_new(annotations, "cubit.dev/user", json_string(user));
  json_t *tj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:o}, s:o}", "apiVersion", "cubit.dev/v1alpha1", "kind",
                         "TrainingJob", "metadata", "name", refs.name, "namespace", ns, "labels",
                         CUBIT_LABEL_EXPERIMENT, name, CUBIT_LABEL_TRIAL, num, "annotations", annotations, "spec",
                         spec);
  exp_trial_refs_free(&refs);
  rt_set_controller_ref(tj, experiment);
  tj_spec parsed;
  char why[512];
  if (tj_spec_parse(tj, &parsed, why, sizeof(why)) == 0 && s->metrics_source == EXP_METRICS_FILE &&
      s->metrics_path[0]) {
    set_message_path(json_object_get(tj, "spec"), tj_container_name(parsed.framework), s->metrics_path);
  }
  if (tj_spec_parse(tj, &parsed, why, sizeof(why))) {
    const char *rest = strncmp(why, "spec.", 5) == 0 ? why + 5 : why;
    json_decref(tj);
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "the trial template makes no valid TrainingJob: %s%s",
                        s->source == EXP_TEMPLATE_INLINE ? "spec.trialTemplate.trainingJob." : "spec.workload.", rest);
  }
  *out = tj;
  return 0;
}
