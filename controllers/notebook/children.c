/* The desired children of a Notebook, as JSON for server-side apply. Pure
 * functions of (notebook, parsed spec, settings): the golden files of
 * test/unit/fixtures/notebook/ hold what they give for each IDE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/notebook/notebook.h"
#include "runtime/apply.h"
#include "util/alloc.h"
#include "util/json.h"
#include "api/labels.h"
#include "api/podtemplate/podtemplate.h"

/* What differs between the IDEs: how each serves under the base URL, where
 * its user's home is, which group owns the files, how readiness is read,
 * and whether the route must strip the base URL (servers that only know
 * "/") before the request reaches the pod. */
typedef struct ide_traits {
  const char *home;
  int fs_group;
  int strip_prefix;
} ide_traits;

static const ide_traits traits[NB_IDE_COUNT] = {
    [NB_IDE_JUPYTER] = {"/home/jovyan", 100, 0},
    [NB_IDE_VSCODE] = {"/home/coder", 1000, 1},
    [NB_IDE_RSTUDIO] = {"/home/rstudio", 1000, 1},
};

static json_t *labels_of(const json_t *nb) {
  return json_pack("{s:s, s:s}", NOTEBOOK_LABEL, js_name(nb), "app.kubernetes.io/managed-by", "cubit");
}

static json_t *child(const json_t *nb, const char *api_version, const char *kind, const char *name) {
  json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}}", "apiVersion", api_version, "kind", kind, "metadata", "name",
                        name, "namespace", js_namespace(nb), "labels", labels_of(nb));
  rt_set_controller_ref(o, nb);
  return o;
}

static char *workspace_claim(const json_t *nb) {
  return xasprintf("%s-workspace", js_name(nb));
}

json_t *notebook_desired_pvc(const json_t *nb, const notebook_spec *spec) {
  if (!spec->workspace) return NULL;
  char *name = workspace_claim(nb);
  json_t *pvc = child(nb, "v1", "PersistentVolumeClaim", name);
  free(name);
  json_t *s = json_pack("{s:[s], s:{s:{s:s}}}", "accessModes", "ReadWriteOnce", "resources", "requests", "storage",
                        spec->workspace_size);
  if (spec->workspace_class) json_object_set_new(s, "storageClassName", json_string(spec->workspace_class));
  json_object_set_new(pvc, "spec", s);
  return pvc;
}

json_t *notebook_desired_service(const json_t *nb, const notebook_spec *spec) {
  json_t *svc = child(nb, "v1", "Service", js_name(nb));
  json_object_set_new(svc, "spec",
                      json_pack("{s:{s:s}, s:[{s:s, s:i, s:i, s:s}]}", "selector", NOTEBOOK_LABEL, js_name(nb), "ports",
                                "name", "http-notebook", "port", NOTEBOOK_SERVICE_PORT, "targetPort", NOTEBOOK_PORT,
                                "protocol", "TCP"));
  return svc;
}

/* ------------------------------------------------------------ the pod */

static json_t *strings(const char *const *v) {
  json_t *a = json_array();
  for (; *v; v++) json_array_append_new(a, json_string(*v));
  return a;
}

