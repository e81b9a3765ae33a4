#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "workqueue/ratelimit.h"
#include "workqueue/workqueue.h"

/* Safety net only: no test expects anything to take this long. */
#define SAFETY_SECS 20

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int under_valgrind(void) {
  return getenv("CUBIT_UNDER_VALGRIND") != NULL;
}

static void join_within(pthread_t t, const char *what) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += SAFETY_SECS;
  ck_assert_msg(pthread_timedjoin_np(t, NULL, &ts) == 0, "%s did not finish", what);
}

/* Waits (bounded) until *flag becomes nonzero. */
static void await_flag(atomic_int *flag, const char *what) {
  for (int i = 0; i < SAFETY_SECS * 1000 && !atomic_load(flag); i++) sleep_ms(1);
  ck_assert_msg(atomic_load(flag), "timed out waiting for %s", what);
}

typedef struct getter {
  workqueue *q;
  char *key;
} getter;

static void *getter_main(void *arg) {
  getter *g = arg;
  g->key = wq_get(g->q);
  return NULL;
}

/* wq_get that fails the test instead of hanging when nothing arrives. */
static char *get_within(workqueue *q) {
  getter g = {q, NULL};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, getter_main, &g), 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += SAFETY_SECS;
  if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
    wq_shutdown(q);
    pthread_join(t, NULL);
    ck_abort_msg("wq_get returned nothing within %d s", SAFETY_SECS);
  }
  return g.key;
}

/* Gets the next key, checks it is 'want', and marks it done. */
static void expect_next(workqueue *q, const char *want) {
  char *k = get_within(q);
  ck_assert_ptr_nonnull(k);
  ck_assert_str_eq(k, want);
  wq_done(q, k);
  free(k);
}

/* ---- the queue ---- */

START_TEST(dedup_waiting_key) {
  workqueue *q = wq_new(NULL);
  ck_assert_ptr_nonnull(q);
  for (int i = 0; i < 3; i++) wq_add(q, "ns/a");
  ck_assert_uint_eq(wq_len(q), 1);
  expect_next(q, "ns/a");
  ck_assert_uint_eq(wq_len(q), 0);
  wq_free(q);
}
END_TEST

START_TEST(fifo_order) {
  workqueue *q = wq_new(NULL);
  const char *adds[] = {"c", "a", "b", "a", "c", "d"};
  for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) wq_add(q, adds[i]);
  ck_assert_uint_eq(wq_len(q), 4);
  const char *want[] = {"c", "a", "b", "d"};
  for (size_t i = 0; i < 4; i++) expect_next(q, want[i]);
  ck_assert_uint_eq(wq_len(q), 0);
  wq_free(q);
}
END_TEST

/* Urgent keys go before ordinary ones, each class in its own order; an
 * ordinary key waiting moves ahead when added urgent; an ordinary re-add
 * does not demote an urgent key; dedup holds across the classes. */
START_TEST(urgent_keys_first) {
  workqueue *q = wq_new(NULL);
  wq_add(q, "o1");
  wq_add(q, "o2");
  wq_add(q, "o3");
  wq_add_urgent(q, "u1");
  wq_add_urgent(q, "o2"); /* waiting as ordinary: moves ahead */
  wq_add(q, "u1");        /* stays urgent */
  wq_add_urgent(q, "u2");
  wq_add_urgent(q, "u1"); /* already urgent: keeps its place */
  ck_assert_uint_eq(wq_len(q), 5);
  const char *want[] = {"u1", "o2", "u2", "o1", "o3"};
  for (size_t i = 0; i < 5; i++) expect_next(q, want[i]);
  ck_assert_uint_eq(wq_len(q), 0);
  wq_free(q);
}
END_TEST

/* A key re-added urgent while a worker holds it is queued urgent by wq_done,
 * ahead of ordinary keys that waited longer; one re-added ordinary is not. */
START_TEST(urgent_readd_while_processing) {
  workqueue *q = wq_new(NULL);
  wq_add(q, "a");
  wq_add(q, "b");
  char *a = wq_get(q);
  ck_assert_str_eq(a, "a");
  wq_add(q, "c");
  wq_add_urgent(q, "a");
  ck_assert_uint_eq(wq_len(q), 2); /* b, c: a is held back */
  wq_done(q, a);
  expect_next(q, "a");
  wq_add(q, "a");
  char *b = wq_get(q);
  ck_assert_str_eq(b, "b");
  wq_done(q, b);
  expect_next(q, "c");
  expect_next(q, "a");
  free(a);
  free(b);
  wq_free(q);
}
END_TEST

