/* What a notebook's pod says, in Cubit's status vocabulary
 * (docs/status.md): the phase a user reads, the state kstatus and Argo CD
 * read, and the scheduler's or kubelet's own reason and words. */
#include <stdio.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "util/json.h"
#include "util/time.h"

/* Waiting reasons after which the kubelet only retries the same thing: the
 * user has to change the spec (or the image, or the Secret) for the
 * notebook to start. */
static const char *failing_reasons[] = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
                                        "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
                                        "RunContainerError", NULL};

static int failing(const char *reason) {
  for (const char **r = failing_reasons; *r; r++)
    if (strcmp(*r, reason) == 0) return 1;
  return 0;
}

/* The kubelet alternates ErrImagePull (an attempt failed) and
 * ImagePullBackOff (waiting to try again): one cause, one reason, so the
 * status and the events do not flap with every retry. */
static const char *stable_reason(const char *reason) {
  return strcmp(reason, "ErrImagePull") == 0 ? "ImagePullBackOff" : reason;
}

static void set(notebook_phase *out, const char *phase, rt_state state, const char *reason, int warn) {
  snprintf(out->phase, sizeof(out->phase), "%s", phase);
  out->state = state;
  snprintf(out->reason, sizeof(out->reason), "%s", reason);
  out->warn = warn;
}

/* "Reason: message", the way the scheduler and the kubelet said it. */
static void quote(notebook_phase *out, const char *reason, const char *message, const char *otherwise) {
  if (message && *message) snprintf(out->message, sizeof(out->message), "%s: %s", reason, message);
  else snprintf(out->message, sizeof(out->message), "%s: %s", reason, otherwise);
}

static const json_t *condition(const json_t *pod, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(pod, "status.conditions"), i, c) {
    const char *t = js_str(c, "type");
    if (t && strcmp(t, type) == 0) return c;
  }
  return NULL;
}

static int condition_is(const json_t *c, const char *status) {
  const char *s = js_str(c, "status");
  return s && strcmp(s, status) == 0;
}

/* The first waiting container state (init containers first), failing ones
 * before the others; NULL when none waits. */
static const json_t *waiting(const json_t *pod, int only_failing) {
  static const char *lists[] = {"status.initContainerStatuses", "status.containerStatuses"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *cs;
    json_array_foreach(js_get(pod, lists[l]), i, cs) {
      const json_t *w = js_get(cs, "state.waiting");
      const char *reason = js_str(w, "reason");
      if (reason && (!only_failing || failing(reason))) return w;
    }
  }
  return NULL;
}

/* PodScheduled=False: a claim still binding is a normal wait; anything else
 * is given NOTEBOOK_UNSCHEDULABLE_GRACE_S from the condition's transition
 * (a node may be scaling up, a pod leaving) before it counts as FAILED. */
static void unscheduled(const json_t *pod, const json_t *sched, int64_t now, notebook_phase *out) {
  const char *reason = js_str(sched, "reason") ? js_str(sched, "reason") : "Unschedulable";
  const char *why = js_str(sched, "message");
  if (why && strstr(why, "unbound immediate PersistentVolumeClaims")) {
    /* An ordinary step of a start with an Immediate-binding provisioner:
     * in the status only, like PodNotCreated (the scheduler's own FailedScheduling
     * Warning is on the pod); an Event per notebook would be noise at scale. */
    set(out, "Pending", RT_STATE_PROGRESSING, "WaitingForVolume", 0);
    quote(out, reason, why, "a claim is not bound yet");
    return;
  }
  int64_t since = js_time(sched, "lastTransitionTime");
  if (since == 0) since = js_time(pod, "metadata.creationTimestamp");
  if (since == 0 || since > now) since = now;
  int64_t age = now - since;
  if (age < NOTEBOOK_UNSCHEDULABLE_GRACE_S) {
    set(out, "Pending", RT_STATE_PROGRESSING, reason, 1);
    quote(out, reason, why, "the scheduler found no node");
    out->recheck_s = NOTEBOOK_UNSCHEDULABLE_GRACE_S - age;
    return;
  }
  set(out, "Failed", RT_STATE_FAILED, reason, 1);
  char t[32];
  time_format_rfc3339(since, t);
  snprintf(out->message, sizeof(out->message), "%s since %s: %s", reason, t,
           why && *why ? why : "the scheduler found no node");
}

