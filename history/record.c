/* Deciding the records of a run (record.h). Pure: no I/O, no clock. */
#include "history/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/inferenceservice/inferenceservice.h"
#include "api/labels.h"
#include "api/notebook/notebook.h"
#include "api/pipeline/pipeline.h"
#include "api/trainingjob/trainingjob.h"
#include "api/usage/usage.h"
#include "util/alloc.h"
#include "runtime/apply.h"
#include "util/json.h"
#include "util/time.h"

/* The PipelineRun controller labels its pods with the run's name; the
 * label is the controller's own (controllers/pipeline), spelled here
 * because history/ does not see controllers/. */
#define HIST_PIPELINERUN_POD_LABEL "cubit.dev/pipelinerun"

const kube_resource hist_experiment_resource = {"cubit.dev", "v1alpha1", "experiments", "Experiment", 1};


const hist_kind hist_kinds[] = {
    {&trainingjob_resource, TJ_LABEL, 1, 0},
    {&pl_pipelinerun_resource, HIST_PIPELINERUN_POD_LABEL, 1, 1},
    {&notebook_resource, NOTEBOOK_LABEL, 0, 0},
    {&inference_resource, INFERENCE_LABEL, 0, 0},
    {&hist_experiment_resource, CUBIT_LABEL_EXPERIMENT, 1, 1},
    {NULL, NULL, 0, 0},
};

/* metadata.<map>[key] as a string (keys hold dots: no js_str path). */
static const char *meta_str(const json_t *obj, const char *map, const char *key) {
  return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), map), key));
}

/* The GPU model a pod runs on: its cubit.dev/gpu request's model, else the
 * profile's model node selector, else the profile's default model. */
static void pod_model(const json_t *pod, const gpu_profile *gpu, char model[GPU_MODEL_LEN]) {
  model[0] = '\0';
  const char *req = meta_str(pod, "annotations", GPU_GRAMMAR_KEY);
  gpu_request r;
  if (req && gpu_request_parse(req, &r, NULL, 0) == 0 && r.model[0]) {
    snprintf(model, GPU_MODEL_LEN, "%s", r.model);
    return;
  }
  const char *label = gpu ? gpu_profile_model_label(gpu) : "nvidia.com/gpu.product";
  const char *sel = json_string_value(json_object_get(json_object_get(js_get(pod, "spec"), "nodeSelector"), label));
  if (sel) {
    snprintf(model, GPU_MODEL_LEN, "%s", sel);
    return;
  }
  const char *def = gpu ? gpu_profile_default_model(gpu) : NULL;
  if (def) snprintf(model, GPU_MODEL_LEN, "%s", def);
}

/* Earliest start and latest finish over the containers' current and last states. */
static void container_times(const json_t *statuses, int64_t *start, int64_t *finish, int *running) {
  size_t i;
  json_t *cs;
  json_array_foreach(statuses, i, cs) {
    static const char *const starts[] = {"state.running.startedAt", "state.terminated.startedAt",
                                         "lastState.terminated.startedAt"};
    for (size_t k = 0; k < 3; k++) {
      int64_t t = js_time(cs, starts[k]);
      if (t > 0 && (*start == 0 || t < *start)) *start = t;
    }
    int64_t f = js_time(cs, "state.terminated.finishedAt");
    if (f > *finish) *finish = f;
    if (js_get(cs, "state.running")) *running = 1;
  }
}

int hist_pod_interval(const json_t *pod, const gpu_profile *gpu, int64_t now, hist_interval *iv,
                      char model[GPU_MODEL_LEN]) {
  int64_t start = 0, finish = 0;
  int running = 0;
  container_times(js_get(pod, "status.containerStatuses"), &start, &finish, &running);
  if (start == 0) return -1;
  memset(iv, 0, sizeof *iv);
  iv->pod_uid = js_uid(pod);
  iv->pod_name = js_name(pod);
  iv->node = js_str(pod, "spec.nodeName");
  iv->started_at = start;
  const char *phase = js_str(pod, "status.phase");
  int over = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
  /* A pod being deleted whose containers all stopped is over too. */
  if (!over && !running && js_get(pod, "metadata.deletionTimestamp") && finish > 0) over = 1;
  if (over) iv->ended_at = finish > 0 ? finish : now;
  usage u;
  if (usage_of_pod_spec(js_get(pod, "spec"), js_get(pod, "metadata.annotations"), gpu, &u, NULL, 0) == 0) {
    iv->cpu_milli = u.cpu_milli;
    iv->gpu_milli = u.gpu_milli;
  }
  pod_model(pod, gpu, model);
  iv->gpu_model = model;
  return 0;
}