START_TEST(readd_while_processing_runs_after_done) {
  workqueue *q = wq_new(NULL);
  wq_add(q, "a");
  char *a = wq_get(q);
  ck_assert_str_eq(a, "a");
  wq_add(q, "a");
  wq_add(q, "a");
  ck_assert_uint_eq(wq_len(q), 0); /* held back while a worker has it */
  wq_add(q, "b");
  ck_assert_uint_eq(wq_len(q), 1);
  char *b = wq_get(q);
  ck_assert_str_eq(b, "b"); /* not a second "a" */
  wq_done(q, a);
  ck_assert_uint_eq(wq_len(q), 1);
  wq_done(q, b);
  ck_assert_uint_eq(wq_len(q), 1); /* b was not re-added: gone */
  expect_next(q, "a");
  ck_assert_uint_eq(wq_len(q), 0);
  /* Done of a key no worker holds changes nothing. */
  wq_done(q, "a");
  wq_done(q, "never");
  ck_assert_uint_eq(wq_len(q), 0);
  free(a);
  free(b);
  wq_free(q);
}
END_TEST

/* Many producers and 8 workers on few keys. Each key records whether a
 * worker holds it (two at once is a violation), how many adds it got (the
 * generation, bumped before each wq_add) and the generation seen by the
 * latest processing start. When all is done, the last processing must have
 * seen the last add: an add is never lost, even when made during processing. */
#define STRESS_KEYS 32
#define STRESS_WORKERS 8
#define STRESS_PRODUCERS 3

typedef struct stress_key {
  char name[16];
  atomic_int in_flight;
  atomic_long add_gen;
  atomic_long seen_gen;
  atomic_long runs;
} stress_key;

typedef struct stress_ctx {
  workqueue *q;
  stress_key keys[STRESS_KEYS];
  atomic_int violations;
  int adds_per_producer;
} stress_ctx;

typedef struct producer_arg {
  stress_ctx *ctx;
  unsigned seed;
} producer_arg;

static void *stress_producer(void *arg) {
  producer_arg *p = arg;
  for (int i = 0; i < p->ctx->adds_per_producer; i++) {
    stress_key *k = &p->ctx->keys[rand_r(&p->seed) % STRESS_KEYS];
    atomic_fetch_add(&k->add_gen, 1);
    /* a third of the adds urgent: moving keys between the classes loses none */
    if (rand_r(&p->seed) % 3 == 0) wq_add_urgent(p->ctx->q, k->name);
    else wq_add(p->ctx->q, k->name);
    if (i % 64 == 0) sched_yield();
  }
  return NULL;
}

static void *stress_worker(void *arg) {
  stress_ctx *ctx = arg;
  char *name;
  while ((name = wq_get(ctx->q)) != NULL) {
    stress_key *k = &ctx->keys[atoi(name + 4)];
    if (atomic_exchange(&k->in_flight, 1) != 0) atomic_fetch_add(&ctx->violations, 1);
    long gen = atomic_load(&k->add_gen);
    long seen = atomic_load(&k->seen_gen);
    while (gen > seen && !atomic_compare_exchange_weak(&k->seen_gen, &seen, gen)) {
    }
    atomic_fetch_add(&k->runs, 1);
    sched_yield(); /* hold the key a little, so re-adds land during processing */
    atomic_store(&k->in_flight, 0);
    wq_done(ctx->q, name);
    free(name);
  }
  return NULL;
}

