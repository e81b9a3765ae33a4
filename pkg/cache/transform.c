#include "cache/transform.h"

#include <stdio.h>
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
  char *applier; /* NULL, or the field manager whose applied fields are kept too */
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

void cache_fields_keep_applied(cache_fields *f, const char *manager) {
  free(f->applier);
  f->applier = manager ? xstrdup(manager) : NULL;
}

void cache_fields_free(cache_fields *f) {
  if (f == NULL) return;
  free_children(&f->root);
  free(f->applier);
  free(f);
}

/* fieldsV1 (the managedFields format) names an object key "f:<key>" and a
 * list element "k:<its key fields as JSON>", "v:<its value>" or "i:<index>";
 * an empty set (or one holding only ".", the field's own presence) is a
 * value owned whole. */
static int fv_whole(const json_t *fv) {
  return json_object_size(fv) == 0 || (json_object_size(fv) == 1 && json_object_get(fv, "."));
}

/* The fieldsV1 entry of array element e (at index i) among fv's, or NULL. */
static const json_t *fv_element(const json_t *fv, const json_t *e, size_t i) {
  const char *k;
  json_t *sub;
  json_object_foreach((json_t *)fv, k, sub) {
    if (k[0] == '\0' || k[1] != ':') continue;
    if (k[0] == 'i' && strtoul(k + 2, NULL, 10) == i) return sub;
    if (k[0] != 'k' && k[0] != 'v') continue;
    json_t *want = json_loads(k + 2, JSON_DECODE_ANY, NULL);
    int match = 0;
    if (want && k[0] == 'v') {
      match = json_equal(want, e);
    } else if (json_is_object(want) && json_is_object(e)) {
      const char *wk;
      json_t *wv;
      match = 1;
      json_object_foreach(want, wk, wv) match = match && json_equal(wv, json_object_get(e, wk));
    }
    json_decref(want);
    if (match) return sub;
  }
  return NULL;
}

/* Keeps of v what trie node n keeps or fieldsV1 set fv owns (either NULL:
 * nothing by that side). */
static void project(json_t *v, const node *n, const json_t *fv) {
  if ((n && n->whole) || (fv && fv_whole(fv))) return;
  if (json_is_array(v)) {
    const node *each = n ? find_child(n, "[]", 2) : NULL;
    size_t i;
    json_t *e;
    if (fv == NULL && each == NULL) {
      json_array_clear(v);
      return;
    }
    json_array_foreach(v, i, e) {
      const json_t *efv = fv ? fv_element(fv, e, i) : NULL;
      /* An element the applier owns nothing of is someone else's (a
       * sidecar injected on admission): kept whole, never dropped, so the
       * list keeps its length. */
      if (fv && efv == NULL) continue;
      project(e, each, efv);
    }
    return;
  }
  if (!json_is_object(v)) return;
  const char *key;
  json_t *val;
  void *tmp;
  char fkey[256];
  json_object_foreach_safe(v, tmp, key, val) {
    const node *c = n ? find_child(n, key, strlen(key)) : NULL;
    const json_t *cfv = NULL;
    if (fv) {
      int len = snprintf(fkey, sizeof(fkey), "f:%s", key);
      if (len < 0 || (size_t)len >= sizeof(fkey)) continue; /* a key too long to look up: kept */
      cfv = json_object_get(fv, fkey);
    }
    if (c == NULL && cfv == NULL) json_object_del(v, key);
    else project(val, c, cfv);
  }
}

/* The fields 'manager' set by server-side apply on obj (its "Apply"
 * managedFields entry of the main resource), a new reference or NULL. */
static json_t *applied_fields(const json_t *obj, const char *manager) {
  size_t i;
  json_t *mf;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, mf) {
    const char *m = json_string_value(json_object_get(mf, "manager"));
    const char *op = json_string_value(json_object_get(mf, "operation"));
    const char *sub = json_string_value(json_object_get(mf, "subresource"));
    if (m && strcmp(m, manager) == 0 && op && strcmp(op, "Apply") == 0 && (sub == NULL || *sub == '\0'))
      return json_incref(json_object_get(mf, "fieldsV1"));
  }
  return NULL;
}

void cache_transform(const cache_fields *f, json_t *obj) {
  json_t *applied = f && f->applier && !f->root.whole ? applied_fields(obj, f->applier) : NULL;
  json_t *meta = json_object_get(obj, "metadata");
  if (meta) {
    json_object_del(meta, "managedFields");
    json_object_del(json_object_get(meta, "annotations"), LAST_APPLIED);
  }
  if (f) project(obj, &f->root, applied);
  json_decref(applied);
}