/* The uid of obj's ownerReference of 'kind', or NULL. */
static const char *owner_uid(const json_t *obj, const char *kind) {
  size_t i;
  json_t *ref;
  json_array_foreach(js_get(obj, "metadata.ownerReferences"), i, ref) {
    const char *k = js_str(ref, "kind");
    if (k && strcmp(k, kind) == 0) return js_str(ref, "uid");
  }
  return NULL;
}

/* A positive decimal label value, else 0. */
static int64_t label_number(const char *v) {
  if (v == NULL || v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9) return 0;
  return strtoll(v, NULL, 10);
}

void hist_observe_parent(const json_t *obj, hist_run *run) {
  const char *pipelinerun = meta_str(obj, "labels", CUBIT_LABEL_RUN);
  const char *task = meta_str(obj, "labels", CUBIT_LABEL_TASK);
  const char *experiment = meta_str(obj, "labels", CUBIT_LABEL_EXPERIMENT);
  int64_t trial = label_number(meta_str(obj, "labels", CUBIT_LABEL_TRIAL));
  if (pipelinerun && task) {
    run->parent_kind = "PipelineRun";
    run->parent_name = pipelinerun;
    run->parent_uid = owner_uid(obj, "PipelineRun");
    run->task = task;
    run->attempt = label_number(meta_str(obj, "labels", CUBIT_LABEL_ATTEMPT));
    return;
  }
  if (experiment == NULL || trial == 0) return;
  run->parent_kind = "Experiment";
  run->parent_name = experiment;
  run->parent_uid = owner_uid(obj, "Experiment");
  run->trial = trial;
  /* The assignment is kept only when it is the JSON object it should be. */
  const char *params = meta_str(obj, "annotations", CUBIT_ANNOTATION_TRIAL_PARAMETERS);
  json_t *parsed = params ? json_loads(params, 0, NULL) : NULL;
  if (json_is_object(parsed)) run->parameters = params;
  json_decref(parsed);
  const char *metrics = meta_str(obj, "annotations", CUBIT_ANNOTATION_TRIAL_METRICS);
  json_t *m = metrics ? json_loads(metrics, 0, NULL) : NULL;
  json_t *value = json_object_get(m, "value");
  if (json_is_number(value)) {
    run->has_value = 1;
    run->value = json_number_value(value);
  }
  json_decref(m);
}

static const json_t *ready_condition(const json_t *obj) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    const char *type = js_str(c, "type");
    if (type && strcmp(type, "Ready") == 0) return c;
  }
  return NULL;
}

/* When the current state began: the latest lastTransitionTime of the
 * status' conditions (the phase changes with them), else now. */
static int64_t state_since(const json_t *obj, int64_t now) {
  int64_t at = 0;
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    int64_t t = js_time(c, "lastTransitionTime");
    if (t > at) at = t;
  }
  return at > 0 && at <= now ? at : now;
}

