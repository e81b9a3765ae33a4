/* Notebook: JupyterLab, VS Code (code-server) or RStudio in the browser
 * (cube-studio's 在线开发), with the project's storage and GPUs, stopped when
 * nobody uses it (idle culling from the IDE's own activity signal) or when
 * its lease runs out. What happens to a Notebook is all here (docs/notebook.md):
 *
 *   config.c    the manager's settings
 *   children.c  the desired children: workspace PVC, Service, StatefulSet,
 *               Istio VirtualService or Ingress
 *   activity.c  the activity parsers (Jupyter, code-server, RStudio, generic)
 *               and the culling and lease clocks, as pure functions
 *   phase.c     what the pod says: phase, state, reason, message
 *   plan.c      the plan: where it runs (the hub or a member cluster), what
 *               should exist, the status, events, requeue
 *   notebook.c  the reconcile (gather, probe, plan, execute) and its watches
 *
 * The resource, the spec and its parser are Cubit's vocabulary, shared with
 * the validating webhook: api/notebook/. */
#ifndef CUBIT_CONTROLLERS_NOTEBOOK_H
#define CUBIT_CONTROLLERS_NOTEBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/gpu/gpu.h"
#include "api/notebook/notebook.h"
#include "kube/client.h"
#include "runtime/manager.h"
#include "runtime/plan.h"
#include "runtime/status.h"

extern const kube_resource notebook_virtualservices;

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
/* The route on Istio Gateway 'gateway' ("namespace/name"): the hub's
 * (notebook.gateway) or, placed on a member, that Cluster's spec.gateway;
 * host_match "" or NULL matches any host. */
json_t *notebook_desired_virtualservice(const json_t *nb, const notebook_spec *spec, const char *gateway,
                                        const char *host_match);
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

/* A notebook that should run waits this long for the scheduler before its
 * state is FAILED (kstatus judges a Pod alike; docs/status.md). */
#define NOTEBOOK_UNSCHEDULABLE_GRACE_S 60

/* What the notebook's pod says (docs/notebook.md#status). */
typedef struct notebook_phase {
  char phase[16];   /* Pending, Starting, Running, Failed */
  rt_state state;   /* PROGRESSING, READY or FAILED */
  char reason[64];  /* CamelCase: the pod's (Unschedulable, ImagePullBackOff, ...) or ours (PodNotCreated, ...) */
  char message[768]; /* the scheduler's or kubelet's words, quoted "Reason: message" */
  int warn;         /* the pod waits in vain or fails: worth a Warning event */
  int64_t recheck_s; /* > 0: the judgement changes by itself after this long (unschedulable turning FAILED) */
} notebook_phase;

/* The phase of a notebook that should run, from its pod (borrowed, NULL when
 * there is none yet) at 'now' (epoch s). */
void notebook_pod_phase(const json_t *pod, int64_t now, notebook_phase *out);
/* 1 when the pod runs, is ready and has an IP: the IDE can be probed. */
int notebook_pod_serving(const json_t *pod);

/* ---------------------------------------------------------------- plan */

/* What a probe of the IDE's activity found: the reconcile's only I/O
 * besides the cache, done before the plan and handed to it. */
typedef struct notebook_probe_result {
  int probed;        /* 0: not probed this time (culling off, pod not serving) */
  int ok;
  int64_t last;      /* the reported last activity (epoch s), when ok */
  char message[512]; /* "GET <url>: <why>", when not ok */
} notebook_probe_result;

/* Everything the plan reads. Objects are borrowed. */
typedef struct nb_observed {
  const json_t *nb;             /* the Notebook as read from the cache */
  const notebook_spec *spec;    /* parsed from nb; NULL when spec_error says why not */
  const char *spec_error;
  const notebook_config *cfg;
  int in_project;               /* nb's namespace belongs to a Project (its pod webhook translates the GPU) */
  int virtualservices_served;   /* the cluster serves Istio's VirtualServices */
  /* The children named like the notebook, as the cache holds them, or NULL
   * (the claim and the Service are applied whatever they look like now). */
  const json_t *statefulset, *virtualservice, *ingress;
  const json_t *pod;            /* "<name>-0" labelled cubit.dev/notebook=<name>, or NULL */
  /* While there is no pod: the StatefulSet's newest FailedCreate Event (the
   * API server's refusal: Pod Security, a ResourceQuota, a webhook), or NULL. */
  const json_t *create_refused;
  notebook_probe_result probe;
  int64_t now;                  /* epoch seconds */
  /* Placement (docs/multicluster.md, "Notebooks in members"): the namespace's project's
   * clusters in its order (none: the project spans none, the notebook runs
   * in the hub), each as the hub sees it now (placement_candidates_gather). */
  const char *project_name;
  const placement_view *clusters;
  size_t nclusters;
  /* Placed on a member: the children above are the member's, and these two
   * as well (the hub deletes them itself when the notebook goes). */
  const json_t *service, *pvc;
  /* Placed on a member whose Cluster names its user-facing Istio Gateway
   * (spec.gateway) and serves Istio, its caches listed: that Gateway and the
   * URL users reach it at; the notebook is routed there (NULL: no route). */
  const char *member_gateway, *member_url_base;
  /* Placed on a member: the Warning Events there about its StatefulSet and
   * pod (rt_member_child_events), relayed once each onto the notebook. */
  json_t *const *member_events;
  size_t nmember_events;
  int64_t remote_cleanup_timeout_s; /* 0: PLACEMENT_REMOTE_CLEANUP_TIMEOUT_S */
} nb_observed;

/* The plan: what Cubit writes on the Notebook itself (a stop by the culler
 * or the lease, a consumed renewal), the children to apply and the routes
 * to delete, the whole status, the events and when to look again. Pure: no
 * I/O, no clock. */
void nb_plan(const nb_observed *in, rt_plan *out);

/* Registers the controller. cfg is copied (the manager frees it). */
int notebook_controller_register(rt_manager *m, const notebook_config *cfg) CUBIT_WUR;

#endif
