/* pkg/runtime/authz: the pure parts of delegated authentication and
 * authorisation (bearer tokens, verbs, reading TokenReview and
 * SubjectAccessReview answers, building the review) and the decision
 * cache. The reviews themselves are made against the real API server by
 * test/e2e/runtime/metrics-auth.sh. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/authz.h"
#include "testutil.h"
#include "util/json.h"

typedef struct bearer_case {
  const char *header;
  const char *token; /* NULL: refused */
} bearer_case;

static const bearer_case bearers[] = {
    {"Bearer abc.def-ghi", "abc.def-ghi"},
    {"bearer   abc  ", "abc"},
    {"BEARER\tabc", "abc"},
    {NULL, NULL},
    {"", NULL},
    {"Bearer", NULL},
    {"Bearer ", NULL},
    {"Bearerabc", NULL},
    {"Basic YWxpY2U6cHc=", NULL},
    {"Bearer two tokens", NULL},
    {"Bearer tok\x01", NULL},
};

START_TEST(bearer_tokens) {
  const bearer_case *c = &bearers[_i];
  char out[64];
  int rc = rt_authz_bearer(c->header, out, sizeof(out));
  if (c->token == NULL) {
    ck_assert_msg(rc == -1, "\"%s\" accepted as \"%s\"", c->header ? c->header : "(null)", out);
  } else {
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, c->token);
  }
}
END_TEST

START_TEST(token_longer_than_the_buffer) {
  char out[4];
  ck_assert_int_eq(rt_authz_bearer("Bearer abcd", out, sizeof(out)), -1);
  ck_assert_int_eq(rt_authz_bearer("Bearer abc", out, sizeof(out)), 0);
}
END_TEST

START_TEST(verbs) {
  ck_assert_str_eq(rt__authz_verb("GET"), "get");
  ck_assert_str_eq(rt__authz_verb("HEAD"), "get");
  ck_assert_str_eq(rt__authz_verb("POST"), "post");
  ck_assert_str_eq(rt__authz_verb("DELETE"), "delete");
  ck_assert_ptr_null(rt__authz_verb("BREW"));
  ck_assert_ptr_null(rt__authz_verb(NULL));
}
END_TEST

typedef struct review_case {
  const char *name;
  const char *json;
  int ok;
  const char *reason_part;
} review_case;

static const review_case token_reviews[] = {
    {"authenticated",
     "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"system:serviceaccount:mon:prom\",\"uid\":\"u1\","
     "\"groups\":[\"system:serviceaccounts\"],\"extra\":{\"authentication.kubernetes.io/pod-name\":[\"p\"]}}}}",
     1, NULL},
    {"not authenticated, with the server's reason",
     "{\"status\":{\"authenticated\":false,\"error\":\"token has expired\"}}", 0, "token has expired"},
    {"not authenticated, no reason", "{\"status\":{}}", 0, "not valid"},
    {"authenticated without a user name", "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"\"}}}", 0,
     "not valid"},
    {"authenticated a string", "{\"status\":{\"authenticated\":\"true\",\"user\":{\"username\":\"a\"}}}", 0,
     "not valid"},
};

START_TEST(reading_token_reviews) {
  const review_case *c = &token_reviews[_i];
  json_t *review = json_loads(c->json, 0, NULL);
  ck_assert_ptr_nonnull(review);
  json_t *user = NULL;
  char reason[256] = "";
  int rc = rt__authz_token_user(review, &user, reason, sizeof(reason));
  if (c->ok) {
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(js_str(user, "username"), "system:serviceaccount:mon:prom");
    /* the access review asks for that very user, groups and extra */
    rt_access x = {.verb = "get", .path = "/metrics"};
    json_t *sar = rt__authz_sar(user, &x);
    ck_assert_str_eq(js_str(sar, "apiVersion"), "authorization.k8s.io/v1");
    ck_assert_str_eq(js_str(sar, "kind"), "SubjectAccessReview");
    ck_assert_str_eq(js_str(sar, "spec.user"), "system:serviceaccount:mon:prom");
    ck_assert_str_eq(js_str(sar, "spec.uid"), "u1");
    ck_assert_str_eq(json_string_value(json_array_get(js_get(sar, "spec.groups"), 0)), "system:serviceaccounts");
    ck_assert_ptr_nonnull(json_object_get(js_get(sar, "spec.extra"), "authentication.kubernetes.io/pod-name"));
    ck_assert_str_eq(js_str(sar, "spec.nonResourceAttributes.path"), "/metrics");
    ck_assert_str_eq(js_str(sar, "spec.nonResourceAttributes.verb"), "get");
    ck_assert_ptr_null(js_get(sar, "spec.resourceAttributes"));
    json_decref(sar);
    json_decref(user);
  } else {
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(user);
    ck_assert_msg(strstr(reason, c->reason_part) != NULL, "%s: reason \"%s\"", c->name, reason);
  }
  json_decref(review);
}
END_TEST

