/* Tests of history/query and history/api: the query parsers (table), and
 * who may read what through hist_api_serve with a table in place of
 * TokenReview and SubjectAccessReview. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "history/api.h"
#include "history/query.h"
#include "util/json.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1796083200 /* 2026-12-01T00:00:00Z */

/* ---- parsers ---------------------------------------------------------------------------- */

typedef struct {
  const char *query;
  const char *err; /* NULL: accepted */
} q_case;

static const q_case runs_cases[] = {
    {"", NULL},
    {"project=proj&kind=TrainingJob&limit=5", NULL},
    {"user=system%3Aserviceaccount%3Ateam%3Aalice", NULL},
    {"from=2026-12-01T00:00:00Z&to=1796169600", NULL},
    {"project=a&project=b", "project: given more than once"},
    {"color=red", "color: unknown parameter"},
    {"project=", "project: empty value"},
    {"project", "project: empty value"},
    {"limit=0", "limit: want an integer from 1 to 1000"},
    {"limit=1001", "limit: want an integer from 1 to 1000"},
    {"limit=5x", "limit: want an integer from 1 to 1000"},
    {"from=yesterday", "from: want RFC 3339"},
    {"from=1796169600&to=1796083200", "to: must be after from"},
    {"project=%zz", "project: bad percent-encoding"},
    {"project=%4", "project: bad percent-encoding"},
    {"project=a%00b", "project: control characters are not allowed"},
    {"&&project=p&", NULL},
    {"parent=0f9e-uid", NULL},
    {"parent=", "parent: empty value"},
    {"format=csv&limit=5", NULL},
    {"format=json", NULL},
    {"format=xml", "format: want json or csv"},
    {"format=CSV", "format: want json or csv"},
    {"label=team%3Dnlp&label=app.kubernetes.io%2Fpart-of%3Dbert", NULL},
    {"label=team%21%3Dnlp", NULL},
    {"label=team%3D%3Dnlp", NULL},
    {"label=team", NULL},
    {"label=%21team", NULL},
    {"label=team%3D", NULL}, /* the empty value */
    {"label=%3Dnlp", "label: want name=value, name!=value, name or !name"},
    {"label=te%20am%3Dx", "label: want name=value"},
    {"label=-team", "label: want name=value"},
    {"label=%21team%3Dx", "label: want name=value"},
    {"label=Example.COM%2Fteam", "label: want name=value"},
    {"label=team%3Dn%2Fl", "label: the value for team is not a Kubernetes label value"},
    {"label=team%3D%21nlp", "label: the value for team is not"},
    {"label=a&label=b&label=c&label=d&label=e&label=f&label=g&label=h&label=i", "label: given more than 8 times"},
};

START_TEST(runs_query_table) {
  const q_case *c = &runs_cases[_i];
  hist_runs_query q;
  char err[256] = "";
  int rc = hist_parse_runs_query(c->query, &q, err, sizeof err);
  if (c->err == NULL) ck_assert_msg(rc == 0, "%s: %s", c->query, err);
  else {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s: accepted", c->query);
    ck_assert_msg(strncmp(err, c->err, strlen(c->err)) == 0, "%s: got \"%s\", want \"%s\"", c->query, err, c->err);
  }
}
END_TEST

START_TEST(runs_query_labels) {
  hist_runs_query q;
  char err[256] = "";
  ck_assert_int_eq(hist_parse_runs_query("label=team%3Dnlp&label=tier%21%3Dgold&label=owner&label=%21tmp&label=x%3D%3Dy",
                                         &q, err, sizeof err),
                   0);
  ck_assert_uint_eq(q.nlabels, 5);
  const hist_label_sel want[] = {{HIST_LABEL_EQ, "team", "nlp"},
                                 {HIST_LABEL_NE, "tier", "gold"},
                                 {HIST_LABEL_EXISTS, "owner", ""},
                                 {HIST_LABEL_NOT_EXISTS, "tmp", ""},
                                 {HIST_LABEL_EQ, "x", "y"}};
  for (size_t i = 0; i < N(want); i++) {
    ck_assert_int_eq(q.labels[i].op, want[i].op);
    ck_assert_str_eq(q.labels[i].name, want[i].name);
    ck_assert_str_eq(q.labels[i].value, want[i].value);
  }
}
END_TEST

