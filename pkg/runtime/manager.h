/* The manager: one process hosting every controller and the webhook server.
 *
 * It owns the libuv loop (run on the thread that calls rt_manager_run: the
 * loop thread drives every watch and HTTP server), the shared informers, the
 * reconcile worker threads, leader election and the health and metrics
 * endpoints. Only the leader reconciles; every replica keeps its caches warm
 * and serves webhooks. SIGTERM or SIGINT drains the workers, releases the
 * lease and returns. */
#ifndef CUBIT_RUNTIME_MANAGER_H
#define CUBIT_RUNTIME_MANAGER_H

#include <uv.h>

#include "cache/informer.h"
#include "http/server.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "runtime/controller.h"
#include "util/metrics.h"

typedef struct rt_manager_options {
  const char *kubeconfig;       /* NULL: $KUBECONFIG, ~/.kube/config, then in-cluster */
  const char *context;
  int leader_elect;
  const char *leader_election_namespace; /* default "cubit-system" */
  const char *leader_election_id;        /* default "cubit-manager-leader" */
  const char *metrics_bind_address;      /* default "127.0.0.1:8443"; "0" disables */
  int metrics_secure;                    /* default 1: /metrics over TLS, callers authenticated
                                          * (TokenReview) and authorised (SubjectAccessReview:
                                          * get on the non-resource URL /metrics) */
  const char *metrics_cert_dir;          /* tls.crt and tls.key of the metrics server; NULL:
                                          * the webhook's when webhooks are served, else
                                          * self-issued at start (clients cannot verify those) */
  const char *health_probe_bind_address; /* default "127.0.0.1:8081"; "0" disables */
  const char *webhook_bind_address;      /* default "127.0.0.1:9443"; "0" disables */
  const char *webhook_cert_dir;          /* where tls.crt and tls.key are (default
                                          * /tmp/k8s-webhook-server/serving-certs) */
  const char *webhook_certs;             /* "self" (default): the manager issues and renews
                                          * them; "external": files from cert-manager */
  const char *webhook_hosts;             /* SANs for self-issued certificates, comma-separated
                                          * (default cubit-webhook.cubit-system.svc) */
  const char *webhook_config_name;       /* webhook configurations whose caBundle is kept
                                          * (default cubit-webhook) */
  long webhook_cert_validity_s;          /* default one year */
  int webhook_cert_check_s;              /* default 60 */
  const char *config_file;               /* the manager's configuration (YAML), or NULL */
  int verbosity;
  double qps;                            /* client-side rate limit; 0 (default): none */
  int burst;                             /* default 100 */
  const char *identity;                  /* default hostname_pid */
} rt_manager_options;

/* Parses the manager's command line into o (strings point into argv).
 * Returns 0, 1 when --help was printed, or CUBIT_EINVAL with a message
 * naming the flag in errbuf. */
int rt_manager_parse_flags(int argc, char **argv, rt_manager_options *o, char *errbuf, size_t errlen) CUBIT_WUR;

/* Reads the configuration file (YAML) at path into a JSON object (an
 * empty one when path is NULL); the caller owns *out. A file that cannot be
 * read, is not YAML or whose top level is not a mapping: a code, with the
 * reason in err. rt_manager_new reads --config with it; --check-config too. */
int rt_manager_load_config(const char *path, json_t **out, char *err, size_t errlen) CUBIT_WUR;

/* Loads the configuration and connects (discovery). Returns 0 or a code
 * with the reason logged. */
int rt_manager_new(const rt_manager_options *o, rt_manager **out) CUBIT_WUR;
void rt_manager_free(rt_manager *m);

kube_client *rt_manager_client(rt_manager *m);
/* The configuration file as JSON (an empty object without --config);
 * borrowed, valid for the manager's life. Sections belong to controllers
 * and webhooks ("gpu", "gang", ...). */
json_t *rt_manager_config(rt_manager *m);
kube_discovery *rt_manager_discovery(rt_manager *m);
metrics_registry *rt_manager_metrics(rt_manager *m);
uv_loop_t *rt_manager_loop(rt_manager *m);
/* The shared informer for r, created on first use (before run, or on the
 * loop thread). It starts when the manager runs if the API server serves r,
 * otherwise as soon as r appears (a CRD becomes Established). */
cache_informer *rt_manager_informer(rt_manager *m, const kube_resource *r);
/* Indexes r's shared store by namespace and the value of label_key, before
 * run: a reader finds the objects labelled for one owner with
 * cache_store_by_namespaced_label instead of decoding its whole namespace
 * (the store keeps text: every object read is decoded). */
void rt_manager_index_label(rt_manager *m, const kube_resource *r, const char *label_key);
/* The webhook server (NULL when disabled), to add routes before run. */
http_server *rt_manager_webhook_server(rt_manager *m);

/* Runs until SIGTERM/SIGINT or lost leadership. Returns the process exit
 * code: 0 after a clean shutdown, 1 when leadership was lost. */
int rt_manager_run(rt_manager *m);
/* Asks a running manager to stop, from any thread. */
void rt_manager_stop(rt_manager *m);

#endif
