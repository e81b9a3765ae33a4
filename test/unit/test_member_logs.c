/* The member logs endpoint (pkg/runtime/member_logs.h): its parser, and who
 * is served what, against a fake hub and member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/member_logs.h"
#include "testutil.h"
#include "util/json.h"

#define P RT_LOGS_PREFIX "namespaces/team-a/trainingjobs/train/pods"

static const struct {
  const char *path, *query;
  const char *err; /* a part of the error; NULL: accepted */
} parse_cases[] = {
    {P, "", NULL},
    {P "/train-0/log", "container=main&tailLines=10&limitBytes=1024&sinceTime=2026-12-07T10%3A00%3A00Z&timestamps=true",
     NULL},
    {P "/train-0/log", "", NULL},
    {RT_LOGS_PREFIX "namespaces/Team/trainingjobs/train/pods", "", "namespace \"Team\" is not a valid name"},
    {RT_LOGS_PREFIX "namespaces/team-a/trainingjobs/../pods", "", "name \"..\" is not a valid name"},
    {RT_LOGS_PREFIX "namespaces/team-a/trainingjobs/train", "", "\"pods\" expected"},
    {RT_LOGS_PREFIX "namespaces/team-a/trainingjobs/train/pods/train-0", "", "\"log\" expected"},
    {P "/train-0/log/x", "", "nothing may follow"},
    {P "/tr%2Fain/log", "", "pod \"tr%2Fain\" is not a valid name"},
    {"/api/v1/runs", "", "not under"},
    {P "/train-0/log", "tailLines=-1", "tailLines: \"-1\" is not a whole number from 0 to 100000"},
    {P "/train-0/log", "limitBytes=99999999999", "limitBytes"},
    {P "/train-0/log", "limitBytes=0", "limitBytes"},
    {P "/train-0/log", "sinceTime=yesterday", "sinceTime: \"yesterday\" is not an RFC 3339 time"},
    {P "/train-0/log", "follow=true", "unknown parameter \"follow\""},
    {P "/train-0/log", "container=a&container=b", "container given twice"},
    {P "/train-0/log", "container=a%26tailLines%3D1", "container: \"a&tailLines=1\" is not a container name"},
    {P "/train-0/log", "container=%zz", "is not name=value"},
    {P "/train-0/log", "timestamps=yes", "neither true nor false"},
    {P, "container=main", "applies to a pod's log, not to the listing"},
};

START_TEST(parse_table) {
  rt_logs_request r;
  char err[512] = "";
  int rc = rt_logs_parse(parse_cases[_i].path, parse_cases[_i].query, &r, err, sizeof(err));
  if (parse_cases[_i].err == NULL) {
    ck_assert_msg(rc == 0, "%s?%s: %s", parse_cases[_i].path, parse_cases[_i].query, err);
  } else {
    ck_assert_int_eq(rc, CUBIT_EINVAL);
    ck_assert_msg(strstr(err, parse_cases[_i].err) != NULL, "%s?%s: \"%s\" lacks \"%s\"", parse_cases[_i].path,
                  parse_cases[_i].query, err, parse_cases[_i].err);
  }
}
END_TEST

START_TEST(parse_and_member_query) {
  rt_logs_request r;
  char err[512] = "";
  ck_assert_int_eq(rt_logs_parse(P "/train-0/log", "container=main&tailLines=10&sinceTime=2026-12-07T10%3A00%3A00Z&"
                                                   "timestamps=true", &r, err, sizeof(err)), 0);
  ck_assert_str_eq(r.ns, "team-a");
  ck_assert_str_eq(r.plural, "trainingjobs");
  ck_assert_str_eq(r.name, "train");
  ck_assert_str_eq(r.pod, "train-0");
  char *q = rt_logs_member_query(&r);
  ck_assert_str_eq(q, "limitBytes=8388608&container=main&tailLines=10&sinceTime=2026-12-07T10:00:00Z&timestamps=true");
  free(q);
  rt_access x;
  rt_logs_access(&r, &x);
  ck_assert_str_eq(x.verb, "get");
  ck_assert_str_eq(x.resource, "pods");
  ck_assert_str_eq(x.subresource, "log");
  ck_assert_str_eq(x.ns, "team-a");
  ck_assert_int_eq(rt_logs_parse(P, "", &r, err, sizeof(err)), 0);
  rt_logs_access(&r, &x);
  ck_assert_str_eq(x.verb, "list");
  ck_assert_ptr_null(x.subresource);
}
END_TEST

