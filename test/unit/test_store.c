#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/pack.h"
#include "cache/store.h"
#include "cache/transform.h"
#include "testutil.h"
#include "util/json.h"

static json_t *obj(const char *ns, const char *name, const char *rv, const char *owner_uid, const char *labels) {
  json_t *o = json_pack("{s:{s:s, s:s, s:s, s:[{s:s}]}}", "metadata", "name", name, "namespace", ns,
                        "resourceVersion", rv, "managedFields", "manager", "kubectl");
  if (owner_uid)
    js_set(o, "metadata.ownerReferences",
           json_pack("[{s:s, s:s, s:s, s:b}]", "kind", "Thing", "name", "owner", "uid", owner_uid, "controller", 1));
  if (labels) js_set(o, "metadata.labels", json_loads(labels, 0, NULL));
  return o;
}

START_TEST(upsert_get_remove) {
  cache_store *s = cache_store_new();
  json_t *a = obj("ns1", "a", "1", NULL, NULL);
  ck_assert_ptr_null(cache_store_upsert(s, a));
  json_decref(a);
  json_t *got = cache_store_get(s, "ns1", "a");
  ck_assert_ptr_nonnull(got);
  ck_assert_ptr_null(js_get(got, "metadata.managedFields")); /* stripped */
  json_decref(got);
  json_t *a2 = obj("ns1", "a", "2", NULL, NULL);
  json_t *old = cache_store_upsert(s, a2);
  ck_assert_str_eq(js_resource_version(old), "1");
  json_decref(old);
  json_decref(a2);
  ck_assert_uint_eq(cache_store_len(s), 1);
  json_t *removed = cache_store_remove(s, "ns1/a");
  ck_assert_str_eq(js_resource_version(removed), "2");
  json_decref(removed);
  ck_assert_ptr_null(cache_store_get(s, "ns1", "a"));
  ck_assert_ptr_null(cache_store_remove(s, "ns1/a"));
  cache_store_free(s);
}
END_TEST

START_TEST(cluster_scoped_key) {
  json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "team-a");
  char *k = cache_key(o);
  ck_assert_str_eq(k, "team-a");
  free(k);
  json_decref(o);
}
END_TEST

/* One namespace's objects labelled for one owner, without the others; the
 * index added twice is one index. */
START_TEST(namespaced_label_index) {
  cache_store *s = cache_store_new();
  cache_store_index_namespaced_label(s, "cubit.dev/trainingjob");
  cache_store_index_namespaced_label(s, "cubit.dev/trainingjob");
  const char *specs[][3] = {{"ns1", "a", "{\"cubit.dev/trainingjob\":\"train\"}"},
                            {"ns1", "b", "{\"cubit.dev/trainingjob\":\"train\"}"},
                            {"ns2", "c", "{\"cubit.dev/trainingjob\":\"train\"}"},
                            {"ns1", "d", "{\"cubit.dev/trainingjob\":\"other\"}"},
                            {"ns1", "e", NULL}};
  for (size_t i = 0; i < 5; i++) {
    json_t *o = obj(specs[i][0], specs[i][1], "1", NULL, specs[i][2]);
    json_decref(cache_store_upsert(s, o));
    json_decref(o);
  }
  cache_list l;
  cache_store_by_namespaced_label(s, "cubit.dev/trainingjob", "ns1", "train", &l);
  ck_assert_uint_eq(l.len, 2);
  cache_list_free(&l);
  cache_store_by_namespaced_label(s, "cubit.dev/trainingjob", "ns2", "train", &l);
  ck_assert_uint_eq(l.len, 1);
  ck_assert_str_eq(js_name(l.items[0]), "c");
  cache_list_free(&l);
  cache_store_by_namespaced_label(s, "cubit.dev/trainingjob", "ns1", "none", &l);
  ck_assert_uint_eq(l.len, 0);
  cache_list_free(&l);
  cache_store_by_namespaced_label(s, "cubit.dev/experiment", "ns1", "train", &l); /* no such index */
  ck_assert_uint_eq(l.len, 0);
  cache_list_free(&l);
  cache_store_free(s);
}
END_TEST

