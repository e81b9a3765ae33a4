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

static json_t *true_condition(const json_t *child, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(child, "status.conditions"), i, c) {
    const char *t = js_str(c, "type"), *st = js_str(c, "status");
    if (t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0) return c;
  }
  return NULL;
}

static void set_counts(json_t *roles, const char *role, json_int_t active, json_int_t succeeded, json_int_t failed) {
  json_object_set_new(roles, role, json_pack("{s:I, s:I, s:I}", "active", active, "succeeded", succeeded, "failed", failed));
}

static void copy(char *dst, size_t len, const char *src) {
  snprintf(dst, len, "%s", src ? src : "");
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

static void from_batch_job(const tj_spec *s, const json_t *child, tj_progress *p) {
  json_int_t active = js_int(child, "status.active", 0), succeeded = js_int(child, "status.succeeded", 0),
             failed = js_int(child, "status.failed", 0), ready = js_int(child, "status.ready", 0);
  set_counts(p->roles, s->roles[0].name, active, succeeded, failed);
  p->active = (int)active;
  p->any_failed = failed > 0;
  json_t *c;
  if ((c = true_condition(child, "Complete")) || (c = true_condition(child, "SuccessCriteriaMet"))) {
    copy(p->phase, sizeof(p->phase), "Succeeded");
  } else if ((c = true_condition(child, "Failed")) || (c = true_condition(child, "FailureTarget"))) {
    copy(p->phase, sizeof(p->phase), "Failed");
    copy(p->reason, sizeof(p->reason), js_str(c, "reason"));
    copy(p->message, sizeof(p->message), js_str(c, "message"));
  } else if (true_condition(child, "Suspended")) {
    copy(p->phase, sizeof(p->phase), "Suspended");
  } else {
    copy(p->phase, sizeof(p->phase), ready > 0 || (active > 0 && js_get(child, "status.startTime")) ? "Running" : "Queued");
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.startTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.completionTime"));
}

/* Kubeflow's jobs: conditions Created, Running, Restarting, Succeeded,
 * Failed, Suspended; replicaStatuses per replica type. */
static void from_operator_job(const json_t *child, tj_progress *p) {
  const char *type;
  json_t *rs;
  json_object_foreach(js_get(child, "status.replicaStatuses"), type, rs) {
    char role[48];
    role_of_type(type, role, sizeof(role));
    json_int_t active = js_int(rs, "active", 0), failed = js_int(rs, "failed", 0);
    set_counts(p->roles, role, active, js_int(rs, "succeeded", 0), failed);
    p->active += (int)active;
    p->any_failed |= failed > 0;
  }
  json_t *c;
  if (true_condition(child, "Succeeded")) {
    copy(p->phase, sizeof(p->phase), "Succeeded");
  } else if ((c = true_condition(child, "Failed"))) {
    copy(p->phase, sizeof(p->phase), "Failed");
    copy(p->reason, sizeof(p->reason), js_str(c, "reason"));
    copy(p->message, sizeof(p->message), js_str(c, "message"));
  } else if (true_condition(child, "Suspended")) {
    copy(p->phase, sizeof(p->phase), "Suspended");
  } else if (true_condition(child, "Restarting")) {
    copy(p->phase, sizeof(p->phase), "Restarting");
  } else if (true_condition(child, "Running")) {
    copy(p->phase, sizeof(p->phase), "Running");
  } else {
    copy(p->phase, sizeof(p->phase), "Queued");
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.startTime"));
  copy(p->completion_time, sizeof(p->completion_time), js_str(child, "status.completionTime"));
}

/* Volcano: status.state.phase and taskStatusCount {task: {phase: {Phase: n}}}. */
static void from_volcano_job(const json_t *child, tj_progress *p) {
  const char *task;
  json_t *counts;
  json_object_foreach(js_get(child, "status.taskStatusCount"), task, counts) {
    json_t *phases = json_object_get(counts, "phase");
    json_int_t active = js_int(phases, "Running", 0) + js_int(phases, "Pending", 0);
    json_int_t failed = js_int(phases, "Failed", 0);
    set_counts(p->roles, task, active, js_int(phases, "Succeeded", 0), failed);
    p->active += (int)active;
    p->any_failed |= failed > 0;
  }
  const char *phase = js_str(child, "status.state.phase");
  const char *mapped = "Queued";
  if (phase == NULL || strcmp(phase, "Pending") == 0 || strcmp(phase, "Inqueue") == 0) mapped = "Queued";
  else if (strcmp(phase, "Running") == 0 || strcmp(phase, "Completing") == 0) mapped = "Running";
  else if (strcmp(phase, "Restarting") == 0) mapped = "Restarting";
  else if (strcmp(phase, "Completed") == 0) mapped = "Succeeded";
  else if (strcmp(phase, "Failed") == 0 || strcmp(phase, "Terminated") == 0 || strcmp(phase, "Aborted") == 0 ||
           strcmp(phase, "Terminating") == 0 || strcmp(phase, "Aborting") == 0)
    mapped = "Failed";
  copy(p->phase, sizeof(p->phase), mapped);
  if (strcmp(mapped, "Failed") == 0) {
    copy(p->reason, sizeof(p->reason), js_str(child, "status.state.reason") ? js_str(child, "status.state.reason") : phase);
    copy(p->message, sizeof(p->message), js_str(child, "status.state.message"));
  }
  copy(p->start_time, sizeof(p->start_time), js_str(child, "status.state.lastTransitionTime"));
}

/* The first failed container of the job's pods: the reason and exit code
 * users look for (OOMKilled, 137). */
static void failing_pod(const json_t *const *pods, size_t n, tj_progress *p) {
  for (size_t i = 0; i < n; i++) {
    size_t k;
    json_t *cs;
    json_array_foreach(js_get(pods[i], "status.containerStatuses"), k, cs) {
      json_t *term = js_get(cs, "state.terminated");
      if (term == NULL) term = js_get(cs, "lastState.terminated");
      json_int_t code = js_int(term, "exitCode", 0);
      if (term == NULL || code == 0) continue;
      const char *why = js_str(term, "reason");
      const char *role = json_string_value(json_object_get(js_get(pods[i], "metadata.labels"), TJ_ROLE_LABEL));
      char detail[96] = "";
      if (why && strcmp(why, "OOMKilled") == 0) snprintf(detail, sizeof(detail), " (OOMKilled: out of memory)");
      else if (code == 137) snprintf(detail, sizeof(detail), " (killed by SIGKILL, as when out of memory)");
      else if (code > 128) snprintf(detail, sizeof(detail), " (killed by signal %lld)", (long long)(code - 128));
      p->exit_code = (int)code;
      char engine[sizeof(p->message)];
      snprintf(engine, sizeof(engine), "%s", p->message);
      snprintf(p->message, sizeof(p->message), "pod %.100s (role %.40s): container %.60s exited with code %lld%s%s%.200s",
               js_name(pods[i]), role ? role : "?", js_str(cs, "name") ? js_str(cs, "name") : "?", (long long)code,
               detail, engine[0] ? "; " : "", engine);
      if (why && strcmp(why, "OOMKilled") == 0) copy(p->reason, sizeof(p->reason), "OOMKilled");
      else if (p->reason[0] == '\0') copy(p->reason, sizeof(p->reason), code == 137 ? "Killed" : "Error");
      return;
    }
  }
}

void tj_progress_of(const tj_spec *s, const json_t *child, const json_t *const *pods, size_t npods, tj_progress *out) {
  memset(out, 0, sizeof(*out));
  out->exit_code = -1;
  out->roles = json_object();
  switch (s->framework) {
    case TJ_BATCH: from_batch_job(s, child, out); break;
    case TJ_VOLCANO: from_volcano_job(child, out); break;
    default: from_operator_job(child, out); break;
  }
  if (strcmp(out->phase, "Failed") == 0 || out->any_failed) failing_pod(pods, npods, out);
}

void tj_progress_free(tj_progress *p) {
  json_decref(p->roles);
  p->roles = NULL;
}