/* The container's command under the base URL 'base' ("/notebook/ns/name/"). */
static void ide_command(const notebook_spec *spec, const char *base, json_t *c) {
  char port[16];
  snprintf(port, sizeof(port), "%d", NOTEBOOK_PORT);
  switch (spec->ide) {
    case NB_IDE_JUPYTER: {
      char *base_url = xasprintf("--ServerApp.base_url=%s", base);
      char *port_arg = xasprintf("--ServerApp.port=%s", port);
      char *root = xasprintf("--ServerApp.root_dir=%s", spec->workspace_mount ? spec->workspace_mount
                                                                               : traits[NB_IDE_JUPYTER].home);
      /* Authentication belongs to the gateway in front (as in Kubeflow):
       * the server itself asks for no token. */
      const char *args[] = {"--ServerApp.ip=0.0.0.0", port_arg, base_url, root, "--IdentityProvider.token=",
                            "--ServerApp.password=", "--ServerApp.allow_origin=*", "--ServerApp.open_browser=False",
                            NULL};
      json_object_set_new(c, "command", json_pack("[s, s]", "jupyter", "lab"));
      json_object_set_new(c, "args", strings(args));
      free(base_url);
      free(port_arg);
      free(root);
      break;
    }
    case NB_IDE_VSCODE: {
      /* The route strips the base URL; code-server is told it for the
       * absolute URLs it writes. */
      char *bind = xasprintf("0.0.0.0:%s", port);
      char *abs_base = xstrndup(base, strlen(base) - 1);
      const char *args[] = {"--bind-addr", bind, "--auth", "none", "--disable-telemetry", "--abs-proxy-base-path",
                            abs_base, spec->workspace_mount ? spec->workspace_mount : traits[NB_IDE_VSCODE].home,
                            NULL};
      json_object_set_new(c, "command", json_pack("[s]", "code-server"));
      json_object_set_new(c, "args", strings(args));
      free(bind);
      free(abs_base);
      break;
    }
    case NB_IDE_RSTUDIO: {
      /* rocker's images start rserver under s6 (/init) from
       * /etc/rstudio/rserver.conf: the port and the proxy's path prefix go
       * there; DISABLE_AUTH turns the login off (the gateway authenticates). */
      char *script = xasprintf("printf 'www-port=%s\\nwww-root-path=%s\\n' >> /etc/rstudio/rserver.conf && exec /init",
                               port, base);
      json_object_set_new(c, "command", json_pack("[s, s, s]", "/bin/sh", "-c", script));
      free(script);
      break;
    }
    default:
      break;
  }
}

static json_t *ide_readiness(const notebook_spec *spec, const char *base) {
  json_t *probe;
  if (spec->ide == NB_IDE_JUPYTER) {
    char *path = xasprintf("%sapi", base);
    probe = json_pack("{s:{s:s, s:i}}", "httpGet", "path", path, "port", NOTEBOOK_PORT);
    free(path);
  } else if (spec->ide == NB_IDE_VSCODE) {
    probe = json_pack("{s:{s:s, s:i}}", "httpGet", "path", "/healthz", "port", NOTEBOOK_PORT);
  } else {
    probe = json_pack("{s:{s:i}}", "tcpSocket", "port", NOTEBOOK_PORT);
  }
  json_object_set_new(probe, "periodSeconds", json_integer(5));
  json_object_set_new(probe, "failureThreshold", json_integer(3));
  return probe;
}


/* Outside a project's namespaces no webhook translates the GPU grammar, so
 * the controller writes the vendor resources itself. */
static int translate_gpu(const notebook_spec *spec, const notebook_config *cfg, json_t *container, json_t *pod_spec,
                         char *err, size_t errlen) {
  gpu_request req;
  gpu_translation t;
  char why[512];
  if (gpu_request_parse(spec->gpu, &req, why, sizeof(why)) || gpu_translate(cfg->gpu, &req, &t, why, sizeof(why))) {
    snprintf(err, errlen, "spec.resources.gpu: %s", why);
    return CUBIT_EINVAL;
  }
  json_t *limits = js_ensure_obj(container, "resources.limits");
  json_t *requests = js_ensure_obj(container, "resources.requests");
  for (size_t i = 0; i < t.nlimits; i++) {
    json_object_set_new(limits, t.limits[i].name, json_string(t.limits[i].value));
    json_object_set_new(requests, t.limits[i].name, json_string(t.limits[i].value));
  }
  if (t.node_selector_key[0])
    json_object_set_new(js_ensure_obj(pod_spec, "nodeSelector"), t.node_selector_key,
                        json_string(t.node_selector_value));
  if (t.visible_devices[0])
    json_array_append_new(json_object_get(container, "env"),
                          json_pack("{s:s, s:s}", "name", "NVIDIA_VISIBLE_DEVICES", "value", t.visible_devices));
  return 0;
}

