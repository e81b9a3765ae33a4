#include <curl/curl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "kube/client.h"
#include "kube/request.h"
#include "testutil.h"

static const struct {
  long http;
  const char *reason;
  int code;
} codes[] = {
    {200, NULL, 0},
    {201, NULL, 0},
    {400, "BadRequest", CUBIT_EBADREQUEST},
    {401, "Unauthorized", CUBIT_EUNAUTHORIZED},
    {403, "Forbidden", CUBIT_EFORBIDDEN},
    {404, "NotFound", CUBIT_ENOTFOUND},
    {405, "MethodNotAllowed", CUBIT_EMETHOD},
    {409, "AlreadyExists", CUBIT_EALREADYEXISTS},
    {409, "Conflict", CUBIT_ECONFLICT},
    {409, NULL, CUBIT_ECONFLICT},
    {410, "Expired", CUBIT_EGONE},
    {410, "Gone", CUBIT_EGONE},
    {415, "UnsupportedMediaType", CUBIT_EUNSUPPORTEDMEDIA},
    {422, "Invalid", CUBIT_EINVALID},
    {429, "TooManyRequests", CUBIT_ETOOMANYREQUESTS},
    {500, "InternalError", CUBIT_ESERVER},
    {503, "ServiceUnavailable", CUBIT_ESERVER},
    {504, "Timeout", CUBIT_ETIMEOUT},
    {500, "ServerTimeout", CUBIT_ETIMEOUT},
    {418, NULL, CUBIT_EBADREQUEST},
};

START_TEST(status_codes) {
  ck_assert_int_eq(kube__code_for(codes[_i].http, codes[_i].reason), codes[_i].code);
}
END_TEST

static const kube_resource tfjobs = {"kubeflow.org", "v1", "tfjobs", "TFJob", 1};
static const kube_resource projects = {"cubit.dev", "v1alpha1", "projects", "Project", 0};

START_TEST(paths) {
  char *p = kube_resource_path(&kube_configmaps, "team-a", "cm1", NULL);
  ck_assert_str_eq(p, "/api/v1/namespaces/team-a/configmaps/cm1");
  free(p);
  p = kube_resource_path(&kube_configmaps, NULL, NULL, NULL);
  ck_assert_str_eq(p, "/api/v1/configmaps");
  free(p);
  p = kube_resource_path(&tfjobs, "ns", "job", "status");
  ck_assert_str_eq(p, "/apis/kubeflow.org/v1/namespaces/ns/tfjobs/job/status");
  free(p);
  p = kube_resource_path(&projects, "ignored", "team-a", NULL);
  ck_assert_str_eq(p, "/apis/cubit.dev/v1alpha1/projects/team-a");
  free(p);
  p = kube_api_version(&kube_deployments);
  ck_assert_str_eq(p, "apps/v1");
  free(p);
  p = kube_api_version(&kube_pods);
  ck_assert_str_eq(p, "v1");
  free(p);
}
END_TEST

/* Internal: the query builder escapes selectors. */
char *kube__list_query(CURL *easy, const kube_list_options *o, int watch);

START_TEST(list_query) {
  CURL *easy = curl_easy_init();
  kube_list_options o = {0};
  o.label_selector = "app=web,env in (a,b)";
  o.limit = 500;
  o.continue_token = "abc==";
  char *q = kube__list_query(easy, &o, 0);
  ck_assert_str_eq(q, "?labelSelector=app%3Dweb%2Cenv%20in%20%28a%2Cb%29&limit=500&continue=abc%3D%3D");
  free(q);
  kube_list_options w = {0};
  w.resource_version = "123";
  w.timeout_seconds = 300;
  w.allow_bookmarks = 1;
  w.limit = 10; /* ignored for watches */
  q = kube__list_query(easy, &w, 1);
  ck_assert_str_eq(q, "?watch=true&resourceVersion=123&timeoutSeconds=300&allowWatchBookmarks=true");
  free(q);
  curl_easy_cleanup(easy);
}
END_TEST

