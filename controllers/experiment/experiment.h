/* The Experiment controller: hyperparameter search with the algorithms of
 * suggest/ and trials as TrainingJobs (docs/experiment.md). The kind's spec
 * and the metrics parser are in api/experiment/; what happens to an
 * Experiment is all here:
 *   trial.c       a trial's TrainingJob, its record (the trial-metrics
 *                 annotation) and the trial read back from the cache
 *   plan.c        the decision, pure: trials to create and stop, records to
 *                 write, the status, events and requeue
 *   experiment.c  the reconcile: gather from the cache, read the trials'
 *                 metrics (pods/log or the termination message), plan,
 *                 execute. */
#ifndef CUBIT_CONTROLLERS_EXPERIMENT_H
#define CUBIT_CONTROLLERS_EXPERIMENT_H

#include <jansson.h>
#include <stdint.h>

#include "api/experiment/spec.h"
#include "controllers/experiment/suggest/suggest.h"
#include "runtime/manager.h"
#include "runtime/plan.h"

/* recentTrials in the status: the trials with the highest numbers. */
#define EXP_RECENT_TRIALS 20
/* While early stopping reads running trials' logs: how often. */
#define EXP_POLL_MS 30000
/* After a metrics read that failed for a reason that may pass. */
#define EXP_RETRY_MS 15000

/* ------------------------------------------------------------ trial.c */

/* The metrics read for one trial (the probe), when the plan needs them. */
typedef struct exp_trial_probe {
  int wanted;         /* gather decided to read (exp_trial_wants_metrics) */
  int read;           /* 1: read (metrics valid); 0: not read, error says why */
  int retry;          /* not read for a reason that may pass (the API refused, a timeout) */
  int complete;       /* the output is final (the container terminated) */
  hpo_metrics metrics;
  char error[256];
} exp_trial_probe;

/* 1 when the trial's metrics must be read now: no record yet, and it has
 * finished, or it runs, early stopping is on and its output is readable
 * while it runs (stdout). */
int exp_trial_wants_metrics(const exp_spec *s, const json_t *trial);
/* The pod to read a trial's metrics from (borrowed from pods), or NULL: a
 * master/chief/launcher pod if there is one, else the first by name;
 * pods being deleted are skipped. */
const json_t *exp_trial_pod(const json_t *const *pods, size_t npods);
/* The termination message of the trial container in 'pod' (borrowed), or
 * NULL when it has not terminated. */
const char *exp_termination_message(const json_t *pod, const char *container);

/* The TrainingJob of trial 'number' with assignment x (a new reference,
 * owned by the experiment), or CUBIT_EINVAL with a message when the
 * template does not make a valid TrainingJob. tmpl: the JobTemplate's or
 * ClusterJobTemplate's object (NULL for an inline spec). */
int exp_trial_desired(const json_t *experiment, const exp_spec *s, const json_t *tmpl, int64_t number,
                      const double *x, json_t **out, char *err, size_t errlen) CUBIT_WUR;

/* ------------------------------------------------------------- plan.c */

typedef struct exp_observed_trial {
  const json_t *tj;      /* the trial's TrainingJob */
  exp_trial_probe probe; /* its metrics, when gather read them */
} exp_observed_trial;

/* Everything exp_plan decides from, gathered by the reconcile. Borrowed. */
typedef struct exp_observed {
  const json_t *experiment; /* its status is the previous decision */
  const exp_spec *spec;     /* NULL when the spec is invalid */
  const char *spec_error;
  const json_t *tmpl;       /* the template spec.trialTemplate.templateRef names, or NULL */
  const exp_observed_trial *trials; /* the TrainingJobs it owns (labelled with it), any order */
  size_t ntrials;
  /* The highest trial number this manager has created for the Experiment
   * (0 = none it remembers): while the cache shows less, it trails our own
   * writes, and no trial is suggested (a suggestion made on fewer trials
   * could differ, and applying it would rewrite a running trial). */
  int64_t created_up_to;
  int64_t now;
} exp_observed;

/* While the cache trails the trials created: look again this soon. */
#define EXP_CACHE_WAIT_MS 1000

/* Decides everything about one Experiment: the trials' records (once
 * their outcome is known), the trials to stop early, the new trials to
 * create, the whole status, the events and when to look again. Pure: no
 * I/O, no clock. *created_up_to is the highest trial number the plan
 * creates (0 = none), to remember once it is carried out. */
void exp_plan(const exp_observed *in, rt_plan *out, int64_t *created_up_to);

int experiment_controller_register(rt_manager *m) CUBIT_WUR;

#endif
