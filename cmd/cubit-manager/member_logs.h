/* The manager's endpoint for the pod logs of objects placed on member
 * clusters (runtime/member_logs.h), on its webhook server. */
#ifndef CUBIT_MANAGER_MEMBER_LOGS_H
#define CUBIT_MANAGER_MEMBER_LOGS_H

#include "runtime/manager.h"

typedef struct mgr_logs mgr_logs;

/* Routes RT_LOGS_PREFIX on the manager's webhook server (nothing when it
 * is disabled: *out NULL). 'ns' is the manager's namespace, where the
 * members' kubeconfig Secrets are. Before rt_manager_run. */
int mgr_logs_start(rt_manager *m, const char *ns, mgr_logs **out) CUBIT_WUR;
/* After rt_manager_free (the server is gone). */
void mgr_logs_free(mgr_logs *l);

#endif
