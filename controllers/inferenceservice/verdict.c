/* Why a revision is not available yet, in the words of whoever holds it
 * back (docs/status.md): the scheduler's PodScheduled condition, the
 * kubelet's waiting reason of a container (the model fetcher's too), the
 * Deployment's ReplicaFailure and progress deadline. A user reads
 * "Unschedulable: 0/3 nodes are available: ..." instead of "not ready".
 *
 * Failed (will not get better without a change): pods unscheduled for
 * INFERENCE_UNSCHEDULED_GRACE_S or more, an image that cannot be pulled or
 * named, a container config that cannot be built, the progress deadline
 * exceeded. Everything else is a start-up still under way; of those, the
 * unusual ones (unscheduled within the grace period, a crash loop, pods
 * the ReplicaSet cannot create) are worth a Warning event. */
#include <stdio.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "util/json.h"

/* Ranks: the worst candidate wins; at the same rank the pod whose name
 * sorts first, so the verdict does not depend on the cache's order. */
enum { RANK_NONE, RANK_STARTING, RANK_WARNING, RANK_FAILED };

typedef struct candidate {
  int rank;
  const char *pod;
  inference_verdict v;
} candidate;

static int is_one_of(const char *s, const char *const *list) {
  for (size_t i = 0; s && list[i]; i++)
    if (strcmp(s, list[i]) == 0) return 1;
  return 0;
}

static const char *const broken_reasons[] = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                             "CreateContainerConfigError", NULL};
static const char *const starting_reasons[] = {"ContainerCreating", "PodInitializing", NULL};

static void offer(candidate *best, int rank, const char *pod, const inference_verdict *v) {
  int better = rank > best->rank ||
               (rank == best->rank && rank != RANK_NONE && pod && (best->pod == NULL || strcmp(pod, best->pod) < 0));
  if (!better) return;
  best->rank = rank;
  best->pod = pod;
  best->v = *v;
}

/* "reason: message", or the reason alone. */
static void quote(inference_verdict *v, const char *reason, const char *message, const char *suffix) {
  snprintf(v->message, sizeof(v->message), "%s%s%s%s", reason, message && *message ? ": " : "",
           message ? message : "", suffix);
}

/* A container waiting for something other than its start. The kubelet
 * alternates ErrImagePull and ImagePullBackOff while it retries: one
 * reason, so a failing pull is one Warning event. */
static void container_waits(const json_t *statuses, const char *pod, candidate *best) {
  size_t i;
  json_t *c;
  json_array_foreach(statuses, i, c) {
    const char *reason = js_str(c, "state.waiting.reason");
    if (reason == NULL) continue;
    inference_verdict v = {0};
    int rank;
    if (is_one_of(reason, broken_reasons)) {
      rank = RANK_FAILED;
      v.failed = v.warn = 1;
    } else if (is_one_of(reason, starting_reasons)) {
      rank = RANK_STARTING;
    } else {
      rank = RANK_WARNING; /* CrashLoopBackOff, CreateContainerError, RunContainerError, ... */
      v.warn = 1;
    }
    snprintf(v.reason, sizeof(v.reason), "%s", strcmp(reason, "ErrImagePull") == 0 ? "ImagePullBackOff" : reason);
    char where[300];
    snprintf(where, sizeof(where), " (container %s)", js_str(c, "name") ? js_str(c, "name") : "?");
    quote(&v, reason, js_str(c, "state.waiting.message"), where);
    offer(best, rank, pod, &v);
  }
}

static const json_t *condition(const json_t *obj, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    const char *t = js_str(c, "type");
    if (t && strcmp(t, type) == 0) return c;
  }
  return NULL;
}

static int condition_is(const json_t *c, const char *status) {
  return c && js_str(c, "status") && strcmp(js_str(c, "status"), status) == 0;
}

