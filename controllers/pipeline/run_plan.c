/* The PipelineRun's plan, a pure function of the run, the pipeline and
 * templates it names (until it starts), what the cache shows of its
 * TrainingJobs and outputs readers, and the clock reading:
 *
 *   start     the pipeline's spec, its templates and the resolved parameters
 *             are copied into status, so editing them never changes a run;
 *   retry     a new value of the cubit.dev/retry annotation on a failed run
 *             sends its failed and omitted tasks back to Pending;
 *   step      pl_dag_step judges each attempt and starts ready tasks: their
 *             TrainingJobs (named by run, task and attempt), the work
 *             volume claim and the outputs readers become applies;
 *   stop      an attempt the run no longer wants (timed out, or interrupted
 *             by a stop of the run) is applied stopped: annotated
 *             cubit.dev/stopped and suspended;
 *   stopped   spec.stopped: nothing starts, running tasks' attempts are
 *             stopped and the tasks wait (Pending) for the run to resume,
 *             when each starts its next attempt; the finished stay finished;
 *   place     a run with spec.cluster or spec.placement is placed once as
 *             a whole (the shared steps of controllers/cluster/placement.h):
 *             its work claim and outputs readers are made in that cluster
 *             and every task is pinned there; deleted, it cleans there;
 *   status    the nodes, progress, and the run's phase and state.
 *
 * Phases and states (docs/pipeline.md#status): Pending (waiting for its
 * pipeline or templates, for a task's pods to start, for a retry's backoff)
 * and Queued (a task's pods unscheduled: quota, gang, capacity) quote the
 * waiting task's reason and are PROGRESSING, as is Running (some task's pods
 * run): a running run is not done, so it is not Ready. Succeeded is
 * SUCCEEDED; Failed is FAILED, terminal; Stopped (spec.stopped) is
 * SUSPENDED.
 *
 * Every action is idempotent (a child's name is decided before it exists,
 * and applying it again changes nothing), so a plan taken on a stale read is
 * harmless; the executor writes the status with the resourceVersion read, so
 * a stale plan's status is refused and the plan is taken again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "controllers/pipeline/pipeline.h"
#include "controllers/trainingjob/trainingjob.h"
#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* Everything one plan knows about its run. */
typedef struct run_state {
  const pl_run_in *in;
  rt_plan *plan;
  json_t *status;             /* the status being built (owned) */
  pl_spec spec;
  int spec_ok;
  pl_template tmpl[PL_MAX_TASKS];
  int tmpl_ok[PL_MAX_TASKS];
  const json_t *params;       /* resolved pipeline parameters (borrowed from status) */
  pl_node nodes[PL_MAX_TASKS];
  json_t *outputs[PL_MAX_TASKS]; /* per node (owned), NULL = none */
  int applied[PL_MAX_TASKS];  /* the current attempt's TrainingJob is in the plan */
  int timed_out[PL_MAX_TASKS]; /* the attempt this step stopped for its timeout, 0 = none */
  pl_work_mount work;
  json_t *refs;               /* run.name, run.namespace, run.scheduledTime (owned) */
  int stopped;                /* spec.stopped */
  /* Placed as a whole: the cluster its tasks are pinned to, and the member
   * its work claim and outputs readers are made in (NULL: the hub). */
  const char *cluster, *member;
} run_state;

/* ------------------------------------------------- children's home */

static const placement_words run_words = {
    .noun = "PipelineRun", .demand = "its largest task's gang", .label = PL_LABEL_RUN};

/* The shared placement steps' view of this plan. */
static placement_step place_step(run_state *rs) {
  const pl_run_in *in = rs->in;
  return (placement_step){.words = &run_words, .obj = in->run, .clusters = in->clusters, .nclusters = in->nclusters,
                          .project_name = in->project_name, .status = rs->status, .out = rs->plan,
                          .gen = js_int(in->run, "metadata.generation", 0), .now = in->now};
}

/* The work claim and outputs readers are made where the tasks run: in the
 * hub owned by the run, in its member labelled for it (no ownerReference
 * crosses clusters). */
static void apply_child(run_state *rs, const kube_resource *r, json_t *desired) {
  if (rs->member) {
    placement_step ps = place_step(rs);
    desired = placement_for_member(&ps, desired);
  }
  rt_plan_apply_in(rs->plan, rs->member, r, desired);
}

