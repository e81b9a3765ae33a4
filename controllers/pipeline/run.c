/* The PipelineRun controller: starts a run (a copy of the pipeline's spec,
 * its templates and its resolved parameters go into status, so editing them
 * never changes a running run), then steps its DAG: TrainingJobs named by
 * run, task and attempt, outputs read after success, retries, timeouts,
 * skips, and retry from failure (the cubit.dev/retry annotation).
 *
 * Every status write carries the resourceVersion the decision was made
 * from: a decision taken on a stale read fails with a conflict and is made
 * again, and every action before it (creating a TrainingJob of a known
 * name, marking one stopped) is idempotent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/controller.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define LOGGER "pipelinerun"
#define DEFAULT_READER_IMAGE "busybox:1.36"

typedef struct run_ctl {
  char reader_image[256];
} run_ctl;

/* Everything one reconcile knows about its run. */
typedef struct run_state {
  const rt_ctx *ctx;
  const run_ctl *rc;
  json_t *run;           /* the cached object (reference) */
  json_t *status;        /* the status being built (owned) */
  pl_spec spec;
  int spec_ok;
  pl_template tmpl[PL_MAX_TASKS];
  int tmpl_ok[PL_MAX_TASKS];
  json_t *params;        /* resolved pipeline parameters (borrowed from status) */
  pl_node nodes[PL_MAX_TASKS];
  json_t *outputs[PL_MAX_TASKS]; /* per node (owned), NULL = none */
  pl_work_mount work;
  int64_t now;
  const char *resource_version;
  json_t *refs;          /* run.name, run.namespace, run.scheduledTime (owned) */
} run_state;



static const char *template_key_kind(pl_template_kind k) {
  return k == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate";
}

static char *template_key(const pl_task *t) {
  return xasprintf("%s/%s", template_key_kind(t->template_kind), t->template_name);
}

/* ------------------------------------------------------ status I/O */

/* Applies status with the resourceVersion the decision was read at. */
static int write_status(run_state *rs, kube_status *st) {
  if (json_equal(rs->status, json_object_get(rs->run, "status"))) return 0;
  json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:O}", "apiVersion", "cubit.dev/v1alpha1", "kind",
                          "PipelineRun", "metadata", "name", js_name(rs->run), "namespace", js_namespace(rs->run),
                          "resourceVersion", rs->resource_version, "status", rs->status);
  int rc = kube_apply_status(rs->ctx->client, &pl_pipelinerun_resource, obj, RT_FIELD_MANAGER, 1, NULL, st);
  json_decref(obj);
  return rc;
}

static void set_conditions(run_state *rs, const char *phase, const char *reason, const char *message) {
  json_int_t gen = js_int(rs->run, "metadata.generation", 0);
  int ready = strcmp(phase, "Running") == 0 || strcmp(phase, "Succeeded") == 0;
  const char *msg = message && *message ? message : phase;
  rt_condition_set(rs->status, "Ready", ready ? "True" : "False", reason, msg, gen, rs->now);
  rt_condition_set(rs->status, "Succeeded", strcmp(phase, "Succeeded") == 0 ? "True" : "False", reason, msg, gen,
                   rs->now);
  rt_condition_set(rs->status, "Failed", strcmp(phase, "Failed") == 0 ? "True" : "False", reason, msg, gen, rs->now);
}

static void set_phase(run_state *rs, const char *phase, const char *reason, const char *message) {
  const char *before = js_str(rs->run, "status.phase");
  json_object_set_new(rs->status, "phase", json_string(phase));
  if (message && *message) json_object_set_new(rs->status, "message", json_string(message));
  else json_object_del(rs->status, "message");
  set_conditions(rs, phase, reason, message);
  if (before == NULL || strcmp(before, phase) != 0)
    rt_event(rs->ctx->events, rs->run, strcmp(phase, "Failed") == 0 ? "Warning" : "Normal", phase, "%s",
             message && *message ? message : phase);
}

/* ------------------------------------------------------ references */

static const json_t *node_output(run_state *rs, const pl_ref *ref, char *err, size_t errlen) {
  int t = pl_spec_task(&rs->spec, ref->task);
  if (t < 0) {
    snprintf(err, errlen, "there is no task %s", ref->task);
    return NULL;
  }
  if (rs->nodes[t].phase == PL_SKIPPED) {
    snprintf(err, errlen, "task %s was skipped and has no outputs", ref->task);
    return NULL;
  }
  json_t *v = json_object_get(rs->outputs[t], ref->name);
  if (v == NULL) snprintf(err, errlen, "task %s has no output %s (yet)", ref->task, ref->name);
  return v;
}

