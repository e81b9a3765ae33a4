#include "runtime/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/apply.h"
#include "runtime/conditions.h"
#include "runtime/manager.h"
#include "runtime/members.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

void rt_plan_init(rt_plan *p) { memset(p, 0, sizeof(*p)); }

void rt_plan_free(rt_plan *p) {
  for (size_t i = 0; i < p->nactions; i++) {
    json_decref(p->actions[i].object);
    json_decref(p->actions[i].patch);
    free(p->actions[i].cluster);
  }
  free(p->actions);
  for (size_t i = 0; i < p->nevents; i++) free(p->events[i].message);
  free(p->events);
  json_decref(p->status);
  memset(p, 0, sizeof(*p));
}

static rt_action *push_action(rt_plan *p, rt_action_kind kind) {
  if (p->nactions == p->cap_actions) {
    p->cap_actions = p->cap_actions ? p->cap_actions * 2 : 4;
    p->actions = xrealloc(p->actions, p->cap_actions * sizeof(*p->actions));
  }
  rt_action *a = &p->actions[p->nactions++];
  memset(a, 0, sizeof(*a));
  a->kind = kind;
  return a;
}

void rt_plan_apply(rt_plan *p, const kube_resource *r, json_t *desired) {
  rt_action *a = push_action(p, RT_ACT_APPLY);
  a->resource = r;
  a->object = desired;
}

void rt_plan_delete(rt_plan *p, const kube_resource *r, const json_t *live, const char *propagation) {
  rt_action *a = push_action(p, RT_ACT_DELETE);
  a->resource = r;
  a->object = json_incref((json_t *)live);
  a->propagation = propagation;
}

/* The member a plan's action goes to: NULL for the hub. */
static char *member_of(const char *cluster) {
  return cluster && *cluster && strcmp(cluster, "local") != 0 ? xstrdup(cluster) : NULL;
}

void rt_plan_apply_in(rt_plan *p, const char *cluster, const kube_resource *r, json_t *desired) {
  rt_plan_apply(p, r, desired);
  p->actions[p->nactions - 1].cluster = member_of(cluster);
}

void rt_plan_delete_in(rt_plan *p, const char *cluster, const kube_resource *r, const json_t *live,
                       const char *propagation) {
  rt_plan_delete(p, r, live, propagation);
  p->actions[p->nactions - 1].cluster = member_of(cluster);
}

void rt_plan_patch(rt_plan *p, const kube_resource *r, const json_t *live, json_t *ops) {
  rt_action *a = push_action(p, RT_ACT_PATCH);
  a->resource = r;
  a->object = json_incref((json_t *)live);
  a->patch = ops;
}

void rt_plan_patch_in(rt_plan *p, const char *cluster, const kube_resource *r, const json_t *live, json_t *ops) {
  rt_plan_patch(p, r, live, ops);
  p->actions[p->nactions - 1].cluster = member_of(cluster);
}

void rt_plan_add_finalizer(rt_plan *p, const char *finalizer) {
  push_action(p, RT_ACT_ADD_FINALIZER)->finalizer = finalizer;
}

void rt_plan_remove_finalizer(rt_plan *p, const char *finalizer) {
  push_action(p, RT_ACT_REMOVE_FINALIZER)->finalizer = finalizer;
}

void rt_plan_patch_self(rt_plan *p, json_t *patch) {
  push_action(p, RT_ACT_PATCH_SELF)->object = patch;
}

void rt_plan_set_status(rt_plan *p, json_t *status) {
  json_decref(p->status);
  p->status = status;
}

void rt_plan_event(rt_plan *p, const char *type, const char *reason, const char *fmt, ...) {
  if (p->nevents == p->cap_events) {
    p->cap_events = p->cap_events ? p->cap_events * 2 : 4;
    p->events = xrealloc(p->events, p->cap_events * sizeof(*p->events));
  }
  rt_planned_event *e = &p->events[p->nevents++];
  snprintf(e->type, sizeof(e->type), "%s", type);
  snprintf(e->reason, sizeof(e->reason), "%s", reason);
  va_list ap;
  va_start(ap, fmt);
  e->message = xvasprintf(fmt, ap);
  va_end(ap);
}

void rt_plan_requeue_after(rt_plan *p, int64_t ms) {
  if (ms <= 0) ms = 1;
  if (p->requeue_after_ms == 0 || ms < p->requeue_after_ms) p->requeue_after_ms = ms;
}