static const review_case access_reviews[] = {
    {"allowed", "{\"status\":{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding\"}}", 1, NULL},
    {"not allowed", "{\"status\":{\"allowed\":false}}", 0, "no rule allows it"},
    {"denied with a reason", "{\"status\":{\"allowed\":false,\"denied\":true,\"reason\":\"webhook said no\"}}", 0,
     "webhook said no"},
    {"allowed and denied", "{\"status\":{\"allowed\":true,\"denied\":true}}", 0, "no rule"},
    {"evaluation error", "{\"status\":{\"allowed\":false,\"evaluationError\":\"boom\"}}", 0, ": boom"},
    {"no status", "{}", 0, "no rule"},
};

START_TEST(reading_access_reviews) {
  const review_case *c = &access_reviews[_i];
  json_t *review = json_loads(c->json, 0, NULL);
  char reason[256] = "";
  ck_assert_int_eq(rt__authz_allowed(review, reason, sizeof(reason)), c->ok);
  if (!c->ok) ck_assert_msg(strstr(reason, c->reason_part) != NULL, "%s: reason \"%s\"", c->name, reason);
  json_decref(review);
}
END_TEST

/* A resource access review asks the resource's attributes, not a path. */
START_TEST(resource_access_review) {
  json_t *user = json_pack("{s:s, s:[s]}", "username", "alice", "groups", "team");
  rt_access x = {.verb = "list", .group = "cubit.dev", .resource = "trainingjobs", .ns = "team-a"};
  json_t *sar = rt__authz_sar(user, &x);
  ck_assert_str_eq(js_str(sar, "spec.user"), "alice");
  ck_assert_str_eq(js_str(sar, "spec.resourceAttributes.verb"), "list");
  ck_assert_str_eq(js_str(sar, "spec.resourceAttributes.group"), "cubit.dev");
  ck_assert_str_eq(js_str(sar, "spec.resourceAttributes.resource"), "trainingjobs");
  ck_assert_str_eq(js_str(sar, "spec.resourceAttributes.namespace"), "team-a");
  ck_assert_ptr_null(js_get(sar, "spec.resourceAttributes.name"));
  ck_assert_ptr_null(js_get(sar, "spec.nonResourceAttributes"));
  json_decref(sar);
  /* the core group is "" and cluster-wide has no namespace */
  rt_access core = {.verb = "get", .group = NULL, .resource = "pods", .ns = ""};
  sar = rt__authz_sar(user, &core);
  ck_assert_str_eq(js_str(sar, "spec.resourceAttributes.group"), "");
  ck_assert_ptr_null(js_get(sar, "spec.resourceAttributes.namespace"));
  json_decref(sar);
  json_decref(user);
}
END_TEST

/* Requests that need no review: the client is never used (NULL here). */
START_TEST(answers_without_a_review) {
  rt_authz *a = rt_authz_new(NULL, NULL);
  rt_authz_result r;
  ck_assert_int_eq(rt_authz_check(a, NULL, "GET", "/metrics", 1000, &r), 401);
  ck_assert_str_eq(r.reason, "no Authorization header");
  ck_assert_int_eq(rt_authz_check(a, "Basic eA==", "GET", "/metrics", 1000, &r), 401);
  ck_assert_int_eq(rt_authz_check(a, "Bearer t", "BREW", "/metrics", 1000, &r), 403);

  /* cached answers decide at once, for their verb and path only */
  json_t *good = json_pack("{s:s}", "username", "prom"), *weak = json_pack("{s:s}", "username", "weak");
  rt_access get_metrics = {.verb = "get", .path = "/metrics"};
  rt__authz_remember_token(a, "good", good, 1000);
  rt__authz_remember_token(a, "weak", weak, 1000);
  rt__authz_remember_token(a, "bad", NULL, 1000);
  rt__authz_remember_access(a, good, &get_metrics, 1, 1000);
  rt__authz_remember_access(a, weak, &get_metrics, 0, 1000);
  ck_assert_int_eq(rt_authz_check(a, "Bearer good", "GET", "/metrics", 1030, &r), 200);
  ck_assert_int_eq(r.cached, 1);
  ck_assert_str_eq(r.user, "prom");
  ck_assert_int_eq(rt_authz_check(a, "Bearer good", "HEAD", "/metrics", 1030, &r), 200); /* HEAD is get */
  ck_assert_int_eq(rt_authz_check(a, "Bearer weak", "GET", "/metrics", 1005, &r), 403);
  ck_assert_msg(strstr(r.reason, "user \"weak\" may not get /metrics") != NULL, "%s", r.reason);
  ck_assert_int_eq(rt_authz_check(a, "Bearer bad", "GET", "/metrics", 1005, &r), 401);
  ck_assert_int_eq(r.cached, 1);
  rt_access other = {.verb = "get", .path = "/other"}, post = {.verb = "post", .path = "/metrics"};
  ck_assert_int_eq(rt__authz_cached_access(a, good, &other, 1030), -1);
  ck_assert_int_eq(rt__authz_cached_access(a, good, &post, 1030), -1);
  /* a user is its name and groups: another group is another question */
  json_t *good_admin = json_pack("{s:s, s:[s]}", "username", "prom", "groups", "system:masters");
  ck_assert_int_eq(rt__authz_cached_access(a, good_admin, &get_metrics, 1030), -1);
  /* the cached user is the authenticated one */
  json_t *u = NULL;
  char why[64];
  ck_assert_int_eq(rt_authz_authenticate(a, "good", 1030, &u, why, sizeof(why)), 1);
  ck_assert_str_eq(js_str(u, "username"), "prom");
  json_decref(u);
  ck_assert_int_eq(rt_authz_authenticate(a, "bad", 1005, &u, why, sizeof(why)), 0);
  ck_assert_ptr_null(u);
  ck_assert_str_eq(why, "the token is not valid");
  json_decref(good_admin);
  json_decref(good);
  json_decref(weak);
  rt_authz_free(a);
}
END_TEST

