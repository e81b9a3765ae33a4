#include "workqueue/workqueue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "util/alloc.h"
#include "util/time.h"

/* A key that is dirty (needs processing), processing, or both. Every queued
 * key is dirty and not processing; a key both dirty and processing was added
 * again while a worker held it. A key that is neither leaves the table. */
typedef struct wq_item {
  char *key;
  bool dirty;
  bool processing;
  bool urgent;      /* queued (or to be queued) in the urgent FIFO */
  double added_s;   /* when it became dirty: start of its queue duration */
  double started_s; /* when a worker took it: start of its work duration */
  struct wq_item *prev, *next;           /* FIFO links while queued */
  struct wq_item *proc_prev, *proc_next; /* links while processing */
  UT_hash_handle hh;
} wq_item;

/* A key waiting in the delay heap for its ready time. */
typedef struct wq_delayed {
  char *key;
  int64_t ready_ms;
  uint64_t seq; /* insertion order, so equal ready times come out FIFO */
  size_t index; /* position in the heap, for decrease-key */
  UT_hash_handle hh;
} wq_delayed;

struct workqueue {
  pthread_mutex_t mu;          /* guards everything below but the metrics */
  pthread_cond_t has_work;     /* getters: a key was queued, or shutdown */
  pthread_cond_t timer_wake;   /* timer: the heap's top changed, or shutdown */
  pthread_cond_t idle;         /* drainers: nothing processing, or shutdown */
  wq_item *items;              /* uthash by key */
  wq_item *head, *tail;        /* FIFO of queued ordinary keys */
  wq_item *uhead, *utail;      /* FIFO of queued urgent keys, handed out first */
  size_t len;
  size_t ndirty;
  wq_item *processing;         /* keys handed out to workers */
  size_t nprocessing;
  wq_delayed *delayed;         /* uthash by key over the heap's entries */
  wq_delayed **heap;           /* min-heap on (ready_ms, seq) */
  size_t heap_len, heap_cap;
  uint64_t seq;
  bool shutting_down;
  bool draining;
  pthread_t timer;
  wq_ratelimiter *limiter;
  char *name;
  metric *depth, *adds, *queue_duration, *work_duration, *retries, *unfinished, *longest;
};

/* ---- delay heap ---- */

static bool delayed_before(const wq_delayed *a, const wq_delayed *b) {
  return a->ready_ms < b->ready_ms || (a->ready_ms == b->ready_ms && a->seq < b->seq);
}

static void heap_place(workqueue *q, size_t i, wq_delayed *d) {
  q->heap[i] = d;
  d->index = i;
}

static void heap_up(workqueue *q, size_t i) {
  wq_delayed *d = q->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!delayed_before(d, q->heap[parent])) break;
    heap_place(q, i, q->heap[parent]);
    i = parent;
  }
  heap_place(q, i, d);
}

static void heap_down(workqueue *q, size_t i) {
  wq_delayed *d = q->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= q->heap_len) break;
    if (child + 1 < q->heap_len && delayed_before(q->heap[child + 1], q->heap[child])) child++;
    if (!delayed_before(q->heap[child], d)) break;
    heap_place(q, i, q->heap[child]);
    i = child;
  }
  heap_place(q, i, d);
}

static void heap_push(workqueue *q, wq_delayed *d) {
  if (q->heap_len == q->heap_cap) {
    q->heap_cap = q->heap_cap ? q->heap_cap * 2 : 16;
    q->heap = xrealloc(q->heap, q->heap_cap * sizeof(*q->heap));
  }
  heap_place(q, q->heap_len, d);
  heap_up(q, q->heap_len++);
}

/* Removes and returns the earliest entry; it stays in q->delayed. */
static wq_delayed *heap_pop(workqueue *q) {
  wq_delayed *top = q->heap[0];
  if (--q->heap_len > 0) {
    heap_place(q, 0, q->heap[q->heap_len]);
    heap_down(q, 0);
  }
  return top;
}

static void delayed_free(workqueue *q, wq_delayed *d) {
  HASH_DEL(q->delayed, d);
  free(d->key);
  free(d);
}