START_TEST(indexes_follow_updates) {
  cache_store *s = cache_store_new();
  cache_store_index_owner(s);
  cache_store_index_namespace(s);
  cache_store_index_label(s, "cubit.dev/project");
  const char *specs[][5] = {{"ns1", "a", "1", "uid-1", "{\"cubit.dev/project\":\"p1\"}"},
                            {"ns1", "b", "1", "uid-1", "{\"cubit.dev/project\":\"p2\"}"},
                            {"ns2", "c", "1", "uid-2", "{\"cubit.dev/project\":\"p1\"}"},
                            {"ns2", "d", "1", NULL, NULL}};
  for (size_t i = 0; i < 4; i++) {
    json_t *o = obj(specs[i][0], specs[i][1], specs[i][2], specs[i][3], specs[i][4]);
    json_decref(cache_store_upsert(s, o));
    json_decref(o);
  }
  cache_list l;
  cache_store_by_index(s, CACHE_INDEX_OWNER, "uid-1", &l);
  ck_assert_uint_eq(l.len, 2);
  cache_list_free(&l);
  cache_store_by_index(s, "label:cubit.dev/project", "p1", &l);
  ck_assert_uint_eq(l.len, 2);
  cache_list_free(&l);
  cache_store_by_index(s, CACHE_INDEX_NAMESPACE, "ns2", &l);
  ck_assert_uint_eq(l.len, 2);
  cache_list_free(&l);
  /* b moves to another owner and project: the old index entries go. */
  json_t *b = obj("ns1", "b", "2", "uid-2", "{\"cubit.dev/project\":\"p1\"}");
  json_decref(cache_store_upsert(s, b));
  json_decref(b);
  cache_store_by_index(s, CACHE_INDEX_OWNER, "uid-1", &l);
  ck_assert_uint_eq(l.len, 1);
  ck_assert_str_eq(js_name(l.items[0]), "a");
  cache_list_free(&l);
  cache_store_by_index(s, "label:cubit.dev/project", "p2", &l);
  ck_assert_uint_eq(l.len, 0);
  cache_list_free(&l);
  json_decref(cache_store_remove(s, "ns2/c"));
  cache_store_by_index(s, CACHE_INDEX_OWNER, "uid-2", &l);
  ck_assert_uint_eq(l.len, 1);
  cache_list_free(&l);
  cache_store_by_index(s, "no-such-index", "x", &l);
  ck_assert_uint_eq(l.len, 0);
  cache_list_free(&l);
  cache_store_list(s, "ns1", &l);
  ck_assert_uint_eq(l.len, 2);
  cache_list_free(&l);
  cache_store_free(s);
}
END_TEST

static const struct {
  const char *selector;
  const char *labels;
  int rc;
  int match;
} selector_cases[] = {
    {"", "{}", 0, 1},
    {"app=web", "{\"app\":\"web\"}", 0, 1},
    {"app==web", "{\"app\":\"web\"}", 0, 1},
    {"app=web", "{\"app\":\"db\"}", 0, 0},
    {"app!=web", "{\"app\":\"db\"}", 0, 1},
    {"app!=web", "{}", 0, 1},
    {"app", "{\"app\":\"x\"}", 0, 1},
    {"app", "{}", 0, 0},
    {"!app", "{}", 0, 1},
    {"!app", "{\"app\":\"x\"}", 0, 0},
    {"app=web,tier=fe", "{\"app\":\"web\",\"tier\":\"fe\"}", 0, 1},
    {"app=web, tier=be", "{\"app\":\"web\",\"tier\":\"fe\"}", 0, 0},
    {"env in (prod,staging)", "{\"env\":\"staging\"}", 0, 1},
    {"env in (prod, staging)", "{\"env\":\"dev\"}", 0, 0},
    {"env notin (prod)", "{\"env\":\"dev\"}", 0, 1},
    {"env notin (prod)", "{}", 0, 1},
    {"env in (prod)", "{}", 0, 0},
    {"cubit.dev/project=p1", "{\"cubit.dev/project\":\"p1\"}", 0, 1},
    {"app=web,env in (a,b),!legacy", "{\"app\":\"web\",\"env\":\"b\"}", 0, 1},
    {"=x", "{}", CUBIT_EINVAL, 0},
    {"env in prod", "{}", CUBIT_EINVAL, 0},
    {"env in (a", "{}", CUBIT_EINVAL, 0},
    {"a=b c=d", "{}", CUBIT_EINVAL, 0},
};

START_TEST(selectors) {
  json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "x");
  json_t *labels = json_loads(selector_cases[_i].labels, 0, NULL);
  json_object_set_new(json_object_get(o, "metadata"), "labels", labels);
  int match = -1;
  int rc = cache_selector_matches(selector_cases[_i].selector, o, &match);
  ck_assert_msg(rc == selector_cases[_i].rc, "selector \"%s\": rc %d", selector_cases[_i].selector, rc);
  if (rc == 0)
    ck_assert_msg(match == selector_cases[_i].match, "selector \"%s\" on %s: match %d",
                  selector_cases[_i].selector, selector_cases[_i].labels, match);
  json_decref(o);
}
END_TEST