json_t *notebook_desired_statefulset(const json_t *nb, const notebook_spec *spec, const notebook_config *cfg,
                                     int in_project, char *err, size_t errlen) {
  const char *name = js_name(nb);
  const ide_traits *tr = &traits[spec->ide];
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(js_namespace(nb), name, base);
  const char *home = spec->workspace_mount ? spec->workspace_mount : tr->home;

  json_t *c = json_pack("{s:s, s:s, s:[{s:s, s:i, s:s}]}", "name", NOTEBOOK_CONTAINER, "image",
                        spec->image ? spec->image : cfg->images[spec->ide], "ports", "name", "notebook-port",
                        "containerPort", NOTEBOOK_PORT, "protocol", "TCP");
  ide_command(spec, base, c);
  json_t *env = json_array();
  if (!(js_named(spec->env, "NB_PREFIX") != NULL)) /* Kubeflow's images read their base URL here */
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "NB_PREFIX", "value", base));
  if (spec->ide == NB_IDE_RSTUDIO && !(js_named(spec->env, "DISABLE_AUTH") != NULL))
    json_array_append_new(env, json_pack("{s:s, s:s}", "name", "DISABLE_AUTH", "value", "true"));
  size_t i;
  json_t *e;
  json_array_foreach(spec->env, i, e) json_array_append(env, e);
  json_object_set_new(c, "env", env);
  /* Requests as asked; memory is also the limit (a notebook over it is
   * OOM-killed rather than starving its node), CPU may burst. */
  json_t *requests = json_object(), *limits = json_object();
  if (spec->cpu[0]) json_object_set_new(requests, "cpu", json_string(spec->cpu));
  if (spec->memory[0]) {
    json_object_set_new(requests, "memory", json_string(spec->memory));
    json_object_set_new(limits, "memory", json_string(spec->memory));
  }
  json_t *resources = json_object();
  if (json_object_size(requests)) json_object_set_new(resources, "requests", requests);
  else json_decref(requests);
  if (json_object_size(limits)) json_object_set_new(resources, "limits", limits);
  else json_decref(limits);
  if (json_object_size(resources)) json_object_set_new(c, "resources", resources);
  else json_decref(resources);
  json_object_set_new(c, "readinessProbe", ide_readiness(spec, base));
  json_object_set_new(c, "livenessProbe",
                      json_pack("{s:{s:i}, s:i, s:i, s:i}", "tcpSocket", "port", NOTEBOOK_PORT, "initialDelaySeconds",
                                10, "periodSeconds", 10, "failureThreshold", 6));

  json_t *mounts = json_array(), *volumes = json_array();
  if (spec->workspace) {
    char *claim = workspace_claim(nb);
    json_array_append_new(mounts, json_pack("{s:s, s:s}", "name", "workspace", "mountPath", home));
    json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", "workspace", "persistentVolumeClaim",
                                             "claimName", claim));
    free(claim);
  }
  for (i = 0; i < spec->nclaims; i++) {
    const notebook_claim *cl = &spec->claims[i];
    char vname[32];
    snprintf(vname, sizeof(vname), "claim-%zu", i);
    json_t *m = json_pack("{s:s, s:s}", "name", vname, "mountPath", cl->mount_path);
    if (cl->sub_path) json_object_set_new(m, "subPath", json_string(cl->sub_path));
    if (cl->read_only) json_object_set_new(m, "readOnly", json_true());
    json_array_append_new(mounts, m);
    json_t *v = json_pack("{s:s, s:{s:s}}", "name", vname, "persistentVolumeClaim", "claimName", cl->claim);
    if (cl->read_only) json_object_set_new(json_object_get(v, "persistentVolumeClaim"), "readOnly", json_true());
    json_array_append_new(volumes, v);
  }
  /* Data loaders share tensors through /dev/shm, which a container gets at
   * 64 MiB otherwise. */
  json_array_append_new(mounts, json_pack("{s:s, s:s}", "name", "dshm", "mountPath", "/dev/shm"));
  json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", "dshm", "emptyDir", "medium", "Memory"));
  json_object_set_new(c, "volumeMounts", mounts);

  json_t *pod_spec = json_pack("{s:{s:i}, s:[o], s:o}", "securityContext", "fsGroup", tr->fs_group, "containers", c,
                               "volumes", volumes);
  if (json_object_size(spec->node_selector))
    json_object_set_new(pod_spec, "nodeSelector", json_deep_copy(spec->node_selector));
  if (json_array_size(spec->tolerations))
    json_object_set_new(pod_spec, "tolerations", json_deep_copy(spec->tolerations));

  json_t *pod_labels = labels_of(nb);
  json_t *pod_ann = json_object();
  /* The creator (recorded by the workload webhook) gives the pod its
   * personal volume and counts it against the member's quota. */
  const char *user = json_string_value(json_object_get(js_get(nb, "metadata.annotations"), CUBIT_ANNOTATION_USER));
  if (user) json_object_set_new(pod_ann, CUBIT_ANNOTATION_USER, json_string(user));
  char creator[64];
  if (user && cubit_label_value(user, creator, sizeof(creator)) == 0)
    json_object_set_new(pod_labels, CUBIT_LABEL_CREATOR, json_string(creator));
  cubit_labels_inherit(pod_labels, js_get(nb, "metadata.labels"));
  if (spec->gpu[0]) {
    json_object_set_new(pod_ann, GPU_GRAMMAR_KEY, json_string(spec->gpu));
    if (!in_project && translate_gpu(spec, cfg, c, pod_spec, err, errlen)) {
      json_decref(pod_spec);
      json_decref(pod_labels);
      json_decref(pod_ann);
      return NULL;
    }
  }
  json_t *tmpl = json_pack("{s:{s:o}, s:o}", "metadata", "labels", pod_labels, "spec", pod_spec);
  if (json_object_size(pod_ann)) json_object_set_new(json_object_get(tmpl, "metadata"), "annotations", pod_ann);
  else json_decref(pod_ann);
  pt_merge(tmpl, spec->pod_template);

  json_t *sts = child(nb, "apps/v1", "StatefulSet", name);
  json_object_set_new(sts, "spec",
                      json_pack("{s:i, s:s, s:{s:{s:s}}, s:o}", "replicas", spec->stopped ? 0 : 1, "serviceName", name,
                                "selector", "matchLabels", NOTEBOOK_LABEL, name, "template", tmpl));
  return sts;
}