START_TEST(runs_query_values) {
  hist_runs_query q;
  char err[256] = "";
  ck_assert_int_eq(hist_parse_runs_query("user=system%3Aserviceaccount%3Ateam%3Aalice&from=2026-12-01T00:00:00Z&to="
                                         "1796169600&limit=7&kind=Notebook",
                                         &q, err, sizeof err),
                   0);
  ck_assert_str_eq(q.user, "system:serviceaccount:team:alice");
  ck_assert_int_eq(q.from, T0);
  ck_assert_int_eq(q.to, T0 + 86400);
  ck_assert_int_eq(q.limit, 7);
  ck_assert_str_eq(q.kind, "Notebook");
  ck_assert_int_eq(hist_parse_runs_query("", &q, err, sizeof err), 0);
  ck_assert_int_eq(q.limit, 100);
  char longv[400] = "project=";
  memset(longv + 8, 'a', 300);
  ck_assert_int_eq(hist_parse_runs_query(longv, &q, err, sizeof err), CUBIT_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "longer than"));
}
END_TEST

static const q_case usage_cases[] = {
    {"", NULL},
    {"by=member&project=p", NULL},
    {"by=gpu-model", NULL},
    {"by=year", "by: want day, week, month, member, gpu-model or project"},
    {"from=1700000000&to=1796083200", "from: the window is longer than 400 days"},
    {"from=1796083200&to=1796083200", "to: must be after from"},
    {"by=member&format=csv", NULL},
    {"format=tsv", "format: want json or csv"},
    {"format=csv&format=csv", "format: given more than once"},
};

START_TEST(usage_query_table) {
  const q_case *c = &usage_cases[_i];
  hist_usage_query q;
  char err[256] = "";
  int rc = hist_parse_usage_query(c->query, T0, &q, err, sizeof err);
  if (c->err == NULL) ck_assert_msg(rc == 0, "%s: %s", c->query, err);
  else {
    ck_assert_msg(rc == CUBIT_EINVAL, "%s: accepted", c->query);
    ck_assert_msg(strncmp(err, c->err, strlen(c->err)) == 0, "%s: got \"%s\", want \"%s\"", c->query, err, c->err);
  }
}
END_TEST

START_TEST(usage_query_defaults) {
  hist_usage_query q;
  char err[256] = "";
  ck_assert_int_eq(hist_parse_usage_query("", T0, &q, err, sizeof err), 0);
  ck_assert_str_eq(q.by, "day");
  ck_assert_int_eq(q.to, T0);
  ck_assert_int_eq(q.from, T0 - 30 * 86400);
  hist_run_query r;
  ck_assert_int_eq(hist_parse_run_query("", &r, err, sizeof err), CUBIT_EINVAL);
  ck_assert_str_eq(err, "uid: required");
  ck_assert_int_eq(hist_parse_run_query("uid=abc", &r, err, sizeof err), 0);
  ck_assert_str_eq(r.uid, "abc");
}
END_TEST

/* ---- who may read what ---------------------------------------------------------------- */

/* Tokens: admin lists everywhere; alice in "team" (project proj's only
 * namespace); bob in "other"; "broken" makes the review fail. */
static int fake_authenticate(void *arg, const char *token, json_t **user, char *why, size_t whylen) {
  if (strcmp(token, "broken") == 0) {
    snprintf(why, whylen, "connection refused");
    return CUBIT_ECONNECT;
  }
  if (strcmp(token, "admin") && strcmp(token, "alice") && strcmp(token, "bob")) return 0;
  *user = json_pack("{s:s}", "username", token);
  return 1;
}

static int fake_may_list(void *arg, const json_t *user, const char *ns, char *why, size_t whylen) {
  const char *who = js_str(user, "username");
  if (strcmp(who, "admin") == 0) return 1;
  if (strcmp(who, "alice") == 0) return strcmp(ns, "team") == 0;
  if (strcmp(who, "bob") == 0) return strcmp(ns, "other") == 0;
  return 0;
}

static int fake_project_namespaces(void *arg, const char *name, char ***nss, size_t *n) {
  *nss = NULL;
  *n = 0;
  if (strcmp(name, "proj") == 0) {
    *nss = calloc(1, sizeof **nss);
    (*nss)[0] = strdup("team");
    *n = 1;
    return 0;
  }
  if (strcmp(name, "otherproj") == 0) {
    *nss = calloc(1, sizeof **nss);
    (*nss)[0] = strdup("other");
    *n = 1;
    return 0;
  }
  return CUBIT_ENOTFOUND;
}