const char *rt_error_reason(int code) {
  switch (code) {
    case CUBIT_ENOTFOUND: return "NotFound";
    case CUBIT_EALREADYEXISTS: return "AlreadyExists";
    case CUBIT_ECONFLICT: return "Conflict";
    case CUBIT_EGONE: return "Gone";
    case CUBIT_EINVALID: return "Invalid";
    case CUBIT_EFORBIDDEN: return "Forbidden";
    case CUBIT_EUNAUTHORIZED: return "Unauthorized";
    case CUBIT_ETOOMANYREQUESTS: return "TooManyRequests";
    case CUBIT_ETIMEOUT: return "Timeout";
    case CUBIT_ESERVER: return "InternalError";
    case CUBIT_EBADREQUEST: return "BadRequest";
    case CUBIT_ECONNECT: return "Unreachable";
    case CUBIT_ETLS: return "TLSError";
    case CUBIT_ESHUTDOWN: return "ShuttingDown";
    case CUBIT_ENOTSUP: return "NotServed";
    default: return "Error";
  }
}

/* One failure: logged once with the object's key, counted, and returned. */
static rt_result failed(const rt_ctx *ctx, const json_t *obj, const char *what, int rc, const kube_status *st) {
  const char *ns = js_namespace(obj);
  const char *reason = rt_error_reason(rc);
  const char *msg = st && st->message[0] ? st->message : cubit_strerror(rc);
  /* A conflict is the resourceVersion guard working (the cache had not yet
   * caught up with our own last write): routine, decided again at once. */
  if (rc == CUBIT_ECONFLICT)
    log_v(1, ctx->controller, "reconcile step conflicted; deciding again",
          "object=%s%s%s step=\"%s\" reason=%s message=\"%s\"", ns ? ns : "", ns ? "/" : "", js_name(obj), what,
          reason, msg);
  else
    log_warn(ctx->controller, "reconcile step failed", "object=%s%s%s step=\"%s\" reason=%s message=\"%s\"",
             ns ? ns : "", ns ? "/" : "", js_name(obj), what, reason, msg);
  if (ctx->mgr) {
    metric *m = metrics_counter(rt_manager_metrics(ctx->mgr), "cubit_reconcile_errors_total",
                                "Reconcile steps that failed, per controller and reason", "controller,reason");
    metric_add(m, 1, ctx->controller, reason);
  }
  return rt_result_for_error(rc, st);
}

static void describe(const rt_action *a, char *buf, size_t len) {
  const char *in = a->cluster ? " in cluster " : "", *cluster = a->cluster ? a->cluster : "";
  switch (a->kind) {
    case RT_ACT_APPLY: snprintf(buf, len, "apply %s %s%s%s", a->resource->kind, js_name(a->object), in, cluster); break;
    case RT_ACT_DELETE:
      snprintf(buf, len, "delete %s %s%s%s", a->resource->kind, js_name(a->object), in, cluster);
      break;
    case RT_ACT_ADD_FINALIZER: snprintf(buf, len, "add finalizer %s", a->finalizer); break;
    case RT_ACT_REMOVE_FINALIZER: snprintf(buf, len, "remove finalizer %s", a->finalizer); break;
    case RT_ACT_PATCH: snprintf(buf, len, "patch %s %s", a->resource->kind, js_name(a->object)); break;
    case RT_ACT_PATCH_SELF: snprintf(buf, len, "patch %s", js_name(a->object) ? js_name(a->object) : "the object"); break;
  }
}

/* A merge patch carrying the resourceVersion 'obj' was read at: the server
 * refuses it with a conflict if anyone wrote the object since. *out gets
 * the object as patched. */
static int patch_primary(const rt_ctx *ctx, const kube_resource *primary, const json_t *obj, const json_t *patch,
                         json_t **out, kube_status *st) {
  json_t *body = json_deep_copy(patch);
  js_set_str(body, "metadata.resourceVersion", js_resource_version(obj));
  kube_patch_options o = {KUBE_PATCH_MERGE, RT_FIELD_MANAGER, 0, NULL};
  int rc = kube_patch(ctx->client, primary, js_namespace(obj), js_name(obj), body, &o, out, st);
  json_decref(body);
  return rc;
}

