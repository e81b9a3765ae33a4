/* TrainingJob's vocabulary, shared by its controller (controllers/trainingjob)
 * and the admission webhooks: the resource, the labels every pod of a job
 * carries, and the spec parsed once into tj_spec (spec.c). What a job
 * becomes and how its status is decided stays in the controller. */
#ifndef CUBIT_API_TRAININGJOB_H
#define CUBIT_API_TRAININGJOB_H

#include <jansson.h>
#include <stdint.h>

#include "api/cluster/placement.h"
#include "api/labels.h"
#include "kube/client.h"
#include "util/err.h"

extern const kube_resource trainingjob_resource;

/* On every pod of a job (and its engine object): the TrainingJob's name and
 * the pod's role. The gang marks (api/gang) read them. */
#define TJ_LABEL CUBIT_LABEL_TRAININGJOB
#define TJ_ROLE_LABEL CUBIT_LABEL_ROLE
#define TJ_MAX_ROLES 16

typedef enum {
  TJ_BATCH,
  TJ_PYTORCH,
  TJ_TENSORFLOW,
  TJ_MPI,
  TJ_XGBOOST,
  TJ_VOLCANO,
  TJ_PADDLE, /* the training operator's PaddleJob */
  TJ_JAX,    /* the training operator's JAXJob */
  TJ_RAY,    /* KubeRay's RayJob */
  TJ_SPARK,  /* spark-operator's SparkApplication */
  TJ_NFRAMEWORKS
} tj_framework;

typedef struct tj_role {
  char name[48];
  int replicas;
  const json_t *resources; /* borrowed: {cpu, memory, gpu} */
  const char *image;       /* NULL = spec.image */
  const json_t *command, *args;
  int parallelism, completions; /* batch; 0 = unset */
  int min_replicas, max_replicas; /* a Ray worker group's autoscaling bounds (default replicas) */
  const json_t *pod_template;   /* borrowed: the role's podTemplate, over the job's */
} tj_role;

typedef struct tj_spec {
  tj_framework framework;
  const char *image, *working_dir;
  const json_t *command, *args, *env, *volumes, *pod_labels, *pod_annotations; /* borrowed */
  const json_t *pod_template; /* borrowed: spec.podTemplate (api/podtemplate), NULL = none */
  tj_role roles[TJ_MAX_ROLES];
  size_t nroles;
  int total_pods;        /* pods running at once when every role runs */
  int gang;              /* after defaulting: more than one pod, unless disabled */
  int min_available;     /* 0 = all */
  const char *queue;
  int schedule_timeout_s;
  int backoff_limit;
  const char *restart_policy; /* OnFailure, Never, ExitCode */
  int restart_gang;
  int max_restarts;
  int64_t active_deadline_s; /* 0 = none */
  int ttl_s;                 /* -1 = keep */
  int suspend, debug;
  placement_spec place;   /* spec.cluster and spec.placement (api/cluster/placement.h) */
  /* framework ray (spec.ray, borrowed): the command Ray runs on its cluster
   * (NULL: spec.command and spec.args, quoted for the shell), its runtime
   * environment and the Ray version. */
  const char *ray_entrypoint;
  const json_t *ray_runtime_env;
  const char *ray_version;
  /* framework spark (spec.spark, borrowed): the application and its Spark. */
  const char *spark_type, *spark_main_file, *spark_main_class, *spark_version;
  const json_t *spark_conf;
} tj_spec;

/* Parses tj's spec (borrowed pointers into tj). CUBIT_EINVAL with a message
 * naming the field for what the CRD's schema let through. */
int tj_spec_parse(const json_t *tj, tj_spec *out, char *err, size_t errlen) CUBIT_WUR;
const char *tj_framework_name(tj_framework f);
/* The name of the container Cubit makes in every pod of framework f (the one
 * its engine looks for; a podTemplate extends it by this name). */
const char *tj_container_name(tj_framework f);
/* 1 for a role that is always one pod (a Ray head, a Spark driver). */
int tj_single_pod_role(tj_framework f, const char *role);
/* 1 for the engines that start their own processes in their pods (ray
 * start, Spark's driver and executors): the job's command and args are
 * Ray's entrypoint and the Spark application's arguments, never a
 * container's. */
int tj_runs_own_command(tj_framework f);
/* The pods of role r that must succeed for the job to succeed: a batch
 * role's completions (default replicas), any other role's replicas. */
int tj_role_completions(const tj_spec *s, const tj_role *r);

#endif
