/* The history API (api.h): routing, authentication, per-project
 * authorisation, and the manager's HTTPS server around it. */
#include "history/api.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/project/project.h"
#include "history/query.h"
#include "http/server.h"
#include "runtime/authz.h"
#include "runtime/certs.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static int fail(json_t **body, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(json_t **body, int status, const char *reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  *body = json_pack("{s:s, s:s}", "reason", reason, "message", msg);
  free(msg);
  return status;
}

static void free_names(char **nss, size_t n) {
  for (size_t i = 0; i < n; i++) free(nss[i]);
  free(nss);
}

/* 1 when user may read 'project' ("" = everything), 0 when not, < 0 when it
 * cannot be told; why says which check refused. */
static int may_read(const hist_auth *a, const json_t *user, const char *project, char *why, size_t whylen) {
  int rc = a->may_list(a->arg, user, "", why, whylen);
  if (rc != 0 || project[0] == '\0') return rc; /* a cluster admin, an error, or a cluster-wide ask refused */
  char **nss = NULL;
  size_t n = 0;
  if (a->project_namespaces(a->arg, project, &nss, &n) != 0 || n == 0) {
    /* A Project that is gone (or has no namespace) has no members left:
     * its history is the cluster admins'. */
    free_names(nss, n);
    snprintf(why, whylen, "project %s has no namespaces; only cluster admins read its history", project);
    return 0;
  }
  for (size_t i = 0; i < n && rc >= 0; i++) {
    rc = a->may_list(a->arg, user, nss[i], why, whylen);
    if (rc == 0) break;
  }
  free_names(nss, n);
  return rc;
}

static int forbid(json_t **body, int rc, const json_t *user, const char *project, const char *why) {
  const char *who = js_str(user, "username");
  if (rc == CUBIT_ETOOMANYREQUESTS) return fail(body, 503, "ServiceUnavailable", "%s", why);
  if (rc < 0) return fail(body, 500, "InternalError", "cannot authorise the request: %s", why);
  if (project[0] == '\0')
    return fail(body, 403, "Forbidden",
                "%s may not read every project's history (list trainingjobs.cubit.dev in all namespaces); give "
                "project=",
                who ? who : "the caller");
  return fail(body, 403, "Forbidden", "%s may not read project %s's history%s%s", who ? who : "the caller", project,
              why[0] ? ": " : "", why);
}

static int serve_runs(hist_store *store, const hist_auth *a, const json_t *user, const char *query, json_t **body) {
  char err[512] = "";
  hist_runs_query q;
  if (hist_parse_runs_query(query, &q, err, sizeof err)) return fail(body, 400, "BadRequest", "%s", err);
  char why[512] = "";
  int ok = may_read(a, user, q.project, why, sizeof why);
  if (ok != 1) return forbid(body, ok, user, q.project, why);
  const char *projects[] = {q.project};
  hist_run_filter f = {.projects = q.project[0] ? projects : NULL,
                       .nprojects = q.project[0] ? 1 : 0,
                       .kind = q.kind[0] ? q.kind : NULL,
                       .creator = q.user[0] ? q.user : NULL,
                       .phase = q.phase[0] ? q.phase : NULL,
                       .ns = q.ns[0] ? q.ns : NULL,
                       .from = q.from,
                       .to = q.to,
                       .limit = q.limit,
                       .after_uid = q.after[0] ? q.after : NULL,
                       .parent_uid = q.parent[0] ? q.parent : NULL,
                       .labels = q.labels,
                       .nlabels = q.nlabels};
  json_t *items = NULL;
  if (hist_store_list_runs(store, &f, &items, err, sizeof err)) return fail(body, 500, "InternalError", "%s", err);
  *body = json_pack("{s:o}", "items", items);
  size_t n = json_array_size(items);
  if (n == (size_t)q.limit) json_object_set(*body, "next", json_object_get(json_array_get(items, n - 1), "uid"));
  return 200;
}