void hist_observe_run(const hist_kind *k, const json_t *obj, const json_t *const *pods, size_t npods,
                      const json_t *ns, const gpu_profile *gpu, int64_t now, hist_records *r) {
  memset(r, 0, sizeof *r);
  hist_run *run = &r->run;
  run->uid = js_uid(obj);
  run->kind = k->resource->kind;
  run->ns = js_namespace(obj);
  run->name = js_name(obj);
  run->project = ns ? meta_str(ns, "labels", CUBIT_LABEL_PROJECT) : NULL;
  if (run->project == NULL) run->project = meta_str(obj, "labels", CUBIT_LABEL_PROJECT);
  run->creator = meta_str(obj, "annotations", CUBIT_ANNOTATION_USER);
  run->cluster = "local";
  run->template_ref = js_str(obj, "spec.templateRef.name");
  if (run->template_ref == NULL) run->template_ref = js_str(obj, "spec.pipelineRef.name");
  if (run->template_ref == NULL) run->template_ref = js_str(obj, "spec.pipeline");
  run->phase = js_str(obj, "status.phase");
  run->created_at = js_time(obj, "metadata.creationTimestamp");
  if (run->created_at <= 0) run->created_at = now;
  /* for the label filters of the runs list (NULL: it has none) */
  run->labels = js_get(obj, "metadata.labels");
  run->labels_known = 1;
  if (strcmp(run->kind, trainingjob_resource.kind) == 0) hist_observe_parent(obj, run);

  const json_t *ready = ready_condition(obj);
  r->reason = ready ? js_str(ready, "reason") : NULL;
  r->message = ready ? js_str(ready, "message") : NULL;
  r->transition_at = state_since(obj, now);
  if (k->batch && run->phase && (strcmp(run->phase, "Succeeded") == 0 || strcmp(run->phase, "Failed") == 0))
    run->finished_at = r->transition_at;
  r->deleting_since = js_time(obj, "metadata.deletionTimestamp");
  r->deleting = js_get(obj, "metadata.deletionTimestamp") != NULL;
  if (r->deleting && r->deleting_since <= 0) r->deleting_since = now;

  usage want = {0};
  int have_want = usage_of_object(k->resource->group, k->resource->kind, obj, gpu, &want, NULL, 0) == 0;
  if (npods > 0) {
    r->pods = xcalloc(npods, sizeof *r->pods);
    r->models = xcalloc(npods, sizeof *r->models);
  }
  for (size_t i = 0; i < npods; i++) {
    /* a task's or trial's pod is its TrainingJob's record's */
    if (k->parent && meta_str(pods[i], "labels", TJ_LABEL)) continue;
    usage u;
    if (!have_want &&
        usage_of_pod_spec(js_get(pods[i], "spec"), js_get(pods[i], "metadata.annotations"), gpu, &u, NULL, 0) == 0)
      usage_add(&want, &u);
    if (hist_pod_interval(pods[i], gpu, now, &r->pods[r->npods], r->models[r->npods]) == 0) {
      r->pods[r->npods].run_uid = run->uid;
      r->pods[r->npods].gpu_model = r->models[r->npods];
      r->npods++;
    }
  }
  run->cpu_milli = want.cpu_milli;
  run->memory_bytes = want.memory_bytes;
  run->gpu_milli = want.gpu_milli;
  for (size_t i = 0; i < r->npods; i++)
    if (r->models[i][0]) {
      run->gpu_model = r->models[i];
      break;
    }
}

void hist_records_free(hist_records *r) {
  free(r->pods);
  free(r->models);
  r->pods = NULL;
  r->models = NULL;
  r->npods = 0;
}

void hist_plan_finalizer(const json_t *obj, const hist_records *r, int written, int64_t timeout_s, int64_t now,
                         rt_plan *plan) {
  int has = rt_has_finalizer(obj, HIST_FINALIZER);
  if (!r->deleting) {
    if (!has) rt_plan_add_finalizer(plan, HIST_FINALIZER);
    return;
  }
  if (!has) return;
  if (written) {
    rt_plan_remove_finalizer(plan, HIST_FINALIZER);
    return;
  }
  int64_t waited = now - r->deleting_since;
  if (waited >= timeout_s) {
    rt_plan_remove_finalizer(plan, HIST_FINALIZER);
    rt_plan_event(plan, "Warning", "HistoryNotRecorded",
                  "the run's final record could not be written within %llds; deletion goes ahead without it",
                  (long long)timeout_s);
    return;
  }
  rt_plan_requeue_after(plan, (timeout_s - waited) * 1000);
}

void hist_plan_cleanup(const json_t *obj, rt_plan *plan) {
  if (rt_has_finalizer(obj, HIST_FINALIZER)) rt_plan_remove_finalizer(plan, HIST_FINALIZER);
}
