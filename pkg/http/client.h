/* A small blocking HTTP GET client over libcurl, for reading a status
 * endpoint of a workload (a notebook's activity, a model server's health).
 *
 * One call is one request on its own connection: the callers probe a
 * handful of pods once a minute, so a connection pool would only keep
 * sockets open to pods that may be gone by the next probe. Every call has a
 * deadline for the whole exchange and a cap on the body; redirects are not
 * followed (the answer of the server asked is what counts), only http and
 * https URLs are accepted, and proxies from the environment are ignored
 * (pod addresses are reached directly). Any thread may call http_get. */
#ifndef CUBIT_HTTP_CLIENT_H
#define CUBIT_HTTP_CLIENT_H

#include <stddef.h>

#include "util/err.h"

typedef struct http_get_opts {
  long timeout_ms;         /* the whole request, connection included; default 5000 */
  long connect_timeout_ms; /* default: timeout_ms */
  size_t max_body;         /* default 1 MiB; a longer body fails with CUBIT_ETOOBIG */
  const char *accept;      /* Accept header, or NULL for none */
} http_get_opts;

typedef struct http_get_result {
  long status;     /* the HTTP status of the response, 0 when none came */
  char *body;      /* the body, NUL-terminated (malloc'ed; "" when empty); NULL on error */
  size_t body_len;
  char error[256]; /* what went wrong, for a log line or a condition */
} http_get_result;

/* GETs url. Returns 0 when a response arrived, whatever its status (the
 * caller judges 404 or 500); CUBIT_EINVAL for a URL that is not http(s),
 * CUBIT_ECONNECT when the server could not be reached, CUBIT_ETIMEOUT past
 * the deadline, CUBIT_ETOOBIG for a body over the cap, CUBIT_ENOMEM. opts
 * may be NULL. After the call out->body belongs to the caller: release it
 * with http_get_result_free (also safe after an error). */
int http_get(const char *url, const http_get_opts *opts, http_get_result *out) CUBIT_WUR;
void http_get_result_free(http_get_result *r);

#endif
