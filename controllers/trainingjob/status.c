/* What the engine object and the pods say about a job. The engine knows
 * the outcome (succeeded, failed, suspended, restarting) and the counts that
 * outlive pods; the pods know what runs now and why the others wait. A
 * pending pod is never counted as running: engines count it as "active". */
#include <stdio.h>
#include <string.h>

#include "controllers/trainingjob/trainingjob.h"
#include "util/json.h"

void tj_format_duration(int64_t secs, char out[32]) {
  if (secs < 0) secs = 0;
  int64_t h = secs / 3600, m = (secs % 3600) / 60, s = secs % 60;
  if (h) snprintf(out, 32, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)s);
  else if (m) snprintf(out, 32, "%lldm%llds", (long long)m, (long long)s);
  else snprintf(out, 32, "%llds", (long long)s);
}

static void copy(char *dst, size_t len, const char *src) {
  snprintf(dst, len, "%s", src ? src : "");
}

/* ---------------------------------------------------------------- pods */

static json_t *condition(const json_t *obj, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    const char *t = js_str(c, "type");
    if (t && strcmp(t, type) == 0) return c;
  }
  return NULL;
}

/* The first waiting container of a list, preferring one whose reason is
 * news (ErrImagePull) over a normal start (ContainerCreating). */
static const json_t *waiting_container(const json_t *statuses, const json_t *best) {
  size_t i;
  json_t *cs;
  json_array_foreach(statuses, i, cs) {
    const json_t *w = js_get(cs, "state.waiting");
    if (w == NULL) continue;
    if (best == NULL || (tj_wait_is_normal(js_str(best, "reason")) && !tj_wait_is_normal(js_str(w, "reason"))))
      best = w;
  }
  return best;
}

void tj_pod_state_of(const json_t *pod, tj_pod_state *out) {
  memset(out, 0, sizeof(*out));
  out->message = "";
  const char *phase = js_str(pod, "status.phase");
  if (js_get(pod, "metadata.deletionTimestamp")) out->phase = TJ_POD_TERMINATING;
  else if (phase && strcmp(phase, "Running") == 0) out->phase = TJ_POD_RUNNING;
  else if (phase && strcmp(phase, "Succeeded") == 0) out->phase = TJ_POD_SUCCEEDED;
  else if (phase && strcmp(phase, "Failed") == 0) out->phase = TJ_POD_FAILED;
  else out->phase = TJ_POD_WAITING;
  if (out->phase != TJ_POD_WAITING) return;
  const json_t *scheduled = condition(pod, "PodScheduled");
  const char *sst = js_str(scheduled, "status");
  if ((sst && strcmp(sst, "False") == 0) || (scheduled == NULL && js_str(pod, "spec.nodeName") == NULL)) {
    out->unscheduled = 1;
    out->reason = js_str(scheduled, "reason") ? js_str(scheduled, "reason") : "Scheduling";
    out->message = js_str(scheduled, "message") ? js_str(scheduled, "message") : "waiting for the scheduler";
    return;
  }
  const json_t *w = waiting_container(js_get(pod, "status.initContainerStatuses"), NULL);
  w = waiting_container(js_get(pod, "status.containerStatuses"), w);
  out->reason = js_str(w, "reason") ? js_str(w, "reason") : "Starting";
  out->message = js_str(w, "message") ? js_str(w, "message") : "the kubelet is starting it";
}

int tj_wait_is_normal(const char *reason) {
  static const char *normal[] = {"Scheduling", "SchedulingGated", "ContainerCreating", "PodInitializing", "Starting"};
  for (size_t i = 0; reason && i < sizeof(normal) / sizeof(normal[0]); i++)
    if (strcmp(reason, normal[i]) == 0) return 1;
  return reason == NULL;
}

/* Orders waiting pods by what a user should read first: a Warning before a
 * normal start-up, the scheduler's words before the kubelet's, then by
 * name, so the choice does not depend on the cache's order. */
