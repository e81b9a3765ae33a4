/* Usage of pods and workloads; see usage.h. */
#include "api/usage/usage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"
#include "util/quantity.h"

#define WHERE_LEN 256

/* Field paths for messages; a path too long for the buffer is cut, which
 * only shortens a message. */
__attribute__((format(printf, 3, 4))) static void wheref(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, n, fmt, ap);
  va_end(ap);
}

static int oom(char *err, size_t errlen) {
  cubit_errorf(err, errlen, CUBIT_EINVAL, "out of memory");
  return CUBIT_ENOMEM;
}

/* ---- arithmetic ------------------------------------------------------------------- */

static int64_t sat_add(int64_t a, int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t n) {
  if (a == 0 || n == 0) return 0;
  return a > INT64_MAX / n ? INT64_MAX : a * n;
}

const char *usage_field_name(usage_field f) {
  static const char *const names[] = {"cpu", "memory", "gpu", "gpuMemory", "pods"};
  return f < USAGE_NFIELDS ? names[f] : "?";
}

int64_t usage_get(const usage *u, usage_field f) {
  switch (f) {
    case USAGE_CPU:
      return u->cpu_milli;
    case USAGE_MEMORY:
      return u->memory_bytes;
    case USAGE_GPU:
      return u->gpu_milli;
    case USAGE_GPU_MEMORY:
      return u->gpu_memory_bytes;
    case USAGE_PODS:
      return u->pods;
    default:
      return 0;
  }
}

void usage_set(usage *u, usage_field f, int64_t v) {
  switch (f) {
    case USAGE_CPU:
      u->cpu_milli = v;
      break;
    case USAGE_MEMORY:
      u->memory_bytes = v;
      break;
    case USAGE_GPU:
      u->gpu_milli = v;
      break;
    case USAGE_GPU_MEMORY:
      u->gpu_memory_bytes = v;
      break;
    case USAGE_PODS:
      u->pods = v;
      break;
    default:
      break;
  }
}

void usage_add(usage *a, const usage *b) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) usage_set(a, f, sat_add(usage_get(a, f), usage_get(b, f)));
}

void usage_sub(usage *a, const usage *b) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) {
    int64_t x = usage_get(a, f), y = usage_get(b, f);
    usage_set(a, f, x > y ? x - y : 0);
  }
}

void usage_scale(usage *u, int64_t n) {
  if (n < 0) n = 0;
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) usage_set(u, f, sat_mul(usage_get(u, f), n));
}

int usage_within(const usage *a, const usage *limit) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    if (usage_get(a, f) > usage_get(limit, f)) return 0;
  return 1;
}

int usage_is_zero(const usage *u) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    if (usage_get(u, f) != 0) return 0;
  return 1;
}

void usage_max(usage *a, const usage *b) {
  for (usage_field f = 0; f < USAGE_NFIELDS; f++)
    if (usage_get(b, f) > usage_get(a, f)) usage_set(a, f, usage_get(b, f));
}

void usage_format(usage_field f, int64_t v, char out[USAGE_STRLEN]) {
  quantity q;
  switch (f) {
    case USAGE_CPU:
      q = quantity_from_milli(v, QUANTITY_DECIMAL_SI);
      quantity_string(&q, out);
      break;
    case USAGE_MEMORY:
    case USAGE_GPU_MEMORY:
      q = quantity_from_int(v, QUANTITY_BINARY_SI);
      quantity_string(&q, out);
      break;
    case USAGE_GPU:
      gpu_format_milli(v, out);
      break;
    default:
      snprintf(out, USAGE_STRLEN, "%lld", (long long)v);
      break;
  }
}

int usage_exceeds(const usage *used, const usage *req, const usage *quota, const usage *mask, char *which,
                  size_t whichlen) {
  int over = 0;
  size_t k = 0;
  if (which && whichlen) which[0] = '\0';
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) {
    int64_t r = usage_get(req, f), u = usage_get(used, f), q = usage_get(quota, f);
    if (!usage_get(mask, f) || r <= 0 || sat_add(u, r) <= q) continue;
    over = 1;
    if (which == NULL || k + 1 >= whichlen) continue;
    char rs[USAGE_STRLEN], us[USAGE_STRLEN], qs[USAGE_STRLEN];
    usage_format(f, r, rs);
    usage_format(f, u, us);
    usage_format(f, q, qs);
    int w = snprintf(which + k, whichlen - k, "%s%s: requested %s, used %s, quota %s", k ? "; " : "",
                     usage_field_name(f), rs, us, qs);
    if (w > 0) k += (size_t)w;
    if (k >= whichlen) k = whichlen - 1;
  }
  return over;
}

