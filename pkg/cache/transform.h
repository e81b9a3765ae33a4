/* What an informer keeps of each object it receives: the cache holds only
 * what its readers read (client-go's SetTransform, declared as paths).
 *
 * A field set is a list of dotted paths; "[]" descends into every element
 * of an array: {"metadata", "spec.containers[].resources", "status.phase"}
 * keeps the whole metadata, the resources of each container and the phase,
 * and drops every other field. A path names an object key at each step;
 * keys with dots (labels, resource names) are kept by keeping their parent.
 *
 * Whatever the field set, two things are never kept: metadata.managedFields
 * and the kubectl.kubernetes.io/last-applied-configuration annotation —
 * often most of an object's bytes, and read by no reconciler. */
#ifndef CUBIT_CACHE_TRANSFORM_H
#define CUBIT_CACHE_TRANSFORM_H

#include <jansson.h>

#include "util/err.h"

typedef struct cache_fields cache_fields;

/* Builds a field set from a NULL-terminated list of paths; NULL paths = the
 * whole object. apiVersion, kind and metadata's name, namespace, uid and
 * resourceVersion are always kept (the store's key, the informer's change
 * test). Returns CUBIT_EINVAL for an empty path or step. */
int cache_fields_new(const char *const *paths, cache_fields **out) CUBIT_WUR;
/* Adds more paths (another reader's). A whole-object set stays whole. */
int cache_fields_add(cache_fields *f, const char *const *paths) CUBIT_WUR;
/* Also keeps, of each object, every field 'manager' (a field manager's name;
 * NULL: none) set with server-side apply, as its "Apply" entry of
 * metadata.managedFields records them: for children a controller applies
 * and compares with what it would apply next, the cache then holds exactly
 * what that comparison reads plus the paths (status, metadata) its readers
 * read. List elements the manager owns nothing of are kept whole. */
void cache_fields_keep_applied(cache_fields *f, const char *manager);
/* 1 when the set keeps whole objects (no paths given). */
int cache_fields_whole(const cache_fields *f);
void cache_fields_free(cache_fields *f);

/* Drops from obj (which must not be shared yet) everything f does not keep,
 * and managedFields and last-applied-configuration always. f NULL keeps the
 * whole object apart from those two. */
void cache_transform(const cache_fields *f, json_t *obj);

#endif
