/* Where the API server is and who we are: kubeconfig files, in-cluster
 * configuration, and the credential source that keeps a token or client
 * certificate fresh (rotating service-account tokens, exec plugins).
 *
 * kube_config is plain data owned by the caller; kube_config_free releases
 * every string in it. PEM material is always held as bytes in memory
 * (files are read at load time, base64 "-data" fields are decoded), except
 * token files, which are re-read while running because they rotate. */
#ifndef CUBIT_KUBE_CONFIG_H
#define CUBIT_KUBE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct kube_exec_env {
  char *name;
  char *value;
} kube_exec_env;

/* users[].user.exec of a kubeconfig (client.authentication.k8s.io/v1 or v1beta1). */
typedef struct kube_exec_spec {
  char *api_version;  /* "client.authentication.k8s.io/v1" */
  char *command;      /* run directly (posix_spawnp, PATH lookup), never through a shell */
  char **args;        /* NULL-terminated */
  kube_exec_env *env; /* nenv entries added to the environment */
  size_t nenv;
  int provide_cluster_info;
  char *interactive_mode; /* Never | IfAvailable (default) | Always; we never have a
                           * tty, so Always fails when the plugin would run */
} kube_exec_spec;

typedef struct kube_config {
  char *context;        /* name of the context in use ("" for in-cluster) */
  char *server;         /* https://127.0.0.1:16443, no trailing slash */
  char *tls_server_name;
  char *namespace;      /* context's namespace, or "default" */
  /* trust */
  char *ca_pem;         /* CA bundle bytes, NUL-terminated; NULL = system roots */
  size_t ca_pem_len;
  int insecure_skip_tls_verify;
  /* identity (any combination the kubeconfig allows) */
  char *client_cert_pem;
  size_t client_cert_pem_len;
  char *client_key_pem;
  size_t client_key_pem_len;
  char *token;          /* static bearer token */
  char *token_file;     /* re-read on use: service-account tokens rotate */
  char *username, *password; /* basic auth, rarely used */
  kube_exec_spec *exec; /* NULL unless users[].user.exec is set */
  char *proxy_url;
} kube_config;

/* Loads 'path' (or, when path is NULL, the files listed in $KUBECONFIG, or
 * ~/.kube/config), using 'context' or the current-context when NULL.
 *
 * $KUBECONFIG is a ':'-separated list; missing entries are skipped and the
 * rest are merged as kubectl does: the first file to name a context, cluster
 * or user wins, and the first non-empty current-context wins. Relative file
 * paths (and an exec command containing a '/') are resolved against the
 * directory of the file that holds them.
 *
 * Only the selected context, its cluster and its user are checked, like
 * kubectl. When a user has both token and tokenFile, token wins and
 * token_file stays NULL. Files named by certificate-authority, client-
 * certificate and client-key are read now; tokenFile is read now only to
 * report a wrong path early.
 *
 * On error returns CUBIT_EINVAL (malformed or inconsistent kubeconfig),
 * CUBIT_EIO (a file cannot be read) or CUBIT_ENOMEM, and writes a message
 * that names the offending field and the file, e.g.
 *   "users[0].user.client-certificate-data: not valid base64 (/home/me/.kube/config, line 14)"
 *   "context \"dev\" not found in /home/me/.kube/config"
 * into errbuf (errlen bytes; may be NULL). *out is then zeroed. On success
 * *out is filled and owned by the caller (kube_config_free). */
int kube_config_load(const char *path, const char *context, kube_config *out, char *errbuf,
                     size_t errlen) CUBIT_WUR;

/* A kubeconfig held in memory (a Secret's data), named 'what' in messages
 * ("Secret cubit-system/member-1 key kubeconfig"). It must be
 * self-contained: certificate-authority, client-certificate, client-key and
 * tokenFile paths and exec plugins are refused with CUBIT_EINVAL naming the
 * field, since the manager must never read a file or run a command that a
 * Secret names. Otherwise as kube_config_load with one file. */
int kube_config_load_inline(const char *text, size_t len, const char *what, const char *context,
                            kube_config *out, char *errbuf, size_t errlen) CUBIT_WUR;

/* In-cluster configuration: https://KUBERNETES_SERVICE_HOST:PORT (an IPv6
 * host is bracketed), the service account's token file (kept as token_file
 * so it is re-read; it must be readable now), ca.crt (required) and
 * namespace ("default" when the file is absent). 'root' is normally NULL
 * for /var/run/secrets/kubernetes.io/serviceaccount; tests pass a directory.
 * Errors as for kube_config_load: CUBIT_EINVAL when the environment
 * variables are missing, CUBIT_EIO when a file cannot be read. */
int kube_config_in_cluster(const char *root, kube_config *out, char *errbuf, size_t errlen) CUBIT_WUR;

/* Frees every string of *cfg (not cfg itself) and zeroes it; safe on a
 * zeroed struct. */
void kube_config_free(kube_config *cfg);

/* The credentials to put on the next request. Strings are owned by the
 * snapshot; kube_creds_snapshot_free releases them. */
typedef struct kube_creds_snapshot {
  char *token;            /* bearer token or NULL */
  char *client_cert_pem;  /* PEM or NULL (from the config or an exec plugin) */
  size_t client_cert_pem_len;
  char *client_key_pem;
  size_t client_key_pem_len;
  uint64_t generation;    /* never 0; changes whenever the cert/key pair changes,
                             so a client rebuilds its TLS context only then */
} kube_creds_snapshot;

typedef struct kube_creds kube_creds;

/* Creates a credential source for cfg (which must outlive it). Thread-safe:
 * every function below may be called from any thread. */
kube_creds *kube_creds_new(const kube_config *cfg);
/* Frees the source and what it cached; snapshots handed out stay valid. */
void kube_creds_free(kube_creds *c);
/* Fills *snap with the current credentials: re-reads token_file at most once
 * a minute (and immediately after kube_creds_invalidate), runs the exec plugin
 * when there is no cached credential or its expirationTimestamp is less than a
 * minute away. A plugin's token and certificate take precedence over the
 * static ones of the config. If a periodic re-read of token_file fails, the
 * previous token is kept (a rotation may be in progress); after an
 * invalidation it is not. The plugin runs under the source's lock, so
 * concurrent callers wait for one run. Returns 0, CUBIT_EIO (token file
 * unreadable or empty) or CUBIT_EEXEC with a message in errbuf; on error
 * *snap is zeroed. On success the caller owns *snap (kube_creds_snapshot_free). */
int kube_creds_get(kube_creds *c, kube_creds_snapshot *snap, char *errbuf, size_t errlen) CUBIT_WUR;
/* Called after a 401: forget cached tokens so the next get refreshes them. */
void kube_creds_invalidate(kube_creds *c);
/* Frees the snapshot's strings and zeroes it. */
void kube_creds_snapshot_free(kube_creds_snapshot *snap);
/* How long an exec plugin may run before it (and its process group) is
 * killed; default 30 s; timeout_ms <= 0 restores the default. */
void kube_creds_set_exec_timeout(kube_creds *c, int timeout_ms);

#endif
