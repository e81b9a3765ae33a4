#include "webhooks/quota/reserve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

typedef struct reservation {
  char *project, *user, *ns, *name, *cluster;
  int kind; /* -1 for a pod */
  int64_t min_generation;
  usage total, there;
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
  free(x->cluster);
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

static int same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Drops expired and seen reservations and sums the rest of c's project,
 * creator and cluster (mu held). */
static void sum_locked(quota_reservations *r, const quota_claim *c, int64_t now_ms, quota_seen_fn seen, void *arg,
                       quota_reserved *out) {
  memset(out, 0, sizeof(*out));
  reservation **pp = &r->head;
  while (*pp) {
    reservation *x = *pp;
    if (x->deadline_ms <= now_ms ||
        (seen && seen(x->kind, x->ns, x->name, x->min_generation, x->cluster, arg))) {
      *pp = x->next;
      free_one(x);
      continue;
    }
    if (same(x->project, c->project)) {
      usage_add(&out->project, &x->total);
      if (same(x->user, c->user)) usage_add(&out->member, &x->total);
      if (same(x->cluster, c->cluster)) usage_add(&out->there, &x->there);
    }
    pp = &x->next;
  }
}

int quota_reserve_if(quota_reservations *r, const quota_claim *c, int64_t now_ms, int64_t ttl_ms, quota_seen_fn seen,
                     quota_check_fn check, void *arg) {
  quota_reserved sums;
  pthread_mutex_lock(&r->mu);
  sum_locked(r, c, now_ms, seen, arg, &sums);
  int ok = check(&sums, arg);
  if (ok && ttl_ms > 0) {
    reservation *x = xcalloc(1, sizeof(*x));
    x->project = xstrdup(c->project);
    x->user = c->user ? xstrdup(c->user) : NULL;
    x->ns = xstrdup(c->ns);
    x->name = xstrdup(c->name);
    x->cluster = c->cluster ? xstrdup(c->cluster) : NULL;
    x->kind = c->kind;
    x->min_generation = c->min_generation;
    x->total = c->total;
    x->there = c->there;
    x->deadline_ms = now_ms + ttl_ms;
    x->next = r->head;
    r->head = x;
  }
  pthread_mutex_unlock(&r->mu);
  return ok;
}

void quota_reservations_release(quota_reservations *r, int kind, const char *ns, const char *name, int64_t generation,
                                const char *cluster) {
  pthread_mutex_lock(&r->mu);
  for (reservation **pp = &r->head; *pp;) {
    reservation *x = *pp;
    if (x->kind == kind && x->min_generation <= generation && strcmp(x->ns, ns) == 0 && strcmp(x->name, name) == 0 &&
        (x->cluster == NULL || same(x->cluster, cluster))) {
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
