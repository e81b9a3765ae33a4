#include "webhooks/pods/mutate.h"

#include <stdio.h>
#include <string.h>

#include "api/labels.h"
#include "api/project/project.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ------------------------------------------------------------ helpers */

static json_t *ensure_array(json_t *obj, const char *key) {
  json_t *a = json_object_get(obj, key);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(obj, key, a);
  }
  return a;
}

/* Every container, init container and ephemeral container of a pod spec. */
typedef void (*container_fn)(json_t *container, void *arg);
static void each_container(json_t *spec, container_fn fn, void *arg) {
  static const char *lists[] = {"containers", "initContainers", "ephemeralContainers"};
  for (int l = 0; l < 3; l++) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, lists[l]), i, c) {
      if (json_is_object(c)) fn(c, arg);
    }
  }
}

/* Sets env 'name' to value, replacing every entry of that name the
 * container had (a value, or a valueFrom): an explicit entry also wins
 * over envFrom. value NULL only removes them. */
static void set_env(json_t *container, const char *name, const char *value) {
  json_t *env = ensure_array(container, "env");
  for (size_t i = json_array_size(env); i-- > 0;)
    if (is(js_str(json_array_get(env, i), "name"), name)) json_array_remove(env, i);
  if (value) json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value", value));
  if (json_array_size(env) == 0) json_object_del(container, "env");
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
  /* The personal directory lives on its own claim, or on the shared one
   * when the project names none (cube-studio's /mnt/<user>). */
  const json_t *pvol = js_get(pspec, "volumes.personal");
  const char *personal = js_str(pvol, "claimName");
  if (personal == NULL && json_is_object(pvol)) personal = shared;
  const char *root = js_str(pvol, "mountRoot") ? js_str(pvol, "mountRoot") : "/mnt";
  if (personal && user && *user) {
    /* A user name may hold characters a path must not ("system:serviceaccount:ns:sa"). */
    char safe[256];
    size_t n = 0;
    for (const char *p = user; *p && n + 1 < sizeof(safe); p++)
      safe[n++] = (*p == '/' || *p == ':' || *p == ' ') ? '-' : *p;
    safe[n] = '\0';
    char path[1024];
    snprintf(path, sizeof(path), "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", safe);
    json_t *mount = json_pack("{s:s, s:s, s:s}", "name", "cubit-personal", "mountPath", path, "subPath", safe);
    add_volume(spec, "cubit-personal", personal, mount);
    json_decref(mount);
  }
}

/* ----------------------------------------------------------------- GPU */

#define VISIBLE_DEVICES "NVIDIA_VISIBLE_DEVICES"
#define MAX_EXPLICIT 64

typedef struct gpu_walk {
  const webhook_env *env;
  const json_t *project;
  json_t *pod;
  json_t *explicit[MAX_EXPLICIT]; /* containers whose visibility the grammar set ("0", "-1") */
  size_t nexplicit;
  int rc;
  char *err;
  size_t errlen;
} gpu_walk;

/* A container that holds a GPU resource of some sharing system: its device
 * plugin says which GPUs it sees. */
static int holds_gpu(const json_t *container) {
  return gpu_cards_milli(js_get(container, "resources.limits")) > 0 ||
         gpu_cards_milli(js_get(container, "resources.requests")) > 0;
}

/* Translates one grammar string for one container. */
static int translate_container(gpu_walk *w, json_t *container, const char *text) {
  gpu_request req;
  if (gpu_request_parse(text, &req, w->err, w->errlen)) return CUBIT_EINVAL;
  /* "-1" computes on every GPU of the node and is charged nothing: only a
   * project whose cluster admin allowed it may use it. */
  if (req.shared && !json_is_true(js_get(w->project, "spec.quota.allowSharedGPU")))
    return cubit_errorf(w->err, w->errlen, CUBIT_EINVAL,
                        "GPU request \"-1\" shares every GPU of the node without being charged for any, which "
                        "project %.253s does not allow (a cluster admin may set spec.quota.allowSharedGPU)",
                        js_name(w->project) ? js_name(w->project) : "?");
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
  if (t.visible_devices[0] && w->nexplicit < MAX_EXPLICIT) {
    set_env(container, VISIBLE_DEVICES, t.visible_devices);
    w->explicit[w->nexplicit++] = container;
  }
  return 0;
}

/* Prefixes the denial with the field the GPU request was read from. */
static void gpu_error_at(gpu_walk *w, const char *field, const char *container) {
  char why[512];
  snprintf(why, sizeof(why), "%s", w->err);
  if (container)
    snprintf(w->err, w->errlen, "%s of container %.128s: %s", field, container, why);
  else
    snprintf(w->err, w->errlen, "%s: %s", field, why);
}

