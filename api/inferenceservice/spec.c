/* The InferenceService spec, parsed once into a struct. The validating
 * webhook runs the same parser, so the controller and admission agree on
 * what a valid spec is. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/inferenceservice/inferenceservice.h"
#include "api/podtemplate/podtemplate.h"
#include "util/alloc.h"
#include "util/json.h"

const kube_resource inference_resource = {"cubit.dev", "v1alpha1", "inferenceservices", "InferenceService", 1};

static const inference_runtime_info runtimes[INFERENCE_RUNTIME_COUNT] = {
    [INFERENCE_TFSERVING] = {"tfserving",
                             "tensorflow/serving:2.14.1",
                             {"/usr/bin/tensorflow_model_server", NULL},
                             {"--port=9000", "--rest_api_port=8080", "--model_name=%s",
                              "--model_base_path=" INFERENCE_MODEL_DIR, "--rest_api_timeout_in_ms=60000", NULL},
                             8080, 9000, 0, "/v1/models/%s", NULL},
    [INFERENCE_TORCHSERVE] = {"torchserve",
                              "pytorch/torchserve:0.12.0-cpu",
                              {"torchserve", NULL},
                              {"--start", "--foreground", "--disable-token-auth", "--ncs",
                               "--model-store=" INFERENCE_MODEL_DIR, "--models=all", NULL},
                              8080, 7070, 8082, "/ping", "/metrics"},
    [INFERENCE_TRITON] = {"triton",
                          "nvcr.io/nvidia/tritonserver:24.08-py3",
                          {"tritonserver", NULL},
                          {"--model-repository=" INFERENCE_MODEL_DIR, "--http-port=8080", "--grpc-port=9000",
                           "--metrics-port=8002", NULL},
                          8080, 9000, 8002, "/v2/health/ready", "/metrics"},
    [INFERENCE_ONNXRUNTIME] = {"onnxruntime",
                               "mcr.microsoft.com/onnxruntime/server:latest",
                               {NULL},
                               {"--model_path=" INFERENCE_MODEL_DIR "/model.onnx", "--http_port=8080",
                                "--grpc_port=9000", NULL},
                               8080, 9000, 0, NULL, NULL},
    [INFERENCE_VLLM] = {"vllm",
                        "vllm/vllm-openai:v0.6.3",
                        {NULL},
                        {"--model=" INFERENCE_MODEL_DIR, "--served-model-name=%s", "--port=8080", NULL},
                        8080, 0, 8080, "/health", "/metrics"},
    [INFERENCE_CUSTOM] = {"custom", NULL, {NULL}, {NULL}, 8080, 0, 0, NULL, NULL},
};

const inference_runtime_info *inference_runtime_get(inference_runtime r) {
  return r >= 0 && r < INFERENCE_RUNTIME_COUNT ? &runtimes[r] : NULL;
}

/* The spec keys that make a predictor (and so may differ in spec.canary). */
static const char *predictor_keys[] = {"runtime", "image",     "command",      "args",        "ports",
                                       "healthPath", "model",  "resources",    "env",         "volumes",
                                       "nodeSelector", "tolerations", "replicas", "podTemplate", NULL};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return CUBIT_EINVAL;
}

/* RFC 7386 JSON merge patch of patch onto target (both borrowed); new. */
static json_t *merge_patch(const json_t *target, const json_t *patch) {
  if (!json_is_object(patch)) return json_deep_copy(patch);
  json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(out, k);
    } else {
      json_t *merged = merge_patch(json_object_get(out, k), v);
      json_object_set_new(out, k, merged);
    }
  }
  return out;
}

static int is_dns_label(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i + 1 < n);
    if (!ok) return 0;
  }
  return 1;
}