static const json_t *run_field(run_state *rs, const pl_ref *ref) {
  return json_object_get(rs->refs, ref->name);
}

/* Pipeline level: task parameters and `when`. */
static const json_t *pipeline_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  run_state *rs = arg;
  switch (ref->kind) {
    case PL_REF_PARAM: {
      json_t *v = json_object_get(rs->params, ref->name);
      if (v == NULL) snprintf(err, errlen, "the pipeline has no parameter %s", ref->name);
      return v;
    }
    case PL_REF_RUN: return run_field(rs, ref);
    default: return node_output(rs, ref, err, errlen);
  }
}

/* Template level: the workload, whose params.X are the template's. */
typedef struct workload_refs {
  run_state *rs;
  const json_t *values;
} workload_refs;

static const json_t *workload_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  workload_refs *w = arg;
  if (ref->kind == PL_REF_PARAM) {
    json_t *v = json_object_get(w->values, ref->name);
    if (v == NULL) snprintf(err, errlen, "the template has no parameter %s", ref->name);
    return v;
  }
  return pipeline_value(ref, w->rs, err, errlen);
}

static int when_of(size_t task, void *arg, char *why, size_t len) {
  run_state *rs = arg;
  int result = 0;
  if (pl_when_eval(rs->spec.tasks[task].when, pipeline_value, rs, &result, why, len)) return CUBIT_EINVAL;
  return result;
}

/* --------------------------------------------------------- nodes */

static void nodes_from_status(run_state *rs) {
  json_t *nodes = json_object_get(rs->status, "nodes");
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    pl_node *n = &rs->nodes[i];
    memset(n, 0, sizeof(*n));
    n->first_attempt = 1;
    json_t *j = json_object_get(nodes, rs->spec.tasks[i].name);
    if (j == NULL) continue;
    (void)pl_phase_parse(js_str(j, "phase"), &n->phase);
    n->attempts = (int)js_int(j, "attempts", 0);
    n->first_attempt = (int)js_int(j, "firstAttempt", 1);
    n->start = js_time(j, "startTime");
    n->finish = js_time(j, "finishTime");
    n->retry_at = js_time(j, "retryAt");
    snprintf(n->message, sizeof(n->message), "%s", js_str(j, "message") ? js_str(j, "message") : "");
    json_t *o = json_object_get(j, "outputs");
    if (json_is_object(o)) rs->outputs[i] = json_deep_copy(o);
  }
}

static json_t *nodes_to_status(run_state *rs) {
  json_t *nodes = json_object();
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const pl_node *n = &rs->nodes[i];
    json_t *j = json_pack("{s:s, s:i}", "phase", pl_phase_name(n->phase), "attempts", n->attempts);
    if (n->first_attempt > 1) json_object_set_new(j, "firstAttempt", json_integer(n->first_attempt));
    if (n->attempts > 0) {
      char name[64];
      pl_task_job_name(js_name(rs->run), rs->spec.tasks[i].name, n->attempts, name, sizeof(name));
      json_object_set_new(j, "trainingJob", json_string(name));
    }
    js_set_time(j, "startTime", n->start);
    js_set_time(j, "finishTime", n->finish);
    js_set_time(j, "retryAt", n->retry_at);
    if (n->message[0]) json_object_set_new(j, "message", json_string(n->message));
    if (rs->outputs[i] && json_object_size(rs->outputs[i])) json_object_set(j, "outputs", rs->outputs[i]);
    json_object_set_new(nodes, rs->spec.tasks[i].name, j);
  }
  return nodes;
}

/* The outputs of a succeeded attempt: read by the reader Job; 0 when they
 * are in hand (or none are declared), 1 while reading, CUBIT_EINVAL (with a
 * reason) when reading failed. */