/* Admission asks every access afresh; its cache holds tokens only. */
START_TEST(uncached_access) {
  rt_authz_options o = {.uncached_access = 1};
  rt_authz *a = rt_authz_new(NULL, &o);
  json_t *user = json_pack("{s:s}", "username", "alice");
  rt_access x = {.verb = "update", .group = "cubit.dev", .resource = "projects", .name = "p"};
  rt__authz_remember_access(a, user, &x, 1, 1000); /* what a test may put; the review never reads it */
  rt__authz_remember_token(a, "t", user, 1000);
  ck_assert_int_eq(rt__authz_cached_token(a, "t", 1001), 1);
  json_decref(user);
  rt_authz_free(a);
}
END_TEST

START_TEST(cache_lifetimes_and_size) {
  rt_authz_options o = {.allow_ttl_s = 60, .deny_ttl_s = 10, .max_entries = 3};
  rt_authz *a = rt_authz_new(NULL, &o);
  json_t *u = json_pack("{s:s}", "username", "u");
  rt__authz_remember_token(a, "allowed", u, 1000);
  rt__authz_remember_token(a, "refused", NULL, 1000);
  ck_assert_int_eq(rt__authz_cached_token(a, "allowed", 1059), 1);
  ck_assert_int_eq(rt__authz_cached_token(a, "allowed", 1060), -1);
  ck_assert_int_eq(rt__authz_cached_token(a, "refused", 1009), 0);
  ck_assert_int_eq(rt__authz_cached_token(a, "refused", 1010), -1);

  /* full: the expired go first, then the soonest to expire */
  rt__authz_remember_token(a, "t1", u, 2000);   /* expires 2060 */
  rt__authz_remember_token(a, "t2", NULL, 2000); /* expires 2010 */
  ck_assert_int_eq(rt__authz_cached_token(a, "t1", 2001), 1);
  ck_assert_int_eq(rt__authz_cached_token(a, "t2", 2001), 0);
  rt__authz_remember_token(a, "t3", u, 2001);
  rt__authz_remember_token(a, "t4", u, 2002); /* t2 goes */
  ck_assert_int_eq(rt__authz_cached_token(a, "t2", 2003), -1);
  ck_assert_int_eq(rt__authz_cached_token(a, "t1", 2003), 1);
  ck_assert_int_eq(rt__authz_cached_token(a, "t3", 2003), 1);
  ck_assert_int_eq(rt__authz_cached_token(a, "t4", 2003), 1);
  /* a new answer for a cached token replaces it */
  rt__authz_remember_token(a, "t1", NULL, 2004);
  ck_assert_int_eq(rt__authz_cached_token(a, "t1", 2005), 0);
  ck_assert_int_eq(rt__authz_cached_token(a, "t1", 2014), -1);
  /* tokens and access decisions share the bound */
  rt_access x = {.verb = "get", .path = "/metrics"};
  rt__authz_remember_access(a, u, &x, 1, 2005);
  ck_assert_int_eq(rt__authz_cached_access(a, u, &x, 2006), 1);
  ck_assert_int_eq(rt__authz_cached_token(a, "t1", 2006), -1); /* the soonest to expire went */
  json_decref(u);
  rt_authz_free(a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("authz");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, bearer_tokens, 0, (int)(sizeof(bearers) / sizeof(bearers[0])));
  tcase_add_test(tc, token_longer_than_the_buffer);
  tcase_add_test(tc, verbs);
  tcase_add_loop_test(tc, reading_token_reviews, 0, (int)(sizeof(token_reviews) / sizeof(token_reviews[0])));
  tcase_add_loop_test(tc, reading_access_reviews, 0, (int)(sizeof(access_reviews) / sizeof(access_reviews[0])));
  tcase_add_test(tc, resource_access_review);
  tcase_add_test(tc, answers_without_a_review);
  tcase_add_test(tc, uncached_access);
  tcase_add_test(tc, cache_lifetimes_and_size);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