START_TEST(stress_no_concurrent_processing_no_lost_add) {
  metrics_registry *reg = metrics_registry_new();
  stress_ctx *ctx = calloc(1, sizeof(*ctx));
  ctx->q = wq_new(&(wq_options){.name = "stress", .metrics = reg});
  ctx->adds_per_producer = under_valgrind() ? 10000 : 40000;
  for (int i = 0; i < STRESS_KEYS; i++) snprintf(ctx->keys[i].name, sizeof(ctx->keys[i].name), "key/%d", i);
  pthread_t workers[STRESS_WORKERS], producers[STRESS_PRODUCERS];
  producer_arg pargs[STRESS_PRODUCERS];
  for (int i = 0; i < STRESS_WORKERS; i++) ck_assert_int_eq(pthread_create(&workers[i], NULL, stress_worker, ctx), 0);
  for (int i = 0; i < STRESS_PRODUCERS; i++) {
    pargs[i] = (producer_arg){ctx, (unsigned)(i + 1) * 7919u};
    ck_assert_int_eq(pthread_create(&producers[i], NULL, stress_producer, &pargs[i]), 0);
  }
  for (int i = 0; i < STRESS_PRODUCERS; i++) join_within(producers[i], "producer");

  /* Depth counts dirty keys. With no more adds it only falls; at 0 no key
   * will start processing again, and draining waits for those in flight. */
  metric *depth = metrics_gauge(reg, "workqueue_depth", "", "name,controller");
  for (int i = 0; i < SAFETY_SECS * 1000 && metric_value(depth, "stress", "stress") > 0; i++) sleep_ms(1);
  ck_assert_double_eq(metric_value(depth, "stress", "stress"), 0);
  wq_shutdown_drain(ctx->q);
  for (int i = 0; i < STRESS_WORKERS; i++) join_within(workers[i], "worker");

  int violations = atomic_load(&ctx->violations);
  ck_assert_msg(violations == 0, "%d times a key was handed to a second worker", violations);
  long runs = 0;
  for (int i = 0; i < STRESS_KEYS; i++) {
    stress_key *k = &ctx->keys[i];
    ck_assert_msg(atomic_load(&k->seen_gen) == atomic_load(&k->add_gen), "%s: last add (%ld) never processed (%ld)",
                  k->name, atomic_load(&k->add_gen), atomic_load(&k->seen_gen));
    runs += atomic_load(&k->runs);
  }
  long adds = (long)ctx->adds_per_producer * STRESS_PRODUCERS;
  ck_assert_int_le(runs, adds);
  metric *adds_total = metrics_counter(reg, "workqueue_adds_total", "", "name,controller");
  ck_assert_double_eq(metric_value(adds_total, "stress", "stress"), (double)runs);
  wq_free(ctx->q);
  free(ctx);
  metrics_registry_free(reg);
}
END_TEST

START_TEST(add_after_order) {
  workqueue *q = wq_new(NULL);
  wq_add_after(q, "c", 300);
  wq_add_after(q, "a", 100);
  wq_add_after(q, "b", 200);
  expect_next(q, "a");
  expect_next(q, "b");
  expect_next(q, "c");
  wq_free(q);
}
END_TEST

/* The same key delayed twice: the earlier ready time wins whichever order
 * the two calls come in. 'y' at 300 ms is the yardstick. */
static const struct {
  int64_t first, second;
} earlier_wins_cases[] = {
    {10000, 100},
    {100, 10000},
};

START_TEST(add_after_earlier_wins) {
  workqueue *q = wq_new(NULL);
  wq_add_after(q, "x", earlier_wins_cases[_i].first);
  wq_add_after(q, "x", earlier_wins_cases[_i].second);
  wq_add_after(q, "y", 300);
  expect_next(q, "x");
  expect_next(q, "y");
  wq_free(q);
}
END_TEST

START_TEST(add_after_new_earliest_wakes_timer) {
  workqueue *q = wq_new(NULL);
  wq_add_after(q, "late", 100000);
  sleep_ms(20); /* let the timer settle into its long wait */
  wq_add_after(q, "soon", 50);
  expect_next(q, "soon");
  wq_free(q); /* drops "late" */
}
END_TEST

START_TEST(add_after_nonpositive_is_add) {
  workqueue *q = wq_new(NULL);
  wq_add_after(q, "zero", 0);
  wq_add_after(q, "negative", -5);
  wq_add_after(q, "zero", 0);
  ck_assert_uint_eq(wq_len(q), 2);
  expect_next(q, "zero");
  expect_next(q, "negative");
  wq_free(q);
}
END_TEST