static void gpu_container(json_t *container, void *arg) {
  gpu_walk *w = arg;
  if (w->rc) return;
  json_t *limit = json_object_get(js_get(container, "resources.limits"), GPU_GRAMMAR_KEY);
  if (limit == NULL) limit = json_object_get(js_get(container, "resources.requests"), GPU_GRAMMAR_KEY);
  if (limit == NULL) return;
  char text[128];
  if (json_is_string(limit)) snprintf(text, sizeof(text), "%s", json_string_value(limit));
  else if (json_is_integer(limit)) snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(limit));
  else snprintf(text, sizeof(text), "?");
  w->rc = translate_container(w, container, text);
  if (w->rc) gpu_error_at(w, "resources.limits[" GPU_GRAMMAR_KEY "]", js_str(container, "name"));
}

/* The envFrom entry of a container that could define NVIDIA_VISIBLE_DEVICES:
 * a ConfigMap or Secret whose keys become variables with a prefix that
 * "NVIDIA_VISIBLE_DEVICES" starts with (none, "NVIDIA_", ...). Returns its
 * index, or -1. */
static long env_from_visibility(const json_t *container) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(container, "envFrom"), i, e) {
    const char *prefix = js_str(e, "prefix");
    if (prefix == NULL || strncmp(VISIBLE_DEVICES, prefix, strlen(prefix)) == 0) return (long)i;
  }
  return -1;
}

/* Whatever the user set: a container without a GPU of its own sees none
 * (the NVIDIA runtime's default, and CUDA images', is "all": every GPU of
 * the node), and a container with one sees what its device plugin gives
 * it, not a value of its own. The kubelet puts the user's variables after
 * the device plugin's, so the last one wins: an explicit entry is removed,
 * and an envFrom that could carry the name is refused (an explicit "none"
 * would beat it, but a GPU container's right value is known only to its
 * device plugin). */
static void visibility(json_t *container, void *arg) {
  gpu_walk *w = arg;
  if (w->rc) return;
  for (size_t i = 0; i < w->nexplicit; i++)
    if (w->explicit[i] == container) return;
  int gpu = holds_gpu(container);
  long from = gpu ? env_from_visibility(container) : -1;
  if (from >= 0) {
    w->rc = cubit_errorf(w->err, w->errlen, CUBIT_EINVAL,
                         "envFrom[%ld] of container %.128s: a container holding a GPU may not take its environment "
                         "from a ConfigMap or Secret without a prefix, since it could set " VISIBLE_DEVICES
                         " and see GPUs it was not given (set a prefix, or name the variables in env)",
                         from, js_str(container, "name") ? js_str(container, "name") : "?");
    return;
  }
  set_env(container, VISIBLE_DEVICES, gpu ? NULL : "none");
}

static int gpu_mutate(const webhook_env *env, const json_t *project, json_t *pod, char *err, size_t errlen) {
  gpu_walk w = {.env = env, .project = project, .pod = pod, .err = err, .errlen = errlen};
  json_t *spec = json_object_get(pod, "spec");
  const char *ann = json_string_value(json_object_get(js_get(pod, "metadata.annotations"), GPU_GRAMMAR_KEY));
  json_t *first = json_array_get(json_object_get(spec, "containers"), 0);
  /* The pod annotation speaks for the first (main) container, unless that
   * container states its own request. */
  if (ann && json_is_object(first) && !json_object_get(js_get(first, "resources.limits"), GPU_GRAMMAR_KEY) &&
      !holds_gpu(first))
    if ((w.rc = translate_container(&w, first, ann))) gpu_error_at(&w, "metadata.annotations[" GPU_GRAMMAR_KEY "]", NULL);
  if (w.rc == 0) each_container(spec, gpu_container, &w);
  if (w.rc) return w.rc;
  each_container(spec, visibility, &w);
  return w.rc;
}

/* ----------------------------------------------------------- identity */

const char *pods_creator(const webhook_env *env, const adm_request *req) {
  const char *was = req->old_object ? webhook_user_of(req->old_object) : NULL;
  if (is(req->operation, "UPDATE") && was) return was;
  if (webhook_is_propagator(env->identities, req->username)) return webhook_user_of(req->object);
  return req->username && *req->username ? req->username : NULL;
}

/* Records creator (may be NULL: a propagator's object that names none) on
 * obj's metadata, replacing whatever obj said. */
static void set_creator(json_t *obj, const char *creator) {
  json_t *ann = js_ensure_obj(obj, "metadata.annotations");
  if (creator) json_object_set_new(ann, CUBIT_ANNOTATION_USER, json_string(creator));
  else json_object_del(ann, CUBIT_ANNOTATION_USER);
  if (json_object_size(ann) == 0) json_object_del(json_object_get(obj, "metadata"), "annotations");
}

