#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/json.h"
#include "webhooks/admission.h"

START_TEST(parse_recorded_review) {
  size_t len;
  char *body = testutil_read_src("test/unit/fixtures/admission/pod-create.json", &len);
  adm_request req;
  char err[256];
  ck_assert_int_eq(adm_request_parse(body, len, &req, err, sizeof(err)), 0);
  ck_assert_str_eq(req.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  ck_assert_str_eq(req.kind, "Pod");
  ck_assert_str_eq(req.group, "");
  ck_assert_str_eq(req.resource, "pods");
  ck_assert_str_eq(req.namespace, "team-a");
  ck_assert_str_eq(req.operation, "CREATE");
  ck_assert_str_eq(req.username, "alice");
  ck_assert_uint_eq(json_array_size(req.groups), 2);
  ck_assert_ptr_nonnull(req.object);
  ck_assert_ptr_null(req.old_object);
  ck_assert_int_eq(req.dry_run, 0);
  ck_assert_str_eq(js_str(req.object, "metadata.name"), "train-0");
  adm_request_free(&req);
  free(body);
}
END_TEST

static const struct {
  const char *body;
  const char *error_part;
} bad[] = {
    {"not json", "not JSON"},
    {"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"x\"}}", "v1"},
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}", "got apiVersion admission.k8s.io/v1 kind Pod"},
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "request.uid"},
};

START_TEST(reject_bad_reviews) {
  adm_request req;
  char err[256] = "";
  ck_assert_int_eq(adm_request_parse(bad[_i].body, strlen(bad[_i].body), &req, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_msg(strstr(err, bad[_i].error_part) != NULL, "error \"%s\" lacks \"%s\"", err, bad[_i].error_part);
}
END_TEST

static json_t *response_of(const char *review_json) {
  json_t *review = json_loads(review_json, 0, NULL);
  ck_assert_ptr_nonnull(review);
  ck_assert_str_eq(js_str(review, "apiVersion"), "admission.k8s.io/v1");
  ck_assert_str_eq(js_str(review, "kind"), "AdmissionReview");
  json_t *resp = json_incref(json_object_get(review, "response"));
  json_decref(review);
  return resp;
}

START_TEST(deny_carries_status) {
  size_t len;
  char *body = testutil_read_src("test/unit/fixtures/admission/pod-create.json", &len);
  adm_request req;
  char err[256];
  ck_assert_int_eq(adm_request_parse(body, len, &req, err, sizeof(err)), 0);
  adm_response resp;
  adm_response_init(&resp);
  adm_patch(&resp, "add", "/metadata/labels", json_object());
  adm_deny(&resp, 403, "project %s: gpu quota exceeded", "team-a");
  adm_warn(&resp, "heads up");
  char *out = adm_response_json(&req, &resp);
  json_t *r = response_of(out);
  ck_assert_str_eq(js_str(r, "uid"), req.uid);
  ck_assert(json_is_false(json_object_get(r, "allowed")));
  ck_assert_int_eq(js_int(r, "status.code", 0), 403);
  ck_assert_str_eq(js_str(r, "status.reason"), "Forbidden");
  ck_assert_str_eq(js_str(r, "status.message"), "project team-a: gpu quota exceeded");
  ck_assert_ptr_null(json_object_get(r, "patch")); /* a denial never mutates */
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "warnings"), 0)), "heads up");
  json_decref(r);
  free(out);
  adm_response_free(&resp);
  adm_request_free(&req);
  free(body);
}
END_TEST

START_TEST(patch_is_base64_json_patch) {
  size_t len;
  char *body = testutil_read_src("test/unit/fixtures/admission/pod-create.json", &len);
  adm_request req;
  char err[256];
  ck_assert_int_eq(adm_request_parse(body, len, &req, err, sizeof(err)), 0);
  adm_response resp;
  adm_response_init(&resp);
  char *key = adm_pointer_escape("cubit.dev/user");
  ck_assert_str_eq(key, "cubit.dev~1user");
  char *path = malloc(strlen(key) + 32);
  sprintf(path, "/metadata/annotations/%s", key);
  adm_patch(&resp, "add", path, json_string("alice"));
  char *out = adm_response_json(&req, &resp);
  json_t *r = response_of(out);
  ck_assert(json_is_true(json_object_get(r, "allowed")));
  ck_assert_str_eq(js_str(r, "patchType"), "JSONPatch");
  const char *b64 = js_str(r, "patch");
  unsigned char decoded[512];
  int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)strlen(b64));
  ck_assert_int_gt(n, 0);
  while (n > 0 && decoded[n - 1] == '\0') n--; /* EVP_DecodeBlock pads */
  decoded[n] = '\0';
  ck_assert_str_eq((char *)decoded, "[{\"op\":\"add\",\"path\":\"/metadata/annotations/cubit.dev~1user\",\"value\":\"alice\"}]");
  json_decref(r);
  free(out);
  free(path);
  free(key);
  adm_response_free(&resp);
  adm_request_free(&req);
  free(body);
}
END_TEST

int main(void) {
  Suite *s = suite_create("admission");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, parse_recorded_review);
  tcase_add_loop_test(tc, reject_bad_reviews, 0, sizeof(bad) / sizeof(bad[0]));
  tcase_add_test(tc, deny_carries_status);
  tcase_add_test(tc, patch_is_base64_json_patch);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
