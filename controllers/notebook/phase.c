/* A running notebook's phase, read off its pod the way `kubectl get pod`
 * would show it. */
#include <stdio.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "util/json.h"

/* Waiting reasons after which the kubelet only retries the same thing: the
 * user has to change the spec (or the image) for the notebook to start. */
static const char *failing_reasons[] = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
                                        "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
                                        "RunContainerError", NULL};

static int failing(const char *reason) {
  for (const char **r = failing_reasons; *r; r++)
    if (strcmp(*r, reason) == 0) return 1;
  return 0;
}

static void set(notebook_phase *out, const char *phase, const char *reason, const char *message) {
  snprintf(out->phase, sizeof(out->phase), "%s", phase);
  snprintf(out->reason, sizeof(out->reason), "%s", reason ? reason : "");
  if (message && *message) snprintf(out->message, sizeof(out->message), "%s", message);
  else snprintf(out->message, sizeof(out->message), "the container is waiting: %s", reason ? reason : "unknown");
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

/* The first waiting reason of the pod's containers (init containers first),
 * failing ones before the others; NULL when none waits. */
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

void notebook_pod_phase(const json_t *pod, notebook_phase *out) {
  memset(out, 0, sizeof(*out));
  if (pod == NULL) {
    set(out, "Pending", "PodNotCreated", "waiting for the StatefulSet to create the pod");
    return;
  }
  char msg[512];
  if (js_get(pod, "metadata.deletionTimestamp")) {
    set(out, "Pending", "PodTerminating", "the previous pod is terminating");
    return;
  }
  const char *phase = js_str(pod, "status.phase");
  if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0)) {
    const char *reason = js_str(pod, "status.reason");
    snprintf(msg, sizeof(msg), "the pod %s: %s", strcmp(phase, "Failed") == 0 ? "failed" : "exited",
             js_str(pod, "status.message") ? js_str(pod, "status.message") : "its containers stopped");
    set(out, "Failed", reason ? reason : strcmp(phase, "Failed") == 0 ? "PodFailed" : "Completed", msg);
    return;
  }
  const json_t *sched = condition(pod, "PodScheduled");
  if (sched && strcmp(js_str(sched, "status") ? js_str(sched, "status") : "", "False") == 0) {
    const char *reason = js_str(sched, "reason");
    const char *why = js_str(sched, "message");
    /* A claim created with the pod is bound moments later: not a failure yet. */
    if (why && strstr(why, "unbound immediate PersistentVolumeClaims")) {
      set(out, "Pending", "WaitingForVolume", why);
      return;
    }
    set(out, "Failed", reason ? reason : "Unschedulable", why);
    return;
  }
  const json_t *w = waiting(pod, 1);
  if (w) {
    set(out, "Failed", js_str(w, "reason"), js_str(w, "message"));
    return;
  }
  const json_t *ready = condition(pod, "Ready");
  if (phase && strcmp(phase, "Running") == 0 && ready && js_str(ready, "status") &&
      strcmp(js_str(ready, "status"), "True") == 0) {
    set(out, "Running", "Ready", "the IDE answers");
    return;
  }
  w = waiting(pod, 0);
  if (w) {
    set(out, "Starting", js_str(w, "reason"), js_str(w, "message"));
    return;
  }
  if (js_str(pod, "spec.nodeName") == NULL) {
    set(out, "Pending", "Scheduling", "waiting for the scheduler");
    return;
  }
  set(out, "Starting", "ContainersNotReady", "waiting for the IDE to answer its readiness probe");
}
