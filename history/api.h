/* The history API (docs/history.md): JSON over HTTPS, authenticated with
 * the caller's bearer token and authorised per project.
 *
 *   GET /api/v1/runs?project=&kind=&namespace=&phase=&user=&parent=&label=&from=&to=&limit=&after=&format=
 *   GET /api/v1/run?uid=                 one run, its transitions, pods and children
 *   GET /api/v1/usage?project=&by=day|week|month|member|gpu-model|project&from=&to=&format=
 *   GET /api/v1/experiments/{namespace}/{name}/trials
 *
 * Who may read what: a caller may read project P when the API server lets
 * them list trainingjobs.cubit.dev in every namespace of P (what a project
 * member's RoleBindings grant), and everything when they may list them in
 * all namespaces (a cluster admin). A request without project= is a
 * cluster-wide one. One run is read under its project, or its namespace
 * when it has none. Errors are {"reason": ..., "message": ...}: 400
 * BadRequest, 401 Unauthorized (no or a rejected token), 403 Forbidden, 404
 * NotFound, 500 InternalError, 503 ServiceUnavailable (too many reviews at
 * once).
 *
 * The checks go through callbacks (hist_auth): the manager's rt_authz
 * (TokenReview and SubjectAccessReview, cached), tables in the unit tests. */
#ifndef CUBIT_HISTORY_API_H
#define CUBIT_HISTORY_API_H

#include <jansson.h>
#include <stdint.h>

#include "history/store.h"
#include "util/buf.h"
#include "runtime/manager.h"

typedef struct hist_auth {
  /* Who holds 'token': 1 and *user (a new {"username", "uid", "groups",
   * "extra"} object, the caller's) when authenticated, 0 when not, or a
   * negative code when it cannot be told (why says so;
   * CUBIT_ETOOMANYREQUESTS: retry later). */
  int (*authenticate)(void *arg, const char *token, json_t **user, char *why, size_t whylen);
  /* May 'user' list trainingjobs.cubit.dev in ns ("" = every namespace)?
   * 1, 0, or a negative code. */
  int (*may_list)(void *arg, const json_t *user, const char *ns, char *why, size_t whylen);
  /* The namespaces of project 'name' (malloc'ed array of malloc'ed names,
   * the caller's): 0, or CUBIT_ENOTFOUND when no such Project exists. */
  int (*project_namespaces)(void *arg, const char *name, char ***nss, size_t *n);
  void *arg;
} hist_auth;

/* Answers one request. 'path' and 'query' as sent; 'authorization' is the
 * Authorization header or NULL. *body (the caller's) is the JSON answer;
 * the HTTP status is returned. */
int hist_api_serve(hist_store *store, const hist_auth *auth, const char *path, const char *query,
                   const char *authorization, int64_t now, json_t **body);

/* Whether the 200 answer to this request is sent as CSV: on /api/v1/runs
 * and /api/v1/usage only, when the query says format=csv, or says no
 * format and 'accept' (the Accept header, may be NULL) prefers text/csv to
 * application/json (by q, then by order). Errors stay JSON. */
int hist_api_wants_csv(const char *path, const char *query, const char *accept);

/* The CSV text of the 200 answer 'body' of hist_api_serve on 'path' (runs
 * or usage) into out (RFC 4180: a header row, CRLF line ends, a field
 * holding a comma, quote, CR or LF quoted with its quotes doubled; null is
 * an empty field). Usage: <by>,gpuHours,cpuHours,gpuMilliSeconds,runs;
 * runs: the run's JSON members in their order, parameters as JSON text. */
int hist_api_csv(const char *path, const json_t *body, cubit_buf *out) CUBIT_WUR;

/* hist_api_serve and the answer's text: JSON, or CSV when
 * hist_api_wants_csv (accept: the Accept header or NULL). The text goes
 * to out (buf_init'ed by the caller), *content_type is a literal, *next
 * (the caller's, NULL when none) the runs' next page, which CSV has no
 * place for (the server sends it as the X-Cubit-Next header). Returns the
 * HTTP status. */
int hist_api_respond(hist_store *store, const hist_auth *auth, const char *path, const char *query,
                     const char *authorization, const char *accept, int64_t now, cubit_buf *out,
                     const char **content_type, char **next);

/* The API server of the manager: HTTPS on 'bind' with the PEM pair in
 * cert_dir (tls.crt, tls.key), TokenReview and SubjectAccessReview through
 * the manager's client, projects from its cache. With self_hosts (comma-
 * separated SANs) the pair is self-issued into cert_dir and kept renewed
 * in the Secret cubit-history-certs of 'ns' (the chart's history pod,
 * which serves no webhooks); NULL reads files someone else writes. The
 * server runs on its own loop and thread; hist_api_server_stop (after
 * rt_manager_run returns) lets it finish its requests and joins it. */
typedef struct hist_api_server hist_api_server;
int hist_api_server_start(rt_manager *m, hist_store *store, const char *bind, const char *cert_dir,
                          const char *self_hosts, const char *ns, hist_api_server **out) CUBIT_WUR;
void hist_api_server_stop(hist_api_server *s);

#endif
