#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/notebook/notebook.h"
#include "api/podtemplate/podtemplate.h"
#include "util/json.h"
#include "util/quantity.h"

const kube_resource notebook_resource = {"cubit.dev", "v1alpha1", "notebooks", "Notebook", 1};

static const char *ide_names[NB_IDE_COUNT] = {"jupyter", "vscode", "rstudio"};

const char *notebook_ide_name(notebook_ide ide) {
  return ide >= 0 && ide < NB_IDE_COUNT ? ide_names[ide] : "unknown";
}

void notebook_base_path(const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]) {
  snprintf(out, NOTEBOOK_PATH_LEN, "/notebook/%s/%s/", ns ? ns : "", name ? name : "");
}

void notebook_probe_path(const notebook_spec *spec, const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]) {
  notebook_probe_type t = spec->probe;
  if (t == NB_PROBE_AUTO)
    t = spec->ide == NB_IDE_JUPYTER ? NB_PROBE_JUPYTER : spec->ide == NB_IDE_VSCODE ? NB_PROBE_CODE_SERVER
                                                                                    : NB_PROBE_RSTUDIO;
  switch (t) {
    case NB_PROBE_JUPYTER: {
      /* Jupyter serves everything under its base URL. */
      char base[NOTEBOOK_PATH_LEN];
      notebook_base_path(ns, name, base);
      snprintf(out, NOTEBOOK_PATH_LEN, "%.240sapi/status", base);
      break;
    }
    case NB_PROBE_CODE_SERVER: snprintf(out, NOTEBOOK_PATH_LEN, "/healthz"); break;
    case NB_PROBE_RSTUDIO: snprintf(out, NOTEBOOK_PATH_LEN, "/health-check"); break;
    default: snprintf(out, NOTEBOOK_PATH_LEN, "%s", spec->probe_path); break;
  }
}

/* ------------------------------------------------------------------ spec */

/* A quantity written as a string or an integer, in canonical form. */
static int canonical_quantity(const json_t *v, const char *field, int positive, char *out, size_t outlen, char *err,
                              size_t errlen) {
  char text[64];
  if (json_is_string(v)) snprintf(text, sizeof(text), "%s", json_string_value(v));
  else if (json_is_integer(v)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
  else {
    snprintf(err, errlen, "%s: want a quantity such as \"2\", \"500m\" or \"4Gi\"", field);
    return CUBIT_EINVAL;
  }
  quantity q;
  char why[128] = "";
  if (quantity_parse_err(text, &q, why, sizeof(why))) {
    snprintf(err, errlen, "%s: \"%s\" is not a quantity (%s)", field, text, why);
    return CUBIT_EINVAL;
  }
  quantity zero = quantity_from_int(0, q.format);
  if (positive && quantity_cmp(&q, &zero) <= 0) {
    snprintf(err, errlen, "%s: want more than 0, got \"%s\"", field, text);
    return CUBIT_EINVAL;
  }
  char s[QUANTITY_STRLEN];
  quantity_string(&q, s);
  if (strlen(s) >= outlen) {
    snprintf(err, errlen, "%s: \"%s\" is too long", field, text);
    return CUBIT_EINVAL;
  }
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

static int absolute_path(const char *p) {
  return p && p[0] == '/' && strstr(p, "..") == NULL;
}

/* An integer field in [min, max], or def when absent. */
static int int_field(const json_t *obj, const char *key, const char *field, int64_t min, int64_t max, int64_t def,
                     int64_t *out, char *err, size_t errlen) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) {
    *out = def;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
    snprintf(err, errlen, "%s: want an integer from %lld to %lld", field, (long long)min, (long long)max);
    return CUBIT_EINVAL;
  }
  *out = json_integer_value(v);
  return 0;
}

