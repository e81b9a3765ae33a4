/* How long a key that failed waits before it is retried.
 *
 * The default controller limiter takes the larger of two delays, as
 * controller-runtime does:
 *   - a per-key exponential backoff: base x 2^failures, capped (5 ms .. 1000 s);
 *   - an overall token bucket shared by every key (10 qps, burst 100), so a
 *     storm of distinct failing keys cannot hammer the API server.
 *
 * The two building blocks are pure functions of the current time so tests can
 * drive them exactly; the limiter combines them behind a mutex and reads time
 * from an injectable clock. */
#ifndef CUBIT_WORKQUEUE_RATELIMIT_H
#define CUBIT_WORKQUEUE_RATELIMIT_H

#include <stdint.h>

#define WQ_DEFAULT_BASE_DELAY_MS 5
#define WQ_DEFAULT_MAX_DELAY_MS (1000 * 1000)
#define WQ_DEFAULT_QPS 10.0
#define WQ_DEFAULT_BURST 100

/* Backoff after 'failures' earlier failures of a key: base x 2^failures,
 * or max when that is larger (or would overflow). Negative failures count
 * as 0. */
int64_t wq_backoff_delay_ms(int64_t base_ms, int64_t max_ms, int failures);

/* Token bucket: holds up to 'burst' tokens, refilled at 'qps' per second.
 * Plain data the caller owns; the fields are private. Not thread-safe. */
typedef struct wq_token_bucket {
  double qps;
  int burst;
  double tokens; /* negative when reservations run ahead of the refill */
  int64_t last_ms;
} wq_token_bucket;

/* Starts the bucket full at time 'now_ms'. */
void wq_bucket_init(wq_token_bucket *b, double qps, int burst, int64_t now_ms);
/* Takes one token at 'now_ms' and returns how long the caller must wait
 * before using it (0 while the burst lasts). Every call reserves a token, so
 * calls made at the same instant are spaced 1/qps apart. A clock that goes
 * backwards is treated as standing still. */
int64_t wq_bucket_reserve(wq_token_bucket *b, int64_t now_ms);

/* Monotonic milliseconds; 'arg' is the clock_arg given with it. */
typedef int64_t (*wq_clock_fn)(void *arg);

/* Zero fields mean the defaults above; qps < 0 turns the overall bucket off. */
typedef struct wq_ratelimit_options {
  int64_t base_delay_ms;
  int64_t max_delay_ms;
  double qps;
  int burst;
  wq_clock_fn now_ms; /* NULL: time_mono_ms */
  void *clock_arg;
} wq_ratelimit_options;

typedef struct wq_ratelimiter wq_ratelimiter;

/* Returns a limiter with no failures recorded; free it with
 * wq_ratelimiter_free. opts may be NULL (all defaults); it is copied. */
wq_ratelimiter *wq_ratelimiter_new(const wq_ratelimit_options *opts);
void wq_ratelimiter_free(wq_ratelimiter *rl);
/* Records one more failure of 'key' (copied) and returns the delay before its
 * retry: the larger of the key's backoff and the bucket's wait. Thread-safe. */
int64_t wq_ratelimiter_when(wq_ratelimiter *rl, const char *key);
/* Clears the failures of 'key': its next backoff starts again at the base. */
void wq_ratelimiter_forget(wq_ratelimiter *rl, const char *key);
/* Failures recorded for 'key' since it was last forgotten. */
int wq_ratelimiter_num_requeues(wq_ratelimiter *rl, const char *key);

#endif
