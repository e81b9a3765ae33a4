#include "webhooks/pods/mutate.h"

#include <stdio.h>
#include <string.h>

#include "api/project/project.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

/* ------------------------------------------------------------ helpers */

static json_t *ensure_array(json_t *obj, const char *key) {
  json_t *a = json_object_get(obj, key);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(obj, key, a);
  }
  return a;
}


/* Every container and init container of a pod spec. */
typedef void (*container_fn)(json_t *container, void *arg);
static void each_container(json_t *spec, container_fn fn, void *arg) {
  static const char *lists[] = {"containers", "initContainers"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) fn(c, arg);
  }
}

static void set_env_default(json_t *container, const char *name, const char *value) {
  json_t *env = ensure_array(container, "env");
  if ((js_named(env, name) != NULL)) return;
  json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value", value));
}

/* ------------------------------------------------------ project defaults */

static void add_mount(json_t *container, void *arg) {
  json_t *mount = arg;
  json_t *mounts = ensure_array(container, "volumeMounts");
  const char *path = js_str(mount, "mountPath");
  size_t i;
  json_t *m;
  json_array_foreach(mounts, i, m) {
    const char *p = js_str(m, "mountPath");
    if (p && path && strcmp(p, path) == 0) return; /* the pod's own mount wins */
  }
  json_array_append(mounts, mount);
}

static void add_volume(json_t *spec, const char *name, const char *claim, json_t *mount) {
  json_t *volumes = ensure_array(spec, "volumes");
  if (!(js_named(volumes, name) != NULL))
    json_array_append_new(volumes,
                          json_pack("{s:s, s:{s:s}}", "name", name, "persistentVolumeClaim", "claimName", claim));
  each_container(spec, add_mount, mount);
}

static void project_defaults(const json_t *project, json_t *pod, const char *user) {
  json_t *spec = json_object_get(pod, "spec");
  json_t *pspec = json_object_get(project, "spec");
  /* Where the project's pods run: the project's node selector is enforced. */
  json_t *selector = js_get(pspec, "resourceGroup.nodeSelector");
  if (json_object_size(selector)) {
    json_t *ns = json_object_get(spec, "nodeSelector");
    if (!json_is_object(ns)) {
      ns = json_object();
      json_object_set_new(spec, "nodeSelector", ns);
    }
    json_object_update(ns, selector);
  }
  json_t *tolerations = js_get(pspec, "resourceGroup.tolerations");
  if (json_array_size(tolerations)) {
    json_t *have = ensure_array(spec, "tolerations");
    size_t i;
    json_t *t;
    json_array_foreach(tolerations, i, t) {
      int dup = 0;
      size_t k;
      json_t *h;
      json_array_foreach(have, k, h) dup |= json_equal(h, t);
      if (!dup) json_array_append(have, t);
    }
  }
  const char *priority = js_str(pspec, "priorityClassName");
  /* A pod may name its own class; with a priority value set the API server
   * resolves it, so only pods with neither get the default. */
  if (priority && *priority && json_object_get(spec, "priorityClassName") == NULL &&
      json_object_get(spec, "priority") == NULL)
    json_object_set_new(spec, "priorityClassName", json_string(priority));
  const char *shared = js_str(pspec, "volumes.shared.claimName");
  if (shared) {
    const char *path = js_str(pspec, "volumes.shared.mountPath");
    json_t *mount = json_pack("{s:s, s:s}", "name", "cubit-shared", "mountPath", path ? path : "/mnt/shared");
    if (js_bool(pspec, "volumes.shared.readOnly", 0)) json_object_set_new(mount, "readOnly", json_true());
    add_volume(spec, "cubit-shared", shared, mount);
    json_decref(mount);
  }
  const char *personal = js_str(pspec, "volumes.personal.claimName");
  if (personal && user && *user) {
    /* A user name may hold characters a path must not ("system:serviceaccount:ns:sa"). */
    char safe[256];
    size_t n = 0;
    for (const char *p = user; *p && n + 1 < sizeof(safe); p++)
      safe[n++] = (*p == '/' || *p == ':' || *p == ' ') ? '-' : *p;
    safe[n] = '\0';
    char path[300];
    snprintf(path, sizeof(path), "/mnt/%s", safe);
    json_t *mount = json_pack("{s:s, s:s, s:s}", "name", "cubit-personal", "mountPath", path, "subPath", safe);
    add_volume(spec, "cubit-personal", personal, mount);
    json_decref(mount);
  }
}

/* ----------------------------------------------------------------- GPU */

typedef struct gpu_walk {
  const webhook_env *env;
  json_t *pod;
  int any_gpu;      /* some container asks for a GPU */
  int rc;
  char *err;
  size_t errlen;
} gpu_walk;