static int serve_run(hist_store *store, const hist_auth *a, const json_t *user, const char *query, json_t **body) {
  char err[512] = "";
  hist_run_query q;
  if (hist_parse_run_query(query, &q, err, sizeof err)) return fail(body, 400, "BadRequest", "%s", err);
  json_t *run = NULL;
  int rc = hist_store_get_run(store, q.uid, &run, err, sizeof err);
  if (rc == CUBIT_ENOTFOUND) return fail(body, 404, "NotFound", "no run with uid %s", q.uid);
  if (rc) return fail(body, 500, "InternalError", "%s", err);
  const char *project = js_str(run, "project");
  char why[512] = "";
  int ok;
  if (project && project[0]) {
    ok = may_read(a, user, project, why, sizeof why);
  } else {
    ok = a->may_list(a->arg, user, "", why, sizeof why);
    if (ok == 0) ok = a->may_list(a->arg, user, js_str(run, "namespace"), why, sizeof why);
  }
  if (ok != 1) {
    int status = forbid(body, ok, user, project && project[0] ? project : "", why);
    json_decref(run); /* project points into it */
    return status;
  }
  *body = run;
  return 200;
}

/* An Experiment's trials, read under their project (the Experiment's
 * namespace's when none is recorded yet). */
static int serve_trials(hist_store *store, const hist_auth *a, const json_t *user, const char *path,
                        const char *query, json_t **body) {
  char err[512] = "";
  hist_trials_query q;
  if (hist_parse_trials_query(path, query, &q, err, sizeof err)) return fail(body, 400, "BadRequest", "%s", err);
  json_t *items = NULL;
  char project[256] = "";
  if (hist_store_trials(store, q.ns, q.name, &items, project, sizeof project, err, sizeof err))
    return fail(body, 500, "InternalError", "%s", err);
  char why[512] = "";
  int ok;
  if (project[0]) {
    ok = may_read(a, user, project, why, sizeof why);
  } else {
    ok = a->may_list(a->arg, user, "", why, sizeof why);
    if (ok == 0) ok = a->may_list(a->arg, user, q.ns, why, sizeof why);
  }
  if (ok != 1) {
    json_decref(items);
    if (project[0]) return forbid(body, ok, user, project, why);
    if (ok < 0) return forbid(body, ok, user, "", why);
    const char *who = js_str(user, "username");
    return fail(body, 403, "Forbidden", "%s may not read namespace %s's history%s%s", who ? who : "the caller", q.ns,
                why[0] ? ": " : "", why);
  }
  *body = json_pack("{s:s, s:s, s:o}", "namespace", q.ns, "experiment", q.name, "items", items);
  return 200;
}

static int serve_usage(hist_store *store, const hist_auth *a, const json_t *user, const char *query, int64_t now,
                       json_t **body) {
  char err[512] = "";
  hist_usage_query q;
  if (hist_parse_usage_query(query, now, &q, err, sizeof err)) return fail(body, 400, "BadRequest", "%s", err);
  char why[512] = "";
  int ok = may_read(a, user, q.project, why, sizeof why);
  if (ok != 1) return forbid(body, ok, user, q.project, why);
  hist_group by = strcmp(q.by, "member") == 0      ? HIST_BY_MEMBER
                  : strcmp(q.by, "gpu-model") == 0 ? HIST_BY_GPU_MODEL
                  : strcmp(q.by, "project") == 0   ? HIST_BY_PROJECT
                  : strcmp(q.by, "week") == 0      ? HIST_BY_WEEK
                  : strcmp(q.by, "month") == 0     ? HIST_BY_MONTH
                                                   : HIST_BY_DAY;
  const char *projects[] = {q.project};
  hist_usage_row *rows = NULL;
  size_t n = 0;
  if (hist_store_usage(store, q.project[0] ? projects : NULL, q.project[0] ? 1 : 0, by, q.from, q.to, now, &rows, &n,
                       err, sizeof err))
    return fail(body, 500, "InternalError", "%s", err);
  json_t *items = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(items, json_pack("{s:s, s:I, s:f, s:f, s:I}", "key", rows[i].key, "gpuMilliSeconds",
                                           (json_int_t)rows[i].gpu_milli_seconds, "gpuHours",
                                           (double)rows[i].gpu_milli_seconds / 3.6e6, "cpuHours",
                                           (double)rows[i].cpu_milli_seconds / 3.6e6, "runs", (json_int_t)rows[i].runs));
  free(rows);
  char from[32], to[32];
  time_format_rfc3339(q.from, from);
  time_format_rfc3339(q.to, to);
  *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "project", q.project, "by", q.by, "from", from, "to", to, "items",
                    items);
  return 200;
}