static int parse_resources(const json_t *res, notebook_spec *out, char *err, size_t errlen) {
  json_t *v;
  if ((v = json_object_get(res, "cpu")) &&
      canonical_quantity(v, "spec.resources.cpu", 1, out->cpu, sizeof(out->cpu), err, errlen))
    return CUBIT_EINVAL;
  if ((v = json_object_get(res, "memory")) &&
      canonical_quantity(v, "spec.resources.memory", 1, out->memory, sizeof(out->memory), err, errlen))
    return CUBIT_EINVAL;
  if ((v = json_object_get(res, "gpu"))) {
    char text[GPU_REQUEST_STRLEN];
    if (json_is_string(v)) snprintf(text, sizeof(text), "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
    else {
      snprintf(err, errlen, "spec.resources.gpu: want a GPU request such as \"1\", \"0.5\" or \"2(A100)\"");
      return CUBIT_EINVAL;
    }
    gpu_request req;
    char why[256];
    if (gpu_request_parse(text, &req, why, sizeof(why))) {
      snprintf(err, errlen, "spec.resources.gpu: %s", why);
      return CUBIT_EINVAL;
    }
    if (req.milli_cards > 0 || req.shared) gpu_request_format(&req, out->gpu);
  }
  return 0;
}

static int parse_volumes(const json_t *vols, notebook_spec *out, char *err, size_t errlen) {
  json_t *ws = json_object_get(vols, "workspace");
  out->workspace = js_bool(ws, "enabled", 1);
  snprintf(out->workspace_size, sizeof(out->workspace_size), "10Gi");
  json_t *v;
  if ((v = json_object_get(ws, "size")) &&
      canonical_quantity(v, "spec.volumes.workspace.size", 1, out->workspace_size, sizeof(out->workspace_size), err,
                         errlen))
    return CUBIT_EINVAL;
  out->workspace_class = js_str(ws, "storageClassName");
  out->workspace_mount = js_str(ws, "mountPath");
  if (out->workspace_mount && !absolute_path(out->workspace_mount)) {
    snprintf(err, errlen, "spec.volumes.workspace.mountPath: want an absolute path without \"..\", got \"%s\"",
             out->workspace_mount);
    return CUBIT_EINVAL;
  }
  size_t i;
  json_array_foreach(json_object_get(vols, "claims"), i, v) {
    if (out->nclaims == NOTEBOOK_MAX_VOLUMES) {
      snprintf(err, errlen, "spec.volumes.claims: at most %d claims", NOTEBOOK_MAX_VOLUMES);
      return CUBIT_EINVAL;
    }
    notebook_claim *c = &out->claims[out->nclaims];
    c->claim = js_str(v, "claimName");
    c->mount_path = js_str(v, "mountPath");
    c->sub_path = js_str(v, "subPath");
    c->read_only = js_bool(v, "readOnly", 0);
    if (c->claim == NULL || *c->claim == '\0') {
      snprintf(err, errlen, "spec.volumes.claims[%zu].claimName: required", i);
      return CUBIT_EINVAL;
    }
    if (!absolute_path(c->mount_path)) {
      snprintf(err, errlen, "spec.volumes.claims[%zu].mountPath: want an absolute path without \"..\"", i);
      return CUBIT_EINVAL;
    }
    if (c->sub_path && (c->sub_path[0] == '/' || strstr(c->sub_path, ".."))) {
      snprintf(err, errlen, "spec.volumes.claims[%zu].subPath: want a relative path without \"..\"", i);
      return CUBIT_EINVAL;
    }
    for (size_t k = 0; k < out->nclaims; k++)
      if (strcmp(out->claims[k].mount_path, c->mount_path) == 0) {
        snprintf(err, errlen, "spec.volumes.claims[%zu].mountPath: %s is mounted twice", i, c->mount_path);
        return CUBIT_EINVAL;
      }
    out->nclaims++;
  }
  return 0;
}

static int parse_culling(const json_t *c, notebook_spec *out, char *err, size_t errlen) {
  out->culling = 1;
  if (int_field(c, "idleSeconds", "spec.culling.idleSeconds", 1, 365LL * 86400, 0, &out->idle_seconds, err, errlen))
    return CUBIT_EINVAL;
  if (out->idle_seconds == 0) {
    snprintf(err, errlen, "spec.culling.idleSeconds: required");
    return CUBIT_EINVAL;
  }
  json_t *probe = json_object_get(c, "probe");
  const char *type = js_str(probe, "type");
  static const char *types[] = {"auto", "jupyter", "code-server", "rstudio", "http"};
  out->probe = NB_PROBE_AUTO;
  if (type) {
    size_t t = 0;
    while (t < sizeof(types) / sizeof(types[0]) && strcmp(types[t], type) != 0) t++;
    if (t == sizeof(types) / sizeof(types[0])) {
      snprintf(err, errlen, "spec.culling.probe.type: want auto, jupyter, code-server, rstudio or http, got \"%s\"",
               type);
      return CUBIT_EINVAL;
    }
    out->probe = (notebook_probe_type)t;
  }
  const char *path = js_str(probe, "path");
  if (out->probe == NB_PROBE_HTTP) {
    if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(out->probe_path) ||
        strpbrk(path, " \t\r\n#") != NULL) {
      snprintf(err, errlen, "spec.culling.probe.path: type http needs a path starting with \"/\" (no spaces)");
      return CUBIT_EINVAL;
    }
    snprintf(out->probe_path, sizeof(out->probe_path), "%s", path);
  } else if (path) {
    snprintf(err, errlen, "spec.culling.probe.path: only for type http (type %s reads its own endpoint)",
             type ? type : "auto");
    return CUBIT_EINVAL;
  }
  int64_t port;
  if (int_field(probe, "port", "spec.culling.probe.port", 1, 65535, NOTEBOOK_PORT, &port, err, errlen) ||
      int_field(probe, "periodSeconds", "spec.culling.probe.periodSeconds", 1, 86400, 0, &out->probe_period_s, err,
                errlen) ||
      int_field(probe, "timeoutSeconds", "spec.culling.probe.timeoutSeconds", 1, 60, 0, &out->probe_timeout_s, err,
                errlen))
    return CUBIT_EINVAL;
  out->probe_port = (int)port;
  return 0;
}

