#include <stdio.h>
#include <string.h>

#include "api/podtemplate/podtemplate.h"
#include "util/json.h"

/* ---------------------------------------------------------------- merge */

/* The fields that identify an element of the list called `list`, or NULL
 * for a list merged whole. At most two fields. */
static const char *const *list_keys(const char *list) {
  static const char *const by_name[] = {"name", NULL};
  static const char *const by_mount[] = {"mountPath", NULL};
  static const char *const by_port[] = {"containerPort", NULL};
  static const char *const by_toleration[] = {"key", "effect", NULL};
  static const char *const by_ip[] = {"ip", NULL};
  static const struct {
    const char *list;
    const char *const *keys;
  } table[] = {
      {"containers", by_name},    {"initContainers", by_name}, {"ephemeralContainers", by_name},
      {"env", by_name},           {"volumes", by_name},        {"imagePullSecrets", by_name},
      {"volumeMounts", by_mount}, {"ports", by_port},          {"tolerations", by_toleration},
      {"hostAliases", by_ip},
  };
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(table[i].list, list) == 0) return table[i].keys;
  return NULL;
}

/* Two elements are the same when every key field is equal (both absent
 * counts as equal: a toleration without an effect matches another one). */
static int same_element(const json_t *a, const json_t *b, const char *const *keys) {
  for (const char *const *k = keys; *k; k++) {
    json_t *va = json_object_get(a, *k), *vb = json_object_get(b, *k);
    if (va == NULL && vb == NULL) continue;
    if (va == NULL || vb == NULL || !json_equal(va, vb)) return 0;
  }
  return 1;
}

static void merge_object(json_t *high, const json_t *low);

static void merge_list(const char *list, json_t *high, const json_t *low) {
  const char *const *keys = list_keys(list);
  size_t i, j;
  json_t *e, *h;
  if (keys == NULL) {
    /* A list without identity is one value: the user's only when Cubit has none. */
    if (json_array_size(high) == 0) {
      json_t *copy = json_deep_copy(low);
      json_array_extend(high, copy);
      json_decref(copy);
    }
    return;
  }
  size_t nhigh = json_array_size(high);
  json_array_foreach(low, i, e) {
    json_t *match = NULL;
    for (j = 0; j < nhigh && match == NULL; j++) {
      h = json_array_get(high, j);
      if (json_is_object(h) && json_is_object(e) && same_element(h, e, keys)) match = h;
    }
    /* Containers are extended field by field; any other element Cubit
     * wrote is kept whole (half of a user's env var, volume or toleration
     * mixed into Cubit's would make an invalid one). */
    if (match) {
      if (strcmp(keys[0], "name") == 0 && strstr(list, "ontainers")) merge_object(match, e);
    } else json_array_append_new(high, json_deep_copy(e));
  }
}

/* Adds what low says and high does not, recursively; high's values win. */
static void merge_object(json_t *high, const json_t *low) {
  const char *key;
  json_t *lv;
  json_object_foreach((json_t *)low, key, lv) {
    json_t *hv = json_object_get(high, key);
    if (hv == NULL || json_is_null(hv)) json_object_set_new(high, key, json_deep_copy(lv));
    else if (json_is_object(hv) && json_is_object(lv)) merge_object(hv, lv);
    else if (json_is_array(hv) && json_is_array(lv)) merge_list(key, hv, lv);
  }
}

void pt_merge(json_t *tmpl, const json_t *pt) {
  if (!json_is_object(tmpl) || !json_is_object(pt)) return;
  static const char *const parts[] = {"metadata", "spec"};
  for (int p = 0; p < 2; p++) {
    json_t *low = json_object_get(pt, parts[p]);
    if (!json_is_object(low)) continue;
    merge_object(js_ensure_obj(tmpl, parts[p]), low);
  }
}

json_t *pt_layer(const json_t *base, const json_t *over) {
  if (!json_is_object(base) && !json_is_object(over)) return NULL;
  if (!json_is_object(over)) return json_deep_copy(base);
  json_t *out = json_deep_copy(over);
  if (json_is_object(base)) merge_object(out, base);
  return out;
}

/* ----------------------------------------------------------- validation */

static int fail(char *err, size_t errlen, const char *fmt, const char *path, const char *what) {
  snprintf(err, errlen, fmt, path, what);
  return CUBIT_EINVAL;
}