static int own_child(const run_state *rs, const json_t *child) {
  return rs->member ? placement_labelled_for(rs->in->run, child) : rt_is_controlled_by(child, rs->in->run);
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

/* Pipeline level: task parameters and `when`. */
static const json_t *pipeline_value(const pl_ref *ref, void *arg, char *err, size_t errlen) {
  run_state *rs = arg;
  switch (ref->kind) {
    case PL_REF_PARAM: {
      json_t *v = json_object_get(rs->params, ref->name);
      if (v == NULL) snprintf(err, errlen, "the pipeline has no parameter %s", ref->name);
      return v;
    }
    case PL_REF_RUN: return json_object_get(rs->refs, ref->name);
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
    json_decref(rs->outputs[i]);
    rs->outputs[i] = NULL;
    json_t *j = json_object_get(nodes, rs->spec.tasks[i].name);
    if (j == NULL) continue;
    (void)pl_phase_parse(js_str(j, "phase"), &n->phase);
    n->attempts = (int)js_int(j, "attempts", 0);
    n->first_attempt = (int)js_int(j, "firstAttempt", 1);
    n->stopped_attempts = (int)js_int(j, "stoppedAttempts", 0);
    n->start = js_time(j, "startTime");
    n->finish = js_time(j, "finishTime");
    n->retry_at = js_time(j, "retryAt");
    snprintf(n->message, sizeof(n->message), "%s", js_str(j, "message") ? js_str(j, "message") : "");
    json_t *o = json_object_get(j, "outputs");
    if (json_is_object(o)) rs->outputs[i] = json_deep_copy(o);
  }
}

static json_t *nodes_to_status(run_state *rs) {
  const char *run = js_name(rs->in->run);
  json_t *nodes = json_object();
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const pl_node *n = &rs->nodes[i];
    json_t *j = json_pack("{s:s, s:i}", "phase", pl_phase_name(n->phase), "attempts", n->attempts);
    if (n->first_attempt > 1) json_object_set_new(j, "firstAttempt", json_integer(n->first_attempt));
    if (n->stopped_attempts > 0) json_object_set_new(j, "stoppedAttempts", json_integer(n->stopped_attempts));
    if (n->attempts > 0) {
      char name[64];
      pl_task_job_name(run, rs->spec.tasks[i].name, n->attempts, name, sizeof(name));
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

/* ------------------------------------------------------ observation */

static const json_t *find(const cache_list *l, const char *name) {
  for (size_t i = 0; l && name && i < l->len; i++)
    if (strcmp(js_name(l->items[i]) ? js_name(l->items[i]) : "", name) == 0) return l->items[i];
  return NULL;
}

static const char *annotation(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(js_get(obj, "metadata.annotations"), key));
}

/* The outputs of a succeeded attempt, read by its reader Job: 0 when they
 * are in hand (or none are declared), 1 while reading (the reader is
 * applied when it does not exist), CUBIT_EINVAL with a reason when reading
 * failed. */
static int read_outputs(run_state *rs, size_t i, const json_t *tj, char *why, size_t len) {
  const pl_template *tm = &rs->tmpl[i];
  if (tm->noutputs == 0 || rs->outputs[i]) return 0;
  const json_t *run = rs->in->run;
  char name[80];
  snprintf(name, sizeof(name), "%s-outputs", js_name(tj));
  const json_t *job = find(rs->in->jobs, name);
  if (job == NULL) {
    apply_child(rs, &kube_jobs, pl_outputs_reader(run, tj, tm, &rs->work, rs->spec.tasks[i].name, rs->in->reader_image));
    return 1;
  }
  if (!own_child(rs, job)) {
    snprintf(why, len, "a Job named %s exists and belongs to something else", name);
    return CUBIT_EINVAL;
  }
  /* The reader's pod holds the outputs in its termination message. */
  for (size_t k = 0; rs->in->pods && k < rs->in->pods->len; k++) {
    const json_t *pod = rs->in->pods->items[k];
    const char *owner = json_string_value(json_object_get(js_get(pod, "metadata.labels"), "batch.kubernetes.io/job-name"));
    const char *phase = js_str(pod, "status.phase");
    if (owner == NULL || strcmp(owner, name) != 0 || phase == NULL || strcmp(phase, "Succeeded") != 0) continue;
    size_t c;
    json_t *cs;
    json_array_foreach(js_get(pod, "status.containerStatuses"), c, cs) {
      const char *cname = js_str(cs, "name");
      if (cname == NULL || strcmp(cname, "read") != 0) continue;
      char *dir = pl_outputs_dir(&rs->work, rs->spec.tasks[i].name);
      json_t *values = NULL;
      int rc = pl_outputs_parse(js_str(cs, "state.terminated.message"), tm, dir, &values, why, len);
      free(dir);
      if (rc) return CUBIT_EINVAL;
      rs->outputs[i] = values;
      return 0;
    }
  }
  size_t c;
  json_t *cond;
  json_array_foreach(js_get(job, "status.conditions"), c, cond) {
    const char *type = js_str(cond, "type"), *cst = js_str(cond, "status");
    if (type && cst && strcmp(type, "Failed") == 0 && strcmp(cst, "True") == 0) {
      snprintf(why, len, "the outputs reader %s failed: %.400s", name,
               js_str(cond, "message") ? js_str(cond, "message") : "");
      return CUBIT_EINVAL;
    }
  }
  return 1;
}

/* What an active TrainingJob is waiting for, as its status says. */
static void observe_active(pl_node *n, const json_t *tj) {
  const json_t *ready = rt_condition_get(json_object_get(tj, "status"), "Ready");
  const char *phase = js_str(tj, "status.phase");
  const char *reason = js_str(ready, "reason") ? js_str(ready, "reason") : js_str(tj, "status.reason");
  const char *message = js_str(ready, "message") ? js_str(ready, "message") : js_str(tj, "status.message");
  n->job = PL_JOB_ACTIVE;
  snprintf(n->job_phase, sizeof(n->job_phase), "%s", phase ? phase : "Pending");
  snprintf(n->job_reason, sizeof(n->job_reason), "%s", reason ? reason : n->job_phase);
  snprintf(n->job_message, sizeof(n->job_message), "TrainingJob %s is %s%s%s", js_name(tj), n->job_phase,
           message ? ": " : "", message ? message : "");
}

static void observe_failed(pl_node *n, const json_t *tj) {
  const char *msg = js_str(tj, "status.message");
  const char *reason = js_str(tj, "status.reason");
  n->job = PL_JOB_FAILED;
  n->job_finished = js_time(tj, "status.completionTime");
  snprintf(n->job_message, sizeof(n->job_message), "TrainingJob %s failed%s%s%s%s%.400s", js_name(tj),
           reason ? " (" : "", reason ? reason : "", reason ? ")" : "", msg ? ": " : "", msg ? msg : "");
}

/* What the cache shows of each running node's current attempt. */
static void observe(run_state *rs) {
  const json_t *run = rs->in->run;
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    pl_node *n = &rs->nodes[i];
    n->job = PL_JOB_NONE;
    if (n->phase != PL_RUNNING || n->retry_at || n->attempts == 0) continue;
    char name[64];
    pl_task_job_name(js_name(run), rs->spec.tasks[i].name, n->attempts, name, sizeof(name));
    const json_t *tj = find(rs->in->trainingjobs, name);
    if (tj == NULL) continue;
    n->job_created = js_time(tj, "metadata.creationTimestamp");
    const char *stopped = annotation(tj, PL_STOPPED_ANNOTATION);
    const char *phase = js_str(tj, "status.phase");
    if (!rt_is_controlled_by(tj, run)) {
      n->job = PL_JOB_FAILED;
      snprintf(n->job_message, sizeof(n->job_message), "a TrainingJob named %s exists and belongs to something else",
               name);
    } else if (stopped) {
      n->job = PL_JOB_FAILED;
      n->job_finished = n->job_created + rs->spec.tasks[i].timeout_s;
      snprintf(n->job_message, sizeof(n->job_message), "%s", stopped);
    } else if (phase && strcmp(phase, "Succeeded") == 0) {
      n->job = PL_JOB_SUCCEEDED;
      n->job_finished = js_time(tj, "status.completionTime");
      char why[sizeof(n->job_message)] = "";
      int r = read_outputs(rs, i, tj, why, sizeof(why));
      if (r == 1) {
        n->outputs_pending = 1;
      } else if (r < 0) {
        n->job = PL_JOB_FAILED;
        n->job_finished = rs->in->now;
        snprintf(n->job_message, sizeof(n->job_message), "%s", why);
      }
    } else if (phase && strcmp(phase, "Failed") == 0) {
      observe_failed(n, tj);
    } else {
      observe_active(n, tj);
    }
  }
}

/* ---------------------------------------------------------- tasks */

/* The TrainingJob of one attempt of task i: 0, or CUBIT_EINVAL when it
 * can never be made (a parameter that does not resolve, a workload that is
 * no valid TrainingJob), with 'why'. */
static int task_trainingjob(run_state *rs, size_t i, int attempt, json_t **out, char *why, size_t len) {
  const pl_task *t = &rs->spec.tasks[i];
  const pl_template *tm = &rs->tmpl[i];
  char path[96];
  snprintf(path, sizeof(path), "spec.tasks[%zu].params", i);
  json_t *empty = json_object();
  json_t *given = NULL;
  int rc = pl_subst_json(t->params ? t->params : empty, path, pipeline_value, rs, &given, why, len);
  json_decref(empty);
  if (rc) return CUBIT_EINVAL;
  json_t *values = NULL;
  rc = pl_params_resolve(&tm->params, given, path, &values, why, len);
  json_decref(given);
  if (rc) return CUBIT_EINVAL;
  workload_refs w = {rs, values};
  pl_task_input in = {rs->in->run, t, tm, values, &rs->work, attempt, workload_value, &w, rs->cluster};
  rc = pl_task_trainingjob(&in, out, why, len);
  json_decref(values);
  return rc ? CUBIT_EINVAL : 0;
}

/* Applies the current attempt's TrainingJob of node i, or fails the node
 * when it can never be made (1: step again). */
static int start_task(run_state *rs, size_t i) {
  pl_node *n = &rs->nodes[i];
  if (rs->applied[i]) return 0;
  json_t *tj = NULL;
  char why[sizeof(n->message)] = "";
  if (task_trainingjob(rs, i, n->attempts, &tj, why, sizeof(why))) {
    n->phase = PL_FAILED;
    n->finish = rs->in->now;
    n->retry_at = 0;
    snprintf(n->message, sizeof(n->message), "%s", why);
    return 1;
  }
  rt_plan_apply(rs->plan, &trainingjob_resource, tj);
  rs->applied[i] = 1;
  return 0;
}

/* An attempt the run no longer wants — not the current attempt of a running
 * task (a timed-out one, or one whose stop did not get through before) — is
 * applied stopped: what it was made from, annotated with why and
 * suspended, so its pods go. Level-triggered: any such attempt the cache
 * shows still active is stopped, whenever it is seen. */
static void stop_unwanted(run_state *rs) {
  const pl_run_in *in = rs->in;
  for (size_t k = 0; in->trainingjobs && k < in->trainingjobs->len; k++) {
    const json_t *tj = in->trainingjobs->items[k];
    const char *phase = js_str(tj, "status.phase");
    if (!rt_is_controlled_by(tj, in->run) || annotation(tj, PL_STOPPED_ANNOTATION) ||
        (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)))
      continue;
    const json_t *labels = js_get(tj, "metadata.labels");
    int t = pl_spec_task(&rs->spec, json_string_value(json_object_get(labels, PL_LABEL_TASK)));
    const char *attempt_text = json_string_value(json_object_get(labels, PL_LABEL_ATTEMPT));
    int attempt = attempt_text ? atoi(attempt_text) : 0;
    if (t < 0 || attempt <= 0) continue;
    const pl_node *n = &rs->nodes[t];
    if (n->phase == PL_RUNNING && n->retry_at == 0 && attempt == n->attempts) continue;
    json_t *stopped = NULL;
    char why[600];
    /* It was made from the same inputs, so it can be made again; if not,
     * there is nothing sound to apply. */
    if (task_trainingjob(rs, (size_t)t, attempt, &stopped, why, sizeof(why))) continue;
    int64_t timeout = rs->spec.tasks[t].timeout_s;
    char text[160];
    if (rs->stopped)
      snprintf(text, sizeof(text), "stopped with the run (spec.stopped): attempt %d of task %s", attempt,
               rs->spec.tasks[t].name);
    else if (timeout > 0 && js_time(tj, "metadata.creationTimestamp") + timeout <= in->now)
      snprintf(text, sizeof(text), "timed out after %llds (timeoutSeconds)", (long long)timeout);
    else
      snprintf(text, sizeof(text), "stopped: the run no longer wants attempt %d of task %s", attempt,
               rs->spec.tasks[t].name);
    json_object_set_new(js_ensure_obj(stopped, "metadata.annotations"), PL_STOPPED_ANNOTATION, json_string(text));
    json_object_set_new(js_ensure_obj(stopped, "spec"), "suspend", json_true());
    rt_plan_apply(rs->plan, &trainingjob_resource, stopped);
  }
}

