#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "util/alloc.h"
#include "util/dag.h"
#include "util/json.h"
#include "util/time.h"

const kube_resource pl_jobtemplate_resource = {"cubit.dev", "v1alpha1", "jobtemplates", "JobTemplate", 1};
const kube_resource pl_clusterjobtemplate_resource = {"cubit.dev", "v1alpha1", "clusterjobtemplates",
                                                      "ClusterJobTemplate", 0};
const kube_resource pl_pipeline_resource = {"cubit.dev", "v1alpha1", "pipelines", "Pipeline", 1};
const kube_resource pl_pipelinerun_resource = {"cubit.dev", "v1alpha1", "pipelineruns", "PipelineRun", 1};

/* ------------------------------------------------------- templates */

static int template_ref_check(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  const pl_template *t = arg;
  if (ref->kind == PL_REF_TRIAL) {
    snprintf(err, errlen, "trial.* is known only in an Experiment's trial template (pass it as a parameter)");
    return CUBIT_EINVAL;
  }
  if (ref->kind == PL_REF_PARAM && pl_params_find(&t->params, ref->name) == NULL) {
    snprintf(err, errlen, "the template has no parameter %s", ref->name);
    return CUBIT_EINVAL;
  }
  return 0; /* run.* always exists; tasks.* is checked where the template is used */
}

static int relative_path_ok(const char *p) {
  if (p == NULL || *p == '\0' || *p == '/') return 0;
  const char *s = p;
  while (*s) {
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    s += n;
    if (*s == '/') s++;
  }
  return 1;
}

int pl_template_parse(const json_t *spec, pl_template *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (pl_params_parse(json_object_get(spec, "parameters"), "spec.parameters", &out->params, err, errlen))
    return CUBIT_EINVAL;
  out->workload = json_object_get(spec, "workload");
  if (!json_is_object(out->workload)) {
    snprintf(err, errlen, "spec.workload: required (a TrainingJob spec)");
    goto fail;
  }
  size_t i;
  json_t *o;
  json_t *outputs = json_object_get(spec, "outputs");
  if (json_array_size(outputs) > PL_MAX_OUTPUTS) {
    snprintf(err, errlen, "spec.outputs: at most %d outputs", PL_MAX_OUTPUTS);
    goto fail;
  }
  json_array_foreach(outputs, i, o) {
    pl_output *po = &out->outputs[out->noutputs];
    po->name = js_str(o, "name");
    po->path = js_str(o, "path");
    if (po->name == NULL || *po->name == '\0' || strlen(po->name) > 63 || strspn(po->name,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(po->name) ||
        (po->name[0] >= '0' && po->name[0] <= '9')) {
      snprintf(err, errlen, "spec.outputs[%zu].name: want a name of letters, digits and _ (not starting with a digit)",
               i);
      goto fail;
    }
    for (size_t k = 0; k < out->noutputs; k++)
      if (strcmp(out->outputs[k].name, po->name) == 0) {
        snprintf(err, errlen, "spec.outputs[%zu].name: output %s is declared twice", i, po->name);
        goto fail;
      }
    if (!relative_path_ok(po->path)) {
      snprintf(err, errlen, "spec.outputs[%zu].path: want a relative path without \"..\" (output %s), got \"%s\"", i,
               po->name, po->path ? po->path : "");
      goto fail;
    }
    out->noutputs++;
  }
  if (pl_subst_check(out->workload, "spec.workload", template_ref_check, out, err, errlen)) goto fail;
  return 0;
fail:
  pl_template_free(out);
  return CUBIT_EINVAL;
}

void pl_template_free(pl_template *t) {
  pl_params_free(&t->params);
}

/* A value of p's type for checking the workload: its default, or one the
 * type and range allow. */
static json_t *sample_value(const pl_param *p) {
  if (p->def) {
    json_t *v;
    char err[64];
    if (pl_param_coerce(p, p->def, "", &v, err, sizeof(err)) == 0) return v;
  }
  switch (p->type) {
    case PL_INT: {
      double v = p->has_min ? p->min : p->has_max && p->max < 1 ? p->max : 1;
      return json_integer((json_int_t)v);
    }
    case PL_FLOAT: return json_real(p->has_min ? p->min : p->has_max && p->max < 1 ? p->max : 1);
    case PL_BOOL: return json_false();
    case PL_ENUM: return json_incref(json_array_get(p->enum_values, 0));
    case PL_JSON: return json_object();
    default: return json_string("x");
  }
}

typedef struct sample_ctx {
  const pl_template *t;
  json_t *values;
} sample_ctx;

static const json_t *sample_lookup(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  sample_ctx *c = arg;
  if (ref->kind == PL_REF_PARAM) {
    json_t *v = json_object_get(c->values, ref->name);
    if (v == NULL) snprintf(err, errlen, "no parameter %s", ref->name);
    return v;
  }
  if (ref->kind == PL_REF_RUN && strcmp(ref->name, "scheduledTime") == 0)
    return json_object_get(c->values, " scheduledTime");
  return json_object_get(c->values, " text");
}

int pl_template_check_workload(const pl_template *t, pl_workload_check_fn check, void *arg, char *err,
                               size_t errlen) {
  sample_ctx c = {t, json_object()};
  for (size_t i = 0; i < t->params.n; i++)
    json_object_set_new(c.values, t->params.items[i].name, sample_value(&t->params.items[i]));
  json_object_set_new(c.values, " text", json_string("x"));
  json_object_set_new(c.values, " scheduledTime", json_string("2026-01-01T00:00:00Z"));
  json_t *spec = NULL;
  int rc = pl_subst_json(t->workload, "spec.workload", sample_lookup, &c, &spec, err, errlen);
  json_decref(c.values);
  if (rc) return rc;
  json_t *tj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "cubit.dev/v1alpha1", "kind", "TrainingJob",
                         "metadata", "name", "check", "namespace", "check", "spec", spec);
  char why[512] = "";
  rc = check(tj, arg, why, sizeof(why));
  json_decref(tj);
  if (rc) {
    /* The TrainingJob's checks name fields as "spec.x"; here they are spec.workload.x. */
    const char *rest = strncmp(why, "spec.", 5) == 0 ? why + 5 : why;
    snprintf(err, errlen, "spec.workload.%s (checked with each parameter's default)", rest);
    return CUBIT_EINVAL;
  }
  return 0;
}

