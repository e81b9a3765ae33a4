#include "runtime/events.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

/* Series remembered at most; beyond it the oldest half is forgotten, which
 * only means a repeat creates a new Event instead of counting. */
#define MAX_SERIES 4096

typedef struct series {
  char *key;
  char *name;
  unsigned count;
  int64_t last_ns;
  UT_hash_handle hh;
} series;

struct rt_recorder {
  kube_client *client;
  char *component;
  pthread_mutex_t mu;
  series *all;
};

rt_recorder *rt_recorder_new(kube_client *c, const char *component) {
  rt_recorder *r = xcalloc(1, sizeof(*r));
  r->client = c;
  r->component = xstrdup(component);
  pthread_mutex_init(&r->mu, NULL);
  return r;
}

static void series_free(series *s) {
  free(s->key);
  free(s->name);
  free(s);
}

void rt_recorder_free(rt_recorder *r) {
  if (r == NULL) return;
  series *s, *tmp;
  HASH_ITER(hh, r->all, s, tmp) {
    HASH_DEL(r->all, s);
    series_free(s);
  }
  pthread_mutex_destroy(&r->mu);
  free(r->component);
  free(r);
}

/* Drops the older half of the series (called with mu held). */
static void evict(rt_recorder *r) {
  int64_t newest = 0, oldest = INT64_MAX;
  series *s, *tmp;
  HASH_ITER(hh, r->all, s, tmp) {
    if (s->last_ns > newest) newest = s->last_ns;
    if (s->last_ns < oldest) oldest = s->last_ns;
  }
  int64_t cut = oldest + (newest - oldest) / 2;
  HASH_ITER(hh, r->all, s, tmp) {
    if (s->last_ns <= cut) {
      HASH_DEL(r->all, s);
      series_free(s);
    }
  }
}

unsigned rt__event_observe(rt_recorder *r, const char *key, const char *obj_name, int64_t now_ns,
                           const char **name_out) {
  series *s;
  HASH_FIND_STR(r->all, key, s);
  if (s == NULL) {
    if (HASH_COUNT(r->all) >= MAX_SERIES) evict(r);
    s = xcalloc(1, sizeof(*s));
    s->key = xstrdup(key);
    /* client-go names events <object>.<unix nanos in hex>. */
    s->name = xasprintf("%s.%llx", obj_name, (unsigned long long)now_ns);
    HASH_ADD_KEYPTR(hh, r->all, s->key, strlen(s->key), s);
  }
  s->count++;
  s->last_ns = now_ns;
  *name_out = s->name;
  return s->count;
}

void rt__event_forget(rt_recorder *r, const char *key) {
  series *s;
  HASH_FIND_STR(r->all, key, s);
  if (s) {
    HASH_DEL(r->all, s);
    series_free(s);
  }
}

static json_t *new_event(rt_recorder *r, const json_t *obj, const char *name, const char *ns, const char *type,
                         const char *reason, const char *msg, const char *when) {
  json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}, s:s, s:s, s:s, "
                         "s:{s:s}, s:s, s:s, s:i, s:s, s:s}",
                         "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace", ns,
                         "involvedObject", "apiVersion", js_str(obj, "apiVersion"), "kind", js_str(obj, "kind"),
                         "name", js_name(obj), "namespace", js_namespace(obj), "uid", js_uid(obj),
                         "resourceVersion", js_resource_version(obj), "type", type, "reason", reason, "message",
                         msg, "source", "component", r->component, "firstTimestamp", when, "lastTimestamp", when,
                         "count", 1, "reportingComponent", r->component, "reportingInstance", r->component);
  return ev;
}

void rt_event(rt_recorder *r, const json_t *obj, const char *type, const char *reason, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char *uid = js_uid(obj), *oname = js_name(obj);
  /* Events of cluster-scoped objects live in "default", as kubectl expects. */
  const char *ns = js_namespace(obj) ? js_namespace(obj) : "default";
  if (uid == NULL || oname == NULL) return;
  char *key = xasprintf("%s\x1f%s\x1f%s\x1f%s", uid, type, reason, msg);
  char when[32];
  time_format_rfc3339(time_wall_s(), when);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);

  pthread_mutex_lock(&r->mu);
  const char *shared_name;
  unsigned count = rt__event_observe(r, key, oname, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, &shared_name);
  char *name = xstrdup(shared_name);
  pthread_mutex_unlock(&r->mu);

  kube_status st = {0};
  int rc = 0;
  if (count > 1) {
    json_t *patch = json_pack("{s:i, s:s}", "count", count, "lastTimestamp", when);
    rc = kube_patch(r->client, &kube_events, ns, name, patch, NULL, NULL, &st);
    json_decref(patch);
    if (rc == CUBIT_ENOTFOUND) {
      /* The Event expired on the server: start a new series. */
      pthread_mutex_lock(&r->mu);
      rt__event_forget(r, key);
      rt__event_observe(r, key, oname, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + 1, &shared_name);
      free(name);
      name = xstrdup(shared_name);
      pthread_mutex_unlock(&r->mu);
      count = 1;
    }
  }
  if (count == 1) {
    json_t *ev = new_event(r, obj, name, ns, type, reason, msg, when);
    rc = kube_create(r->client, &kube_events, ns, ev, NULL, &st);
    json_decref(ev);
  }
  /* A namespace being deleted takes no new events: nothing is wrong. */
  if (kube_namespace_terminating(rc, &st))
    log_v(1, "events", "namespace being deleted; event not recorded", "object=%s/%s reason=%s", ns, oname, reason);
  else if (rc)
    log_warn("events", "cannot record event", "object=%s reason=%s error=%s message=\"%s\"", oname, reason,
             cubit_strerror(rc), st.message);
  else log_v(3, "events", "recorded", "object=%s/%s type=%s reason=%s count=%u", ns, oname, type, reason, count);
  free(name);
  free(key);
}