/* Events for what changed in this step. */
static void node_events(run_state *rs, const pl_node *before) {
  const char *run = js_name(rs->in->run);
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const pl_node *n = &rs->nodes[i];
    const char *task = rs->spec.tasks[i].name;
    char name[64];
    if (rs->timed_out[i]) {
      pl_task_job_name(run, task, rs->timed_out[i], name, sizeof(name));
      rt_plan_event(rs->plan, "Warning", "TaskTimedOut", "task %s: attempt %d timed out after %llds (timeoutSeconds); "
                    "TrainingJob %s suspended", task, rs->timed_out[i], (long long)rs->spec.tasks[i].timeout_s, name);
    }
    if (n->phase == PL_RUNNING && n->attempts > before[i].attempts) {
      pl_task_job_name(run, task, n->attempts, name, sizeof(name));
      rt_plan_event(rs->plan, "Normal", "TaskStarted", "task %s: attempt %d, TrainingJob %s", task, n->attempts, name);
    }
    if (n->phase == PL_RUNNING && n->retry_at && before[i].retry_at == 0)
      rt_plan_event(rs->plan, "Warning", "TaskRetrying", "task %s: %s", task, n->message);
    if (n->phase == before[i].phase) continue;
    switch (n->phase) {
      case PL_SUCCEEDED: rt_plan_event(rs->plan, "Normal", "TaskSucceeded", "task %s succeeded", task); break;
      case PL_FAILED: rt_plan_event(rs->plan, "Warning", "TaskFailed", "task %s: %s", task, n->message); break;
      case PL_SKIPPED: rt_plan_event(rs->plan, "Normal", "TaskSkipped", "task %s: %s", task, n->message); break;
      case PL_OMITTED: rt_plan_event(rs->plan, "Normal", "TaskOmitted", "task %s: %s", task, n->message); break;
      default: break;
    }
  }
}