/* ---- a fake hub and member ---- */

typedef struct fake {
  const char *placed;   /* the TrainingJob's status.cluster; NULL: no such job */
  int allowed;          /* the SubjectAccessReview's answer */
  const char *reviewed; /* what was asked: "verb resource/sub ns" */
  char asked[128];
  char member_query[256];
  long member_status;   /* the member's refusal of the log, 0: served */
} fake;

static int f_authenticate(void *arg, const char *token, json_t **user, char *why, size_t whylen) {
  (void)arg;
  if (strcmp(token, "good") != 0) {
    snprintf(why, whylen, "token unknown");
    return 0;
  }
  *user = json_pack("{s:s}", "username", "alice");
  return 1;
}

static int f_review(void *arg, const json_t *user, const rt_access *x, char *why, size_t whylen) {
  fake *f = arg;
  (void)user;
  snprintf(f->asked, sizeof(f->asked), "%s %s%s%s %s", x->verb, x->resource, x->subresource ? "/" : "",
           x->subresource ? x->subresource : "", x->ns);
  if (!f->allowed) snprintf(why, whylen, "RBAC: no role allows it");
  return f->allowed;
}

static json_t *f_owner(void *arg, const char *plural, const char *ns, const char *name, const char **label) {
  fake *f = arg;
  *label = NULL;
  if (strcmp(plural, "trainingjobs") != 0) return NULL;
  *label = "cubit.dev/trainingjob";
  if (f->placed == NULL || strcmp(ns, "team-a") != 0 || strcmp(name, "train") != 0) return NULL;
  return json_pack("{s:{s:s, s:s, s:s}, s:{s:s}}", "metadata", "name", "train", "namespace", "team-a", "uid", "tj-uid",
                   "status", "cluster", f->placed);
}

static int f_list_pods(void *arg, const char *cluster, const char *ns, const char *selector, json_t **items, char *why,
                       size_t whylen) {
  (void)arg, (void)why, (void)whylen;
  ck_assert_str_eq(cluster, "east");
  ck_assert_str_eq(ns, "team-a");
  ck_assert_str_eq(selector, "cubit.dev/trainingjob=train");
  /* A namesake's stale pod (another uid) is listed by the selector but is not served. */
  *items = json_pack("[{s:{s:s, s:{s:s}}, s:{s:[{s:s}]}}, {s:{s:s, s:{s:s, s:s}}}]", "metadata", "name", "train-0",
                     "labels", "cubit.dev/trainingjob", "train", "spec", "containers", "name", "main", "metadata",
                     "name", "train-old", "labels", "cubit.dev/trainingjob", "train", "cubit.dev/owner-uid", "old");
  return 0;
}

static int f_read_log(void *arg, const char *cluster, const char *ns, const char *pod, const char *query,
                      cubit_buf *out, long *http_status, char *why, size_t whylen) {
  fake *f = arg;
  (void)ns;
  ck_assert_str_eq(cluster, "east");
  ck_assert_str_eq(pod, "train-0");
  snprintf(f->member_query, sizeof(f->member_query), "%s", query);
  if (f->member_status) {
    *http_status = f->member_status;
    snprintf(why, whylen, "container \"main\" in pod \"train-0\" is waiting to start");
    return CUBIT_EBADREQUEST;
  }
  return buf_appends(out, "epoch 1 loss 0.5\n");
}