static const char *vendor_gpu_resources[] = {GPU_RES_NVIDIA, GPU_RES_HAMI_CORES, GPU_RES_VGPU_NUMBER,
                                             GPU_RES_VCUDA_CORE, NULL};

static int has_vendor_gpu(const json_t *container) {
  for (const char **r = vendor_gpu_resources; *r; r++)
    if (js_get(container, "resources.limits") && json_object_get(js_get(container, "resources.limits"), *r))
      return 1;
  return 0;
}

/* Translates one grammar string for one container. */
static int translate_container(gpu_walk *w, json_t *container, const char *text) {
  gpu_request req;
  if (gpu_request_parse(text, &req, w->err, w->errlen)) return CUBIT_EINVAL;
  gpu_translation t;
  if (gpu_translate(w->env->gpu, &req, &t, w->err, w->errlen)) return CUBIT_EINVAL;
  json_t *limits = js_ensure_obj(container, "resources.limits");
  json_t *requests = js_ensure_obj(container, "resources.requests");
  json_object_del(limits, GPU_GRAMMAR_KEY);
  json_object_del(requests, GPU_GRAMMAR_KEY);
  for (size_t i = 0; i < t.nlimits; i++) {
    /* Extended resources need requests equal to limits. */
    json_object_set_new(limits, t.limits[i].name, json_string(t.limits[i].value));
    json_object_set_new(requests, t.limits[i].name, json_string(t.limits[i].value));
  }
  if (json_object_size(requests) == 0) json_object_del(js_get(container, "resources"), "requests");
  if (t.node_selector_key[0]) {
    json_t *sel = js_ensure_obj(w->pod, "spec.nodeSelector");
    json_object_set_new(sel, t.node_selector_key, json_string(t.node_selector_value));
  }
  if (t.visible_devices[0]) set_env_default(container, "NVIDIA_VISIBLE_DEVICES", t.visible_devices);
  if (req.milli_cards > 0 || req.shared) w->any_gpu = 1;
  return 0;
}

/* Prefixes the denial with the field the GPU request was read from. */
static void gpu_error_at(gpu_walk *w, const char *field, const char *container) {
  char why[512];
  snprintf(why, sizeof(why), "%s", w->err);
  if (container)
    snprintf(w->err, w->errlen, "%s of container %s: %s", field, container, why);
  else
    snprintf(w->err, w->errlen, "%s: %s", field, why);
}

static void gpu_container(json_t *container, void *arg) {
  gpu_walk *w = arg;
  if (w->rc) return;
  json_t *limit = json_object_get(js_get(container, "resources.limits"), GPU_GRAMMAR_KEY);
  if (limit) {
    char text[128];
    if (json_is_string(limit)) snprintf(text, sizeof(text), "%s", json_string_value(limit));
    else if (json_is_integer(limit)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(limit));
    else snprintf(text, sizeof(text), "?");
    w->rc = translate_container(w, container, text);
    if (w->rc) gpu_error_at(w, "resources.limits[" GPU_GRAMMAR_KEY "]", js_str(container, "name"));
  } else if (has_vendor_gpu(container)) {
    w->any_gpu = 1;
  }
}

static void no_gpu(json_t *container, void *arg) {
  set_env_default(container, "NVIDIA_VISIBLE_DEVICES", "none");
}

static int gpu_mutate(const webhook_env *env, json_t *pod, char *err, size_t errlen) {
  gpu_walk w = {env, pod, 0, 0, err, errlen};
  json_t *spec = json_object_get(pod, "spec");
  const char *ann = json_string_value(json_object_get(js_get(pod, "metadata.annotations"), GPU_GRAMMAR_KEY));
  json_t *first = json_array_get(json_object_get(spec, "containers"), 0);
  /* The pod annotation speaks for the first (main) container, unless that
   * container states its own request. */
  if (ann && first && !json_object_get(js_get(first, "resources.limits"), GPU_GRAMMAR_KEY) && !has_vendor_gpu(first))
    if ((w.rc = translate_container(&w, first, ann))) gpu_error_at(&w, "metadata.annotations[" GPU_GRAMMAR_KEY "]", NULL);
  if (w.rc == 0) each_container(spec, gpu_container, &w);
  if (w.rc) return w.rc;
  /* Without a GPU a container must not see the node's GPUs through the
   * NVIDIA runtime's default of "all". */
  if (!w.any_gpu) each_container(spec, no_gpu, NULL);
  return 0;
}

/* ---------------------------------------------------------------- pods */

