/* The work queue between event handlers and reconcile workers, with
 * client-go / controller-runtime semantics:
 *
 *   - Keys are strings ("namespace/name"), handed out in the order added;
 *     keys added with wq_add_urgent go before all others (see there).
 *   - A key waiting in the queue is never queued twice: adding it again is a
 *     no-op until a worker takes it.
 *   - A key being processed is never handed to a second worker. Adding it
 *     while it is processed marks it dirty; it is queued again when the
 *     worker calls wq_done, so the latest change is always reconciled.
 *   - wq_add_after keeps (ready time, key) in a min-heap served by a timer
 *     thread; for a key already waiting the earlier time wins.
 *   - wq_add_rate_limited delays a key by the rate limiter (ratelimit.h);
 *     wq_forget resets its backoff once it succeeds.
 *
 * Shutdown differs from client-go in one point: once the queue is shut down
 * wq_get returns NULL at once, even when keys are still queued (client-go
 * keeps handing them out). A C reconciler has no cancelled context to cut a
 * backlog short, and every key is level-triggered, so whoever runs next
 * sees the same state again. Keys queued or delayed at shutdown are dropped.
 *
 * Metrics (when a registry is given) use controller-runtime's names with the
 * labels name and controller, both set to the queue's name:
 * workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds,
 * workqueue_work_duration_seconds, workqueue_retries_total,
 * workqueue_unfinished_work_seconds, workqueue_longest_running_processor_seconds.
 * As in client-go, depth counts every dirty key, including keys re-added while
 * processed (which wq_len leaves out). The last two gauges are refreshed on
 * every wq_get and wq_done.
 *
 * Every function but wq_free is thread-safe. */
#ifndef CUBIT_WORKQUEUE_WORKQUEUE_H
#define CUBIT_WORKQUEUE_WORKQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/metrics.h"
#include "workqueue/ratelimit.h"

typedef struct workqueue workqueue;

/* Zero fields mean defaults: the rate limiter's defaults (ratelimit.h), no
 * metrics. qps < 0 turns the overall bucket off. */
typedef struct wq_options {
  const char *name;          /* metrics label; copied. NULL = "" */
  metrics_registry *metrics; /* borrowed; must outlive the queue. NULL = none */
  int64_t base_delay_ms;
  int64_t max_delay_ms;
  double qps;
  int burst;
} wq_options;

/* Returns a running queue (its timer thread started), or NULL when the
 * thread cannot be created. opts may be NULL; it is copied. */
workqueue *wq_new(const wq_options *opts) CUBIT_WUR;
/* Shuts the queue down if needed, joins the timer thread and frees it all.
 * No other thread may use q any more: workers must have returned from
 * wq_get and wq_done. Keys handed out earlier stay owned by their callers. */
void wq_free(workqueue *q);

/* Queues 'key' (copied) unless it is already waiting; ignored after shutdown. */
void wq_add(workqueue *q, const char *key);
/* As wq_add, but the key is handed out before every key added otherwise
 * (wq_add, wq_add_after, wq_add_rate_limited); urgent keys among themselves
 * in the order added. A key already waiting as an ordinary key moves ahead;
 * one re-added while processed is queued urgent by wq_done. For work a user
 * waits on (a new object, a changed spec) to pass the echoes of its own
 * and others' writes under load; ordinary keys wait while urgent ones come,
 * as in controller-runtime's priority queue. */
void wq_add_urgent(workqueue *q, const char *key);
/* Queues 'key' (copied) once 'delay_ms' has passed; delay_ms <= 0 is wq_add.
 * A key already waiting keeps the earlier of its two ready times. */
void wq_add_after(workqueue *q, const char *key, int64_t delay_ms);
/* Records a failure of 'key' and queues it after the limiter's delay. Counts
 * one retry in workqueue_retries_total. Ignored after shutdown. */
void wq_add_rate_limited(workqueue *q, const char *key);
/* Clears the failures of 'key' (call it when a reconcile succeeded). It does
 * not remove the key from the queue. */
void wq_forget(workqueue *q, const char *key);
/* Failures of 'key' recorded by wq_add_rate_limited since its last forget. */
int wq_num_requeues(workqueue *q, const char *key);

/* Blocks until a key is available and returns it, now marked as processing,
 * or returns NULL once the queue is shut down. The caller owns (frees) the
 * string and must call wq_done with it when finished. */
char *wq_get(workqueue *q);
/* Ends the processing of 'key' (borrowed; the caller still frees it). If it
 * was added meanwhile, it is queued again. A key that is not being
 * processed is ignored. */
void wq_done(workqueue *q, const char *key);
/* Number of keys waiting to be handed out (not delayed, not processing). */
size_t wq_len(workqueue *q);

/* Stops accepting adds, drops the delayed keys, and wakes every wq_get
 * (which returns NULL from now on). Returns at once; also cuts short a
 * wq_shutdown_drain waiting in another thread. */
void wq_shutdown(workqueue *q);
/* As wq_shutdown, then waits until every key handed out has been given
 * back with wq_done. */
void wq_shutdown_drain(workqueue *q);
/* Nonzero once wq_shutdown or wq_shutdown_drain was called. */
int wq_shutting_down(workqueue *q);

#endif
