#include "runtime/leader.h"
#include "runtime/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

struct rt_leader {
  kube_client *client;
  char *ns, *name, *identity;
  int lease_s, deadline_s, retry_s;
  void (*on_started)(void *);
  void (*on_stopped)(void *);
  void *arg;
  metric *status;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stop; /* guarded by mu */
  atomic_int leading;
  /* what we last saw of the lease, and when (monotonic ms) */
  char *observed_holder;
  char *observed_renew;
  int64_t observed_at;
};

static void micro_time(char out[40]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%.20s.%06dZ", base, (int)(ts.tv_nsec / 1000) % 1000000);
}

static int str_same(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Remembers the record when it changed, with the local time we saw it. */
static void observe(rt_leader *l, const char *holder, const char *renew) {
  if (str_same(holder, l->observed_holder) && str_same(renew, l->observed_renew)) return;
  free(l->observed_holder);
  free(l->observed_renew);
  l->observed_holder = holder ? xstrdup(holder) : NULL;
  l->observed_renew = renew ? xstrdup(renew) : NULL;
  l->observed_at = time_mono_ms();
}

/* One attempt to acquire or renew; returns 1 when we hold the lease. */
static int try_acquire_or_renew(rt_leader *l) {
  char now[40];
  micro_time(now);
  json_t *lease = NULL;
  kube_status st;
  int rc = kube_get(l->client, &kube_leases, l->ns, l->name, &lease, &st);
  if (rc == CUBIT_ENOTFOUND) {
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:i}}", "apiVersion",
                            "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", l->name, "namespace",
                            l->ns, "spec", "holderIdentity", l->identity, "leaseDurationSeconds", l->lease_s,
                            "acquireTime", now, "renewTime", now, "leaseTransitions", 0);
    rc = kube_create(l->client, &kube_leases, l->ns, obj, NULL, &st);
    json_decref(obj);
    if (rc == 0) observe(l, l->identity, now);
    return rc == 0;
  }
  if (rc) {
    log_warn("leader", "cannot read lease", "lease=%s/%s error=%s message=\"%s\"", l->ns, l->name,
             cubit_strerror(rc), st.message);
    return 0;
  }
  const char *holder = js_str(lease, "spec.holderIdentity");
  const char *renew = js_str(lease, "spec.renewTime");
  json_int_t duration = js_int(lease, "spec.leaseDurationSeconds", l->lease_s);
  observe(l, holder, renew);
  int mine = holder && strcmp(holder, l->identity) == 0;
  int expired = time_mono_ms() > l->observed_at + duration * 1000;
  if (!mine && holder && *holder && !expired) {
    json_decref(lease);
    return 0;
  }
  json_t *spec = js_ensure_obj(lease, "spec");
  if (!mine) {
    json_object_set_new(spec, "acquireTime", json_string(now));
    json_object_set_new(spec, "leaseTransitions",
                        json_integer(js_int(lease, "spec.leaseTransitions", 0) + (holder && *holder ? 1 : 0)));
  }
  json_object_set_new(spec, "holderIdentity", json_string(l->identity));
  json_object_set_new(spec, "leaseDurationSeconds", json_integer(l->lease_s));
  json_object_set_new(spec, "renewTime", json_string(now));
  /* The update carries the resourceVersion we read: if another candidate
   * wrote in between, this fails with a conflict and we lose the race. */
  rc = kube_update(l->client, &kube_leases, l->ns, lease, NULL, &st);
  json_decref(lease);
  if (rc == 0) observe(l, l->identity, now);
  else if (rc != CUBIT_ECONFLICT)
    log_warn("leader", "cannot update lease", "lease=%s/%s error=%s message=\"%s\"", l->ns, l->name,
             cubit_strerror(rc), st.message);
  return rc == 0;
}

/* Sleeps up to ms unless stopped; returns 1 when asked to stop. */
static int wait_or_stop(rt_leader *l, int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&l->mu);
  while (!l->stop) {
    if (pthread_cond_timedwait(&l->cond, &l->mu, &ts) == ETIMEDOUT) break;
  }
  int stop = l->stop;
  pthread_mutex_unlock(&l->mu);
  return stop;
}

static void set_leading(rt_leader *l, int on) {
  atomic_store(&l->leading, on);
  metric_set(l->status, on ? 1 : 0, l->name);
}

static void *run(void *arg) {
  rt_leader *l = arg;
  log_info("leader", "campaigning", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
  /* Acquire. */
  while (!try_acquire_or_renew(l)) {
    if (wait_or_stop(l, l->retry_s * 1000)) return NULL;
  }
  set_leading(l, 1);
  log_info("leader", "became leader", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
  if (l->on_started) l->on_started(l->arg);
  /* Renew until the deadline passes without success. */
  int64_t last_renew = time_mono_ms();
  for (;;) {
    if (wait_or_stop(l, l->retry_s * 1000)) return NULL;
    if (try_acquire_or_renew(l)) {
      last_renew = time_mono_ms();
      continue;
    }
    if (time_mono_ms() - last_renew > (int64_t)l->deadline_s * 1000) break;
  }
  set_leading(l, 0);
  log_error("leader", "leadership lost", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
  if (l->on_stopped) l->on_stopped(l->arg);
  return NULL;
}

rt_leader *rt_leader_start(kube_client *c, const rt_leader_options *o) {
  rt_leader *l = xcalloc(1, sizeof(*l));
  l->client = c;
  l->ns = xstrdup(o->namespace);
  l->name = xstrdup(o->name);
  l->identity = xstrdup(o->identity);
  l->lease_s = o->lease_duration_s > 0 ? o->lease_duration_s : 15;
  l->deadline_s = o->renew_deadline_s > 0 ? o->renew_deadline_s : 10;
  l->retry_s = o->retry_period_s > 0 ? o->retry_period_s : 2;
  l->on_started = o->on_started;
  l->on_stopped = o->on_stopped;
  l->arg = o->arg;
  if (o->metrics)
    l->status = metrics_gauge(o->metrics, "leader_election_master_status",
                              "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
                              "backup, 1 indicates master. 'name' is the string used to identify the lease.",
                              "name");
  metric_set(l->status, 0, l->name);
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cond, NULL);
  rt__thread_start(&l->thread, run, l);
  return l;
}

int rt_leader_is_leader(rt_leader *l) {
  return atomic_load(&l->leading);
}

static void release(rt_leader *l) {
  json_t *lease = NULL;
  kube_status st;
  if (kube_get(l->client, &kube_leases, l->ns, l->name, &lease, &st)) return;
  const char *holder = js_str(lease, "spec.holderIdentity");
  if (holder && strcmp(holder, l->identity) == 0) {
    char now[40];
    micro_time(now);
    json_t *spec = js_ensure_obj(lease, "spec");
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "renewTime", json_string(now));
    int rc = kube_update(l->client, &kube_leases, l->ns, lease, NULL, &st);
    if (rc == 0) log_info("leader", "released lease", "lease=%s/%s", l->ns, l->name);
    else log_warn("leader", "cannot release lease", "error=%s", cubit_strerror(rc));
  }
  json_decref(lease);
}

void rt_leader_stop(rt_leader *l, int do_release) {
  pthread_mutex_lock(&l->mu);
  l->stop = 1;
  pthread_cond_broadcast(&l->cond);
  pthread_mutex_unlock(&l->mu);
  pthread_join(l->thread, NULL);
  if (do_release && rt_leader_is_leader(l)) release(l);
  set_leading(l, 0);
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cond);
  free(l->observed_holder);
  free(l->observed_renew);
  free(l->ns);
  free(l->name);
  free(l->identity);
  free(l);
}
