#include "cache/transform.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* A trie of path steps. A node with 'whole' set keeps its value entire;
 * otherwise only the keys among its children ("[]": each array element). */
typedef struct node {
  char *step;
  int whole;
  struct node *children, *next;
} node;

struct cache_fields {
  node root;
};

static void free_children(node *n) {
  node *c = n->children;
  while (c) {
    node *next = c->next;
    free_children(c);
    free(c->step);
    free(c);
    c = next;
  }
  n->children = NULL;
}

static const node *find_child(const node *n, const char *step, size_t len) {
  for (const node *c = n->children; c; c = c->next)
    if (strlen(c->step) == len && memcmp(c->step, step, len) == 0) return c;
  return NULL;
}

static node *add_child(node *n, const char *step, size_t len) {
  node *c = (node *)find_child(n, step, len); /* n is ours to change */
  if (c) return c;
  c = xcalloc(1, sizeof(*c));
  c->step = xstrndup(step, len);
  c->next = n->children;
  n->children = c;
  return c;
}

/* "a.b[].c" is the steps a, b, [], c. */
static int add_path(node *root, const char *path) {
  node *n = root;
  const char *p = path;
  if (*p == '\0') return CUBIT_EINVAL;
  while (*p) {
    size_t len;
    if (strncmp(p, "[]", 2) == 0) {
      len = 2;
    } else {
      len = strcspn(p, ".[");
      if (len == 0) return CUBIT_EINVAL;
    }
    if (n->whole) return 0; /* an ancestor is already kept entire */
    n = add_child(n, p, len);
    p += len;
    if (*p == '.') {
      p++;
      if (*p == '\0' || *p == '.') return CUBIT_EINVAL;
    }
  }
  n->whole = 1;
  free_children(n);
  return 0;
}

/* What the store and the informer themselves read: the key, the
 * resourceVersion compared on every update, and the type. */
static const char *const identity[] = {"apiVersion", "kind", "metadata.name", "metadata.namespace",
                                       "metadata.uid", "metadata.resourceVersion", NULL};

int cache_fields_new(const char *const *paths, cache_fields **out) {
  cache_fields *f = xcalloc(1, sizeof(*f));
  f->root.whole = paths == NULL;
  int rc = paths ? cache_fields_add(f, identity) : 0;
  if (rc == 0 && paths) rc = cache_fields_add(f, paths);
  if (rc) {
    cache_fields_free(f);
    return rc;
  }
  *out = f;
  return 0;
}

int cache_fields_add(cache_fields *f, const char *const *paths) {
  if (paths == NULL) {
    f->root.whole = 1;
    free_children(&f->root);
    return 0;
  }
  for (size_t i = 0; paths[i]; i++) {
    if (f->root.whole) return 0;
    int rc = add_path(&f->root, paths[i]);
    if (rc) return rc;
  }
  return 0;
}

int cache_fields_whole(const cache_fields *f) {
  return f == NULL || f->root.whole;
}

void cache_fields_free(cache_fields *f) {
  if (f == NULL) return;
  free_children(&f->root);
  free(f);
}

static void project(json_t *v, const node *n) {
  if (n->whole) return;
  if (json_is_array(v)) {
    const node *each = find_child(n, "[]", 2);
    if (each == NULL) {
      json_array_clear(v);
      return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) project(e, each);
    return;
  }
  if (!json_is_object(v)) return;
  const char *key;
  json_t *val;
  void *tmp;
  json_object_foreach_safe(v, tmp, key, val) {
    const node *c = find_child(n, key, strlen(key));
    if (c == NULL) json_object_del(v, key);
    else project(val, c);
  }
}

void cache_transform(const cache_fields *f, json_t *obj) {
  json_t *meta = json_object_get(obj, "metadata");
  if (meta) {
    json_object_del(meta, "managedFields");
    json_object_del(json_object_get(meta, "annotations"), LAST_APPLIED);
  }
  if (f) project(obj, &f->root);
}
