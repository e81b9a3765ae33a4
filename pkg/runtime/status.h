/* One status vocabulary for every Cubit kind (docs/status.md).
 *
 * A kind's plan decides a phase (its own word: Queued, Pending, Running,
 * Stopped...) and one of five states; rt_status_set_state writes the phase
 * and the three conditions every tool reads, the way Flux's kstatus and
 * Argo CD read them:
 *
 *   state         Ready     Reconciling  Stalled   kstatus      Argo CD
 *   PROGRESSING   False     True         False     InProgress   Progressing
 *   READY         True      False        False     Current      Healthy
 *   SUCCEEDED     True      False        False     Current      Healthy
 *   FAILED        False     False        True      Failed       Degraded
 *   SUSPENDED     (absent)  False        False     Current      Suspended
 *
 * SUSPENDED removes Ready: the object is where its spec asked it to be (a
 * stopped Notebook, a suspended TrainingJob), so GitOps tools see it
 * reconciled, while `kubectl wait --for=condition=Ready` keeps waiting, as
 * nothing serves. The condition Suspended=True says so. Reasons are
 * CamelCase; the message is what a user should read (the scheduler's or
 * kubelet's words when pods wait). observedGeneration is written on the
 * status and on every condition. */
#ifndef CUBIT_RUNTIME_STATUS_H
#define CUBIT_RUNTIME_STATUS_H

#include <jansson.h>
#include <stdint.h>

typedef enum {
  RT_STATE_PROGRESSING,
  RT_STATE_READY,
  RT_STATE_SUCCEEDED,
  RT_STATE_FAILED,
  RT_STATE_SUSPENDED
} rt_state;

/* A mutable copy of obj's status (an empty object when it has none) with
 * observedGeneration set from metadata.generation: where a plan builds the
 * status it will hand to the executor. Caller owns it. */
json_t *rt_status_from(const json_t *obj);

/* Writes status.phase and the Ready, Reconciling, Stalled and Suspended
 * conditions for 'state'. 'gen' is metadata.generation, 'now' epoch seconds. */
void rt_status_set_state(json_t *status, const char *phase, rt_state state, const char *reason,
                         const char *message, json_int_t gen, int64_t now);

/* The state a status says (from its conditions), for tests and tools. */
rt_state rt_status_state(const json_t *status);

/* Why a workload child cannot make its pods: the newest FailedCreate Event
 * among events (a namespace's, as the cache holds them: rt_cached_selector)
 * about the object whose uid is 'uid', last seen at or after 'since' (epoch
 * seconds; 0: any), or NULL. Its "message" quotes the API server (a Pod
 * Security or ResourceQuota refusal, a webhook's denial); *when (may be
 * NULL) is when it was last seen. */
const json_t *rt_create_refusal(json_t *const *events, size_t n, const char *uid, int64_t since, int64_t *when);

/* When an Event was last seen (epoch seconds): a series' last observation,
 * else the old API's lastTimestamp, else the new API's eventTime. */
int64_t rt_event_last_seen(const json_t *ev);

#endif
