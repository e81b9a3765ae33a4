/* Quota reservations: what admission has allowed but the cache does not
 * show yet. Two requests judged at the same moment must not both slip under
 * the limit, so an admitted request reserves its usage until the cache
 * shows its object (then the cache counts it) or a timeout passes (the
 * write failed after admission). A creation is shown once its object is in
 * the cache; an update that asked for more (parallelism, replicas, a pod's
 * resize) once the cached object's metadata.generation reaches the one the
 * update makes; a placement (a status write setting status.cluster) once
 * the cached object is in the cluster it reserved. Reservations are told
 * apart by cluster: one counts against the quota of its own cluster only.
 * Thread-safe. */
#ifndef CUBIT_WEBHOOKS_QUOTA_RESERVE_H
#define CUBIT_WEBHOOKS_QUOTA_RESERVE_H

#include <stdint.h>

#include "api/usage/usage.h"

typedef struct quota_reservations quota_reservations;

quota_reservations *quota_reservations_new(void);
void quota_reservations_free(quota_reservations *r);

/* One admitted request (strings borrowed for the call). */
typedef struct quota_claim {
  const char *project;
  const char *user;           /* the creator charged, or NULL */
  int kind;                   /* -1 a pod, else the object kind's number (the caller's) */
  const char *ns, *name;
  int64_t min_generation;     /* shown at this generation or later (0: in any version) */
  const char *cluster;        /* the cluster it lands in (spec.clusters[].name), NULL: none */
  usage total;                /* against the project's total and the creator's limits */
  usage there;                /* against the quota of 'cluster' */
} quota_claim;

/* What pending reservations hold: of the project, of the creator, and in
 * the request's cluster. */
typedef struct quota_reserved {
  usage project, member, there;
} quota_reserved;

/* Does the cache already show the reserved object, at min_generation or
 * later, in 'cluster' (NULL: in any)? Called under the reservations' lock. */
typedef int (*quota_seen_fn)(int kind, const char *ns, const char *name, int64_t min_generation, const char *cluster,
                             void *arg);

/* Judges and reserves in one step, under the lock, so concurrent requests
 * see each other: 'check' gets the reserved sums for c's project, creator
 * and cluster and returns 1 to admit; on admit c is recorded until now +
 * ttl (ttl_ms <= 0 judges without recording: dry runs). */
typedef int (*quota_check_fn)(const quota_reserved *reserved, void *arg);
int quota_reserve_if(quota_reservations *r, const quota_claim *c, int64_t now_ms, int64_t ttl_ms, quota_seen_fn seen,
                     quota_check_fn check, void *arg);

/* The object reached the cache at 'generation', in 'cluster' (where it
 * lands now, or NULL) (an informer's add or update): the cache counts it
 * from now on, so the reservations it fulfils go. */
void quota_reservations_release(quota_reservations *r, int kind, const char *ns, const char *name, int64_t generation,
                                const char *cluster);

size_t quota_reservations_len(quota_reservations *r);

#endif
