/* Quota reservations: what admission has allowed but the cache does not
 * show yet. Two requests judged at the same moment must not both slip under
 * the limit, so an admitted request reserves its usage until the cache
 * shows its object (then the cache counts it) or a timeout passes (the
 * write failed after admission). A creation is shown once its object is in
 * the cache; an update that asked for more (parallelism, replicas, a pod's
 * resize) once the cached object's metadata.generation reaches the one the
 * update makes. Thread-safe. */
#ifndef CUBIT_WEBHOOKS_QUOTA_RESERVE_H
#define CUBIT_WEBHOOKS_QUOTA_RESERVE_H

#include <stdint.h>

#include "api/usage/usage.h"

typedef struct quota_reservations quota_reservations;

quota_reservations *quota_reservations_new(void);
void quota_reservations_free(quota_reservations *r);

/* Does the cache already show the reserved object, at min_generation or
 * later (0: in any version)? Called under the reservations' lock. */
typedef int (*quota_seen_fn)(int workload, const char *ns, const char *name, int64_t min_generation, void *arg);

/* Judges and reserves in one step, under the lock, so concurrent requests
 * see each other: 'check' gets the reserved totals (project and member) and
 * returns 1 to admit; on admit the request is recorded until now + ttl
 * (ttl_ms <= 0 judges without recording: dry runs). */
typedef int (*quota_check_fn)(const usage *reserved_project, const usage *reserved_member, void *arg);
int quota_reserve_if(quota_reservations *r, const char *project, const char *user, int workload, const char *ns,
                     const char *name, int64_t min_generation, const usage *req, int64_t now_ms, int64_t ttl_ms,
                     quota_seen_fn seen, quota_check_fn check, void *arg);

/* The object reached the cache at 'generation' (an informer's add or
 * update): the cache counts it from now on, so the reservations it
 * fulfils go. */
void quota_reservations_release(quota_reservations *r, int workload, const char *ns, const char *name,
                                int64_t generation);

size_t quota_reservations_len(quota_reservations *r);

#endif