/* ------------------------------------------------------------ routes */

static char *service_host(const json_t *nb) {
  return xasprintf("%s.%s.svc.cluster.local", js_name(nb), js_namespace(nb));
}

json_t *notebook_desired_virtualservice(const json_t *nb, const notebook_spec *spec, const char *gateway,
                                        const char *host_match) {
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(js_namespace(nb), js_name(nb), base);
  char *host = service_host(nb);
  json_t *route = json_pack("{s:[{s:{s:s}}], s:{s:s}, s:[{s:{s:s, s:{s:i}}}], s:s}", "match", "uri", "prefix", base,
                            "rewrite", "uri", traits[spec->ide].strip_prefix ? "/" : base, "route", "destination",
                            "host", host, "port", "number", NOTEBOOK_SERVICE_PORT, "timeout", "300s");
  free(host);
  if (spec->ide == NB_IDE_RSTUDIO) /* RStudio builds its URLs from this header */
    json_object_set_new(route, "headers",
                        json_pack("{s:{s:{s:s}}}", "request", "set", "X-RStudio-Root-Path", base));
  json_t *vs = child(nb, "networking.istio.io/v1", "VirtualService", js_name(nb));
  json_object_set_new(vs, "spec",
                      json_pack("{s:[s], s:[s], s:[o]}", "hosts", host_match && host_match[0] ? host_match : "*",
                                "gateways", gateway, "http", route));
  return vs;
}

json_t *notebook_desired_ingress(const json_t *nb, const notebook_spec *spec, const notebook_config *cfg) {
  char base[NOTEBOOK_PATH_LEN];
  notebook_base_path(js_namespace(nb), js_name(nb), base);
  json_t *rule = json_pack("{s:{s:[{s:s, s:s, s:{s:{s:s, s:{s:i}}}}]}}", "http", "paths", "path", base, "pathType",
                           "Prefix", "backend", "service", "name", js_name(nb), "port", "number",
                           NOTEBOOK_SERVICE_PORT);
  if (cfg->host[0]) json_object_set_new(rule, "host", json_string(cfg->host));
  json_t *ing = child(nb, "networking.k8s.io/v1", "Ingress", js_name(nb));
  if (json_object_size(cfg->ingress_annotations))
    json_object_set_new(json_object_get(ing, "metadata"), "annotations", json_deep_copy(cfg->ingress_annotations));
  json_object_set_new(ing, "spec",
                      json_pack("{s:s, s:[o]}", "ingressClassName", cfg->ingress_class, "rules", rule));
  return ing;
}
