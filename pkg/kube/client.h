/* The REST client: blocking verbs over libcurl with keep-alive connections.
 *
 * Any thread may call any verb; each call borrows one curl handle (and so one
 * kept-alive connection) from the client's pool. Every call returns 0 or a
 * CUBIT_E* code; for API errors the code follows the server's Status reason
 * (CUBIT_ENOTFOUND, CUBIT_ECONFLICT, ...) and, when 'st' is given, the
 * Status' message and any Retry-After are copied into it.
 *
 * Objects are jansson values. Verbs that return an object set *out to a new
 * reference owned by the caller (NULL on error). Bodies passed in are
 * borrowed. */
#ifndef CUBIT_KUBE_CLIENT_H
#define CUBIT_KUBE_CLIENT_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "kube/config.h"
#include "util/err.h"
#include "util/metrics.h"

/* A resource type: where it lives in the API (its group/version/plural). */
typedef struct kube_resource {
  const char *group;    /* "" for the core group */
  const char *version;  /* "v1" */
  const char *resource; /* plural, lower case: "configmaps" */
  const char *kind;     /* "ConfigMap" */
  int namespaced;
} kube_resource;

/* The outcome of a call beyond its code: what the server said. */
typedef struct kube_status {
  long http_status;     /* 0 when the request never got an answer */
  char reason[64];      /* Status.reason, e.g. "AlreadyExists" */
  char message[1024];   /* Status.message, or the transport error */
  int retry_after_s;    /* Retry-After header or details.retryAfterSeconds */
  char cause[64];       /* the first details.causes[].reason, e.g. "NamespaceTerminating" */
} kube_status;

/* 1 when a request failed because its namespace is being deleted: the API
 * server refuses anything new there (Forbidden, cause NamespaceTerminating). */
static inline int kube_namespace_terminating(int rc, const kube_status *st) {
  return rc == CUBIT_EFORBIDDEN && st && strcmp(st->cause, "NamespaceTerminating") == 0;
}

typedef struct kube_client_options {
  double qps;             /* client-side rate limit; 0 = none */
  int burst;              /* bucket size, default = max(1, qps) */
  const char *user_agent; /* default "cubit-manager/<version>" */
  long timeout_ms;        /* per request, default 60 s (not for watches) */
  size_t max_body;        /* response cap, default 256 MiB */
  metrics_registry *metrics; /* rest_client_requests_total, NULL = none */
  /* Also send the bearer token in this header ("X-Cubit-Authorization"):
   * the API server removes Authorization before its service proxy passes a
   * request on, so a service behind it that reviews the caller's token
   * (Cubit's history API) finds it there. NULL = only Authorization. */
  const char *token_copy_header;
} kube_client_options;

typedef struct kube_client kube_client;

/* Creates a client for cfg. cfg must outlive the client. opts may be NULL. */
int kube_client_new(const kube_config *cfg, const kube_client_options *opts, kube_client **out) CUBIT_WUR;
void kube_client_free(kube_client *c);
const kube_config *kube_client_config(const kube_client *c);

typedef struct kube_list_options {
  const char *label_selector;
  const char *field_selector;
  long limit;                   /* page size; 0 = server default (all) */
  const char *continue_token;
  const char *resource_version; /* for list: "0" serves from the watch cache */
  long timeout_seconds;         /* watch only */
  int allow_bookmarks;          /* watch only */
} kube_list_options;

int kube_get(kube_client *c, const kube_resource *r, const char *ns, const char *name, json_t **out,
             kube_status *st) CUBIT_WUR;
/* One page of a list. *out is the List object (items, metadata.continue). */
int kube_list(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o,
              json_t **out, kube_status *st) CUBIT_WUR;
/* Every page of a list (o->limit per page, default 500), merged: *out is one
 * List whose metadata.resourceVersion is the first page's. If a continue
 * token expires mid-way (410) the list starts again from the beginning. */
int kube_list_all(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o,
                  json_t **out, kube_status *st) CUBIT_WUR;
/* Every item of a list, page by page (o->limit per page, default 500), each
 * handed to on_item as soon as it is decoded, with apiVersion and kind set
 * (a List's items carry neither): a page is held as text while its items
 * are decoded one at a time, never as a decoded page or a whole list.
 * on_item owns the item; a non-zero return stops the list with that code.
 * If a continue token expires mid-way (410) the list starts again from the
 * beginning after on_restart(arg), which forgets the items handed so far.
 * *rv receives the list's resourceVersion (caller frees) on success. */
typedef int (*kube_item_cb)(json_t *item, void *arg);
int kube_list_each(kube_client *c, const kube_resource *r, const char *ns, const kube_list_options *o,
                   kube_item_cb on_item, void (*on_restart)(void *arg), void *arg, char **rv,
                   kube_status *st) CUBIT_WUR;
int kube_create(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj, json_t **out,
                kube_status *st) CUBIT_WUR;