/* A List page decoded item by item, as the API server writes them and in
 * shapes it could. */
static const struct {
  const char *body;
  int rc;
  size_t items;
  const char *rv, *cont, *names;
} pages[] = {
    {"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12\",\"continue\":\"c1\"},"
     "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"},\"spec\":{\"n\":[1,2.5,\"x\"]}}]}",
     0, 2, "12", "c1", "a,b,"},
    {" {\n \"items\" : [ ] ,\n \"metadata\" : { \"resourceVersion\" : \"7\", \"continue\": \"\" } , \"kind\":\"PodList\" }\n", 0, 0,
     "7", NULL, ""},
    {"{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":null}", 0, 0, "3", NULL, ""},
    {"{\"items\":[{\"metadata\":{\"name\":\"\\u00e9t\\u00e9\"}}],\"metadata\":{\"resourceVersion\":\"4\"}}", 0, 1, "4", NULL,
     "\u00e9t\u00e9,"},
    {"{\"items\":[{\"metadata\":{\"name\":\"a\"}}", CUBIT_EINVAL, 1, NULL, NULL, "a,"},
    {"{\"items\":[1]}", CUBIT_EINVAL, 0, NULL, NULL, ""},
    {"[]", CUBIT_EINVAL, 0, NULL, NULL, ""},
    {"", CUBIT_EINVAL, 0, NULL, NULL, ""},
    {"{\"metadata\":{\"resourceVersion\":\"5\"} \"items\":[]}", CUBIT_EINVAL, 0, NULL, NULL, ""},
};

typedef struct seen {
  size_t n;
  char names[256];
} seen;

static int take_item(json_t *item, void *arg) {
  seen *s = arg;
  s->n++;
  const char *name = json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
  size_t len = strlen(s->names);
  snprintf(s->names + len, sizeof(s->names) - len, "%s,", name ? name : "?");
  int ok = strcmp(json_string_value(json_object_get(item, "apiVersion")), "v1") == 0 &&
           strcmp(json_string_value(json_object_get(item, "kind")), "Pod") == 0;
  json_decref(item);
  return ok ? 0 : CUBIT_EINVAL;
}

START_TEST(list_decode) {
  seen s = {0};
  char *rv = NULL, *cont = NULL;
  kube_status st = {0};
  const char *b = pages[_i].body;
  int rc = kube__list_decode(b, strlen(b), "v1", "Pod", take_item, &s, &rv, &cont, &st);
  ck_assert_int_eq(rc, pages[_i].rc);
  ck_assert_uint_eq(s.n, pages[_i].items);
  ck_assert_str_eq(s.names, pages[_i].names);
  if (pages[_i].rv) ck_assert_str_eq(rv, pages[_i].rv);
  else ck_assert_ptr_null(rv);
  if (pages[_i].cont) ck_assert_str_eq(cont, pages[_i].cont);
  else ck_assert_ptr_null(cont);
  if (rc) ck_assert_msg(strstr(st.message, "decoding list") != NULL, "message: %s", st.message);
  free(rv);
  free(cont);
}
END_TEST

static int stop_at_first(json_t *item, void *arg) {
  json_decref(item);
  return CUBIT_ESHUTDOWN;
}

START_TEST(list_decode_stops) {
  const char *b = pages[0].body;
  char *rv = NULL, *cont = NULL;
  kube_status st = {0};
  ck_assert_int_eq(kube__list_decode(b, strlen(b), "v1", "Pod", stop_at_first, NULL, &rv, &cont, &st), CUBIT_ESHUTDOWN);
  ck_assert_ptr_null(rv);
  ck_assert_ptr_null(cont);
}
END_TEST

int main(void) {
  Suite *s = suite_create("client");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, status_codes, 0, sizeof(codes) / sizeof(codes[0]));
  tcase_add_test(tc, paths);
  tcase_add_test(tc, list_query);
  tcase_add_loop_test(tc, list_decode, 0, sizeof(pages) / sizeof(pages[0]));
  tcase_add_test(tc, list_decode_stops);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
