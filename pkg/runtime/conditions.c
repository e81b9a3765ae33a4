#include "runtime/conditions.h"

#include <string.h>

#include "util/json.h"
#include "util/time.h"

static int str_eq(const json_t *obj, const char *key, const char *want) {
  const char *have = json_string_value(json_object_get(obj, key));
  return have && want && strcmp(have, want) == 0;
}

json_t *rt_condition_get(const json_t *status, const char *type) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c) {
    if (str_eq(c, "type", type)) return c;
  }
  return NULL;
}

int rt_condition_true(const json_t *status, const char *type) {
  return str_eq(rt_condition_get(status, type), "status", "True");
}

int rt_condition_set(json_t *status, const char *type, const char *cstatus, const char *reason,
                     const char *message, json_int_t observed_generation, int64_t now) {
  json_t *conds = json_object_get(status, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(status, "conditions", conds);
  }
  if (message == NULL) message = "";
  json_t *c = rt_condition_get(status, type);
  if (c && str_eq(c, "status", cstatus) && str_eq(c, "reason", reason) && str_eq(c, "message", message) &&
      js_int(c, "observedGeneration", -1) == observed_generation)
    return 0;
  char when[32];
  time_format_rfc3339(now, when);
  if (c == NULL) {
    c = json_object();
    json_object_set_new(c, "type", json_string(type));
    json_array_append_new(conds, c);
    json_object_set_new(c, "lastTransitionTime", json_string(when));
  } else if (!str_eq(c, "status", cstatus)) {
    json_object_set_new(c, "lastTransitionTime", json_string(when));
  }
  json_object_set_new(c, "status", json_string(cstatus));
  json_object_set_new(c, "reason", json_string(reason));
  json_object_set_new(c, "message", json_string(message));
  json_object_set_new(c, "observedGeneration", json_integer(observed_generation));
  return 1;
}

int rt_condition_remove(json_t *status, const char *type) {
  json_t *conds = json_object_get(status, "conditions");
  size_t i;
  json_t *c;
  json_array_foreach(conds, i, c) {
    if (str_eq(c, "type", type)) {
      json_array_remove(conds, i);
      return 1;
    }
  }
  return 0;
}
