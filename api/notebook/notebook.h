/* The Notebook kind's vocabulary, shared by its controller
 * (controllers/notebook/) and its validating webhook
 * (webhooks/validate/notebook.c): the resource, the names Cubit writes on
 * Notebooks and their children, and the spec, parsed once into a struct
 * (docs/notebook.md). */
#ifndef CUBIT_API_NOTEBOOK_H
#define CUBIT_API_NOTEBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/cluster/placement.h"
#include "api/gpu/gpu.h"
#include "api/labels.h"
#include "kube/client.h"

extern const kube_resource notebook_resource;

#define NOTEBOOK_CONTAINER "notebook"           /* Cubit's container (a podTemplate extends it) */
#define NOTEBOOK_LABEL CUBIT_LABEL_NOTEBOOK            /* on children and the pod: the notebook's name */
#define NOTEBOOK_RENEW_ANNOTATION "cubit.dev/renew"    /* set by a user: renew the lease */
#define NOTEBOOK_STOPPED_BY_ANNOTATION "cubit.dev/stopped-by" /* set by Cubit: culler or lease */
#define NOTEBOOK_STOPPED_BY_CULLER "culler"
#define NOTEBOOK_STOPPED_BY_LEASE "lease"
#define NOTEBOOK_PORT 8888                             /* every IDE listens here */
#define NOTEBOOK_SERVICE_PORT 80
#define NOTEBOOK_MAX_VOLUMES 16
#define NOTEBOOK_PATH_LEN 256

typedef enum { NB_IDE_JUPYTER, NB_IDE_VSCODE, NB_IDE_RSTUDIO, NB_IDE_COUNT } notebook_ide;

/* How the activity is read. AUTO is the IDE's own signal. */
typedef enum {
  NB_PROBE_AUTO,
  NB_PROBE_JUPYTER,     /* GET <base URL>api/status: last_activity (RFC 3339) */
  NB_PROBE_CODE_SERVER, /* GET /healthz: lastHeartbeat (epoch milliseconds) */
  NB_PROBE_RSTUDIO,     /* GET /health-check: "idle-seconds: N" (Posit's format) */
  NB_PROBE_HTTP         /* GET spec.culling.probe.path: any of the formats above */
} notebook_probe_type;

typedef struct notebook_claim {
  const char *claim;      /* borrowed from the object */
  const char *mount_path;
  const char *sub_path;   /* or NULL */
  int read_only;
} notebook_claim;

/* spec, parsed once (quantities and the GPU grammar checked). Strings are
 * borrowed from the object, which must outlive the struct. */
typedef struct notebook_spec {
  notebook_ide ide;
  const char *image;       /* NULL: the IDE's default image */
  char cpu[32];            /* canonical quantities, "" when unset */
  char memory[32];
  char gpu[GPU_REQUEST_STRLEN]; /* canonical grammar string, "" when none */
  int workspace;           /* a workspace PVC (spec.volumes.workspace.enabled, default 1) */
  char workspace_size[32];
  const char *workspace_class;     /* storageClassName, or NULL for the default */
  const char *workspace_mount;     /* NULL: the IDE's home */
  notebook_claim claims[NOTEBOOK_MAX_VOLUMES];
  size_t nclaims;
  const json_t *env;           /* borrowed arrays/objects, or NULL */
  const json_t *node_selector;
  const json_t *tolerations;
  const json_t *pod_template;  /* spec.podTemplate (api/podtemplate) or NULL */
  int stopped;
  int culling;                 /* spec.culling given */
  int64_t idle_seconds;
  notebook_probe_type probe;
  char probe_path[NOTEBOOK_PATH_LEN]; /* for NB_PROBE_HTTP */
  int probe_port;              /* default NOTEBOOK_PORT */
  int64_t probe_period_s;      /* 0: the manager's default */
  int64_t probe_timeout_s;     /* default 5 */
  int lease;                   /* spec.lease given */
  int64_t lease_ttl_s;
  int64_t lease_warning_s;     /* default a tenth of the TTL */
  placement_spec place;        /* spec.cluster, spec.placement (never re-placed: its workspace stays) */
} notebook_spec;

/* Parses nb's spec. On a bad field returns CUBIT_EINVAL with a message
 * naming it ("spec.resources.gpu: ..."). Nothing to free. */
int notebook_spec_parse(const json_t *nb, notebook_spec *out, char *err, size_t errlen) CUBIT_WUR;

const char *notebook_ide_name(notebook_ide ide);
/* "/notebook/<ns>/<name>/" into out. */
void notebook_base_path(const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]);
/* The path the activity probe GETs for spec (on the pod, port spec->probe_port). */
void notebook_probe_path(const notebook_spec *spec, const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]);

/* What the notebook asks of a cluster: its one pod's cpu, memory and GPUs
 * (placement, and the quota of a cluster it is placed on). */
void nb_demand_of(const notebook_spec *spec, placement_demand *d);

#endif
