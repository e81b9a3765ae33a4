/* Writing children the Kubernetes way: a controller computes the desired
 * object and applies it with server-side apply under Cubit's field manager;
 * children carry a controller ownerReference so garbage collection removes
 * them with their owner. */
#ifndef CUBIT_RUNTIME_APPLY_H
#define CUBIT_RUNTIME_APPLY_H

#include <jansson.h>

#include "cache/store.h"
#include "kube/client.h"

#define RT_FIELD_MANAGER "cubit-manager"

/* Sets child's metadata.ownerReferences to one controller reference to owner
 * (apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true). */
void rt_set_controller_ref(json_t *child, const json_t *owner);
/* 1 when obj's controller ownerReference points at owner's uid. */
int rt_is_controlled_by(const json_t *obj, const json_t *owner);

/* 1 when every field of 'want' is in 'have' with the same value (objects
 * compared key by key, arrays element by element, scalars exactly). */
int rt_json_subset(const json_t *want, const json_t *have);

/* The annotation recording a digest of the last desired object applied. */
#define RT_APPLIED_ANNOTATION "cubit.dev/applied"

/* Server-side applies 'desired' (apiVersion, kind, metadata.name and
 * namespace set) with force, unless 'live' already holds every field of
 * desired and was last applied from this very desired object (its
 * RT_APPLIED_ANNOTATION digest matches) — then nothing is sent: a reconcile
 * that changes nothing writes nothing. The digest is what notices a field
 * dropped from the desired object (server-side apply then removes it from
 * the live one), which a field-by-field comparison cannot see. live may be
 * NULL (always apply). *out (may be NULL) receives the object after the
 * apply, or a reference to live when skipped. *wrote (may be NULL) tells
 * whether a request was sent. */
/* 1 when rt_apply would send 'desired' over 'live' (NULL: absent): the live
 * object lacks a desired field or was last applied from another desired
 * object. A plan uses it to tell a change it is making now. */
int rt_apply_would_write(const json_t *desired, const json_t *live);
int rt_apply(kube_client *c, const kube_resource *r, const json_t *desired, const json_t *live, json_t **out,
             int *wrote, kube_status *st) CUBIT_WUR;
/* The same, looking 'live' up in store by desired's namespace and name. */
int rt_apply_cached(kube_client *c, cache_store *store, const kube_resource *r, const json_t *desired,
                    json_t **out, int *wrote, kube_status *st) CUBIT_WUR;

/* Makes live's status subresource exactly 'status' (Cubit owns its kinds'
 * status whole, so a field left out is a field to remove) with a JSON merge
 * patch of what differs from live's status, nothing sent when nothing
 * does. The patch carries live's resourceVersion: a status decided from a
 * stale object fails with CUBIT_ECONFLICT. A merge patch costs the API
 * server less than a server-side apply of the whole status. */
int rt_apply_status(kube_client *c, const kube_resource *r, const json_t *live, json_t *status, int *wrote,
                    kube_status *st) CUBIT_WUR;

/* Finalizers, written with a JSON patch guarded by the object's
 * resourceVersion (a concurrent change gives CUBIT_ECONFLICT: requeue). */
int rt_has_finalizer(const json_t *obj, const char *finalizer);
int rt_add_finalizer(kube_client *c, const kube_resource *r, const json_t *obj, const char *finalizer,
                     kube_status *st) CUBIT_WUR;
int rt_remove_finalizer(kube_client *c, const kube_resource *r, const json_t *obj, const char *finalizer,
                        kube_status *st) CUBIT_WUR;

#endif