/* ---------------------------------------------------------- status */

static void set_message(run_state *rs, const char *message) {
  if (message && *message) json_object_set_new(rs->status, "message", json_string(message));
  else json_object_del(rs->status, "message");
}

/* The kind's own conditions, kept beside the state's: Succeeded and Failed
 * say how a finished run ended (kubectl wait --for=condition=Succeeded). */
static void outcome_conditions(run_state *rs, const char *phase, const char *reason, const char *message) {
  json_int_t gen = js_int(rs->in->run, "metadata.generation", 0);
  const char *msg = message && *message ? message : phase;
  rt_condition_set(rs->status, "Succeeded", strcmp(phase, "Succeeded") == 0 ? "True" : "False", reason, msg, gen,
                   rs->in->now);
  rt_condition_set(rs->status, "Failed", strcmp(phase, "Failed") == 0 ? "True" : "False", reason, msg, gen,
                   rs->in->now);
}

/* Pending or Queued (PROGRESSING), with the reason; a Warning event when
 * the reason is news and not a normal start-up step. */
static void waiting(run_state *rs, const char *phase, const char *reason, const char *message, int warn) {
  pl__set_state(rs->plan, rs->status, rs->in->run, phase, RT_STATE_PROGRESSING, reason, message, rs->in->now,
                warn ? PL_WARN_REASON : PL_WARN_NONE);
  outcome_conditions(rs, phase, reason, message);
  set_message(rs, message);
}

/* Running (PROGRESSING): some task's pods run. */
static void running(run_state *rs, const char *message) {
  pl__set_state(rs->plan, rs->status, rs->in->run, "Running", RT_STATE_PROGRESSING, "Running", message, rs->in->now,
                PL_WARN_NONE);
  outcome_conditions(rs, "Running", "Running", message);
  set_message(rs, NULL);
}

/* Succeeded or Failed, terminal; the event once, on the transition. */
static void finished(run_state *rs, int ok, const char *reason, const char *message) {
  const char *phase = ok ? "Succeeded" : "Failed";
  const char *before = js_str(rs->in->run, "status.phase");
  if (before == NULL || strcmp(before, phase) != 0)
    rt_plan_event(rs->plan, ok ? "Normal" : "Warning", phase, "%s", message);
  if (js_time(rs->status, "completionTime") == 0) js_set_time(rs->status, "completionTime", rs->in->now);
  pl__set_state(rs->plan, rs->status, rs->in->run, phase, ok ? RT_STATE_SUCCEEDED : RT_STATE_FAILED, reason, message,
                rs->in->now, PL_WARN_NONE);
  outcome_conditions(rs, phase, reason, message);
  set_message(rs, ok ? NULL : message);
}

/* Stopped (SUSPENDED): where spec.stopped asked it to be; the event once,
 * on the transition. */
static void stopped_state(run_state *rs, const char *message) {
  const char *before = js_str(rs->in->run, "status.phase");
  if (before == NULL || strcmp(before, "Stopped") != 0) rt_plan_event(rs->plan, "Normal", "Stopped", "%s", message);
  pl__set_state(rs->plan, rs->status, rs->in->run, "Stopped", RT_STATE_SUSPENDED, "Stopped", message, rs->in->now,
                PL_WARN_NONE);
  outcome_conditions(rs, "Stopped", "Stopped", message);
  set_message(rs, message);
}

static void progress(run_state *rs, const pl_step_out *o) {
  char text[48];
  snprintf(text, sizeof(text), "%zu/%zu", o->done, o->total);
  json_object_set_new(rs->status, "progress", json_string(text));
  /* A stopped run's duration stays what it was when it stopped. */
  if (rs->stopped) return;
  int64_t start = js_time(rs->status, "startTime");
  int64_t end = js_time(rs->status, "completionTime");
  if (start) {
    char dur[32];
    tj_format_duration((end ? end : rs->in->now) - start, dur);
    json_object_set_new(rs->status, "duration", json_string(dur));
  }
}

/* Reasons of a task's TrainingJob that are normal steps of starting,
 * restarting or finishing, not news: the TrainingJob's own quiet reasons
 * (its child being made, pods being created or scheduled, containers
 * starting) and the kubelet's. Anything else (Unschedulable, ErrImagePull,
 * a quota refusal...) is worth a Warning on the run. */
static int normal_wait(const char *reason) {
  /* The TrainingJob's own start-up steps, besides its pods' normal ones. */
  static const char *normal[] = {"Pending",    "Queued",     "Created",  "Creating",   "WaitingForPods",
                                 "Completing", "Resuming",   "Suspending", "Recreating", "Restarting",
                                 "GangRestart", "DebugPodStarting"};
  if (tj_wait_is_normal(reason)) return 1;
  for (size_t i = 0; i < sizeof(normal) / sizeof(normal[0]); i++)
    if (strcmp(reason, normal[i]) == 0) return 1;
  return 0;
}