/* PUT of the whole object (name from obj); a stale resourceVersion gives
 * CUBIT_ECONFLICT. */
int kube_update(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj, json_t **out,
                kube_status *st) CUBIT_WUR;
/* PUT to the status subresource. */
int kube_update_status(kube_client *c, const kube_resource *r, const char *ns, const json_t *obj,
                       json_t **out, kube_status *st) CUBIT_WUR;

typedef enum {
  KUBE_PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
  KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
  KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json (built-in kinds) */
  KUBE_PATCH_APPLY      /* application/apply-patch+yaml: server-side apply */
} kube_patch_type;

typedef struct kube_patch_options {
  kube_patch_type type;
  const char *field_manager; /* required for APPLY */
  int force;                 /* APPLY: take ownership of conflicting fields */
  const char *subresource;   /* "status" or NULL */
} kube_patch_options;

int kube_patch(kube_client *c, const kube_resource *r, const char *ns, const char *name, const json_t *patch,
               const kube_patch_options *o, json_t **out, kube_status *st) CUBIT_WUR;
/* Server-side apply of obj (apiVersion, kind, metadata.name[, namespace]). */
int kube_apply(kube_client *c, const kube_resource *r, const json_t *obj, const char *field_manager, int force,
               json_t **out, kube_status *st) CUBIT_WUR;

typedef struct kube_delete_options {
  const char *propagation_policy; /* "Foreground", "Background", "Orphan" or NULL */
  const char *precondition_uid;
  const char *precondition_resource_version;
  int set_grace_period;           /* send grace_period_seconds (0 = now) */
  long grace_period_seconds;
} kube_delete_options;

int kube_delete(kube_client *c, const kube_resource *r, const char *ns, const char *name,
                const kube_delete_options *o, kube_status *st) CUBIT_WUR;

/* A check run before every request that is not a GET (POST, PUT, PATCH,
 * DELETE) with its method, path (query included) and body: returning
 * non-zero refuses the request with that code, without sending it, and
 * fn fills st->message with the reason. fn may call GET verbs on c. The
 * manager installs its write guard (pkg/runtime/guard.h) here; arg must
 * outlive the client. Set before the client is shared between threads. */
typedef int (*kube_write_guard_fn)(void *arg, kube_client *c, const char *method, const char *path, const char *body,
                                   size_t body_len, kube_status *st);
void kube_client_set_write_guard(kube_client *c, kube_write_guard_fn fn, void *arg);

/* The bytes of a Secret's data[key] (the object as the API returns it:
 * base64), decoded into *out (malloc'ed, NUL-terminated, *outlen without
 * the NUL; the caller frees it). Returns 0, CUBIT_ENOTFOUND when the key is
 * absent, CUBIT_EINVAL when it is not base64, or CUBIT_ENOMEM. */
int kube_secret_data(const json_t *secret, const char *key, char **out, size_t *outlen) CUBIT_WUR;

/* A raw request to 'path' (starting with '/', query included). accept
 * defaults to application/json; body may be NULL. Used by discovery and for
 * anything the verbs do not cover. */
int kube_request(kube_client *c, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len, json_t **out,
                 kube_status *st) CUBIT_WUR;

/* A GET of 'path' whose body is handed to cb as it arrives (pod logs,
 * ?follow=true), with no overall timeout. cb returns nonzero to stop; the
 * call then returns 0. An error answer is returned as for the verbs. */
typedef int (*kube_stream_cb)(const char *data, size_t len, void *arg);
int kube_request_stream(kube_client *c, const char *path, kube_stream_cb cb, void *arg, kube_status *st) CUBIT_WUR;
/* The same, ended as a transport failure (CUBIT_ECONNECT or the like) when
 * the whole transfer takes longer than timeout_ms (0 = no limit): for a
 * bounded read, such as a finished container's log, by a worker that must
 * not be held by a server that stops answering. */
int kube_request_stream_within(kube_client *c, const char *path, long timeout_ms, kube_stream_cb cb, void *arg,
                               kube_status *st) CUBIT_WUR;

/* Builds the URL path of a resource collection or object into a new string
 * (caller frees). ns is ignored for cluster-scoped resources; name, sub and
 * query may be NULL. */
char *kube_resource_path(const kube_resource *r, const char *ns, const char *name, const char *sub);

/* apiVersion string ("v1", "apps/v1") for r; caller frees. */
char *kube_api_version(const kube_resource *r);

/* Built-in resources the runtime and controllers use. */
extern const kube_resource kube_namespaces, kube_configmaps, kube_secrets, kube_pods, kube_services,
    kube_events, kube_serviceaccounts, kube_nodes, kube_leases, kube_deployments, kube_statefulsets,
    kube_jobs, kube_rolebindings, kube_roles, kube_clusterroles, kube_hpas, kube_ingresses, kube_pvcs,
    kube_crds, kube_priorityclasses;

/* The code for an HTTP status and Status reason (exposed for tests). */
int kube__code_for(long http_status, const char *reason);

#endif