/* A JSON patch of a live object through client c. */
static int json_patch(kube_client *c, const rt_action *a, kube_status *st) {
  kube_patch_options o = {.type = KUBE_PATCH_JSON};
  int rc = kube_patch(c, a->resource, js_namespace(a->object), js_name(a->object), a->patch, &o, NULL, st);
  /* A failed "test" op comes back as 422 Invalid: the object is not what
   * the plan saw, so decide again. */
  const char *op0 = json_string_value(json_object_get(json_array_get(a->patch, 0), "op"));
  if (rc == CUBIT_EINVALID && op0 && strcmp(op0, "test") == 0) return CUBIT_ECONFLICT;
  return rc == CUBIT_ENOTFOUND ? 0 : rc;
}

/* An apply, a delete or a JSON patch in a member cluster, through its client. */
static int act_in_member(const rt_ctx *ctx, const rt_action *a, kube_status *st) {
  kube_client *c;
  rt_member *mb = rt_member_acquire(ctx, a->cluster, &c);
  if (mb == NULL) {
    snprintf(st->message, sizeof(st->message), "cluster %s is not connected", a->cluster);
    return CUBIT_ECONNECT;
  }
  int rc;
  if (a->kind == RT_ACT_APPLY) {
    /* The member's cached object, when it caches the kind: unchanged is skipped. */
    json_t *live = rt_member_get(ctx, a->cluster, a->resource, js_namespace(a->object), js_name(a->object));
    rc = rt_apply(c, a->resource, a->object, live, NULL, NULL, st);
    json_decref(live);
  } else if (a->kind == RT_ACT_PATCH) {
    rc = json_patch(c, a, st);
  } else {
    kube_delete_options o = {.propagation_policy = a->propagation, .precondition_uid = js_uid(a->object)};
    rc = kube_delete(c, a->resource, js_namespace(a->object), js_name(a->object), &o, st);
    if (rc == CUBIT_ENOTFOUND) rc = 0;
  }
  rt_member_put(mb);
  return rc;
}

/* 'obj' is the primary as last known: as read, or as this plan patched it
 * (*current, replaced after a patch). */
static int act(const rt_ctx *ctx, const kube_resource *primary, const json_t *obj, const rt_action *a,
               json_t **current, kube_status *st) {
  if (a->cluster && (a->kind == RT_ACT_APPLY || a->kind == RT_ACT_DELETE || a->kind == RT_ACT_PATCH))
    return act_in_member(ctx, a, st);
  switch (a->kind) {
    case RT_ACT_APPLY: {
      cache_store *store = rt_store(ctx, a->resource);
      return rt_apply_cached(ctx->client, store, a->resource, a->object, NULL, NULL, st);
    }
    case RT_ACT_DELETE: {
      kube_delete_options o = {.propagation_policy = a->propagation, .precondition_uid = js_uid(a->object)};
      int rc = kube_delete(ctx->client, a->resource, js_namespace(a->object), js_name(a->object), &o, st);
      return rc == CUBIT_ENOTFOUND ? 0 : rc;
    }
    case RT_ACT_ADD_FINALIZER: return rt_add_finalizer(ctx->client, primary, obj, a->finalizer, st);
    case RT_ACT_REMOVE_FINALIZER: {
      int rc = rt_remove_finalizer(ctx->client, primary, obj, a->finalizer, st);
      return rc == CUBIT_ENOTFOUND ? 0 : rc;
    }
    case RT_ACT_PATCH: return json_patch(ctx->client, a, st);
    case RT_ACT_PATCH_SELF: {
      json_t *patched = NULL;
      int rc = patch_primary(ctx, primary, obj, a->object, &patched, st);
      if (rc == 0 && json_is_object(patched)) {
        json_decref(*current);
        *current = patched;
      } else {
        json_decref(patched);
      }
      /* Gone while we decided: the same as a stale read. */
      return rc == CUBIT_ENOTFOUND ? CUBIT_ECONFLICT : rc;
    }
  }
  return CUBIT_EINVAL;
}

static int write_status(const rt_ctx *ctx, const kube_resource *primary, const json_t *obj, json_t *status,
                        kube_status *st) {
  int rc = rt_apply_status(ctx->client, primary, obj, status, NULL, st);
  /* The object went away while we decided: nothing left to report on. */
  return rc == CUBIT_ENOTFOUND ? 0 : rc;
}

