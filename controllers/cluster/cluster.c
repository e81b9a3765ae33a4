/* The Cluster controller: gather (the Secret, a probe of the member, its
 * cached nodes and pods), cluster_plan, rt_execute. */
#include "controllers/cluster/cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/controller.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

typedef struct cluster_ctl {
  const char *ns; /* the manager's namespace: where kubeconfig Secrets are read */
  const gpu_profile *gpu;
} cluster_ctl;

/* What the hub caches of every member: nodes and pods for the status,
 * namespaces for the Projects that span it. */
static const kube_resource *const member_resources[] = {&kube_nodes, &kube_pods, &kube_namespaces, NULL};

static const struct {
  const char *plural, *kind;
} training_kinds[] = {{"tfjobs", "TFJob"},           {"pytorchjobs", "PyTorchJob"}, {"mpijobs", "MPIJob"},
                      {"xgboostjobs", "XGBoostJob"}, {"paddlejobs", "PaddleJob"},   {"jaxjobs", "JAXJob"}};

/* Asks the member's API server for /version and discovery, with a short
 * timeout of its own: a member that does not answer must not hold a worker
 * for long. */
static void probe(const kube_config *cfg, cluster_probe *out) {
  memset(out, 0, sizeof(*out));
  kube_client_options co = {0};
  co.timeout_ms = CLUSTER_PROBE_TIMEOUT_MS;
  kube_client *c = NULL;
  kube_status st = {0};
  json_t *version = NULL;
  kube_discovery *d = NULL;
  int rc = kube_client_new(cfg, &co, &c);
  if (rc == 0) rc = kube_request(c, "GET", "/version", NULL, NULL, NULL, 0, &version, &st);
  if (rc == 0) {
    d = kube_discovery_new(c);
    rc = kube_discovery_refresh(d, &st);
  }
  if (rc) {
    out->code = rc;
    snprintf(out->error, sizeof(out->error), "cannot reach the API server %.256s: %s%s%.600s", cfg->server,
             cubit_strerror(rc), st.message[0] ? ": " : "", st.message);
    goto out;
  }
  out->ok = 1;
  snprintf(out->version, sizeof(out->version), "%s", js_str(version, "gitVersion") ? js_str(version, "gitVersion") : "");
  cluster_apis *a = &out->apis;
  for (size_t i = 0; i < sizeof(training_kinds) / sizeof(training_kinds[0]); i++)
    if (kube_discovery_has(d, "kubeflow.org", "v1", training_kinds[i].plural))
      a->training_kinds[a->ntraining++] = training_kinds[i].kind;
  a->volcano = kube_discovery_has(d, "batch.volcano.sh", "v1alpha1", "jobs");
  a->istio = kube_discovery_has(d, "networking.istio.io", "v1", "virtualservices") ||
             kube_discovery_has(d, "networking.istio.io", "v1beta1", "virtualservices");
  a->kuberay = kube_discovery_has(d, "ray.io", "v1", "rayjobs"); /* what a TrainingJob makes */
  a->spark = kube_discovery_has(d, "sparkoperator.k8s.io", "v1beta2", "sparkapplications");
out:
  kube_discovery_free(d);
  json_decref(version);
  kube_client_free(c);
}

/* What the gather step holds (released by gathered_free). */
typedef struct gathered {
  cluster_spec spec;
  int spec_ok;
  char spec_error[512];
  const char *config_reason;
  char config_error[768];
  cluster_probe probe;
  cache_list nodes, pods;
} gathered;

static void gathered_free(gathered *g) {
  cache_list_free(&g->nodes);
  cache_list_free(&g->pods);
}

__attribute__((format(printf, 3, 4))) static void config_failed(gathered *g, const char *reason, const char *fmt,
                                                                 ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->config_error, sizeof(g->config_error), fmt, ap);
  va_end(ap);
  g->config_reason = reason;
}

/* The member's kubeconfig from its Secret, read from the API server (not
 * cached: the manager holds no Secrets but its own namespace's, and only
 * reads them). Returns 0 with *cfg filled, 1 when it cannot be used (the
 * reason is in g), or an error of the hub's API server to retry on. */