START_TEST(rate_limited_requeues_and_forget) {
  workqueue *q = wq_new(NULL);
  ck_assert_int_eq(wq_num_requeues(q, "a"), 0);
  wq_add_rate_limited(q, "a");
  wq_add_rate_limited(q, "a");
  ck_assert_int_eq(wq_num_requeues(q, "a"), 2);
  expect_next(q, "a");
  wq_forget(q, "a");
  ck_assert_int_eq(wq_num_requeues(q, "a"), 0);
  wq_forget(q, "unknown");
  wq_free(q);
}
END_TEST

START_TEST(shutdown_wakes_blocked_getter) {
  workqueue *q = wq_new(NULL);
  getter g = {q, (char *)"unset"};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, getter_main, &g), 0);
  sleep_ms(50); /* most likely blocked in wq_get by now; either way it must return */
  ck_assert_int_eq(wq_shutting_down(q), 0);
  wq_shutdown(q);
  join_within(t, "blocked wq_get");
  ck_assert_ptr_null(g.key);
  ck_assert_int_ne(wq_shutting_down(q), 0);
  wq_free(q);
}
END_TEST

START_TEST(adds_after_shutdown_ignored) {
  metrics_registry *reg = metrics_registry_new();
  workqueue *q = wq_new(&(wq_options){.name = "down", .metrics = reg});
  wq_add(q, "queued");
  wq_add_after(q, "delayed", 20);
  wq_shutdown(q);
  wq_shutdown(q); /* twice is fine */
  wq_add(q, "a");
  wq_add_after(q, "b", 0);
  wq_add_after(q, "c", 10);
  wq_add_rate_limited(q, "d");
  ck_assert_uint_eq(wq_len(q), 0);
  ck_assert_ptr_null(wq_get(q)); /* "queued" was dropped too */
  ck_assert_int_eq(wq_num_requeues(q, "d"), 0);
  metric *adds = metrics_counter(reg, "workqueue_adds_total", "", "name,controller");
  metric *retries = metrics_counter(reg, "workqueue_retries_total", "", "name,controller");
  metric *depth = metrics_gauge(reg, "workqueue_depth", "", "name,controller");
  ck_assert_double_eq(metric_value(adds, "down", "down"), 1);
  ck_assert_double_eq(metric_value(retries, "down", "down"), 0);
  ck_assert_double_eq(metric_value(depth, "down", "down"), 0);
  wq_free(q);
  metrics_registry_free(reg);
}
END_TEST

/* A worker that takes one key, holds it until released, then gives it back
 * and asks for another (which must be NULL: the queue is shut down). */
typedef struct holder {
  workqueue *q;
  atomic_int holding, release, done_called, drain_returned, done_before_drain_returned;
  char *second;
} holder;

static void *holder_main(void *arg) {
  holder *h = arg;
  char *k = wq_get(h->q);
  atomic_store(&h->holding, 1);
  while (!atomic_load(&h->release)) sleep_ms(1);
  atomic_store(&h->done_called, 1);
  wq_done(h->q, k);
  free(k);
  h->second = wq_get(h->q);
  return NULL;
}

static void *drainer_main(void *arg) {
  holder *h = arg;
  wq_shutdown_drain(h->q);
  atomic_store(&h->done_before_drain_returned, atomic_load(&h->done_called));
  atomic_store(&h->drain_returned, 1);
  return NULL;
}

/* Starts a holder with key "a" and a drainer; returns once the drainer is
 * waiting (shutting_down is set under the same lock hold as its wait). */
static void start_holder_and_drainer(holder *h, pthread_t *worker, pthread_t *drainer) {
  wq_add(h->q, "a");
  wq_add(h->q, "b"); /* still queued at shutdown: dropped */
  ck_assert_int_eq(pthread_create(worker, NULL, holder_main, h), 0);
  await_flag(&h->holding, "the worker to take a key");
  ck_assert_int_eq(pthread_create(drainer, NULL, drainer_main, h), 0);
  for (int i = 0; i < SAFETY_SECS * 1000 && !wq_shutting_down(h->q); i++) sleep_ms(1);
  ck_assert_int_ne(wq_shutting_down(h->q), 0);
}

