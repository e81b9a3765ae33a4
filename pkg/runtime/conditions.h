/* Status conditions with metav1.Condition semantics, so that kubectl wait,
 * Argo CD health checks and Flux's kstatus read Cubit objects like any
 * other: lastTransitionTime moves only when the status value changes. */
#ifndef CUBIT_RUNTIME_CONDITIONS_H
#define CUBIT_RUNTIME_CONDITIONS_H

#include <jansson.h>
#include <stdint.h>

/* Sets condition 'type' in status.conditions ('status' is the mutable
 * status object). cstatus is "True", "False" or "Unknown"; reason is
 * CamelCase. observedGeneration is written on the condition. 'now' is epoch
 * seconds. Returns 1 when anything changed, 0 when the condition was already
 * exactly so. */
int rt_condition_set(json_t *status, const char *type, const char *cstatus, const char *reason,
                     const char *message, json_int_t observed_generation, int64_t now);
/* The condition object (borrowed) or NULL. */
json_t *rt_condition_get(const json_t *status, const char *type);
/* 1 when the condition exists with status "True". */
int rt_condition_true(const json_t *status, const char *type);
/* Removes a condition; returns 1 if it was there. */
int rt_condition_remove(json_t *status, const char *type);

#endif
