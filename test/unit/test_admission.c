#include <openssl/evp.h>
#include <stdint.h>
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
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "without request"},
};

/* Bodies no API server sends, each refused with the field named. */
#define REVIEW(req) "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":" req "}"
#define REQ(rest) REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{}" rest "}")
static const struct {
  const char *name;
  const char *body;
  const char *error_part;
} hostile[] = {
    {"empty", "", "not JSON"},
    {"null", "null", "not JSON"},
    {"number", "42", "not JSON"},
    {"string", "\"AdmissionReview\"", "not JSON"},
    {"array", "[{\"apiVersion\":\"admission.k8s.io/v1\"}]", "got a JSON array"},
    {"truncated", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":", "not JSON"},
    {"apiVersion a number", "{\"apiVersion\":1,\"kind\":\"AdmissionReview\"}", "got apiVersion (none)"},
    {"duplicate keys", "{\"apiVersion\":\"admission.k8s.io/v1\",\"apiVersion\":\"admission.k8s.io/v1\"}", "duplicate"},
    {"nul in a string", REVIEW("{\"uid\":\"a\\u0000b\"}"), "not JSON"},
    {"request an array", REVIEW("[]"), "without request"},
    {"request null", REVIEW("null"), "without request"},
    {"uid a number", REVIEW("{\"uid\":7}"), "request.uid: want a string"},
    {"uid empty", REVIEW("{\"uid\":\"\"}"), "without request.uid"},
    {"no operation", REVIEW("{\"uid\":\"u\"}"), "request.operation: want CREATE"},
    {"unknown operation", REVIEW("{\"uid\":\"u\",\"operation\":\"PATCH\"}"), "got \"PATCH\""},
    {"operation an object", REVIEW("{\"uid\":\"u\",\"operation\":{}}"), "request.operation: want a string"},
    {"create without object", REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\"}"), "request.object: CREATE needs"},
    {"update without old object", REVIEW("{\"uid\":\"u\",\"operation\":\"UPDATE\",\"object\":{}}"),
     "request.oldObject: UPDATE needs"},
    {"object a string", REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":\"pod\"}"),
     "request.object: want an object"},
    {"kind a string", REQ(",\"kind\":\"Pod\""), "request.kind: want an object"},
    {"kind.kind a number", REQ(",\"kind\":{\"kind\":3}"), "request.kind.kind: want a string"},
    {"resource an array", REQ(",\"resource\":[]"), "request.resource: want an object"},
    {"namespace a bool", REQ(",\"namespace\":true"), "request.namespace: want a string"},
    {"name an object", REQ(",\"name\":{}"), "request.name: want a string"},
    {"userInfo a string", REQ(",\"userInfo\":\"alice\""), "request.userInfo: want an object"},
    {"username a number", REQ(",\"userInfo\":{\"username\":1}"), "request.userInfo.username: want a string"},
    {"groups a string", REQ(",\"userInfo\":{\"groups\":\"admins\"}"), "request.userInfo.groups: want an array"},
    {"group a number", REQ(",\"userInfo\":{\"groups\":[\"a\",2]}"), "request.userInfo.groups[1]: want a string"},
    {"extra not arrays", REQ(",\"userInfo\":{\"extra\":{\"k\":\"v\"}}"), "request.userInfo.extra: want an array"},
    {"dryRun a string", REQ(",\"dryRun\":\"yes\""), "request.dryRun: want a boolean"},
    {"metadata an array",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":[]}}"),
     "request.object.metadata: want an object"},
    {"metadata.name a number",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"name\":5}}}"),
     "request.object.metadata.name: want a string"},
    {"label value a number",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"labels\":{\"a\":1}}}}"),
     "request.object.metadata.labels[a]: want a string"},
    {"annotations a list",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"annotations\":[]}}}"),
     "request.object.metadata.annotations: want a map"},
    {"ownerReference a string",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"ownerReferences\":[\"x\"]}}}"),
     "request.object.metadata.ownerReferences[0]: want an object"},
    {"owner uid a number",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"ownerReferences\":[{\"uid\":1}]}}}"),
     "ownerReferences[0].uid: want a string"},
    {"controller a string",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"ownerReferences\":[{\"controller\":\"true\"}]}}}"),
     "ownerReferences[0].controller: want a boolean"},
    {"finalizers of numbers",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"finalizers\":[1]}}}"),
     "request.object.metadata.finalizers[0]: want a string"},
    {"generation a string",
     REVIEW("{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"generation\":\"1\"}}}"),
     "request.object.metadata.generation: want an integer"},
    {"old object metadata.namespace a list",
     REVIEW("{\"uid\":\"u\",\"operation\":\"UPDATE\",\"object\":{},\"oldObject\":{\"metadata\":{\"namespace\":[]}}}"),
     "request.oldObject.metadata.namespace: want a string"},
};

