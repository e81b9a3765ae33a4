/* Small helpers over jansson for reading and writing Kubernetes objects.
 *
 * Paths are dot-separated object keys ("metadata.name"); a key that itself
 * contains dots (a label such as "cubit.dev/project") is read with
 * jansson's json_object_get on the parent. Getters return borrowed
 * references or NULL when any step is missing or of the wrong type. */
#ifndef CUBIT_UTIL_JSON_H
#define CUBIT_UTIL_JSON_H

#include <jansson.h>
#include <stdint.h>

json_t *js_get(const json_t *root, const char *path);
const char *js_str(const json_t *root, const char *path);
/* Integer at path, or 'def' when absent or not an integer. */
json_int_t js_int(const json_t *root, const char *path, json_int_t def);
/* Boolean at path, or 'def' when absent or not a boolean. */
int js_bool(const json_t *root, const char *path, int def);
/* Returns the object at path, creating empty objects for missing steps
 * (and replacing non-objects). Borrowed. */
json_t *js_ensure_obj(json_t *root, const char *path);
/* Sets the value at path, creating parents. Steals 'value'. Returns 0 or
 * CUBIT_EINVAL when root is not an object. */
int js_set(json_t *root, const char *path, json_t *value);
int js_set_str(json_t *root, const char *path, const char *s);
/* Serialises compactly with sorted keys; the caller frees the result. */
char *js_dump(const json_t *v);

/* A value as compact text and back, for holding many objects in little
 * memory (the cache keeps text: a jansson tree costs about eight times its
 * text). js_pack returns an exactly sized buffer, not NUL-terminated, with
 * its length in *len; caller frees. js_unpack decodes text js_pack wrote
 * (NULs in strings included); it cannot fail but for memory, and aborts
 * then, as util/alloc.h does. A new reference. */
char *js_pack(const json_t *v, size_t *len);
json_t *js_unpack(const char *text, size_t len);
/* Convenience for object identity. */
static inline const char *js_name(const json_t *o) { return js_str(o, "metadata.name"); }
static inline const char *js_namespace(const json_t *o) { return js_str(o, "metadata.namespace"); }
static inline const char *js_uid(const json_t *o) { return js_str(o, "metadata.uid"); }
static inline const char *js_resource_version(const json_t *o) {
  return js_str(o, "metadata.resourceVersion");
}
/* The first nhex hex digits (at most 64, even) of the SHA-256 of v's
 * canonical JSON (js_dump: sorted keys, compact) into out (nhex + 1 bytes):
 * a stable name or fingerprint for an object's content. */
void js_digest(const json_t *v, char *out, int nhex);
/* The JSON merge patch (RFC 7386) that turns 'from' into 'to', or NULL
 * when applying it would change nothing. Objects are compared key by key
 * (a key 'to' lacks, or holds as null, becomes null: removed); any other
 * value that differs, arrays included, is sent whole. 'from' may be NULL
 * (absent). A null inside an array of 'to' is sent as it is. */
json_t *js_merge_diff(const json_t *from, const json_t *to);
/* The RFC 3339 time at path as epoch seconds, or 0 when absent or invalid. */
int64_t js_time(const json_t *root, const char *path);
/* Sets path to the RFC 3339 form of epoch seconds t (creating parents);
 * t <= 0 removes the key instead. */
void js_set_time(json_t *root, const char *path, int64_t t);
/* The first element of an array of objects whose "name" is name (env
 * variables, volumes, containers), borrowed; NULL when none. */
json_t *js_named(const json_t *array, const char *name);
/* Returns the controller ownerReference (controller: true) or NULL. */
json_t *js_controller_ref(const json_t *o);

#endif