/* A status write that failed. One an admission webhook refused (the quota
 * webhook refuses a placement over a cluster's quota) shows on the object
 * as a Warning, since none of that status could say so; the reconcile is
 * retried with backoff, decided again from a fresher cache. */
static rt_result status_failed(const rt_ctx *ctx, const json_t *obj, int rc, const kube_status *st) {
  if (rc == CUBIT_EFORBIDDEN)
    rt_event(ctx->events, obj, "Warning", "StatusRefused", "write status: %s",
             st->message[0] ? st->message : cubit_strerror(rc));
  return failed(ctx, obj, "write status", rc, st);
}

/* A step that failed is the status's news: the user reads the server's
 * message on the object instead of in the manager's log. */
static void status_says_failure(json_t *status, const json_t *obj, const char *what, int rc, const kube_status *st) {
  json_int_t gen = js_int(obj, "metadata.generation", 0);
  char msg[1500];
  snprintf(msg, sizeof(msg), "%s: %s", what, st && st->message[0] ? st->message : cubit_strerror(rc));
  const char *r = strncmp(what, "delete", 6) == 0 ? "DeleteFailed" : "ApplyFailed";
  int64_t now = time_wall_s();
  rt_condition_set(status, "Ready", "False", r, msg, gen, now);
  rt_condition_set(status, "Reconciling", "True", r, msg, gen, now);
}

/* A child refused because its namespace is being deleted: the primary goes
 * with it, so this is no failure to report (no Warning, which the namespace
 * would refuse too, no status saying ApplyFailed, no error counted) and no
 * reason to retry at a failure's pace, which across a namespace of many
 * objects loads the API server while it deletes them. Looked at again in
 * RT_NAMESPACE_TERMINATING_MS, in case the deletion is held up (a finalizer)
 * and the namespace stays. */
static rt_result waiting_for_namespace(const rt_ctx *ctx, const json_t *obj, const char *what) {
  log_v(1, ctx->controller, "namespace being deleted; not creating", "object=%s/%s step=\"%s\"", js_namespace(obj),
        js_name(obj), what);
  return rt_requeue_after(RT_NAMESPACE_TERMINATING_MS);
}

rt_result rt_execute(const rt_ctx *ctx, const kube_resource *primary, const json_t *obj, rt_plan *plan) {
  kube_status st;
  memset(&st, 0, sizeof(st));
  rt_result result = rt_ok();
  int status_written = 0;
  json_t *current = NULL; /* the primary as this plan's own patch left it */
  if (plan->status && plan->status_first) {
    int rc = write_status(ctx, primary, obj, plan->status, &st);
    if (rc) return status_failed(ctx, obj, rc, &st);
    status_written = 1;
  }
  for (size_t i = 0; i < plan->nactions; i++) {
    const rt_action *a = &plan->actions[i];
    int rc = act(ctx, primary, current ? current : obj, a, &current, &st);
    if (rc == 0) continue;
    char what[400];
    describe(a, what, sizeof(what));
    if (kube_namespace_terminating(rc, &st)) {
      json_decref(current);
      return waiting_for_namespace(ctx, obj, what);
    }
    result = failed(ctx, obj, what, rc, &st);
    if (rc != CUBIT_ECONFLICT) { /* a conflict: decided from a stale object, decide again */
      rt_event(ctx->events, obj, "Warning", a->kind == RT_ACT_DELETE ? "DeleteFailed" : "ApplyFailed", "%s: %s",
               what, st.message[0] ? st.message : cubit_strerror(rc));
      if (plan->status && !status_written) {
        status_says_failure(plan->status, obj, what, rc, &st);
        kube_status st2;
        (void)write_status(ctx, primary, current ? current : obj, plan->status, &st2);
      }
    }
    json_decref(current);
    return result;
  }
  if (plan->status && !status_written) {
    int rc = write_status(ctx, primary, current ? current : obj, plan->status, &st);
    if (rc) result = status_failed(ctx, obj, rc, &st);
  }
  json_decref(current);
  if (result.kind != RT_OK) return result;
  for (size_t i = 0; i < plan->nevents; i++)
    rt_event(ctx->events, obj, plan->events[i].type, plan->events[i].reason, "%s", plan->events[i].message);
  if (plan->requeue_after_ms > 0) result = rt_requeue_after(plan->requeue_after_ms);
  return result;
}
