/* admission.k8s.io/v1 AdmissionReview: the request as a small struct, the
 * response as a decision plus an optional JSON patch.
 *
 * A webhook handler is a pure function of (request, cache) → response: it
 * never does I/O of its own, so it is unit-tested with recorded reviews. */
#ifndef CUBIT_WEBHOOKS_ADMISSION_H
#define CUBIT_WEBHOOKS_ADMISSION_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* The largest AdmissionReview a webhook route reads: object and oldObject,
 * each up to the API server's 3 MiB request limit, plus the review's own
 * fields. controller-runtime's webhook server reads as much, so nothing the
 * API server sends is refused; how much memory such bodies take together
 * is the HTTP server's max_body_buffered, not this figure times the count
 * of connections. */
#define ADM_MAX_REVIEW_BYTES ((size_t)7 << 20)

typedef struct adm_request {
  json_t *review;          /* the whole AdmissionReview, owned */
  const char *uid;
  const char *group, *version, *kind; /* request.kind */
  const char *resource, *subresource; /* request.resource.resource, request.subResource */
  const char *namespace;   /* "" for cluster-scoped objects */
  const char *name;        /* may be "" on CREATE with generateName */
  const char *operation;   /* CREATE, UPDATE, DELETE, CONNECT */
  const char *username;    /* request.userInfo.username */
  json_t *groups;          /* request.userInfo.groups: an array of strings or NULL (borrowed) */
  json_t *object;          /* request.object (borrowed; never NULL on CREATE and UPDATE) */
  json_t *old_object;      /* request.oldObject (borrowed; never NULL on UPDATE, NULL on CREATE) */
  int dry_run;
} adm_request;

/* Parses an AdmissionReview body. On success *out borrows from out->review,
 * which adm_request_free releases. Total over any input: CUBIT_EINVAL with
 * a reason naming the field in errbuf for anything that is not an
 * admission.k8s.io/v1 AdmissionReview (a JSON object, no duplicate keys)
 * whose request has a uid, an operation among CREATE, UPDATE, DELETE and
 * CONNECT, the object for CREATE and UPDATE and the old object for UPDATE,
 * and every field read here of its API type: strings, userInfo.groups and
 * extra of strings, object and oldObject objects whose metadata names are
 * strings, labels and annotations maps of strings, ownerReferences objects.
 * So a handler may use the fields, and js_str on an object's metadata,
 * without checking types; it still checks presence (metadata.name is
 * absent on a CREATE with generateName). */
int adm_request_parse(const char *body, size_t len, adm_request *out, char *errbuf, size_t errlen) CUBIT_WUR;
void adm_request_free(adm_request *r);

typedef struct adm_response {
  int allowed;
  int code;           /* HTTP-style status for a denial (403 quota, 422 invalid) */
  char reason[64];    /* metav1.StatusReason for a denial ("Forbidden", "Invalid") */
  char message[1024];
  json_t *patch;      /* RFC 6902 operations (owned), NULL = no change */
  json_t *warnings;   /* array of strings shown by kubectl (owned), or NULL */
} adm_response;

/* Starts as "allowed, no patch". */
void adm_response_init(adm_response *r);
void adm_response_free(adm_response *r);
/* Denies with a message (printf format). code 403 → reason Forbidden,
 * 422 → Invalid, otherwise BadRequest. */
void adm_deny(adm_response *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void adm_warn(adm_response *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends one JSON-patch operation; value is stolen (may be NULL for
 * "remove"). path is a JSON pointer: escape keys with adm_pointer_escape. */
void adm_patch(adm_response *r, const char *op, const char *path, json_t *value);
/* Escapes '~' and '/' of a map key for a JSON pointer ("cubit.dev/gpu" →
 * "cubit.dev~1gpu"); caller frees. */
char *adm_pointer_escape(const char *key);

/* The AdmissionReview to send back for req (uid echoed, patch base64'd);
 * caller frees the string. */
char *adm_response_json(const adm_request *req, const adm_response *resp);

#endif