static const hist_auth fake_auth = {fake_authenticate, fake_may_list, fake_project_namespaces, NULL};

static hist_store *fixture(void) {
  char err[256] = "";
  hist_store *s = NULL;
  ck_assert_msg(hist_store_open(":memory:", &s, err, sizeof err) == 0, "%s", err);
  json_t *labels = json_pack("{s:s}", "tier", "gold");
  hist_run r = {.uid = "u1", .kind = "TrainingJob", .ns = "team", .name = "job", .project = "proj",
                .creator = "alice", .phase = "Succeeded", .created_at = T0, .labels_known = 1, .labels = labels};
  ck_assert_int_eq(hist_store_put_run(s, &r, err, sizeof err), 0);
  json_decref(labels);
  hist_interval iv = {.pod_uid = "p1", .run_uid = "u1", .started_at = T0 + 60, .ended_at = T0 + 3660,
                      .gpu_milli = 1000, .gpu_model = "A100"};
  ck_assert_int_eq(hist_store_put_interval(s, &iv, err, sizeof err), 0);
  hist_run gone = {.uid = "u2", .kind = "Notebook", .ns = "orphan", .name = "nb", .created_at = T0};
  ck_assert_int_eq(hist_store_put_run(s, &gone, err, sizeof err), 0);
  /* a PipelineRun and its task's TrainingJob; two trials of Experiment hpo */
  hist_run pr = {.uid = "pr1", .kind = "PipelineRun", .ns = "team", .name = "nightly-1", .project = "proj",
                 .phase = "Succeeded", .created_at = T0 + 1};
  hist_run task = {.uid = "t1", .kind = "TrainingJob", .ns = "team", .name = "nightly-1-train-1", .project = "proj",
                   .phase = "Succeeded", .created_at = T0 + 2, .parent_uid = "pr1", .parent_kind = "PipelineRun",
                   .parent_name = "nightly-1", .task = "train", .attempt = 1};
  hist_run trial2 = {.uid = "x2", .kind = "TrainingJob", .ns = "team", .name = "hpo-2", .project = "proj",
                     .phase = "Running", .created_at = T0 + 4, .parent_uid = "e1", .parent_kind = "Experiment",
                     .parent_name = "hpo", .trial = 2, .parameters = "{\"lr\":0.1}"};
  hist_run trial1 = {.uid = "x1", .kind = "TrainingJob", .ns = "team", .name = "hpo-1", .project = "proj",
                     .phase = "Succeeded", .created_at = T0 + 3, .parent_uid = "e1", .parent_kind = "Experiment",
                     .parent_name = "hpo", .trial = 1, .parameters = "{\"lr\":0.01,\"layers\":4}",
                     .has_value = 1, .value = 0.93};
  const hist_run *more[] = {&pr, &task, &trial2, &trial1};
  for (size_t i = 0; i < N(more); i++) ck_assert_int_eq(hist_store_put_run(s, more[i], err, sizeof err), 0);
  return s;
}

typedef struct {
  const char *name, *path, *query, *authorization;
  int status;
  const char *reason; /* of an error, NULL on 200 */
  int items;          /* -1: not a list */
} api_case;

