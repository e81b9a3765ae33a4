#include "runtime/manager.h"

#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/fields.h"
#include "runtime/internal.h"
#include "runtime/authz.h"
#include "runtime/certs.h"
#include "runtime/guard.h"
#include "runtime/leader.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/yaml.h"

typedef struct informer_entry {
  const kube_resource *resource;
  cache_informer *informer;
  int started;
  struct informer_entry *next;
} informer_entry;

struct rt_manager {
  rt_manager_options opts;
  char *identity;
  json_t *settings; /* --config, as JSON */
  kube_config config;
  kube_client *client;
  rt_guard *guard; /* on client: what RBAC cannot say */
  kube_discovery *discovery;
  metrics_registry *metrics;
  rt_recorder *recorder;
  uv_loop_t loop;
  kube_watcher *watcher;
  informer_entry *informers; /* loop thread only */
  rt_members *_Atomic members; /* member clusters' informers, while running */
  rt_controller *controllers;
  http_server *health, *metrics_srv, *webhook;
  rt_authz *authz;         /* of /metrics when secure, else NULL */
  kube_client *authz_client; /* its own rate limit: reviews never slow the controllers */
  char *metrics_cert_tmp;  /* a self-issued metrics certificate's directory, removed at free */
  rt_certs *certs;
  rt_leader *leader;
  uv_signal_t sigterm, sigint;
  uv_async_t stop_async, leading_async;
  uv_timer_t discovery_timer;
  uv_work_t discovery_work;
  int discovery_running, discovery_again;
  int discovery_rc;
  atomic_int exit_code;
  int running;
};

/* ---------------------------------------------------------------- flags */

static void usage(FILE *out) {
  fprintf(out,
          "Usage: cubit-manager [flags]\n"
          "  --kubeconfig PATH                 kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
          "  --context NAME                    kubeconfig context to use\n"
          "  --leader-elect                    elect a leader on a Lease; only the leader reconciles\n"
          "  --leader-election-namespace NS    namespace of the Lease (default cubit-system)\n"
          "  --leader-election-id NAME         name of the Lease (default cubit-manager-leader)\n"
          "  --metrics-bind-address ADDR       /metrics (default 127.0.0.1:8443, 0 disables)\n"
          "  --metrics-secure[=true|false]     serve /metrics over TLS to callers whose token may get\n"
          "                                    /metrics (TokenReview, SubjectAccessReview) (default true)\n"
          "  --metrics-cert-dir DIR            tls.crt and tls.key of the metrics server (default: the\n"
          "                                    webhook's, or self-issued without webhooks)\n"
          "  --health-probe-bind-address ADDR  /healthz and /readyz (default 127.0.0.1:8081, 0 disables)\n"
          "  --webhook-bind-address ADDR       admission webhooks (default 127.0.0.1:9443, 0 disables)\n"
          "  --webhook-cert-dir DIR            tls.crt and tls.key of the webhook server\n"
          "                                    (default /tmp/k8s-webhook-server/serving-certs)\n"
          "  --webhook-certs self|external     self: issue, store (Secret) and renew them; external:\n"
          "                                    read the files (cert-manager) (default self)\n"
          "  --webhook-hosts LIST              DNS names and IPs of self-issued certificates\n"
          "                                    (default cubit-webhook.cubit-system.svc)\n"
          "  --webhook-config-name NAME        webhook configurations to keep the caBundle of\n"
          "                                    (default cubit-webhook)\n"
          "  --webhook-cert-validity SECONDS   lifetime of self-issued certificates (default 1 year)\n"
          "  --webhook-cert-check SECONDS      how often certificates are checked (default 60)\n"
          "  --config FILE                     configuration (YAML): GPU profile, gang scheduler, ...\n"
          "  --kube-api-qps N                  client-side request rate; 0: none, the API\n"
          "                                    server's priority and fairness decides (default 0)\n"
          "  --kube-api-burst N                client-side burst when a rate is set (default 100)\n"
          "  --identity NAME                   leader election identity (default hostname_pid)\n"
          "  -v, --v N                         log verbosity (default 0)\n"
          "  -h, --help                        this text\n");
}

