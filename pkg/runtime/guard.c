#include "runtime/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

static const char *const system_namespaces[] = {"kube-system", "kube-public", "kube-node-lease"};

/* What a request path names: /api/v1/namespaces/ns/pods/name/status,
 * /apis/g/v/resource/name, /api/v1/namespaces/name ... */
typedef struct target {
  int api;           /* 0: not an API path (/version, ...) */
  const char *group; /* "" for the core group */
  const char *ns;    /* of a namespaced object, or NULL */
  const char *resource, *name, *sub; /* NULL when absent */
} target;

#define MAX_SEGS 8

/* Splits path (copied into buf, query dropped) into t. */
static void parse_path(const char *path, char *buf, size_t buflen, target *t) {
  memset(t, 0, sizeof(*t));
  snprintf(buf, buflen, "%s", path);
  buf[strcspn(buf, "?")] = '\0';
  char *segs[MAX_SEGS + 1];
  int n = 0;
  for (char *save = NULL, *p = strtok_r(buf, "/", &save); p && n <= MAX_SEGS; p = strtok_r(NULL, "/", &save))
    segs[n++] = p;
  int rest;
  if (n >= 2 && strcmp(segs[0], "api") == 0) {
    t->group = "";
    rest = 2;
  } else if (n >= 3 && strcmp(segs[0], "apis") == 0) {
    t->group = segs[1];
    rest = 3;
  } else {
    return;
  }
  t->api = 1;
  char **r = segs + rest;
  int m = n - rest;
  if (m <= 0) return;
  int ns_sub = m == 3 && t->group[0] == '\0' && (strcmp(r[2], "status") == 0 || strcmp(r[2], "finalize") == 0);
  if (strcmp(r[0], "namespaces") == 0 && m >= 3 && !ns_sub) {
    t->ns = r[1];
    t->resource = r[2];
    t->name = m > 3 ? r[3] : NULL;
    t->sub = m > 4 ? r[4] : NULL;
  } else {
    t->resource = r[0];
    t->name = m > 1 ? r[1] : NULL;
    t->sub = m > 2 ? r[2] : NULL;
  }
}

static int is_system(const char *ns) {
  for (size_t i = 0; i < sizeof(system_namespaces) / sizeof(system_namespaces[0]); i++)
    if (strcmp(ns, system_namespaces[i]) == 0) return 1;
  return 0;
}

/* What the manager keeps in its own namespace. */
static int own_namespace_kind(const target *t) {
  if (t->group[0] == '\0') return strcmp(t->resource, "secrets") == 0 || strcmp(t->resource, "events") == 0;
  if (strcmp(t->group, "coordination.k8s.io") == 0) return strcmp(t->resource, "leases") == 0;
  if (strcmp(t->group, "events.k8s.io") == 0) return strcmp(t->resource, "events") == 0;
  return 0;
}

/* metadata.name of a POSTed object (caller frees), or NULL. */
static char *body_name(const char *body, size_t len) {
  if (body == NULL || len == 0) return NULL;
  json_t *o = json_loadb(body, len, 0, NULL);
  const char *n = js_name(o);
  char *out = n ? xstrdup(n) : NULL;
  json_decref(o);
  return out;
}

#define REFUSE(...) (snprintf(why, whylen, __VA_ARGS__), CUBIT_EFORBIDDEN)

