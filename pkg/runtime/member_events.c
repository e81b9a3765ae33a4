/* Member Warning Events relayed onto hub objects (runtime/member_events.h). */
#include "runtime/member_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "runtime/members.h"
#include "runtime/status.h"
#include "util/alloc.h"
#include "util/json.h"

void rt_member_child_events(const rt_ctx *ctx, const char *cluster, const char *ns, const json_t *const *children,
                            size_t n, cache_list *out) {
  cache_list all;
  memset(out, 0, sizeof(*out));
  if (rt_member_list(ctx, cluster, &kube_events, ns, &all)) return; /* not connected (or no Events cached) */
  out->items = xcalloc(all.len + 1, sizeof(json_t *));
  for (size_t i = 0; i < all.len; i++) {
    const char *about = js_str(all.items[i], "involvedObject.uid");
    int ours = 0;
    for (size_t c = 0; about && c < n && !ours; c++) {
      const char *uid = children[c] ? js_uid(children[c]) : NULL;
      ours = uid && strcmp(uid, about) == 0;
    }
    if (ours) out->items[out->len++] = json_incref(all.items[i]);
  }
  cache_list_free(&all);
}

static const char *or_else(const char *s, const char *otherwise) {
  return s ? s : otherwise;
}

static int same(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "") == 0;
}

typedef struct seen_event {
  const json_t *ev;
  int64_t at;
} seen_event;

/* Newest first; among equals by name, so the choice does not depend on the
 * cache's order. */
static int newest_first(const void *a, const void *b) {
  const seen_event *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? 1 : -1;
  return strcmp(or_else(js_name(x->ev), ""), or_else(js_name(y->ev), ""));
}

static int holds(const json_t *list, const char *reason, const char *message) {
  size_t i;
  json_t *w;
  json_array_foreach(list, i, w) {
    if (same(js_str(w, "reason"), reason) && same(js_str(w, "message"), message)) return 1;
  }
  return 0;
}

void rt_plan_relay_member_events(rt_plan *p, json_t *status, const char *cluster, json_t *const *events, size_t n) {
  seen_event *all = xcalloc(n + 1, sizeof(*all));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!same(js_str(events[i], "type"), "Warning") || js_str(events[i], "reason") == NULL) continue;
    all[k++] = (seen_event){events[i], rt_event_last_seen(events[i])};
  }
  qsort(all, k, sizeof(*all), newest_first);
  const json_t *prev = json_object_get(status, RT_MEMBER_WARNINGS_FIELD);
  json_t *now = json_array();
  const json_t *relay[RT_MEMBER_WARNINGS_MAX];
  size_t nrelay = 0;
  for (size_t i = 0; i < k && json_array_size(now) < RT_MEMBER_WARNINGS_MAX; i++) {
    const char *reason = js_str(all[i].ev, "reason"), *message = js_str(all[i].ev, "message");
    if (holds(now, reason, message)) continue; /* an older one of the same pair */
    char object[320];
    snprintf(object, sizeof(object), "%s/%s", or_else(js_str(all[i].ev, "involvedObject.kind"), ""),
             or_else(js_str(all[i].ev, "involvedObject.name"), ""));
    json_array_append_new(now, json_pack("{s:s, s:s, s:s}", "object", object, "reason", reason, "message",
                                         message ? message : ""));
    if (!holds(prev, reason, message)) relay[nrelay++] = all[i].ev;
  }
  for (size_t i = nrelay; i-- > 0;) {
    const json_t *ev = relay[i];
    const char *message = js_str(ev, "message");
    rt_plan_event(p, "Warning", js_str(ev, "reason"), "cluster %s: %s %s: %s", cluster,
                  or_else(js_str(ev, "involvedObject.kind"), "object"), or_else(js_str(ev, "involvedObject.name"), ""),
                  message && *message ? message : js_str(ev, "reason"));
  }
  if (json_array_size(now)) json_object_set_new(status, RT_MEMBER_WARNINGS_FIELD, now);
  else {
    json_decref(now);
    json_object_del(status, RT_MEMBER_WARNINGS_FIELD);
  }
  free(all);
}

char *rt__member_event_key(const json_t *event, const json_t *involved, const char *label) {
  const char *owner = json_string_value(json_object_get(js_get(involved, "metadata.labels"), label));
  const char *ns = js_str(event, "involvedObject.namespace");
  if (ns == NULL || *ns == '\0') ns = js_namespace(event);
  if (owner == NULL || *owner == '\0' || ns == NULL || *ns == '\0') return NULL;
  /* The cached object must be the one the Event is about, not a namesake
   * made since. */
  const char *uid = js_str(event, "involvedObject.uid");
  if (uid && *uid && !same(uid, js_uid(involved))) return NULL;
  return cache_key_of(ns, owner);
}
