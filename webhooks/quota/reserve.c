#include "webhooks/quota/reserve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

typedef struct reservation {
  char *project, *user, *ns, *name;
  int workload; /* -1 for a pod */
  int64_t min_generation;
  usage amount;
  int64_t deadline_ms;
  struct reservation *next;
} reservation;

struct quota_reservations {
  pthread_mutex_t mu;
  reservation *head;
};

quota_reservations *quota_reservations_new(void) {
  quota_reservations *r = xcalloc(1, sizeof(*r));
  pthread_mutex_init(&r->mu, NULL);
  return r;
}

static void free_one(reservation *x) {
  free(x->project);
  free(x->user);
  free(x->ns);
  free(x->name);
  free(x);
}

void quota_reservations_free(quota_reservations *r) {
  if (r == NULL) return;
  while (r->head) {
    reservation *x = r->head;
    r->head = x->next;
    free_one(x);
  }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

/* Drops expired and seen reservations and sums the rest (mu held). */
static void sum_locked(quota_reservations *r, const char *project, const char *user, int64_t now_ms,
                       quota_seen_fn seen, void *arg, usage *proj, usage *member) {
  memset(proj, 0, sizeof(*proj));
  memset(member, 0, sizeof(*member));
  reservation **pp = &r->head;
  while (*pp) {
    reservation *x = *pp;
    if (x->deadline_ms <= now_ms || (seen && seen(x->workload, x->ns, x->name, x->min_generation, arg))) {
      *pp = x->next;
      free_one(x);
      continue;
    }
    if (strcmp(x->project, project) == 0) {
      usage_add(proj, &x->amount);
      if (user && x->user && strcmp(x->user, user) == 0) usage_add(member, &x->amount);
    }
    pp = &x->next;
  }
}

int quota_reserve_if(quota_reservations *r, const char *project, const char *user, int workload, const char *ns,
                     const char *name, int64_t min_generation, const usage *req, int64_t now_ms, int64_t ttl_ms,
                     quota_seen_fn seen, quota_check_fn check, void *arg) {
  usage proj, member;
  pthread_mutex_lock(&r->mu);
  sum_locked(r, project, user, now_ms, seen, arg, &proj, &member);
  int ok = check(&proj, &member, arg);
  if (ok && ttl_ms > 0) {
    reservation *x = xcalloc(1, sizeof(*x));
    x->project = xstrdup(project);
    x->user = user ? xstrdup(user) : NULL;
    x->ns = xstrdup(ns);
    x->name = xstrdup(name);
    x->workload = workload;
    x->min_generation = min_generation;
    x->amount = *req;
    x->deadline_ms = now_ms + ttl_ms;
    x->next = r->head;
    r->head = x;
  }
  pthread_mutex_unlock(&r->mu);
  return ok;
}

void quota_reservations_release(quota_reservations *r, int workload, const char *ns, const char *name,
                                int64_t generation) {
  pthread_mutex_lock(&r->mu);
  for (reservation **pp = &r->head; *pp;) {
    reservation *x = *pp;
    if (x->workload == workload && x->min_generation <= generation && strcmp(x->ns, ns) == 0 &&
        strcmp(x->name, name) == 0) {
      *pp = x->next;
      free_one(x);
    } else {
      pp = &x->next;
    }
  }
  pthread_mutex_unlock(&r->mu);
}

size_t quota_reservations_len(quota_reservations *r) {
  pthread_mutex_lock(&r->mu);
  size_t n = 0;
  for (reservation *x = r->head; x; x = x->next) n++;
  pthread_mutex_unlock(&r->mu);
  return n;
}