/* ---- metrics (all called with q->mu held, so gauges follow the state) ---- */

static void update_depth(workqueue *q) {
  metric_set(q->depth, (double)q->ndirty, q->name, q->name);
}

static void update_unfinished(workqueue *q, double now) {
  double total = 0, longest = 0;
  for (wq_item *it = q->processing; it; it = it->proc_next) {
    double running = now - it->started_s;
    total += running;
    if (running > longest) longest = running;
  }
  metric_set(q->unfinished, total, q->name, q->name);
  metric_set(q->longest, longest, q->name, q->name);
}

static void register_metrics(workqueue *q, metrics_registry *r) {
  const char *labels = "name,controller";
  q->depth = metrics_gauge(r, "workqueue_depth", "Number of keys waiting in the workqueue", labels);
  q->adds = metrics_counter(r, "workqueue_adds_total", "Number of keys the workqueue accepted", labels);
  q->queue_duration = metrics_histogram(r, "workqueue_queue_duration_seconds",
                                        "Seconds a key waited in the workqueue before a worker took it",
                                        labels, metrics_workqueue_buckets, metrics_workqueue_nbuckets);
  q->work_duration = metrics_histogram(r, "workqueue_work_duration_seconds",
                                       "Seconds a worker spent on a key, from get to done", labels,
                                       metrics_workqueue_buckets, metrics_workqueue_nbuckets);
  q->retries = metrics_counter(r, "workqueue_retries_total", "Number of rate-limited re-adds", labels);
  q->unfinished = metrics_gauge(r, "workqueue_unfinished_work_seconds",
                                "Seconds spent so far on keys still being processed; "
                                "steady growth means stuck workers",
                                labels);
  q->longest = metrics_gauge(r, "workqueue_longest_running_processor_seconds",
                             "Seconds the oldest key still being processed has been running", labels);
}

/* ---- the queue proper (helpers called with q->mu held) ---- */

/* Appends 'it' to the FIFO of its class. */
static void enqueue(workqueue *q, wq_item *it) {
  wq_item **head = it->urgent ? &q->uhead : &q->head, **tail = it->urgent ? &q->utail : &q->tail;
  it->next = NULL;
  it->prev = *tail;
  if (*tail)
    (*tail)->next = it;
  else
    *head = it;
  *tail = it;
  q->len++;
  pthread_cond_signal(&q->has_work);
}

/* Takes 'it' out of the FIFO of its class. */
static void unlink_item(workqueue *q, wq_item *it) {
  wq_item **head = it->urgent ? &q->uhead : &q->head, **tail = it->urgent ? &q->utail : &q->tail;
  if (it->prev)
    it->prev->next = it->next;
  else
    *head = it->next;
  if (it->next)
    it->next->prev = it->prev;
  else
    *tail = it->prev;
  it->prev = it->next = NULL;
  q->len--;
}

/* The next key to hand out: the oldest urgent one, else the oldest ordinary one. */
static wq_item *dequeue(workqueue *q) {
  wq_item *it = q->uhead ? q->uhead : q->head;
  unlink_item(q, it);
  it->urgent = false;
  return it;
}

static void item_free(workqueue *q, wq_item *it) {
  HASH_DEL(q->items, it);
  free(it->key);
  free(it);
}

static void add_locked(workqueue *q, const char *key, bool urgent) {
  if (q->shutting_down) return;
  wq_item *it;
  HASH_FIND_STR(q->items, key, it);
  if (it && it->dirty) {
    /* Waiting already: an urgent add moves it ahead of the ordinary keys
     * (or, re-added while processed, has wq_done queue it urgent). */
    if (urgent && !it->urgent) {
      if (!it->processing) unlink_item(q, it);
      it->urgent = true;
      if (!it->processing) enqueue(q, it);
    }
    return;
  }
  if (it == NULL) {
    it = xcalloc(1, sizeof(*it));
    it->key = xstrdup(key);
    HASH_ADD_KEYPTR(hh, q->items, it->key, strlen(it->key), it);
  }
  it->dirty = true;
  it->urgent = urgent;
  it->added_s = time_mono_s();
  q->ndirty++;
  metric_add(q->adds, 1, q->name, q->name);
  update_depth(q);
  /* wq_done queues it when the worker holding it finishes. */
  if (!it->processing) enqueue(q, it);
}