static int read_outputs(run_state *rs, size_t i, const json_t *tj, char *why, size_t len) {
  const pl_template *tm = &rs->tmpl[i];
  if (tm->noutputs == 0 || rs->outputs[i]) return 0;
  const rt_ctx *ctx = rs->ctx;
  const char *ns = js_namespace(rs->run);
  char *name = xasprintf("%s-outputs", js_name(tj));
  char *dir = pl_outputs_dir(&rs->work, rs->spec.tasks[i].name);
  int result = 1;
  cache_store *jobs = rt_store(ctx, &kube_jobs);
  json_t *job = jobs ? cache_store_get(jobs, ns, name) : NULL;
  if (job == NULL) {
    json_t *desired = pl_outputs_reader(rs->run, tj, tm, &rs->work, rs->spec.tasks[i].name, rs->rc->reader_image);
    kube_status st;
    int rc = kube_create(ctx->client, &kube_jobs, ns, desired, NULL, &st);
    json_decref(desired);
    if (rc && rc != CUBIT_EALREADYEXISTS) {
      log_warn(LOGGER, "cannot create the outputs reader", "run=%s/%s job=%s error=%s message=\"%s\"", ns,
               js_name(rs->run), name, cubit_strerror(rc), st.message);
      if (rc == CUBIT_EINVALID || rc == CUBIT_EBADREQUEST) {
        snprintf(why, len, "cannot create the outputs reader %s: %.400s", name, st.message);
        result = CUBIT_EINVAL;
      }
    }
    goto out;
  }
  /* The reader's pod holds the outputs in its termination message. */
  cache_store *pods = rt_store(ctx, &kube_pods);
  cache_list l = {0};
  if (pods) cache_store_by_index(pods, CACHE_INDEX_NAMESPACE, ns, &l);
  for (size_t k = 0; k < l.len && result == 1; k++) {
    json_t *pod = l.items[k];
    const char *owner = json_string_value(json_object_get(js_get(pod, "metadata.labels"), "batch.kubernetes.io/job-name"));
    const char *phase = js_str(pod, "status.phase");
    if (owner == NULL || strcmp(owner, name) != 0 || phase == NULL || strcmp(phase, "Succeeded") != 0) continue;
    size_t c;
    json_t *cs;
    json_array_foreach(js_get(pod, "status.containerStatuses"), c, cs) {
      const char *cname = js_str(cs, "name");
      if (cname == NULL || strcmp(cname, "read") != 0) continue;
      json_t *values = NULL;
      char err[600];
      if (pl_outputs_parse(js_str(cs, "state.terminated.message"), tm, dir, &values, err, sizeof(err))) {
        snprintf(why, len, "%s", err);
        result = CUBIT_EINVAL;
      } else {
        rs->outputs[i] = values;
        result = 0;
      }
      break;
    }
  }
  cache_list_free(&l);
  if (result == 1) {
    size_t c;
    json_t *cond;
    json_array_foreach(js_get(job, "status.conditions"), c, cond) {
      const char *type = js_str(cond, "type"), *cst = js_str(cond, "status");
      if (type && cst && strcmp(type, "Failed") == 0 && strcmp(cst, "True") == 0) {
        snprintf(why, len, "the outputs reader %s failed: %.400s", name,
                 js_str(cond, "message") ? js_str(cond, "message") : "");
        result = CUBIT_EINVAL;
      }
    }
  }
out:
  json_decref(job);
  free(name);
  free(dir);
  return result;
}

/* What the cache shows of each running node's current attempt. */
static void observe(run_state *rs) {
  cache_store *tjs = rt_store(rs->ctx, &trainingjob_resource);
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    pl_node *n = &rs->nodes[i];
    n->job = PL_JOB_NONE;
    if (n->phase != PL_RUNNING || n->retry_at || n->attempts == 0) continue;
    char name[64];
    pl_task_job_name(js_name(rs->run), rs->spec.tasks[i].name, n->attempts, name, sizeof(name));
    json_t *tj = tjs ? cache_store_get(tjs, js_namespace(rs->run), name) : NULL;
    if (tj == NULL) continue;
    if (!rt_is_controlled_by(tj, rs->run)) {
      n->job = PL_JOB_FAILED;
      snprintf(n->job_message, sizeof(n->job_message), "a TrainingJob named %s exists and belongs to something else",
               name);
      json_decref(tj);
      continue;
    }
    n->job_created = js_time(tj, "metadata.creationTimestamp");
    const char *stopped = json_string_value(json_object_get(js_get(tj, "metadata.annotations"), PL_STOPPED_ANNOTATION));
    const char *phase = js_str(tj, "status.phase");
    if (stopped) {
      n->job = PL_JOB_FAILED;
      n->job_finished = n->job_created + rs->spec.tasks[i].timeout_s;
      snprintf(n->job_message, sizeof(n->job_message), "%s", stopped);
    } else if (phase && strcmp(phase, "Succeeded") == 0) {
      n->job = PL_JOB_SUCCEEDED;
      n->job_finished = js_time(tj, "status.completionTime");
      char why[600] = "";
      int r = read_outputs(rs, i, tj, why, sizeof(why));
      if (r == 1) {
        n->outputs_pending = 1;
      } else if (r < 0) {
        n->job = PL_JOB_FAILED;
        n->job_finished = rs->now;
        snprintf(n->job_message, sizeof(n->job_message), "%s", why);
      }
    } else if (phase && strcmp(phase, "Failed") == 0) {
      n->job = PL_JOB_FAILED;
      n->job_finished = js_time(tj, "status.completionTime");
      const char *msg = js_str(tj, "status.message");
      const char *reason = js_str(tj, "status.reason");
      snprintf(n->job_message, sizeof(n->job_message), "TrainingJob %s failed%s%s%s%s", name,
               reason ? " (" : "", reason ? reason : "", reason ? ")" : "", msg ? ": " : "");
      if (msg) {
        size_t used = strlen(n->job_message);
        snprintf(n->job_message + used, sizeof(n->job_message) - used, "%s", msg);
      }
    } else {
      n->job = PL_JOB_ACTIVE;
    }
    json_decref(tj);
  }
}

