/* The children of an InferenceService, built as JSON from the parsed spec,
 * and the route plan: pure functions, so the unit suite compares them with
 * golden files and tables. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/inferenceservice/inferenceservice.h"
#include "runtime/apply.h"
#include "util/alloc.h"
#include "util/json.h"
#include "api/labels.h"
#include "api/podtemplate/podtemplate.h"

const kube_resource inference_virtualservices = {"networking.istio.io", "v1beta1", "virtualservices", "VirtualService",
                                                 1};
const kube_resource inference_destinationrules = {"networking.istio.io", "v1beta1", "destinationrules",
                                                  "DestinationRule", 1};

/* "%s" in a runtime's argument stands for the model name. */
static char *with_model(const char *text, const char *model) {
  const char *at = strstr(text, "%s");
  if (at == NULL) return xstrdup(text);
  return xasprintf("%.*s%s%s", (int)(at - text), text, model, at + 2);
}

/* A JSON string of s, which it frees. */
static json_t *owned_string(char *s) {
  json_t *j = json_string(s);
  free(s);
  return j;
}

static json_t *strings(const char *const *list, const char *model) {
  json_t *a = json_array();
  for (size_t i = 0; list[i]; i++) json_array_append_new(a, owned_string(with_model(list[i], model)));
  return a;
}

static json_t *labels_of(const json_t *isvc) {
  return json_pack("{s:s, s:s}", INFERENCE_LABEL, js_name(isvc), "app.kubernetes.io/managed-by", "cubit");
}


/* Cubit's variables first (unless the spec sets them), then the spec's. */
static json_t *container_env(const inference_predictor *p) {
  json_t *env = json_array();
  const char *vars[][2] = {{"MODEL_NAME", p->model_name},
                           {"MODEL_VERSION", p->model_version},
                           {"MODEL_DIR", p->source != INFERENCE_MODEL_NONE ? INFERENCE_MODEL_DIR : NULL},
                           {"STORAGE_URI", p->model_uri}};
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
    if (vars[i][1] && !(js_named(p->env, vars[i][0]) != NULL))
      json_array_append_new(env, json_pack("{s:s, s:s}", "name", vars[i][0], "value", vars[i][1]));
  size_t i;
  json_t *v;
  json_array_foreach(p->env, i, v) json_array_append(env, v);
  return env;
}

static json_t *container_ports(const inference_predictor *p) {
  json_t *ports = json_array();
  json_array_append_new(ports, json_pack("{s:s, s:i, s:s}", "name", "http", "containerPort", p->http, "protocol", "TCP"));
  if (p->grpc)
    json_array_append_new(ports, json_pack("{s:s, s:i, s:s}", "name", "grpc", "containerPort", p->grpc, "protocol", "TCP"));
  if (p->metrics && p->metrics != p->http && p->metrics != p->grpc)
    json_array_append_new(ports,
                          json_pack("{s:s, s:i, s:s}", "name", "metrics", "containerPort", p->metrics, "protocol", "TCP"));
  return ports;
}

static json_t *probe(const inference_predictor *p) {
  json_t *handler;
  if (p->health_path)
    handler = json_pack("{s:{s:o, s:s}}", "httpGet", "path", owned_string(with_model(p->health_path, p->model_name)),
                        "port", "http");
  else handler = json_pack("{s:{s:s}}", "tcpSocket", "port", "http");
  json_object_set_new(handler, "periodSeconds", json_integer(10));
  json_object_set_new(handler, "timeoutSeconds", json_integer(5));
  json_object_set_new(handler, "failureThreshold", json_integer(3));
  return handler;
}

/* Outside a project: the GPU-sharing system's resources and the model's
 * node selector, as the pod webhook writes them inside one. The spec parser
 * checked the grammar; a request the profile cannot place (an unknown model)
 * keeps only its annotation, and admission refuses it with the profile. */