static const api_case api_cases[] = {
    {"no token", "/api/v1/runs", "project=proj", NULL, 401, "Unauthorized", -1},
    {"not a bearer token", "/api/v1/runs", "project=proj", "Basic YWxpY2U6eA==", 401, "Unauthorized", -1},
    {"unknown token", "/api/v1/runs", "project=proj", "Bearer nobody", 401, "Unauthorized", -1},
    {"TokenReview fails", "/api/v1/runs", "project=proj", "Bearer broken", 500, "InternalError", -1},
    {"member reads her project", "/api/v1/runs", "project=proj", "Bearer alice", 200, NULL, 5},
    {"member reads usage", "/api/v1/usage", "project=proj&from=1796083200&to=1796169600", "Bearer alice", 200, NULL, 1},
    {"member reads one run", "/api/v1/run", "uid=u1", "bearer alice", 200, NULL, -1},
    {"stranger: project", "/api/v1/runs", "project=proj", "Bearer bob", 403, "Forbidden", -1},
    {"stranger: usage", "/api/v1/usage", "project=proj", "Bearer bob", 403, "Forbidden", -1},
    {"stranger: one run", "/api/v1/run", "uid=u1", "Bearer bob", 403, "Forbidden", -1},
    {"member: cluster-wide", "/api/v1/runs", "", "Bearer alice", 403, "Forbidden", -1},
    {"member: a project that is gone", "/api/v1/runs", "project=gone", "Bearer alice", 403, "Forbidden", -1},
    {"member: a run without project outside her namespaces", "/api/v1/run", "uid=u2", "Bearer alice", 403,
     "Forbidden", -1},
    {"admin: everything", "/api/v1/runs", "", "Bearer admin", 200, NULL, 6},
    {"member: a label filter", "/api/v1/runs", "project=proj&label=tier%3Dgold", "Bearer alice", 200, NULL, 1},
    {"member: a bad label filter", "/api/v1/runs", "project=proj&label=a%3Db%3Dc", "Bearer alice", 400, "BadRequest",
     -1},
    {"member: a run's children", "/api/v1/runs", "project=proj&parent=pr1", "Bearer alice", 200, NULL, 1},
    {"member: an Experiment's trials", "/api/v1/experiments/team/hpo/trials", "", "Bearer alice", 200, NULL, 2},
    {"member: an Experiment without trials yet", "/api/v1/experiments/team/none/trials", "", "Bearer alice", 200,
     NULL, 0},
    {"stranger: trials", "/api/v1/experiments/team/hpo/trials", "", "Bearer bob", 403, "Forbidden", -1},
    {"stranger: no trials yet", "/api/v1/experiments/team/none/trials", "", "Bearer bob", 403, "Forbidden", -1},
    {"no token: trials", "/api/v1/experiments/team/hpo/trials", "", NULL, 401, "Unauthorized", -1},
    {"trials: a parameter", "/api/v1/experiments/team/hpo/trials", "limit=1", "Bearer alice", 400, "BadRequest", -1},
    {"trials: a bad name", "/api/v1/experiments/team/Hpo/trials", "", "Bearer alice", 400, "BadRequest", -1},
    {"trials: a bad path", "/api/v1/experiments/team/hpo", "", "Bearer alice", 400, "BadRequest", -1},
    {"admin: a run without project", "/api/v1/run", "uid=u2", "Bearer admin", 200, NULL, -1},
    {"unknown run", "/api/v1/run", "uid=nope", "Bearer admin", 404, "NotFound", -1},
    {"bad query", "/api/v1/runs", "limit=-1", "Bearer admin", 400, "BadRequest", -1},
    {"bad query before authorisation", "/api/v1/usage", "by=year", "Bearer bob", 400, "BadRequest", -1},
    {"unknown endpoint", "/api/v1/other", "", "Bearer admin", 404, "NotFound", -1},
};

START_TEST(api_table) {
  const api_case *c = &api_cases[_i];
  hist_store *s = fixture();
  json_t *body = NULL;
  int status = hist_api_serve(s, &fake_auth, c->path, c->query, c->authorization, T0 + 86400, &body);
  char *text = json_dumps(body, JSON_COMPACT);
  ck_assert_msg(status == c->status, "%s: status %d, body %s", c->name, status, text);
  if (c->reason) {
    ck_assert_msg(strcmp(js_str(body, "reason"), c->reason) == 0, "%s: %s", c->name, text);
    ck_assert_msg(js_str(body, "message") && js_str(body, "message")[0], "%s: no message", c->name);
  }
  if (c->items >= 0)
    ck_assert_msg(json_array_size(json_object_get(body, "items")) == (size_t)c->items, "%s: %s", c->name, text);
  free(text);
  json_decref(body);
  hist_store_close(s);
}
END_TEST

