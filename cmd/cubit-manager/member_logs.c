/* Member pod logs for CLI users (member_logs.h): the hub's objects from the
 * manager's cache, the member's pods and logs through the member's client
 * (the leader's connection, or on another replica one made from the
 * Cluster's kubeconfig Secret for the request). */
#include "member_logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cluster/cluster.h"
#include "api/inferenceservice/inferenceservice.h"
#include "api/notebook/notebook.h"
#include "api/trainingjob/trainingjob.h"
#include "cache/informer.h"
#include "http/server.h"
#include "runtime/authz.h"
#include "runtime/member_logs.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

/* The kinds placed on members whose pods' logs are served, and the label
 * their children carry. */
typedef struct placed_kind {
  const kube_resource *resource;
  const char *label;
  cache_informer *informer;
} placed_kind;

struct mgr_logs {
  rt_manager *m;
  char *ns;
  rt_authz *authz;
  cache_informer *clusters;
  placed_kind kinds[3];
  size_t nkinds;
};

static int authenticate(void *arg, const char *token, json_t **user, char *why, size_t whylen) {
  mgr_logs *l = arg;
  return rt_authz_authenticate(l->authz, token, time_wall_s(), user, why, whylen);
}

static int review(void *arg, const json_t *user, const rt_access *access, char *why, size_t whylen) {
  mgr_logs *l = arg;
  return rt_authz_review(l->authz, user, access, time_wall_s(), why, whylen);
}

static json_t *owner(void *arg, const char *plural, const char *ns, const char *name, const char **label) {
  mgr_logs *l = arg;
  *label = NULL;
  for (size_t i = 0; i < l->nkinds; i++) {
    if (strcmp(l->kinds[i].resource->resource, plural) != 0) continue;
    *label = l->kinds[i].label;
    return cache_store_get(cache_informer_store(l->kinds[i].informer), ns, name);
  }
  return NULL;
}

/* A client for a member for one request: the leader's connection, or one
 * made from the Cluster's kubeconfig Secret (another replica). */
typedef struct member_conn {
  rt_member *held;   /* the leader's, given back with rt_member_put */
  kube_config cfg;   /* else owned, with the client that points into it */
  kube_client *own;
  kube_client *client;
} member_conn;

static void conn_close(member_conn *mc) {
  rt_member_put(mc->held);
  kube_client_free(mc->own);
  kube_config_free(&mc->cfg);
}

static int conn_open(mgr_logs *l, const char *cluster, member_conn *mc, char *why, size_t whylen) {
  memset(mc, 0, sizeof(*mc));
  rt_ctx ctx = {.mgr = l->m, .controller = "member-logs"};
  mc->held = rt_member_acquire(&ctx, cluster, &mc->client);
  if (mc->held) return 0;
  json_t *obj = cache_store_get(cache_informer_store(l->clusters), NULL, cluster);
  cluster_spec spec;
  char err[512];
  if (obj == NULL || cluster_spec_parse(obj, &spec, err, sizeof(err))) {
    snprintf(why, whylen, "Cluster %s: %s", cluster, obj ? err : "not found");
    json_decref(obj);
    return CUBIT_ENOTFOUND;
  }
  json_t *secret = NULL;
  kube_status st = {0};
  char *text = NULL;
  size_t len = 0;
  int rc = CUBIT_EINVAL;
  const char *sns = spec.secret_namespace ? spec.secret_namespace : l->ns;
  if (strcmp(sns, l->ns) != 0) snprintf(why, whylen, "Cluster %s: its kubeconfig Secret is not in %s", cluster, l->ns);
  else if (kube_get(rt_manager_client(l->m), &kube_secrets, sns, spec.secret_name, &secret, &st))
    snprintf(why, whylen, "Cluster %s: Secret %s/%s: %s", cluster, sns, spec.secret_name, st.message);
  else if (kube_secret_data(secret, spec.secret_key, &text, &len))
    snprintf(why, whylen, "Cluster %s: Secret %s/%s has no usable key %s", cluster, sns, spec.secret_name,
             spec.secret_key);
  else if (kube_config_load_inline(text, len, "the Cluster's kubeconfig", spec.context, &mc->cfg, err, sizeof(err)))
    snprintf(why, whylen, "Cluster %s: %s", cluster, err);
  else {
    kube_client_options o = {.timeout_ms = 15000};
    rc = kube_client_new(&mc->cfg, &o, &mc->own);
    if (rc) snprintf(why, whylen, "Cluster %s: cannot make a client for it", cluster);
    mc->client = mc->own;
  }
  free(text);
  json_decref(secret);
  json_decref(obj);
  return mc->client ? 0 : rc;
}

