/* Controllers: level-triggered reconcile loops, as controller-runtime.
 *
 * A controller names its primary resource, the resources it owns (a change
 * to a child enqueues the owner named by the child's controller
 * ownerReference), extra watches with mapping functions, a worker count and
 * a reconcile function. The reconcile function gets "namespace/name", reads
 * the cache, writes through the client and says what should happen next.
 * It must be idempotent and never count on seeing every event. */
#ifndef CUBIT_RUNTIME_CONTROLLER_H
#define CUBIT_RUNTIME_CONTROLLER_H

#include <jansson.h>
#include <stdint.h>

#include "cache/store.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "runtime/events.h"

typedef enum {
  RT_OK,            /* done until something changes */
  RT_REQUEUE_AFTER, /* done for now, look again after 'after_ms' */
  RT_RETRY,         /* failed: retry with per-item backoff (or after after_ms) */
  RT_TERMINAL       /* failed in a way retrying cannot fix: logged, not retried */
} rt_result_kind;

typedef struct rt_result {
  rt_result_kind kind;
  int64_t after_ms;
  const char *reason; /* RT_TERMINAL: why (a static string), for the log */
} rt_result;

static inline rt_result rt_ok(void) { return (rt_result){RT_OK, 0, NULL}; }
static inline rt_result rt_requeue_after(int64_t ms) { return (rt_result){RT_REQUEUE_AFTER, ms, NULL}; }
static inline rt_result rt_retry(void) { return (rt_result){RT_RETRY, 0, NULL}; }
static inline rt_result rt_terminal(const char *reason) { return (rt_result){RT_TERMINAL, 0, reason}; }
/* The result for a failed API call: retry, after Retry-After when the
 * server asked for it. */
rt_result rt_result_for_error(int code, const kube_status *st);

typedef struct rt_manager rt_manager;

/* What a reconcile function is given. Read-only; shared by the workers. */
typedef struct rt_ctx {
  rt_manager *mgr;
  kube_client *client;
  rt_recorder *events;
  kube_discovery *discovery;
  const char *controller; /* its name, for logs */
  void *arg;              /* the controller's own state */
} rt_ctx;

typedef struct rt_request {
  const char *ns;   /* NULL for cluster-scoped objects */
  const char *name;
  const char *key;  /* "ns/name" or "name" */
} rt_request;

typedef rt_result (*rt_reconcile_fn)(const rt_ctx *ctx, const rt_request *req);
/* Maps a changed object of a watched kind to the keys to reconcile: a
 * NULL-terminated array of malloc'ed "ns/name" strings (or NULL). */
typedef char **(*rt_map_fn)(const rt_ctx *ctx, const json_t *obj);

/* Maps an Event to the object it is about, in the Event's namespace, for a
 * controller whose primary names its child alike (a TrainingJob's Job, a
 * Notebook's StatefulSet): the key of a primary that does not exist is
 * reconciled as a no-op. */
char **rt_map_involved_object(const rt_ctx *ctx, const json_t *event);

/* 1 when an update of a controller's primary object is a change someone
 * waits on — metadata.generation (the spec), deletionTimestamp, labels,
 * annotations or finalizers differ — and not the echo of a status write:
 * its key is queued ahead of the others (wq_add_urgent), as is a new
 * primary once the first list is in, and a deleted one. */
int rt_primary_change_urgent(const json_t *old_obj, const json_t *new_obj);

#define RT_MAX_WATCHES 16

typedef struct rt_watch_def {
  const kube_resource *resource;
  rt_map_fn map;
} rt_watch_def;

typedef struct rt_controller_def {
  const char *name;
  const kube_resource *primary;
  const kube_resource *owns[RT_MAX_WATCHES];     /* NULL-terminated */
  rt_watch_def watches[RT_MAX_WATCHES];          /* resource NULL ends */
  /* Resources read from the cache without reacting to their changes (a
   * project's namespace, a template). Every resource a controller reads is
   * its primary, owned, watched or read one: informers are made at start,
   * never from a worker. NULL-terminated. */
  const kube_resource *reads[RT_MAX_WATCHES];
  /* Resources cached in every connected member cluster (runtime/members.h)
   * besides the hub: a change there is mapped to keys of this controller,
   * as a local watch's is (children a controller makes in members carry
   * labels back to their hub object, never an ownerReference). */
  rt_watch_def member_watches[RT_MAX_WATCHES];   /* resource NULL ends */
  /* The label this controller's children in members carry naming their hub
   * object (same namespace), or NULL: when set, every member caches its
   * Warning Events and one about a cached child (a pod, or a kind of
   * member_watches) enqueues that object (runtime/member_events.h). */
  const char *member_events_label;
  int workers;                                   /* default 2 */
  rt_reconcile_fn reconcile;
  void *arg;                       /* the controller's own state (ctx->arg) */
  void (*free_arg)(void *arg);     /* releases arg when the manager is freed */
} rt_controller_def;

/* Registers a controller before rt_manager_run. The definition is copied;
 * the resources it points to must be static. */
int rt_manager_add_controller(rt_manager *m, const rt_controller_def *def) CUBIT_WUR;

/* The shared informer's store for r (every controller and webhook that
 * reads r shares one). NULL when r is not served by the cluster, or when r
 * was never declared (logged as a bug: r must be one of the controller's
 * primary, owned, watched or read resources, or have been registered with
 * rt_manager_informer before the manager ran). Never creates an informer. */
cache_store *rt_store(const rt_ctx *ctx, const kube_resource *r);
/* Is r served by the API server right now? */
int rt_api_available(const rt_ctx *ctx, const kube_resource *r);
/* Enqueues key on the controller named 'controller' (e.g. from a timer or
 * another controller). */
void rt_enqueue(rt_manager *m, const char *controller, const char *key, int64_t after_ms);

#endif