/* The phase of a run whose DAG is not done: Running when some task's pods
 * run (or its outputs are being read), else Queued or Pending with what the
 * first waiting task (in topological order) waits for. */
static void running_state(run_state *rs) {
  char names[400] = "";
  size_t used = 0, nrunning = 0;
  const pl_node *wait = NULL, *retry = NULL, *start = NULL;
  size_t wait_task = 0, start_task_i = 0;
  for (size_t k = 0; k < rs->spec.ntasks; k++) {
    size_t i = rs->spec.order[k];
    const pl_node *n = &rs->nodes[i];
    if (n->phase != PL_RUNNING) continue;
    int runs = (n->job == PL_JOB_ACTIVE && strcmp(n->job_phase, "Running") == 0) || n->outputs_pending;
    if (runs) {
      int w = snprintf(names + used, sizeof(names) - used, "%s%s", nrunning ? ", " : "", rs->spec.tasks[i].name);
      if (w > 0 && (size_t)w < sizeof(names) - used) used += (size_t)w;
      nrunning++;
    } else if (n->job == PL_JOB_ACTIVE && wait == NULL) {
      wait = n;
      wait_task = i;
    } else if (n->retry_at && retry == NULL) {
      retry = n;
    } else if (n->job == PL_JOB_NONE && !n->retry_at && start == NULL) {
      start = n;
      start_task_i = i;
    }
  }
  char msg[1100];
  if (nrunning) {
    if (wait)
      snprintf(msg, sizeof(msg), "running: %s; task %s waits: %s: %.600s", names, rs->spec.tasks[wait_task].name,
               wait->job_reason, wait->job_message);
    else
      snprintf(msg, sizeof(msg), "running: %s", names);
    running(rs, msg);
  } else if (wait) {
    snprintf(msg, sizeof(msg), "task %s: %s", rs->spec.tasks[wait_task].name, wait->job_message);
    waiting(rs, strcmp(wait->job_phase, "Queued") == 0 ? "Queued" : "Pending", wait->job_reason, msg,
            !normal_wait(wait->job_reason));
  } else if (retry) {
    waiting(rs, "Pending", "Retrying", retry->message, 0);
  } else if (start) {
    char name[64];
    pl_task_job_name(js_name(rs->in->run), rs->spec.tasks[start_task_i].name, start->attempts, name, sizeof(name));
    snprintf(msg, sizeof(msg), "starting task %s (TrainingJob %s)", rs->spec.tasks[start_task_i].name, name);
    waiting(rs, "Pending", "Starting", msg, 0);
  } else {
    waiting(rs, "Pending", "Starting", "starting its tasks", 0);
  }
}

/* ------------------------------------------------------------ start */

static const json_t *lookup_snapshot(pl_template_kind kind, const char *name, void *arg) {
  char key[320];
  pl_template_key(kind, name, key, sizeof(key));
  return json_object_get((const json_t *)arg, key);
}

typedef enum { START_OK, START_WAIT, START_INVALID } start_result;

/* Copies the pipeline, its templates and the resolved parameters into
 * status; or says what it waits for (reason and why) or why it never can. */
static start_result start_run(run_state *rs, const char **reason, char *why, size_t len) {
  const json_t *run = rs->in->run;
  const char *pname = js_str(run, "spec.pipelineRef.name");
  if (pname == NULL) {
    snprintf(why, len, "spec.pipelineRef.name: required");
    return START_INVALID;
  }
  const json_t *p = rs->in->pipeline;
  if (p == NULL) {
    *reason = "PipelineNotFound";
    snprintf(why, len, "waiting for Pipeline %s", pname);
    return START_WAIT;
  }
  const json_t *pspec = json_object_get(p, "spec");
  pl_spec spec;
  char err[700];
  if (pl_spec_parse(pspec, &spec, err, sizeof(err))) {
    snprintf(why, len, "Pipeline %s is invalid: %.560s", pname, err);
    return START_INVALID;
  }
  start_result result = START_OK;
  json_t *templates = json_object();
  for (size_t i = 0; i < spec.ntasks && result == START_OK; i++) {
    const pl_task *t = &spec.tasks[i];
    char key[320];
    pl_template_key(t->template_kind, t->template_name, key, sizeof(key));
    const json_t *ts = json_object_get(json_object_get(rs->in->templates, key), "spec");
    if (ts == NULL) {
      *reason = "TemplateNotFound";
      snprintf(why, len, "waiting for %s %s (task %s)",
               t->template_kind == PL_TEMPLATE_CLUSTER ? "ClusterJobTemplate" : "JobTemplate", t->template_name,
               t->name);
      result = START_WAIT;
    } else {
      json_object_set_new(templates, key, json_deep_copy(ts));
    }
  }
  if (result == START_OK && pl_spec_check_templates(&spec, lookup_snapshot, templates, err, sizeof(err))) {
    snprintf(why, len, "Pipeline %s: %.560s", pname, err);
    result = START_INVALID;
  }
  json_t *values = NULL;
  if (result == START_OK &&
      pl_params_resolve(&spec.params, js_get(run, "spec.params"), "spec.params", &values, err, sizeof(err))) {
    snprintf(why, len, "%s", err);
    result = START_INVALID;
  }
  if (result == START_OK) {
    json_object_set_new(rs->status, "pipelineSpec", json_deep_copy(pspec));
    json_object_set(rs->status, "templates", templates);
    /* An empty map would be applied as null, which the schema refuses. */
    if (json_object_size(values)) json_object_set_new(rs->status, "params", values);
    else json_decref(values);
    js_set_time(rs->status, "startTime", rs->in->now);
  }
  json_decref(templates);
  pl_spec_free(&spec);
  return result;
}

