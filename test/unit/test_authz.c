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
  int rc = rt__authz_bearer(c->header, out, sizeof(out));
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
  ck_assert_int_eq(rt__authz_bearer("Bearer abcd", out, sizeof(out)), -1);
  ck_assert_int_eq(rt__authz_bearer("Bearer abc", out, sizeof(out)), 0);
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
    json_t *sar = rt__authz_sar(user, "get", "/metrics");
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

/* Requests that need no review: the client is never used (NULL here). */
START_TEST(answers_without_a_review) {
  rt_authz *a = rt_authz_new(NULL, NULL);
  rt_authz_result r;
  ck_assert_int_eq(rt_authz_check(a, NULL, "GET", "/metrics", 1000, &r), 401);
  ck_assert_str_eq(r.reason, "no Authorization header");
  ck_assert_int_eq(rt_authz_check(a, "Basic eA==", "GET", "/metrics", 1000, &r), 401);
  ck_assert_int_eq(rt_authz_check(a, "Bearer t", "BREW", "/metrics", 1000, &r), 403);

  /* cached decisions answer at once, for their verb and path only */
  rt__authz_remember(a, "good", "GET", "/metrics", 200, 1000);
  rt__authz_remember(a, "weak", "GET", "/metrics", 403, 1000);
  ck_assert_int_eq(rt_authz_check(a, "Bearer good", "GET", "/metrics", 1030, &r), 200);
  ck_assert_int_eq(r.cached, 1);
  ck_assert_int_eq(rt_authz_check(a, "Bearer good", "HEAD", "/metrics", 1030, &r), 200); /* HEAD is get */
  ck_assert_int_eq(rt_authz_check(a, "Bearer weak", "GET", "/metrics", 1005, &r), 403);
  ck_assert_int_eq(rt__authz_cached(a, "good", "GET", "/other", 1030), 0);
  ck_assert_int_eq(rt__authz_cached(a, "good", "POST", "/metrics", 1030), 0);
  rt_authz_free(a);
}
END_TEST

START_TEST(cache_lifetimes_and_size) {
  rt_authz_options o = {.allow_ttl_s = 60, .deny_ttl_s = 10, .max_entries = 3};
  rt_authz *a = rt_authz_new(NULL, &o);
  rt__authz_remember(a, "allowed", "GET", "/metrics", 200, 1000);
  rt__authz_remember(a, "refused", "GET", "/metrics", 401, 1000);
  ck_assert_int_eq(rt__authz_cached(a, "allowed", "GET", "/metrics", 1059), 200);
  ck_assert_int_eq(rt__authz_cached(a, "allowed", "GET", "/metrics", 1060), 0);
  ck_assert_int_eq(rt__authz_cached(a, "refused", "GET", "/metrics", 1009), 401);
  ck_assert_int_eq(rt__authz_cached(a, "refused", "GET", "/metrics", 1010), 0);

  /* full: the expired go first, then the soonest to expire */
  rt__authz_remember(a, "t1", "GET", "/metrics", 200, 2000); /* expires 2060 */
  rt__authz_remember(a, "t2", "GET", "/metrics", 403, 2000); /* expires 2010 */
  ck_assert_int_eq(rt__authz_cached(a, "t1", "GET", "/metrics", 2001), 200);
  ck_assert_int_eq(rt__authz_cached(a, "t2", "GET", "/metrics", 2001), 403);
  rt__authz_remember(a, "t3", "GET", "/metrics", 200, 2001);
  rt__authz_remember(a, "t4", "GET", "/metrics", 200, 2002); /* t2 goes */
  ck_assert_int_eq(rt__authz_cached(a, "t2", "GET", "/metrics", 2003), 0);
  ck_assert_int_eq(rt__authz_cached(a, "t1", "GET", "/metrics", 2003), 200);
  ck_assert_int_eq(rt__authz_cached(a, "t3", "GET", "/metrics", 2003), 200);
  ck_assert_int_eq(rt__authz_cached(a, "t4", "GET", "/metrics", 2003), 200);
  /* a new decision for a cached token replaces it */
  rt__authz_remember(a, "t1", "GET", "/metrics", 403, 2004);
  ck_assert_int_eq(rt__authz_cached(a, "t1", "GET", "/metrics", 2005), 403);
  ck_assert_int_eq(rt__authz_cached(a, "t1", "GET", "/metrics", 2014), 0);
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
  tcase_add_test(tc, answers_without_a_review);
  tcase_add_test(tc, cache_lifetimes_and_size);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