int rt_guard_decide(const rt_guard_options *o, const char *method, const char *path, const char *body,
                    size_t body_len, rt_guard_namespace_fn labels, void *labels_arg, char *why, size_t whylen) {
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) return 0;
  char buf[1024];
  target t;
  parse_path(path, buf, sizeof(buf), &t);
  if (!t.api || t.resource == NULL) return 0;
  const char *own = o->own_namespace ? o->own_namespace : "";
  int deleting = strcmp(method, "DELETE") == 0;
  if (deleting && t.name == NULL) return REFUSE("deleting every %s at once is not something the manager does", t.resource);
  if (t.ns) {
    if (is_system(t.ns)) return REFUSE("%s in system namespace %s are not the manager's to write", t.resource, t.ns);
    if (strcmp(t.ns, own) == 0 && !own_namespace_kind(&t))
      return REFUSE("%s in the manager's namespace %s are not the manager's to write (only its leases, secrets "
                    "and events)", t.resource, t.ns);
    return 0;
  }
  int rc = 0;
  char *posted = t.name ? NULL : body_name(body, body_len);
  const char *name = t.name ? t.name : posted;
  if (t.group[0] == '\0' && strcmp(t.resource, "namespaces") == 0) {
    if (name && (is_system(name) || strcmp(name, own) == 0)) {
      rc = REFUSE("namespace %s is a system namespace: the manager does not change it", name);
    } else if (deleting && t.sub == NULL) {
      json_t *l = NULL;
      rc = labels ? labels(labels_arg, name, &l) : CUBIT_EINVAL;
      if (rc == 0 && json_string_value(json_object_get(l, RT_ANNOTATION_CREATED_BY_PROJECT)) == NULL)
        rc = REFUSE("namespace %s was not created by a Project (no annotation " RT_ANNOTATION_CREATED_BY_PROJECT
                    "): the manager does not delete it",
                    name);
      else if (rc && rc != CUBIT_ENOTFOUND)
        snprintf(why, whylen, "namespace %s: cannot read its annotations before deleting it: %s", name,
                 cubit_strerror(rc));
      json_decref(l);
    }
  } else if (strcmp(t.group, "rbac.authorization.k8s.io") == 0 &&
             (strcmp(t.resource, "clusterroles") == 0 || strcmp(t.resource, "clusterrolebindings") == 0)) {
    const char *prefix = o->cluster_rbac_prefix ? o->cluster_rbac_prefix : "";
    if (name == NULL || prefix[0] == '\0' || strncmp(name, prefix, strlen(prefix)) != 0)
      rc = REFUSE("%s %s is not one of the per-project ones (%s*): the manager does not write it", t.resource,
                  name ? name : "(unnamed)", prefix);
  }
  free(posted);
  return rc;
}

/* ---- installed on a client ---- */

struct rt_guard {
  rt_guard_options o;
  char *own, *prefix;
};

static int read_annotations(void *arg, const char *name, json_t **out) {
  kube_client *c = arg;
  json_t *ns = NULL;
  kube_status st;
  *out = NULL;
  int rc = kube_get(c, &kube_namespaces, NULL, name, &ns, &st);
  if (rc) return rc;
  json_t *l = js_get(ns, "metadata.annotations");
  *out = json_is_object(l) ? json_incref(l) : json_object();
  json_decref(ns);
  return 0;
}

static int guard_fn(void *arg, kube_client *c, const char *method, const char *path, const char *body,
                    size_t body_len, kube_status *st) {
  rt_guard *g = arg;
  int rc = rt_guard_decide(&g->o, method, path, body, body_len, read_annotations, c, st->message, sizeof(st->message));
  if (rc == CUBIT_EFORBIDDEN) snprintf(st->reason, sizeof(st->reason), "Forbidden");
  else if (rc == CUBIT_ENOTFOUND) snprintf(st->reason, sizeof(st->reason), "NotFound");
  return rc;
}

rt_guard *rt_guard_install(kube_client *c, const rt_guard_options *o) {
  rt_guard *g = xcalloc(1, sizeof(*g));
  g->own = xstrdup(o->own_namespace ? o->own_namespace : "");
  g->prefix = xstrdup(o->cluster_rbac_prefix ? o->cluster_rbac_prefix : "");
  g->o.own_namespace = g->own;
  g->o.cluster_rbac_prefix = g->prefix;
  kube_client_set_write_guard(c, guard_fn, g);
  return g;
}

void rt_guard_free(rt_guard *g) {
  if (g == NULL) return;
  free(g->own);
  free(g->prefix);
  free(g);
}