START_TEST(shutdown_drain_waits_for_done) {
  holder h = {.q = wq_new(NULL)};
  pthread_t worker, drainer;
  start_holder_and_drainer(&h, &worker, &drainer);
  sleep_ms(50); /* a drain that does not wait would have returned by now */
  ck_assert_msg(!atomic_load(&h.drain_returned), "drain returned while a key was in flight");
  atomic_store(&h.release, 1);
  join_within(drainer, "wq_shutdown_drain");
  ck_assert_msg(atomic_load(&h.done_before_drain_returned), "drain returned before wq_done");
  join_within(worker, "worker");
  ck_assert_ptr_null(h.second);
  wq_free(h.q);
}
END_TEST

START_TEST(shutdown_cuts_drain_short) {
  holder h = {.q = wq_new(NULL)};
  pthread_t worker, drainer;
  start_holder_and_drainer(&h, &worker, &drainer);
  wq_shutdown(h.q);
  join_within(drainer, "wq_shutdown_drain after wq_shutdown");
  ck_assert_msg(!atomic_load(&h.done_before_drain_returned), "drain waited for wq_done despite wq_shutdown");
  atomic_store(&h.release, 1);
  join_within(worker, "worker");
  ck_assert_ptr_null(h.second);
  wq_free(h.q);
}
END_TEST

START_TEST(drain_with_nothing_in_flight_returns) {
  workqueue *q = wq_new(NULL);
  wq_add(q, "a");
  wq_shutdown_drain(q);
  ck_assert_ptr_null(wq_get(q));
  wq_free(q);
}
END_TEST

START_TEST(free_without_shutdown_releases_everything) {
  workqueue *q = wq_new(&(wq_options){.name = "leak"});
  wq_add(q, "queued");
  wq_add_urgent(q, "urgent");
  wq_add_after(q, "delayed", 100000);
  wq_add_rate_limited(q, "limited");
  wq_free(q);
  wq_free(NULL);
}
END_TEST

static int contains(const char *hay, const char *needle) {
  return strstr(hay, needle) != NULL;
}

START_TEST(metrics_values) {
  metrics_registry *reg = metrics_registry_new();
  workqueue *q = wq_new(&(wq_options){.name = "ctl", .metrics = reg});
  metric *depth = metrics_gauge(reg, "workqueue_depth", "", "name,controller");
  metric *adds = metrics_counter(reg, "workqueue_adds_total", "", "name,controller");
  metric *retries = metrics_counter(reg, "workqueue_retries_total", "", "name,controller");
  metric *longest = metrics_gauge(reg, "workqueue_longest_running_processor_seconds", "", "name,controller");
  metric *unfinished = metrics_gauge(reg, "workqueue_unfinished_work_seconds", "", "name,controller");

  wq_add(q, "a");
  wq_add(q, "b");
  wq_add(q, "a");
  ck_assert_double_eq(metric_value(depth, "ctl", "ctl"), 2);
  ck_assert_double_eq(metric_value(adds, "ctl", "ctl"), 2);
  char *a = wq_get(q);
  ck_assert_str_eq(a, "a");
  ck_assert_double_eq(metric_value(depth, "ctl", "ctl"), 1);
  wq_add(q, "a"); /* re-added while processing: dirty, counted */
  ck_assert_double_eq(metric_value(depth, "ctl", "ctl"), 2);
  ck_assert_double_eq(metric_value(adds, "ctl", "ctl"), 3);
  sleep_ms(20);
  char *b = wq_get(q);
  ck_assert_str_eq(b, "b");
  ck_assert_double_ge(metric_value(longest, "ctl", "ctl"), 0.015);
  ck_assert_double_ge(metric_value(unfinished, "ctl", "ctl"), 0.015);
  wq_done(q, a);
  wq_done(q, b);
  ck_assert_double_eq(metric_value(longest, "ctl", "ctl"), 0);
  ck_assert_double_eq(metric_value(unfinished, "ctl", "ctl"), 0);
  expect_next(q, "a");
  ck_assert_double_eq(metric_value(depth, "ctl", "ctl"), 0);

  /* Two keys, so no timing can merge or split their delayed adds. */
  wq_add_rate_limited(q, "x");
  wq_add_rate_limited(q, "y");
  ck_assert_double_eq(metric_value(retries, "ctl", "ctl"), 2);
  expect_next(q, "x");
  expect_next(q, "y");
  ck_assert_double_eq(metric_value(adds, "ctl", "ctl"), 5);

  cubit_buf out;
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(metrics_write(reg, &out), 0);
  ck_assert(contains(out.data, "workqueue_queue_duration_seconds_count{name=\"ctl\",controller=\"ctl\"} 5\n"));
  ck_assert(contains(out.data, "workqueue_work_duration_seconds_count{name=\"ctl\",controller=\"ctl\"} 5\n"));
  ck_assert(contains(out.data, "workqueue_queue_duration_seconds_bucket{name=\"ctl\",controller=\"ctl\",le=\"+Inf\"} 5\n"));
  ck_assert(contains(out.data, "# TYPE workqueue_depth gauge\n"));
  ck_assert(contains(out.data, "workqueue_retries_total{name=\"ctl\",controller=\"ctl\"} 2\n"));
  buf_free(&out);
  free(a);
  free(b);
  wq_free(q);
  metrics_registry_free(reg);
}
END_TEST