static int wait_before(const tj_pod_state *a, const char *a_name, const tj_progress *p) {
  if (p->wait_pod[0] == '\0') return 1;
  int an = tj_wait_is_normal(a->reason), bn = tj_wait_is_normal(p->wait_reason);
  if (an != bn) return bn;
  if (a->unscheduled != p->wait_unscheduled) return a->unscheduled;
  return strcmp(a_name, p->wait_pod) < 0;
}

static json_t *role_counts(json_t *roles, const char *role) {
  json_t *c = json_object_get(roles, role);
  if (c == NULL) {
    c = json_pack("{s:i, s:i, s:i, s:i}", "running", 0, "pending", 0, "succeeded", 0, "failed", 0);
    json_object_set_new(roles, role, c);
  }
  return c;
}

static void count_add(json_t *counts, const char *key, json_int_t n) {
  json_object_set_new(counts, key, json_integer(js_int(counts, key, 0) + n));
}

/* Raises a count the engine knows to at least what the pods show (pods may
 * be gone; the engine's counts may lag behind a pod that just ended). */
static void count_at_least(json_t *counts, const char *key, json_int_t n) {
  if (js_int(counts, key, 0) < n) json_object_set_new(counts, key, json_integer(n));
}

static void from_pods(const json_t *const *pods, size_t n, json_t *pod_roles, tj_progress *p) {
  for (size_t i = 0; i < n; i++) {
    tj_pod_state ps;
    tj_pod_state_of(pods[i], &ps);
    const char *role = json_string_value(json_object_get(js_get(pods[i], "metadata.labels"), TJ_ROLE_LABEL));
    json_t *counts = json_object_get(pod_roles, role ? role : "");
    if (counts == NULL) continue; /* not a role of the spec */
    switch (ps.phase) {
      case TJ_POD_RUNNING: count_add(counts, "running", 1); break;
      case TJ_POD_SUCCEEDED: count_add(counts, "succeeded", 1); break;
      case TJ_POD_FAILED: count_add(counts, "failed", 1); break;
      case TJ_POD_TERMINATING: break;
      case TJ_POD_WAITING:
        count_add(counts, "pending", 1);
        if (wait_before(&ps, js_name(pods[i]), p)) {
          copy(p->wait_pod, sizeof(p->wait_pod), js_name(pods[i]));
          copy(p->wait_reason, sizeof(p->wait_reason), ps.reason);
          copy(p->wait_message, sizeof(p->wait_message), ps.message);
          p->wait_unscheduled = ps.unscheduled;
        }
        break;
    }
  }
}

/* -------------------------------------------------------------- engines */

static json_t *true_condition(const json_t *child, const char *type) {
  json_t *c = condition(child, type);
  const char *st = js_str(c, "status");
  return st && strcmp(st, "True") == 0 ? c : NULL;
}

static void engine_counts(json_t *roles, const char *role, json_int_t succeeded, json_int_t failed, tj_progress *p) {
  json_t *counts = json_object_get(roles, role);
  if (counts == NULL) return;
  count_at_least(counts, "succeeded", succeeded);
  count_at_least(counts, "failed", failed);
  p->any_failed |= failed > 0;
}

static void failed_with(tj_progress *p, const json_t *cond) {
  p->engine = TJ_ENGINE_FAILED;
  copy(p->reason, sizeof(p->reason), js_str(cond, "reason"));
  copy(p->message, sizeof(p->message), js_str(cond, "message"));
}

static void from_batch_job(const tj_spec *s, const json_t *child, tj_progress *p) {
  engine_counts(p->roles, s->roles[0].name, js_int(child, "status.succeeded", 0), js_int(child, "status.failed", 0), p);
  json_t *c;
  if (true_condition(child, "Complete") || true_condition(child, "SuccessCriteriaMet")) p->engine = TJ_ENGINE_SUCCEEDED;
  else if ((c = true_condition(child, "Failed")) || (c = true_condition(child, "FailureTarget"))) failed_with(p, c);
  else if (true_condition(child, "Suspended")) p->engine = TJ_ENGINE_SUSPENDED;
  /* status.active counts pending pods too; ready ones run. */
  else if (js_int(child, "status.ready", 0) > 0) p->engine = TJ_ENGINE_RUNNING;
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.startTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.completionTime"));
}