/* --------------------------------------------------------- pipeline */

int pl_spec_task(const pl_spec *s, const char *name) {
  for (size_t i = 0; name && i < s->ntasks; i++)
    if (strcmp(s->tasks[i].name, name) == 0) return (int)i;
  return -1;
}

static int dns_label(const char *s, size_t max) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i + 1 < n))) return 0;
  }
  return 1;
}

static int int_field(const json_t *o, const char *key, int64_t def, int64_t min, int64_t max, const char *path,
                     int64_t *out, char *err, size_t errlen) {
  json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v)) {
    *out = def;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
    snprintf(err, errlen, "%s.%s: want an integer from %lld to %lld", path, key, (long long)min, (long long)max);
    return CUBIT_EINVAL;
  }
  *out = json_integer_value(v);
  return 0;
}

static int time_field(const json_t *o, const char *key, const char *path, int64_t *out, char *err, size_t errlen) {
  const char *s = js_str(o, key);
  *out = 0;
  if (s == NULL) return 0;
  if (time_parse_rfc3339(s, out)) {
    snprintf(err, errlen, "%s.%s: want an RFC 3339 time (2026-01-02T15:04:05Z), got \"%s\"", path, key, s);
    return CUBIT_EINVAL;
  }
  return 0;
}

static int parse_schedule(const json_t *sj, pl_schedule *s, char *err, size_t errlen) {
  const char *path = "spec.schedule";
  s->cron_src = js_str(sj, "cron");
  s->tz_src = js_str(sj, "timeZone");
  char why[400];
  if (s->cron_src == NULL) {
    snprintf(err, errlen, "%s.cron: required", path);
    return CUBIT_EINVAL;
  }
  if (cron_parse(s->cron_src, &s->cron, why, sizeof(why))) {
    snprintf(err, errlen, "%s.cron: %s", path, why);
    return CUBIT_EINVAL;
  }
  if (tz_load(s->tz_src, &s->zone, why, sizeof(why))) {
    snprintf(err, errlen, "%s.timeZone: %s", path, why);
    return CUBIT_EINVAL;
  }
  s->suspend = js_bool(sj, "suspend", 0);
  if (time_field(sj, "startTime", path, &s->start, err, errlen) ||
      time_field(sj, "endTime", path, &s->end, err, errlen))
    return CUBIT_EINVAL;
  if (s->start && s->end && s->end < s->start) {
    snprintf(err, errlen, "%s.endTime: before startTime", path);
    return CUBIT_EINVAL;
  }
  s->catchup = js_bool(sj, "catchup", 1);
  s->depends_on_past = js_bool(sj, "dependsOnPast", 0);
  const char *policy = js_str(sj, "concurrencyPolicy");
  if (policy == NULL || strcmp(policy, "Allow") == 0) s->policy = PL_ALLOW;
  else if (strcmp(policy, "Forbid") == 0) s->policy = PL_FORBID;
  else if (strcmp(policy, "Replace") == 0) s->policy = PL_REPLACE;
  else {
    snprintf(err, errlen, "%s.concurrencyPolicy: want Allow, Forbid or Replace, got \"%s\"", path, policy);
    return CUBIT_EINVAL;
  }
  int64_t v;
  if (int_field(sj, "maxActiveRuns", 0, 0, 10000, path, &v, err, errlen)) return CUBIT_EINVAL;
  s->max_active = (int)v;
  if (int_field(sj, "startingDeadlineSeconds", -1, 0, INT64_C(1) << 40, path, &s->deadline_s, err, errlen) ||
      int_field(sj, "runTTLSecondsAfterFinished", -1, 0, INT64_C(1) << 40, path, &s->ttl_s, err, errlen))
    return CUBIT_EINVAL;
  if (int_field(sj, "successfulRunsHistoryLimit", 3, 0, 10000, path, &v, err, errlen)) return CUBIT_EINVAL;
  s->keep_succeeded = (int)v;
  if (int_field(sj, "failedRunsHistoryLimit", 1, 0, 10000, path, &v, err, errlen)) return CUBIT_EINVAL;
  s->keep_failed = (int)v;
  return 0;
}

