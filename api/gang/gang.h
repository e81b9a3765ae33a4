/* Gang scheduling marks: the pods of a multi-pod job must be scheduled all
 * together or not at all, and each gang scheduler learns which pods belong
 * together from its own marks:
 *   volcano       schedulerName: volcano, annotations scheduling.k8s.io/group-name
 *                 (the PodGroup) and volcano.sh/task-spec (the role)
 *   coscheduling  label scheduling.x-k8s.io/pod-group (scheduler-plugins)
 *   kueue         label kueue.x-k8s.io/queue-name */
#ifndef CUBIT_API_GANG_H
#define CUBIT_API_GANG_H

#include <jansson.h>

#include "util/err.h"

typedef enum { GANG_NONE, GANG_VOLCANO, GANG_COSCHEDULING, GANG_KUEUE } gang_scheduler;

typedef struct gang_config {
  gang_scheduler scheduler;
  char kueue_queue[64]; /* LocalQueue name; empty = the project's name */
} gang_config;

/* Parses {"scheduler": "volcano"|"coscheduling"|"kueue"|"none", "kueueQueue": "..."}.
 * NULL j = none. Unknown keys and non-string values are errors naming the
 * field. */
int gang_config_parse(const json_t *j, gang_config *out, char *err, size_t errlen) CUBIT_WUR;
const char *gang_scheduler_name(gang_scheduler s);

/* The gang a pod belongs to, from its controller ownerReference or Cubit's
 * labels: *group receives the job's name (the PodGroup's), *role the
 * replica type (may be ""). Returns 0 when the pod is not part of a
 * multi-pod job kind. */
int gang_of_pod(const json_t *pod, char *group, size_t glen, char *role, size_t rlen);

/* Marks 'pod' (mutable) for the configured scheduler. Returns 1 when
 * anything changed. */
int gang_mark(const gang_config *g, json_t *pod, const char *group, const char *role, const char *project);

#endif