/* Moves due keys from the heap into the queue and sleeps until the next
 * one is due or the heap's top changes. */
static void *timer_main(void *arg) {
  workqueue *q = arg;
  pthread_mutex_lock(&q->mu);
  while (!q->shutting_down) {
    int64_t now = time_mono_ms();
    while (q->heap_len > 0 && q->heap[0]->ready_ms <= now) {
      wq_delayed *d = heap_pop(q);
      add_locked(q, d->key, false);
      delayed_free(q, d);
    }
    if (q->heap_len == 0) {
      pthread_cond_wait(&q->timer_wake, &q->mu);
    } else {
      int64_t ready = q->heap[0]->ready_ms;
      struct timespec ts = {.tv_sec = (time_t)(ready / 1000), .tv_nsec = (long)(ready % 1000) * 1000000L};
      pthread_cond_timedwait(&q->timer_wake, &q->mu, &ts);
    }
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

workqueue *wq_new(const wq_options *opts) {
  wq_options o = {0};
  if (opts) o = *opts;
  workqueue *q = xcalloc(1, sizeof(*q));
  q->name = xstrdup(o.name ? o.name : "");
  wq_ratelimit_options ro = {
      .base_delay_ms = o.base_delay_ms, .max_delay_ms = o.max_delay_ms, .qps = o.qps, .burst = o.burst};
  q->limiter = wq_ratelimiter_new(&ro);
  if (o.metrics) register_metrics(q, o.metrics);

  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->has_work, NULL);
  pthread_cond_init(&q->idle, NULL);
  /* Ready times are monotonic, so the timer's deadline must be too. */
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->timer_wake, &attr);
  pthread_condattr_destroy(&attr);

  if (pthread_create(&q->timer, NULL, timer_main, q) != 0) goto fail_thread;
  return q;

fail_thread:
  pthread_cond_destroy(&q->timer_wake);
  pthread_cond_destroy(&q->idle);
  pthread_cond_destroy(&q->has_work);
  pthread_mutex_destroy(&q->mu);
  wq_ratelimiter_free(q->limiter);
  free(q->name);
  free(q);
  return NULL;
}

void wq_free(workqueue *q) {
  if (q == NULL) return;
  wq_shutdown(q);
  pthread_join(q->timer, NULL);
  wq_item *it, *tmp;
  HASH_ITER(hh, q->items, it, tmp) item_free(q, it);
  free(q->heap);
  pthread_cond_destroy(&q->timer_wake);
  pthread_cond_destroy(&q->idle);
  pthread_cond_destroy(&q->has_work);
  pthread_mutex_destroy(&q->mu);
  wq_ratelimiter_free(q->limiter);
  free(q->name);
  free(q);
}

void wq_add(workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  add_locked(q, key, false);
  pthread_mutex_unlock(&q->mu);
}

void wq_add_urgent(workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  add_locked(q, key, true);
  pthread_mutex_unlock(&q->mu);
}

void wq_add_after(workqueue *q, const char *key, int64_t delay_ms) {
  pthread_mutex_lock(&q->mu);
  if (q->shutting_down) goto out;
  if (delay_ms <= 0) {
    add_locked(q, key, false);
    goto out;
  }
  int64_t now = time_mono_ms();
  int64_t ready = delay_ms > INT64_MAX - now ? INT64_MAX : now + delay_ms;
  wq_delayed *d;
  HASH_FIND_STR(q->delayed, key, d);
  if (d) {
    if (ready >= d->ready_ms) goto out;
    d->ready_ms = ready;
    heap_up(q, d->index);
  } else {
    d = xcalloc(1, sizeof(*d));
    d->key = xstrdup(key);
    d->ready_ms = ready;
    d->seq = q->seq++;
    HASH_ADD_KEYPTR(hh, q->delayed, d->key, strlen(d->key), d);
    heap_push(q, d);
  }
  /* Only a new earliest deadline changes how long the timer sleeps. */
  if (q->heap[0] == d) pthread_cond_signal(&q->timer_wake);
out:
  pthread_mutex_unlock(&q->mu);
}