/* Creates the TrainingJob of node i's current attempt. 0 when it exists;
 * 1 when it could not be made now (tried again later); CUBIT_EINVAL when it
 * never can (the node fails with 'why'). */
static int create_task(run_state *rs, size_t i, char *why, size_t len) {
  const pl_task *t = &rs->spec.tasks[i];
  const pl_template *tm = &rs->tmpl[i];
  json_t *given = NULL;
  char path[96];
  snprintf(path, sizeof(path), "spec.tasks[%zu].params", i);
  json_t *empty = json_object();
  if (pl_subst_json(t->params ? t->params : empty, path, pipeline_value, rs, &given, why, len)) {
    json_decref(empty);
    return CUBIT_EINVAL;
  }
  json_decref(empty);
  json_t *values = NULL;
  int rc = pl_params_resolve(&tm->params, given, path, &values, why, len);
  json_decref(given);
  if (rc) return CUBIT_EINVAL;
  workload_refs w = {rs, values};
  pl_task_input in = {rs->run, t, tm, values, &rs->work, rs->nodes[i].attempts, workload_value, &w};
  json_t *tj = NULL;
  rc = pl_task_trainingjob(&in, &tj, why, len);
  json_decref(values);
  if (rc) return CUBIT_EINVAL;
  kube_status st;
  rc = kube_create(rs->ctx->client, &trainingjob_resource, js_namespace(rs->run), tj, NULL, &st);
  int result = 0;
  if (rc == 0) {
    rt_event(rs->ctx->events, rs->run, "Normal", "TaskStarted", "task %s: attempt %d, TrainingJob %s", t->name,
             rs->nodes[i].attempts, js_name(tj));
  } else if (rc == CUBIT_EALREADYEXISTS) {
    result = 0;
  } else if (rc == CUBIT_EINVALID || rc == CUBIT_EBADREQUEST) {
    snprintf(why, len, "TrainingJob %s rejected: %.400s", js_name(tj), st.message);
    result = CUBIT_EINVAL;
  } else {
    /* Quota (Forbidden), throttling, a webhook away: try again later. */
    snprintf(rs->nodes[i].message, sizeof(rs->nodes[i].message), "cannot create TrainingJob %s yet: %.400s",
             js_name(tj), st.message);
    log_warn(LOGGER, "cannot create a task", "run=%s/%s task=%s error=%s message=\"%s\"", js_namespace(rs->run),
             js_name(rs->run), t->name, cubit_strerror(rc), st.message);
    result = 1;
  }
  json_decref(tj);
  return result;
}

/* Marks a timed-out attempt's TrainingJob stopped and suspends it (its pods
 * go); the mark is what later steps read, so it is written first. */
static int stop_task(run_state *rs, size_t i, kube_status *st) {
  char name[64];
  pl_task_job_name(js_name(rs->run), rs->spec.tasks[i].name, rs->nodes[i].attempts, name, sizeof(name));
  char why[128];
  snprintf(why, sizeof(why), "timed out after %llds (timeoutSeconds)", (long long)rs->spec.tasks[i].timeout_s);
  json_t *patch = json_pack("{s:{s:{s:s}}, s:{s:b}}", "metadata", "annotations", PL_STOPPED_ANNOTATION, why, "spec",
                            "suspend", 1);
  kube_patch_options o = {KUBE_PATCH_MERGE, RT_FIELD_MANAGER, 0, NULL};
  int rc = kube_patch(rs->ctx->client, &trainingjob_resource, js_namespace(rs->run), name, patch, &o, NULL, st);
  json_decref(patch);
  if (rc == CUBIT_ENOTFOUND) rc = 0;
  if (rc == 0)
    rt_event(rs->ctx->events, rs->run, "Warning", "TaskTimedOut", "task %s: attempt %d %s; TrainingJob %s suspended",
             rs->spec.tasks[i].name, rs->nodes[i].attempts, why, name);
  return rc;
}

/* ----------------------------------------------------------- start */

typedef struct lookup_ctx {
  const rt_ctx *ctx;
  const char *ns;
  json_t *found[2 * PL_MAX_TASKS]; /* references held while the specs are used */
  size_t nfound;
} lookup_ctx;