static void pod_verdict(const json_t *pod, int64_t now, candidate *best) {
  const char *name = js_name(pod);
  const char *phase = js_str(pod, "status.phase");
  if (js_get(pod, "metadata.deletionTimestamp") || (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))))
    return; /* going or gone: the ReplicaSet replaces it */
  if (condition_is(condition(pod, "Ready"), "True")) return;
  const json_t *scheduled = condition(pod, "PodScheduled");
  inference_verdict v = {0};
  if (condition_is(scheduled, "False")) {
    /* The scheduler's own words; its condition's transition time says for
     * how long, so the grace period survives restarts of the manager. */
    int64_t since = js_time(scheduled, "lastTransitionTime");
    if (since <= 0) since = now;
    const char *reason = js_str(scheduled, "reason") ? js_str(scheduled, "reason") : "Unschedulable";
    snprintf(v.reason, sizeof(v.reason), "%s", reason);
    v.warn = 1;
    v.failed = now - since >= INFERENCE_UNSCHEDULED_GRACE_S;
    char suffix[64];
    if (v.failed) snprintf(suffix, sizeof(suffix), " (unscheduled for %d s or more)", INFERENCE_UNSCHEDULED_GRACE_S);
    else suffix[0] = '\0';
    quote(&v, reason, js_str(scheduled, "message"), suffix);
    if (!v.failed) v.decide_at = since + INFERENCE_UNSCHEDULED_GRACE_S;
    offer(best, v.failed ? RANK_FAILED : RANK_WARNING, name, &v);
    return;
  }
  if (js_str(pod, "spec.nodeName") == NULL) {
    snprintf(v.reason, sizeof(v.reason), "Scheduling");
    snprintf(v.message, sizeof(v.message), "pod %s waits for the scheduler", name ? name : "?");
    offer(best, RANK_STARTING, name, &v);
    return;
  }
  candidate mine = {0};
  container_waits(js_get(pod, "status.initContainerStatuses"), name, &mine);
  container_waits(js_get(pod, "status.containerStatuses"), name, &mine);
  if (mine.rank != RANK_NONE) {
    offer(best, mine.rank, name, &mine.v);
    return;
  }
  /* Running but not ready: the readiness probe has not passed yet. */
  const json_t *ready = condition(pod, "Ready");
  const char *reason = js_str(ready, "reason") ? js_str(ready, "reason") : "ContainersNotReady";
  snprintf(v.reason, sizeof(v.reason), "%s", reason);
  quote(&v, reason, js_str(ready, "message"), "");
  offer(best, RANK_STARTING, name, &v);
}

/* What the Deployment itself says: pods the ReplicaSet cannot create (a
 * quota, an admission webhook) and the progress deadline. */
static void deployment_verdict(const json_t *d, candidate *best) {
  const json_t *c = condition(d, "ReplicaFailure");
  inference_verdict v = {0};
  if (condition_is(c, "True")) {
    const char *reason = js_str(c, "reason") ? js_str(c, "reason") : "ReplicaFailure";
    snprintf(v.reason, sizeof(v.reason), "%s", reason);
    v.warn = 1;
    quote(&v, reason, js_str(c, "message"), "");
    offer(best, RANK_WARNING, NULL, &v);
  }
  c = condition(d, "Progressing");
  if (condition_is(c, "False") && js_str(c, "reason") && strcmp(js_str(c, "reason"), "ProgressDeadlineExceeded") == 0) {
    memset(&v, 0, sizeof(v));
    snprintf(v.reason, sizeof(v.reason), "ProgressDeadlineExceeded");
    v.warn = v.failed = 1;
    quote(&v, "ProgressDeadlineExceeded", js_str(c, "message"), "");
    offer(best, RANK_FAILED, NULL, &v);
  }
}

void inference_revision_verdict(const json_t *deployment, const json_t *pods, const char *revision, int64_t now,
                                inference_verdict *out) {
  candidate best = {0};
  memset(out, 0, sizeof(*out));
  if (deployment == NULL) {
    snprintf(out->reason, sizeof(out->reason), "Deploying");
    snprintf(out->message, sizeof(out->message), "its Deployment is being created");
    return;
  }
  size_t i;
  json_t *pod;
  json_array_foreach(pods, i, pod) {
    const char *rev = json_string_value(json_object_get(js_get(pod, "metadata.labels"), INFERENCE_REVISION_LABEL));
    if (rev && strcmp(rev, revision) == 0) pod_verdict(pod, now, &best);
  }
  /* A pod's own words beat the Deployment's summary of the same trouble:
   * the Deployment's candidates, naming no pod, win only a higher rank. */
  deployment_verdict(deployment, &best);
  if (best.rank == RANK_NONE) {
    snprintf(out->reason, sizeof(out->reason), "Deploying");
    snprintf(out->message, sizeof(out->message), "waiting for its pods");
    return;
  }
  *out = best.v;
}
