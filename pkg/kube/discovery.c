#include "kube/discovery.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

typedef struct known {
  char *key; /* "group/version/resource" */
  UT_hash_handle hh;
} known;

struct kube_discovery {
  kube_client *client;
  pthread_rwlock_t lock;
  known *set; /* guarded by lock */
};

kube_discovery *kube_discovery_new(kube_client *c) {
  kube_discovery *d = xcalloc(1, sizeof(*d));
  d->client = c;
  pthread_rwlock_init(&d->lock, NULL);
  return d;
}

static void free_set(known *set) {
  known *k, *tmp;
  HASH_ITER(hh, set, k, tmp) {
    HASH_DEL(set, k);
    free(k->key);
    free(k);
  }
}

void kube_discovery_free(kube_discovery *d) {
  if (d == NULL) return;
  free_set(d->set);
  pthread_rwlock_destroy(&d->lock);
  free(d);
}

static void add(known **set, const char *group, const char *version, const char *resource) {
  char *key = xasprintf("%s/%s/%s", group, version, resource);
  known *k;
  HASH_FIND_STR(*set, key, k);
  if (k) {
    free(key);
    return;
  }
  k = xcalloc(1, sizeof(*k));
  k->key = key;
  HASH_ADD_KEYPTR(hh, *set, k->key, strlen(k->key), k);
}

/* An APIGroupDiscoveryList (v2): items[].metadata.name is the group,
 * items[].versions[].version and .resources[].resource the rest. */
static void add_aggregated(known **set, json_t *list) {
  size_t i, j, k;
  json_t *g, *v, *r;
  json_array_foreach(json_object_get(list, "items"), i, g) {
    const char *group = js_str(g, "metadata.name");
    json_array_foreach(json_object_get(g, "versions"), j, v) {
      const char *version = js_str(v, "version");
      json_array_foreach(json_object_get(v, "resources"), k, r) {
        const char *res = js_str(r, "resource");
        if (version && res) add(set, group ? group : "", version, res);
      }
    }
  }
}

/* An APIResourceList from /api/v1 or /apis/<g>/<v>. */
static void add_legacy(known **set, const char *group, const char *version, json_t *list) {
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(list, "resources"), i, r) {
    const char *name = js_str(r, "name");
    if (name && strchr(name, '/') == NULL) add(set, group, version, name);
  }
}

#define AGGREGATED_ACCEPT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

/* Aggregated discovery: /api and /apis each answer with every group,
 * version and resource at once. Returns CUBIT_ENOTSUP when the server
 * answered with the legacy lists instead. */
static int refresh_aggregated(kube_discovery *d, known **set, kube_status *st) {
  static const char *paths[] = {"/api", "/apis"};
  for (size_t i = 0; i < 2; i++) {
    json_t *out = NULL;
    int rc = kube_request(d->client, "GET", paths[i], AGGREGATED_ACCEPT, NULL, NULL, 0, &out, st);
    if (rc) return rc;
    const char *kind = js_str(out, "kind");
    if (kind == NULL || strcmp(kind, "APIGroupDiscoveryList") != 0) {
      json_decref(out);
      return CUBIT_ENOTSUP;
    }
    add_aggregated(set, out);
    json_decref(out);
  }
  return 0;
}

static int refresh_legacy(kube_discovery *d, known **set, kube_status *st) {
  json_t *core = NULL, *groups = NULL;
  int rc = kube_request(d->client, "GET", "/api/v1", NULL, NULL, NULL, 0, &core, st);
  if (rc) return rc;
  add_legacy(set, "", "v1", core);
  json_decref(core);
  rc = kube_request(d->client, "GET", "/apis", NULL, NULL, NULL, 0, &groups, st);
  if (rc) return rc;
  size_t i, j;
  json_t *g, *v;
  json_array_foreach(json_object_get(groups, "groups"), i, g) {
    const char *group = js_str(g, "name");
    json_array_foreach(json_object_get(g, "versions"), j, v) {
      const char *version = js_str(v, "version");
      if (group == NULL || version == NULL) continue;
      char *path = xasprintf("/apis/%s/%s", group, version);
      json_t *list = NULL;
      int one = kube_request(d->client, "GET", path, NULL, NULL, NULL, 0, &list, st);
      free(path);
      /* A group whose aggregated API server is down (503) is skipped, as
       * kubectl does, rather than failing all of discovery. */
      if (one == 0) add_legacy(set, group, version, list);
      json_decref(list);
    }
  }
  json_decref(groups);
  return 0;
}

int kube_discovery_refresh(kube_discovery *d, kube_status *st) {
  known *set = NULL;
  int rc = refresh_aggregated(d, &set, st);
  if (rc == CUBIT_ENOTSUP) {
    free_set(set);
    set = NULL;
    rc = refresh_legacy(d, &set, st);
  }
  if (rc) {
    free_set(set);
    return rc;
  }
  pthread_rwlock_wrlock(&d->lock);
  known *old = d->set;
  d->set = set;
  size_t n = HASH_COUNT(set);
  pthread_rwlock_unlock(&d->lock);
  free_set(old);
  log_v(2, "discovery", "refreshed", "resources=%zu", n);
  return 0;
}

int kube_discovery_has(kube_discovery *d, const char *group, const char *version, const char *resource) {
  char *key = xasprintf("%s/%s/%s", group ? group : "", version, resource);
  known *k;
  pthread_rwlock_rdlock(&d->lock);
  HASH_FIND_STR(d->set, key, k);
  pthread_rwlock_unlock(&d->lock);
  free(key);
  return k != NULL;
}

int kube_discovery_has_resource(kube_discovery *d, const kube_resource *r) {
  return kube_discovery_has(d, r->group, r->version, r->resource);
}

size_t kube_discovery_count(kube_discovery *d) {
  pthread_rwlock_rdlock(&d->lock);
  size_t n = HASH_COUNT(d->set);
  pthread_rwlock_unlock(&d->lock);
  return n;
}