/* ---- the rate limiter ---- */

typedef struct fake_clock {
  int64_t now;
} fake_clock;

static int64_t fake_now(void *arg) {
  return ((fake_clock *)arg)->now;
}

static const struct {
  int64_t base, max;
  int failures;
  int64_t want;
} backoff_cases[] = {
    {5, 1000000, 0, 5},
    {5, 1000000, 1, 10},
    {5, 1000000, 2, 20},
    {5, 1000000, 10, 5120},
    {5, 1000000, 17, 655360},
    {5, 1000000, 18, 1000000},
    {5, 1000000, 62, 1000000},
    {5, 1000000, 63, 1000000},
    {5, 1000000, 64, 1000000},
    {5, 1000000, INT_MAX, 1000000},
    {5, 1000000, -3, 5},
    {1, INT64_MAX, 62, INT64_C(1) << 62},
    {3, INT64_MAX, 62, INT64_MAX},
    {100, 100, 0, 100},
};

START_TEST(backoff_table) {
  ck_assert_int_eq(
      wq_backoff_delay_ms(backoff_cases[_i].base, backoff_cases[_i].max, backoff_cases[_i].failures),
      backoff_cases[_i].want);
}
END_TEST

START_TEST(limiter_backoff_sequence) {
  fake_clock clk = {1000};
  wq_ratelimiter *rl = wq_ratelimiter_new(&(wq_ratelimit_options){.now_ms = fake_now, .clock_arg = &clk});
  int64_t want = 5;
  for (int i = 0; i < 30; i++) {
    ck_assert_int_eq(wq_ratelimiter_when(rl, "ns/k"), want);
    ck_assert_int_eq(wq_ratelimiter_num_requeues(rl, "ns/k"), i + 1);
    want = want * 2 > 1000000 ? 1000000 : want * 2;
    clk.now += 60000; /* refill the bucket: only the backoff counts here */
  }
  ck_assert_int_eq(wq_ratelimiter_when(rl, "ns/other"), 5); /* keys are independent */
  wq_ratelimiter_free(rl);
}
END_TEST

START_TEST(limiter_forget_resets) {
  fake_clock clk = {0};
  wq_ratelimiter *rl = wq_ratelimiter_new(&(wq_ratelimit_options){.now_ms = fake_now, .clock_arg = &clk});
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 5);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 10);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 20);
  ck_assert_int_eq(wq_ratelimiter_num_requeues(rl, "k"), 3);
  wq_ratelimiter_forget(rl, "k");
  ck_assert_int_eq(wq_ratelimiter_num_requeues(rl, "k"), 0);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 5);
  wq_ratelimiter_forget(rl, "never");
  wq_ratelimiter_free(rl);
}
END_TEST

START_TEST(bucket_burst_then_spaced) {
  wq_token_bucket b;
  wq_bucket_init(&b, 10, 100, 0);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(wq_bucket_reserve(&b, 0), 0);
  /* Reservations at the same instant queue up 100 ms apart. */
  for (int i = 1; i <= 5; i++) ck_assert_int_eq(wq_bucket_reserve(&b, 0), 100 * i);
}
END_TEST