static void translate_gpu(const inference_predictor *p, const inference_settings *cfg, json_t *c, json_t *pod_spec) {
  gpu_request req;
  gpu_translation t;
  char why[512];
  if (cfg->gpu == NULL || gpu_request_parse(p->gpu, &req, why, sizeof(why)) ||
      gpu_translate(cfg->gpu, &req, &t, why, sizeof(why)))
    return;
  json_t *limits = js_ensure_obj(c, "resources.limits"), *requests = js_ensure_obj(c, "resources.requests");
  for (size_t i = 0; i < t.nlimits; i++) {
    json_object_set_new(limits, t.limits[i].name, json_string(t.limits[i].value));
    json_object_set_new(requests, t.limits[i].name, json_string(t.limits[i].value));
  }
  if (t.node_selector_key[0])
    json_object_set_new(js_ensure_obj(pod_spec, "nodeSelector"), t.node_selector_key,
                        json_string(t.node_selector_value));
  if (t.visible_devices[0]) {
    json_t *env = json_object_get(c, "env");
    if (!json_is_array(env)) json_object_set_new(c, "env", env = json_array());
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "NVIDIA_VISIBLE_DEVICES", "value", t.visible_devices));
  }
}

json_t *inference_pod_template(const json_t *isvc, const inference_predictor *p, const inference_settings *cfg,
                               int in_project) {
  const inference_runtime_info *info = inference_runtime_get(p->runtime);
  json_t *c = json_pack("{s:s, s:s}", "name", INFERENCE_CONTAINER, "image", p->image);
  if (p->command) json_object_set(c, "command", (json_t *)p->command);
  else if (info->command[0]) json_object_set_new(c, "command", strings(info->command, p->model_name));
  if (p->args) json_object_set(c, "args", (json_t *)p->args);
  else if (info->args[0]) json_object_set_new(c, "args", strings(info->args, p->model_name));
  json_object_set_new(c, "ports", container_ports(p));
  json_t *env = container_env(p);
  if (json_array_size(env)) json_object_set_new(c, "env", env);
  else json_decref(env);
  if (p->cpu[0] || p->memory[0]) {
    json_t *amounts = json_object();
    if (p->cpu[0]) json_object_set_new(amounts, "cpu", json_string(p->cpu));
    if (p->memory[0]) json_object_set_new(amounts, "memory", json_string(p->memory));
    json_object_set_new(c, "resources", json_pack("{s:O, s:o}", "requests", amounts, "limits", amounts));
  }
  json_object_set_new(c, "readinessProbe", probe(p));

  json_t *volumes = json_array(), *mounts = json_array();
  json_t *spec = json_pack("{s:[o]}", "containers", c);
  if (p->source == INFERENCE_MODEL_PVC) {
    json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:b}}", "name", "cubit-model", "persistentVolumeClaim",
                                             "claimName", p->pvc_claim, "readOnly", 1));
    json_t *m = json_pack("{s:s, s:s, s:b}", "name", "cubit-model", "mountPath", INFERENCE_MODEL_DIR, "readOnly", 1);
    if (p->pvc_path && *p->pvc_path) json_object_set_new(m, "subPath", json_string(p->pvc_path));
    json_array_append_new(mounts, m);
  } else if (p->source == INFERENCE_MODEL_FETCH) {
    json_array_append_new(volumes, json_pack("{s:s, s:{}}", "name", "cubit-model", "emptyDir"));
    json_array_append_new(mounts,
                          json_pack("{s:s, s:s, s:b}", "name", "cubit-model", "mountPath", INFERENCE_MODEL_DIR, "readOnly", 1));
    /* The fetcher gets the spec's env: credentials (AWS_*, from Secrets) live there. */
    json_t *init = json_pack("{s:s, s:s, s:[s,s], s:[{s:s, s:s}], s:{s:{s:s, s:s}, s:{s:s, s:s}}}", "name",
                             "storage-initializer", "image", cfg->storage_initializer, "args", p->model_uri,
                             INFERENCE_MODEL_DIR, "volumeMounts", "name", "cubit-model", "mountPath",
                             INFERENCE_MODEL_DIR, "resources", "requests", "cpu", "100m", "memory", "100Mi", "limits",
                             "cpu", "1", "memory", "1Gi");
    if (json_array_size(p->env)) json_object_set_new(init, "env", json_deep_copy(p->env));
    json_object_set_new(spec, "initContainers", json_pack("[o]", init));
  }
  /* spec.volumes: each item is a pod volume plus where it is mounted. */
  size_t i;
  json_t *v;
  json_array_foreach(p->volumes, i, v) {
    json_t *vol = json_deep_copy(v);
    json_t *m = json_pack("{s:s, s:s}", "name", js_str(v, "name"), "mountPath", js_str(v, "mountPath"));
    if (js_str(v, "subPath")) json_object_set_new(m, "subPath", json_string(js_str(v, "subPath")));
    if (js_bool(v, "readOnly", 0)) json_object_set_new(m, "readOnly", json_true());
    json_object_del(vol, "mountPath");
    json_object_del(vol, "subPath");
    json_object_del(vol, "readOnly");
    json_array_append_new(volumes, vol);
    json_array_append_new(mounts, m);
  }
  if (json_array_size(mounts)) json_object_set_new(c, "volumeMounts", mounts);
  else json_decref(mounts);
  if (json_array_size(volumes)) json_object_set_new(spec, "volumes", volumes);
  else json_decref(volumes);
  if (json_object_size(p->node_selector)) json_object_set(spec, "nodeSelector", (json_t *)p->node_selector);
  if (json_array_size(p->tolerations)) json_object_set(spec, "tolerations", (json_t *)p->tolerations);
  if (p->gpu[0] && !in_project) translate_gpu(p, cfg, c, spec);

  json_t *labels = labels_of(isvc);
  if (p->model_version) json_object_set_new(labels, INFERENCE_MODEL_VERSION_LABEL, json_string(p->model_version));
  json_t *ann = json_object();
  /* The pod webhook translates the GPU grammar for the first container. */
  if (p->gpu[0]) json_object_set_new(ann, GPU_GRAMMAR_KEY, json_string(p->gpu));
  /* The creator, so the project's personal volume and per-member quota apply. */
  const char *user = json_string_value(json_object_get(js_get(isvc, "metadata.annotations"), CUBIT_ANNOTATION_USER));
  if (user) json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(user));
  char creator[64];
  if (user && cubit_label_value(user, creator, sizeof(creator)) == 0)
    json_object_set_new(labels, CUBIT_LABEL_CREATOR, json_string(creator));
  cubit_labels_inherit(labels, js_get(isvc, "metadata.labels"));
  if (p->metrics) {
    char port[8];
    snprintf(port, sizeof(port), "%d", p->metrics);
    json_object_set_new(ann, "prometheus.io/scrape", json_string("true"));
    json_object_set_new(ann, "prometheus.io/port", json_string(port));
    json_object_set_new(ann, "prometheus.io/path", json_string(info->metrics_path ? info->metrics_path : "/metrics"));
  }
  json_t *meta = json_pack("{s:o}", "labels", labels);
  if (json_object_size(ann)) json_object_set_new(meta, "annotations", ann);
  else json_decref(ann);
  json_t *tmpl = json_pack("{s:o, s:o}", "metadata", meta, "spec", spec);
  /* Merged before the revision's name is taken from the template: a changed
   * podTemplate is a new revision. */
  pt_merge(tmpl, p->pod_template);
  return tmpl;
}

