/* Cluster: a member Kubernetes cluster the hub reaches through a kubeconfig
 * held in a Secret (docs/multicluster.md). The resource and its spec as a C
 * struct: what the Cluster controller and a validating webhook both read.
 * The hub's own cluster is implicit and has no object: its name is
 * CLUSTER_LOCAL, which no Cluster may take. */
#ifndef CUBIT_API_CLUSTER_H
#define CUBIT_API_CLUSTER_H

#include <jansson.h>
#include <stddef.h>

#include "api/gang/gang.h"
#include "kube/client.h"
#include "util/err.h"

extern const kube_resource cluster_resource;

#define CLUSTER_LOCAL "local"
#define CLUSTER_DEFAULT_KEY "kubeconfig"

/* spec, parsed once. Strings are borrowed from the object the spec was
 * parsed from (keep it alive while the spec is used). */
typedef struct cluster_spec {
  const char *secret_namespace; /* NULL: the manager's namespace */
  const char *secret_name;
  const char *secret_key;       /* CLUSTER_DEFAULT_KEY when unset */
  const char *context;          /* NULL: the kubeconfig's current-context */
  const json_t *labels;         /* spec.labels (an object of strings) or NULL */
  /* spec.gangScheduler: the gang scheduler the member runs, in the grammar
   * of the manager's gang setting (absent: none). The hub writes its marks
   * into the pod templates of the multi-pod jobs it places there, since no
   * Cubit pod webhook runs in a member. */
  gang_config gang;
  /* spec.gateway: the member's Istio Gateway users reach ("namespace/name")
   * and the URL they reach it at ("https://east.ml.example.com"); the hub
   * routes a notebook placed there through it. Both NULL when unset. */
  const char *gateway;
  const char *gateway_url_base;
} cluster_spec;

/* Parses obj's metadata.name and spec into *out. Returns 0 or CUBIT_EINVAL
 * with a message naming the field ("spec.kubeconfig.secretRef.name: not
 * set") in err. Nothing to free. */
int cluster_spec_parse(const json_t *obj, cluster_spec *out, char *err, size_t errlen) CUBIT_WUR;

#endif