/* ---------------------------------------------------------------- pods */

/* The labels users select a project's pods on (docs/labels.md): the
 * project, the creator, and for a TrainingJob's pod its index within its
 * role, which only the engine knows when it makes the pod. */
static void selectable_labels(json_t *pod, const json_t *project, const char *creator) {
  json_t *labels = js_ensure_obj(pod, "metadata.labels");
  if (js_name(project)) json_object_set_new(labels, CUBIT_LABEL_PROJECT, json_string(js_name(project)));
  char value[64];
  if (creator && cubit_label_value(creator, value, sizeof(value)) == 0)
    json_object_set_new(labels, CUBIT_LABEL_CREATOR, json_string(value));
  if (json_object_get(labels, CUBIT_LABEL_TRAININGJOB) == NULL) return;
  const json_t *ann = js_get(pod, "metadata.annotations");
  const char *index = json_string_value(json_object_get(labels, "training.kubeflow.org/replica-index"));
  if (index == NULL) index = json_string_value(json_object_get(ann, "batch.kubernetes.io/job-completion-index"));
  if (index == NULL) index = json_string_value(json_object_get(ann, "volcano.sh/task-index"));
  if (index == NULL) index = json_string_value(json_object_get(labels, "spark-exec-id"));
  if (index && cubit_label_value(index, value, sizeof(value)) == 0)
    json_object_set_new(labels, CUBIT_LABEL_REPLICA_INDEX, json_string(value));
}

int pods_mutate(const webhook_env *env, const json_t *project, const char *creator, json_t *pod, char *err,
                size_t errlen) {
  if (!json_is_object(json_object_get(pod, "spec"))) {
    snprintf(err, errlen, "pod without spec");
    return CUBIT_EINVAL;
  }
  if (!json_is_object(json_object_get(pod, "metadata"))) json_object_set_new(pod, "metadata", json_object());
  /* Devices allocated through dynamic resource allocation are not in the
   * containers' resources, so the quota cannot see them: a project uses
   * them only when its cluster admin accepts that. */
  if (json_array_size(js_get(pod, "spec.resourceClaims")) > 0 &&
      !json_is_true(js_get(project, "spec.quota.allowResourceClaims")))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "spec.resourceClaims: project %.253s does not allow dynamic resource allocation claims, whose "
                        "devices its quota cannot count (a cluster admin may set spec.quota.allowResourceClaims)",
                        js_name(project) ? js_name(project) : "?");
  set_creator(pod, creator);
  selectable_labels(pod, project, creator);
  project_defaults(project, pod, creator);
  int rc = gpu_mutate(env, project, pod, err, errlen);
  if (rc) return rc;
  char group[254], role[64];
  if (gang_of_pod(pod, group, sizeof(group), role, sizeof(role)))
    gang_mark(&env->gang, pod, group, role, js_name(project));
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

static void no_gpu(json_t *container, void *arg) { set_env(container, VISIBLE_DEVICES, "none"); }

void pods_mutate_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  const char *sub = req->subresource ? req->subresource : "";
  int create = is(req->operation, "CREATE"), update = is(req->operation, "UPDATE");
  if (!json_is_object(req->object) || !is(req->kind, "Pod") || !(create || update)) return;
  json_t *project = webhook_project_of(env, req->namespace);
  if (project == NULL) return;
  json_t *pod = json_deep_copy(req->object);
  char err[512];
  int rc = 0;
  if (create && *sub == '\0') {
    rc = pods_mutate(env, project, pods_creator(env, req), pod, err, sizeof(err));
  } else if (update && *sub == '\0') {
    /* The creator never changes once recorded. */
    set_creator(pod, pods_creator(env, req));
  } else if (update && is(sub, "ephemeralcontainers")) {
    /* A debugging container holds no GPU (it cannot request one), so it
     * sees none, whatever it or its image says. */
    size_t i;
    json_t *c;
    json_array_foreach(js_get(pod, "spec.ephemeralContainers"), i, c) {
      if (json_is_object(c)) no_gpu(c, NULL);
    }
  }
  if (rc) adm_deny(resp, 422, "%s", err);
  else pods_patch_diff(resp, req->object, pod);
  json_decref(pod);
  json_decref(project);
}

/* ----------------------------------------------------------- workloads */

static void annotate_template(json_t *tmpl, const char *user) {
  if (json_is_object(tmpl)) set_creator(tmpl, user);
}

static void annotate_map(json_t *specs, const char *user) {
  const char *key;
  json_t *rs;
  json_object_foreach(specs, key, rs) { annotate_template(json_object_get(rs, "template"), user); }
}