int hist_api_serve(hist_store *store, const hist_auth *auth, const char *path, const char *query,
                   const char *authorization, int64_t now, json_t **body) {
  *body = NULL;
  size_t cap = authorization ? strlen(authorization) + 1 : 1;
  char *token = xmalloc(cap);
  if (rt_authz_bearer(authorization, token, cap)) {
    free(token);
    return fail(body, 401, "Unauthorized", "send the caller's token: Authorization: Bearer <token>");
  }
  json_t *user = NULL;
  char why[512] = "";
  int rc = auth->authenticate(auth->arg, token, &user, why, sizeof why);
  OPENSSL_cleanse(token, cap); /* a credential: no copy left behind */
  free(token);
  if (rc == CUBIT_ETOOMANYREQUESTS) return fail(body, 503, "ServiceUnavailable", "%s", why);
  if (rc < 0) return fail(body, 500, "InternalError", "cannot authenticate the token: %s", why);
  if (rc == 0) return fail(body, 401, "Unauthorized", "the token was not accepted%s%s", why[0] ? ": " : "", why);
  int status;
  if (strcmp(path, "/api/v1/runs") == 0) status = serve_runs(store, auth, user, query, body);
  else if (strcmp(path, "/api/v1/run") == 0) status = serve_run(store, auth, user, query, body);
  else if (strcmp(path, "/api/v1/usage") == 0) status = serve_usage(store, auth, user, query, now, body);
  else if (strncmp(path, HIST_EXPERIMENTS_PREFIX, strlen(HIST_EXPERIMENTS_PREFIX)) == 0)
    status = serve_trials(store, auth, user, path, query, body);
  else status = fail(body, 404, "NotFound", "no endpoint %s", path);
  json_decref(user);
  return status;
}

/* ---- CSV ------------------------------------------------------------------------------------ */

/* The q of the media range 'type' in an Accept header (0 when absent, 1
 * by default), and where it first appears (*pos, for ties). */