void inference_revision_name(const json_t *isvc, const json_t *pod_template, char out[INFERENCE_REVISION_LEN]) {
  char hex[11];
  js_digest(pod_template, hex, 10);
  snprintf(out, INFERENCE_REVISION_LEN, "%s-%s", js_name(isvc), hex);
}

static json_t *child(const json_t *isvc, const char *api, const char *kind, const char *name) {
  json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}}", "apiVersion", api, "kind", kind, "metadata", "name", name,
                        "namespace", js_namespace(isvc), "labels", labels_of(isvc));
  rt_set_controller_ref(o, isvc);
  return o;
}

json_t *inference_desired_deployment(const json_t *isvc, const char *revision, const json_t *pod_template,
                                     int replicas) {
  json_t *d = child(isvc, "apps/v1", "Deployment", revision);
  json_object_set_new(js_get(d, "metadata.labels"), INFERENCE_REVISION_LABEL, json_string(revision));
  json_t *tmpl = json_deep_copy(pod_template);
  json_object_set_new(js_ensure_obj(tmpl, "metadata.labels"), INFERENCE_REVISION_LABEL, json_string(revision));
  /* The template never changes under a revision's name (the name is its
   * hash), so the Deployment never rolls: new pods mean a new revision. */
  json_object_set_new(d, "spec",
                      json_pack("{s:i, s:i, s:{s:{s:s, s:s}}, s:o}", "replicas", replicas, "revisionHistoryLimit", 1,
                                "selector", "matchLabels", INFERENCE_LABEL, js_name(isvc), INFERENCE_REVISION_LABEL,
                                revision, "template", tmpl));
  return d;
}