static int read_kubeconfig(const rt_ctx *ctx, const cluster_ctl *cc, const json_t *cluster, gathered *g,
                           kube_config *cfg, char fingerprint[256]) {
  const char *ns = g->spec.secret_namespace ? g->spec.secret_namespace : cc->ns;
  json_t *secret = NULL;
  kube_status st = {0};
  int rc = kube_get(ctx->client, &kube_secrets, ns, g->spec.secret_name, &secret, &st);
  if (rc == CUBIT_ENOTFOUND) {
    config_failed(g, "SecretNotFound", "Secret %s/%s not found", ns, g->spec.secret_name);
    return 1;
  }
  if (rc == CUBIT_EFORBIDDEN) {
    config_failed(g, "SecretNotReadable", "Secret %s/%s: %s", ns, g->spec.secret_name, st.message);
    return 1;
  }
  if (rc) return rc;
  char *text = NULL;
  size_t len = 0;
  rc = kube_secret_data(secret, g->spec.secret_key, &text, &len);
  if (rc == CUBIT_ENOTFOUND) {
    config_failed(g, "KeyNotFound", "Secret %s/%s has no key \"%s\" in its data", ns, g->spec.secret_name,
                  g->spec.secret_key);
  } else if (rc) {
    config_failed(g, "KubeconfigInvalid", "Secret %s/%s key %s: not base64", ns, g->spec.secret_name,
                  g->spec.secret_key);
  } else {
    char what[384], err[512];
    snprintf(what, sizeof(what), "Secret %s/%s key %s", ns, g->spec.secret_name, g->spec.secret_key);
    if (kube_config_load_inline(text, len, what, g->spec.context, cfg, err, sizeof(err)))
      config_failed(g, "KubeconfigInvalid", "%s", err);
    /* A new Secret (uid), a changed one (resourceVersion) or another
     * context is a new connection. */
    snprintf(fingerprint, 256, "%s/%s/%s", js_uid(secret) ? js_uid(secret) : "",
             js_resource_version(secret) ? js_resource_version(secret) : "",
             g->spec.context ? g->spec.context : "");
  }
  free(text);
  json_decref(secret);
  return g->config_reason ? 1 : 0;
}

/* Returns 0 with *in filled, or an error of the hub to retry on. */
static int gather(const rt_ctx *ctx, const cluster_ctl *cc, const json_t *cluster, gathered *g,
                  cluster_observed *in) {
  memset(g, 0, sizeof(*g));
  const char *name = js_name(cluster);
  g->spec_ok = cluster_spec_parse(cluster, &g->spec, g->spec_error, sizeof(g->spec_error)) == 0;
  if (g->spec_ok && g->spec.secret_namespace && strcmp(g->spec.secret_namespace, cc->ns) != 0) {
    snprintf(g->spec_error, sizeof(g->spec_error),
             "spec.kubeconfig.secretRef.namespace: kubeconfig Secrets are read only in the manager's namespace %s, "
             "not %s", cc->ns, g->spec.secret_namespace);
    g->spec_ok = 0;
  }
  int usable = 0;
  if (g->spec_ok) {
    kube_config cfg = {0};
    char fingerprint[256] = "";
    int rc = read_kubeconfig(ctx, cc, cluster, g, &cfg, fingerprint);
    if (rc < 0) return rc;
    if (rc == 0) {
      usable = 1;
      probe(&cfg, &g->probe);
      rc = rt_member_ensure(ctx, name, fingerprint, &cfg, member_resources);
      if (rc < 0) {
        log_error("cluster", "cannot connect member cluster", "cluster=%s error=%s", name, cubit_strerror(rc));
        return rc;
      }
    }
  }
  if (!usable) rt_member_remove(ctx, name);
  int synced = usable && rt_member_synced(ctx, name);
  if (synced && (rt_member_list(ctx, name, &kube_nodes, NULL, &g->nodes) ||
                 rt_member_list(ctx, name, &kube_pods, NULL, &g->pods)))
    synced = 0; /* replaced meanwhile: the next look sees the new one */
  *in = (cluster_observed){
      .cluster = cluster,
      .spec = g->spec_ok ? &g->spec : NULL,
      .spec_error = g->spec_error,
      .config_reason = g->config_reason,
      .config_error = g->config_error,
      .probe = usable ? &g->probe : NULL,
      .synced = synced,
      .nodes = g->nodes.items,
      .nnodes = g->nodes.len,
      .pods = g->pods.items,
      .npods = g->pods.len,
      .gpu = cc->gpu,
      .now = time_wall_s(),
  };
  return 0;
}

static rt_result reconcile(const rt_ctx *ctx, const rt_request *req) {
  cache_store *clusters = rt_store(ctx, &cluster_resource);
  json_t *cluster = clusters ? cache_store_get(clusters, NULL, req->name) : NULL;
  if (cluster == NULL) {
    rt_member_remove(ctx, req->name); /* deleted: disconnect */
    return rt_ok();
  }
  gathered g;
  cluster_observed in;
  int rc = gather(ctx, ctx->arg, cluster, &g, &in);
  rt_result r;
  if (rc) {
    r = rt_result_for_error(rc, NULL);
  } else {
    rt_plan plan;
    rt_plan_init(&plan);
    cluster_plan(&in, &plan);
    r = rt_execute(ctx, &cluster_resource, cluster, &plan);
    rt_plan_free(&plan);
  }
  gathered_free(&g);
  json_decref(cluster);
  return r;
}

int cluster_controller_register(rt_manager *m, const char *ns, const gpu_profile *gpu) {
  cluster_ctl *cc = xcalloc(1, sizeof(*cc));
  cc->ns = ns;
  cc->gpu = gpu;
  rt_controller_def def = {0};
  def.name = "cluster";
  def.primary = &cluster_resource;
  def.workers = 2;
  def.reconcile = reconcile;
  def.arg = cc;
  def.free_arg = free;
  int rc = rt_manager_add_controller(m, &def);
  if (rc) free(cc);
  return rc;
}
