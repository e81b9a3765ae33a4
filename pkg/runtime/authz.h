/* Kubernetes authentication and authorisation of the manager's own HTTP
 * endpoints (/metrics), as controller-runtime's secure metrics and
 * kube-rbac-proxy do it: the caller's bearer token goes to a TokenReview;
 * the user it names is asked a SubjectAccessReview for the non-resource URL
 * and verb. So scraping /metrics takes a token of an identity bound to a
 * role with `nonResourceURLs: ["/metrics"], verbs: ["get"]` (the chart's
 * ClusterRole cubit-metrics-reader).
 *
 *   no Authorization header, not "Bearer <token>", a token the API server
 *   does not accept                                        -> 401
 *   an authenticated user the API server does not allow    -> 403
 *   allowed                                                -> 200
 *   a review that could not be made (API server away)      -> 503, not cached
 *
 * Decisions are cached for a short while, keyed by the SHA-256 of the token
 * with the verb and path (never the token itself): allowed ones for
 * allow_ttl_s, refused ones for deny_ttl_s, as the API server's own
 * delegated authorizer does; at most max_entries, the soonest to expire
 * dropped first. Any thread may call rt_authz_check; it blocks on the two
 * reviews when the cache has no answer. At most max_inflight callers wait
 * on reviews at once; past that the answer is 503 at once, so a flood of
 * made-up tokens holds neither the caller's threads nor the API server. The
 * manager gives the authorizer a client of its own, whose rate limit is
 * not the controllers'. The manager's identity needs
 * `create` on tokenreviews (authentication.k8s.io) and
 * subjectaccessreviews (authorization.k8s.io). */
#ifndef CUBIT_RUNTIME_AUTHZ_H
#define CUBIT_RUNTIME_AUTHZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"

typedef struct rt_authz rt_authz;

typedef struct rt_authz_options {
  int allow_ttl_s;    /* 60 */
  int deny_ttl_s;     /* 10 */
  size_t max_entries; /* 1024 */
  int max_inflight;   /* 2 cache misses reviewed at once */
} rt_authz_options;

typedef struct rt_authz_result {
  int status;        /* 200, 401, 403 or 503 (a review failed, or too many at once) */
  char user[256];    /* the authenticated user, "" when none */
  char reason[512];  /* why it was refused, for the log and the 401/403 body */
  int cached;        /* the answer came from the cache */
} rt_authz_result;

/* 'c' is borrowed and must outlive the authorizer. o may be NULL. */
rt_authz *rt_authz_new(kube_client *c, const rt_authz_options *o);
void rt_authz_free(rt_authz *a);

/* Decides a request carrying the Authorization header 'authorization'
 * (NULL when absent) for the HTTP 'method' (GET and HEAD are the verb
 * "get", as for the API server's own non-resource URLs) on 'path', at
 * wall-clock second 'now'. Fills *out; returns out->status. */
int rt_authz_check(rt_authz *a, const char *authorization, const char *method, const char *path, int64_t now,
                   rt_authz_result *out);

/* Exposed for tests. */
/* The token of "Bearer <token>" (scheme case-insensitive, one blank or
 * more) into out, or -1 when the header is absent or not that. */
int rt__authz_bearer(const char *header, char *out, size_t outlen);
/* The Kubernetes verb of an HTTP method on a non-resource URL
 * ("get", "post", "put", "patch", "delete"), or NULL. */
const char *rt__authz_verb(const char *method);
/* From a TokenReview response: 0 and the user ({username, uid, groups,
 * extra}, a new reference) when authenticated, else -1 with the reason. */
int rt__authz_token_user(const json_t *review, json_t **user, char *reason, size_t reasonlen);
/* The SubjectAccessReview asking whether 'user' may 'verb' 'path' (new). */
json_t *rt__authz_sar(const json_t *user, const char *verb, const char *path);
/* From a SubjectAccessReview response: 1 allowed, 0 not (reason set). */
int rt__authz_allowed(const json_t *review, char *reason, size_t reasonlen);
/* Puts a decision in the cache as a review would have, and reads one back
 * (0 when none is cached at 'now'). */
void rt__authz_remember(rt_authz *a, const char *token, const char *method, const char *path, int status,
                        int64_t now);
int rt__authz_cached(rt_authz *a, const char *token, const char *method, const char *path, int64_t now);

#endif