static const json_t *lookup_template(pl_template_kind kind, const char *name, void *arg) {
  lookup_ctx *l = arg;
  cache_store *s = rt_store(l->ctx, kind == PL_TEMPLATE_CLUSTER ? &pl_clusterjobtemplate_resource
                                                                : &pl_jobtemplate_resource);
  json_t *t = s ? cache_store_get(s, kind == PL_TEMPLATE_CLUSTER ? NULL : l->ns, name) : NULL;
  if (t == NULL) return NULL;
  if (l->nfound == sizeof(l->found) / sizeof(l->found[0])) {
    json_decref(t);
    return NULL;
  }
  l->found[l->nfound++] = t;
  return json_object_get(t, "spec");
}

static const json_t *lookup_snapshot(pl_template_kind kind, const char *name, void *arg) {
  const json_t *templates = arg;
  char *key = xasprintf("%s/%s", template_key_kind(kind), name);
  const json_t *t = json_object_get(templates, key);
  free(key);
  return t;
}

/* Copies the pipeline, its templates and the resolved parameters into
 * status. 0 when started; 1 when waiting (message in why); CUBIT_EINVAL when
 * the run can never start. */
static int start_run(run_state *rs, char *why, size_t len) {
  const rt_ctx *ctx = rs->ctx;
  const char *ns = js_namespace(rs->run);
  const char *pname = js_str(rs->run, "spec.pipelineRef.name");
  if (pname == NULL) {
    snprintf(why, len, "spec.pipelineRef.name: required");
    return CUBIT_EINVAL;
  }
  cache_store *pipelines = rt_store(ctx, &pl_pipeline_resource);
  json_t *p = pipelines ? cache_store_get(pipelines, ns, pname) : NULL;
  if (p == NULL) {
    snprintf(why, len, "waiting for Pipeline %s", pname);
    return 1;
  }
  json_t *pspec = json_object_get(p, "spec");
  pl_spec spec;
  char err[700];
  if (pl_spec_parse(pspec, &spec, err, sizeof(err))) {
    snprintf(why, len, "Pipeline %s is invalid: %.560s", pname, err);
    json_decref(p);
    return CUBIT_EINVAL;
  }
  lookup_ctx l = {ctx, ns, {0}, 0};
  int result = 0;
  json_t *templates = json_object();
  for (size_t i = 0; i < spec.ntasks; i++) {
    const pl_task *t = &spec.tasks[i];
    const json_t *ts = lookup_template(t->template_kind, t->template_name, &l);
    if (ts == NULL) {
      snprintf(why, len, "waiting for %s %s (task %s)", template_key_kind(t->template_kind), t->template_name,
               t->name);
      result = 1;
      break;
    }
    char *key = template_key(t);
    json_object_set_new(templates, key, json_deep_copy(ts));
    free(key);
  }
  if (result == 0 && pl_spec_check_templates(&spec, lookup_snapshot, templates, err, sizeof(err))) {
    snprintf(why, len, "Pipeline %s: %.560s", pname, err);
    result = CUBIT_EINVAL;
  }
  json_t *values = NULL;
  if (result == 0 &&
      pl_params_resolve(&spec.params, json_object_get(js_get(rs->run, "spec"), "params"), "spec.params", &values, err,
                        sizeof(err))) {
    snprintf(why, len, "%s", err);
    result = CUBIT_EINVAL;
  }
  if (result == 0) {
    json_object_set_new(rs->status, "pipelineSpec", json_deep_copy(pspec));
    json_object_set_new(rs->status, "templates", templates);
    /* An empty map would be applied as null, which the schema refuses. */
    if (json_object_size(values)) json_object_set_new(rs->status, "params", values);
    else json_decref(values);
    templates = NULL;
  }
  json_decref(templates);
  for (size_t k = 0; k < l.nfound; k++) json_decref(l.found[k]);
  pl_spec_free(&spec);
  json_decref(p);
  return result;
}

/* Parses the copies in status into rs. */
static int load_snapshot(run_state *rs, char *why, size_t len) {
  char err[700];
  if (pl_spec_parse(json_object_get(rs->status, "pipelineSpec"), &rs->spec, err, sizeof(err))) {
    snprintf(why, len, "the pipeline copied into the run is invalid: %.560s", err);
    return CUBIT_EINVAL;
  }
  rs->spec_ok = 1;
  json_t *templates = json_object_get(rs->status, "templates");
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const json_t *ts = lookup_snapshot(rs->spec.tasks[i].template_kind, rs->spec.tasks[i].template_name, templates);
    if (ts == NULL || pl_template_parse(ts, &rs->tmpl[i], err, sizeof(err))) {
      snprintf(why, len, "the template of task %s copied into the run is missing or invalid", rs->spec.tasks[i].name);
      return CUBIT_EINVAL;
    }
    rs->tmpl_ok[i] = 1;
  }
  rs->params = json_object_get(rs->status, "params");
  pl_work_mount_of(&rs->spec.work, js_name(rs->run), &rs->work);
  return 0;
}

