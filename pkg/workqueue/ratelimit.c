#include "workqueue/ratelimit.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "util/alloc.h"
#include "util/time.h"

int64_t wq_backoff_delay_ms(int64_t base_ms, int64_t max_ms, int failures) {
  if (failures < 0) failures = 0;
  if (base_ms <= 0) return 0;
  /* Shifting past the cap (or past 63 bits) cannot come back under it. */
  if (failures >= 63 || base_ms > (max_ms >> failures)) return max_ms;
  int64_t d = base_ms << failures;
  return d > max_ms ? max_ms : d;
}

void wq_bucket_init(wq_token_bucket *b, double qps, int burst, int64_t now_ms) {
  b->qps = qps;
  b->burst = burst < 1 ? 1 : burst;
  b->tokens = b->burst;
  b->last_ms = now_ms;
}

int64_t wq_bucket_reserve(wq_token_bucket *b, int64_t now_ms) {
  if (now_ms > b->last_ms) {
    b->tokens += (double)(now_ms - b->last_ms) * b->qps / 1000.0;
    if (b->tokens > b->burst) b->tokens = b->burst;
    b->last_ms = now_ms;
  }
  b->tokens -= 1;
  if (b->tokens >= 0 || b->qps <= 0) return 0;
  /* Round up, so a retry never fires before its token exists; the epsilon
   * keeps exact multiples (1 token at 10 qps = 100 ms) from becoming +1. */
  double wait = -b->tokens * 1000.0 / b->qps;
  if (wait >= (double)INT64_MAX) return INT64_MAX;
  return (int64_t)ceil(wait - 1e-6);
}

/* Failures of one key since it was last forgotten. */
typedef struct failure_count {
  char *key;
  int failures;
  UT_hash_handle hh;
} failure_count;

struct wq_ratelimiter {
  pthread_mutex_t mu;
  int64_t base_delay_ms, max_delay_ms;
  int use_bucket;
  wq_token_bucket bucket; /* guarded by mu */
  failure_count *failures; /* uthash keyed by key, guarded by mu */
  wq_clock_fn now_ms;
  void *clock_arg;
};

static int64_t mono_clock(void *arg) {
  (void)arg;
  return time_mono_ms();
}

wq_ratelimiter *wq_ratelimiter_new(const wq_ratelimit_options *opts) {
  wq_ratelimit_options o = {0};
  if (opts) o = *opts;
  wq_ratelimiter *rl = xcalloc(1, sizeof(*rl));
  pthread_mutex_init(&rl->mu, NULL);
  rl->base_delay_ms = o.base_delay_ms > 0 ? o.base_delay_ms : WQ_DEFAULT_BASE_DELAY_MS;
  rl->max_delay_ms = o.max_delay_ms > 0 ? o.max_delay_ms : WQ_DEFAULT_MAX_DELAY_MS;
  rl->now_ms = o.now_ms ? o.now_ms : mono_clock;
  rl->clock_arg = o.now_ms ? o.clock_arg : NULL;
  rl->use_bucket = o.qps >= 0;
  wq_bucket_init(&rl->bucket, o.qps > 0 ? o.qps : WQ_DEFAULT_QPS, o.burst > 0 ? o.burst : WQ_DEFAULT_BURST,
                 rl->now_ms(rl->clock_arg));
  return rl;
}

void wq_ratelimiter_free(wq_ratelimiter *rl) {
  if (rl == NULL) return;
  failure_count *f, *tmp;
  HASH_ITER(hh, rl->failures, f, tmp) {
    HASH_DEL(rl->failures, f);
    free(f->key);
    free(f);
  }
  pthread_mutex_destroy(&rl->mu);
  free(rl);
}

int64_t wq_ratelimiter_when(wq_ratelimiter *rl, const char *key) {
  pthread_mutex_lock(&rl->mu);
  failure_count *f;
  HASH_FIND_STR(rl->failures, key, f);
  if (f == NULL) {
    f = xcalloc(1, sizeof(*f));
    f->key = xstrdup(key);
    HASH_ADD_KEYPTR(hh, rl->failures, f->key, strlen(f->key), f);
  }
  int64_t delay = wq_backoff_delay_ms(rl->base_delay_ms, rl->max_delay_ms, f->failures);
  if (f->failures < INT_MAX) f->failures++;
  /* Both limiters are consulted on every failure, as a token is spent even
   * when the backoff is the longer wait. */
  if (rl->use_bucket) {
    int64_t wait = wq_bucket_reserve(&rl->bucket, rl->now_ms(rl->clock_arg));
    if (wait > delay) delay = wait;
  }
  pthread_mutex_unlock(&rl->mu);
  return delay;
}

void wq_ratelimiter_forget(wq_ratelimiter *rl, const char *key) {
  pthread_mutex_lock(&rl->mu);
  failure_count *f;
  HASH_FIND_STR(rl->failures, key, f);
  if (f) {
    HASH_DEL(rl->failures, f);
    free(f->key);
    free(f);
  }
  pthread_mutex_unlock(&rl->mu);
}

int wq_ratelimiter_num_requeues(wq_ratelimiter *rl, const char *key) {
  pthread_mutex_lock(&rl->mu);
  failure_count *f;
  HASH_FIND_STR(rl->failures, key, f);
  int n = f ? f->failures : 0;
  pthread_mutex_unlock(&rl->mu);
  return n;
}