json_t *inference_desired_service(const json_t *isvc, const inference_spec *s, const char *name,
                                  const char *select_revision) {
  json_t *svc = child(isvc, "v1", "Service", name);
  json_t *selector = json_pack("{s:s}", INFERENCE_LABEL, js_name(isvc));
  if (select_revision) {
    json_object_set_new(selector, INFERENCE_REVISION_LABEL, json_string(select_revision));
    if (strcmp(name, js_name(isvc)) != 0)
      json_object_set_new(js_get(svc, "metadata.labels"), INFERENCE_REVISION_LABEL, json_string(select_revision));
  }
  /* Named ports: Istio reads the protocol from the name, and the target
   * follows each revision's own container port. */
  json_t *ports = json_pack("[{s:s, s:i, s:s, s:s}]", "name", "http", "port", 80, "targetPort", "http", "protocol", "TCP");
  if (s->stable.grpc || (s->has_canary && s->canary.grpc))
    json_array_append_new(ports, json_pack("{s:s, s:i, s:s, s:s}", "name", "grpc", "port",
                                           s->stable.grpc ? s->stable.grpc : s->canary.grpc, "targetPort", "grpc",
                                           "protocol", "TCP"));
  json_object_set_new(svc, "spec", json_pack("{s:s, s:o, s:o}", "type", "ClusterIP", "selector", selector, "ports", ports));
  return svc;
}

static json_t *metric_spec(const inference_metric *m) {
  switch (m->type) {
    case INFERENCE_METRIC_CPU:
    case INFERENCE_METRIC_MEMORY:
      return json_pack("{s:s, s:{s:s, s:{s:s, s:i}}}", "type", "Resource", "resource", "name",
                       m->type == INFERENCE_METRIC_CPU ? "cpu" : "memory", "target", "type", "Utilization",
                       "averageUtilization", m->target_utilization);
    case INFERENCE_METRIC_GPU: {
      char value[16];
      snprintf(value, sizeof(value), "%d", m->target_utilization);
      return json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:s}}}", "type", "Pods", "pods", "metric", "name", m->name,
                       "target", "type", "AverageValue", "averageValue", value);
    }
    case INFERENCE_METRIC_QPS:
      return json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:s}}}", "type", "Pods", "pods", "metric", "name", m->name,
                       "target", "type", "AverageValue", "averageValue", m->target_value);
  }
  return json_null();
}

json_t *inference_desired_hpa(const json_t *isvc, const inference_spec *s, const char *target_revision, int floor) {
  json_t *hpa = child(isvc, "autoscaling/v2", "HorizontalPodAutoscaler", js_name(isvc));
  json_t *spec = json_pack("{s:{s:s, s:s, s:s}, s:i, s:i}", "scaleTargetRef", "apiVersion", "apps/v1", "kind",
                           "Deployment", "name", target_revision, "minReplicas", floor, "maxReplicas",
                           s->stable.max_replicas);
  if (s->nmetrics) {
    json_t *metrics = json_array();
    for (size_t i = 0; i < s->nmetrics; i++) json_array_append_new(metrics, metric_spec(&s->metrics[i]));
    json_object_set_new(spec, "metrics", metrics);
  }
  if (s->behavior) json_object_set(spec, "behavior", (json_t *)s->behavior);
  json_object_set_new(hpa, "spec", spec);
  return hpa;
}