START_TEST(select_from_store) {
  cache_store *s = cache_store_new();
  for (int i = 0; i < 10; i++) {
    char name[8], labels[64];
    snprintf(name, sizeof(name), "o%d", i);
    snprintf(labels, sizeof(labels), "{\"parity\":\"%s\"}", i % 2 ? "odd" : "even");
    json_t *o = obj("ns", name, "1", NULL, labels);
    json_decref(cache_store_upsert(s, o));
    json_decref(o);
  }
  cache_list l;
  ck_assert_int_eq(cache_store_select(s, "ns", "parity=odd", &l), 0);
  ck_assert_uint_eq(l.len, 5);
  cache_list_free(&l);
  ck_assert_int_eq(cache_store_select(s, NULL, "parity in (odd,even)", &l), 0);
  ck_assert_uint_eq(l.len, 10);
  cache_list_free(&l);
  ck_assert_int_eq(cache_store_select(s, "other", "parity=odd", &l), 0);
  ck_assert_uint_eq(l.len, 0);
  cache_list_free(&l);
  ck_assert_int_eq(cache_store_select(s, NULL, "parity in (", &l), CUBIT_EINVAL);
  cache_store_free(s);
}
END_TEST

/* The store keeps text and decodes on read: every value must come back
 * exactly as it went in (json_equal), key order included. */
static const char *const roundtrip_cases[] = {
    "{\"n\":9223372036854775807,\"m\":-9223372036854775808,\"z\":0}",
    "{\"r\":0.1,\"big\":1e300,\"tiny\":5e-324,\"neg\":-2.5}",
    "{\"s\":\"caf\u00e9 \u2603 \\\"q\\\" \\\\ \\n\",\"nul\":\"a\\u0000b\",\"empty\":\"\"}",
    "{\"t\":true,\"f\":false,\"null\":null,\"o\":{},\"a\":[],\"deep\":[[1,[2,{\"x\":[3]}]]]}",
    "{\"zz\":1,\"aa\":2,\"mm\":3}",
    /* the packer's fragments inside strings, escaped control characters
     * (their raw bytes are its codes) */
    "{\"m\":\"\\\"metadata\\\":{\\\"name\\\":\\\"x\",\"c\":\"\\u0001\\u001f\\t\\r\",\"k\":{\"name\":\"\"}}",
    "{\"status\":{\"conditions\":[{\"status\":\"True\",\"type\":\"{\\\"apiVersion\\\":\\\"\"}]},\"spec\":{\"kind\":\"\"}}",
};

/* Packing (cache/pack.h) is exact on the API server's own objects and takes
 * at least a sixth off each; on text with none of its fragments it changes
 * nothing. */
static const char *const pack_fixtures[] = {
    "test/unit/fixtures/cache/statefulset.json", "test/unit/fixtures/cache/service.json",
    "test/unit/fixtures/cache/pvc.json",         "test/unit/fixtures/cache/virtualservice.json",
    "test/unit/fixtures/cache/pod.json",         "test/unit/fixtures/cache/event.json",
};

START_TEST(pack_is_exact_and_shorter) {
  size_t flen;
  char *file = testutil_read_src(pack_fixtures[_i], &flen);
  json_t *o = json_loadb(file, flen, 0, NULL);
  ck_assert_ptr_nonnull(o);
  cache_transform(NULL, o); /* as stored: without managedFields */
  size_t len, plen;
  char *json = js_pack(o, &len);
  char *packed = cache_pack(json, len, &plen);
  ck_assert_msg(plen * 6 < len * 5, "%s: %zu of %zu bytes", pack_fixtures[_i], plen, len);
  ck_assert_uint_eq(cache_unpacked_len(packed, plen), len);
  char *back = malloc(len);
  cache_unpack(packed, plen, back);
  ck_assert(memcmp(back, json, len) == 0);
  /* Text without fragments, or ending inside one, is left as it is. */
  const char plain[] = "[1,2,\"x\",{\"apiVers";
  char *same = cache_pack(plain, strlen(plain), &plen);
  ck_assert_uint_eq(plen, strlen(plain));
  ck_assert(memcmp(same, plain, plen) == 0);
  free(same);
  free(back);
  free(packed);
  free(json);
  free(file);
  json_decref(o);
}
END_TEST

