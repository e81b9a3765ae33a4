/* The manager's write guard: what RBAC cannot say about the manager's
 * writes, enforced before any request leaves the process.
 *
 * A ClusterRole grants in every namespace, so the manager's role that lets
 * it create pods and Deployments in project namespaces lets it do so in
 * kube-system too, and `delete namespaces` reaches every namespace. The
 * guard, installed on the manager's client (kube_client_set_write_guard),
 * refuses every write (POST, PUT, PATCH, DELETE) that:
 *   - lands in a system namespace (kube-system, kube-public,
 *     kube-node-lease), or in the manager's own namespace unless it is a
 *     Lease, a Secret or an Event there (leader election, the webhook
 *     certificate, events);
 *   - changes or deletes a system namespace or the manager's own;
 *   - deletes a namespace that does not carry RT_ANNOTATION_CREATED_BY_PROJECT
 *     (a Project deletes only the namespaces it created, never one it
 *     adopted), read from the API server at the time of the deletion;
 *   - writes a ClusterRole or ClusterRoleBinding whose name does not start
 *     with cluster_rbac_prefix (the per-project ones, "cubit-project:");
 *   - deletes a collection.
 * A refused write fails with CUBIT_EFORBIDDEN and the reason; nothing is
 * sent. Reads are never checked. */
#ifndef CUBIT_RUNTIME_GUARD_H
#define CUBIT_RUNTIME_GUARD_H

#include <jansson.h>
#include <stddef.h>

#include "kube/client.h"

/* On a namespace a Project created (value: the Project's name). Only such
 * namespaces may be deleted by the manager. Set by the Project controller
 * when it creates a namespace, never on one it adopts. */
#define RT_ANNOTATION_CREATED_BY_PROJECT "cubit.dev/created-by-project"

typedef struct rt_guard_options {
  const char *own_namespace;       /* the manager's namespace ("cubit-system") */
  const char *cluster_rbac_prefix; /* "cubit-project:" */
} rt_guard_options;

/* Reads the annotations of namespace 'name' into *labels (a new reference,
 * an empty object when it has none): returns 0, CUBIT_ENOTFOUND, or another
 * code when it cannot be read. */
typedef int (*rt_guard_namespace_fn)(void *arg, const char *name, json_t **labels);

/* The decision for one request, without I/O of its own: 0 to let it go,
 * CUBIT_EFORBIDDEN with the reason in why, or the code of 'labels' when a
 * namespace to delete is gone (CUBIT_ENOTFOUND) or cannot be read. 'labels'
 * is asked only when a namespace is to be deleted. */
int rt_guard_decide(const rt_guard_options *o, const char *method, const char *path, const char *body,
                    size_t body_len, rt_guard_namespace_fn labels, void *labels_arg, char *why, size_t whylen);

typedef struct rt_guard rt_guard;

/* Installs the guard on c; options are copied. rt_guard_free after the
 * client is freed. */
rt_guard *rt_guard_install(kube_client *c, const rt_guard_options *o);
void rt_guard_free(rt_guard *g);

#endif
