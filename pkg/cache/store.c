#include "cache/store.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cache/pack.h"
#include "cache/transform.h"
#include "util/alloc.h"
#include "util/json.h"

#define MAX_INDEXES 8

struct entry;
struct bucket;

/* An entry's membership in one bucket of an index: a node of the bucket's
 * list, allocated with the entry's others for that index. Before (a hash
 * of key copies per bucket and copies of each value per entry) an index
 * value cost about 190 bytes of heap per object; a link costs 32. */
typedef struct ilink {
  struct ilink *prev, *next; /* in insertion order */
  struct entry *entry;
  struct bucket *bucket;
} ilink;

typedef struct bucket {
  char *value;
  ilink *head, *tail;
  UT_hash_handle hh;
} bucket;

typedef struct index_def {
  char *name;
  cache_index_fn fn;
  void *arg;
  bucket *buckets;
} index_def;

/* An object is kept as its compact JSON text, not as a jansson tree: a
 * tree costs about eight times its text in heap (a node, a hashtable and
 * a key copy per field, each a malloc block), so a reader decodes its own
 * copy instead (bench/bench_store; figures in docs/runtime.md, "Memory at
 * scale"). */
typedef struct entry {
  char *key;
  char *text;     /* compact JSON packed (cache/pack.h), not NUL-terminated */
  uint32_t len;   /* of text */
  uint32_t plain; /* of the JSON unpacked */
  ilink *links[MAX_INDEXES]; /* per index, its values' links ending with a NULL bucket, or NULL */
  UT_hash_handle hh;
} entry;

struct cache_store {
  pthread_rwlock_t lock;
  entry *entries;
  size_t text_bytes; /* sum of the entries' plain */
  size_t held_bytes; /* sum of the entries' len */
  index_def indexes[MAX_INDEXES];
  size_t nindexes;
};

/* The object an entry holds, a new tree the caller owns. */
static json_t *decode(const entry *e) {
  char small[4096];
  char *json = e->plain <= sizeof(small) ? small : xmalloc(e->plain);
  cache_unpack(e->text, e->len, json);
  json_t *obj = js_unpack(json, e->plain);
  if (json != small) free(json);
  return obj;
}

cache_store *cache_store_new(void) {
  cache_store *s = xcalloc(1, sizeof(*s));
  pthread_rwlock_init(&s->lock, NULL);
  return s;
}