/* ---- quantities ------------------------------------------------------------------- */

/* Reads a quantity (a string, an integer, or a real as JSON numbers from
 * YAML arrive) in units of 10^scale, rounded up, not negative. */
static int read_quantity(const json_t *v, int scale, int64_t *out, const char *where, char *err, size_t errlen) {
  quantity q;
  char why[160];
  if (json_is_string(v)) {
    if (quantity_parse_err(json_string_value(v), &q, why, sizeof(why)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: \"%s\": %s", where, json_string_value(v), why);
  } else if (json_is_integer(v)) {
    q = quantity_from_int(json_integer_value(v), QUANTITY_DECIMAL_SI);
  } else if (json_is_real(v)) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
    if (quantity_parse_err(buf, &q, why, sizeof(why))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %s: %s", where, buf, why);
  } else {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be a quantity", where);
  }
  if (quantity_sign(&q) < 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must not be negative", where);
  if (quantity_scaled_value_checked(&q, scale, out)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: too large", where);
  return 0;
}

int usage_parse_quota(const json_t *quota, const char *where, usage *out, usage *mask, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  memset(mask, 0, sizeof(*mask));
  if (err && errlen) err[0] = '\0';
  if (quota == NULL || json_is_null(quota)) return 0;
  if (!json_is_object(quota)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be an object", where);
  static const int scales[] = {-3, 0, -3, 0, 0};
  for (usage_field f = 0; f < USAGE_NFIELDS; f++) {
    const json_t *v = json_object_get(quota, usage_field_name(f));
    if (v == NULL || json_is_null(v)) continue;
    char w[WHERE_LEN];
    wheref(w, sizeof(w), "%s.%s", where, usage_field_name(f));
    int64_t x;
    if (f == USAGE_PODS) {
      if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be a whole number of pods, at least 0", w);
      x = json_integer_value(v);
    } else {
      int rc = read_quantity(v, scales[f], &x, w, err, errlen);
      if (rc) return rc;
    }
    usage_set(out, f, x);
    usage_set(mask, f, 1);
  }
  return 0;
}

json_t *usage_to_json(const usage *u) {
  json_t *o = json_object();
  for (usage_field f = 0; o && f < USAGE_NFIELDS; f++) {
    char s[USAGE_STRLEN];
    usage_format(f, usage_get(u, f), s);
    json_t *v = f == USAGE_PODS ? json_integer(u->pods) : json_string(s);
    if (json_object_set_new(o, usage_field_name(f), v)) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

/* ---- GPUs ---------------------------------------------------------------------------- */

static int has_gpu_resource(const json_t *res) {
  static const char *const names[] = {GPU_RES_NVIDIA,     GPU_RES_HAMI_CORES,  GPU_RES_HAMI_MEM,
                                      GPU_RES_HAMI_MEM_PCT, GPU_RES_VGPU_NUMBER, GPU_RES_VGPU_CORES,
                                      GPU_RES_VGPU_MEM,   GPU_RES_VGPU_MEM_PCT, GPU_RES_VCUDA_CORE,
                                      GPU_RES_VCUDA_MEM,  GPU_GRAMMAR_KEY,     NULL};
  for (const char *const *n = names; *n; n++)
    if (json_object_get(res, *n)) return 1;
  return 0;
}

/* The grammar as text: a string, or a JSON number written in YAML without quotes. */
static int grammar_text(const json_t *v, char buf[64], const char **out) {
  if (json_is_string(v)) {
    *out = json_string_value(v);
  } else if (json_is_integer(v)) {
    snprintf(buf, 64, "%lld", (long long)json_integer_value(v));
    *out = buf;
  } else if (json_is_real(v)) {
    snprintf(buf, 64, "%.6g", json_real_value(v));
    *out = buf;
  } else {
    return CUBIT_EINVAL;
  }
  return 0;
}

/* GPU cards and memory of a request in the grammar, counted as what its
 * translation through p will ask for. */
static int grammar_usage(const json_t *value, const char *where, const gpu_profile *p, const char *pod_model,
                         usage *u, char *err, size_t errlen) {
  char buf[64], msg[512];
  const char *text;
  if (grammar_text(value, buf, &text)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: a GPU request must be a string", where);
  gpu_request r;
  if (gpu_request_parse(text, &r, msg, sizeof(msg))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %s", where, msg);
  gpu_translation t;
  if (gpu_translate(p, &r, &t, msg, sizeof(msg))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %s", where, msg);
  json_t *m = json_object();
  if (m == NULL) return oom(err, errlen);
  for (size_t i = 0; i < t.nlimits; i++)
    if (json_object_set_new(m, t.limits[i].name, json_string(t.limits[i].value))) {
      json_decref(m);
      return oom(err, errlen);
    }
  u->gpu_milli = gpu_cards_milli(m);
  u->gpu_memory_bytes = gpu_memory_bytes(m, p, r.model[0] ? r.model : pod_model);
  json_decref(m);
  return 0;
}

/* ---- pods ----------------------------------------------------------------------------- */

/* cpu or memory of a container: its request, else its limit. */
static int container_resource(const json_t *resources, const char *name, int scale, int64_t *out,
                              const char *where, char *err, size_t errlen) {
  static const char *const kinds[] = {"requests", "limits"};
  *out = 0;
  for (size_t i = 0; i < 2; i++) {
    const json_t *v = json_object_get(json_object_get(resources, kinds[i]), name);
    if (v == NULL || json_is_null(v)) continue;
    char w[WHERE_LEN];
    wheref(w, sizeof(w), "%s.resources.%s.%s", where, kinds[i], name);
    return read_quantity(v, scale, out, w, err, errlen);
  }
  return 0;
}

/* annotation: the pod's cubit.dev/gpu for the first container, else NULL. */
static int container_usage(const json_t *c, const char *where, const gpu_profile *p, const char *pod_model,
                           const json_t *annotation, const char *annotation_where, usage *u, char *err,
                           size_t errlen) {
  memset(u, 0, sizeof(*u));
  if (!json_is_object(c)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be an object", where);
  const json_t *resources = json_object_get(c, "resources");
  int rc = container_resource(resources, "cpu", -3, &u->cpu_milli, where, err, errlen);
  if (!rc) rc = container_resource(resources, "memory", 0, &u->memory_bytes, where, err, errlen);
  if (rc) return rc;
  /* The effective map of extended resources: requests over limits. */
  json_t *eff = json_object();
  if (eff == NULL) return oom(err, errlen);
  const json_t *limits = json_object_get(resources, "limits"), *requests = json_object_get(resources, "requests");
  if ((json_is_object(limits) && json_object_update(eff, (json_t *)limits)) ||
      (json_is_object(requests) && json_object_update(eff, (json_t *)requests))) {
    json_decref(eff);
    return oom(err, errlen);
  }
  const json_t *grammar = json_object_get(eff, GPU_GRAMMAR_KEY);
  char w[WHERE_LEN];
  if (grammar) {
    wheref(w, sizeof(w), "%s.resources.%s[" GPU_GRAMMAR_KEY "]", where,
             json_object_get(requests, GPU_GRAMMAR_KEY) ? "requests" : "limits");
    rc = grammar_usage(grammar, w, p, pod_model, u, err, errlen);
  } else if (annotation && !has_gpu_resource(eff)) {
    rc = grammar_usage(annotation, annotation_where, p, pod_model, u, err, errlen);
  } else {
    u->gpu_milli = gpu_cards_milli(eff);
    u->gpu_memory_bytes = gpu_memory_bytes(eff, p, pod_model);
  }
  json_decref(eff);
  return rc;
}

/* where names the pod spec ("spec", "spec.template.spec"); annotation_where
 * the pod's cubit.dev/gpu annotation. */
static int pod_usage(const json_t *spec, const json_t *annotations, const char *where, const char *annotation_where,
                     const gpu_profile *p, usage *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(spec)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: missing or not an object", where);
  const char *label_value = json_string_value(json_object_get(json_object_get(spec, "nodeSelector"),
                                                              gpu_profile_model_label(p)));
  const char *pod_model = gpu_profile_model_for_label_value(p, label_value);
  const json_t *annotation = json_object_get(annotations, GPU_GRAMMAR_KEY);
  char w[WHERE_LEN];
  int rc;

  const json_t *containers = json_object_get(spec, "containers");
  usage sum = {0};
  for (size_t i = 0; i < json_array_size(containers); i++) {
    usage u;
    wheref(w, sizeof(w), "%s.containers[%zu]", where, i);
    rc = container_usage(json_array_get(containers, i), w, p, pod_model, i == 0 ? annotation : NULL,
                         annotation_where, &u, err, errlen);
    if (rc) return rc;
    usage_add(&sum, &u);
  }
  /* KEP-753: a sidecar runs beside everything after it, an ordinary init
   * container beside the sidecars started before it. */
  const json_t *inits = json_object_get(spec, "initContainers");
  usage sidecars = {0}, init_max = {0};
  for (size_t i = 0; i < json_array_size(inits); i++) {
    const json_t *c = json_array_get(inits, i);
    usage u;
    wheref(w, sizeof(w), "%s.initContainers[%zu]", where, i);
    rc = container_usage(c, w, p, pod_model, NULL, NULL, &u, err, errlen);
    if (rc) return rc;
    const char *policy = json_string_value(json_object_get(c, "restartPolicy"));
    if (policy && strcmp(policy, "Always") == 0) {
      usage_add(&sum, &u);
      usage_add(&sidecars, &u);
      u = sidecars;
    } else {
      usage_add(&u, &sidecars);
    }
    usage_max(&init_max, &u);
  }
  usage_max(&sum, &init_max);

  /* Pod-level resources (cpu and memory) replace the containers' sum. */
  const json_t *pod_resources = json_object_get(spec, "resources");
  if (json_is_object(pod_resources)) {
    int64_t v;
    wheref(w, sizeof(w), "%s", where);
    const json_t *req = json_object_get(pod_resources, "requests"), *lim = json_object_get(pod_resources, "limits");
    if (json_object_get(req, "cpu") || json_object_get(lim, "cpu")) {
      if ((rc = container_resource(pod_resources, "cpu", -3, &v, w, err, errlen))) return rc;
      sum.cpu_milli = v;
    }
    if (json_object_get(req, "memory") || json_object_get(lim, "memory")) {
      if ((rc = container_resource(pod_resources, "memory", 0, &v, w, err, errlen))) return rc;
      sum.memory_bytes = v;
    }
  }
  const json_t *overhead = json_object_get(spec, "overhead");
  if (json_is_object(overhead)) {
    usage o = {0};
    static const struct {
      const char *name;
      int scale;
      usage_field f;
    } rs[] = {{"cpu", -3, USAGE_CPU}, {"memory", 0, USAGE_MEMORY}};
    for (size_t i = 0; i < 2; i++) {
      const json_t *v = json_object_get(overhead, rs[i].name);
      if (v == NULL) continue;
      int64_t x;
      wheref(w, sizeof(w), "%s.overhead.%s", where, rs[i].name);
      if ((rc = read_quantity(v, rs[i].scale, &x, w, err, errlen))) return rc;
      usage_set(&o, rs[i].f, x);
    }
    usage_add(&sum, &o);
  }
  sum.pods = 1;
  *out = sum;
  return 0;
}

int usage_of_pod_spec(const json_t *spec, const json_t *annotations, const gpu_profile *p, usage *out, char *err,
                      size_t errlen) {
  if (err && errlen) err[0] = '\0';
  return pod_usage(spec, annotations, "spec", "metadata.annotations[" GPU_GRAMMAR_KEY "]", p, out, err, errlen);
}

/* ---- workloads ------------------------------------------------------------------------ */

/* A pod template at where ("spec.template"). */
static int template_usage(const json_t *tmpl, const char *where, const gpu_profile *p, usage *out, char *err,
                          size_t errlen) {
  char ws[WHERE_LEN], wa[WHERE_LEN];
  wheref(ws, sizeof(ws), "%s.spec", where);
  wheref(wa, sizeof(wa), "%s.metadata.annotations[" GPU_GRAMMAR_KEY "]", where);
  if (!json_is_object(tmpl)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: missing or not an object", where);
  return pod_usage(json_object_get(tmpl, "spec"), json_object_get(json_object_get(tmpl, "metadata"), "annotations"),
                   ws, wa, p, out, err, errlen);
}

/* An optional count at o[key]: def when absent or null, else an integer >= 0. */
static int read_count(const json_t *o, const char *key, int64_t def, int64_t *out, const char *where, char *err,
                      size_t errlen) {
  const json_t *v = json_object_get(o, key);
  if (v == NULL || json_is_null(v)) {
    *out = def;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: must be a whole number, at least 0", where, key);
  *out = json_integer_value(v);
  return 0;
}

static int batch_job_usage(const json_t *obj, const gpu_profile *p, usage *out, char *err, size_t errlen) {
  const json_t *spec = json_object_get(obj, "spec");
  int64_t parallelism, completions;
  int rc = read_count(spec, "parallelism", 1, &parallelism, "spec", err, errlen);
  if (!rc) rc = read_count(spec, "completions", -1, &completions, "spec", err, errlen);
  if (!rc) rc = template_usage(json_object_get(spec, "template"), "spec.template", p, out, err, errlen);
  if (rc) return rc;
  int64_t at_once = completions >= 0 && completions < parallelism ? completions : parallelism;
  usage_scale(out, at_once);
  return 0;
}

/* Kubeflow's map of replica type -> {replicas (default 1), template}. */
static int replica_specs_usage(const json_t *obj, const char *field, const gpu_profile *p, usage *out, char *err,
                               size_t errlen) {
  memset(out, 0, sizeof(*out));
  const json_t *specs = json_object_get(json_object_get(obj, "spec"), field);
  if (specs == NULL || json_is_null(specs)) return 0;
  if (!json_is_object(specs)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.%s: must be an object", field);
  const char *role;
  const json_t *rs;
  json_object_foreach((json_t *)specs, role, rs) {
    char w[WHERE_LEN], wt[WHERE_LEN];
    wheref(w, sizeof(w), "spec.%s.%s", field, role);
    wheref(wt, sizeof(wt), "%s.template", w);
    int64_t replicas;
    usage u;
    int rc = read_count(rs, "replicas", 1, &replicas, w, err, errlen);
    if (!rc) rc = template_usage(json_object_get(rs, "template"), wt, p, &u, err, errlen);
    if (rc) return rc;
    usage_scale(&u, replicas);
    usage_add(out, &u);
  }
  return 0;
}

static int volcano_job_usage(const json_t *obj, const gpu_profile *p, usage *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const json_t *tasks = json_object_get(json_object_get(obj, "spec"), "tasks");
  for (size_t i = 0; i < json_array_size(tasks); i++) {
    const json_t *t = json_array_get(tasks, i);
    char w[WHERE_LEN], wt[WHERE_LEN];
    wheref(w, sizeof(w), "spec.tasks[%zu]", i);
    wheref(wt, sizeof(wt), "%s.template", w);
    int64_t replicas;
    usage u;
    /* Volcano's replicas has no default: absent is 0 pods. */
    int rc = read_count(t, "replicas", 0, &replicas, w, err, errlen);
    if (!rc) rc = template_usage(json_object_get(t, "template"), wt, p, &u, err, errlen);
    if (rc) return rc;
    usage_scale(&u, replicas);
    usage_add(out, &u);
  }
  return 0;
}

static int role_usage(const json_t *role, const char *where, const gpu_profile *p, usage *out, char *err,
                      size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(role)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be an object", where);
  int64_t replicas, most;
  int rc = read_count(role, "replicas", 1, &replicas, where, err, errlen);
  /* A Ray worker group may grow to maxReplicas: the quota holds room for it. */
  if (!rc) rc = read_count(role, "maxReplicas", replicas, &most, where, err, errlen);
  if (rc) return rc;
  if (most > replicas) replicas = most;
  const json_t *res = json_object_get(role, "resources");
  char w[WHERE_LEN];
  const json_t *v;
  if ((v = json_object_get(res, "cpu")) && !json_is_null(v)) {
    wheref(w, sizeof(w), "%s.resources.cpu", where);
    if ((rc = read_quantity(v, -3, &out->cpu_milli, w, err, errlen))) return rc;
  }
  if ((v = json_object_get(res, "memory")) && !json_is_null(v)) {
    wheref(w, sizeof(w), "%s.resources.memory", where);
    if ((rc = read_quantity(v, 0, &out->memory_bytes, w, err, errlen))) return rc;
  }
  if ((v = json_object_get(res, "gpu")) && !json_is_null(v)) {
    wheref(w, sizeof(w), "%s.resources.gpu", where);
    if ((rc = grammar_usage(v, w, p, NULL, out, err, errlen))) return rc;
  }
  out->pods = 1;
  usage_scale(out, replicas);
  return 0;
}

/* spec.roles: a map of role name -> role; a list of roles with a name is
 * read too. */
static int training_job_usage(const json_t *obj, const gpu_profile *p, usage *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const json_t *roles = json_object_get(json_object_get(obj, "spec"), "roles");
  char w[WHERE_LEN];
  usage u;
  int rc;
  if (json_is_object(roles)) {
    const char *name;
    const json_t *role;
    json_object_foreach((json_t *)roles, name, role) {
      wheref(w, sizeof(w), "spec.roles.%s", name);
      if ((rc = role_usage(role, w, p, &u, err, errlen))) return rc;
      usage_add(out, &u);
    }
  } else if (json_is_array(roles)) {
    for (size_t i = 0; i < json_array_size(roles); i++) {
      wheref(w, sizeof(w), "spec.roles[%zu]", i);
      if ((rc = role_usage(json_array_get(roles, i), w, p, &u, err, errlen))) return rc;
      usage_add(out, &u);
    }
  } else if (roles && !json_is_null(roles)) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "spec.roles: must be a map of role name to role");
  }
  return 0;
}

/* Deployments, StatefulSets and ReplicaSets: replicas (default 1) x template. */
static int replicated_usage(const json_t *obj, const gpu_profile *p, usage *out, char *err, size_t errlen) {
  const json_t *spec = json_object_get(obj, "spec");
  int64_t replicas;
  int rc = read_count(spec, "replicas", 1, &replicas, "spec", err, errlen);
  if (!rc) rc = template_usage(json_object_get(spec, "template"), "spec.template", p, out, err, errlen);
  if (rc) return rc;
  usage_scale(out, replicas);
  return 0;
}

static int is(const char *a, const char *b) {
  return strcmp(a ? a : "", b) == 0;
}

int usage_of_object(const char *group, const char *kind, const json_t *obj, const gpu_profile *p, usage *out,
                    char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (err && errlen) err[0] = '\0';
  if (!json_is_object(obj)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "the object must be a JSON object");
  int rc;
  if (is(group, "") && is(kind, "Pod")) {
    rc = usage_of_pod_spec(json_object_get(obj, "spec"), js_get(obj, "metadata.annotations"), p, out, err, errlen);
  } else if (is(group, "batch") && is(kind, "Job")) {
    rc = batch_job_usage(obj, p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "TFJob")) {
    rc = replica_specs_usage(obj, "tfReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "PyTorchJob")) {
    rc = replica_specs_usage(obj, "pytorchReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "XGBoostJob")) {
    rc = replica_specs_usage(obj, "xgbReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "MPIJob")) {
    rc = replica_specs_usage(obj, "mpiReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "PaddleJob")) {
    rc = replica_specs_usage(obj, "paddleReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "kubeflow.org") && is(kind, "JAXJob")) {
    rc = replica_specs_usage(obj, "jaxReplicaSpecs", p, out, err, errlen);
  } else if (is(group, "batch.volcano.sh") && is(kind, "Job")) {
    rc = volcano_job_usage(obj, p, out, err, errlen);
  } else if (is(group, "cubit.dev") && is(kind, "TrainingJob")) {
    rc = training_job_usage(obj, p, out, err, errlen);
  } else if (is(group, "apps") && (is(kind, "Deployment") || is(kind, "StatefulSet") || is(kind, "ReplicaSet"))) {
    rc = replicated_usage(obj, p, out, err, errlen);
  } else {
    cubit_errorf(err, errlen, CUBIT_EINVAL, "usage of %s%s%s is not known", group && group[0] ? group : "",
         group && group[0] ? "/" : "", kind ? kind : "?");
    return CUBIT_ENOTSUP;
  }
  if (rc) memset(out, 0, sizeof(*out));
  return rc;
}
