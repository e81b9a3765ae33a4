/* Kubernetes authentication and authorisation on behalf of the API server,
 * as controller-runtime's secure metrics, kube-rbac-proxy and the API
 * server's own delegated authorizer do it. One helper for every caller in
 * the manager:
 *
 *   rt_authz_authenticate  a bearer token -> the user it names (TokenReview)
 *   rt_authz_review        may this user do this? (SubjectAccessReview, for a
 *                          resource or a non-resource URL)
 *   rt_authz_check         both, for an HTTP request on a non-resource URL
 *                          (/metrics): 200, 401, 403 or 503
 *
 * Users are JSON objects {username, uid, groups, extra}: what a TokenReview
 * answers and what an AdmissionReview's request.userInfo holds.
 *
 * Answers are cached for a short while in one bounded cache: a token's by
 * the SHA-256 of the token (never the token itself), an access decision by
 * the SHA-256 of the user and the attributes; allowed/authenticated ones for
 * allow_ttl_s, refused ones for deny_ttl_s; at most max_entries, the soonest
 * to expire dropped first. A review that could not be made is never cached.
 * Admission (uncached_access) asks every SubjectAccessReview afresh, so a
 * revoked role takes effect at once.
 *
 * Any thread may call; a cache miss blocks on the review. At most
 * max_inflight reviews are under way at once; past that the answer is
 * CUBIT_ETOOMANYREQUESTS at once (503 from rt_authz_check), so a flood of
 * made-up tokens holds neither the caller's threads nor the API server.
 * The caller's identity needs `create` on tokenreviews
 * (authentication.k8s.io) and subjectaccessreviews (authorization.k8s.io). */
#ifndef CUBIT_RUNTIME_AUTHZ_H
#define CUBIT_RUNTIME_AUTHZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "util/err.h"

typedef struct rt_authz rt_authz;

typedef struct rt_authz_options {
  int allow_ttl_s;     /* 60 */
  int deny_ttl_s;      /* 10 */
  size_t max_entries;  /* 1024 */
  int max_inflight;    /* 2 reviews at once */
  int uncached_access; /* 1: SubjectAccessReviews are never cached (admission) */
} rt_authz_options;

/* What a SubjectAccessReview asks: 'verb' on a resource (group may be ""
 * for the core group; ns "" for cluster-wide or cluster-scoped; subresource
 * and name may be NULL) when 'resource' is set, else on the non-resource
 * URL 'path'. All borrowed. */
typedef struct rt_access {
  const char *verb;
  const char *group, *resource, *subresource, *ns, *name;
  const char *path;
} rt_access;

/* 'c' is borrowed and must outlive the authorizer. o may be NULL. */
rt_authz *rt_authz_new(kube_client *c, const rt_authz_options *o);
void rt_authz_free(rt_authz *a);

/* Who holds 'token' at wall-clock second 'now': 1 and *user (a new
 * reference, the caller's) when the API server authenticates it; 0 when it
 * does not (reason says why); CUBIT_ETOOMANYREQUESTS when max_inflight
 * reviews are under way; another negative code when the review failed
 * (reason says why). */
int rt_authz_authenticate(rt_authz *a, const char *token, int64_t now, json_t **user, char *reason,
                          size_t reasonlen) CUBIT_WUR;

/* May 'user' (borrowed) do 'access'? 1 allowed; 0 not (reason says why);
 * a negative code when it cannot be told (reason says why). */
int rt_authz_review(rt_authz *a, const json_t *user, const rt_access *access, int64_t now, char *reason,
                    size_t reasonlen) CUBIT_WUR;

typedef struct rt_authz_result {
  int status;       /* 200, 401, 403 or 503 (a review failed, or too many at once) */
  char user[256];   /* the authenticated user, "" when none */
  char reason[512]; /* why it was refused, for the log and the 401/403 body */
  int cached;       /* the answer came from the cache */
} rt_authz_result;

/* Decides an HTTP request carrying the Authorization header 'authorization'
 * (NULL when absent) for 'method' (GET and HEAD are the verb "get", as for
 * the API server's own non-resource URLs) on the non-resource URL 'path':
 * no or a malformed header or a token not accepted -> 401, a user not
 * allowed -> 403, a review that could not be made -> 503. Fills *out;
 * returns out->status. */
int rt_authz_check(rt_authz *a, const char *authorization, const char *method, const char *path, int64_t now,
                   rt_authz_result *out);

/* The token of "Bearer <token>" (scheme case-insensitive, one blank or
 * more) into out, or -1 when the header is absent or not that. */
int rt_authz_bearer(const char *header, char *out, size_t outlen);

/* Exposed for tests. */
/* The Kubernetes verb of an HTTP method on a non-resource URL
 * ("get", "post", "put", "patch", "delete"), or NULL. */
const char *rt__authz_verb(const char *method);
/* From a TokenReview response: 0 and the user ({username, uid, groups,
 * extra}, a new reference) when authenticated, else -1 with the reason. */
int rt__authz_token_user(const json_t *review, json_t **user, char *reason, size_t reasonlen);
/* The SubjectAccessReview asking whether 'user' may do 'access' (new). */
json_t *rt__authz_sar(const json_t *user, const rt_access *access);
/* From a SubjectAccessReview response: 1 allowed, 0 not (reason set). */
int rt__authz_allowed(const json_t *review, char *reason, size_t reasonlen);
/* Puts answers in the cache as reviews would have: the token's user (NULL:
 * not authenticated), and whether user may do access. */
void rt__authz_remember_token(rt_authz *a, const char *token, const json_t *user, int64_t now);
void rt__authz_remember_access(rt_authz *a, const json_t *user, const rt_access *access, int allowed, int64_t now);
/* 1/0 the cached answer, -1 none at 'now'. */
int rt__authz_cached_token(rt_authz *a, const char *token, int64_t now);
int rt__authz_cached_access(rt_authz *a, const json_t *user, const rt_access *access, int64_t now);

#endif