int pods_mutate(const webhook_env *env, const json_t *project, const char *username, json_t *pod, char *err,
                size_t errlen) {
  if (!json_is_object(json_object_get(pod, "spec"))) {
    snprintf(err, errlen, "pod without spec");
    return CUBIT_EINVAL;
  }
  json_t *ann = js_ensure_obj(pod, "metadata.annotations");
  const char *user = json_string_value(json_object_get(ann, CUBIT_ANNOTATION_USER));
  /* A bare pod's creator is the requester; a controller's pods carry the
   * annotation from their template (set on the workload at its creation). */
  if (user == NULL && js_controller_ref(pod) == NULL && username && *username) {
    json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(username));
    user = username;
  }
  project_defaults(project, pod, user);
  int rc = gpu_mutate(env, pod, err, errlen);
  if (rc) return rc;
  char group[254], role[64];
  if (gang_of_pod(pod, group, sizeof(group), role, sizeof(role)))
    gang_mark(&env->gang, pod, group, role, js_name(project));
  if (json_object_size(ann) == 0) json_object_del(json_object_get(pod, "metadata"), "annotations");
  return 0;
}

void pods_patch_diff(adm_response *resp, const json_t *before, const json_t *after) {
  static const char *fields[] = {"metadata", "spec"};
  for (int i = 0; i < 2; i++) {
    json_t *a = json_object_get(before, fields[i]), *b = json_object_get(after, fields[i]);
    if (b == NULL || json_equal(a, b)) continue;
    char path[16];
    snprintf(path, sizeof(path), "/%s", fields[i]);
    adm_patch(resp, a ? "replace" : "add", path, json_deep_copy(b));
  }
}

void pods_mutate_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (strcmp(req->operation, "CREATE") != 0 || req->object == NULL || strcmp(req->kind, "Pod") != 0) return;
  json_t *project = webhook_project_of(env, req->namespace);
  if (project == NULL) return;
  json_t *pod = json_deep_copy(req->object);
  char err[512];
  if (pods_mutate(env, project, req->username, pod, err, sizeof(err))) adm_deny(resp, 422, "%s", err);
  else pods_patch_diff(resp, req->object, pod);
  json_decref(pod);
  json_decref(project);
}

/* ----------------------------------------------------------- workloads */

/* Records the creator on a pod template's metadata. */
static void annotate_template(json_t *tmpl, const char *user) {
  if (!json_is_object(tmpl)) return;
  json_t *ann = js_ensure_obj(tmpl, "metadata.annotations");
  if (json_object_get(ann, CUBIT_ANNOTATION_USER) == NULL)
    json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(user));
}

/* Every pod template of a workload: replica specs of the training
 * operator's kinds, Volcano's tasks, a batch Job's template. */
static void annotate_templates(int wl, json_t *obj, const char *user) {
  static const char *replica_specs[] = {[WL_TFJOB] = "tfReplicaSpecs", [WL_PYTORCHJOB] = "pytorchReplicaSpecs",
                                        [WL_MPIJOB] = "mpiReplicaSpecs", [WL_XGBOOSTJOB] = "xgbReplicaSpecs"};
  json_t *spec = json_object_get(obj, "spec");
  switch (wl) {
    case WL_JOB:
      annotate_template(json_object_get(spec, "template"), user);
      break;
    case WL_TFJOB:
    case WL_PYTORCHJOB:
    case WL_MPIJOB:
    case WL_XGBOOSTJOB: {
      const char *key;
      json_t *rs;
      json_object_foreach(json_object_get(spec, replica_specs[wl]), key, rs) {
        annotate_template(json_object_get(rs, "template"), user);
      }
      break;
    }
    case WL_VOLCANOJOB: {
      size_t i;
      json_t *task;
      json_array_foreach(json_object_get(spec, "tasks"), i, task) annotate_template(json_object_get(task, "template"), user);
      break;
    }
    default: /* TrainingJob: its controller copies the annotation to what it creates */
      break;
  }
}

void workloads_mutate_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  if (strcmp(req->operation, "CREATE") != 0 || req->object == NULL) return;
  int wl = webhook_workload_index(req->group, req->kind);
  /* Every Cubit object records its creator too: its controller copies the
   * annotation onto the pods it makes (personal volume, per-member quota). */
  if (wl < 0 && strcmp(req->group, "cubit.dev") != 0) return;
  json_t *project = webhook_project_of(env, req->namespace);
  if (project == NULL) return;
  json_t *obj = json_deep_copy(req->object);
  json_t *ann = js_ensure_obj(obj, "metadata.annotations");
  const char *user = json_string_value(json_object_get(ann, CUBIT_ANNOTATION_USER));
  /* Objects made by Cubit's own controllers already carry their creator. */
  if (user == NULL && req->username && *req->username && js_controller_ref(obj) == NULL) {
    json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(req->username));
    user = req->username;
  }
  if (user) annotate_templates(wl, obj, user);
  pods_patch_diff(resp, req->object, obj);
  json_decref(obj);
  json_decref(project);
}
