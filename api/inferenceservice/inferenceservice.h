/* InferenceService's vocabulary, shared by its controller and its
 * validating webhook: the resource, its labels, the runtimes, and the spec
 * parsed once into a struct.
 *   spec.c      the resource and the spec parser (what the webhook checks)
 *   schedule.c  the cron HPA floor: windows in IANA time zones, and their
 *               overlaps (the webhook refuses those)
 * The controller (controllers/inferenceservice/) builds children and status
 * from these; docs/inferenceservice.md describes the behaviour for users. */
#ifndef CUBIT_API_INFERENCESERVICE_H
#define CUBIT_API_INFERENCESERVICE_H

#include <jansson.h>
#include <stdint.h>

#include "api/cluster/placement.h"
#include "api/gpu/gpu.h"
#include "api/labels.h"
#include "kube/client.h"
#include "util/err.h"
#include "util/quantity.h"
#include "util/tz.h"

extern const kube_resource inference_resource;

#define INFERENCE_LABEL CUBIT_LABEL_INFERENCESERVICE
#define INFERENCE_REVISION_LABEL CUBIT_LABEL_REVISION
/* The name of the serving container Cubit makes (a podTemplate extends it). */
#define INFERENCE_CONTAINER "server"
#define INFERENCE_MODEL_VERSION_LABEL "cubit.dev/model-version"
#define INFERENCE_MODEL_DIR "/mnt/models"
#define INFERENCE_NAME_MAX 52 /* leaves room for "-<10 hex>" in a 63-character name */
#define INFERENCE_MAX_METRICS 8
#define INFERENCE_MAX_WINDOWS 16
#define INFERENCE_DEFAULT_GPU_METRIC "DCGM_FI_DEV_GPU_UTIL"
#define INFERENCE_DEFAULT_QPS_METRIC "http_requests_qps"

typedef enum {
  INFERENCE_TFSERVING,
  INFERENCE_TORCHSERVE,
  INFERENCE_TRITON,
  INFERENCE_ONNXRUNTIME,
  INFERENCE_VLLM,
  INFERENCE_CUSTOM,
  INFERENCE_RUNTIME_COUNT
} inference_runtime;

/* What a runtime brings unless the spec overrides it. "%s" in args and
 * health_path stands for the model name. */
typedef struct inference_runtime_info {
  const char *name;
  const char *image;         /* NULL for custom: spec.image is required */
  const char *command[4];    /* NULL-terminated; empty = the image's entrypoint */
  const char *args[8];
  int http, grpc, metrics;   /* container ports; 0 = none */
  const char *health_path;   /* readiness probe path; NULL = a TCP probe on http */
  const char *metrics_path;
} inference_runtime_info;

const inference_runtime_info *inference_runtime_get(inference_runtime r);

typedef enum { INFERENCE_MODEL_NONE, INFERENCE_MODEL_PVC, INFERENCE_MODEL_FETCH } inference_model_source;

/* One predictor: the fields that make a pod template, effective values
 * (runtime defaults applied). Strings and JSON are borrowed from the
 * inference_spec that holds it. */
typedef struct inference_predictor {
  inference_runtime runtime;
  const char *image;
  const json_t *command, *args; /* overrides (arrays of strings) or NULL */
  int http, grpc, metrics;
  const char *health_path;      /* NULL = TCP probe */
  const char *model_name;       /* the InferenceService's name unless set */
  const char *model_uri;        /* NULL = none */
  const char *model_version;    /* NULL = none */
  inference_model_source source;
  char pvc_claim[254];
  const char *pvc_path;         /* "" for the claim's root */
  char cpu[QUANTITY_STRLEN], memory[QUANTITY_STRLEN]; /* canonical, "" = unset */
  char gpu[GPU_REQUEST_STRLEN];                       /* canonical grammar, "" = none */
  const json_t *env, *volumes, *node_selector, *tolerations;
  const json_t *pod_template;   /* the revision's podTemplate (api/podtemplate) or NULL */
  int min_replicas, max_replicas;
} inference_predictor;

typedef enum { INFERENCE_METRIC_CPU, INFERENCE_METRIC_MEMORY, INFERENCE_METRIC_GPU, INFERENCE_METRIC_QPS } inference_metric_type;

typedef struct inference_metric {
  inference_metric_type type;
  int target_utilization;           /* cpu, memory, gpu: percent */
  char target_value[QUANTITY_STRLEN]; /* qps: canonical quantity */
  char name[254];                   /* gpu, qps: the Pods metric */
} inference_metric;

/* A window of the cron HPA: [start, end) in minutes of the local day of
 * time_zone; end < start crosses midnight. */
typedef struct inference_window {
  int start, end;
  char time_zone[128]; /* an IANA zone name */
  int min_replicas;
} inference_window;

typedef struct inference_spec {
  json_t *stable_json, *canary_json; /* owned: the predictor objects (the canary merged over the main spec) */
  inference_predictor stable;
  int has_canary;
  inference_predictor canary;
  int canary_percent;
  int mirror;                       /* spec.mirror present */
  int mirror_percent;
  const char *mirror_service;       /* NULL: the canary */
  int mirror_port;                  /* 0: the service's default */
  const json_t *hosts;              /* spec.route.hosts or NULL */
  char path_prefix[512];
  const char *gateway;
  int timeout_s, retries;           /* 0 = unset */
  inference_metric metrics[INFERENCE_MAX_METRICS];
  size_t nmetrics;
  const json_t *behavior;
  inference_window windows[INFERENCE_MAX_WINDOWS];
  size_t nwindows;
  placement_spec place;             /* spec.cluster, spec.placement (docs/multicluster.md) */
} inference_spec;

/* Parses isvc's spec (runtime defaults, canary merged as a JSON merge patch
 * over the main predictor, quantities and the GPU grammar checked, time
 * zones of the system tz database). On a bad field returns
 * CUBIT_EINVAL with a message naming it ("spec.replicas: min 3 is above max
 * 2"). On success the caller frees with inference_spec_free. */
int inference_spec_parse(const json_t *isvc, inference_spec *out, char *err,
                         size_t errlen) CUBIT_WUR;
void inference_spec_free(inference_spec *s);

/* What the service asks of the cluster it is placed on, pure: every
 * replica of the floor in force (spec.replicas.min, or a schedule window's:
 * inference_schedule_floor) and the canary's minimum, at once. Shared by
 * placement and the quota of a cluster it is placed on. */
void isvc_demand_of(const inference_spec *s, int floor, placement_demand *out);

/* ------------------------------------------------------------ schedule */

/* The HPA floor at 'now' (epoch seconds): the largest minReplicas of the
 * windows containing now, else spec.replicas.min. *window is the index of
 * the window that set it or -1; *next is the next instant a window starts
 * or ends (INT64_MAX without windows). */
int inference_schedule_floor(const inference_spec *s, int64_t now, int *floor, int *window,
                             int64_t *next, char *err, size_t errlen) CUBIT_WUR;
/* CUBIT_EINVAL when two windows share a moment (in any of the UTC offsets
 * their zones keep together during the year from now), naming both. */
int inference_windows_overlap(const inference_spec *s, int64_t now, char *err,
                              size_t errlen) CUBIT_WUR;

#endif
