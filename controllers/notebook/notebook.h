/* Notebook: JupyterLab, VS Code (code-server) or RStudio in the browser
 * (cube-studio's 在线开发), with the project's storage and GPUs, stopped when
 * nobody uses it (idle culling from the IDE's own activity signal) or when
 * its lease runs out. What happens to a Notebook is all here (docs/notebook.md):
 *
 *   spec.c      the spec, parsed once into a struct; the manager's settings
 *   children.c  the desired children: workspace PVC, Service, StatefulSet,
 *               Istio VirtualService or Ingress
 *   activity.c  the activity parsers (Jupyter, code-server, RStudio, generic)
 *               and the culling and lease decisions, as pure functions
 *   phase.c     the phase and reason from the pod
 *   notebook.c  the reconcile loop and its watches */
#ifndef CUBIT_CONTROLLERS_NOTEBOOK_H
#define CUBIT_CONTROLLERS_NOTEBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "runtime/manager.h"
#include "api/gpu/gpu.h"

extern const kube_resource notebook_resource;
extern const kube_resource notebook_virtualservices;

#define NOTEBOOK_LABEL "cubit.dev/notebook"            /* on children and the pod: the notebook's name */
#define NOTEBOOK_RENEW_ANNOTATION "cubit.dev/renew"    /* set by a user: renew the lease */
#define NOTEBOOK_STOPPED_BY_ANNOTATION "cubit.dev/stopped-by" /* set by Cubit: culler or lease */
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
} notebook_spec;

/* Parses nb's spec. On a bad field returns CUBIT_EINVAL with a message
 * naming it ("spec.resources.gpu: ..."). Nothing to free. */
int notebook_spec_parse(const json_t *nb, notebook_spec *out, char *err, size_t errlen) CUBIT_WUR;

/* The manager's settings (--config section "notebook", docs/notebook.md). */
typedef struct notebook_config {
  int istio;                   /* use an Istio VirtualService when the API exists (default 1) */
  char gateway[256];           /* "namespace/name" of the Istio Gateway */
  char host[256];              /* VirtualService host and Ingress rule host ("" = any) */
  char ingress_class[128];     /* an Ingress when set and no VirtualService */
  json_t *ingress_annotations; /* added to every Ingress (owned), or NULL */
  char url_base[256];          /* prefix of status.url, e.g. "https://ml.example.com" */
  char images[NB_IDE_COUNT][256]; /* default image per IDE */
  int64_t probe_period_s;      /* default 60 */
  int64_t probe_timeout_s;     /* default 5 */
  const gpu_profile *gpu;      /* borrowed; NULL = whole cards */
} notebook_config;

/* Reads the "notebook" section (may be NULL: every default). Unknown keys
 * and bad values are CUBIT_EINVAL with the reason in err. Release with
 * notebook_config_free. */
int notebook_config_parse(const json_t *section, const gpu_profile *gpu, notebook_config *out, char *err,
                          size_t errlen) CUBIT_WUR;
void notebook_config_free(notebook_config *c);

const char *notebook_ide_name(notebook_ide ide);
/* "/notebook/<ns>/<name>/" into out. */
void notebook_base_path(const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]);
/* The path the activity probe GETs for spec (on the pod, port spec->probe_port). */
void notebook_probe_path(const notebook_spec *spec, const char *ns, const char *name, char out[NOTEBOOK_PATH_LEN]);

/* ------------------------------------------------------------ children
 * Each returns a new object (caller releases) carrying the controller
 * ownerReference to nb; nb is the Notebook as read (metadata, annotations). */

/* The workspace PVC "<name>-workspace", or NULL when spec->workspace is 0. */
json_t *notebook_desired_pvc(const json_t *nb, const notebook_spec *spec);
json_t *notebook_desired_service(const json_t *nb, const notebook_spec *spec);
/* The StatefulSet: replicas 0 when stopped. in_project: the namespace
 * belongs to a Project, whose pod webhook translates the GPU annotation;
 * elsewhere the GPU request is translated here through cfg->gpu.
 * Returns NULL with err set when the GPU request cannot be translated. */
json_t *notebook_desired_statefulset(const json_t *nb, const notebook_spec *spec, const notebook_config *cfg,
                                     int in_project, char *err, size_t errlen);
json_t *notebook_desired_virtualservice(const json_t *nb, const notebook_spec *spec, const notebook_config *cfg);
json_t *notebook_desired_ingress(const json_t *nb, const notebook_spec *spec, const notebook_config *cfg);

/* ------------------------------------------------------------ activity */

/* Reads the last activity (epoch seconds) out of a probe's response body.
 * type AUTO/HTTP accept any known format. 'now' turns RStudio's idle
 * seconds into a time. Returns 0 and *last, or CUBIT_EINVAL with the reason
 * in err (malformed body, field missing). *last may be 0 for "never"
 * (code-server before its first heartbeat). */
int notebook_activity_parse(notebook_probe_type type, const char *body, size_t len, int64_t now, int64_t *last,
                            char *err, size_t errlen) CUBIT_WUR;

/* The culling decision: the notebook has been idle since 'last_activity'
 * (epoch s); cull when now - last_activity >= idle_seconds. Returns 1 to
 * cull, else 0 and *next_s = seconds until it would be culled. */
int notebook_cull_due(int64_t last_activity, int64_t idle_seconds, int64_t now, int64_t *next_s);

/* The lease: renewed (or started) at 'renewed_at', ttl and warning from the
 * spec, warned_at the time of the warning Event for this lease (0 = none).
 * Sets *expires_at; returns NB_LEASE_EXPIRED, NB_LEASE_WARN (record the
 * warning now) or NB_LEASE_OK, with *next_s = seconds until the next of
 * those moments. */
typedef enum { NB_LEASE_OK, NB_LEASE_WARN, NB_LEASE_EXPIRED } notebook_lease_state;
notebook_lease_state notebook_lease_check(int64_t renewed_at, int64_t ttl_s, int64_t warning_s, int64_t warned_at,
                                          int64_t now, int64_t *expires_at, int64_t *next_s);

/* --------------------------------------------------------------- phase */

typedef struct notebook_phase {
  char phase[16];   /* Pending, Starting, Running, Stopped, Culled, Expired, Failed */
  char reason[64];  /* CamelCase: the pod's reason (ImagePullBackOff, Unschedulable, ...) */
  char message[512];
} notebook_phase;

/* The phase of a notebook that should run, from its pod (borrowed, NULL when
 * there is none yet). */
void notebook_pod_phase(const json_t *pod, notebook_phase *out);

/* Registers the controller. cfg is copied (the manager frees it). */
int notebook_controller_register(rt_manager *m, const notebook_config *cfg) CUBIT_WUR;

#endif
