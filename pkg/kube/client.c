#include "kube/client.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/request.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_BODY ((size_t)256 << 20)
#define DEFAULT_PAGE 500

/* One curl handle with its kept-alive connection, lent to one call at a time. */
typedef struct pooled {
  CURL *easy;
  struct pooled *next;
} pooled;

struct kube_client {
  const kube_config *cfg;
  kube_creds *creds;
  char *user_agent;
  char *token_copy_header; /* NULL, or a header that repeats the bearer token */
  long timeout_ms;
  size_t max_body;
  metric *requests; /* rest_client_requests_total{code,method,host} */
  metric *latency;  /* rest_client_request_duration_seconds{verb,host}: the exchange */
  metric *waited;   /* rest_client_rate_limiter_duration_seconds{verb,host}: the token wait */
  char *host;       /* host label for metrics */
  pthread_mutex_t mu; /* guards pool and the token bucket */
  pooled *pool;
  double qps, tokens;
  int burst;
  double last_refill; /* monotonic seconds */
  kube_write_guard_fn guard; /* set before the client is shared; read-only after */
  void *guard_arg;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
  curl_global_init(CURL_GLOBAL_ALL);
}

const kube_resource kube_namespaces = {"", "v1", "namespaces", "Namespace", 0};
const kube_resource kube_configmaps = {"", "v1", "configmaps", "ConfigMap", 1};
const kube_resource kube_secrets = {"", "v1", "secrets", "Secret", 1};
const kube_resource kube_pods = {"", "v1", "pods", "Pod", 1};
const kube_resource kube_services = {"", "v1", "services", "Service", 1};
const kube_resource kube_events = {"", "v1", "events", "Event", 1};
const kube_resource kube_serviceaccounts = {"", "v1", "serviceaccounts", "ServiceAccount", 1};
const kube_resource kube_nodes = {"", "v1", "nodes", "Node", 0};
const kube_resource kube_pvcs = {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", 1};
const kube_resource kube_leases = {"coordination.k8s.io", "v1", "leases", "Lease", 1};
const kube_resource kube_deployments = {"apps", "v1", "deployments", "Deployment", 1};
const kube_resource kube_statefulsets = {"apps", "v1", "statefulsets", "StatefulSet", 1};
const kube_resource kube_jobs = {"batch", "v1", "jobs", "Job", 1};
const kube_resource kube_rolebindings = {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", 1};
const kube_resource kube_clusterroles = {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", 0};
const kube_resource kube_roles = {"rbac.authorization.k8s.io", "v1", "roles", "Role", 1};
const kube_resource kube_hpas = {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", 1};
const kube_resource kube_ingresses = {"networking.k8s.io", "v1", "ingresses", "Ingress", 1};
const kube_resource kube_crds = {"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                 "CustomResourceDefinition", 0};
const kube_resource kube_priorityclasses = {"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", 0};

int kube_client_new(const kube_config *cfg, const kube_client_options *opts, kube_client **out) {
  kube_client_options none = {0};
  if (opts == NULL) opts = &none;
  if (cfg == NULL || cfg->server == NULL) return CUBIT_EINVAL;
  pthread_once(&curl_once, curl_init_once);
  kube_client *c = xcalloc(1, sizeof(*c));
  c->cfg = cfg;
  c->creds = kube_creds_new(cfg);
  c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "cubit-manager/0.1.0");
  c->token_copy_header = opts->token_copy_header ? xstrdup(opts->token_copy_header) : NULL;
  c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
  c->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
  c->qps = opts->qps;
  c->burst = opts->burst > 0 ? opts->burst : (opts->qps > 1 ? (int)opts->qps : 1);
  c->tokens = c->burst;
  c->last_refill = time_mono_s();
  pthread_mutex_init(&c->mu, NULL);
  const char *h = strstr(cfg->server, "://");
  c->host = xstrdup(h ? h + 3 : cfg->server);
  if (opts->metrics)
    c->requests = metrics_counter(opts->metrics, "rest_client_requests_total",
                                  "Number of HTTP requests, partitioned by status code, method, and host.",
                                  "code,method,host");
  if (opts->metrics) {
    /* client-go's names and buckets, so the same dashboards read both. */
    static const double buckets[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
    size_t nb = sizeof(buckets) / sizeof(buckets[0]);
    c->latency = metrics_histogram(opts->metrics, "rest_client_request_duration_seconds",
                                   "Request latency in seconds. Broken down by verb, and host.", "verb,host", buckets,
                                   nb);
    c->waited = metrics_histogram(opts->metrics, "rest_client_rate_limiter_duration_seconds",
                                  "Client side rate limiter latency in seconds. Broken down by verb, and host.",
                                  "verb,host", buckets, nb);
  }
  *out = c;
  return 0;
}

void kube_client_free(kube_client *c) {
  if (c == NULL) return;
  while (c->pool) {
    pooled *p = c->pool;
    c->pool = p->next;
    curl_easy_cleanup(p->easy);
    free(p);
  }
  kube_creds_free(c->creds);
  pthread_mutex_destroy(&c->mu);
  free(c->user_agent);
  free(c->token_copy_header);
  free(c->host);
  free(c);
}

void kube_client_set_write_guard(kube_client *c, kube_write_guard_fn fn, void *arg) {
  c->guard = fn;
  c->guard_arg = arg;
}

const kube_config *kube_client_config(const kube_client *c) {
  return c->cfg;
}

void kube__invalidate_creds(kube_client *c) {
  kube_creds_invalidate(c->creds);
}

/* Blocks until the client-side token bucket has a token (client-go's
 * flowcontrol rate limiter). */
static void rate_wait(kube_client *c) {
  if (c->qps <= 0) return;
  for (;;) {
    pthread_mutex_lock(&c->mu);
    double now = time_mono_s();
    c->tokens = fmin((double)c->burst, c->tokens + (now - c->last_refill) * c->qps);
    c->last_refill = now;
    if (c->tokens >= 1) {
      c->tokens -= 1;
      pthread_mutex_unlock(&c->mu);
      return;
    }
    double wait = (1 - c->tokens) / c->qps;
    pthread_mutex_unlock(&c->mu);
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

static pooled *pool_take(kube_client *c) {
  pthread_mutex_lock(&c->mu);
  pooled *p = c->pool;
  if (p) c->pool = p->next;
  pthread_mutex_unlock(&c->mu);
  if (p == NULL) {
    p = xcalloc(1, sizeof(*p));
    p->easy = curl_easy_init();
    if (p->easy == NULL) abort();
  }
  return p;
}

static void pool_give(kube_client *c, pooled *p) {
  curl_easy_reset(p->easy); /* keeps the connection cache */
  pthread_mutex_lock(&c->mu);
  p->next = c->pool;
  c->pool = p;
  pthread_mutex_unlock(&c->mu);
}

const char *kube__user_agent(const kube_client *c) {
  return c->user_agent;
}

char *kube__url(kube_client *c, const char *path) {
  return xasprintf("%s%s", c->cfg->server, path);
}

int kube__prepare(kube_client *c, CURL *easy, const char *accept, struct curl_slist **headers, kube_status *st) {
  const kube_config *cfg = c->cfg;
  kube_creds_snapshot snap = {0};
  char err[512] = "";
  int rc = kube_creds_get(c->creds, &snap, err, sizeof(err));
  if (rc) {
    if (st) snprintf(st->message, sizeof(st->message), "credentials: %s", err);
    return rc;
  }
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  if (cfg->insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (cfg->ca_pem) {
    struct curl_blob ca = {cfg->ca_pem, cfg->ca_pem_len, CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (snap.client_cert_pem && snap.client_key_pem) {
    struct curl_blob cert = {snap.client_cert_pem, snap.client_cert_pem_len, CURL_BLOB_COPY};
    struct curl_blob key = {snap.client_key_pem, snap.client_key_pem_len, CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (cfg->proxy_url) curl_easy_setopt(easy, CURLOPT_PROXY, cfg->proxy_url);
  else curl_easy_setopt(easy, CURLOPT_PROXY, "");
  struct curl_slist *h = NULL;
  char *acc = xasprintf("Accept: %s", accept ? accept : "application/json");
  h = curl_slist_append(h, acc);
  free(acc);
  if (snap.token) {
    char *auth = xasprintf("Authorization: Bearer %s", snap.token);
    h = curl_slist_append(h, auth);
    free(auth);
    if (c->token_copy_header) {
      char *copy = xasprintf("%s: Bearer %s", c->token_copy_header, snap.token);
      h = curl_slist_append(h, copy);
      free(copy);
    }
  } else if (cfg->username && cfg->password) {
    curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->username);
    curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->password);
  }
  *headers = h;
  kube_creds_snapshot_free(&snap);
  return 0;
}

int kube__code_for(long http, const char *reason) {
  if (http >= 200 && http < 300) return 0;
  if (reason) {
    if (strcmp(reason, "AlreadyExists") == 0) return CUBIT_EALREADYEXISTS;
    if (strcmp(reason, "Conflict") == 0) return CUBIT_ECONFLICT;
    if (strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0) return CUBIT_EGONE;
    if (strcmp(reason, "Timeout") == 0 || strcmp(reason, "ServerTimeout") == 0) return CUBIT_ETIMEOUT;
    if (strcmp(reason, "TooManyRequests") == 0) return CUBIT_ETOOMANYREQUESTS;
  }
  switch (http) {
    case 400: return CUBIT_EBADREQUEST;
    case 401: return CUBIT_EUNAUTHORIZED;
    case 403: return CUBIT_EFORBIDDEN;
    case 404: return CUBIT_ENOTFOUND;
    case 405: return CUBIT_EMETHOD;
    case 409: return CUBIT_ECONFLICT;
    case 410: return CUBIT_EGONE;
    case 415: return CUBIT_EUNSUPPORTEDMEDIA;
    case 422: return CUBIT_EINVALID;
    case 429: return CUBIT_ETOOMANYREQUESTS;
    case 504: return CUBIT_ETIMEOUT;
  }
  return http >= 500 ? CUBIT_ESERVER : CUBIT_EBADREQUEST;
}

static int transport_code(CURLcode cc) {
  switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return CUBIT_ETIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return CUBIT_ETLS;
    case CURLE_WRITE_ERROR: return CUBIT_ETOOBIG; /* our write callback hit the cap */
    default: return CUBIT_ECONNECT;
  }
}

int kube__result(kube_client *c, CURL *easy, CURLcode cc, const char *method, const char *body,
                 size_t body_len, kube_status *st) {
  long http = 0;
  char codebuf[16];
  if (cc != CURLE_OK) {
    if (st) {
      st->http_status = 0;
      snprintf(st->message, sizeof(st->message), "%s", curl_easy_strerror(cc));
    }
    metric_add(c->requests, 1, "<error>", method, c->host);
    return transport_code(cc);
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
  snprintf(codebuf, sizeof(codebuf), "%ld", http);
  metric_add(c->requests, 1, codebuf, method, c->host);
  if (st) st->http_status = http;
  if (http >= 200 && http < 300) return 0;

  const char *reason = NULL;
  json_t *status = body_len ? json_loadb(body, body_len, 0, NULL) : NULL;
  if (json_is_object(status) && json_is_string(json_object_get(status, "kind")) &&
      strcmp(json_string_value(json_object_get(status, "kind")), "Status") == 0)
    reason = json_string_value(json_object_get(status, "reason"));
  int code = kube__code_for(http, reason);
  if (st) {
    const char *msg = json_string_value(json_object_get(status, "message"));
    snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
    if (msg) snprintf(st->message, sizeof(st->message), "%s", msg);
    else snprintf(st->message, sizeof(st->message), "HTTP %ld: %.900s", http, body ? body : "");
    curl_off_t ra = 0;
    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra);
    json_int_t details = js_int(status, "details.retryAfterSeconds", 0);
    st->retry_after_s = ra > 0 ? (int)ra : (int)details;
    const char *cause = json_string_value(json_object_get(json_array_get(js_get(status, "details.causes"), 0), "reason"));
    snprintf(st->cause, sizeof(st->cause), "%s", cause ? cause : "");
  }
  json_decref(status);
  if (code == CUBIT_EUNAUTHORIZED) kube_creds_invalidate(c->creds);
  return code;
}

static size_t collect(char *data, size_t size, size_t n, void *arg) {
  cubit_buf *b = arg;
  if (buf_append(b, data, size * n)) return 0; /* over the cap: abort the transfer */
  return size * n;
}

/* 'raw', when given, receives the answer's body undecoded (and out is
 * ignored): the caller decodes it its own way and frees it. */
static int do_request_raw(kube_client *c, const char *method, const char *path, const char *accept,
                          const char *content_type, const char *body, size_t body_len, json_t **out,
                          cubit_buf *raw, kube_status *st) {
  kube_status local;
  if (st == NULL) st = &local;
  memset(st, 0, sizeof(*st));
  if (out) *out = NULL;
  int rc = 0;
  if (c->guard && strcmp(method, "GET") != 0) {
    rc = c->guard(c->guard_arg, c, method, path, body, body_len, st);
    if (rc) {
      log_warn("kube", "request refused by the write guard", "method=%s path=%s message=\"%s\"", method, path,
            st->message);
      return rc;
    }
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    double t_wait = time_mono_s();
    rate_wait(c);
    double t_send = time_mono_s();
    if (c->qps > 0) metric_observe(c->waited, t_send - t_wait, method, c->host);
    pooled *p = pool_take(c);
    CURL *easy = p->easy;
    struct curl_slist *headers = NULL;
    cubit_buf resp;
    buf_init(&resp, c->max_body);
    rc = kube__prepare(c, easy, accept, &headers, st);
    if (rc) {
      pool_give(c, p);
      return rc;
    }
    if (content_type) {
      char *ct = xasprintf("Content-Type: %s", content_type);
      headers = curl_slist_append(headers, ct);
      free(ct);
    }
    char *url = kube__url(c, path);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") == 0) {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &resp);
    CURLcode cc = curl_easy_perform(easy);
    metric_observe(c->latency, time_mono_s() - t_send, method, c->host);
    rc = kube__result(c, easy, cc, method, resp.data, resp.len, st);
    log_v(6, "kube", "request", "method=%s path=%s code=%ld result=%s", method, path, st->http_status,
          cubit_strerror(rc));
    if (rc == 0 && raw) {
      *raw = resp;
      buf_init(&resp, c->max_body);
    } else if (rc == 0 && out) {
      json_error_t jerr;
      *out = resp.len ? json_loadb(resp.data, resp.len, 0, &jerr) : json_object();
      if (*out == NULL) {
        snprintf(st->message, sizeof(st->message), "decoding response: %s", jerr.text);
        rc = CUBIT_EINVAL;
      }
    }
    curl_slist_free_all(headers);
    free(url);
    buf_free(&resp);
    pool_give(c, p);
    /* A 401 may mean a rotated token or an expired exec credential: the
     * credentials were invalidated by kube__result, so try once more. */
    if (rc != CUBIT_EUNAUTHORIZED || (c->cfg->token_file == NULL && c->cfg->exec == NULL)) break;
  }
  return rc;
}

static int do_request(kube_client *c, const char *method, const char *path, const char *accept,
                      const char *content_type, const char *body, size_t body_len, json_t **out,
                      kube_status *st) {
  return do_request_raw(c, method, path, accept, content_type, body, body_len, out, NULL, st);
}

int kube_request(kube_client *c, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len, json_t **out, kube_status *st) {
  return do_request(c, method, path, accept, content_type, body, body_len, out, st);
}

/* kube_request_stream's transfer: the body goes to the caller while the
 * answer is 2xx, and is kept (capped) for the Status otherwise. */
typedef struct stream_ctx {
  CURL *easy;
  kube_stream_cb cb;
  void *arg;
  cubit_buf err;
  int stopped;
} stream_ctx;

static size_t stream_write(char *data, size_t size, size_t n, void *arg) {
  stream_ctx *s = arg;
  long http = 0;
  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &http);
  if (http < 200 || http >= 300) return buf_append(&s->err, data, size * n) ? 0 : size * n;
  if (s->cb(data, size * n, s->arg)) {
    s->stopped = 1;
    return 0;
  }
  return size * n;
}

int kube_request_stream(kube_client *c, const char *path, kube_stream_cb cb, void *arg, kube_status *st) {
  return kube_request_stream_within(c, path, 0, cb, arg, st);
}

int kube_request_stream_within(kube_client *c, const char *path, long timeout_ms, kube_stream_cb cb, void *arg,
                               kube_status *st) {
  kube_status local;
  if (st == NULL) st = &local;
  memset(st, 0, sizeof(*st));
  rate_wait(c);
  pooled *p = pool_take(c);
  struct curl_slist *headers = NULL;
  int rc = kube__prepare(c, p->easy, "*/*", &headers, st);
  if (rc) {
    pool_give(c, p);
    return rc;
  }
  stream_ctx s = {.easy = p->easy, .cb = cb, .arg = arg};
  buf_init(&s.err, 1 << 16);
  char *url = kube__url(c, path);
  curl_easy_setopt(p->easy, CURLOPT_URL, url);
  curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(p->easy, CURLOPT_CUSTOMREQUEST, "GET");
  curl_easy_setopt(p->easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, timeout_ms); /* 0: a followed log has no end */
  curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, stream_write);
  curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, &s);
  CURLcode cc = curl_easy_perform(p->easy);
  if (s.stopped) rc = 0;
  else rc = kube__result(c, p->easy, cc, "GET", s.err.data, s.err.len, st);
  curl_slist_free_all(headers);
  free(url);
  buf_free(&s.err);
  /* The handle's timeout was changed: reset it for the next borrower. */
  curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  pool_give(c, p);
  return rc;
}

char *kube_api_version(const kube_resource *r) {
  if (r->group == NULL || r->group[0] == '\0') return xstrdup(r->version);
  return xasprintf("%s/%s", r->group, r->version);
}

char *kube_resource_path(const kube_resource *r, const char *ns, const char *name, const char *sub) {
  cubit_buf b;
  buf_init(&b, 4096);
  int err;
  if (r->group == NULL || r->group[0] == '\0') err = buf_appendf(&b, "/api/%s", r->version);
  else err = buf_appendf(&b, "/apis/%s/%s", r->group, r->version);
  if (!err && r->namespaced && ns && *ns) err = buf_appendf(&b, "/namespaces/%s", ns);
  if (!err) err = buf_appendf(&b, "/%s", r->resource);
  if (!err && name) err = buf_appendf(&b, "/%s", name);
  if (!err && sub) err = buf_appendf(&b, "/%s", sub);
  if (err) abort(); /* names are bounded by the API to far less than 4 KiB */
  return buf_detach(&b);
}

static void query_param(cubit_buf *b, CURL *easy, const char *key, const char *value) {
  char *esc = curl_easy_escape(easy, value, 0);
  if (buf_appendf(b, "%c%s=%s", b->len ? '&' : '?', key, esc)) abort();
  curl_free(esc);
}

char *kube__list_query(CURL *easy, const kube_list_options *o, int watch) {
  cubit_buf b;
  buf_init(&b, 1 << 16);
  char num[32];
  if (watch) query_param(&b, easy, "watch", "true");
  if (o) {
    if (o->label_selector && *o->label_selector) query_param(&b, easy, "labelSelector", o->label_selector);
    if (o->field_selector && *o->field_selector) query_param(&b, easy, "fieldSelector", o->field_selector);
    if (o->limit > 0 && !watch) {
      snprintf(num, sizeof(num), "%ld", o->limit);
      query_param(&b, easy, "limit", num);
    }
    if (o->continue_token && *o->continue_token && !watch) query_param(&b, easy, "continue", o->continue_token);
    if (o->resource_version && *o->resource_version)
      query_param(&b, easy, "resourceVersion", o->resource_version);
    if (watch && o->timeout_seconds > 0) {
      snprintf(num, sizeof(num), "%ld", o->timeout_seconds);
      query_param(&b, easy, "timeoutSeconds", num);
    }
    if (watch && o->allow_bookmarks) query_param(&b, easy, "allowWatchBookmarks", "true");
  }
  return buf_detach(&b);
}

int kube_get(kube_client *c, const kube_resource *r, const char *ns, const char *name, json_t **out,
             kube_status *st) {
  char *path = kube_resource_path(r, ns, name, NULL);
  int rc = do_request(c, "GET", path, NULL, NULL, NULL, 0, out, st);
  free(path);
  return rc;
}

int kube_list(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o, json_t **out,
              kube_status *st) {
  CURL *esc = curl_easy_init();
  char *q = kube__list_query(esc, o, 0);
  curl_easy_cleanup(esc);
  char *base = kube_resource_path(r, ns, NULL, NULL);
  char *path = xasprintf("%s%s", base, q);
  int rc = do_request(c, "GET", path, NULL, NULL, NULL, 0, out, st);
  free(path);
  free(base);
  free(q);
  return rc;
}

int kube_list_all(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o,
                  json_t **out, kube_status *st) {
  kube_list_options page = o ? *o : (kube_list_options){0};
  if (page.limit <= 0) page.limit = DEFAULT_PAGE;
  *out = NULL;
  int rc = CUBIT_EGONE;
  for (int attempt = 0; attempt < 3 && rc == CUBIT_EGONE; attempt++) {
    json_t *all = NULL;
    char *cont = NULL;
    for (;;) {
      json_t *one = NULL;
      page.continue_token = cont;
      rc = kube_list(c, r, ns, &page, &one, st);
      free(cont);
      cont = NULL;
      if (rc) break;
      const char *next = js_str(one, "metadata.continue");
      if (next && *next) cont = xstrdup(next);
      if (all == NULL) {
        all = one;
      } else {
        json_array_extend(json_object_get(all, "items"), json_object_get(one, "items"));
        json_decref(one);
      }
      if (cont == NULL) break;
    }
    if (rc == 0) {
      json_t *meta = js_get(all, "metadata");
      if (meta) json_object_del(meta, "continue");
      *out = all;
      return 0;
    }
    /* A continue token that expired mid-way (410) restarts the whole list;
     * a 410 on the first page is the caller's to handle. */
    int mid_way = all != NULL;
    json_decref(all);
    if (!mid_way) return rc;
  }
  return rc;
}

/* --- a List decoded item by item --- */

static size_t skip_ws(const char *p, size_t len, size_t pos) {
  while (pos < len && (p[pos] == ' ' || p[pos] == '\n' || p[pos] == '\r' || p[pos] == '\t')) pos++;
  return pos;
}

/* The JSON value at *pos (any type), advancing *pos past it; NULL if there
 * is none. */
static json_t *value_at(const char *p, size_t len, size_t *pos) {
  json_error_t e;
  json_t *v = json_loadb(p + *pos, len - *pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
  if (v) *pos += (size_t)e.position;
  return v;
}

int kube__list_decode(const char *p, size_t len, const char *api_version, const char *kind, kube_item_cb on_item,
                      void *arg, char **rv, char **cont, kube_status *st) {
  *rv = *cont = NULL;
  size_t pos = skip_ws(p, len, 0);
  if (pos >= len || p[pos] != '{') goto bad;
  pos = skip_ws(p, len, pos + 1);
  while (pos < len && p[pos] != '}') {
    json_t *key = value_at(p, len, &pos);
    if (!json_is_string(key)) {
      json_decref(key);
      goto bad;
    }
    pos = skip_ws(p, len, pos);
    int items = strcmp(json_string_value(key), "items") == 0, meta = strcmp(json_string_value(key), "metadata") == 0;
    json_decref(key);
    if (pos >= len || p[pos] != ':') goto bad;
    pos = skip_ws(p, len, pos + 1);
    if (items && pos < len && p[pos] == '[') {
      pos = skip_ws(p, len, pos + 1);
      while (pos < len && p[pos] != ']') {
        json_t *item = value_at(p, len, &pos);
        if (!json_is_object(item)) {
          json_decref(item);
          goto bad;
        }
        json_object_set_new(item, "apiVersion", json_string(api_version));
        json_object_set_new(item, "kind", json_string(kind));
        int rc = on_item(item, arg);
        if (rc) {
          free(*rv);
          free(*cont);
          *rv = *cont = NULL;
          return rc;
        }
        pos = skip_ws(p, len, pos);
        if (pos < len && p[pos] == ',') pos = skip_ws(p, len, pos + 1);
        else if (pos >= len || p[pos] != ']') goto bad;
      }
      pos++;
    } else {
      json_t *v = value_at(p, len, &pos);
      if (v == NULL) goto bad;
      if (meta) {
        const char *v_rv = js_str(v, "resourceVersion"), *v_cont = js_str(v, "continue");
        if (v_rv && *rv == NULL) *rv = xstrdup(v_rv);
        if (v_cont && *v_cont && *cont == NULL) *cont = xstrdup(v_cont);
      }
      json_decref(v);
    }
    pos = skip_ws(p, len, pos);
    if (pos < len && p[pos] == ',') pos = skip_ws(p, len, pos + 1);
    else if (pos >= len || p[pos] != '}') goto bad;
  }
  if (pos >= len) goto bad;
  return 0;
bad:
  free(*rv);
  free(*cont);
  *rv = *cont = NULL;
  snprintf(st->message, sizeof(st->message), "decoding list: not a List at byte %zu", pos);
  return CUBIT_EINVAL;
}

int kube_list_each(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o,
                   kube_item_cb on_item, void (*on_restart)(void *arg), void *arg, char **rv, kube_status *st) {
  kube_status local;
  if (st == NULL) st = &local;
  kube_list_options page = o ? *o : (kube_list_options){0};
  if (page.limit <= 0) page.limit = DEFAULT_PAGE;
  char *api_version = kube_api_version(r);
  char *base = kube_resource_path(r, ns, NULL, NULL);
  CURL *esc = curl_easy_init();
  int rc = CUBIT_EGONE;
  *rv = NULL;
  for (int attempt = 0; attempt < 3 && rc == CUBIT_EGONE; attempt++) {
    char *page_rv = NULL, *cont = NULL, *first_rv = NULL;
    int pages = 0;
    for (;;) {
      page.continue_token = cont;
      char *q = kube__list_query(esc, &page, 0);
      char *path = xasprintf("%s%s", base, q);
      cubit_buf body;
      buf_init(&body, 0);
      rc = do_request_raw(c, "GET", path, NULL, NULL, NULL, 0, NULL, &body, st);
      free(path);
      free(q);
      free(cont);
      cont = NULL;
      if (rc == 0)
        rc = kube__list_decode(body.data ? body.data : "", body.len, api_version, r->kind, on_item, arg, &page_rv,
                               &cont, st);
      buf_free(&body);
      if (rc) break;
      pages++;
      if (first_rv == NULL) first_rv = page_rv;
      else free(page_rv);
      page_rv = NULL;
      if (cont == NULL) break;
    }
    free(cont);
    if (rc == 0) {
      *rv = first_rv;
      break;
    }
    free(first_rv);
    /* A continue token that expired mid-way (410) restarts the whole list;
     * a 410 on the first page is the caller's to handle. */
    if (rc != CUBIT_EGONE || pages == 0) break;
    if (on_restart) on_restart(arg);
  }
  curl_easy_cleanup(esc);
  free(base);
  free(api_version);
  return rc;
}

static int write_object(kube_client *c, const char *method, const kube_resource *r, const char *ns,
                        const char *name, const char *sub, const char *query, const char *content_type,
                        const json_t *obj, json_t **out, kube_status *st) {
  char *base = kube_resource_path(r, ns, name, sub);
  char *path = query ? xasprintf("%s%s", base, query) : xstrdup(base);
  char *body = js_dump(obj);
  int rc = do_request(c, method, path, NULL, content_type, body, strlen(body), out, st);
  free(body);
  free(path);
  free(base);
  return rc;
}

static const char *obj_ns(const kube_resource *r, const char *ns, const json_t *obj) {
  if (!r->namespaced) return NULL;
  return ns ? ns : js_namespace(obj);
}

int kube_create(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj, json_t **out,
                kube_status *st) {
  return write_object(c, "POST", r, obj_ns(r, ns, obj), NULL, NULL, NULL, "application/json", obj, out, st);
}

int kube_update(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj, json_t **out,
                kube_status *st) {
  return write_object(c, "PUT", r, obj_ns(r, ns, obj), js_name(obj), NULL, NULL, "application/json", obj, out,
                      st);
}

int kube_update_status(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj, json_t **out,
                       kube_status *st) {
  return write_object(c, "PUT", r, obj_ns(r, ns, obj), js_name(obj), "status", NULL, "application/json", obj,
                      out, st);
}

int kube_patch(kube_client *c, const kube_resource *r, const char *ns, const char *name, const json_t *patch,
               const kube_patch_options *o, json_t **out, kube_status *st) {
  static const char *types[] = {"application/merge-patch+json", "application/json-patch+json",
                                "application/strategic-merge-patch+json", "application/apply-patch+yaml"};
  kube_patch_options none = {KUBE_PATCH_MERGE, NULL, 0, NULL};
  if (o == NULL) o = &none;
  char *query = NULL;
  if (o->field_manager) {
    CURL *esc = curl_easy_init();
    char *fm = curl_easy_escape(esc, o->field_manager, 0);
    query = xasprintf("?fieldManager=%s%s", fm, o->type == KUBE_PATCH_APPLY && o->force ? "&force=true" : "");
    curl_free(fm);
    curl_easy_cleanup(esc);
  } else if (o->type == KUBE_PATCH_APPLY) {
    if (st) snprintf(st->message, sizeof(st->message), "server-side apply needs a field manager");
    return CUBIT_EINVAL;
  }
  /* JSON is YAML, so an apply patch is sent as the JSON text itself. */
  int rc = write_object(c, "PATCH", r, r->namespaced ? ns : NULL, name, o->subresource, query, types[o->type],
                        patch, out, st);
  free(query);
  return rc;
}

int kube_apply(kube_client *c, const kube_resource *r, const json_t *obj, const char *field_manager, int force,
               json_t **out, kube_status *st) {
  kube_patch_options o = {KUBE_PATCH_APPLY, field_manager, force, NULL};
  return kube_patch(c, r, js_namespace(obj), js_name(obj), obj, &o, out, st);
}

int kube_delete(kube_client *c, const kube_resource *r, const char *ns, const char *name,
                const kube_delete_options *o, kube_status *st) {
  json_t *body = json_object();
  json_object_set_new(body, "apiVersion", json_string("v1"));
  json_object_set_new(body, "kind", json_string("DeleteOptions"));
  if (o) {
    if (o->propagation_policy) json_object_set_new(body, "propagationPolicy", json_string(o->propagation_policy));
    if (o->set_grace_period)
      json_object_set_new(body, "gracePeriodSeconds", json_integer(o->grace_period_seconds));
    if (o->precondition_uid || o->precondition_resource_version) {
      json_t *pre = json_object();
      if (o->precondition_uid) json_object_set_new(pre, "uid", json_string(o->precondition_uid));
      if (o->precondition_resource_version)
        json_object_set_new(pre, "resourceVersion", json_string(o->precondition_resource_version));
      json_object_set_new(body, "preconditions", pre);
    }
  }
  int rc = write_object(c, "DELETE", r, r->namespaced ? ns : NULL, name, NULL, NULL, "application/json", body,
                        NULL, st);
  json_decref(body);
  return rc;
}
