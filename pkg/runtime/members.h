/* Member clusters: a client, a watcher and informers for each member cluster
 * beside the manager's own (the hub's), docs/multicluster.md.
 *
 * The Cluster controller connects a member with rt_member_ensure (from a
 * worker) once its kubeconfig is valid; the member's informers then run on
 * the manager's loop thread exactly as the hub's do (paginated list, watch
 * with bookmarks, resume from the last resourceVersion, backoff from 800 ms
 * to 30 s, relist on 410 Gone), so a member that goes away and comes back
 * is caught up without a restart. A new fingerprint (the Secret changed)
 * replaces the member's client and informers; rt_member_remove stops them.
 * Any controller's gather reads a member's cache by the cluster's name with
 * rt_member_list / rt_member_get, as it reads the hub's with rt_store. A
 * change to a member's object enqueues the cluster's name on the controller
 * that connected it (debounced by a second: pods change often). Besides
 * the kinds the connecting controller names, every member caches the kinds
 * controllers declare in their definition's member_watches, whose changes
 * are mapped to those controllers' keys.
 *
 * Every function may be called from any thread. */
#ifndef CUBIT_RUNTIME_MEMBERS_H
#define CUBIT_RUNTIME_MEMBERS_H

#include "cache/store.h"
#include "kube/client.h"
#include "runtime/controller.h"

/* Connects member 'cluster' with the kubeconfig *cfg, unless it already
 * runs with the same fingerprint (any string that changes whenever the
 * kubeconfig does, e.g. the Secret's uid and resourceVersion). 'resources'
 * (NULL-terminated, static, at most RT_MAX_WATCHES) are the kinds cached from
 * it. *cfg is taken in every case (the caller's struct is zeroed).
 * Returns 1 when (re)connected now, 0 when it already ran, CUBIT_ESHUTDOWN
 * when the manager is stopping, or the client's error (cfg unusable). */
int rt_member_ensure(const rt_ctx *ctx, const char *cluster, const char *fingerprint, kube_config *cfg,
                     const kube_resource *const *resources) CUBIT_WUR;
/* Stops and forgets member 'cluster' (nothing when it does not run). */
void rt_member_remove(const rt_ctx *ctx, const char *cluster);
/* 1 when member 'cluster' runs and each informer of the resources its
 * connecting controller named has listed once. */
int rt_member_synced(const rt_ctx *ctx, const char *cluster);
/* 1 when member 'cluster' runs and its informer of r (the connector's, or
 * one a controller declared in member_watches) has listed once. */
int rt_member_resource_synced(const rt_ctx *ctx, const char *cluster, const kube_resource *r);
/* References to the cached objects of r (one of the member's resources) in
 * ns (NULL: all), as cache_store_list. Returns 0, CUBIT_ENOTFOUND when no
 * such member runs, CUBIT_ENOTSUP when r is not cached from it; *out is
 * then empty. */
int rt_member_list(const rt_ctx *ctx, const char *cluster, const kube_resource *r, const char *ns,
                   cache_list *out) CUBIT_WUR;
/* A new reference to one cached object of member 'cluster', or NULL. */
json_t *rt_member_get(const rt_ctx *ctx, const char *cluster, const kube_resource *r, const char *ns,
                      const char *name);

/* Member 'cluster''s client, for writing to the member (rt_execute does
 * for a plan's actions in a member). The reference keeps the client alive
 * even if the member is replaced or removed meanwhile; give it back with
 * rt_member_put. NULL (and *client NULL) when no such member runs. */
typedef struct rt_member rt_member;
rt_member *rt_member_acquire(const rt_ctx *ctx, const char *cluster, kube_client **client) CUBIT_WUR;
void rt_member_put(rt_member *mb);

#endif
