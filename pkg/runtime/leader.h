/* Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
 * the leader renews the lease every retry period; a candidate takes it over
 * once it has seen no renewal for a whole lease duration (measured on its own
 * clock, so clock skew between nodes does not matter). A leader that cannot
 * renew within the renew deadline stops leading.
 *
 * Runs on its own thread with the blocking client. */
#ifndef CUBIT_RUNTIME_LEADER_H
#define CUBIT_RUNTIME_LEADER_H

#include "kube/client.h"
#include "util/metrics.h"

typedef struct rt_leader_options {
  const char *namespace;    /* of the Lease */
  const char *name;         /* of the Lease */
  const char *identity;     /* this replica: hostname_uuid */
  int lease_duration_s;     /* default 15 */
  int renew_deadline_s;     /* default 10 */
  int retry_period_s;       /* default 2 */
  /* Called on the election thread when leadership starts or is lost. */
  void (*on_started)(void *arg);
  void (*on_stopped)(void *arg);
  void *arg;
  metrics_registry *metrics; /* leader_election_master_status{name} */
} rt_leader_options;

typedef struct rt_leader rt_leader;

/* Starts campaigning. Strings in opts are copied. */
rt_leader *rt_leader_start(kube_client *c, const rt_leader_options *opts);
int rt_leader_is_leader(rt_leader *l);
/* Stops campaigning and joins the thread. When leading and 'release' is
 * set, gives the lease up (empty holder, 1 s duration) so another replica
 * takes over at once instead of after a lease duration. Frees l. */
void rt_leader_stop(rt_leader *l, int release);

#endif