/* The training operator's replica type back to Cubit's role name. */
static void role_of_type(const char *type, char *out, size_t len) {
  if (strcmp(type, "PS") == 0) {
    snprintf(out, len, "ps");
    return;
  }
  size_t i;
  for (i = 0; type[i] && i + 1 < len; i++) out[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] + 32 : type[i]);
  out[i] = '\0';
}

/* Kubeflow's jobs: conditions Created, Running, Restarting, Succeeded,
 * Failed, Suspended; replicaStatuses per replica type. */
static void from_operator_job(const json_t *child, tj_progress *p) {
  const char *type;
  json_t *rs;
  json_object_foreach(js_get(child, "status.replicaStatuses"), type, rs) {
    char role[48];
    role_of_type(type, role, sizeof(role));
    engine_counts(p->roles, role, js_int(rs, "succeeded", 0), js_int(rs, "failed", 0), p);
  }
  json_t *c;
  if (true_condition(child, "Succeeded")) {
    p->engine = TJ_ENGINE_SUCCEEDED;
  } else if ((c = true_condition(child, "Failed"))) {
    failed_with(p, c);
  } else if (true_condition(child, "Suspended")) {
    p->engine = TJ_ENGINE_SUSPENDED;
  } else if ((c = true_condition(child, "Restarting"))) {
    p->engine = TJ_ENGINE_RESTARTING;
    copy(p->reason, sizeof(p->reason), js_str(c, "reason"));
    copy(p->message, sizeof(p->message), js_str(c, "message"));
  } else if (true_condition(child, "Running")) {
    p->engine = TJ_ENGINE_RUNNING;
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.startTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.completionTime"));
}

static int same_text(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static int one_of(const char *s, const char *const *set) {
  for (; s && *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

/* Volcano: status.state.phase and taskStatusCount {task: {phase: {Phase: n}}}. */
static void from_volcano_job(const json_t *child, tj_progress *p) {
  const char *task;
  json_t *counts;
  json_object_foreach(js_get(child, "status.taskStatusCount"), task, counts) {
    json_t *phases = json_object_get(counts, "phase");
    engine_counts(p->roles, task, js_int(phases, "Succeeded", 0), js_int(phases, "Failed", 0), p);
  }
  static const char *running[] = {"Running", "Completing", NULL};
  static const char *failed[] = {"Failed", "Terminated", "Aborted", "Terminating", "Aborting", NULL};
  const char *phase = js_str(child, "status.state.phase");
  if (one_of(phase, running)) {
    p->engine = TJ_ENGINE_RUNNING;
  } else if (phase && strcmp(phase, "Restarting") == 0) {
    p->engine = TJ_ENGINE_RESTARTING;
    copy(p->reason, sizeof(p->reason), "Restarting");
    copy(p->message, sizeof(p->message), js_str(child, "status.state.message"));
  } else if (phase && strcmp(phase, "Completed") == 0) {
    p->engine = TJ_ENGINE_SUCCEEDED;
  } else if (one_of(phase, failed)) {
    p->engine = TJ_ENGINE_FAILED;
    copy(p->reason, sizeof(p->reason), js_str(child, "status.state.reason") ? js_str(child, "status.state.reason") : phase);
    copy(p->message, sizeof(p->message), js_str(child, "status.state.message"));
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.state.lastTransitionTime"));
}

/* KubeRay's RayJob: jobDeploymentStatus says where the Ray cluster and the
 * submission are (Initializing, Waiting, Running, Complete, Failed,
 * ValidationFailed, Suspending, Suspended, Retrying), jobStatus what Ray
 * says of the job itself (PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED).
 * Ray's outcome decides once it is final; a Failed deployment carries
 * KubeRay's reason (DeadlineExceeded, SubmissionFailed, AppFailed...). */
static void from_ray_job(const json_t *child, tj_progress *p) {
  const char *deploy = js_str(child, "status.jobDeploymentStatus");
  const char *job = js_str(child, "status.jobStatus");
  const char *reason = js_str(child, "status.reason"), *message = js_str(child, "status.message");
  static const char *failed[] = {"Failed", "ValidationFailed", NULL};
  static const char *job_failed[] = {"FAILED", "STOPPED", NULL};
  if (job && strcmp(job, "SUCCEEDED") == 0) {
    p->engine = TJ_ENGINE_SUCCEEDED;
  } else if (one_of(deploy, failed) || (one_of(job, job_failed) && same_text(deploy, "Complete"))) {
    p->engine = TJ_ENGINE_FAILED;
    copy(p->reason, sizeof(p->reason), reason ? reason : one_of(deploy, failed) ? deploy : "AppFailed");
    if (message) copy(p->message, sizeof(p->message), message);
    else snprintf(p->message, sizeof(p->message), "the Ray job ended %s", job ? job : deploy);
  } else if (same_text(deploy, "Suspended")) {
    p->engine = TJ_ENGINE_SUSPENDED;
  } else if (same_text(deploy, "Retrying")) {
    p->engine = TJ_ENGINE_RESTARTING;
    copy(p->reason, sizeof(p->reason), "Retrying");
    copy(p->message, sizeof(p->message), message ? message : "KubeRay retries the job on a new Ray cluster");
  } else if (same_text(deploy, "Running") && same_text(job, "RUNNING")) {
    p->engine = TJ_ENGINE_RUNNING;
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.startTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.endTime"));
}

/* spark-operator's SparkApplication: status.applicationState.state
 * (SUBMITTED, RUNNING, SUCCEEDING, COMPLETED, FAILING, FAILED,
 * SUBMISSION_FAILED, PENDING_RERUN, INVALIDATING, SUSPENDING, SUSPENDED,
 * RESUMING, UNKNOWN) with its errorMessage, and executorState {pod: state}.
 * A failing or succeeding driver is still running its end. */
static void from_spark_application(const json_t *child, tj_progress *p) {
  const char *pod;
  json_t *st;
  json_int_t done = 0, lost = 0;
  json_object_foreach(js_get(child, "status.executorState"), pod, st) {
    done += same_text(json_string_value(st), "COMPLETED");
    lost += same_text(json_string_value(st), "FAILED");
  }
  engine_counts(p->roles, "executor", done, lost, p);
  const char *state = js_str(child, "status.applicationState.state");
  const char *message = js_str(child, "status.applicationState.errorMessage");
  static const char *running[] = {"RUNNING", "SUCCEEDING", "FAILING", NULL};
  static const char *failed[] = {"FAILED", "SUBMISSION_FAILED", NULL};
  if (same_text(state, "COMPLETED")) {
    p->engine = TJ_ENGINE_SUCCEEDED;
    engine_counts(p->roles, "driver", 1, 0, p);
  } else if (one_of(state, failed)) {
    p->engine = TJ_ENGINE_FAILED;
    copy(p->reason, sizeof(p->reason), same_text(state, "FAILED") ? "SparkApplicationFailed" : "SubmissionFailed");
    if (message && *message) copy(p->message, sizeof(p->message), message);
    else snprintf(p->message, sizeof(p->message), "the SparkApplication is %s", state);
  } else if (same_text(state, "SUSPENDED")) {
    p->engine = TJ_ENGINE_SUSPENDED;
  } else if (same_text(state, "PENDING_RERUN")) {
    p->engine = TJ_ENGINE_RESTARTING;
    copy(p->reason, sizeof(p->reason), "PendingRerun");
    copy(p->message, sizeof(p->message), message && *message ? message : "spark-operator submits the application again");
  } else if (one_of(state, running)) {
    p->engine = TJ_ENGINE_RUNNING;
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.lastSubmissionAttemptTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.terminationTime"));
}

/* The first failed container of the job's pods (by pod name): the reason
 * and exit code users look for (OOMKilled, 137), put before the engine's
 * own words. */
static void failing_pod(const json_t *const *pods, size_t n, tj_progress *p) {
  const json_t *pod = NULL, *status = NULL;
  for (size_t i = 0; i < n; i++) {
    if (pod && strcmp(js_name(pods[i]), js_name(pod)) >= 0) continue;
    size_t k;
    json_t *cs;
    json_array_foreach(js_get(pods[i], "status.containerStatuses"), k, cs) {
      json_t *term = js_get(cs, "state.terminated");
      if (term == NULL) term = js_get(cs, "lastState.terminated");
      if (term == NULL || js_int(term, "exitCode", 0) == 0) continue;
      pod = pods[i];
      status = cs;
      break;
    }
  }
  if (pod == NULL) return;
  json_t *term = js_get(status, "state.terminated");
  if (term == NULL) term = js_get(status, "lastState.terminated");
  json_int_t code = js_int(term, "exitCode", 0);
  const char *why = js_str(term, "reason");
  int oom = why && strcmp(why, "OOMKilled") == 0;
  const char *role = json_string_value(json_object_get(js_get(pod, "metadata.labels"), TJ_ROLE_LABEL));
  char detail[64] = "";
  if (oom) snprintf(detail, sizeof(detail), " (OOMKilled: out of memory)");
  else if (code == 137) snprintf(detail, sizeof(detail), " (killed by SIGKILL, as when out of memory)");
  else if (code > 128) snprintf(detail, sizeof(detail), " (killed by signal %lld)", (long long)(code - 128));
  p->exit_code = (int)code;
  char engine[sizeof(p->message)];
  copy(engine, sizeof(engine), p->message);
  /* Names are DNS labels (at most 253 characters); what does not fit is cut
   * from the engine's words, which come last. */
  int n_written = snprintf(p->message, sizeof(p->message), "pod %s (role %s): container %s exited with code %lld%s",
                           js_name(pod), role ? role : "?", js_str(status, "name") ? js_str(status, "name") : "?",
                           (long long)code, detail);
  size_t used = n_written < 0 ? 0 : (size_t)n_written;
  if (engine[0] && used + 3 < sizeof(p->message)) {
    size_t room = sizeof(p->message) - used - 3, len = strlen(engine);
    if (len > room) len = room;
    memcpy(p->message + used, "; ", 2);
    memcpy(p->message + used + 2, engine, len);
    p->message[used + 2 + len] = '\0';
  }
  if (oom) copy(p->reason, sizeof(p->reason), "OOMKilled");
  else if (p->reason[0] == '\0') copy(p->reason, sizeof(p->reason), code == 137 ? "Killed" : "Error");
}

void tj_progress_of(const tj_spec *s, const json_t *child, const json_t *const *pods, size_t npods, tj_progress *out) {
  memset(out, 0, sizeof(*out));
  out->exit_code = -1;
  out->roles = json_object();
  for (size_t i = 0; i < s->nroles; i++) {
    role_counts(out->roles, s->roles[i].name);
    out->completions += tj_role_completions(s, &s->roles[i]);
  }
  from_pods(pods, npods, out->roles, out);
  if (child) {
    switch (s->framework) {
      case TJ_BATCH: from_batch_job(s, child, out); break;
      case TJ_VOLCANO: from_volcano_job(child, out); break;
      case TJ_RAY: from_ray_job(child, out); break;
      case TJ_SPARK: from_spark_application(child, out); break;
      default: from_operator_job(child, out); break;
    }
  }
  const char *role;
  json_t *c;
  json_object_foreach(out->roles, role, c) {
    out->running += (int)js_int(c, "running", 0);
    out->pending += (int)js_int(c, "pending", 0);
    out->succeeded += (int)js_int(c, "succeeded", 0);
    out->failed += (int)js_int(c, "failed", 0);
  }
  out->any_failed |= out->failed > 0;
  if (out->engine == TJ_ENGINE_FAILED || out->any_failed) failing_pod(pods, npods, out);
}

void tj_progress_free(tj_progress *p) {
  json_decref(p->roles);
  p->roles = NULL;
}