static void unload_snapshot(run_state *rs) {
  for (size_t i = 0; i < PL_MAX_TASKS; i++) {
    if (rs->tmpl_ok[i]) pl_template_free(&rs->tmpl[i]);
    rs->tmpl_ok[i] = 0;
  }
  if (rs->spec_ok) pl_spec_free(&rs->spec);
  rs->spec_ok = 0;
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
  pl_work_mount_of(&rs->spec.work, js_name(rs->in->run), &rs->work);
  const char *sched = js_str(rs->in->run, "spec.scheduledTime");
  if (sched == NULL) sched = js_str(rs->in->run, "metadata.creationTimestamp");
  json_decref(rs->refs);
  rs->refs = json_pack("{s:s, s:s, s:s}", "name", js_name(rs->in->run), "namespace", js_namespace(rs->in->run),
                       "scheduledTime", sched ? sched : "");
  return 0;
}

/* ------------------------------------------------------------ retry */

static void start_over(run_state *rs) {
  static const char *fields[] = {"pipelineSpec", "templates", "params", "nodes", "startTime", "completionTime",
                                 "progress", "duration", "message"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) json_object_del(rs->status, fields[i]);
}

/* Retry from a task (cubit.dev/retry-from with the new cubit.dev/retry
 * value): on a finished run that started, the task and everything
 * downstream of it run again, their outputs void; upstream results stay.
 * Returns 1 when the run was retried. */
static int retry_from(run_state *rs, const char *from, const char *phase) {
  char why[700];
  if (phase == NULL || (strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0)) {
    rt_plan_event(rs->plan, "Normal", "RetryIgnored", "%s is for finished runs; this one is %s",
                  PL_RETRY_FROM_ANNOTATION, phase ? phase : "Pending");
    return 0;
  }
  if (json_object_get(rs->status, "pipelineSpec") == NULL || load_snapshot(rs, why, sizeof(why))) {
    unload_snapshot(rs);
    rt_plan_event(rs->plan, "Warning", "RetryIgnored", "%s=%s: the run never started; retry it without a task",
                  PL_RETRY_FROM_ANNOTATION, from);
    return 0;
  }
  int t = pl_spec_task(&rs->spec, from);
  if (t < 0) {
    rt_plan_event(rs->plan, "Warning", "RetryIgnored", "%s=%s: the run has no such task", PL_RETRY_FROM_ANNOTATION,
                  from);
    unload_snapshot(rs); /* the plan goes on as if nothing was asked, and loads it again */
    return 0;
  }
  json_object_set_new(rs->status, "retries", json_integer(js_int(rs->status, "retries", 0) + 1));
  json_object_del(rs->status, "completionTime");
  nodes_from_status(rs);
  int reset[PL_MAX_TASKS];
  size_t n = pl_dag_retry_from(&rs->spec, rs->nodes, (size_t)t, reset);
  for (size_t i = 0; i < rs->spec.ntasks; i++)
    if (reset[i]) {
      json_decref(rs->outputs[i]);
      rs->outputs[i] = NULL;
    }
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  rt_plan_event(rs->plan, "Normal", "Retried", "retrying from task %s: %zu tasks run again", from, n);
  return 1;
}

/* A new cubit.dev/retry value: on a failed run its failed and omitted tasks
 * go back to Pending (a run that failed before it started starts over from
 * the pipeline as it is now); elsewhere it is ignored. Either way the value
 * is recorded, so it acts once. Returns 1 when the run was retried. */
static int retry(run_state *rs) {
  const char *want = annotation(rs->in->run, PL_RETRY_ANNOTATION);
  const char *done = js_str(rs->status, "lastHandledRetry");
  if (want == NULL || (done && strcmp(done, want) == 0)) return 0;
  json_object_set_new(rs->status, "lastHandledRetry", json_string(want));
  const char *phase = js_str(rs->status, "phase");
  const char *from = annotation(rs->in->run, PL_RETRY_FROM_ANNOTATION);
  if (from && *from) return retry_from(rs, from, phase);
  if (phase == NULL || strcmp(phase, "Failed") != 0) {
    rt_plan_event(rs->plan, "Normal", "RetryIgnored", "%s is for failed runs; this one is %s", PL_RETRY_ANNOTATION,
                  phase ? phase : "Pending");
    return 0;
  }
  json_object_set_new(rs->status, "retries", json_integer(js_int(rs->status, "retries", 0) + 1));
  json_object_del(rs->status, "completionTime");
  char why[700];
  if (json_object_get(rs->status, "pipelineSpec") == NULL || load_snapshot(rs, why, sizeof(why))) {
    unload_snapshot(rs);
    start_over(rs);
    rt_plan_event(rs->plan, "Normal", "Retried", "retrying from the start (%s)", PL_RETRY_ANNOTATION);
    return 1;
  }
  nodes_from_status(rs);
  size_t n = pl_dag_retry(&rs->spec, rs->nodes);
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  rt_plan_event(rs->plan, "Normal", "Retried", "retrying %zu failed or omitted tasks", n);
  return 1;
}

/* ------------------------------------------------------------- step */

/* One step of the DAG and everything it asks for. */
static void step(run_state *rs) {
  const pl_run_in *in = rs->in;
  if (rs->spec.work.kind == PL_WORK_TEMPLATE) apply_child(rs, &kube_pvcs, pl_work_claim(in->run, &rs->spec.work));
  nodes_from_status(rs);
  pl_node *before = xmalloc(sizeof(rs->nodes));
  memcpy(before, rs->nodes, sizeof(rs->nodes));
  observe(rs);
  pl_step_out o;
  /* A task that can never be made fails at once; step again so the run's
   * phase and the tasks after it follow. */
  for (int round = 0; round <= PL_MAX_TASKS; round++) {
    pl_dag_step(&rs->spec, rs->nodes, in->now, when_of, rs, &o);
    int again = 0;
    for (size_t i = 0; i < rs->spec.ntasks; i++) {
      pl_node *n = &rs->nodes[i];
      if (n->action == PL_ACT_STOP && rs->timed_out[i] == 0) rs->timed_out[i] = before[i].attempts;
      if (n->action == PL_ACT_CREATE) again |= start_task(rs, i);
      n->action = PL_ACT_NONE;
    }
    if (!again) break;
  }
  stop_unwanted(rs);
  node_events(rs, before);
  free(before);
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  if (o.run_phase == PL_RUNNING) {
    running_state(rs);
    /* Keep the duration fresh while it runs; sooner for a timer. */
    rt_plan_requeue_after(rs->plan, 30000);
    if (o.wakeup > 0) {
      int64_t ms = (o.wakeup - in->now) * 1000 + 200;
      rt_plan_requeue_after(rs->plan, ms < 200 ? 200 : ms);
    }
  } else if (o.run_phase == PL_SUCCEEDED) {
    char msg[80];
    snprintf(msg, sizeof(msg), "all %zu tasks finished", o.total);
    finished(rs, 1, "Succeeded", msg);
  } else {
    finished(rs, 0, "TaskFailed", o.message);
  }
  progress(rs, &o);
}