int rt_manager_parse_flags(int argc, char **argv, rt_manager_options *o, char *errbuf, size_t errlen) {
  enum { F_KUBECONFIG = 256, F_CONTEXT, F_LEADER, F_LEADER_NS, F_LEADER_ID, F_METRICS, F_HEALTH, F_WEBHOOK,
         F_CERTDIR, F_QPS, F_BURST, F_IDENTITY, F_CERTS, F_HOSTS, F_CONFIGNAME, F_VALIDITY, F_CHECK, F_CONFIG,
         F_METRICS_SECURE, F_METRICS_CERTDIR };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, F_KUBECONFIG},
      {"context", required_argument, NULL, F_CONTEXT},
      {"leader-elect", optional_argument, NULL, F_LEADER},
      {"leader-election-namespace", required_argument, NULL, F_LEADER_NS},
      {"leader-election-id", required_argument, NULL, F_LEADER_ID},
      {"metrics-bind-address", required_argument, NULL, F_METRICS},
      {"metrics-secure", optional_argument, NULL, F_METRICS_SECURE},
      {"metrics-cert-dir", required_argument, NULL, F_METRICS_CERTDIR},
      {"health-probe-bind-address", required_argument, NULL, F_HEALTH},
      {"webhook-bind-address", required_argument, NULL, F_WEBHOOK},
      {"webhook-cert-dir", required_argument, NULL, F_CERTDIR},
      {"webhook-certs", required_argument, NULL, F_CERTS},
      {"webhook-hosts", required_argument, NULL, F_HOSTS},
      {"webhook-config-name", required_argument, NULL, F_CONFIGNAME},
      {"webhook-cert-validity", required_argument, NULL, F_VALIDITY},
      {"webhook-cert-check", required_argument, NULL, F_CHECK},
      {"kube-api-qps", required_argument, NULL, F_QPS},
      {"kube-api-burst", required_argument, NULL, F_BURST},
      {"identity", required_argument, NULL, F_IDENTITY},
      {"config", required_argument, NULL, F_CONFIG},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  o->leader_election_namespace = "cubit-system";
  o->leader_election_id = "cubit-manager-leader";
  o->metrics_bind_address = "127.0.0.1:8443";
  o->metrics_secure = 1;
  o->health_probe_bind_address = "127.0.0.1:8081";
  o->webhook_bind_address = "127.0.0.1:9443";
  o->webhook_cert_dir = "/tmp/k8s-webhook-server/serving-certs";
  o->webhook_certs = "self";
  o->webhook_hosts = "cubit-webhook.cubit-system.svc,cubit-webhook.cubit-system.svc.cluster.local";
  o->webhook_config_name = "cubit-webhook";
  o->webhook_cert_validity_s = 365L * 86400;
  o->webhook_cert_check_s = 60;
  /* No client-side limit by default: the API server's priority and fairness
   * queues what it cannot serve (controller-runtime's default since v0.21).
   * 50/s held 2,000 Notebooks' 12,000 requests to 240 s at least while the
   * API server had room (docs/runtime.md). */
  o->qps = 0;
  o->burst = 100;
  optind = 1;
  opterr = 0;
  int ch;
  char *end;
  while ((ch = getopt_long(argc, argv, ":v:h", longopts, NULL)) != -1) {
    switch (ch) {
      case F_KUBECONFIG: o->kubeconfig = optarg; break;
      case F_CONTEXT: o->context = optarg; break;
      case F_LEADER:
        if (optarg && strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0) {
          snprintf(errbuf, errlen, "--leader-elect: want true or false, got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        o->leader_elect = optarg == NULL || strcmp(optarg, "true") == 0;
        break;
      case F_LEADER_NS: o->leader_election_namespace = optarg; break;
      case F_LEADER_ID: o->leader_election_id = optarg; break;
      case F_METRICS: o->metrics_bind_address = optarg; break;
      case F_METRICS_SECURE:
        if (optarg && strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0) {
          snprintf(errbuf, errlen, "--metrics-secure: want true or false, got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        o->metrics_secure = optarg == NULL || strcmp(optarg, "true") == 0;
        break;
      case F_METRICS_CERTDIR: o->metrics_cert_dir = optarg; break;
      case F_HEALTH: o->health_probe_bind_address = optarg; break;
      case F_WEBHOOK: o->webhook_bind_address = optarg; break;
      case F_CERTDIR: o->webhook_cert_dir = optarg; break;
      case F_IDENTITY: o->identity = optarg; break;
      case F_CONFIG: o->config_file = optarg; break;
      case F_CERTS:
        if (strcmp(optarg, "self") != 0 && strcmp(optarg, "external") != 0) {
          snprintf(errbuf, errlen, "--webhook-certs: want self or external, got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        o->webhook_certs = optarg;
        break;
      case F_HOSTS: o->webhook_hosts = optarg; break;
      case F_CONFIGNAME: o->webhook_config_name = optarg; break;
      case F_VALIDITY:
        o->webhook_cert_validity_s = strtol(optarg, &end, 10);
        if (*end || o->webhook_cert_validity_s < 60) {
          snprintf(errbuf, errlen, "--webhook-cert-validity: want seconds (at least 60), got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        break;
      case F_CHECK:
        o->webhook_cert_check_s = (int)strtol(optarg, &end, 10);
        if (*end || o->webhook_cert_check_s < 1) {
          snprintf(errbuf, errlen, "--webhook-cert-check: want seconds (at least 1), got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        break;
      case F_QPS:
        o->qps = strtod(optarg, &end);
        if (*end || o->qps < 0) {
          snprintf(errbuf, errlen, "--kube-api-qps: not a non-negative number: \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        break;
      case F_BURST:
        o->burst = (int)strtol(optarg, &end, 10);
        if (*end || o->burst < 1) {
          snprintf(errbuf, errlen, "--kube-api-burst: not a positive integer: \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        break;
      case 'v':
        o->verbosity = (int)strtol(optarg, &end, 10);
        if (*end || o->verbosity < 0 || o->verbosity > 10) {
          snprintf(errbuf, errlen, "-v: want a level from 0 to 10, got \"%s\"", optarg);
          return CUBIT_EINVAL;
        }
        break;
      case 'h': usage(stdout); return 1;
      case ':':
        snprintf(errbuf, errlen, "%s: needs a value", argv[optind - 1]);
        return CUBIT_EINVAL;
      default:
        snprintf(errbuf, errlen, "%s: unknown flag (see --help)", argv[optind - 1]);
        return CUBIT_EINVAL;
    }
  }
  if (optind < argc) {
    snprintf(errbuf, errlen, "unexpected argument \"%s\"", argv[optind]);
    return CUBIT_EINVAL;
  }
  return 0;
}

/* ------------------------------------------------------------ accessors */

kube_client *rt_manager_client(rt_manager *m) {
  return m->client;
}
json_t *rt_manager_config(rt_manager *m) {
  return m->settings;
}
kube_discovery *rt_manager_discovery(rt_manager *m) {
  return m->discovery;
}
metrics_registry *rt_manager_metrics(rt_manager *m) {
  return m->metrics;
}
uv_loop_t *rt_manager_loop(rt_manager *m) {
  return &m->loop;
}
http_server *rt_manager_webhook_server(rt_manager *m) {
  return m->webhook;
}
rt_members *rt__manager_members(rt_manager *m) {
  return atomic_load(&m->members);
}
void rt__manager_client_limits(rt_manager *m, kube_client_options *o) {
  o->qps = m->opts.qps;
  o->burst = m->opts.burst;
}
rt_controller *rt__manager_controllers(rt_manager *m) {
  return m->controllers;
}

rt_controller *rt__manager_find_controller(rt_manager *m, const char *name) {
  for (rt_controller *c = m->controllers; c; c = c->next)
    if (strcmp(c->def.name, name) == 0) return c;
  return NULL;
}

static int same_resource(const kube_resource *a, const kube_resource *b) {
  return strcmp(a->group, b->group) == 0 && strcmp(a->version, b->version) == 0 &&
         strcmp(a->resource, b->resource) == 0;
}

cache_informer *rt__manager_informer_find(rt_manager *m, const kube_resource *r) {
  for (informer_entry *e = m->informers; e; e = e->next)
    if (same_resource(e->resource, r)) return e->informer;
  return NULL;
}

cache_informer *rt_manager_informer(rt_manager *m, const kube_resource *r) {
  for (informer_entry *e = m->informers; e; e = e->next)
    if (same_resource(e->resource, r)) return e->informer;
  informer_entry *e = xcalloc(1, sizeof(*e));
  e->resource = r;
  cache_informer_options o = {0};
  o.resource = r;
  o.fields = rt_cached_fields(r);
  o.applied_by = rt_cached_applier(r);
  o.field_selector = rt_cached_selector(r);
  o.page_size = rt_cached_page_size(r);
  e->informer = cache_informer_new(&m->loop, m->client, m->watcher, &o);
  cache_store *s = cache_informer_store(e->informer);
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  e->next = m->informers;
  m->informers = e;
  if (m->running) {
    /* Registered while running (loop thread): start at once if served. */
    if (kube_discovery_has_resource(m->discovery, r) && cache_informer_start(e->informer) == 0) e->started = 1;
  }
  return e->informer;
}

void rt_manager_index_label(rt_manager *m, const kube_resource *r, const char *label_key) {
  cache_store_index_namespaced_label(cache_informer_store(rt_manager_informer(m, r)), label_key);
}

/* Starts every registered informer whose API is now served. Loop thread. */
static void start_served_informers(rt_manager *m) {
  for (informer_entry *e = m->informers; e; e = e->next) {
    if (e->started) continue;
    if (!kube_discovery_has_resource(m->discovery, e->resource)) {
      log_info("manager", "API not served; waiting for it", "resource=%s group=%s version=%s",
               e->resource->resource, e->resource->group, e->resource->version);
      continue;
    }
    if (cache_informer_start(e->informer) == 0) {
      e->started = 1;
      log_v(1, "manager", "informer started", "resource=%s group=%s", e->resource->resource, e->resource->group);
    }
  }
}

/* --------------------------------------------------------------- http */

static void healthz(const http_request *req, http_response *resp, void *arg) {
  resp->status = 200;
  if (buf_appends(&resp->body, "ok")) resp->status = 500;
}

static void readyz(const http_request *req, http_response *resp, void *arg) {
  rt_manager *m = arg;
  int ready = 1;
  for (informer_entry *e = m->informers; e; e = e->next) {
    if (!e->started || cache_informer_has_synced(e->informer)) continue;
    ready = 0;
    if (buf_appendf(&resp->body, "informer %s.%s not synced\n", e->resource->resource, e->resource->group)) break;
  }
  resp->status = ready ? 200 : 503;
  if (ready && buf_appends(&resp->body, "ok")) resp->status = 500;
}

static void metrics_handler(const http_request *req, http_response *resp, void *arg) {
  rt_manager *m = arg;
  resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
  resp->status = metrics_write(m->metrics, &resp->body) ? 500 : 200;
}

/* /metrics for callers the API server vouches for (offloaded: a cache miss
 * waits on a TokenReview and a SubjectAccessReview). */
static void secure_metrics_handler(const http_request *req, http_response *resp, void *arg) {
  rt_manager *m = arg;
  rt_authz_result r;
  rt_authz_check(m->authz, http_request_header(req, "Authorization"), req->method, req->path, time_wall_s(), &r);
  if (r.status == 200) {
    metrics_handler(req, resp, arg);
    return;
  }
  log_v(r.cached ? 4 : 2, "manager", "metrics request refused", "remote=%s status=%d user=%s reason=\"%s\"",
        req->remote, r.status, r.user, r.reason);
  resp->status = r.status;
  const char *what = r.status == 401 ? "Unauthorized" : r.status == 403 ? "Forbidden" : "Service Unavailable";
  if (buf_appendf(&resp->body, "%s: %s\n", what, r.reason)) buf_reset(&resp->body);
  if (r.status == 401 && http_response_header(resp, "WWW-Authenticate", "Bearer")) resp->status = 500;
  if (r.status == 503 && http_response_header(resp, "Retry-After", "1")) resp->status = 500;
}

/* A serving pair for the metrics server when there is no other: a CA that
 * lives only in memory signs it, so clients cannot verify it (they skip
 * verification, as with controller-runtime's self-signed metrics). Written
 * into a new directory under $TMPDIR (or /tmp). */
static int issue_metrics_certs(char **dir_out) {
  *dir_out = NULL;
  char *ca_key = NULL, *ca_cert = NULL, *key = NULL, *cert = NULL;
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  char *hosts = xasprintf("localhost,127.0.0.1,%s", host);
  const long validity = 10L * 365 * 86400; /* regenerated at each start anyway */
  int rc = rt__certs_make_ca(validity, &ca_key, &ca_cert);
  if (rc == 0) rc = rt__certs_make_serving(ca_key, ca_cert, hosts, validity, &key, &cert);
  const char *tmp = getenv("TMPDIR");
  char *dir = xasprintf("%s/cubit-metrics-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (rc == 0 && mkdtemp(dir) == NULL) rc = CUBIT_EIO;
  for (int i = 0; rc == 0 && i < 2; i++) {
    char *path = xasprintf("%s/%s", dir, i ? "tls.key" : "tls.crt");
    FILE *f = fopen(path, "wx");
    if (f == NULL || fputs(i ? key : cert, f) < 0) rc = CUBIT_EIO;
    if (f && fclose(f) != 0) rc = CUBIT_EIO;
    free(path);
  }
  if (rc == 0) *dir_out = dir;
  else free(dir);
  free(hosts);
  free(ca_key);
  free(ca_cert);
  free(key);
  free(cert);
  return rc;
}

static void remove_metrics_certs(char *dir) {
  if (dir == NULL) return;
  for (int i = 0; i < 2; i++) {
    char *path = xasprintf("%s/%s", dir, i ? "tls.key" : "tls.crt");
    unlink(path);
    free(path);
  }
  rmdir(dir);
  free(dir);
}

static int new_server(rt_manager *m, const char *name, const char *bind, const char *cert_dir, http_server **out) {
  *out = NULL;
  if (bind == NULL || strcmp(bind, "0") == 0) return 0;
  http_server_opts o;
  http_server_opts_init(&o);
  o.name = name;
  o.bind = bind;
  o.metrics = m->metrics;
  /* The kubelet and a scraper or two come to health and metrics; the API
   * server, from a few addresses, to the webhooks. */
  if (strcmp(name, "webhook") != 0) o.max_connections_per_client = 32;
  char *cert = NULL, *key = NULL;
  if (cert_dir) {
    cert = xasprintf("%s/tls.crt", cert_dir);
    key = xasprintf("%s/tls.key", cert_dir);
    o.cert_file = cert;
    o.key_file = key;
  }
  int rc = http_server_new(&m->loop, &o, out);
  free(cert);
  free(key);
  if (rc) log_error("manager", "cannot create server", "server=%s bind=%s error=%s", name, bind, cubit_strerror(rc));
  return rc;
}

/* ------------------------------------------------------- new and free */

static int load_config(const rt_manager_options *o, kube_config *cfg) {
  char err[512] = "";
  int rc;
  const char *env = getenv("KUBECONFIG");
  if (o->kubeconfig || (env && *env)) {
    rc = kube_config_load(o->kubeconfig, o->context, cfg, err, sizeof(err));
  } else if (getenv("KUBERNETES_SERVICE_HOST")) {
    rc = kube_config_in_cluster(NULL, cfg, err, sizeof(err));
  } else {
    rc = kube_config_load(NULL, o->context, cfg, err, sizeof(err));
  }
  if (rc) log_error("manager", "cannot load configuration", "error=\"%s\"", err);
  return rc;
}

int rt_manager_load_config(const char *path, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (err && errlen) err[0] = '\0';
  if (path == NULL) {
    *out = json_object();
    return 0;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) return cubit_errorf(err, errlen, CUBIT_EIO, "cannot read %s: %s", path, strerror(errno));
  cubit_buf b;
  buf_init(&b, 4 << 20);
  char chunk[8192];
  size_t n;
  int rc = 0;
  while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) rc = buf_append(&b, chunk, n);
  fclose(f);
  if (rc) cubit_errorf(err, errlen, rc, "%s: longer than 4 MiB", path);
  if (rc == 0) rc = yaml_to_json(b.data ? b.data : "", b.len, out, err, errlen);
  if (rc == 0 && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "the top level must be a mapping");
  }
  if (rc && err && errlen && err[0] == '\0') snprintf(err, errlen, "%s", cubit_strerror(rc));
  buf_free(&b);
  return rc;
}

/* Reads --config; the reason of a failure is logged. */
static int load_settings(const char *path, json_t **out) {
  char err[512];
  int rc = rt_manager_load_config(path, out, err, sizeof(err));
  if (rc) log_error("manager", "bad --config", "path=%s error=\"%s\"", path, err);
  return rc;
}

int rt_manager_new(const rt_manager_options *o, rt_manager **out) {
#ifdef __GLIBC__
  /* glibc gives every thread that allocates an arena of its own (up to 8
   * per core) and keeps what was freed there for that thread: with a worker
   * pool per controller, most of an idle manager's heap was such per-thread
   * reserves. Two arenas keep the workers from contending on one lock. Set
   * before any thread starts. */
  mallopt(M_ARENA_MAX, 2);
#endif
  rt_manager *m = xcalloc(1, sizeof(*m));
  m->opts = *o;
  int rc = load_settings(o->config_file, &m->settings);
  if (rc) {
    free(m);
    return rc;
  }
  rc = load_config(o, &m->config);
  if (rc) goto fail_config;
  char host[256] = "cubit";
  gethostname(host, sizeof(host) - 1);
  m->identity = o->identity ? xstrdup(o->identity) : xasprintf("%s_%d", host, (int)getpid());
  m->metrics = metrics_registry_new();
  kube_client_options co = {0};
  co.qps = o->qps;
  co.burst = o->burst;
  co.metrics = m->metrics;
  rc = kube_client_new(&m->config, &co, &m->client);
  if (rc) goto fail_client;
  rt_guard_options go = {o->leader_election_namespace, "cubit-project:"};
  m->guard = rt_guard_install(m->client, &go);
  m->discovery = kube_discovery_new(m->client);
  kube_status st = {0};
  rc = kube_discovery_refresh(m->discovery, &st);
  if (rc) {
    log_error("manager", "cannot reach the API server", "server=%s error=%s message=\"%s\"", m->config.server,
              cubit_strerror(rc), st.message);
    goto fail_discovery;
  }
  log_info("manager", "connected", "server=%s context=%s resources=%zu identity=%s", m->config.server,
           m->config.context ? m->config.context : "", kube_discovery_count(m->discovery), m->identity);
  m->recorder = rt_recorder_new(m->client, "cubit-manager");
  uv_loop_init(&m->loop);
  rc = kube_watcher_new(&m->loop, m->client, &m->watcher);
  if (rc) goto fail_watcher;
  int webhooks = o->webhook_bind_address && strcmp(o->webhook_bind_address, "0") != 0;
  if (webhooks && strcmp(o->webhook_certs, "self") == 0) {
    rt_certs_options co_certs = {0};
    co_certs.namespace = o->leader_election_namespace;
    co_certs.secret_name = "cubit-webhook-certs";
    co_certs.cert_dir = o->webhook_cert_dir;
    co_certs.hosts = o->webhook_hosts;
    co_certs.webhook_config = o->webhook_config_name;
    co_certs.validity_s = o->webhook_cert_validity_s;
    rc = rt_certs_start(m->client, &co_certs, o->webhook_cert_check_s, &m->certs);
    if (rc) {
      log_error("manager", "cannot issue webhook certificates", "error=%s", cubit_strerror(rc));
      goto fail_certs;
    }
  }
  int metrics = o->metrics_bind_address && strcmp(o->metrics_bind_address, "0") != 0;
  const char *metrics_certs = NULL;
  if (metrics && o->metrics_secure) {
    metrics_certs = o->metrics_cert_dir ? o->metrics_cert_dir : webhooks ? o->webhook_cert_dir : NULL;
    if (metrics_certs == NULL) {
      rc = issue_metrics_certs(&m->metrics_cert_tmp);
      if (rc) {
        log_error("manager", "cannot issue a metrics certificate", "error=%s", cubit_strerror(rc));
        goto fail_certs_metrics;
      }
      metrics_certs = m->metrics_cert_tmp;
      log_info("manager", "metrics served with a self-issued certificate", "dir=%s", metrics_certs);
    }
    kube_client_options ao = {0};
    ao.qps = 20;
    ao.burst = 40;
    ao.timeout_ms = 10000;
    ao.metrics = m->metrics;
    rc = kube_client_new(&m->config, &ao, &m->authz_client);
    if (rc) goto fail_authz;
    m->authz = rt_authz_new(m->authz_client, NULL);
  }
  rc = new_server(m, "health", o->health_probe_bind_address, NULL, &m->health);
  if (rc == 0) rc = new_server(m, "metrics", o->metrics_bind_address, metrics_certs, &m->metrics_srv);
  if (rc == 0 && webhooks) rc = new_server(m, "webhook", o->webhook_bind_address, o->webhook_cert_dir, &m->webhook);
  if (rc) goto fail_servers;
  if (m->health) {
    if (http_server_route(m->health, "/healthz", "GET,HEAD", 0, healthz, m, HTTP_ROUTE_INLINE) ||
        http_server_route(m->health, "/readyz", "GET,HEAD", 0, readyz, m, HTTP_ROUTE_INLINE))
      abort();
  }
  if (m->metrics_srv && http_server_route(m->metrics_srv, "/metrics", "GET,HEAD", 0,
                                          m->authz ? secure_metrics_handler : metrics_handler, m,
                                          m->authz ? HTTP_ROUTE_OFFLOAD : HTTP_ROUTE_INLINE))
    abort();
  *out = m;
  return 0;

fail_servers:
  /* Servers and the watcher close asynchronously; the loop runs below. */
  if (m->health) http_server_close(m->health, NULL, NULL);
  if (m->metrics_srv) http_server_close(m->metrics_srv, NULL, NULL);
  if (m->webhook) http_server_close(m->webhook, NULL, NULL);
  rt_authz_free(m->authz);
  kube_client_free(m->authz_client);
fail_authz:
  remove_metrics_certs(m->metrics_cert_tmp);
fail_certs_metrics:
  rt_certs_stop(m->certs);
fail_certs:
  kube_watcher_close(m->watcher, NULL, NULL);
  uv_run(&m->loop, UV_RUN_DEFAULT);
fail_watcher:
  uv_loop_close(&m->loop);
  rt_recorder_free(m->recorder);
fail_discovery:
  kube_discovery_free(m->discovery);
  kube_client_free(m->client);
  rt_guard_free(m->guard);
fail_client:
  metrics_registry_free(m->metrics);
  free(m->identity);
  kube_config_free(&m->config);
fail_config:
  json_decref(m->settings);
  free(m);
  return rc;
}

int rt_manager_add_controller(rt_manager *m, const rt_controller_def *def) {
  rt_controller *c = xcalloc(1, sizeof(*c));
  c->def = *def;
  if (c->def.workers <= 0) c->def.workers = 2;
  c->ctx.mgr = m;
  c->ctx.client = m->client;
  c->ctx.events = m->recorder;
  c->ctx.discovery = m->discovery;
  c->ctx.controller = c->def.name;
  int rc = rt__controller_init(m, c);
  if (rc) {
    free(c);
    return rc;
  }
  c->next = m->controllers;
  m->controllers = c;
  return 0;
}

/* ------------------------------------------- APIs appearing at runtime */

static void discovery_work(uv_work_t *req) {
  rt_manager *m = req->data;
  kube_status st;
  m->discovery_rc = kube_discovery_refresh(m->discovery, &st);
}

static void schedule_discovery(rt_manager *m);

static void discovery_done(uv_work_t *req, int status) {
  rt_manager *m = req->data;
  m->discovery_running = 0;
  if (!m->running) return;
  if (m->discovery_rc == 0) {
    start_served_informers(m);
    /* Objects waiting for an API (a TrainingJob for a missing operator)
     * get another look. */
    for (rt_controller *c = m->controllers; c; c = c->next) rt__controller_resync(m, c);
  }
  if (m->discovery_again) {
    m->discovery_again = 0;
    schedule_discovery(m);
  }
}

static void discovery_fire(uv_timer_t *t) {
  rt_manager *m = t->data;
  if (m->discovery_running) {
    m->discovery_again = 1;
    return;
  }
  m->discovery_running = 1;
  m->discovery_work.data = m;
  uv_queue_work(&m->loop, &m->discovery_work, discovery_work, discovery_done);
}

/* Debounced: a chart installing ten CRDs causes one refresh. */
static void schedule_discovery(rt_manager *m) {
  uv_timer_start(&m->discovery_timer, discovery_fire, 500, 0);
}

/* 1 when discovery already knows every served version of the CRD. */
static int crd_known(rt_manager *m, const json_t *crd) {
  const char *group = js_str(crd, "spec.group"), *plural = js_str(crd, "spec.names.plural");
  size_t i;
  json_t *v;
  if (group == NULL || plural == NULL) return 1;
  json_array_foreach(js_get(crd, "spec.versions"), i, v) {
    const char *name = js_str(v, "name");
    if (name && js_bool(v, "served", 0) && !kube_discovery_has(m->discovery, group, name, plural)) return 0;
  }
  return 1;
}

static void crd_changed(json_t *obj, void *arg) {
  rt_manager *m = arg;
  size_t i;
  json_t *c;
  json_array_foreach(js_get(obj, "status.conditions"), i, c) {
    const char *type = js_str(c, "type"), *status = js_str(c, "status");
    if (type && status && strcmp(type, "Established") == 0 && strcmp(status, "True") == 0) {
      if (m->running && !crd_known(m, obj)) schedule_discovery(m);
      return;
    }
  }
}

static void crd_updated(json_t *old_obj, json_t *new_obj, void *arg) {
  crd_changed(new_obj, arg);
}

static void crd_deleted(json_t *obj, void *arg) {
  rt_manager *m = arg;
  if (m->running) schedule_discovery(m);
}

/* ------------------------------------------------------------------ run */

static void on_signal(uv_signal_t *s, int signum) {
  rt_manager *m = s->data;
  log_info("manager", "signal received, shutting down", "signal=%d", signum);
  uv_stop(&m->loop);
}

static void on_stop_async(uv_async_t *a) {
  rt_manager *m = a->data;
  uv_stop(&m->loop);
}

void rt_manager_stop(rt_manager *m) {
  uv_async_send(&m->stop_async);
}

static void on_leading_async(uv_async_t *a) {
  rt_manager *m = a->data;
  if (m->leader && rt_leader_is_leader(m->leader))
    for (rt_controller *c = m->controllers; c; c = c->next) rt__controller_start(c);
}

static void leader_started(void *arg) {
  rt_manager *m = arg;
  uv_async_send(&m->leading_async);
}

static void leader_stopped(void *arg) {
  rt_manager *m = arg;
  /* As controller-runtime: a replica that lost the lease exits, and its
   * restart campaigns again from a clean state. */
  atomic_store(&m->exit_code, 1);
  rt_manager_stop(m);
}

static void close_cb(uv_handle_t *h) {
  (void)h;
}

static void informer_stopped(void *arg) {
  (void)arg;
}

int rt_manager_run(rt_manager *m) {
  signal(SIGPIPE, SIG_IGN);
  uv_signal_init(&m->loop, &m->sigterm);
  uv_signal_init(&m->loop, &m->sigint);
  m->sigterm.data = m->sigint.data = m;
  uv_signal_start(&m->sigterm, on_signal, SIGTERM);
  uv_signal_start(&m->sigint, on_signal, SIGINT);
  uv_async_init(&m->loop, &m->stop_async, on_stop_async);
  uv_async_init(&m->loop, &m->leading_async, on_leading_async);
  m->stop_async.data = m->leading_async.data = m;
  uv_timer_init(&m->loop, &m->discovery_timer);
  m->discovery_timer.data = m;

  cache_informer *crds = rt_manager_informer(m, &kube_crds);
  cache_handlers h = {crd_changed, crd_updated, crd_deleted, m};
  cache_informer_add_handlers(crds, &h);

  atomic_store(&m->members, rt__members_new(m, &m->loop));
  m->running = 1;
  start_served_informers(m);
  int rc = 0;
  if (m->health) rc = http_server_start(m->health);
  if (rc == 0 && m->metrics_srv) rc = http_server_start(m->metrics_srv);
  if (rc == 0 && m->webhook) rc = http_server_start(m->webhook);
  if (rc) {
    atomic_store(&m->exit_code, 1);
    goto shutdown;
  }
  log_info("manager", "running", "controllers=%s leader_elect=%s health=%s metrics=%s",
           m->controllers ? m->controllers->def.name : "", m->opts.leader_elect ? "true" : "false",
           m->opts.health_probe_bind_address, m->opts.metrics_bind_address);
  if (m->opts.leader_elect) {
    rt_leader_options lo = {0};
    lo.namespace = m->opts.leader_election_namespace;
    lo.name = m->opts.leader_election_id;
    lo.identity = m->identity;
    lo.on_started = leader_started;
    lo.on_stopped = leader_stopped;
    lo.arg = m;
    lo.metrics = m->metrics;
    m->leader = rt_leader_start(m->client, &lo);
  } else {
    for (rt_controller *c = m->controllers; c; c = c->next) rt__controller_start(c);
  }
  uv_run(&m->loop, UV_RUN_DEFAULT);

shutdown:
  /* The loop is stopped: finish in-flight reconciles, give up the lease,
   * then close every handle and let the loop run their close callbacks. */
  m->running = 0;
  for (rt_controller *c = m->controllers; c; c = c->next) rt__controller_stop(c);
  if (m->leader) {
    rt_leader_stop(m->leader, 1);
    m->leader = NULL;
  }
  rt_certs_stop(m->certs);
  m->certs = NULL;
  rt__members_close(atomic_exchange(&m->members, NULL));
  for (informer_entry *e = m->informers; e; e = e->next) {
    cache_informer_stop(e->informer, informer_stopped, NULL);
    e->informer = NULL;
  }
  kube_watcher_close(m->watcher, NULL, NULL);
  m->watcher = NULL;
  if (m->health) http_server_close(m->health, NULL, NULL);
  if (m->metrics_srv) http_server_close(m->metrics_srv, NULL, NULL);
  if (m->webhook) http_server_close(m->webhook, NULL, NULL);
  m->health = m->metrics_srv = m->webhook = NULL;
  uv_close((uv_handle_t *)&m->sigterm, close_cb);
  uv_close((uv_handle_t *)&m->sigint, close_cb);
  uv_close((uv_handle_t *)&m->stop_async, close_cb);
  uv_close((uv_handle_t *)&m->leading_async, close_cb);
  uv_close((uv_handle_t *)&m->discovery_timer, close_cb);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  log_info("manager", "stopped", "exit_code=%d", atomic_load(&m->exit_code));
  return atomic_load(&m->exit_code);
}

void rt_manager_free(rt_manager *m) {
  if (m == NULL) return;
  if (m->watcher || m->health || m->metrics_srv || m->webhook) {
    /* Never ran: close what rt_manager_new opened. */
    for (informer_entry *e = m->informers; e; e = e->next)
      if (e->informer) cache_informer_stop(e->informer, informer_stopped, NULL);
    if (m->watcher) kube_watcher_close(m->watcher, NULL, NULL);
    if (m->health) http_server_close(m->health, NULL, NULL);
    if (m->metrics_srv) http_server_close(m->metrics_srv, NULL, NULL);
    if (m->webhook) http_server_close(m->webhook, NULL, NULL);
    uv_run(&m->loop, UV_RUN_DEFAULT);
  }
  while (m->informers) {
    informer_entry *e = m->informers;
    m->informers = e->next;
    free(e);
  }
  while (m->controllers) {
    rt_controller *c = m->controllers;
    m->controllers = c->next;
    rt__controller_free(c);
  }
  rt_certs_stop(m->certs);
  rt_authz_free(m->authz);
  kube_client_free(m->authz_client);
  remove_metrics_certs(m->metrics_cert_tmp);
  uv_loop_close(&m->loop);
  rt_recorder_free(m->recorder);
  kube_discovery_free(m->discovery);
  kube_client_free(m->client);
  rt_guard_free(m->guard);
  metrics_registry_free(m->metrics);
  free(m->identity);
  kube_config_free(&m->config);
  json_decref(m->settings);
  free(m);
}