START_TEST(reject_hostile_reviews) {
  adm_request req;
  char err[256] = "";
  ck_assert_msg(adm_request_parse(hostile[_i].body, strlen(hostile[_i].body), &req, err, sizeof(err)) == CUBIT_EINVAL,
                "%s: accepted", hostile[_i].name);
  ck_assert_msg(strstr(err, hostile[_i].error_part) != NULL, "%s: error \"%s\" lacks \"%s\"", hostile[_i].name, err,
                hostile[_i].error_part);
  ck_assert_ptr_null(req.review); /* nothing to free after a failure */
}
END_TEST

/* Absent optional fields and JSON nulls are their zero values. */
START_TEST(minimal_reviews_accepted) {
  const char *body = REVIEW("{\"uid\":\"u\",\"operation\":\"DELETE\",\"oldObject\":null,\"userInfo\":null,"
                            "\"kind\":null,\"dryRun\":null}");
  adm_request req;
  char err[256] = "";
  ck_assert_msg(adm_request_parse(body, strlen(body), &req, err, sizeof(err)) == 0, "%s", err);
  ck_assert_str_eq(req.kind, "");
  ck_assert_str_eq(req.username, "");
  ck_assert_str_eq(req.namespace, "");
  ck_assert_ptr_null(req.groups);
  ck_assert_ptr_null(req.object);
  ck_assert_ptr_null(req.old_object);
  ck_assert_int_eq(req.dry_run, 0);
  char *out = adm_response_json(&req, &(adm_response){.allowed = 1});
  ck_assert_ptr_nonnull(strstr(out, "\"uid\":\"u\""));
  free(out);
  adm_request_free(&req);
}
END_TEST

/* ---- mutations of the recorded review ---- */

static uint64_t rng_next(uint64_t *s) { /* xorshift64*: a fixed, portable sequence */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

/* Every object member and array element of v, as (container, key or index). */
typedef struct slot {
  json_t *parent;
  const char *key; /* NULL for an array element */
  size_t index;
} slot;

static void collect_slots(json_t *v, slot *out, size_t *n, size_t max) {
  const char *k;
  json_t *child;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach(v, k, child) {
      if (*n < max) out[(*n)++] = (slot){v, k, 0};
      collect_slots(child, out, n, max);
    }
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, child) {
      if (*n < max) out[(*n)++] = (slot){v, NULL, i};
      collect_slots(child, out, n, max);
    }
  }
}

static json_t *random_value(uint64_t *s) {
  switch (rng_next(s) % 12) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_integer((json_int_t)(rng_next(s) % 1000) - 500);
    case 3: return json_real(1.5);
    case 4: return json_string("");
    case 5: return json_string("CREATE");
    case 6: return json_array();
    case 7: return json_object();
    case 8: return json_pack("[s,i,n]", "a", 1);
    case 9: return json_pack("{s:i,s:[s]}", "name", 1, "groups", "g");
    case 10: {
      char *big = malloc(100001);
      memset(big, 'x', 100000);
      big[100000] = '\0';
      json_t *v = json_string(big);
      free(big);
      return v;
    }
    default: { /* nesting far deeper than any object */
      json_t *v = json_array();
      for (int d = 0; d < 500; d++) v = json_pack("[o]", v);
      return v;
    }
  }
}