/* Every pod template of an object that has them: what its controller copies
 * onto the pods (and Jobs) it makes. 0 for kinds without templates. */
static int annotate_templates(const char *group, const char *kind, json_t *obj, const char *user) {
  static const char *const replica_specs[][2] = {{"TFJob", "tfReplicaSpecs"},
                                                 {"PyTorchJob", "pytorchReplicaSpecs"},
                                                 {"MPIJob", "mpiReplicaSpecs"},
                                                 {"XGBoostJob", "xgbReplicaSpecs"},
                                                 {"PaddleJob", "paddleReplicaSpecs"},
                                                 {"JAXJob", "jaxReplicaSpecs"}};
  json_t *spec = json_object_get(obj, "spec");
  if ((is(group, "batch") && is(kind, "Job")) || (is(group, "") && is(kind, "ReplicationController")) ||
      (is(group, "apps") && (is(kind, "Deployment") || is(kind, "StatefulSet") || is(kind, "ReplicaSet") ||
                             is(kind, "DaemonSet")))) {
    annotate_template(json_object_get(spec, "template"), user);
    return 1;
  }
  if (is(group, "batch") && is(kind, "CronJob")) {
    json_t *job = json_object_get(spec, "jobTemplate");
    annotate_template(job, user);
    annotate_template(js_get(job, "spec.template"), user);
    return 1;
  }
  if (is(group, "kubeflow.org")) {
    for (size_t i = 0; i < sizeof(replica_specs) / sizeof(replica_specs[0]); i++)
      if (is(kind, replica_specs[i][0])) {
        annotate_map(json_object_get(spec, replica_specs[i][1]), user);
        return 1;
      }
    return 0;
  }
  if (is(group, "batch.volcano.sh") && is(kind, "Job")) {
    size_t i;
    json_t *task;
    json_array_foreach(json_object_get(spec, "tasks"), i, task) annotate_template(json_object_get(task, "template"), user);
    return 1;
  }
  return 0;
}

/* A run kind the history records (docs/history.md). */
static int history_run_kind(const char *group, const char *kind) {
  static const char *const kinds[] = {"TrainingJob", "PipelineRun", "Notebook", "InferenceService", "Experiment"};
  if (!is(group, "cubit.dev")) return 0;
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (is(kind, kinds[i])) return 1;
  return 0;
}

/* Adds the history's finalizer to obj's metadata.finalizers; 1 when added. */
static int add_history_finalizer(json_t *obj) {
  json_t *meta = json_object_get(obj, "metadata");
  if (!json_is_object(meta)) return 0;
  json_t *fins = json_object_get(meta, "finalizers");
  if (fins != NULL && !json_is_array(fins)) return 0; /* not ours to repair: the API server refuses it */
  size_t i;
  json_t *f;
  json_array_foreach(fins, i, f) if (is(json_string_value(f), CUBIT_FINALIZER_HISTORY)) return 0;
  if (fins == NULL) {
    fins = json_array();
    json_object_set_new(meta, "finalizers", fins);
  }
  json_array_append_new(fins, json_string(CUBIT_FINALIZER_HISTORY));
  return 1;
}

void workloads_mutate_handler(const adm_request *req, adm_response *resp, void *arg) {
  const webhook_env *env = arg;
  const char *sub = req->subresource ? req->subresource : "";
  if (!json_is_object(req->object) || *sub != '\0' || !(is(req->operation, "CREATE") || is(req->operation, "UPDATE")))
    return;
  json_t *obj = json_deep_copy(req->object);
  /* With history on, a run carries the recorder's finalizer from its
   * creation, whoever creates it (a user, a Pipeline's schedule, a
   * PipelineRun's task): it cannot end and go before it is recorded. */
  int changed = env->history && is(req->operation, "CREATE") && history_run_kind(req->group, req->kind) &&
                add_history_finalizer(obj);
  /* A propagator's objects carry the creator it passes on, on the object
   * or only on its templates (a Notebook's StatefulSet): left as they are. */
  json_t *project = webhook_is_propagator(env->identities, req->username) ? NULL
                                                                            : webhook_project_of(env, req->namespace);
  if (project) {
    const char *creator = pods_creator(env, req);
    /* Every Cubit object records its creator too: its controller copies the
     * annotation onto what it makes (personal volume, per-member quota). */
    if (annotate_templates(req->group, req->kind, obj, creator) || is(req->group, "cubit.dev")) {
      set_creator(obj, creator);
      changed = 1;
    }
  }
  if (changed) pods_patch_diff(resp, req->object, obj);
  json_decref(obj);
  json_decref(project);
}