static char *service_host(const json_t *isvc, const inference_settings *cfg) {
  return xasprintf("%s.%s.svc.%s", js_name(isvc), js_namespace(isvc), cfg->cluster_domain);
}

json_t *inference_desired_destination_rule(const json_t *isvc, const inference_settings *cfg,
                                           char revisions[][INFERENCE_REVISION_LEN], size_t n) {
  json_t *dr = child(isvc, "networking.istio.io/v1beta1", "DestinationRule", js_name(isvc));
  json_t *subsets = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(subsets, json_pack("{s:s, s:{s:s}}", "name", revisions[i], "labels",
                                             INFERENCE_REVISION_LABEL, revisions[i]));
  json_object_set_new(dr, "spec", json_pack("{s:o, s:o}", "host", owned_string(service_host(isvc, cfg)), "subsets", subsets));
  return dr;
}

/* One HTTP route: the weighted destinations, the mirror, timeout, retries. */
static json_t *http_route(const char *name, const json_t *isvc, const inference_spec *s,
                          const inference_settings *cfg, const inference_route *routes, size_t nroutes,
                          const char *mirror_revision) {
  char *host = service_host(isvc, cfg);
  json_t *r = json_pack("{s:s}", "name", name);
  json_t *dests = json_array();
  for (size_t i = 0; i < nroutes; i++)
    json_array_append_new(dests, json_pack("{s:{s:s, s:s, s:{s:i}}, s:i}", "destination", "host", host, "subset",
                                           routes[i].revision, "port", "number", 80, "weight", routes[i].weight));
  json_object_set_new(r, "route", dests);
  json_t *mirror = NULL;
  if (s->mirror && s->mirror_service) {
    char *mhost = strchr(s->mirror_service, '.')
                      ? xstrdup(s->mirror_service)
                      : xasprintf("%s.%s.svc.%s", s->mirror_service, js_namespace(isvc), cfg->cluster_domain);
    mirror = json_pack("{s:o}", "host", owned_string(mhost));
    if (s->mirror_port) json_object_set_new(mirror, "port", json_pack("{s:i}", "number", s->mirror_port));
  } else if (s->mirror && mirror_revision) {
    mirror = json_pack("{s:s, s:s, s:{s:i}}", "host", host, "subset", mirror_revision, "port", "number", 80);
  }
  if (mirror) {
    json_object_set_new(r, "mirror", mirror);
    /* Whole percents: the API server stores the double as an integer. */
    json_object_set_new(r, "mirrorPercentage", json_pack("{s:i}", "value", s->mirror_percent));
  }
  if (s->timeout_s) json_object_set_new(r, "timeout", owned_string(xasprintf("%ds", s->timeout_s)));
  if (s->retries) {
    json_t *retries = json_pack("{s:i, s:s}", "attempts", s->retries, "retryOn", "5xx,connect-failure,reset");
    if (s->timeout_s) json_object_set_new(retries, "perTryTimeout", owned_string(xasprintf("%ds", s->timeout_s)));
    json_object_set_new(r, "retries", retries);
  }
  free(host);
  return r;
}