static void free_values(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

void cache_store_free(cache_store *s) {
  if (s == NULL) return;
  entry *e, *etmp;
  HASH_ITER(hh, s->entries, e, etmp) {
    HASH_DEL(s->entries, e);
    for (size_t i = 0; i < s->nindexes; i++) free(e->links[i]);
    free(e->text);
    free(e->key);
    free(e);
  }
  for (size_t i = 0; i < s->nindexes; i++) {
    bucket *b, *btmp;
    HASH_ITER(hh, s->indexes[i].buckets, b, btmp) {
      HASH_DEL(s->indexes[i].buckets, b);
      free(b->value);
      free(b);
    }
    free(s->indexes[i].name);
    free(s->indexes[i].arg);
  }
  pthread_rwlock_destroy(&s->lock);
  free(s);
}

/* 'arg' becomes the store's and is freed with it. */
static void add_index(cache_store *s, const char *name, cache_index_fn fn, void *arg) {
  if (s->nindexes == MAX_INDEXES) abort();
  index_def *ix = &s->indexes[s->nindexes++];
  ix->name = xstrdup(name);
  ix->fn = fn;
  ix->arg = arg;
}

void cache_store_add_index(cache_store *s, const char *name, cache_index_fn fn, void *arg) {
  add_index(s, name, fn, arg);
}

static char **one_value(const char *v) {
  if (v == NULL) return NULL;
  char **out = xcalloc(2, sizeof(char *));
  out[0] = xstrdup(v);
  return out;
}

static char **index_owner(const json_t *obj, void *arg) {
  json_t *ref = js_controller_ref(obj);
  return one_value(json_string_value(json_object_get(ref, "uid")));
}

static char **index_namespace(const json_t *obj, void *arg) {
  return one_value(js_namespace(obj));
}

static char **index_label(const json_t *obj, void *arg) {
  return one_value(json_string_value(json_object_get(js_get(obj, "metadata.labels"), arg)));
}

void cache_store_index_owner(cache_store *s) {
  add_index(s, CACHE_INDEX_OWNER, index_owner, NULL);
}

void cache_store_index_namespace(cache_store *s) {
  add_index(s, CACHE_INDEX_NAMESPACE, index_namespace, NULL);
}

void cache_store_index_label(cache_store *s, const char *label_key) {
  char *name = xasprintf("label:%s", label_key);
  add_index(s, name, index_label, xstrdup(label_key));
  free(name);
}

static char **index_namespaced_label(const json_t *obj, void *arg) {
  const char *v = json_string_value(json_object_get(js_get(obj, "metadata.labels"), arg));
  if (v == NULL) return NULL;
  char **out = xcalloc(2, sizeof(char *));
  out[0] = cache_key_of(js_namespace(obj), v);
  return out;
}

void cache_store_index_namespaced_label(cache_store *s, const char *label_key) {
  char *name = xasprintf("nslabel:%s", label_key);
  for (size_t i = 0; i < s->nindexes; i++)
    if (strcmp(s->indexes[i].name, name) == 0) {
      free(name);
      return;
    }
  add_index(s, name, index_namespaced_label, xstrdup(label_key));
  free(name);
}

void cache_store_by_namespaced_label(cache_store *s, const char *key, const char *ns, const char *value,
                                     cache_list *out) {
  char *name = xasprintf("nslabel:%s", key), *v = cache_key_of(ns, value);
  cache_store_by_index(s, name, v, out);
  free(name);
  free(v);
}

char *cache_key_of(const char *ns, const char *name) {
  if (ns && *ns) return xasprintf("%s/%s", ns, name ? name : "");
  return xstrdup(name ? name : "");
}

char *cache_key(const json_t *obj) {
  return cache_key_of(js_namespace(obj), js_name(obj));
}

/* Links e into the bucket of value (made when first used). */
static void index_insert(index_def *ix, const char *value, ilink *l, entry *e) {
  bucket *b;
  HASH_FIND_STR(ix->buckets, value, b);
  if (b == NULL) {
    b = xcalloc(1, sizeof(*b));
    b->value = xstrdup(value);
    HASH_ADD_KEYPTR(hh, ix->buckets, b->value, strlen(b->value), b);
  }
  l->entry = e;
  l->bucket = b;
  l->next = NULL;
  l->prev = b->tail;
  if (b->tail) b->tail->next = l;
  else b->head = l;
  b->tail = l;
}

static void index_erase(index_def *ix, ilink *l) {
  bucket *b = l->bucket;
  if (l->prev) l->prev->next = l->next;
  else b->head = l->next;
  if (l->next) l->next->prev = l->prev;
  else b->tail = l->prev;
  if (b->head == NULL) {
    HASH_DEL(ix->buckets, b);
    free(b->value);
    free(b);
  }
}

static void unindex(cache_store *s, entry *e) {
  for (size_t i = 0; i < s->nindexes; i++) {
    for (ilink *l = e->links[i]; l && l->bucket; l++) index_erase(&s->indexes[i], l);
    free(e->links[i]);
    e->links[i] = NULL;
  }
}

static int seen_before(char **v, size_t j) {
  for (size_t k = 0; k < j; k++)
    if (strcmp(v[k], v[j]) == 0) return 1;
  return 0;
}

static void reindex(cache_store *s, entry *e, const json_t *obj) {
  for (size_t i = 0; i < s->nindexes; i++) {
    char **v = s->indexes[i].fn(obj, s->indexes[i].arg);
    size_t n = 0;
    while (v && v[n]) n++;
    if (n > 0) {
      /* One block for the entry's links of this index, the last one's
       * bucket NULL; a value listed twice is linked once. */
      ilink *links = xcalloc(n + 1, sizeof(ilink));
      size_t used = 0;
      for (size_t j = 0; j < n; j++)
        if (!seen_before(v, j)) index_insert(&s->indexes[i], v[j], &links[used++], e);
      e->links[i] = links;
    }
    free_values(v);
  }
}

json_t *cache_store_upsert(cache_store *s, json_t *obj) {
  /* managedFields are often the largest part of an object and no reconciler
   * reads them. The informer has cut obj down already; this covers direct
   * writers. */
  cache_transform(NULL, obj);
  char *key = cache_key(obj);
  size_t plain, len;
  char *json = js_pack(obj, &plain);
  char *text = cache_pack(json, plain, &len);
  free(json);
  /* etcd refuses objects over 1.5 MiB: 32 bits are plenty. */
  if (plain > UINT32_MAX) abort();
  pthread_rwlock_wrlock(&s->lock);
  entry *e;
  json_t *old = NULL;
  HASH_FIND_STR(s->entries, key, e);
  if (e) {
    unindex(s, e);
    /* An unchanged object (a relist, a resync) needs no decoding: its
     * previous version is obj itself. Packing is deterministic. */
    old = e->len == len && memcmp(e->text, text, len) == 0 ? json_incref(obj) : decode(e);
    s->text_bytes -= e->plain;
    s->held_bytes -= e->len;
    free(e->text);
    free(key);
  } else {
    e = xcalloc(1, sizeof(*e));
    e->key = key;
    HASH_ADD_KEYPTR(hh, s->entries, e->key, strlen(e->key), e);
  }
  e->text = text;
  e->len = (uint32_t)len;
  e->plain = (uint32_t)plain;
  s->text_bytes += plain;
  s->held_bytes += len;
  reindex(s, e, obj);
  pthread_rwlock_unlock(&s->lock);
  return old;
}

json_t *cache_store_remove(cache_store *s, const char *key) {
  pthread_rwlock_wrlock(&s->lock);
  entry *e;
  json_t *old = NULL;
  HASH_FIND_STR(s->entries, key, e);
  if (e) {
    unindex(s, e);
    HASH_DEL(s->entries, e);
    old = decode(e);
    s->text_bytes -= e->plain;
    s->held_bytes -= e->len;
    free(e->text);
    free(e->key);
    free(e);
  }
  pthread_rwlock_unlock(&s->lock);
  return old;
}

json_t *cache_store_get_key(cache_store *s, const char *key) {
  pthread_rwlock_rdlock(&s->lock);
  entry *e;
  HASH_FIND_STR(s->entries, key, e);
  json_t *obj = e ? decode(e) : NULL;
  pthread_rwlock_unlock(&s->lock);
  return obj;
}

json_t *cache_store_get(cache_store *s, const char *ns, const char *name) {
  char *key = cache_key_of(ns, name);
  json_t *obj = cache_store_get_key(s, key);
  free(key);
  return obj;
}

/* Takes obj's reference. */
static void list_push(cache_list *l, size_t *cap, json_t *obj) {
  if (l->len == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    l->items = xrealloc(l->items, *cap * sizeof(json_t *));
  }
  l->items[l->len++] = obj;
}

/* 1 when key is of an object in namespace ns ("ns/name"). */
static int key_in_namespace(const char *key, const char *ns) {
  size_t n = strlen(ns);
  return strncmp(key, ns, n) == 0 && key[n] == '/';
}

void cache_store_list(cache_store *s, const char *ns, cache_list *out) {
  size_t cap = 0;
  out->items = NULL;
  out->len = 0;
  pthread_rwlock_rdlock(&s->lock);
  entry *e, *tmp;
  HASH_ITER(hh, s->entries, e, tmp) {
    if (ns && !key_in_namespace(e->key, ns)) continue;
    list_push(out, &cap, decode(e));
  }
  pthread_rwlock_unlock(&s->lock);
}

void cache_store_by_index(cache_store *s, const char *name, const char *value, cache_list *out) {
  size_t cap = 0;
  out->items = NULL;
  out->len = 0;
  pthread_rwlock_rdlock(&s->lock);
  for (size_t i = 0; i < s->nindexes; i++) {
    if (strcmp(s->indexes[i].name, name) != 0) continue;
    bucket *b;
    HASH_FIND_STR(s->indexes[i].buckets, value, b);
    for (ilink *l = b ? b->head : NULL; l; l = l->next) list_push(out, &cap, decode(l->entry));
  }
  pthread_rwlock_unlock(&s->lock);
}

int cache_store_select(cache_store *s, const char *ns, const char *selector, cache_list *out) {
  cache_list all;
  cache_store_list(s, ns, &all);
  size_t cap = 0;
  out->items = NULL;
  out->len = 0;
  for (size_t i = 0; i < all.len; i++) {
    int match = 0;
    int rc = cache_selector_matches(selector, all.items[i], &match);
    if (rc) {
      cache_list_free(&all);
      cache_list_free(out);
      return rc;
    }
    if (match) list_push(out, &cap, json_incref(all.items[i]));
  }
  cache_list_free(&all);
  return 0;
}

void cache_list_free(cache_list *l) {
  for (size_t i = 0; i < l->len; i++) json_decref(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->len = 0;
}

void cache_store_get_stats(cache_store *s, cache_store_stats *out) {
  pthread_rwlock_rdlock(&s->lock);
  out->objects = HASH_COUNT(s->entries);
  out->text_bytes = s->text_bytes;
  out->held_bytes = s->held_bytes;
  pthread_rwlock_unlock(&s->lock);
}

size_t cache_store_len(cache_store *s) {
  pthread_rwlock_rdlock(&s->lock);
  size_t n = HASH_COUNT(s->entries);
  pthread_rwlock_unlock(&s->lock);
  return n;
}

char **cache_store_keys(cache_store *s, size_t *n) {
  pthread_rwlock_rdlock(&s->lock);
  size_t count = HASH_COUNT(s->entries), i = 0;
  char **keys = xcalloc(count + 1, sizeof(char *));
  entry *e, *tmp;
  HASH_ITER(hh, s->entries, e, tmp) keys[i++] = xstrdup(e->key);
  pthread_rwlock_unlock(&s->lock);
  *n = count;
  return keys;
}