static int parse_work_volume(const json_t *wj, pl_work_volume *w, char *err, size_t errlen) {
  memset(w, 0, sizeof(*w));
  if (wj == NULL || json_is_null(wj)) return 0;
  w->mount_path = js_str(wj, "mountPath") ? js_str(wj, "mountPath") : "/cubit/work";
  if (w->mount_path[0] != '/') {
    snprintf(err, errlen, "spec.workVolume.mountPath: want an absolute path");
    return CUBIT_EINVAL;
  }
  json_t *tmpl = json_object_get(wj, "volumeClaimTemplate");
  w->claim_name = js_str(wj, "claimName");
  if ((tmpl != NULL) == (w->claim_name != NULL)) {
    snprintf(err, errlen, "spec.workVolume: set exactly one of volumeClaimTemplate and claimName");
    return CUBIT_EINVAL;
  }
  if (tmpl) {
    w->kind = PL_WORK_TEMPLATE;
    w->claim_spec = json_object_get(tmpl, "spec");
    if (!json_is_object(w->claim_spec)) {
      snprintf(err, errlen, "spec.workVolume.volumeClaimTemplate.spec: required (a PersistentVolumeClaim spec)");
      return CUBIT_EINVAL;
    }
    return 0;
  }
  w->kind = PL_WORK_CLAIM;
  w->sub_path = js_str(wj, "subPath") ? js_str(wj, "subPath") : "pipelines/{{run.name}}";
  return 0;
}

/* References in a task's parameters and `when`: pipeline parameters, run
 * fields, and outputs of tasks upstream of it. */
typedef struct task_refs {
  const pl_spec *s;
  size_t task;
  const unsigned char *upstream;
} task_refs;