START_TEST(api_usage_values) {
  hist_store *s = fixture();
  json_t *body = NULL;
  ck_assert_int_eq(hist_api_serve(s, &fake_auth, "/api/v1/usage", "project=proj&by=gpu-model&from=1796083200&to=1796169600",
                                  "Bearer alice", T0 + 86400, &body),
                   200);
  json_t *row = json_array_get(json_object_get(body, "items"), 0);
  ck_assert_str_eq(js_str(row, "key"), "A100");
  ck_assert_int_eq(js_int(row, "gpuMilliSeconds", 0), 3600 * 1000);
  ck_assert(json_real_value(json_object_get(row, "gpuHours")) == 1.0);
  ck_assert_str_eq(js_str(body, "from"), "2026-12-01T00:00:00Z");
  json_decref(body);
  ck_assert_int_eq(hist_api_serve(s, &fake_auth, "/api/v1/run", "uid=u1", "Bearer alice", T0, &body), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(body, "pods")), 1);
  json_decref(body);
  /* a PipelineRun's record lists its task; the task names its parent */
  ck_assert_int_eq(hist_api_serve(s, &fake_auth, "/api/v1/run", "uid=pr1", "Bearer alice", T0, &body), 200);
  json_t *child = json_array_get(json_object_get(body, "children"), 0);
  ck_assert_uint_eq(json_array_size(json_object_get(body, "children")), 1);
  ck_assert_str_eq(js_str(child, "uid"), "t1");
  ck_assert_str_eq(js_str(child, "task"), "train");
  ck_assert_int_eq(js_int(child, "attempt", 0), 1);
  ck_assert_str_eq(js_str(child, "parentName"), "nightly-1");
  ck_assert_str_eq(js_str(child, "parentKind"), "PipelineRun");
  json_decref(body);
  /* trials by number, with parameters as JSON, the value when recorded */
  ck_assert_int_eq(hist_api_serve(s, &fake_auth, "/api/v1/experiments/team/hpo/trials", "", "Bearer alice", T0, &body),
                   200);
  json_t *items = json_object_get(body, "items");
  ck_assert_str_eq(js_str(body, "experiment"), "hpo");
  ck_assert_int_eq(js_int(json_array_get(items, 0), "trial", 0), 1);
  ck_assert_str_eq(js_str(json_array_get(items, 0), "phase"), "Succeeded");
  ck_assert(json_real_value(json_object_get(json_array_get(items, 0), "value")) == 0.93);
  ck_assert(json_real_value(js_get(json_array_get(items, 0), "parameters.lr")) == 0.01);
  ck_assert_int_eq(js_int(json_array_get(items, 0), "parameters.layers", 0), 4);
  ck_assert_int_eq(js_int(json_array_get(items, 1), "trial", 0), 2);
  ck_assert(json_is_null(json_object_get(json_array_get(items, 1), "value")));
  ck_assert_ptr_null(json_object_get(json_array_get(items, 0), "project"));
  json_decref(body);
  hist_store_close(s);
}
END_TEST

/* ---- CSV -------------------------------------------------------------------------------- */

typedef struct {
  const char *path, *query, *accept;
  int csv;
} csv_case;

static const csv_case csv_cases[] = {
    {"/api/v1/usage", "format=csv", NULL, 1},
    {"/api/v1/runs", "project=p&format=csv", "application/json", 1}, /* format= decides */
    {"/api/v1/usage", "format=json", "text/csv", 0},
    {"/api/v1/usage", "by=day&format=%63sv", NULL, 1}, /* decoded as the parser decodes it */
    {"/api/v1/usage", "", "text/csv", 1},
    {"/api/v1/usage", "", "Text/CSV; charset=utf-8", 1},
    {"/api/v1/usage", "", "application/json, text/csv", 0},     /* same q: the first */
    {"/api/v1/usage", "", "text/csv, application/json", 1},
    {"/api/v1/usage", "", "application/json;q=0.5, text/csv", 1}, /* by q */
    {"/api/v1/usage", "", "text/csv;q=0, application/json", 0},
    {"/api/v1/usage", "", "*/*", 0},
    {"/api/v1/usage", "", NULL, 0},
    {"/api/v1/run", "uid=u1", "text/csv", 0}, /* one run: JSON only */
    {"/api/v1/experiments/team/hpo/trials", "", "text/csv", 0},
};

START_TEST(wants_csv_table) {
  const csv_case *c = &csv_cases[_i];
  ck_assert_msg(hist_api_wants_csv(c->path, c->query, c->accept) == c->csv, "%s?%s Accept %s", c->path, c->query,
                c->accept ? c->accept : "(none)");
}
END_TEST

