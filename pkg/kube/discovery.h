/* Discovery: which group/version/resources the API server serves.
 *
 * Controllers for optional APIs (training operator, Volcano, Istio) ask
 * kube_discovery_has() before touching them. The manager refreshes discovery
 * whenever a CustomResourceDefinition becomes Established, so an API
 * installed after start-up is picked up without a restart. Thread-safe. */
#ifndef CUBIT_KUBE_DISCOVERY_H
#define CUBIT_KUBE_DISCOVERY_H

#include "kube/client.h"

typedef struct kube_discovery kube_discovery;

kube_discovery *kube_discovery_new(kube_client *c);
void kube_discovery_free(kube_discovery *d);
/* Reads every group, version and resource (aggregated discovery,
 * apidiscovery.k8s.io/v2, in one request; falling back to the per-group
 * endpoints) and replaces the known set. */
int kube_discovery_refresh(kube_discovery *d, kube_status *st) CUBIT_WUR;
/* 1 when group/version serves 'resource' (plural), else 0. */
int kube_discovery_has(kube_discovery *d, const char *group, const char *version, const char *resource);
int kube_discovery_has_resource(kube_discovery *d, const kube_resource *r);
/* Number of resources known (for logs and tests). */
size_t kube_discovery_count(kube_discovery *d);

#endif