START_TEST(bucket_refills_at_qps) {
  wq_token_bucket b;
  wq_bucket_init(&b, 10, 100, 0);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(wq_bucket_reserve(&b, 0), 0);
  /* Empty: one token every 100 ms. */
  for (int64_t t = 100; t <= 2000; t += 100) ck_assert_int_eq(wq_bucket_reserve(&b, t), 0);
  ck_assert_int_eq(wq_bucket_reserve(&b, 2050), 50);
  /* A long idle period refills no more than the burst. */
  wq_bucket_init(&b, 10, 100, 0);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(wq_bucket_reserve(&b, 1000000), 0);
  ck_assert_int_eq(wq_bucket_reserve(&b, 1000000), 100);
  /* A clock going backwards adds nothing. */
  ck_assert_int_eq(wq_bucket_reserve(&b, 999000), 200);
}
END_TEST

START_TEST(limiter_takes_the_larger_delay) {
  fake_clock clk = {0};
  wq_ratelimiter *rl = wq_ratelimiter_new(&(wq_ratelimit_options){.now_ms = fake_now, .clock_arg = &clk});
  char key[32];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    ck_assert_int_eq(wq_ratelimiter_when(rl, key), 5); /* burst: backoff dominates */
  }
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k100"), 100); /* bucket dominates */
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k101"), 200);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k0"), 300);
  clk.now += 100000;
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k0"), 20);
  wq_ratelimiter_free(rl);
}
END_TEST

START_TEST(limiter_options) {
  fake_clock clk = {0};
  wq_ratelimiter *rl = wq_ratelimiter_new(&(wq_ratelimit_options){
      .base_delay_ms = 100, .max_delay_ms = 250, .qps = -1, .now_ms = fake_now, .clock_arg = &clk});
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 100);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 200);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "k"), 250);
  char key[32];
  for (int i = 0; i < 500; i++) { /* no bucket: never more than the backoff */
    snprintf(key, sizeof(key), "k%d", i);
    ck_assert_int_eq(wq_ratelimiter_when(rl, key), 100);
  }
  wq_ratelimiter_free(rl);

  rl = wq_ratelimiter_new(&(wq_ratelimit_options){.qps = 2, .burst = 1, .now_ms = fake_now, .clock_arg = &clk});
  ck_assert_int_eq(wq_ratelimiter_when(rl, "a"), 5);
  ck_assert_int_eq(wq_ratelimiter_when(rl, "b"), 500);
  wq_ratelimiter_free(rl);
}
END_TEST

int main(void) {
  Suite *s = suite_create("workqueue");
  TCase *tc = tcase_create("queue");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, dedup_waiting_key);
  tcase_add_test(tc, fifo_order);
  tcase_add_test(tc, urgent_keys_first);
  tcase_add_test(tc, urgent_readd_while_processing);
  tcase_add_test(tc, readd_while_processing_runs_after_done);
  tcase_add_test(tc, stress_no_concurrent_processing_no_lost_add);
  tcase_add_test(tc, add_after_order);
  tcase_add_loop_test(tc, add_after_earlier_wins, 0, sizeof(earlier_wins_cases) / sizeof(earlier_wins_cases[0]));
  tcase_add_test(tc, add_after_new_earliest_wakes_timer);
  tcase_add_test(tc, add_after_nonpositive_is_add);
  tcase_add_test(tc, rate_limited_requeues_and_forget);
  tcase_add_test(tc, shutdown_wakes_blocked_getter);
  tcase_add_test(tc, adds_after_shutdown_ignored);
  tcase_add_test(tc, shutdown_drain_waits_for_done);
  tcase_add_test(tc, shutdown_cuts_drain_short);
  tcase_add_test(tc, drain_with_nothing_in_flight_returns);
  tcase_add_test(tc, free_without_shutdown_releases_everything);
  tcase_add_test(tc, metrics_values);
  suite_add_tcase(s, tc);

  TCase *rl = tcase_create("ratelimit");
  tcase_add_loop_test(rl, backoff_table, 0, sizeof(backoff_cases) / sizeof(backoff_cases[0]));
  tcase_add_test(rl, limiter_backoff_sequence);
  tcase_add_test(rl, limiter_forget_resets);
  tcase_add_test(rl, bucket_burst_then_spaced);
  tcase_add_test(rl, bucket_refills_at_qps);
  tcase_add_test(rl, limiter_takes_the_larger_delay);
  tcase_add_test(rl, limiter_options);
  suite_add_tcase(s, rl);
  return testutil_run(s);
}