void wq_add_rate_limited(workqueue *q, const char *key) {
  /* Don't charge the limiter for a key that will be ignored anyway. */
  if (wq_shutting_down(q)) return;
  int64_t delay = wq_ratelimiter_when(q->limiter, key);
  metric_add(q->retries, 1, q->name, q->name);
  wq_add_after(q, key, delay);
}

void wq_forget(workqueue *q, const char *key) {
  wq_ratelimiter_forget(q->limiter, key);
}

int wq_num_requeues(workqueue *q, const char *key) {
  return wq_ratelimiter_num_requeues(q->limiter, key);
}

char *wq_get(workqueue *q) {
  char *key = NULL;
  pthread_mutex_lock(&q->mu);
  while (q->uhead == NULL && q->head == NULL && !q->shutting_down) pthread_cond_wait(&q->has_work, &q->mu);
  if (q->shutting_down) goto out;
  wq_item *it = dequeue(q);
  it->dirty = false;
  q->ndirty--;
  it->processing = true;
  it->proc_prev = NULL;
  it->proc_next = q->processing;
  if (q->processing) q->processing->proc_prev = it;
  q->processing = it;
  q->nprocessing++;
  double now = time_mono_s();
  it->started_s = now;
  metric_observe(q->queue_duration, now - it->added_s, q->name, q->name);
  update_depth(q);
  update_unfinished(q, now);
  key = xstrdup(it->key);
out:
  pthread_mutex_unlock(&q->mu);
  return key;
}

void wq_done(workqueue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  wq_item *it;
  HASH_FIND_STR(q->items, key, it);
  if (it == NULL || !it->processing) goto out;
  double now = time_mono_s();
  metric_observe(q->work_duration, now - it->started_s, q->name, q->name);
  if (it->proc_prev)
    it->proc_prev->proc_next = it->proc_next;
  else
    q->processing = it->proc_next;
  if (it->proc_next) it->proc_next->proc_prev = it->proc_prev;
  it->proc_prev = it->proc_next = NULL;
  it->processing = false;
  q->nprocessing--;
  if (it->dirty)
    enqueue(q, it);
  else
    item_free(q, it);
  update_unfinished(q, now);
  if (q->nprocessing == 0) pthread_cond_broadcast(&q->idle);
out:
  pthread_mutex_unlock(&q->mu);
}

size_t wq_len(workqueue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* Marks the queue shut down and drops what will never be handed out: the
 * delayed keys, the queued keys, and the re-add marks of keys being
 * processed (so wq_done forgets them). */
static void shutdown_locked(workqueue *q) {
  if (!q->shutting_down) {
    q->shutting_down = true;
    while (q->heap_len > 0) delayed_free(q, heap_pop(q));
    while (q->uhead || q->head) item_free(q, dequeue(q));
    for (wq_item *it = q->processing; it; it = it->proc_next) it->dirty = false;
    q->ndirty = 0;
    update_depth(q);
  }
  pthread_cond_broadcast(&q->has_work);
  pthread_cond_broadcast(&q->timer_wake);
}

void wq_shutdown(workqueue *q) {
  pthread_mutex_lock(&q->mu);
  q->draining = false;
  shutdown_locked(q);
  pthread_cond_broadcast(&q->idle);
  pthread_mutex_unlock(&q->mu);
}

void wq_shutdown_drain(workqueue *q) {
  pthread_mutex_lock(&q->mu);
  q->draining = true;
  shutdown_locked(q);
  while (q->nprocessing > 0 && q->draining) pthread_cond_wait(&q->idle, &q->mu);
  pthread_mutex_unlock(&q->mu);
}

int wq_shutting_down(workqueue *q) {
  pthread_mutex_lock(&q->mu);
  int down = q->shutting_down;
  pthread_mutex_unlock(&q->mu);
  return down;
}