/* A stopped run's look: what the running attempts show is settled, the
 * rest wait for the run to resume (pl_dag_stop), and every attempt still
 * active is applied stopped. The status is written before the stops, so
 * an attempt is stopped only once the run has recorded that it was
 * interrupted (a stale plan's status is refused and nothing is stopped). */
static void stop_step(run_state *rs) {
  nodes_from_status(rs);
  pl_node *before = xmalloc(sizeof(rs->nodes));
  memcpy(before, rs->nodes, sizeof(rs->nodes));
  observe(rs);
  pl_step_out o;
  pl_dag_stop(&rs->spec, rs->nodes, rs->in->now, &o);
  stop_unwanted(rs);
  node_events(rs, before);
  free(before);
  json_object_set_new(rs->status, "nodes", nodes_to_status(rs));
  char msg[160];
  snprintf(msg, sizeof(msg), "stopped by spec.stopped with %zu/%zu tasks finished; set it to false to resume", o.done,
           o.total);
  stopped_state(rs, msg);
  progress(rs, &o);
  rs->plan->status_first = 1;
}

/* -------------------------------------------------------- placement */

/* The largest gang of the tasks whose TrainingJob can be made now (see
 * pl_run_demand). */
static void run_demand(run_state *rs, placement_demand *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    json_t *tj = NULL;
    char why[600];
    tj_spec s;
    if (task_trainingjob(rs, i, 1, &tj, why, sizeof(why)) == 0 && tj_spec_parse(tj, &s, why, sizeof(why)) == 0) {
      placement_demand d;
      tj_demand_of(&s, &d);
      int larger = d.gpu_milli != out->gpu_milli     ? d.gpu_milli > out->gpu_milli
                   : d.cpu_milli != out->cpu_milli ? d.cpu_milli > out->cpu_milli
                                                   : d.memory_bytes > out->memory_bytes;
      if (larger) *out = d;
    }
    json_decref(tj);
  }
}

/* A task whose template names a cluster the run does not run in: the run
 * decides its tasks' cluster (placed by policy, any cluster named is one it
 * may not choose). 1 with why. */
static int tasks_elsewhere(run_state *rs, const char *cluster, char *why, size_t len) {
  for (size_t i = 0; i < rs->spec.ntasks; i++) {
    const char *named = js_str(rs->tmpl[i].workload, "cluster");
    if (named == NULL || (cluster && strcmp(named, cluster) == 0)) continue;
    snprintf(why, len,
             "task %s: its template's spec.workload.cluster names cluster %s, but the run is placed as a whole "
             "(%s%s) and runs every task in its own cluster: remove the template's cluster",
             rs->spec.tasks[i].name, named, cluster ? "spec.cluster: " : "spec.placement", cluster ? cluster : "");
    return 1;
  }
  return 0;
}

typedef enum { PLACE_GO, PLACE_STATUS, PLACE_FINALIZER } place_result;

/* A run with spec.cluster or spec.placement, once it has its copy of the
 * pipeline, is placed once as a whole (docs/multicluster.md): the choice is
 * written to status.cluster alone, before any child; on a member the
 * finalizer comes next, alone too (it changes the resourceVersion the
 * status write is guarded by); then its children are made there
 * (PLACE_GO). While its member is away the rest of the status stays as
 * last seen. */
static place_result place_run(run_state *rs) {
  const pl_run_in *in = rs->in;
  placement_step ps = place_step(rs);
  const char *cluster = placement_cluster_of(in->run, in->place, in->nclusters);
  if (cluster == NULL && js_get(in->run, "status.pipelineSpec") == NULL) {
    /* It starts in this plan: the clusters were gathered before its
     * demand (the GPU model) was known; placed on the next look. */
    waiting(rs, "Pending", "Starting", "started; placing it as a whole next", 0);
    return PLACE_STATUS;
  }
  if (cluster == NULL) {
    char why[700];
    if (tasks_elsewhere(rs, in->place->cluster, why, sizeof(why))) {
      finished(rs, 0, "InvalidRun", why);
      return PLACE_STATUS;
    }
    placement_demand d;
    run_demand(rs, &d);
    placement_verdict v;
    placement_choose(&ps, in->place, &d, &v);
    const char *phase = strcmp(v.reason, "NoClusterFits") == 0 ? "Queued" : "Pending";
    pl__set_state(rs->plan, rs->status, in->run, phase, v.state, v.reason, v.message, in->now,
                  v.warn ? PL_WARN_REASON : PL_WARN_NONE);
    outcome_conditions(rs, phase, v.reason, v.message);
    set_message(rs, v.message);
    return PLACE_STATUS;
  }
  rs->cluster = cluster;
  if (strcmp(cluster, CLUSTER_LOCAL) == 0) return PLACE_GO;
  rs->member = cluster;
  const placement_view *c = placement_views_find(in->clusters, in->nclusters, cluster);
  if (!(c && c->ready)) {
    placement_unreachable(&ps, cluster, c);
    return PLACE_STATUS;
  }
  if (!rt_has_finalizer(in->run, PLACEMENT_REMOTE_FINALIZER)) {
    rt_plan_add_finalizer(rs->plan, PLACEMENT_REMOTE_FINALIZER);
    return PLACE_FINALIZER;
  }
  placement_reachable(&ps, cluster);
  return PLACE_GO;
}