static void run_state_free(run_state *rs) {
  for (size_t i = 0; i < PL_MAX_TASKS; i++) {
    if (rs->tmpl_ok[i]) pl_template_free(&rs->tmpl[i]);
    json_decref(rs->outputs[i]);
  }
  if (rs->spec_ok) pl_spec_free(&rs->spec);
  json_decref(rs->refs);
  json_decref(rs->status);
  json_decref(rs->run);
}

/* ------------------------------------------------------- reconcile */

static rt_result finish(run_state *rs, rt_result r) {
  run_state_free(rs);
  free(rs);
  return r;
}

static rt_result write_or_retry(run_state *rs, rt_result after) {
  kube_status st;
  int rc = write_status(rs, &st);
  if (rc == 0) return after;
  if (rc == CUBIT_ECONFLICT) return rt_requeue_after(200); /* decided on a stale read: again */
  log_warn(LOGGER, "status update failed", "run=%s/%s error=%s message=\"%s\"", js_namespace(rs->run),
           js_name(rs->run), cubit_strerror(rc), st.message);
  return rt_result_for_error(rc, &st);
}

/* The values of run.*: its name, namespace and the tick it runs for (its
 * creation time when started by hand). */
static void refs_fields(run_state *rs) {
  const char *sched = js_str(rs->run, "spec.scheduledTime");
  if (sched == NULL) sched = js_str(rs->run, "metadata.creationTimestamp");
  rs->refs = json_pack("{s:s, s:s, s:s}", "name", js_name(rs->run), "namespace", js_namespace(rs->run),
                       "scheduledTime", sched ? sched : "");
}

static void progress(run_state *rs, const pl_step_out *o) {
  char text[32];
  snprintf(text, sizeof(text), "%zu/%zu", o->done, o->total);
  json_object_set_new(rs->status, "progress", json_string(text));
  int64_t start = js_time(rs->status, "startTime");
  int64_t end = js_time(rs->status, "completionTime");
  if (start) {
    char dur[32];
    tj_format_duration((end ? end : rs->now) - start, dur);
    json_object_set_new(rs->status, "duration", json_string(dur));
  }
}

/* Events for nodes whose phase changed in this step. */
static void node_events(run_state *rs, const pl_phase *before) {
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const pl_node *n = &rs->nodes[i];
    if (n->phase == before[i]) continue;
    const char *task = rs->spec.tasks[i].name;
    switch (n->phase) {
      case PL_SUCCEEDED: rt_event(rs->ctx->events, rs->run, "Normal", "TaskSucceeded", "task %s succeeded", task); break;
      case PL_FAILED: rt_event(rs->ctx->events, rs->run, "Warning", "TaskFailed", "task %s: %s", task, n->message); break;
      case PL_SKIPPED: rt_event(rs->ctx->events, rs->run, "Normal", "TaskSkipped", "task %s: %s", task, n->message); break;
      case PL_OMITTED: rt_event(rs->ctx->events, rs->run, "Normal", "TaskOmitted", "task %s: %s", task, n->message); break;
      default: break;
    }
  }
}

/* The cubit.dev/retry annotation on a failed run: failed and omitted tasks
 * run again. The annotation goes first (guarded by the resourceVersion),
 * so a crash loses a retry rather than repeating one. */