static int respond(hist_store *s, const char *path, const char *query, const char *token, const char *accept,
                   cubit_buf *out, const char **type, char **next) {
  buf_init(out, 1 << 20);
  return hist_api_respond(s, &fake_auth, path, query, token, accept, T0 + 86400, out, type, next);
}

START_TEST(csv_answers) {
  hist_store *s = fixture();
  char err[256] = "";
  /* a creator that needs quoting */
  hist_run odd = {.uid = "u3", .kind = "TrainingJob", .ns = "team", .name = "odd", .project = "proj",
                  .creator = "eve \"the\" admin, ops\r\nteam", .phase = "Failed", .created_at = T0 + 10};
  ck_assert_int_eq(hist_store_put_run(s, &odd, err, sizeof err), 0);
  cubit_buf out;
  const char *type = NULL;
  char *next = NULL;
  ck_assert_int_eq(respond(s, "/api/v1/usage", "project=proj&by=gpu-model&from=1796083200&to=1796169600&format=csv",
                           "Bearer alice", NULL, &out, &type, &next),
                   200);
  ck_assert_str_eq(type, "text/csv; charset=utf-8");
  ck_assert_str_eq(out.data, "gpu-model,gpuHours,cpuHours,gpuMilliSeconds,runs\r\nA100,1.000000,0.000000,3600000,1\r\n");
  ck_assert_ptr_null(next);
  buf_free(&out);
  /* runs: every column, the odd creator quoted, a trial's parameters as JSON, the page's next uid */
  ck_assert_int_eq(respond(s, "/api/v1/runs", "project=proj&limit=2", "Bearer alice", "text/csv", &out, &type, &next),
                   200);
  ck_assert_str_eq(type, "text/csv; charset=utf-8");
  const char *head = "uid,kind,namespace,name,project,creator,cluster,template,phase,cpuMilli,memoryBytes,gpuMilli,"
                     "gpuModel,createdAt,finishedAt,deletedAt,parentUid,parentKind,parentName,task,attempt,trial,"
                     "parameters,value\r\n";
  ck_assert_int_eq(strncmp(out.data, head, strlen(head)), 0);
  const char *row1 = out.data + strlen(head);
  ck_assert_str_eq(row1, "u3,TrainingJob,team,odd,proj,\"eve \"\"the\"\" admin, ops\r\nteam\",local,,Failed,0,0,0,,"
                         "1796083210,,,,,,,,,,\r\n"
                         "x2,TrainingJob,team,hpo-2,proj,,local,,Running,0,0,0,,1796083204,,,e1,Experiment,hpo,,,2,"
                         "\"{\"\"lr\"\":0.10000000000000001}\",\r\n");
  ck_assert_str_eq(next, "x2");
  free(next);
  buf_free(&out);
  /* the same authorisation: a stranger gets the JSON error, not CSV */
  ck_assert_int_eq(respond(s, "/api/v1/usage", "project=proj&format=csv", "Bearer bob", "text/csv", &out, &type, &next),
                   403);
  ck_assert_str_eq(type, "application/json");
  ck_assert_ptr_nonnull(strstr(out.data, "\"reason\":\"Forbidden\""));
  buf_free(&out);
  ck_assert_int_eq(respond(s, "/api/v1/usage", "format=csv", NULL, NULL, &out, &type, &next), 401);
  ck_assert_str_eq(type, "application/json");
  buf_free(&out);
  /* JSON by default */
  ck_assert_int_eq(respond(s, "/api/v1/runs", "project=proj", "Bearer alice", NULL, &out, &type, &next), 200);
  ck_assert_str_eq(type, "application/json");
  ck_assert_int_eq(out.data[0], '{');
  ck_assert_ptr_null(next);
  buf_free(&out);
  hist_store_close(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("history_api");
  TCase *tc = tcase_create("api");
  tcase_add_loop_test(tc, runs_query_table, 0, N(runs_cases));
  tcase_add_test(tc, runs_query_values);
  tcase_add_test(tc, runs_query_labels);
  tcase_add_loop_test(tc, usage_query_table, 0, N(usage_cases));
  tcase_add_test(tc, usage_query_defaults);
  tcase_add_loop_test(tc, api_table, 0, N(api_cases));
  tcase_add_test(tc, api_usage_values);
  tcase_add_loop_test(tc, wants_csv_table, 0, N(csv_cases));
  tcase_add_test(tc, csv_answers);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