/* The run is being deleted and its work claim and outputs readers live in
 * a member: they are deleted there, then the finalizer goes
 * (placement_cleanup_finish). A claim whose deletion is under way counts as
 * done: the member's storage protection keeps it while the pods of the
 * run's TrainingJobs still use it, and those go only after the run (the hub
 * garbage-collects them, their own finalizers clean the member). */
static void remote_cleanup(run_state *rs) {
  const pl_run_in *in = rs->in;
  const char *member = js_str(in->run, "status.cluster");
  if (!rt_has_finalizer(in->run, PLACEMENT_REMOTE_FINALIZER)) return;
  placement_step ps = place_step(rs);
  if (member == NULL || strcmp(member, CLUSTER_LOCAL) == 0) {
    rt_plan_remove_finalizer(rs->plan, PLACEMENT_REMOTE_FINALIZER);
    return;
  }
  rs->member = member;
  const placement_view *c = placement_views_find(in->clusters, in->nclusters, member);
  size_t left = 0, away = 0;
  if (c && c->ready) {
    for (size_t i = 0; in->jobs && i < in->jobs->len; i++) {
      const json_t *job = in->jobs->items[i];
      if (!own_child(rs, job)) continue;
      left++;
      if (!js_get(job, "metadata.deletionTimestamp")) rt_plan_delete_in(rs->plan, member, &kube_jobs, job, "Background");
    }
    if (in->member_claim && own_child(rs, in->member_claim) && !js_get(in->member_claim, "metadata.deletionTimestamp")) {
      left++;
      rt_plan_delete_in(rs->plan, member, &kube_pvcs, in->member_claim, "Background");
    }
  } else {
    left = away = 1;
  }
  char what[300];
  snprintf(what, sizeof(what), "PersistentVolumeClaim %s-work and the outputs readers' Jobs labelled %s=%s",
           js_name(in->run), PL_LABEL_RUN, js_name(in->run));
  placement_cleanup_finish(&ps, left, away, in->remote_cleanup_timeout_s, member, what);
}

/* ------------------------------------------------------------- plan */

static void run_state_free(run_state *rs) {
  unload_snapshot(rs);
  for (size_t i = 0; i < PL_MAX_TASKS; i++) json_decref(rs->outputs[i]);
  json_decref(rs->refs);
  json_decref(rs->status);
  free(rs);
}

static int is_final(const char *phase) {
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* A finished run: its state said again in today's words (a status written
 * before keeps its reason and message), and any attempt still active
 * stopped. */
static void settled(run_state *rs) {
  const char *phase = js_str(rs->status, "phase");
  const json_t *ready = rt_condition_get(rs->status, "Ready");
  int ok = strcmp(phase, "Succeeded") == 0;
  const char *reason = js_str(ready, "reason") ? js_str(ready, "reason") : phase;
  const char *msg = js_str(rs->status, "message") ? js_str(rs->status, "message") : js_str(ready, "message");
  char *message = xstrdup(msg ? msg : phase);
  char *why = xstrdup(reason);
  finished(rs, ok, why, message);
  free(why);
  free(message);
  char err[700];
  if (json_object_get(rs->status, "pipelineSpec") && load_snapshot(rs, err, sizeof(err)) == 0) {
    nodes_from_status(rs);
    stop_unwanted(rs);
  }
}

void pl_run_demand(const pl_run_in *in, placement_demand *out) {
  run_state *rs = xcalloc(1, sizeof(*rs));
  rs->in = in;
  rs->status = rt_status_from(in->run);
  char why[700];
  memset(out, 0, sizeof(*out));
  if (json_object_get(rs->status, "pipelineSpec") && load_snapshot(rs, why, sizeof(why)) == 0) run_demand(rs, out);
  run_state_free(rs);
}

void pl_run_plan(const pl_run_in *in, rt_plan *plan) {
  run_state *rs = xcalloc(1, sizeof(*rs));
  rs->in = in;
  rs->plan = plan;
  rs->status = rt_status_from(in->run);
  rs->stopped = json_is_true(js_get(in->run, "spec.stopped"));
  if (js_get(in->run, "metadata.deletionTimestamp")) { /* only a member's children need the plan */
    remote_cleanup(rs);
    run_state_free(rs);
    return;
  }
  place_result placed = PLACE_GO;
  if (in->place) { /* where its tasks were pinned, once placed (a finished run's stops too) */
    rs->cluster = placement_cluster_of(in->run, in->place, in->nclusters);
    if (rs->cluster && strcmp(rs->cluster, CLUSTER_LOCAL) != 0) rs->member = rs->cluster;
  }
  int retried = retry(rs);
  char why[700] = "";
  const char *reason = "";
  start_result started = START_OK;
  const char *was = js_str(rs->status, "phase");
  if (!rs->stopped && was && strcmp(was, "Stopped") == 0)
    rt_plan_event(plan, "Normal", "Resumed", "resumed (spec.stopped is false): its waiting tasks start");
  if (!retried && is_final(was)) {
    settled(rs);
  } else if (rs->stopped && json_object_get(rs->status, "pipelineSpec") == NULL) {
    /* Not started: it starts, from the pipeline as it is then, on resume. */
    stopped_state(rs, "stopped by spec.stopped before it started; set it to false to start it");
  } else if (json_object_get(rs->status, "pipelineSpec") == NULL &&
             (started = start_run(rs, &reason, why, sizeof(why))) != START_OK) {
    if (started == START_WAIT) waiting(rs, "Pending", reason, why, 0);
    else finished(rs, 0, "InvalidRun", why);
  } else if (!rs->spec_ok && load_snapshot(rs, why, sizeof(why))) {
    finished(rs, 0, "InvalidRun", why);
  } else if (in->place_error) {
    finished(rs, 0, "InvalidRun", in->place_error);
  } else if (in->place && (placed = place_run(rs)) != PLACE_GO) {
    /* placed, waiting to be, or adding the finalizer: nothing else now */
  } else if (rs->stopped) {
    stop_step(rs);
  } else {
    step(rs);
  }
  if (placed != PLACE_FINALIZER) {
    rt_plan_set_status(plan, rs->status);
    rs->status = NULL;
  }
  run_state_free(rs);
}