json_t *inference_desired_virtual_service(const json_t *isvc, const inference_spec *s,
                                          const inference_settings *cfg, const inference_route *routes,
                                          size_t nroutes, const char *mirror_revision) {
  json_t *vs = child(isvc, "networking.istio.io/v1beta1", "VirtualService", js_name(isvc));
  json_t *hosts = json_array();
  json_array_append_new(hosts, owned_string(service_host(isvc, cfg)));
  size_t i;
  json_t *h;
  json_array_foreach(s->hosts, i, h) json_array_append(hosts, h);
  json_t *spec = json_pack("{s:o}", "hosts", hosts);
  if (s->gateway) json_object_set_new(spec, "gateways", json_pack("[s,s]", s->gateway, "mesh"));
  /* The path prefix (the URL of status.url), rewritten to the server's
   * root; and every other path for callers inside the mesh. */
  json_t *prefixed = http_route("prefix", isvc, s, cfg, routes, nroutes, mirror_revision);
  json_object_set_new(prefixed, "match", json_pack("[{s:{s:s}}]", "uri", "prefix", s->path_prefix));
  json_object_set_new(prefixed, "rewrite", json_pack("{s:s}", "uri", "/"));
  json_t *direct = http_route("direct", isvc, s, cfg, routes, nroutes, mirror_revision);
  if (s->gateway) json_object_set_new(direct, "match", json_pack("[{s:[s]}]", "gateways", "mesh"));
  json_object_set_new(spec, "http", json_pack("[o,o]", prefixed, direct));
  json_object_set_new(vs, "spec", spec);
  return vs;
}

/* --------------------------------------------------------- the routes */

void inference_revision_state_of(const json_t *d, const char *revision, inference_revision_state *out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", revision);
  if (d == NULL) return;
  out->exists = 1;
  out->replicas = (int)js_int(d, "spec.replicas", 1);
  out->ready_replicas = (int)js_int(d, "status.readyReplicas", 0);
  out->available_replicas = (int)js_int(d, "status.availableReplicas", 0);
  json_int_t updated = js_int(d, "status.updatedReplicas", 0);
  out->available = out->available_replicas >= 1;
  out->rolled_out = js_int(d, "status.observedGeneration", 0) >= js_int(d, "metadata.generation", 1) &&
                    out->available_replicas >= (out->replicas > 0 ? out->replicas : 1) && updated >= out->replicas;
}

static void keep(inference_route_plan *out, const char *rev) {
  for (size_t i = 0; i < out->nkeep; i++)
    if (strcmp(out->keep[i], rev) == 0) return;
  if (out->nkeep < 3) snprintf(out->keep[out->nkeep++], INFERENCE_REVISION_LEN, "%s", rev);
}

void inference_plan_routes(const inference_route_input *in, inference_route_plan *out) {
  memset(out, 0, sizeof(*out));
  const char *stable = in->stable.name, *role = "stable";
  keep(out, in->stable.name);
  int has_canary = in->has_canary && strcmp(in->canary.name, in->stable.name) != 0;
  if (has_canary) keep(out, in->canary.name);
  if (!in->stable.rolled_out) {
    /* Until the new stable revision is rolled out, the revision that serves
     * the stable share now keeps it: a new template never opens a gap. */
    for (size_t i = 0; i < in->nserving; i++) {
      const inference_revision_state *st = &in->serving_state[i];
      const char *rev = in->serving[i].revision;
      if (strcmp(rev, in->stable.name) == 0 || (has_canary && strcmp(rev, in->canary.name) == 0)) continue;
      if (!st->exists || !st->available) continue;
      stable = rev;
      role = "previous";
      keep(out, rev);
      break;
    }
  }
  snprintf(out->serving_stable, sizeof(out->serving_stable), "%s", stable);
  int canary_ready = has_canary && in->canary.rolled_out;
  snprintf(out->routes[0].revision, INFERENCE_REVISION_LEN, "%s", stable);
  out->routes[0].role = role;
  out->routes[0].weight = 100;
  out->nroutes = 1;
  if (canary_ready) {
    out->routes[0].weight = 100 - in->canary_percent;
    snprintf(out->routes[1].revision, INFERENCE_REVISION_LEN, "%s", in->canary.name);
    out->routes[1].role = "canary";
    out->routes[1].weight = in->canary_percent;
    out->nroutes = 2;
    out->canary_routed = 1;
  }
}
