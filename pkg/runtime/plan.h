/* Plans and the executor: a controller decides, the runtime acts.
 *
 * Every controller's reconcile has the same two halves. A pure `plan`
 * function reads the object, its parsed spec, the observed children and
 * related objects (handed in from the cache), probe results and `now`, and
 * fills an rt_plan: the children that should exist (applied with server-side
 * apply), the ones that should go, the whole status to write, the events to
 * emit and when to look again. It does no I/O, so it is tested with tables.
 * rt_execute then does all of it, in one place, for every kind:
 *
 *   - actions in order (apply, delete, finalizer add/remove); the first
 *     failure stops the rest, is logged with its reason and the object's key,
 *     counted in cubit_reconcile_errors_total{controller,reason}, reported as
 *     a Warning event, and written into the status (Ready=False,
 *     Reconciling=True, reason ApplyFailed/DeleteFailed with the server's
 *     message) so a user sees why nothing happens;
 *   - the status, through one path, guarded by the resourceVersion the plan
 *     read (a conflict requeues);
 *   - the events;
 *   - the result: a retry with backoff after a failure, otherwise the
 *     plan's requeue. */
#ifndef CUBIT_RUNTIME_PLAN_H
#define CUBIT_RUNTIME_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "kube/client.h"
#include "runtime/controller.h"

typedef enum {
  RT_ACT_APPLY,            /* server-side apply `object` (skipped when unchanged) */
  RT_ACT_DELETE,           /* delete `object` (the live one: its uid is the precondition) */
  RT_ACT_ADD_FINALIZER,    /* add `finalizer` to the primary object */
  RT_ACT_REMOVE_FINALIZER, /* remove `finalizer` from the primary object */
  RT_ACT_PATCH,            /* JSON-patch (RFC 6902) `patch` onto `object`, a live object
                            * the controller does not own (a label on a namespace) */
  RT_ACT_PATCH_SELF        /* merge-patch the primary object with `object` */
} rt_action_kind;

typedef struct rt_action {
  rt_action_kind kind;
  const kube_resource *resource; /* APPLY/DELETE: the child's resource (static) */
  json_t *object;                /* owned reference */
  const char *propagation;       /* DELETE: "Background", "Foreground" or NULL */
  const char *finalizer;         /* *_FINALIZER: static string */
  json_t *patch;                 /* PATCH: the operations (owned reference) */
  char *cluster;                 /* APPLY/DELETE/PATCH: in this member cluster (owned copy);
                                  * NULL: the hub (runtime/members.h) */
} rt_action;

typedef struct rt_plan_event {
  char type[8];    /* Normal, Warning */
  char reason[64]; /* CamelCase */
  char *message;
} rt_planned_event;

typedef struct rt_plan {
  rt_action *actions;
  size_t nactions, cap_actions;
  json_t *status;        /* the whole status to write, or NULL to leave it */
  int status_first;      /* write the status before the actions (a count that
                          * must be recorded before a deletion) */
  rt_planned_event *events;
  size_t nevents, cap_events;
  int64_t requeue_after_ms; /* > 0: look again after this long */
  int done;              /* nothing more will ever happen (terminal and clean) */
} rt_plan;

void rt_plan_init(rt_plan *p);
void rt_plan_free(rt_plan *p);

/* Adds an apply of 'desired' (stolen): apiVersion, kind, metadata.name and
 * namespace set, ownerReference already set by the plan. */
void rt_plan_apply(rt_plan *p, const kube_resource *r, json_t *desired);
/* The same in member cluster 'cluster' (copied; NULL or "local" is the
 * hub), written through the member's client. A member's objects carry no
 * ownerReference to the hub (none can cross clusters): the plan deletes
 * them itself. */
void rt_plan_apply_in(rt_plan *p, const char *cluster, const kube_resource *r, json_t *desired);
void rt_plan_delete_in(rt_plan *p, const char *cluster, const kube_resource *r, const json_t *live,
                       const char *propagation);
/* Adds a deletion of 'live' (borrowed: a reference is taken). */
void rt_plan_delete(rt_plan *p, const kube_resource *r, const json_t *live, const char *propagation);
/* Adds a JSON patch (ops stolen) of 'live' (borrowed: a reference is
 * taken); an object gone meanwhile counts as done. Start ops with a "test"
 * to change only what the plan saw. */
void rt_plan_patch(rt_plan *p, const kube_resource *r, const json_t *live, json_t *ops);
/* The same of a live object of member cluster 'cluster' (NULL or "local":
 * the hub). */
void rt_plan_patch_in(rt_plan *p, const char *cluster, const kube_resource *r, const json_t *live, json_t *ops);
void rt_plan_add_finalizer(rt_plan *p, const char *finalizer);
void rt_plan_remove_finalizer(rt_plan *p, const char *finalizer);
/* Adds a JSON merge patch (stolen) of the primary object itself: what a
 * controller writes on its own object besides the status (the Notebook's
 * spec.stopped when Cubit stops it, an annotation it consumes). It is sent
 * only if the object is still the one the plan read (its resourceVersion):
 * a decision taken on a stale object is refused as a conflict and taken
 * again. The status and finalizers written after it follow the patched
 * object. */
void rt_plan_patch_self(rt_plan *p, json_t *patch);
/* Sets the status to write (stolen), replacing one set before. */
void rt_plan_set_status(rt_plan *p, json_t *status);
void rt_plan_event(rt_plan *p, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Asks to look again after ms (the earliest of several requests wins). */
void rt_plan_requeue_after(rt_plan *p, int64_t ms);

/* Carries the plan out for 'obj' (the primary object as the plan read it)
 * and returns what the worker should do next. The plan is left intact
 * (free it with rt_plan_free). An action the API server refuses because
 * the namespace is being deleted (cause NamespaceTerminating) ends the plan
 * quietly and looks again after RT_NAMESPACE_TERMINATING_MS: the primary
 * goes with its namespace. */
#define RT_NAMESPACE_TERMINATING_MS 30000
rt_result rt_execute(const rt_ctx *ctx, const kube_resource *primary, const json_t *obj, rt_plan *plan);

/* Short, stable names of failures for logs and the reason label. */
const char *rt_error_reason(int code);

#endif