static rt_result retry_run(run_state *rs) {
  kube_status st;
  json_t *patch = json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "op", "test", "path", "/metadata/resourceVersion",
                            "value", rs->resource_version, "op", "remove", "path",
                            "/metadata/annotations/cubit.dev~1retry");
  kube_patch_options o = {KUBE_PATCH_JSON, RT_FIELD_MANAGER, 0, NULL};
  json_t *after = NULL;
  int rc = kube_patch(rs->ctx->client, &pl_pipelinerun_resource, js_namespace(rs->run), js_name(rs->run), patch, &o,
                      &after, &st);
  json_decref(patch);
  if (rc == CUBIT_EINVALID || rc == CUBIT_ECONFLICT) return finish(rs, rt_requeue_after(200));
  if (rc) return finish(rs, rt_result_for_error(rc, &st));
  const char *phase = js_str(rs->run, "status.phase");
  /* The status write must name the object as it is after the patch. */
  json_t *rv = json_string(js_resource_version(after));
  json_decref(after);
  rs->resource_version = json_string_value(rv);
  if (phase == NULL || strcmp(phase, "Failed") != 0) {
    rt_event(rs->ctx->events, rs->run, "Normal", "RetryIgnored", "%s is for failed runs; this one is %s",
             PL_RETRY_ANNOTATION, phase ? phase : "Pending");
    json_decref(rv);
    return finish(rs, rt_ok());
  }
  char why[700];
  if (json_object_get(rs->status, "pipelineSpec") == NULL || load_snapshot(rs, why, sizeof(why))) {
    /* It failed before it started (a missing or invalid pipeline): start over. */
    json_t *fresh = json_pack("{s:O, s:I}", "observedGeneration", json_object_get(rs->status, "observedGeneration"),
                              "retries", (json_int_t)js_int(rs->status, "retries", 0) + 1);
    json_object_set(fresh, "conditions", json_object_get(rs->status, "conditions") ? json_object_get(rs->status, "conditions") : json_array());
    json_decref(rs->status);
    rs->status = fresh;
    set_phase(rs, "Pending", "Retrying", "retrying from the start (cubit.dev/retry)");
    rt_result r = write_or_retry(rs, rt_requeue_after(100));
    json_decref(rv);
    return finish(rs, r);
  }
  nodes_from_status(rs);
  size_t n = pl_dag_retry(&rs->spec, rs->nodes);
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  json_object_del(rs->status, "completionTime");
  json_object_set_new(rs->status, "retries", json_integer(js_int(rs->status, "retries", 0) + 1));
  set_phase(rs, "Running", "Retrying", NULL);
  rt_event(rs->ctx->events, rs->run, "Normal", "Retried", "retrying %zu failed or omitted tasks", n);
  rt_result r = write_or_retry(rs, rt_requeue_after(100));
  json_decref(rv);
  return finish(rs, r);
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (runs == NULL) return rt_requeue_after(5000);
  json_t *run = cache_store_get(runs, req->ns, req->name);
  if (run == NULL || js_get(run, "metadata.deletionTimestamp")) {
    json_decref(run);
    return rt_ok(); /* garbage collection takes the TrainingJobs */
  }
  run_state *rs = xcalloc(1, sizeof(*rs));
  rs->ctx = ctx;
  rs->rc = ctx->arg;
  rs->run = run;
  rs->now = time_wall_s();
  rs->resource_version = js_resource_version(run);
  rs->status = json_deep_copy(json_object_get(run, "status"));
  if (!json_is_object(rs->status)) {
    json_decref(rs->status);
    rs->status = json_object();
  }
  json_object_set_new(rs->status, "observedGeneration", json_integer(js_int(run, "metadata.generation", 0)));
  const char *phase0 = js_str(run, "status.phase");
  int retry = json_object_get(js_get(run, "metadata.annotations"), PL_RETRY_ANNOTATION) != NULL;
  /* On a run that has not failed the annotation is dropped (with an Event), so
   * it cannot retry the run by itself when it fails later. */
  if (retry) return retry_run(rs);
  if (phase0 && (strcmp(phase0, "Succeeded") == 0 || strcmp(phase0, "Failed") == 0)) return finish(rs, rt_ok());

  char why[700] = "";
  if (json_object_get(rs->status, "pipelineSpec") == NULL) {
    int r = start_run(rs, why, sizeof(why));
    if (r == 1) {
      set_phase(rs, "Pending", "Waiting", why);
      return finish(rs, write_or_retry(rs, rt_requeue_after(10000)));
    }
    if (r < 0) {
      set_phase(rs, "Failed", "InvalidRun", why);
      js_set_time(rs->status, "completionTime", rs->now);
      return finish(rs, write_or_retry(rs, rt_ok()));
    }
    js_set_time(rs->status, "startTime", rs->now);
  }
  if (load_snapshot(rs, why, sizeof(why))) {
    set_phase(rs, "Failed", "InvalidRun", why);
    js_set_time(rs->status, "completionTime", rs->now);
    return finish(rs, write_or_retry(rs, rt_ok()));
  }
  kube_status st;
  /* The work volume of a claim template: one claim per run. */
  if (rs->spec.work.kind == PL_WORK_TEMPLATE) {
    json_t *pvc = pl_work_claim(run, &rs->spec.work);
    int rc = rt_apply_cached(ctx->client, rt_store(ctx, &kube_pvcs), &kube_pvcs, pvc, NULL, NULL, &st);
    json_decref(pvc);
    if (rc) {
      log_warn(LOGGER, "cannot write the work volume claim", "run=%s/%s error=%s message=\"%s\"", req->ns, req->name,
               cubit_strerror(rc), st.message);
      return finish(rs, rt_result_for_error(rc, &st));
    }
  }
  refs_fields(rs);
  nodes_from_status(rs);
  pl_phase before[PL_MAX_TASKS];
  for (size_t i = 0; i < rs->spec.ntasks; i++) before[i] = rs->nodes[i].phase;
  observe(rs);
  pl_step_out o;
  int64_t retry_later = 0;
  /* A task that can never be made fails at once; step again so the run's
   * phase and the tasks after it follow. */
  for (int round = 0; round <= PL_MAX_TASKS; round++) {
    pl_dag_step(&rs->spec, rs->nodes, rs->now, when_of, rs, &o);
    int again = 0;
    for (size_t i = 0; i < rs->spec.ntasks; i++) {
      pl_node *n = &rs->nodes[i];
      if (n->action == PL_ACT_STOP) {
        int rc = stop_task(rs, i, &st);
        if (rc) return finish(rs, rt_result_for_error(rc, &st));
      } else if (n->action == PL_ACT_CREATE) {
        char err[600] = "";
        int r = create_task(rs, i, err, sizeof(err));
        if (r < 0) {
          n->phase = PL_FAILED;
          n->finish = rs->now;
          n->retry_at = 0;
          snprintf(n->message, sizeof(n->message), "%s", err);
          again = 1;
        } else if (r == 1) {
          retry_later = rs->now + 15;
        }
      }
      n->action = PL_ACT_NONE;
    }
    if (!again) break;
  }
  node_events(rs, before);
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  if (o.run_phase == PL_RUNNING) {
    set_phase(rs, "Running", "Running", NULL);
  } else {
    js_set_time(rs->status, "completionTime", rs->now);
    if (o.run_phase == PL_SUCCEEDED) set_phase(rs, "Succeeded", "Succeeded", NULL);
    else set_phase(rs, "Failed", "TaskFailed", o.message);
  }
  progress(rs, &o);
  int64_t wake = o.wakeup;
  if (retry_later && (wake == 0 || retry_later < wake)) wake = retry_later;
  rt_result after = rt_ok();
  if (o.run_phase == PL_RUNNING) {
    /* Keep the duration fresh while it runs; sooner for a timer. */
    int64_t ms = 30000;
    if (wake > 0) {
      int64_t until = (wake - rs->now) * 1000 + 200;
      if (until < ms) ms = until < 200 ? 200 : until;
    }
    after = rt_requeue_after(ms);
  }
  return finish(rs, write_or_retry(rs, after));
}