static int parse_lease(const json_t *l, notebook_spec *out, char *err, size_t errlen) {
  out->lease = 1;
  if (int_field(l, "ttlSeconds", "spec.lease.ttlSeconds", 1, 10LL * 365 * 86400, 0, &out->lease_ttl_s, err, errlen))
    return CUBIT_EINVAL;
  if (out->lease_ttl_s == 0) {
    snprintf(err, errlen, "spec.lease.ttlSeconds: required");
    return CUBIT_EINVAL;
  }
  if (int_field(l, "warningSeconds", "spec.lease.warningSeconds", 0, out->lease_ttl_s - 1, out->lease_ttl_s / 10,
                &out->lease_warning_s, err, errlen)) {
    snprintf(err, errlen, "spec.lease.warningSeconds: want an integer from 0 to ttlSeconds-1 (%lld)",
             (long long)out->lease_ttl_s - 1);
    return CUBIT_EINVAL;
  }
  return 0;
}

int notebook_spec_parse(const json_t *nb, notebook_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->probe_port = NOTEBOOK_PORT;
  json_t *spec = json_object_get(nb, "spec");
  if (!json_is_object(spec)) {
    snprintf(err, errlen, "spec: required");
    return CUBIT_EINVAL;
  }
  const char *ide = js_str(spec, "ide");
  int found = 0;
  for (int i = 0; ide && i < NB_IDE_COUNT; i++)
    if (strcmp(ide, ide_names[i]) == 0) {
      out->ide = (notebook_ide)i;
      found = 1;
    }
  if (!found) {
    snprintf(err, errlen, "spec.ide: want jupyter, vscode or rstudio, got \"%s\"", ide ? ide : "");
    return CUBIT_EINVAL;
  }
  out->image = js_str(spec, "image");
  if (json_object_get(spec, "image") && (out->image == NULL || *out->image == '\0' || strchr(out->image, ' '))) {
    snprintf(err, errlen, "spec.image: want an image reference");
    return CUBIT_EINVAL;
  }
  if (parse_resources(json_object_get(spec, "resources"), out, err, errlen) ||
      parse_volumes(json_object_get(spec, "volumes"), out, err, errlen))
    return CUBIT_EINVAL;
  out->env = json_object_get(spec, "env");
  size_t i, k;
  json_t *e, *f;
  json_array_foreach(out->env, i, e) {
    const char *name = js_str(e, "name");
    if (name == NULL || *name == '\0') {
      snprintf(err, errlen, "spec.env[%zu].name: required", i);
      return CUBIT_EINVAL;
    }
    json_array_foreach(out->env, k, f) {
      if (k >= i) break;
      if (strcmp(js_str(f, "name") ? js_str(f, "name") : "", name) == 0) {
        snprintf(err, errlen, "spec.env[%zu].name: %s is set twice", i, name);
        return CUBIT_EINVAL;
      }
    }
  }
  out->node_selector = json_object_get(spec, "nodeSelector");
  const char *key;
  json_object_foreach((json_t *)out->node_selector, key, e) {
    if (!json_is_string(e)) {
      snprintf(err, errlen, "spec.nodeSelector.%s: want a string", key);
      return CUBIT_EINVAL;
    }
  }
  out->tolerations = json_object_get(spec, "tolerations");
  out->pod_template = json_object_get(spec, "podTemplate");
  if (pt_validate(out->pod_template, "spec.podTemplate", NOTEBOOK_CONTAINER, err, errlen)) return CUBIT_EINVAL;
  out->stopped = js_bool(spec, "stopped", 0);
  json_t *c = json_object_get(spec, "culling");
  if (c && !json_is_null(c) && parse_culling(c, out, err, errlen)) return CUBIT_EINVAL;
  json_t *l = json_object_get(spec, "lease");
  if (l && !json_is_null(l) && parse_lease(l, out, err, errlen)) return CUBIT_EINVAL;
  if (placement_spec_parse(spec, &out->place, err, errlen)) return CUBIT_EINVAL;
  if (out->place.reschedule_on_loss) {
    snprintf(err, errlen, "spec.placement.rescheduleOnClusterLoss: a Notebook is never placed again: its workspace "
             "lives in the cluster it was placed on");
    return CUBIT_EINVAL;
  }
  return 0;
}

void nb_demand_of(const notebook_spec *spec, placement_demand *d) {
  memset(d, 0, sizeof(*d));
  json_t *res = json_object();
  if (spec->cpu[0]) json_object_set_new(res, "cpu", json_string(spec->cpu));
  if (spec->memory[0]) json_object_set_new(res, "memory", json_string(spec->memory));
  if (spec->gpu[0]) json_object_set_new(res, "gpu", json_string(spec->gpu));
  placement_demand_add(d, res, 1);
  json_decref(res);
}