static int only_keys(const json_t *o, const char *const *allowed, const char *path, char *err, size_t errlen) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)o, key, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a; a++) ok |= strcmp(*a, key) == 0;
    if (!ok) {
      snprintf(err, errlen, "%s.%s: unknown field (want %s%s%s)", path, key, allowed[0], allowed[1] ? " or " : "",
               allowed[1] ? allowed[1] : "");
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

/* labels / annotations: strings, none of Cubit's own. */
static int check_string_map(const json_t *m, const char *path, char *err, size_t errlen) {
  if (m == NULL) return 0;
  if (!json_is_object(m)) return fail(err, errlen, "%s: want a map of strings%s", path, "");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)m, key, v) {
    if (!json_is_string(v)) {
      snprintf(err, errlen, "%s.%s: want a string", path, key);
      return CUBIT_EINVAL;
    }
    if (strncmp(key, "cubit.dev/", 10) == 0) {
      snprintf(err, errlen, "%s.%s: cubit.dev/ keys are Cubit's own and cannot be set here", path, key);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

static int check_containers(const json_t *list, const char *path, const char *cubit_container, int init, char *err,
                            size_t errlen) {
  if (list == NULL) return 0;
  if (!json_is_array(list)) return fail(err, errlen, "%s: want a list%s", path, "");
  size_t i;
  json_t *c;
  json_array_foreach(list, i, c) {
    char at[320];
    snprintf(at, sizeof(at), "%s[%zu]", path, i);
    const char *name = js_str(c, "name");
    if (!json_is_object(c) || name == NULL || *name == '\0')
      return fail(err, errlen, "%s.name: required%s", at, "");
    if (!init && cubit_container && strcmp(name, cubit_container) == 0) {
      static const char *const owned[] = {"image", "command", "args", "resources"};
      for (size_t k = 0; k < sizeof(owned) / sizeof(owned[0]); k++)
        if (json_object_get(c, owned[k])) {
          snprintf(err, errlen,
                   "%s.%s: the \"%s\" container is Cubit's; set its %s with the workload's own fields, not the "
                   "podTemplate",
                   at, owned[k], name, owned[k]);
          return CUBIT_EINVAL;
        }
    } else if (js_str(c, "image") == NULL) {
      snprintf(err, errlen, "%s.image: required for the %s container \"%s\"%s", at, init ? "init" : "extra", name,
               init || !cubit_container ? "" : " (only Cubit's own container takes its image from the workload)");
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

static int check_named_list(const json_t *list, const char *path, char *err, size_t errlen) {
  if (list == NULL) return 0;
  if (!json_is_array(list)) return fail(err, errlen, "%s: want a list%s", path, "");
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    const char *name = js_str(e, "name");
    if (!json_is_object(e) || name == NULL || *name == '\0') {
      snprintf(err, errlen, "%s[%zu].name: required", path, i);
      return CUBIT_EINVAL;
    }
  }
  return 0;
}

int pt_validate(const json_t *pt, const char *path, const char *cubit_container, char *err, size_t errlen) {
  if (pt == NULL || json_is_null(pt)) return 0;
  if (!json_is_object(pt)) return fail(err, errlen, "%s: want an object with metadata and spec%s", path, "");
  static const char *const top[] = {"metadata", "spec", NULL};
  if (only_keys(pt, top, path, err, errlen)) return CUBIT_EINVAL;
  char at[256];
  json_t *meta = json_object_get(pt, "metadata");
  if (meta) {
    snprintf(at, sizeof(at), "%s.metadata", path);
    if (!json_is_object(meta)) return fail(err, errlen, "%s: want an object%s", at, "");
    static const char *const metakeys[] = {"labels", "annotations", NULL};
    if (only_keys(meta, metakeys, at, err, errlen)) return CUBIT_EINVAL;
    char sub[300];
    snprintf(sub, sizeof(sub), "%s.labels", at);
    if (check_string_map(json_object_get(meta, "labels"), sub, err, errlen)) return CUBIT_EINVAL;
    snprintf(sub, sizeof(sub), "%s.annotations", at);
    if (check_string_map(json_object_get(meta, "annotations"), sub, err, errlen)) return CUBIT_EINVAL;
  }
  json_t *spec = json_object_get(pt, "spec");
  if (spec == NULL) return 0;
  snprintf(at, sizeof(at), "%s.spec", path);
  if (!json_is_object(spec)) return fail(err, errlen, "%s: want a PodSpec fragment (an object)%s", at, "");
  static const struct {
    const char *field, *why;
  } owned[] = {
      {"restartPolicy", "Cubit sets it from the workload's failure policy"},
      {"nodeName", "it would bypass the scheduler, the project's quota and gang scheduling"},
      {"schedulerName", "Cubit chooses the scheduler (gang scheduling)"},
  };
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
    if (json_object_get(spec, owned[i].field)) {
      snprintf(err, errlen, "%s.%s: not allowed: %s", at, owned[i].field, owned[i].why);
      return CUBIT_EINVAL;
    }
  char sub[300];
  snprintf(sub, sizeof(sub), "%s.containers", at);
  if (check_containers(json_object_get(spec, "containers"), sub, cubit_container, 0, err, errlen)) return CUBIT_EINVAL;
  snprintf(sub, sizeof(sub), "%s.initContainers", at);
  if (check_containers(json_object_get(spec, "initContainers"), sub, NULL, 1, err, errlen)) return CUBIT_EINVAL;
  static const char *const named[] = {"volumes", "imagePullSecrets"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(sub, sizeof(sub), "%s.%s", at, named[i]);
    if (check_named_list(json_object_get(spec, named[i]), sub, err, errlen)) return CUBIT_EINVAL;
  }
  return 0;
}