/* A quantity (string or integer) into its canonical string. */
static int canonical_quantity(const json_t *v, const char *field, char out[QUANTITY_STRLEN], char *err,
                              size_t errlen) {
  out[0] = '\0';
  if (v == NULL) return 0;
  char text[QUANTITY_STRLEN];
  if (json_is_integer(v)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
  else if (json_is_string(v)) snprintf(text, sizeof(text), "%s", json_string_value(v));
  else return fail(err, errlen, "%s: want a quantity such as \"500m\" or \"2Gi\"", field);
  quantity q;
  if (quantity_parse(text, &q) != 0 || quantity_sign(&q) <= 0)
    return fail(err, errlen, "%s: \"%s\" is not a positive quantity", field, text);
  quantity_string(&q, out);
  return 0;
}

static int string_array(const json_t *v, const char *field, char *err, size_t errlen) {
  if (v == NULL) return 0;
  if (!json_is_array(v)) return fail(err, errlen, "%s: want a list of strings", field);
  size_t i;
  json_t *s;
  json_array_foreach(v, i, s) {
    if (!json_is_string(s)) return fail(err, errlen, "%s[%zu]: want a string", field, i);
  }
  return 0;
}

static int port_of(const json_t *ports, const char *key, const char *prefix, int def, int *out, char *err,
                   size_t errlen) {
  json_t *v = json_object_get(ports, key);
  *out = def;
  if (v == NULL) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
    return fail(err, errlen, "%sports.%s: want a port from 1 to 65535", prefix, key);
  *out = (int)json_integer_value(v);
  return 0;
}

static int parse_model(const json_t *model, const char *prefix, inference_predictor *p, char *err, size_t errlen) {
  p->source = INFERENCE_MODEL_NONE;
  if (model == NULL) return 0;
  if (!json_is_object(model)) return fail(err, errlen, "%smodel: want an object {name, uri, version}", prefix);
  const char *name = js_str(model, "name");
  if (name) p->model_name = name;
  p->model_version = js_str(model, "version");
  if (p->model_version) {
    size_t n = strlen(p->model_version);
    int ok = n > 0 && n <= 63;
    for (size_t i = 0; ok && i < n; i++) {
      char c = p->model_version[i];
      ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           ((c == '-' || c == '_' || c == '.') && i > 0 && i + 1 < n);
    }
    if (!ok)
      return fail(err, errlen, "%smodel.version: \"%s\" must be a label value (letters, digits, '-', '_', '.', "
                  "at most 63)", prefix, p->model_version);
  }
  const char *uri = js_str(model, "uri");
  p->model_uri = uri;
  if (uri == NULL) return 0;
  if (strncmp(uri, "pvc://", 6) == 0) {
    const char *claim = uri + 6, *slash = strchr(claim, '/');
    size_t n = slash ? (size_t)(slash - claim) : strlen(claim);
    if (n == 0 || n >= sizeof(p->pvc_claim))
      return fail(err, errlen, "%smodel.uri: \"%s\" names no claim (want pvc://<claim>/<path>)", prefix, uri);
    memcpy(p->pvc_claim, claim, n);
    p->pvc_claim[n] = '\0';
    if (!is_dns_label(p->pvc_claim, 253) && strchr(p->pvc_claim, '.') == NULL)
      return fail(err, errlen, "%smodel.uri: \"%s\" is not a claim name", prefix, p->pvc_claim);
    p->pvc_path = slash ? slash + 1 : "";
    if (strstr(p->pvc_path, "..") || p->pvc_path[0] == '/')
      return fail(err, errlen, "%smodel.uri: the path in \"%s\" must be relative, without \"..\"", prefix, uri);
    p->source = INFERENCE_MODEL_PVC;
    return 0;
  }
  if ((strncmp(uri, "s3://", 5) == 0 && uri[5]) || (strncmp(uri, "http://", 7) == 0 && uri[7]) ||
      (strncmp(uri, "https://", 8) == 0 && uri[8])) {
    p->source = INFERENCE_MODEL_FETCH;
    return 0;
  }
  return fail(err, errlen, "%smodel.uri: \"%s\" is not pvc://<claim>/<path>, s3://<bucket>/<path>, http:// or https://",
              prefix, uri);
}

static int parse_predictor(const json_t *isvc, const json_t *pj, const char *prefix, inference_predictor *p,
                           char *err, size_t errlen) {
  memset(p, 0, sizeof(*p));
  const char *rt = js_str(pj, "runtime");
  if (rt == NULL) return fail(err, errlen, "%sruntime: required (tfserving, torchserve, triton, onnxruntime, vllm or custom)", prefix);
  p->runtime = INFERENCE_RUNTIME_COUNT;
  for (int i = 0; i < INFERENCE_RUNTIME_COUNT; i++)
    if (strcmp(runtimes[i].name, rt) == 0) p->runtime = (inference_runtime)i;
  if (p->runtime == INFERENCE_RUNTIME_COUNT)
    return fail(err, errlen, "%sruntime: unknown runtime \"%s\" (want tfserving, torchserve, triton, onnxruntime, "
                "vllm or custom)", prefix, rt);
  const inference_runtime_info *info = &runtimes[p->runtime];
  p->image = js_str(pj, "image");
  if (p->image && *p->image == '\0') p->image = NULL;
  if (p->image == NULL) p->image = info->image;
  if (p->image == NULL) return fail(err, errlen, "%simage: required for runtime custom", prefix);
  p->command = json_object_get(pj, "command");
  p->args = json_object_get(pj, "args");
  char field[128];
  snprintf(field, sizeof(field), "%scommand", prefix);
  if (string_array(p->command, field, err, errlen)) return CUBIT_EINVAL;
  snprintf(field, sizeof(field), "%sargs", prefix);
  if (string_array(p->args, field, err, errlen)) return CUBIT_EINVAL;
  json_t *ports = json_object_get(pj, "ports");
  if (ports && !json_is_object(ports)) return fail(err, errlen, "%sports: want {http, grpc, metrics}", prefix);
  if (port_of(ports, "http", prefix, info->http, &p->http, err, errlen) ||
      port_of(ports, "grpc", prefix, info->grpc, &p->grpc, err, errlen) ||
      port_of(ports, "metrics", prefix, info->metrics, &p->metrics, err, errlen))
    return CUBIT_EINVAL;
  if (p->grpc && p->grpc == p->http)
    return fail(err, errlen, "%sports: http and grpc cannot share port %d", prefix, p->http);
  p->health_path = js_str(pj, "healthPath");
  if (p->health_path && p->health_path[0] != '/')
    return fail(err, errlen, "%shealthPath: \"%s\" must start with /", prefix, p->health_path);
  if (p->health_path == NULL) p->health_path = info->health_path;
  p->model_name = js_name(isvc);
  if (parse_model(json_object_get(pj, "model"), prefix, p, err, errlen)) return CUBIT_EINVAL;

  json_t *res = json_object_get(pj, "resources");
  if (res && !json_is_object(res)) return fail(err, errlen, "%sresources: want {cpu, memory, gpu}", prefix);
  snprintf(field, sizeof(field), "%sresources.cpu", prefix);
  if (canonical_quantity(json_object_get(res, "cpu"), field, p->cpu, err, errlen)) return CUBIT_EINVAL;
  snprintf(field, sizeof(field), "%sresources.memory", prefix);
  if (canonical_quantity(json_object_get(res, "memory"), field, p->memory, err, errlen)) return CUBIT_EINVAL;
  json_t *gpu = json_object_get(res, "gpu");
  if (gpu) {
    char text[GPU_REQUEST_STRLEN], why[256];
    if (json_is_integer(gpu)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(gpu));
    else if (json_is_string(gpu)) snprintf(text, sizeof(text), "%s", json_string_value(gpu));
    else return fail(err, errlen, "%sresources.gpu: want a GPU request such as \"1\", \"0.5\" or \"2(A100)\"", prefix);
    gpu_request req;
    if (gpu_request_parse(text, &req, why, sizeof(why))) return fail(err, errlen, "%sresources.gpu: %s", prefix, why);
    if (req.milli_cards > 0 || req.shared) gpu_request_format(&req, p->gpu);
  }
  p->env = json_object_get(pj, "env");
  size_t i;
  json_t *v;
  if (p->env && !json_is_array(p->env)) return fail(err, errlen, "%senv: want a list of environment variables", prefix);
  json_array_foreach(p->env, i, v) {
    const char *n = js_str(v, "name");
    if (n == NULL || *n == '\0') return fail(err, errlen, "%senv[%zu].name: required", prefix, i);
    for (size_t k = 0; k < i; k++)
      if (strcmp(js_str(json_array_get(p->env, k), "name"), n) == 0)
        return fail(err, errlen, "%senv[%zu].name: %s is set twice", prefix, i, n);
  }
  p->volumes = json_object_get(pj, "volumes");
  if (p->volumes && !json_is_array(p->volumes)) return fail(err, errlen, "%svolumes: want a list", prefix);
  json_array_foreach(p->volumes, i, v) {
    const char *n = js_str(v, "name"), *mount = js_str(v, "mountPath");
    if (n == NULL || !is_dns_label(n, 63))
      return fail(err, errlen, "%svolumes[%zu].name: want a DNS label", prefix, i);
    if (strncmp(n, "cubit-", 6) == 0)
      return fail(err, errlen, "%svolumes[%zu].name: names starting with cubit- are Cubit's own", prefix, i);
    if (mount == NULL || mount[0] != '/')
      return fail(err, errlen, "%svolumes[%zu].mountPath: want an absolute path", prefix, i);
    if (strcmp(mount, INFERENCE_MODEL_DIR) == 0 && p->source != INFERENCE_MODEL_NONE)
      return fail(err, errlen, "%svolumes[%zu].mountPath: %s holds the model", prefix, i, INFERENCE_MODEL_DIR);
    for (size_t k = 0; k < i; k++)
      if (strcmp(js_str(json_array_get(p->volumes, k), "name"), n) == 0)
        return fail(err, errlen, "%svolumes[%zu].name: %s is used twice", prefix, i, n);
  }
  p->node_selector = json_object_get(pj, "nodeSelector");
  if (p->node_selector && !json_is_object(p->node_selector))
    return fail(err, errlen, "%snodeSelector: want a map of labels", prefix);
  p->tolerations = json_object_get(pj, "tolerations");
  if (p->tolerations && !json_is_array(p->tolerations)) return fail(err, errlen, "%stolerations: want a list", prefix);
  p->pod_template = json_object_get(pj, "podTemplate");
  char ptpath[64];
  snprintf(ptpath, sizeof(ptpath), "%spodTemplate", prefix);
  if (pt_validate(p->pod_template, ptpath, INFERENCE_CONTAINER, err, errlen)) return CUBIT_EINVAL;

  json_t *replicas = json_object_get(pj, "replicas");
  json_int_t min = js_int(replicas, "min", 1);
  json_int_t max = js_int(replicas, "max", min > 1 ? min : 1);
  if (min < 1 || min > 1000) return fail(err, errlen, "%sreplicas.min: want 1 to 1000, got %lld", prefix, (long long)min);
  if (max < 1 || max > 1000) return fail(err, errlen, "%sreplicas.max: want 1 to 1000, got %lld", prefix, (long long)max);
  if (min > max)
    return fail(err, errlen, "%sreplicas: min %lld is above max %lld", prefix, (long long)min, (long long)max);
  p->min_replicas = (int)min;
  p->max_replicas = (int)max;
  return 0;
}

/* "HH:MM" into minutes of the day. */
static int parse_hhmm(const char *s, int *out) {
  if (s == NULL || strlen(s) != 5 || s[2] != ':') return -1;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return -1;
  *out = h * 60 + m;
  return 0;
}

static int parse_autoscaling(const json_t *as, inference_spec *out, char *err, size_t errlen) {
  if (as == NULL) return 0;
  if (!json_is_object(as)) return fail(err, errlen, "spec.autoscaling: want {metrics, behavior, schedule}");
  json_t *metrics = json_object_get(as, "metrics");
  if (metrics && !json_is_array(metrics)) return fail(err, errlen, "spec.autoscaling.metrics: want a list");
  if (json_array_size(metrics) > INFERENCE_MAX_METRICS)
    return fail(err, errlen, "spec.autoscaling.metrics: at most %d metrics", INFERENCE_MAX_METRICS);
  static const char *types[] = {"cpu", "memory", "gpu", "qps"};
  size_t i;
  json_t *m;
  json_array_foreach(metrics, i, m) {
    inference_metric *im = &out->metrics[out->nmetrics];
    memset(im, 0, sizeof(*im));
    const char *type = js_str(m, "type");
    int t = -1;
    for (int k = 0; type && k < 4; k++)
      if (strcmp(types[k], type) == 0) t = k;
    if (t < 0)
      return fail(err, errlen, "spec.autoscaling.metrics[%zu].type: want cpu, memory, gpu or qps, got \"%s\"", i,
                  type ? type : "");
    for (size_t k = 0; k < out->nmetrics; k++)
      if ((int)out->metrics[k].type == t)
        return fail(err, errlen, "spec.autoscaling.metrics[%zu].type: %s is listed twice", i, type);
    im->type = (inference_metric_type)t;
    const char *name = js_str(m, "metricName");
    if (name && (t == INFERENCE_METRIC_CPU || t == INFERENCE_METRIC_MEMORY))
      return fail(err, errlen, "spec.autoscaling.metrics[%zu].metricName: only gpu and qps metrics are named", i);
    if (name && (*name == '\0' || strlen(name) >= sizeof(im->name)))
      return fail(err, errlen, "spec.autoscaling.metrics[%zu].metricName: want a metric name", i);
    if (t == INFERENCE_METRIC_QPS) {
      json_t *target = json_object_get(m, "targetAverageValue");
      char field[96];
      snprintf(field, sizeof(field), "spec.autoscaling.metrics[%zu].targetAverageValue", i);
      if (target == NULL) return fail(err, errlen, "%s: required for qps", field);
      if (canonical_quantity(target, field, im->target_value, err, errlen)) return CUBIT_EINVAL;
      snprintf(im->name, sizeof(im->name), "%s", name ? name : INFERENCE_DEFAULT_QPS_METRIC);
    } else {
      json_t *target = json_object_get(m, "targetUtilization");
      if (!json_is_integer(target) || json_integer_value(target) < 1 ||
          json_integer_value(target) > (t == INFERENCE_METRIC_GPU ? 100 : 1000))
        return fail(err, errlen, "spec.autoscaling.metrics[%zu].targetUtilization: want a percent from 1 to %d", i,
                    t == INFERENCE_METRIC_GPU ? 100 : 1000);
      im->target_utilization = (int)json_integer_value(target);
      if (t == INFERENCE_METRIC_GPU) snprintf(im->name, sizeof(im->name), "%s", name ? name : INFERENCE_DEFAULT_GPU_METRIC);
      /* Utilization is measured against the request: without one the HPA
       * cannot compute it. */
      if (t == INFERENCE_METRIC_CPU && out->stable.cpu[0] == '\0')
        return fail(err, errlen, "spec.autoscaling.metrics[%zu]: cpu utilization needs spec.resources.cpu (the HPA "
                    "measures against the request)", i);
      if (t == INFERENCE_METRIC_MEMORY && out->stable.memory[0] == '\0')
        return fail(err, errlen, "spec.autoscaling.metrics[%zu]: memory utilization needs spec.resources.memory "
                    "(the HPA measures against the request)", i);
      if (t == INFERENCE_METRIC_GPU && out->stable.gpu[0] == '\0')
        return fail(err, errlen, "spec.autoscaling.metrics[%zu]: gpu utilization needs spec.resources.gpu", i);
    }
    out->nmetrics++;
  }
  out->behavior = json_object_get(as, "behavior");
  if (out->behavior && !json_is_object(out->behavior))
    return fail(err, errlen, "spec.autoscaling.behavior: want an HPA behavior object");
  json_t *schedule = json_object_get(as, "schedule");
  if (schedule && !json_is_array(schedule)) return fail(err, errlen, "spec.autoscaling.schedule: want a list");
  if (json_array_size(schedule) > INFERENCE_MAX_WINDOWS)
    return fail(err, errlen, "spec.autoscaling.schedule: at most %d windows", INFERENCE_MAX_WINDOWS);
  json_t *w;
  json_array_foreach(schedule, i, w) {
    inference_window *iw = &out->windows[out->nwindows];
    if (parse_hhmm(js_str(w, "start"), &iw->start))
      return fail(err, errlen, "spec.autoscaling.schedule[%zu].start: want HH:MM (00:00 to 23:59)", i);
    if (parse_hhmm(js_str(w, "end"), &iw->end))
      return fail(err, errlen, "spec.autoscaling.schedule[%zu].end: want HH:MM (00:00 to 23:59)", i);
    if (iw->start == iw->end)
      return fail(err, errlen, "spec.autoscaling.schedule[%zu]: start and end are both %s (an empty window)", i,
                  js_str(w, "start"));
    const char *zone = js_str(w, "timeZone");
    snprintf(iw->time_zone, sizeof(iw->time_zone), "%s", zone ? zone : "UTC");
    tz_zone *z = NULL;
    char why[300];
    if (tz_load(iw->time_zone, &z, why, sizeof(why)))
      return fail(err, errlen, "spec.autoscaling.schedule[%zu].timeZone: %s", i, why);
    tz_free(z);
    json_int_t mr = js_int(w, "minReplicas", -1);
    if (mr < 1 || mr > out->stable.max_replicas)
      return fail(err, errlen, "spec.autoscaling.schedule[%zu].minReplicas: want 1 to spec.replicas.max (%d)", i,
                  out->stable.max_replicas);
    iw->min_replicas = (int)mr;
    out->nwindows++;
  }
  return 0;
}

static int parse_route(const json_t *isvc, const json_t *route, inference_spec *out, char *err, size_t errlen) {
  const char *prefix = js_str(route, "pathPrefix");
  if (route && !json_is_object(route)) return fail(err, errlen, "spec.route: want {hosts, pathPrefix, gateway, ...}");
  if (prefix) {
    size_t n = strlen(prefix);
    if (n == 0 || prefix[0] != '/' || prefix[n - 1] != '/' || n >= sizeof(out->path_prefix))
      return fail(err, errlen, "spec.route.pathPrefix: \"%s\" must start and end with /", prefix);
    snprintf(out->path_prefix, sizeof(out->path_prefix), "%s", prefix);
  } else {
    snprintf(out->path_prefix, sizeof(out->path_prefix), "/inference/%s/%s/",
             js_namespace(isvc) ? js_namespace(isvc) : "default", js_name(isvc));
  }
  out->hosts = json_object_get(route, "hosts");
  if (string_array(out->hosts, "spec.route.hosts", err, errlen)) return CUBIT_EINVAL;
  out->gateway = js_str(route, "gateway");
  json_int_t timeout = js_int(route, "timeoutSeconds", 0), retries = js_int(route, "retries", 0);
  if (timeout < 0 || timeout > 3600) return fail(err, errlen, "spec.route.timeoutSeconds: want 1 to 3600");
  if (retries < 0 || retries > 10) return fail(err, errlen, "spec.route.retries: want 0 to 10");
  out->timeout_s = (int)timeout;
  out->retries = (int)retries;
  return 0;
}

int inference_spec_parse(const json_t *isvc, inference_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  const char *name = js_name(isvc);
  if (name == NULL || strlen(name) > INFERENCE_NAME_MAX)
    return fail(err, errlen, "metadata.name: at most %d characters (revision names add 11)", INFERENCE_NAME_MAX);
  json_t *spec = json_object_get(isvc, "spec");
  if (!json_is_object(spec)) return fail(err, errlen, "spec: required");
  out->stable_json = json_object();
  for (const char **k = predictor_keys; *k; k++) {
    json_t *v = json_object_get(spec, *k);
    if (v) json_object_set(out->stable_json, *k, v);
  }
  int rc = parse_predictor(isvc, out->stable_json, "spec.", &out->stable, err, errlen);
  json_t *canary = json_object_get(spec, "canary");
  if (rc == 0 && canary) {
    if (!json_is_object(canary)) {
      rc = fail(err, errlen, "spec.canary: want {trafficPercent, ...predictor fields that differ}");
      goto out;
    }
    json_t *pct = json_object_get(canary, "trafficPercent");
    if (!json_is_integer(pct) || json_integer_value(pct) < 0 || json_integer_value(pct) > 100) {
      rc = fail(err, errlen, "spec.canary.trafficPercent: want 0 to 100");
      goto out;
    }
    out->canary_percent = (int)json_integer_value(pct);
    json_t *patch = json_deep_copy(canary);
    json_object_del(patch, "trafficPercent");
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
      int known = 0;
      for (const char **pk = predictor_keys; *pk; pk++) known |= strcmp(*pk, k) == 0;
      if (!known) {
        rc = fail(err, errlen, "spec.canary.%s: not a predictor field", k);
        json_decref(patch);
        goto out;
      }
    }
    out->canary_json = merge_patch(out->stable_json, patch);
    json_decref(patch);
    out->has_canary = 1;
    rc = parse_predictor(isvc, out->canary_json, "spec.canary.", &out->canary, err, errlen);
  }
  json_t *mirror = json_object_get(spec, "mirror");
  if (rc == 0 && mirror) {
    json_int_t pct = js_int(mirror, "percent", 100);
    if (!json_is_object(mirror) || pct < 0 || pct > 100) {
      rc = fail(err, errlen, "spec.mirror.percent: want 0 to 100");
      goto out;
    }
    out->mirror = 1;
    out->mirror_percent = (int)pct;
    out->mirror_service = js_str(mirror, "service");
    out->mirror_port = (int)js_int(mirror, "port", 0);
    if (out->mirror_port < 0 || out->mirror_port > 65535) {
      rc = fail(err, errlen, "spec.mirror.port: want a port from 1 to 65535");
      goto out;
    }
    if (out->mirror_service == NULL && !out->has_canary) {
      rc = fail(err, errlen, "spec.mirror: copies traffic to the canary; set spec.canary or spec.mirror.service");
      goto out;
    }
  }
  if (rc == 0) rc = parse_route(isvc, json_object_get(spec, "route"), out, err, errlen);
  if (rc == 0) rc = parse_autoscaling(json_object_get(spec, "autoscaling"), out, err, errlen);
  if (rc == 0 && placement_spec_parse(spec, &out->place, err, errlen)) rc = CUBIT_EINVAL;
out:
  if (rc) inference_spec_free(out);
  return rc;
}

void inference_spec_free(inference_spec *s) {
  json_decref(s->stable_json);
  json_decref(s->canary_json);
  s->stable_json = s->canary_json = NULL;
}

/* Every replica the service keeps at least, at once: a service placed
 * where only some fit would never be whole. The HPA's maximum is not asked
 * for (scaling up waits for room as it does in one cluster). */
void isvc_demand_of(const inference_spec *s, int floor, placement_demand *out) {
  memset(out, 0, sizeof(*out));
  placement_demand_add(out, json_object_get(s->stable_json, "resources"), floor > 0 ? floor : 1);
  if (s->has_canary)
    placement_demand_add(out, json_object_get(s->canary_json, "resources"),
                         s->canary.min_replicas > 0 ? s->canary.min_replicas : 1);
}