static int list_pods(void *arg, const char *cluster, const char *ns, const char *selector, json_t **items, char *why,
                     size_t whylen) {
  mgr_logs *l = arg;
  member_conn mc;
  *items = NULL;
  int rc = conn_open(l, cluster, &mc, why, whylen);
  if (rc == 0) {
    kube_list_options o = {.label_selector = selector};
    json_t *list = NULL;
    kube_status st = {0};
    rc = kube_list_all(mc.client, &kube_pods, ns, &o, &list, &st);
    if (rc) snprintf(why, whylen, "%s", st.message);
    else *items = json_incref(json_object_get(list, "items"));
    json_decref(list);
  }
  conn_close(&mc);
  if (rc == 0 && *items == NULL) *items = json_array();
  return rc;
}

static int append_log(const char *data, size_t len, void *arg) {
  return buf_append(arg, data, len);
}

static int read_log(void *arg, const char *cluster, const char *ns, const char *pod, const char *query,
                    cubit_buf *out, long *http_status, char *why, size_t whylen) {
  mgr_logs *l = arg;
  member_conn mc;
  *http_status = 0;
  int rc = conn_open(l, cluster, &mc, why, whylen);
  if (rc == 0) {
    char *base = kube_resource_path(&kube_pods, ns, pod, "log");
    char *path = xasprintf("%s?%s", base, query);
    kube_status st = {0};
    /* Bounded: the API server's proxy and the CLI wait no longer. */
    rc = kube_request_stream_within(mc.client, path, 20000, append_log, out, &st);
    if (rc) {
      *http_status = st.http_status;
      snprintf(why, whylen, "%s", st.message);
    }
    free(base);
    free(path);
  }
  conn_close(&mc);
  return rc;
}

static void handle(const http_request *req, http_response *resp, void *arg) {
  mgr_logs *l = arg;
  rt_logs_deps d = {l, authenticate, review, owner, list_pods, read_log};
  /* Through the API server's service proxy Authorization does not arrive:
   * kubectl-cubit repeats the token in X-Cubit-Authorization. */
  const char *authorization = http_request_header(req, "Authorization");
  if (authorization == NULL) authorization = http_request_header(req, "X-Cubit-Authorization");
  resp->status = rt_logs_serve(&d, req->path, req->query, authorization, &resp->body, &resp->content_type);
  if (resp->status != 200)
    log_info("member-logs", "refused", "path=%s status=%d", req->path, resp->status);
}

int mgr_logs_start(rt_manager *m, const char *ns, mgr_logs **out) {
  *out = NULL;
  http_server *srv = rt_manager_webhook_server(m);
  if (srv == NULL) return 0;
  mgr_logs *l = xcalloc(1, sizeof(*l));
  l->m = m;
  l->ns = xstrdup(ns ? ns : "cubit-system");
  rt_authz_options ao = {.max_inflight = 4};
  l->authz = rt_authz_new(rt_manager_client(m), &ao);
  l->clusters = rt_manager_informer(m, &cluster_resource);
  l->kinds[0] = (placed_kind){&trainingjob_resource, TJ_LABEL, rt_manager_informer(m, &trainingjob_resource)};
  l->kinds[1] = (placed_kind){&notebook_resource, CUBIT_LABEL_NOTEBOOK, rt_manager_informer(m, &notebook_resource)};
  l->kinds[2] = (placed_kind){&inference_resource, CUBIT_LABEL_INFERENCESERVICE,
                              rt_manager_informer(m, &inference_resource)};
  l->nkinds = 3;
  int rc = http_server_route(srv, RT_LOGS_PREFIX, "GET", 0, handle, l, HTTP_ROUTE_OFFLOAD);
  if (rc) {
    mgr_logs_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

void mgr_logs_free(mgr_logs *l) {
  if (l == NULL) return;
  rt_authz_free(l->authz);
  free(l->ns);
  free(l);
}
