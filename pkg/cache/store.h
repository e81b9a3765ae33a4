/* The object store behind an informer: a hash map keyed "namespace/name"
 * (or "name" for cluster-scoped objects) with secondary indexes.
 *
 * The store keeps each object as its compact JSON text, packed (a jansson
 * tree costs about eight times as much heap; cache/pack.h takes a third of
 * the text off); every read decodes a new tree that
 * the reader owns. Treat it as read-only all the same — it is what the
 * cache holds, and code written against the store must not depend on
 * whether it is shared. Readers take a read lock for the duration of one
 * call only; the informer writes on the loop thread. */
#ifndef CUBIT_CACHE_STORE_H
#define CUBIT_CACHE_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

typedef struct cache_store cache_store;

/* An index function returns the index values of obj as a NULL-terminated
 * array of malloc'ed strings (NULL or an empty array when none); the store
 * frees them. */
typedef char **(*cache_index_fn)(const json_t *obj, void *arg);

cache_store *cache_store_new(void);
void cache_store_free(cache_store *s);

/* Adds an index before the store is filled. */
void cache_store_add_index(cache_store *s, const char *name, cache_index_fn fn, void *arg);
/* Built-in indexes. */
#define CACHE_INDEX_OWNER "owner-uid" /* the controller ownerReference's uid */
#define CACHE_INDEX_NAMESPACE "namespace"
void cache_store_index_owner(cache_store *s);
void cache_store_index_namespace(cache_store *s);
/* An index named "label:<key>" over the value of label <key>. */
void cache_store_index_label(cache_store *s, const char *label_key);
/* An index named "nslabel:<key>" over "<namespace>/<value of label key>":
 * the objects of one namespace labelled alike, found without decoding the
 * namespace's others. Adding it twice adds it once. */
void cache_store_index_namespaced_label(cache_store *s, const char *label_key);

/* Writes the key of obj into a new string; caller frees. */
char *cache_key(const json_t *obj);
char *cache_key_of(const char *ns, const char *name);

/* Writer side (the informer). cache_store_upsert strips
 * metadata.managedFields and the last-applied-configuration annotation from
 * obj (cache_transform with no field set; obj must not be shared yet),
 * stores its text (obj stays the caller's), and returns the previous object
 * (a reference the caller releases) or NULL. */
json_t *cache_store_upsert(cache_store *s, json_t *obj);
/* Removes key; returns the removed object (caller releases) or NULL. */
json_t *cache_store_remove(cache_store *s, const char *key);

/* Reader side: a new object (decoded for this call), or NULL when absent. ns may be NULL for
 * cluster-scoped objects. */
json_t *cache_store_get(cache_store *s, const char *ns, const char *name);
json_t *cache_store_get_key(cache_store *s, const char *key);

/* A snapshot: objects decoded for the caller; cache_list_free releases them. */
typedef struct cache_list {
  json_t **items;
  size_t len;
} cache_list;
/* Every object (ns NULL) or those of one namespace. */
void cache_store_list(cache_store *s, const char *ns, cache_list *out);
/* Objects whose index 'name' contains 'value'. Unknown index: empty list. */
void cache_store_by_index(cache_store *s, const char *name, const char *value, cache_list *out);
/* The objects in namespace ns whose label key is value (that index must exist:
 * else an empty list). */
void cache_store_by_namespaced_label(cache_store *s, const char *key, const char *ns, const char *value,
                                     cache_list *out);
/* Objects matching a label selector (equality-based: "a=b,c!=d,e,!f" and
 * set-based "k in (a,b)", "k notin (a)"). Returns CUBIT_EINVAL on a
 * malformed selector. */
int cache_store_select(cache_store *s, const char *ns, const char *selector, cache_list *out) CUBIT_WUR;
void cache_list_free(cache_list *l);

size_t cache_store_len(cache_store *s);
/* What the store holds, for metrics and benchmarks. */
typedef struct cache_store_stats {
  size_t objects;
  size_t text_bytes; /* the objects' JSON text, without keys and indexes */
  size_t held_bytes; /* what the store holds of it, packed (cache/pack.h) */
} cache_store_stats;
void cache_store_get_stats(cache_store *s, cache_store_stats *out);
/* Every key, for the informer's relist; caller frees the strings and array. */
char **cache_store_keys(cache_store *s, size_t *n);

/* Label selector matching on one object, exposed for tests and webhooks. */
int cache_selector_matches(const char *selector, const json_t *obj, int *match) CUBIT_WUR;

#endif