static const struct {
  const char *name, *path, *query, *authorization;
  fake f;
  int status;
  const char *body;  /* a part of it */
  const char *asked; /* the review asked, NULL: none */
} serve_cases[] = {
    {"a log, allowed", P "/train-0/log", "container=main", "Bearer good", {.placed = "east", .allowed = 1}, 200,
     "epoch 1 loss 0.5", "get pods/log team-a"},
    {"the listing: only the job's own pods", P, "", "Bearer good", {.placed = "east", .allowed = 1}, 200,
     "{\"cluster\":\"east\",\"items\":[{\"metadata\":{\"name\":\"train-0\"", "list pods team-a"},
    {"no token", P "/train-0/log", "", NULL, {.placed = "east", .allowed = 1}, 401, "a bearer token is needed", NULL},
    {"a token the API server does not accept", P "/train-0/log", "", "Bearer bad", {.placed = "east", .allowed = 1},
     401, "token unknown", NULL},
    {"no pods/log on the hub", P "/train-0/log", "", "Bearer good", {.placed = "east", .allowed = 0}, 403,
     "alice may not get pods/log in namespace team-a on the hub: RBAC", "get pods/log team-a"},
    {"bad input before any review", P "/train-0/log", "tailLines=x", "Bearer good", {.placed = "east", .allowed = 1},
     400, "tailLines", NULL},
    {"no such job", RT_LOGS_PREFIX "namespaces/team-a/trainingjobs/other/pods", "", "Bearer good",
     {.placed = "east", .allowed = 1}, 404, "trainingjobs team-a/other not found", "list pods team-a"},
    {"a kind not placed", RT_LOGS_PREFIX "namespaces/team-a/secrets/x/pods", "", "Bearer good",
     {.placed = "east", .allowed = 1}, 404, "not a kind placed on member clusters", "list pods team-a"},
    {"a job in the hub", P "/train-0/log", "", "Bearer good", {.placed = "local", .allowed = 1}, 409,
     "runs in the hub", "get pods/log team-a"},
    {"a pod not the job's", P "/train-old/log", "", "Bearer good", {.placed = "east", .allowed = 1}, 404,
     "pod train-old is not one of trainingjobs team-a/train's pods in cluster east", "get pods/log team-a"},
    {"the member's refusal is the user's to read", P "/train-0/log", "", "Bearer good",
     {.placed = "east", .allowed = 1, .member_status = 400}, 400, "is waiting to start", "get pods/log team-a"},
};

START_TEST(serve_table) {
  fake f = serve_cases[_i].f;
  rt_logs_deps d = {&f, f_authenticate, f_review, f_owner, f_list_pods, f_read_log};
  cubit_buf out;
  buf_init(&out, 1 << 20);
  const char *ct = NULL;
  int status = rt_logs_serve(&d, serve_cases[_i].path, serve_cases[_i].query, serve_cases[_i].authorization, &out, &ct);
  char *body = strndup(out.data ? out.data : "", out.len);
  ck_assert_msg(status == serve_cases[_i].status, "%s: status %d, want %d: %s", serve_cases[_i].name, status,
                serve_cases[_i].status, body);
  ck_assert_msg(strstr(body, serve_cases[_i].body) != NULL, "%s: body \"%s\" lacks \"%s\"", serve_cases[_i].name, body,
                serve_cases[_i].body);
  ck_assert_msg(strcmp(f.asked, serve_cases[_i].asked ? serve_cases[_i].asked : "") == 0, "%s: reviewed \"%s\"",
                serve_cases[_i].name, f.asked);
  ck_assert_str_eq(ct, status == 200 && strstr(serve_cases[_i].path, "/log") ? "text/plain; charset=utf-8"
                                                                             : "application/json");
  if (status == 200 && strstr(serve_cases[_i].path, "/log"))
    ck_assert_str_eq(f.member_query, "limitBytes=8388608&container=main");
  free(body);
  buf_free(&out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("member_logs");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, parse_table, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
  tcase_add_test(tc, parse_and_member_query);
  tcase_add_loop_test(tc, serve_table, 0, sizeof(serve_cases) / sizeof(serve_cases[0]));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
