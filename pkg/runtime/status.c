#include "runtime/status.h"

#include <string.h>

#include "runtime/conditions.h"
#include "util/json.h"

json_t *rt_status_from(const json_t *obj) {
  json_t *status = json_deep_copy(json_object_get(obj, "status"));
  if (!json_is_object(status)) {
    json_decref(status);
    status = json_object();
  }
  json_object_set_new(status, "observedGeneration", json_integer(js_int(obj, "metadata.generation", 0)));
  return status;
}

void rt_status_set_state(json_t *status, const char *phase, rt_state state, const char *reason,
                         const char *message, json_int_t gen, int64_t now) {
  const char *msg = message && *message ? message : phase;
  json_object_set_new(status, "phase", json_string(phase));
  json_object_set_new(status, "observedGeneration", json_integer(gen));
  switch (state) {
    case RT_STATE_PROGRESSING:
      rt_condition_set(status, "Ready", "False", reason, msg, gen, now);
      rt_condition_set(status, "Reconciling", "True", reason, msg, gen, now);
      rt_condition_set(status, "Stalled", "False", reason, msg, gen, now);
      break;
    case RT_STATE_READY:
    case RT_STATE_SUCCEEDED:
      rt_condition_set(status, "Ready", "True", reason, msg, gen, now);
      rt_condition_set(status, "Reconciling", "False", reason, msg, gen, now);
      rt_condition_set(status, "Stalled", "False", reason, msg, gen, now);
      break;
    case RT_STATE_FAILED:
      rt_condition_set(status, "Ready", "False", reason, msg, gen, now);
      rt_condition_set(status, "Reconciling", "False", reason, msg, gen, now);
      rt_condition_set(status, "Stalled", "True", reason, msg, gen, now);
      break;
    case RT_STATE_SUSPENDED:
      rt_condition_remove(status, "Ready");
      rt_condition_set(status, "Reconciling", "False", reason, msg, gen, now);
      rt_condition_set(status, "Stalled", "False", reason, msg, gen, now);
      break;
  }
  if (state == RT_STATE_SUSPENDED) rt_condition_set(status, "Suspended", "True", reason, msg, gen, now);
  else rt_condition_remove(status, "Suspended");
}

rt_state rt_status_state(const json_t *status) {
  if (rt_condition_true(status, "Stalled")) return RT_STATE_FAILED;
  if (rt_condition_true(status, "Suspended")) return RT_STATE_SUSPENDED;
  if (rt_condition_true(status, "Reconciling")) return RT_STATE_PROGRESSING;
  if (rt_condition_true(status, "Ready")) {
    const char *phase = json_string_value(json_object_get(status, "phase"));
    return phase && (phase[0] == 'S' && phase[1] == 'u' && phase[2] == 'c') ? RT_STATE_SUCCEEDED : RT_STATE_READY;
  }
  return RT_STATE_PROGRESSING;
}

int64_t rt_event_last_seen(const json_t *ev) {
  int64_t t = js_time(ev, "series.lastObservedTime");
  if (t == 0) t = js_time(ev, "lastTimestamp");
  if (t == 0) t = js_time(ev, "eventTime");
  return t;
}

const json_t *rt_create_refusal(json_t *const *events, size_t n, const char *uid, int64_t since, int64_t *when) {
  const json_t *best = NULL;
  int64_t best_t = 0;
  if (uid == NULL || *uid == '\0') return NULL;
  for (size_t i = 0; i < n; i++) {
    const char *reason = js_str(events[i], "reason"), *about = js_str(events[i], "involvedObject.uid");
    if (reason == NULL || strcmp(reason, "FailedCreate") != 0 || about == NULL || strcmp(about, uid) != 0) continue;
    int64_t t = rt_event_last_seen(events[i]);
    if (t < since || (best && t < best_t)) continue;
    best = events[i];
    best_t = t;
  }
  if (when) *when = best_t;
  return best;
}
