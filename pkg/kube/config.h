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
  char *command;      /* run directly with execvp, never through a shell */
  char **args;        /* NULL-terminated */
  kube_exec_env *env; /* nenv entries added to the environment */
  size_t nenv;
  int provide_cluster_info;
  char *interactive_mode; /* Never | IfAvailable | Always; we never have a tty */
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

/* Loads 'path' (or $KUBECONFIG, first file of the list, or ~/.kube/config when
 * path is NULL), using 'context' or the file's current-context when NULL.
 * Relative file paths in the kubeconfig are relative to the file's directory.
 * On error returns CUBIT_EINVAL (or CUBIT_EIO, CUBIT_ENOMEM) and writes a
 * message that names the offending field, e.g.
 *   "users[0].user.client-certificate-data: not valid base64"
 *   "context \"dev\" not found in /home/me/.kube/config"
 * into errbuf (errlen bytes). On success *out is filled and owned by the caller. */
int kube_config_load(const char *path, const char *context, kube_config *out, char *errbuf,
                     size_t errlen) CUBIT_WUR;

/* In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, the service
 * account's token file (kept as token_file so it is re-read), ca.crt and
 * namespace. 'root' is normally NULL for /var/run/secrets/kubernetes.io/
 * serviceaccount; tests pass a directory. */
int kube_config_in_cluster(const char *root, kube_config *out, char *errbuf, size_t errlen) CUBIT_WUR;

void kube_config_free(kube_config *cfg);

/* The credentials to put on the next request. Strings are owned by the
 * snapshot; kube_creds_snapshot_free releases them. */
typedef struct kube_creds_snapshot {
  char *token;            /* bearer token or NULL */
  char *client_cert_pem;  /* PEM or NULL (from the config or an exec plugin) */
  size_t client_cert_pem_len;
  char *client_key_pem;
  size_t client_key_pem_len;
  uint64_t generation;    /* changes whenever the cert/key pair changes */
} kube_creds_snapshot;

typedef struct kube_creds kube_creds;

/* Creates a credential source for cfg (which must outlive it). Thread-safe. */
kube_creds *kube_creds_new(const kube_config *cfg);
void kube_creds_free(kube_creds *c);
/* Fills *snap with the current credentials: re-reads token_file at most once
 * a minute (and immediately after kube_creds_invalidate), runs the exec plugin
 * when there is no cached credential or its expirationTimestamp is less than a
 * minute away. Returns 0, CUBIT_EIO (token file unreadable) or CUBIT_EEXEC
 * with a message in errbuf. */
int kube_creds_get(kube_creds *c, kube_creds_snapshot *snap, char *errbuf, size_t errlen) CUBIT_WUR;
/* Called after a 401: forget cached tokens so the next get refreshes them. */
void kube_creds_invalidate(kube_creds *c);
void kube_creds_snapshot_free(kube_creds_snapshot *snap);

#endif
