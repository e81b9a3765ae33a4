/* Shared by controller.c and manager.c only. */
#ifndef CUBIT_RUNTIME_INTERNAL_H
#define CUBIT_RUNTIME_INTERNAL_H

#include <pthread.h>

#include "runtime/manager.h"
#include "workqueue/workqueue.h"

typedef struct rt_controller {
  rt_controller_def def;
  rt_ctx ctx;
  workqueue *queue;
  cache_informer *primary; /* the primary's informer: an add is urgent once it has synced */
  pthread_t *threads;
  int nthreads;
  metric *reconcile_total, *reconcile_errors, *reconcile_time, *active_workers;
  void *mapped; /* per-watch contexts of mapped watches */
  struct rt_controller *next;
} rt_controller;

/* Creates the controller's queue and subscribes it to its informers. */
int rt__controller_init(rt_manager *m, rt_controller *c);
/* Starts the worker threads (when leading). */
void rt__controller_start(rt_controller *c);
/* Drains the queue and joins the workers. */
void rt__controller_stop(rt_controller *c);
void rt__controller_free(rt_controller *c);
/* Enqueues every cached primary object (after an API appeared). */
void rt__controller_resync(rt_manager *m, rt_controller *c);
rt_controller *rt__manager_find_controller(rt_manager *m, const char *name);
/* The informer registered for r, or NULL (never creates one). */
cache_informer *rt__manager_informer_find(rt_manager *m, const kube_resource *r);
rt_controller *rt__manager_controllers(rt_manager *m);
void rt__manager_add(rt_manager *m, rt_controller *c);

/* Member clusters (members.c): made when the manager runs, closed on the
 * loop thread at shutdown after the workers have stopped (the handle's
 * close frees it), NULL when the manager does not run. */
typedef struct rt_members rt_members;
rt_members *rt__members_new(rt_manager *m, uv_loop_t *loop);
void rt__members_close(rt_members *ms);
rt_members *rt__manager_members(rt_manager *m);
/* The manager's client-side limits (--kube-api-qps/--kube-api-burst) into
 * 'o': a member's client is held to the same as the hub's. */
void rt__manager_client_limits(rt_manager *m, kube_client_options *o);

#endif
