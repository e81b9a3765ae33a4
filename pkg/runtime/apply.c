#include "runtime/apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

void rt_set_controller_ref(json_t *child, const json_t *owner) {
  json_t *ref = json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b}", "apiVersion", js_str(owner, "apiVersion"), "kind",
                          js_str(owner, "kind"), "name", js_name(owner), "uid", js_uid(owner), "controller", 1,
                          "blockOwnerDeletion", 1);
  json_t *meta = js_ensure_obj(child, "metadata");
  json_object_set_new(meta, "ownerReferences", json_pack("[o]", ref));
}

int rt_is_controlled_by(const json_t *obj, const json_t *owner) {
  json_t *ref = js_controller_ref(obj);
  const char *a = json_string_value(json_object_get(ref, "uid")), *b = js_uid(owner);
  return a && b && strcmp(a, b) == 0;
}

int rt_json_subset(const json_t *want, const json_t *have) {
  if (json_is_object(want)) {
    if (!json_is_object(have)) return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v) {
      if (!rt_json_subset(v, json_object_get(have, k))) return 0;
    }
    return 1;
  }
  if (json_is_array(want)) {
    if (!json_is_array(have) || json_array_size(want) != json_array_size(have)) return 0;
    for (size_t i = 0; i < json_array_size(want); i++)
      if (!rt_json_subset(json_array_get(want, i), json_array_get(have, i))) return 0;
    return 1;
  }
  return json_equal((json_t *)want, (json_t *)have);
}

int rt_apply_would_write(const json_t *desired, const json_t *live) {
  if (live == NULL) return 1;
  char hash[33];
  js_digest(desired, hash, 32);
  const char *applied = json_string_value(json_object_get(js_get(live, "metadata.annotations"), RT_APPLIED_ANNOTATION));
  return !(applied && strcmp(applied, hash) == 0 && rt_json_subset(desired, live));
}

int rt_apply(kube_client *c, const kube_resource *r, const json_t *desired, const json_t *live, json_t **out,
             int *wrote, kube_status *st) {
  if (wrote) *wrote = 0;
  if (!rt_apply_would_write(desired, live)) {
    if (out) *out = json_incref((json_t *)live);
    return 0;
  }
  char hash[33];
  js_digest(desired, hash, 32);
  json_t *copy = json_deep_copy(desired);
  json_object_set_new(js_ensure_obj(copy, "metadata.annotations"), RT_APPLIED_ANNOTATION, json_string(hash));
  if (wrote) *wrote = 1;
  int rc = kube_apply(c, r, copy, RT_FIELD_MANAGER, 1, out, st);
  json_decref(copy);
  return rc;
}

int rt_apply_cached(kube_client *c, cache_store *store, const kube_resource *r, const json_t *desired,
                    json_t **out, int *wrote, kube_status *st) {
  json_t *live = store ? cache_store_get(store, js_namespace(desired), js_name(desired)) : NULL;
  int rc = rt_apply(c, r, desired, live, out, wrote, st);
  json_decref(live);
  return rc;
}

int rt_apply_status(kube_client *c, const kube_resource *r, const json_t *live, json_t *status, int *wrote,
                    kube_status *st) {
  if (wrote) *wrote = 0;
  json_t *diff = js_merge_diff(json_object_get(live, "status"), status);
  if (diff == NULL) return 0;
  /* Only what changed, and the resourceVersion read: the API server applies
   * the patch to that version or refuses it with a conflict, so a status
   * decided from a stale object is decided again, and the diff (taken from
   * that very version) makes the stored status exactly 'status'. */
  json_t *patch = json_pack("{s:{s:s?}, s:o}", "metadata", "resourceVersion", js_resource_version(live), "status",
                            diff);
  kube_patch_options o = {KUBE_PATCH_MERGE, RT_FIELD_MANAGER, 0, "status"};
  if (wrote) *wrote = 1;
  int rc = kube_patch(c, r, js_namespace(live), js_name(live), patch, &o, NULL, st);
  json_decref(patch);
  return rc;
}

int rt_has_finalizer(const json_t *obj, const char *finalizer) {
  size_t i;
  json_t *f;
  json_array_foreach(js_get(obj, "metadata.finalizers"), i, f) {
    if (json_is_string(f) && strcmp(json_string_value(f), finalizer) == 0) return 1;
  }
  return 0;
}

/* A JSON patch that first tests the resourceVersion, so the change applies
 * only to the object we read. */
static int patch_finalizers(kube_client *c, const kube_resource *r, const json_t *obj, json_t *finalizers,
                            kube_status *st) {
  json_t *patch = json_pack("[{s:s, s:s, s:s?}, {s:s, s:s, s:o}]", "op", "test", "path",
                            "/metadata/resourceVersion", "value", js_resource_version(obj), "op", "add", "path",
                            "/metadata/finalizers", "value", finalizers);
  kube_patch_options o = {KUBE_PATCH_JSON, RT_FIELD_MANAGER, 0, NULL};
  int rc = kube_patch(c, r, js_namespace(obj), js_name(obj), patch, &o, NULL, st);
  json_decref(patch);
  /* A failed "test" op is reported as 422 Invalid; it means a conflict. */
  return rc == CUBIT_EINVALID ? CUBIT_ECONFLICT : rc;
}

int rt_add_finalizer(kube_client *c, const kube_resource *r, const json_t *obj, const char *finalizer,
                     kube_status *st) {
  if (rt_has_finalizer(obj, finalizer)) return 0;
  json_t *list = json_deep_copy(js_get(obj, "metadata.finalizers"));
  if (!json_is_array(list)) {
    json_decref(list);
    list = json_array();
  }
  json_array_append_new(list, json_string(finalizer));
  return patch_finalizers(c, r, obj, list, st);
}

int rt_remove_finalizer(kube_client *c, const kube_resource *r, const json_t *obj, const char *finalizer,
                        kube_status *st) {
  if (!rt_has_finalizer(obj, finalizer)) return 0;
  json_t *list = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(js_get(obj, "metadata.finalizers"), i, f) {
    if (!(json_is_string(f) && strcmp(json_string_value(f), finalizer) == 0)) json_array_append(list, f);
  }
  return patch_finalizers(c, r, obj, list, st);
}
