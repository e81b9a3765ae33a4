/* Internals of pkg/http shared by its files and its unit tests:
 * the request reader (http-parser glue with the caps) and the TLS context
 * that reloads its certificate pair. */
#ifndef CUBIT_HTTP_INTERNAL_H
#define CUBIT_HTTP_INTERNAL_H

#include <http_parser.h>
#include <stdatomic.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/server.h"

/* ---- request reader (request.c) ---- */

enum http__rp_state {
  HTTP_RP_NEED_MORE, /* feed more bytes */
  HTTP_RP_COMPLETE,  /* a whole request is ready in rp->req; the parser is paused */
  HTTP_RP_ERROR      /* answer rp->error_status and close */
};

/* Decides the body cap of one request once its headers are in, when the
 * route is known: sets *max_body and returns 0, or returns the HTTP status
 * to refuse the request with before a byte of its body is read. 'req' has
 * method, path, query and headers; has_body is 1 when the request announces
 * a body (a Content-Length over 0, or chunked). */
typedef int (*http__rp_limit_fn)(void *arg, const http_request *req, int has_body, size_t *max_body);

/* The request body bytes held by every parser sharing it (one per server):
 * a body that would take 'used' past 'max' is refused with 503. Changed on
 * the loop thread only; atomic so that statistics may read it anywhere. */
typedef struct http__body_budget {
  _Atomic size_t used, peak;
  size_t max;
} http__body_budget;

/* Reads requests from a byte stream. Input is external, so allocation here
 * is fallible: out of memory becomes error_status 500. */
typedef struct http__reqparser {
  http_parser parser;
  size_t max_body;      /* of the current request (set by 'limit' when there is one) */
  size_t max_headers, max_header_bytes;
  http__rp_limit_fn limit;
  void *limit_arg;
  http__body_budget *budget; /* NULL: none */
  size_t charged;       /* body bytes of the current request counted in 'budget' */
  enum http__rp_state state;
  int error_status;     /* HTTP status to answer when state is HTTP_RP_ERROR */
  int started;          /* a byte of the current request was seen */
  int headers_done;
  int expect_continue;  /* the client waits for "100 Continue" before the body */
  int keep_alive;       /* valid when complete */
  size_t header_bytes;  /* target + names + values so far */
  cubit_buf url;
  cubit_buf fields;     /* "name\0value\0" for each header, in order */
  size_t *offsets;      /* 2 per header: start of name, start of value in fields */
  size_t nfields;       /* headers started */
  int in_value;         /* the last header callback was a value */
  cubit_buf target;     /* "path\0query\0" */
  cubit_buf body;
  const char **headers; /* name, value, ... pointing into fields */
  http_request req;     /* valid when complete; remote is left to the caller */
} http__reqparser;

/* max_body caps every body until http__reqparser_set_limit gives a
 * per-request decision. */
void http__reqparser_init(http__reqparser *rp, size_t max_body, size_t max_headers,
                          size_t max_header_bytes);
/* Asks fn(arg, ...) for the body cap of each request (see http__rp_limit_fn)
 * and counts bodies in 'budget' (may be NULL); both outlive the parser. */
void http__reqparser_set_limit(http__reqparser *rp, http__rp_limit_fn fn, void *arg, http__body_budget *budget);
/* Frees every buffer of the parser (not the struct). */
void http__reqparser_free(http__reqparser *rp);
/* Parses up to len bytes and returns how many were consumed; the rest
 * belongs to the next request (pipelining) or is garbage after an error.
 * Returns 0 without parsing unless the state is HTTP_RP_NEED_MORE. */
size_t http__reqparser_feed(http__reqparser *rp, const char *data, size_t len);
/* Frees the current request's body and gives its bytes back to the budget
 * (the handler is done with it); method, path and headers stay. */
void http__reqparser_release_body(http__reqparser *rp);
/* Releases the current request and gets ready for the next one. */
void http__reqparser_next(http__reqparser *rp);

/* ---- TLS context with certificate reload (tls.c) ---- */

typedef struct http__tls http__tls;

/* Loads the pair and builds the first SSL_CTX. Copies the paths. Returns 0,
 * or CUBIT_ETLS with the reason in 'err' (caller frees it). */
int http__tls_new(const char *cert_file, const char *key_file, unsigned check_interval_ms,
                  http__tls **out, char **err) CUBIT_WUR;
void http__tls_free(http__tls *t);
/* Returns the context for a new connection (borrowed: SSL_new takes its own
 * reference). At most once per interval ('now_ms' is the loop's clock) it
 * stats the files and, when they changed, builds a new context; *reloaded is
 * set to 1 on success, and when the new pair fails *err holds the reason
 * (caller frees) and the old context is returned. */
SSL_CTX *http__tls_ctx(http__tls *t, uint64_t now_ms, int *reloaded, char **err);
/* The current context without checking the files. */
SSL_CTX *http__tls_current(const http__tls *t);

#endif