static double accept_q(const char *accept, const char *type, int *pos) {
  *pos = 1 << 30;
  int i = 0;
  for (const char *p = accept; p && *p; i++) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    const char *semi = memchr(p, ';', len);
    size_t tlen = semi ? (size_t)(semi - p) : len;
    while (tlen && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t')) tlen--;
    if (tlen == strlen(type) && strncasecmp(p, type, tlen) == 0) {
      double q = 1;
      for (const char *a = semi; a && a < p + len; a = memchr(a + 1, ';', (size_t)(p + len - a - 1))) {
        const char *v = a + 1;
        while (*v == ' ') v++;
        if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=') q = strtod(v + 2, NULL);
      }
      *pos = i;
      return q > 0 ? q : 0;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

int hist_api_wants_csv(const char *path, const char *query, const char *accept) {
  if (strcmp(path, "/api/v1/runs") != 0 && strcmp(path, "/api/v1/usage") != 0) return 0;
  /* format= decides (the parsers refused any other value) */
  char format[8];
  if (hist_query_value(query, "format", format, sizeof format)) return strcmp(format, "csv") == 0;
  int csv_pos, json_pos;
  double csv = accept_q(accept, "text/csv", &csv_pos), json = accept_q(accept, "application/json", &json_pos);
  return csv > 0 && (csv > json || (csv == json && csv_pos < json_pos));
}

static int csv_field(cubit_buf *out, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) return buf_appends(out, s);
  if (buf_appends(out, "\"")) return CUBIT_ENOMEM;
  for (const char *p = s; *p; p++)
    if (buf_append(out, p, 1) || (*p == '"' && buf_append(out, p, 1))) return CUBIT_ENOMEM;
  return buf_appends(out, "\"");
}

/* One JSON value as a field: strings as they are, numbers in full, null
 * empty, objects (a trial's parameters) as compact JSON. */
static int csv_value(cubit_buf *out, const json_t *v) {
  if (v == NULL || json_is_null(v)) return 0;
  if (json_is_string(v)) return csv_field(out, json_string_value(v));
  if (json_is_integer(v)) return buf_appendf(out, "%lld", (long long)json_integer_value(v));
  if (json_is_real(v)) return buf_appendf(out, "%.17g", json_real_value(v));
  if (json_is_boolean(v)) return buf_appends(out, json_is_true(v) ? "true" : "false");
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  int rc = text ? csv_field(out, text) : CUBIT_ENOMEM;
  free(text);
  return rc;
}

/* The columns of a run, in the JSON answer's order (docs/history.md). */
static const char *const run_csv_columns[] = {
    "uid",        "kind",       "namespace",  "name",      "project",   "creator", "cluster", "template",
    "phase",      "cpuMilli",   "memoryBytes", "gpuMilli", "gpuModel",  "createdAt", "finishedAt", "deletedAt",
    "parentUid",  "parentKind", "parentName", "task",      "attempt",   "trial",   "parameters", "value"};

int hist_api_csv(const char *path, const json_t *body, cubit_buf *out) {
  json_t *items = json_object_get(body, "items");
  size_t i;
  json_t *it;
  int rc = 0;
  if (strcmp(path, "/api/v1/usage") == 0) {
    const char *by = js_str(body, "by");
    rc = buf_appendf(out, "%s,gpuHours,cpuHours,gpuMilliSeconds,runs\r\n", by ? by : "key");
    json_array_foreach(items, i, it) {
      if (rc == 0) rc = csv_field(out, js_str(it, "key") ? js_str(it, "key") : "");
      if (rc == 0)
        rc = buf_appendf(out, ",%.6f,%.6f,%lld,%lld\r\n", json_real_value(json_object_get(it, "gpuHours")),
                         json_real_value(json_object_get(it, "cpuHours")),
                         (long long)json_integer_value(json_object_get(it, "gpuMilliSeconds")),
                         (long long)json_integer_value(json_object_get(it, "runs")));
    }
    return rc ? CUBIT_ENOMEM : 0;
  }
  const size_t ncol = sizeof run_csv_columns / sizeof run_csv_columns[0];
  for (size_t c = 0; rc == 0 && c < ncol; c++) rc = buf_appendf(out, "%s%s", c ? "," : "", run_csv_columns[c]);
  if (rc == 0) rc = buf_appends(out, "\r\n");
  json_array_foreach(items, i, it) {
    for (size_t c = 0; rc == 0 && c < ncol; c++) {
      if (c) rc = buf_appends(out, ",");
      if (rc == 0) rc = csv_value(out, json_object_get(it, run_csv_columns[c]));
    }
    if (rc == 0) rc = buf_appends(out, "\r\n");
  }
  return rc ? CUBIT_ENOMEM : 0;
}

int hist_api_respond(hist_store *store, const hist_auth *auth, const char *path, const char *query,
                     const char *authorization, const char *accept, int64_t now, cubit_buf *out,
                     const char **content_type, char **next) {
  json_t *body = NULL;
  *next = NULL;
  int status = hist_api_serve(store, auth, path, query, authorization, now, &body);
  int csv = status == 200 && hist_api_wants_csv(path, query, accept);
  *content_type = csv ? "text/csv; charset=utf-8" : "application/json";
  int rc;
  if (csv) {
    rc = hist_api_csv(path, body, out);
    if (rc == 0 && js_str(body, "next")) *next = xstrdup(js_str(body, "next"));
  } else {
    char *text = json_dumps(body, JSON_COMPACT);
    rc = text == NULL || buf_appends(out, text) || buf_appends(out, "\n");
    free(text);
  }
  json_decref(body);
  if (rc) {
    buf_reset(out);
    *content_type = "text/plain; charset=utf-8";
    return 500;
  }
  return status;
}

/* ---- the manager's server ---------------------------------------------------------------- */

/* The server runs on its own loop and thread: the manager's loop ends when
 * the manager's own handles close, and must not wait for ours. */
struct hist_api_server {
  uv_loop_t loop;
  uv_async_t stop_async;
  uv_thread_t thread;
  http_server *http;
  hist_store *store;
  rt_authz *authz; /* TokenReviews and SubjectAccessReviews, cached a minute */
  cache_informer *projects;
  rt_certs *certs; /* self-issued pair, or NULL */
  hist_auth auth;
};

static int review_token(void *arg, const char *token, json_t **user, char *why, size_t whylen) {
  hist_api_server *s = arg;
  return rt_authz_authenticate(s->authz, token, time_wall_s(), user, why, whylen);
}

static int review_access(void *arg, const json_t *user, const char *ns, char *why, size_t whylen) {
  hist_api_server *s = arg;
  rt_access x = {.verb = "list", .group = "cubit.dev", .resource = "trainingjobs", .ns = ns};
  return rt_authz_review(s->authz, user, &x, time_wall_s(), why, whylen);
}

static int project_namespaces(void *arg, const char *name, char ***nss, size_t *n) {
  hist_api_server *s = arg;
  *nss = NULL;
  *n = 0;
  json_t *p = cache_store_get(cache_informer_store(s->projects), NULL, name);
  if (p == NULL) return CUBIT_ENOTFOUND;
  json_t *list = js_get(p, "spec.namespaces");
  size_t i;
  json_t *v;
  *nss = xcalloc(json_array_size(list) + 1, sizeof **nss);
  json_array_foreach(list, i, v) if (json_is_string(v))(*nss)[(*n)++] = xstrdup(json_string_value(v));
  json_decref(p);
  return 0;
}

static void handle(const http_request *req, http_response *resp, void *arg) {
  hist_api_server *s = arg;
  /* Through the API server's service proxy the Authorization header does
   * not arrive (the API server removes it once it authenticated the caller):
   * kubectl-cubit sends the same bearer token in X-Cubit-Authorization. The
   * token is reviewed the same way whichever header brought it. */
  const char *authorization = http_request_header(req, "Authorization");
  if (authorization == NULL) authorization = http_request_header(req, "X-Cubit-Authorization");
  char *next = NULL;
  resp->status = hist_api_respond(s->store, &s->auth, req->path, req->query, authorization,
                                  http_request_header(req, "Accept"), time_wall_s(), &resp->body, &resp->content_type,
                                  &next);
  if (next && http_response_header(resp, "X-Cubit-Next", next)) {
    resp->status = 500;
    buf_reset(&resp->body);
  }
  free(next);
}

static void on_stop(uv_async_t *a) {
  hist_api_server *s = a->data;
  http_server_close(s->http, NULL, NULL);
  s->http = NULL;
  uv_close((uv_handle_t *)&s->stop_async, NULL);
}

static void run_loop(void *arg) {
  hist_api_server *s = arg;
  uv_run(&s->loop, UV_RUN_DEFAULT);
}

int hist_api_server_start(rt_manager *m, hist_store *store, const char *bind, const char *cert_dir,
                          const char *self_hosts, const char *ns, hist_api_server **out) {
  *out = NULL;
  hist_api_server *s = xcalloc(1, sizeof *s);
  int rc;
  if (self_hosts) {
    rt_certs_options co = {ns, "cubit-history-certs", cert_dir, self_hosts, NULL, 0};
    rc = rt_certs_start(rt_manager_client(m), &co, 60, &s->certs);
    if (rc) {
      log_error("history", "cannot issue the API's certificate", "error=%s", cubit_strerror(rc));
      free(s);
      return rc;
    }
  }
  s->store = store;
  /* A few readers at once: a flood of made-up tokens waits on no more
   * than 4 reviews. */
  rt_authz_options ao = {.max_inflight = 4};
  s->authz = rt_authz_new(rt_manager_client(m), &ao);
  /* Created before the manager runs, so its informer starts with the others. */
  s->projects = rt_manager_informer(m, &project_resource);
  s->auth = (hist_auth){review_token, review_access, project_namespaces, s};
  char *cert = xasprintf("%s/tls.crt", cert_dir);
  char *key = xasprintf("%s/tls.key", cert_dir);
  http_server_opts o;
  http_server_opts_init(&o);
  o.name = "history";
  o.bind = bind;
  o.cert_file = cert;
  o.key_file = key;
  o.metrics = rt_manager_metrics(m);
  if (uv_loop_init(&s->loop) != 0) abort();
  rc = http_server_new(&s->loop, &o, &s->http);
  free(cert);
  free(key);
  if (rc) goto fail_new;
  static const char *const paths[] = {"/api/v1/runs", "/api/v1/run", "/api/v1/usage", HIST_EXPERIMENTS_PREFIX};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    rc = http_server_route(s->http, paths[i], "GET", 0, handle, s, HTTP_ROUTE_OFFLOAD); /* GETs: no body */
    if (rc) goto fail_route;
  }
  rc = http_server_start(s->http);
  if (rc) goto fail_route;
  uv_async_init(&s->loop, &s->stop_async, on_stop);
  s->stop_async.data = s;
  if (uv_thread_create(&s->thread, run_loop, s) != 0) abort();
  log_info("history", "serving the history API", "bind=%s", bind);
  *out = s;
  return 0;
fail_route:
  http_server_close(s->http, NULL, NULL);
fail_new:
  uv_run(&s->loop, UV_RUN_DEFAULT); /* lets the closed server's handles go */
  uv_loop_close(&s->loop);
  rt_certs_stop(s->certs);
  rt_authz_free(s->authz);
  free(s);
  return rc;
}

void hist_api_server_stop(hist_api_server *s) {
  if (s == NULL) return;
  /* The server finishes the requests it is handling, then its loop ends. */
  uv_async_send(&s->stop_async);
  uv_thread_join(&s->thread);
  uv_loop_close(&s->loop);
  rt_certs_stop(s->certs);
  rt_authz_free(s->authz);
  free(s);
}