static int task_ref_check(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  task_refs *c = arg;
  if (ref->kind == PL_REF_TRIAL) {
    snprintf(err, errlen, "trial.* is known only in an Experiment's trial template");
    return CUBIT_EINVAL;
  }
  if (ref->kind == PL_REF_PARAM) {
    if (pl_params_find(&c->s->params, ref->name) == NULL) {
      snprintf(err, errlen, "the pipeline has no parameter %s", ref->name);
      return CUBIT_EINVAL;
    }
    return 0;
  }
  if (ref->kind == PL_REF_OUTPUT) {
    int t = pl_spec_task(c->s, ref->task);
    if (t < 0) {
      snprintf(err, errlen, "there is no task %s", ref->task);
      return CUBIT_EINVAL;
    }
    if ((size_t)t == c->task || !c->upstream[t]) {
      snprintf(err, errlen, "task %s does not depend on %s (add it to dependsOn, directly or through another task)",
               c->s->tasks[c->task].name, ref->task);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

static void cycle_text(const pl_spec *s, const size_t *cycle, size_t n, char *out, size_t len) {
  size_t used = 0;
  for (size_t k = 0; k <= n && used < len; k++) {
    int w = snprintf(out + used, len - used, "%s%s", k ? " -> " : "", s->tasks[cycle[k % n]].name);
    if (w < 0) break;
    used += (size_t)w;
  }
}

int pl_spec_parse(const json_t *spec, pl_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->fail_fast = 1;
  if (pl_params_parse(json_object_get(spec, "parameters"), "spec.parameters", &out->params, err, errlen))
    return CUBIT_EINVAL;
  json_t *tasks = json_object_get(spec, "tasks");
  size_t n = json_array_size(tasks);
  if (n == 0) {
    snprintf(err, errlen, "spec.tasks: at least one task");
    goto fail;
  }
  if (n > PL_MAX_TASKS) {
    snprintf(err, errlen, "spec.tasks: at most %d tasks", PL_MAX_TASKS);
    goto fail;
  }
  out->tasks = xcalloc(n, sizeof(pl_task));
  size_t i;
  json_t *tj;
  json_array_foreach(tasks, i, tj) {
    pl_task *t = &out->tasks[i];
    t->name = js_str(tj, "name");
    if (!dns_label(t->name, 40)) {
      snprintf(err, errlen, "spec.tasks[%zu].name: want a lower-case DNS label of at most 40 characters, got \"%s\"", i,
               t->name ? t->name : "");
      goto fail;
    }
    out->ntasks = i + 1;
    for (size_t k = 0; k < i; k++)
      if (strcmp(out->tasks[k].name, t->name) == 0) {
        snprintf(err, errlen, "spec.tasks[%zu].name: task %s is declared twice", i, t->name);
        goto fail;
      }
  }
  json_array_foreach(tasks, i, tj) {
    pl_task *t = &out->tasks[i];
    char path[64];
    snprintf(path, sizeof(path), "spec.tasks[%zu]", i);
    json_t *ref = json_object_get(tj, "templateRef");
    const char *kind = js_str(ref, "kind");
    t->template_name = js_str(ref, "name");
    if (kind == NULL || strcmp(kind, "JobTemplate") == 0) t->template_kind = PL_TEMPLATE_NAMESPACED;
    else if (strcmp(kind, "ClusterJobTemplate") == 0) t->template_kind = PL_TEMPLATE_CLUSTER;
    else {
      snprintf(err, errlen, "%s.templateRef.kind: want JobTemplate or ClusterJobTemplate, got \"%s\" (task %s)", path,
               kind, t->name);
      goto fail;
    }
    if (t->template_name == NULL || *t->template_name == '\0') {
      snprintf(err, errlen, "%s.templateRef.name: required (task %s)", path, t->name);
      goto fail;
    }
    t->params = json_object_get(tj, "params");
    if (t->params && !json_is_object(t->params)) {
      snprintf(err, errlen, "%s.params: want a map of parameter names to values (task %s)", path, t->name);
      goto fail;
    }
    size_t k;
    json_t *d;
    json_array_foreach(json_object_get(tj, "dependsOn"), k, d) {
      int dep = pl_spec_task(out, json_string_value(d));
      if (dep < 0) {
        snprintf(err, errlen, "%s.dependsOn[%zu]: task %s depends on %s, which is not a task of this pipeline", path, k,
                 t->name, json_is_string(d) ? json_string_value(d) : "?");
        goto fail;
      }
      if ((size_t)dep == i) {
        snprintf(err, errlen, "%s.dependsOn[%zu]: task %s depends on itself", path, k, t->name);
        goto fail;
      }
      int dup = 0;
      for (size_t m = 0; m < t->ndeps; m++) dup |= t->deps[m] == (size_t)dep;
      if (!dup) t->deps[t->ndeps++] = (size_t)dep;
    }
    t->when_src = js_str(tj, "when");
    if (t->when_src) {
      char why[400];
      if (pl_when_parse(t->when_src, &t->when, why, sizeof(why))) {
        snprintf(err, errlen, "%s.when: %s (task %s)", path, why, t->name);
        goto fail;
      }
    }
    json_t *retries = json_object_get(tj, "retries");
    int64_t v;
    char rpath[96];
    snprintf(rpath, sizeof(rpath), "%s.retries", path);
    if (int_field(retries, "limit", 0, 0, 100, rpath, &v, err, errlen)) goto fail;
    t->retry_limit = (int)v;
    if (int_field(retries, "backoffSeconds", 10, 0, 86400, rpath, &t->backoff_s, err, errlen) ||
        int_field(tj, "timeoutSeconds", 0, 0, INT64_C(1) << 40, path, &t->timeout_s, err, errlen))
      goto fail;
    t->skip = js_bool(tj, "skip", 0);
    t->resources = json_object_get(tj, "resources");
  }

  /* The DAG. */
  size_t ndeps[PL_MAX_TASKS];
  const size_t *deps[PL_MAX_TASKS];
  for (i = 0; i < n; i++) {
    ndeps[i] = out->tasks[i].ndeps;
    deps[i] = out->tasks[i].deps;
  }
  dag_graph g = {n, ndeps, deps};
  size_t cycle[PL_MAX_TASKS], ncycle = 0;
  if (dag_toposort(&g, out->order, cycle, &ncycle)) {
    char text[600];
    cycle_text(out, cycle, ncycle, text, sizeof(text));
    snprintf(err, errlen, "spec.tasks: the dependencies form a cycle: %s", text);
    goto fail;
  }
  unsigned char upstream[PL_MAX_TASKS];
  for (i = 0; i < n; i++) {
    pl_task *t = &out->tasks[i];
    dag_ancestors(&g, i, upstream);
    task_refs c = {out, i, upstream};
    char path[64];
    snprintf(path, sizeof(path), "spec.tasks[%zu].params", i);
    if (t->params && pl_subst_check(t->params, path, task_ref_check, &c, err, errlen)) goto fail;
    if (t->when) {
      char why[600];
      if (pl_when_check(t->when, task_ref_check, &c, why, sizeof(why))) {
        snprintf(err, errlen, "spec.tasks[%zu].when: %s", i, why);
        goto fail;
      }
    }
  }

  json_t *par = json_object_get(spec, "parallelism");
  int64_t v;
  if (int_field(spec, "parallelism", 0, 1, 10000, "spec", &v, err, errlen)) goto fail;
  out->parallelism = par ? (int)v : 0;
  const char *policy = js_str(spec, "failurePolicy");
  if (policy && strcmp(policy, "Continue") == 0) out->fail_fast = 0;
  else if (policy && strcmp(policy, "FailFast") != 0) {
    snprintf(err, errlen, "spec.failurePolicy: want FailFast or Continue, got \"%s\"", policy);
    goto fail;
  }
  if (parse_work_volume(json_object_get(spec, "workVolume"), &out->work, err, errlen)) goto fail;
  json_t *sched = json_object_get(spec, "schedule");
  if (sched && !json_is_null(sched)) {
    out->has_schedule = 1;
    if (parse_schedule(sched, &out->sched, err, errlen)) goto fail;
  }
  return 0;
fail:
  pl_spec_free(out);
  return CUBIT_EINVAL;
}

void pl_spec_free(pl_spec *s) {
  for (size_t i = 0; i < s->ntasks; i++) pl_when_free(s->tasks[i].when);
  free(s->tasks);
  s->tasks = NULL;
  s->ntasks = 0;
  pl_params_free(&s->params);
  cron_free(s->sched.cron);
  tz_free(s->sched.zone);
  s->sched.cron = NULL;
  s->sched.zone = NULL;
}

/* --------------------------------------------- against the templates */

typedef struct tmpl_set {
  const pl_spec *s;
  pl_template t[PL_MAX_TASKS];
  int ok[PL_MAX_TASKS];
  size_t task;                    /* the task being checked */
  unsigned char up[PL_MAX_TASKS]; /* its upstream tasks */
} tmpl_set;

/* tasks.T.outputs.Y: T is upstream of the task and its template declares Y. */
static int output_check(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  tmpl_set *set = arg;
  if (ref->kind != PL_REF_OUTPUT) return 0;
  int t = pl_spec_task(set->s, ref->task);
  if (t < 0) {
    snprintf(err, errlen, "there is no task %s", ref->task);
    return CUBIT_EINVAL;
  }
  if ((size_t)t == set->task || !set->up[t]) {
    snprintf(err, errlen, "task %s does not depend on %s (add it to dependsOn, directly or through another task)",
             set->s->tasks[set->task].name, ref->task);
    return CUBIT_EINVAL;
  }
  if (!set->ok[t]) return 0;
  const pl_template *tm = &set->t[t];
  for (size_t k = 0; k < tm->noutputs; k++)
    if (strcmp(tm->outputs[k].name, ref->name) == 0) return 0;
  snprintf(err, errlen, "the template of task %s (%s) declares no output %s", ref->task,
           set->s->tasks[t].template_name, ref->name);
  return CUBIT_EINVAL;
}

/* A pipeline parameter of type 'given' may be passed whole to a template
 * parameter of type 'want'. */
static int type_fits(pl_type want, const pl_param *given) {
  switch (want) {
    case PL_STRING:
    case PL_JSON: return 1;
    case PL_INT: return given->type == PL_INT;
    case PL_FLOAT: return given->type == PL_INT || given->type == PL_FLOAT;
    case PL_BOOL: return given->type == PL_BOOL;
    case PL_ENUM: return given->type == PL_ENUM || given->type == PL_STRING;
  }
  return 0;
}

static int check_task_params(const pl_spec *s, size_t i, const pl_template *tm, const char *kind, char *err,
                             size_t errlen) {
  const pl_task *t = &s->tasks[i];
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)t->params, key, v) {
    const pl_param *p = pl_params_find(&tm->params, key);
    char path[200];
    snprintf(path, sizeof(path), "spec.tasks[%zu].params.%s", i, key);
    if (p == NULL) {
      snprintf(err, errlen, "%s: %s %s has no parameter %s (task %s)", path, kind, t->template_name, key, t->name);
      return CUBIT_EINVAL;
    }
    const char *sv = json_string_value(v);
    if (sv && strstr(sv, "{{")) {
      /* Values made of references are checked when the run resolves them;
       * a whole pipeline parameter has a type to compare now. */
      size_t len = strlen(sv);
      pl_ref ref;
      if (len > 4 && strncmp(sv, "{{", 2) == 0 && strcmp(sv + len - 2, "}}") == 0 && strstr(sv + 2, "{{") == NULL &&
          pl_ref_parse(sv + 2, len - 4, &ref) == 0 && ref.kind == PL_REF_PARAM) {
        const pl_param *pp = pl_params_find(&s->params, ref.name);
        if (pp && !type_fits(p->type, pp)) {
          snprintf(err, errlen,
                   "%s: parameter %s of %s %s is of type %s, but the pipeline parameter %s given to it is of type %s "
                   "(task %s)",
                   path, key, kind, t->template_name, pl_type_name(p->type), ref.name, pl_type_name(pp->type),
                   t->name);
          return CUBIT_EINVAL;
        }
        if (pp && p->type == PL_ENUM && pp->type == PL_ENUM) {
          size_t a;
          json_t *ev;
          json_array_foreach(pp->enum_values, a, ev) {
            json_t *c = NULL;
            char why[400];
            if (pl_param_coerce(p, ev, path, &c, why, sizeof(why))) {
              snprintf(err, errlen, "%s (the pipeline parameter %s allows it; task %s)", why, ref.name, t->name);
              return CUBIT_EINVAL;
            }
            json_decref(c);
          }
        }
      }
      continue;
    }
    json_t *c = NULL;
    char why[500];
    if (pl_param_coerce(p, v, path, &c, why, sizeof(why))) {
      snprintf(err, errlen, "%s (parameter %s of %s %s is of type %s; task %s)", why, key, kind, t->template_name,
               pl_type_name(p->type), t->name);
      return CUBIT_EINVAL;
    }
    json_decref(c);
  }
  for (size_t k = 0; k < tm->params.n; k++) {
    const pl_param *p = &tm->params.items[k];
    if (p->required && p->def == NULL && json_object_get(t->params, p->name) == NULL) {
      snprintf(err, errlen, "spec.tasks[%zu].params.%s: required by %s %s (task %s)", i, p->name, kind,
               t->template_name, t->name);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

int pl_spec_check_templates(const pl_spec *s, pl_template_lookup_fn lookup, void *arg, char *err, size_t errlen) {
  tmpl_set *set = xcalloc(1, sizeof(*set));
  set->s = s;
  int rc = 0;
  for (size_t i = 0; i < s->ntasks && rc == 0; i++) {
    const pl_task *t = &s->tasks[i];
    const char *kind = t->template_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate";
    const json_t *tspec = lookup(t->template_kind, t->template_name, arg);
    char why[600];
    if (tspec == NULL) {
      snprintf(err, errlen, "spec.tasks[%zu].templateRef: %s %s not found (task %s)", i, kind, t->template_name,
               t->name);
      rc = CUBIT_EINVAL;
    } else if (pl_template_parse(tspec, &set->t[i], why, sizeof(why))) {
      snprintf(err, errlen, "spec.tasks[%zu].templateRef: %s %s is invalid: %s", i, kind, t->template_name, why);
      rc = CUBIT_EINVAL;
    } else {
      set->ok[i] = 1;
      rc = check_task_params(s, i, &set->t[i], kind, err, errlen);
    }
    if (rc == 0 && set->t[i].noutputs && s->work.kind == PL_WORK_NONE) {
      snprintf(err, errlen,
               "spec.workVolume: required: task %s's %s %s declares outputs, which tasks write to the work volume",
               t->name, kind, t->template_name);
      rc = CUBIT_EINVAL;
    }
  }
  /* Outputs used in a task's parameters, its `when` or its template's
   * workload come from upstream tasks whose templates declare them. */
  size_t ndeps[PL_MAX_TASKS];
  const size_t *deps[PL_MAX_TASKS];
  for (size_t k = 0; k < s->ntasks; k++) {
    ndeps[k] = s->tasks[k].ndeps;
    deps[k] = s->tasks[k].deps;
  }
  dag_graph g = {s->ntasks, ndeps, deps};
  for (size_t i = 0; i < s->ntasks && rc == 0; i++) {
    const pl_task *t = &s->tasks[i];
    set->task = i;
    dag_ancestors(&g, i, set->up);
    char path[96], why[700];
    snprintf(path, sizeof(path), "spec.tasks[%zu].params", i);
    if (t->params && pl_subst_check(t->params, path, output_check, set, err, errlen)) {
      rc = CUBIT_EINVAL;
    } else if (t->when && pl_when_check(t->when, output_check, set, why, sizeof(why))) {
      snprintf(err, errlen, "spec.tasks[%zu].when: %s", i, why);
      rc = CUBIT_EINVAL;
    } else if (pl_subst_check(set->t[i].workload, "spec.workload", output_check, set, why, sizeof(why))) {
      snprintf(err, errlen, "spec.tasks[%zu].templateRef: in the workload of %s (task %s): %s", i, t->template_name,
               t->name, why);
      rc = CUBIT_EINVAL;
    }
  }
  for (size_t i = 0; i < s->ntasks; i++)
    if (set->ok[i]) pl_template_free(&set->t[i]);
  free(set);
  return rc;
}