/* Checks what a successful parse promises. */
static void check_invariants(const adm_request *r) {
  ck_assert_ptr_nonnull(r->uid);
  ck_assert(r->uid[0] != '\0');
  const char *strs[] = {r->group, r->version, r->kind, r->resource, r->subresource, r->namespace, r->name,
                        r->operation, r->username};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) ck_assert_ptr_nonnull(strs[i]);
  if (strcmp(r->operation, "CREATE") == 0 || strcmp(r->operation, "UPDATE") == 0) ck_assert_ptr_nonnull(r->object);
  if (strcmp(r->operation, "UPDATE") == 0) ck_assert_ptr_nonnull(r->old_object);
  size_t i;
  json_t *g;
  if (r->groups) json_array_foreach(r->groups, i, g) ck_assert(json_is_string(g));
  json_t *name = js_get(r->object, "metadata.name");
  if (name && !json_is_null(name)) ck_assert_ptr_nonnull(js_name(r->object));
  const char *k;
  json_t *v;
  json_object_foreach(js_get(r->object, "metadata.labels"), k, v) ck_assert(json_is_string(v));
}

/* Thousands of reviews a hostile client could send, each the recorded one
 * with a few fields replaced by values of every JSON type or removed, or
 * its text cut or its bytes flipped: each is refused with a message or
 * decoded with every promise kept (ASan and UBSan watch the rest). */
START_TEST(mutated_reviews_are_total) {
  size_t len;
  char *body = testutil_read_src("test/unit/fixtures/admission/pod-create.json", &len);
  json_t *base = json_loadb(body, len, 0, NULL);
  ck_assert_ptr_nonnull(base);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  int accepted = 0, refused = 0;
  for (int round = 0; round < 3000; round++) {
    json_t *doc = json_deep_copy(base);
    int edits = 1 + (int)(rng_next(&seed) % 3);
    for (int e = 0; e < edits; e++) {
      slot slots[256];
      size_t n = 0;
      collect_slots(doc, slots, &n, 256);
      if (n == 0) break;
      slot *sl = &slots[rng_next(&seed) % n];
      int drop = rng_next(&seed) % 4 == 0;
      if (sl->key) {
        if (drop) json_object_del(sl->parent, sl->key);
        else json_object_set_new(sl->parent, sl->key, random_value(&seed));
      } else {
        if (drop) json_array_remove(sl->parent, sl->index);
        else json_array_set_new(sl->parent, sl->index, random_value(&seed));
      }
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    size_t tlen = strlen(text);
    uint64_t how = rng_next(&seed) % 8;
    if (how == 0) tlen = rng_next(&seed) % (tlen + 1); /* cut */
    else if (how == 1 && tlen) text[rng_next(&seed) % tlen] ^= (char)(1u << (rng_next(&seed) % 8)); /* flip */
    adm_request req;
    char err[256] = "";
    if (adm_request_parse(text, tlen, &req, err, sizeof(err)) == 0) {
      check_invariants(&req);
      adm_response resp;
      adm_response_init(&resp);
      adm_deny(&resp, 400, "x");
      free(adm_response_json(&req, &resp));
      adm_response_free(&resp);
      adm_request_free(&req);
      accepted++;
    } else {
      ck_assert_msg(err[0] != '\0', "refused without a reason");
      refused++;
    }
    free(text);
    json_decref(doc);
  }
  /* both outcomes are exercised */
  ck_assert_int_gt(accepted, 100);
  ck_assert_int_gt(refused, 100);
  json_decref(base);
  free(body);
}
END_TEST

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
  tcase_set_timeout(tc, 120); /* thousands of reviews, slow under the sanitizers */
  tcase_add_test(tc, parse_recorded_review);
  tcase_add_loop_test(tc, reject_bad_reviews, 0, sizeof(bad) / sizeof(bad[0]));
  tcase_add_loop_test(tc, reject_hostile_reviews, 0, sizeof(hostile) / sizeof(hostile[0]));
  tcase_add_test(tc, minimal_reviews_accepted);
  tcase_add_test(tc, mutated_reviews_are_total);
  tcase_add_test(tc, deny_carries_status);
  tcase_add_test(tc, patch_is_base64_json_patch);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