/* ---------------------------------------------------------- mapping */

/* A reader pod maps to its run through Cubit's label. */
static char **map_pod(const rt_ctx *ctx, const json_t *pod) {
  const char *run = json_string_value(json_object_get(js_get(pod, "metadata.labels"), PL_LABEL_RUN));
  if (run == NULL) return NULL;
  char **keys = xcalloc(2, sizeof(char *));
  keys[0] = cache_key_of(js_namespace(pod), run);
  return keys;
}

/* A Pipeline (or template) that appears maps to the runs waiting for it. */
static char **map_waiting_runs(const rt_ctx *ctx, const json_t *obj) {
  cache_store *runs = rt_store(ctx, &pl_pipelinerun_resource);
  if (runs == NULL) return NULL;
  cache_list l;
  cache_store_list(runs, js_namespace(obj), &l);
  char **keys = xcalloc(l.len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < l.len; i++) {
    const char *phase = js_str(l.items[i], "status.phase");
    if (phase == NULL || strcmp(phase, "Pending") == 0) keys[n++] = cache_key(l.items[i]);
  }
  cache_list_free(&l);
  return keys;
}

int pipelinerun_controller_register(rt_manager *m, const json_t *settings) {
  run_ctl *rc = xcalloc(1, sizeof(*rc));
  const char *image = js_str(settings, "outputReaderImage");
  snprintf(rc->reader_image, sizeof(rc->reader_image), "%s", image ? image : DEFAULT_READER_IMAGE);
  rt_controller_def def = {0};
  def.name = "pipelinerun";
  def.primary = &pl_pipelinerun_resource;
  def.owns[0] = &trainingjob_resource;
  def.owns[1] = &kube_jobs;
  def.owns[2] = &kube_pvcs;
  def.watches[0] = (rt_watch_def){&kube_pods, map_pod};
  def.watches[1] = (rt_watch_def){&pl_pipeline_resource, map_waiting_runs};
  def.watches[2] = (rt_watch_def){&pl_jobtemplate_resource, map_waiting_runs};
  def.watches[3] = (rt_watch_def){&pl_clusterjobtemplate_resource, map_waiting_runs};
  def.workers = 4;
  def.reconcile = reconcile;
  def.arg = rc;
  def.free_arg = free;
  int r = rt_manager_add_controller(m, &def);
  if (r) free(rc);
  return r;
}