void notebook_pod_phase(const json_t *pod, int64_t now, notebook_phase *out) {
  memset(out, 0, sizeof(*out));
  if (pod == NULL) {
    set(out, "Pending", RT_STATE_PROGRESSING, "PodNotCreated", 0);
    snprintf(out->message, sizeof(out->message), "waiting for the StatefulSet to create the pod");
    return;
  }
  if (js_get(pod, "metadata.deletionTimestamp")) {
    set(out, "Pending", RT_STATE_PROGRESSING, "PodTerminating", 0);
    snprintf(out->message, sizeof(out->message), "the previous pod is terminating");
    return;
  }
  const char *phase = js_str(pod, "status.phase");
  phase = phase ? phase : "Pending";
  if (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0) {
    /* The StatefulSet replaces the pod; until then nothing serves. */
    const char *reason = js_str(pod, "status.reason");
    reason = reason ? reason : strcmp(phase, "Failed") == 0 ? "PodFailed" : "PodCompleted";
    set(out, "Failed", RT_STATE_FAILED, reason, 1);
    quote(out, reason, js_str(pod, "status.message"), "the pod's containers stopped");
    return;
  }
  const json_t *sched = condition(pod, "PodScheduled");
  if (sched && condition_is(sched, "False")) {
    unscheduled(pod, sched, now, out);
    return;
  }
  const json_t *w = waiting(pod, 1);
  if (w) {
    const char *reason = js_str(w, "reason");
    set(out, "Failed", RT_STATE_FAILED, stable_reason(reason), 1);
    quote(out, reason, js_str(w, "message"), "the container cannot start");
    return;
  }
  const json_t *ready = condition(pod, "Ready");
  if (strcmp(phase, "Running") == 0 && ready && condition_is(ready, "True")) {
    set(out, "Running", RT_STATE_READY, "Running", 0);
    snprintf(out->message, sizeof(out->message), "the IDE answers its readiness probe");
    return;
  }
  const char *starting = strcmp(phase, "Pending") == 0 ? "Pending" : "Starting";
  w = waiting(pod, 0);
  if (w) {
    const char *reason = js_str(w, "reason");
    set(out, starting, RT_STATE_PROGRESSING, reason, 0);
    quote(out, reason, js_str(w, "message"),
          strcmp(reason, "ContainerCreating") == 0 ? "pulling the image, mounting the volumes" : "the container waits");
    return;
  }
  if (js_str(pod, "spec.nodeName") == NULL) {
    set(out, "Pending", RT_STATE_PROGRESSING, "Scheduling", 0);
    snprintf(out->message, sizeof(out->message), "waiting for the scheduler");
    return;
  }
  if (strcmp(phase, "Pending") == 0) {
    set(out, "Pending", RT_STATE_PROGRESSING, "Scheduled", 0);
    snprintf(out->message, sizeof(out->message), "scheduled on %s; waiting for the kubelet to start it",
             js_str(pod, "spec.nodeName"));
    return;
  }
  set(out, "Starting", RT_STATE_PROGRESSING, "ContainersNotReady", 0);
  quote(out, "ContainersNotReady", ready ? js_str(ready, "message") : NULL,
        "waiting for the IDE to answer its readiness probe");
}

int notebook_pod_serving(const json_t *pod) {
  if (pod == NULL || js_get(pod, "metadata.deletionTimestamp")) return 0;
  const char *phase = js_str(pod, "status.phase");
  const json_t *ready = condition(pod, "Ready");
  return phase && strcmp(phase, "Running") == 0 && ready && condition_is(ready, "True") &&
         js_str(pod, "status.podIP") != NULL;
}