START_TEST(text_roundtrip) {
  cache_store *s = cache_store_new();
  json_t *body = json_loads(roundtrip_cases[_i], JSON_ALLOW_NUL, NULL);
  ck_assert_ptr_nonnull(body);
  json_t *o = obj("ns", "a", "1", NULL, NULL);
  json_object_set(o, "data", body);
  json_decref(cache_store_upsert(s, o));
  json_t *got = cache_store_get(s, "ns", "a");
  ck_assert_msg(json_equal(json_object_get(got, "data"), body), "case %d changed in the store", _i);
  /* Key order too: the first key read back is the first key written. */
  ck_assert_str_eq(json_object_iter_key(json_object_iter(json_object_get(got, "data"))),
                   json_object_iter_key(json_object_iter(body)));
  /* A reader's copy is its own: changing it leaves the store alone. */
  json_object_set_new(got, "data", json_string("changed"));
  json_decref(got);
  got = cache_store_get(s, "ns", "a");
  ck_assert(json_equal(json_object_get(got, "data"), body));
  json_decref(got);
  json_decref(body);
  json_decref(o);
  cache_store_free(s);
}
END_TEST

/* Namespaces are matched on the key ("ns/name"): a namespace that is a
 * prefix of another must not collect the other's objects. Stats count what
 * is held as objects come and go. */
START_TEST(list_by_namespace_and_stats) {
  cache_store *s = cache_store_new();
  const char *nss[] = {"ns", "ns1", "ns-b", "ns"};
  for (int i = 0; i < 4; i++) {
    char name[8];
    snprintf(name, sizeof(name), "o%d", i);
    json_t *o = obj(nss[i], name, "1", NULL, NULL);
    json_decref(cache_store_upsert(s, o));
    json_decref(o);
  }
  json_t *c = json_pack("{s:{s:s}}", "metadata", "name", "cluster-wide");
  json_decref(cache_store_upsert(s, c));
  json_decref(c);
  cache_list l;
  cache_store_list(s, "ns", &l);
  ck_assert_uint_eq(l.len, 2);
  for (size_t i = 0; i < l.len; i++) ck_assert_str_eq(js_namespace(l.items[i]), "ns");
  cache_list_free(&l);
  cache_store_list(s, NULL, &l);
  ck_assert_uint_eq(l.len, 5);
  cache_list_free(&l);
  cache_store_stats st;
  cache_store_get_stats(s, &st);
  ck_assert_uint_eq(st.objects, 5);
  ck_assert_uint_gt(st.text_bytes, 5 * strlen("{\"metadata\":{}}"));
  ck_assert_uint_lt(st.held_bytes, st.text_bytes); /* packed */
  /* Storing an unchanged object again gives back an equal previous one. */
  json_t *again = obj("ns", "o0", "1", NULL, NULL);
  json_t *prev = cache_store_upsert(s, again);
  ck_assert(json_equal(prev, again));
  json_decref(prev);
  json_decref(again);
  cache_store_stats st2;
  cache_store_get_stats(s, &st2);
  ck_assert_uint_eq(st2.text_bytes, st.text_bytes);
  char **keys;
  size_t n;
  keys = cache_store_keys(s, &n);
  for (size_t i = 0; i < n; i++) {
    json_decref(cache_store_remove(s, keys[i]));
    free(keys[i]);
  }
  free(keys);
  cache_store_get_stats(s, &st);
  ck_assert_uint_eq(st.objects, 0);
  ck_assert_uint_eq(st.text_bytes, 0);
  ck_assert_uint_eq(st.held_bytes, 0);
  cache_store_free(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, upsert_get_remove);
  tcase_add_test(tc, cluster_scoped_key);
  tcase_add_test(tc, indexes_follow_updates);
  tcase_add_test(tc, namespaced_label_index);
  tcase_add_loop_test(tc, selectors, 0, sizeof(selector_cases) / sizeof(selector_cases[0]));
  tcase_add_test(tc, select_from_store);
  tcase_add_loop_test(tc, text_roundtrip, 0, sizeof(roundtrip_cases) / sizeof(roundtrip_cases[0]));
  tcase_add_test(tc, list_by_namespace_and_stats);
  tcase_add_loop_test(tc, pack_is_exact_and_shorter, 0, sizeof(pack_fixtures) / sizeof(pack_fixtures[0]));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
