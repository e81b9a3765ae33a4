/* The Experiment kind's spec (docs/experiment.md): the search (space,
 * objective, algorithm, early stopping, parsed by experiment.h's parsers),
 * the trial template, the limits and the metrics collector. Shared by the
 * Experiment controller and its validating webhook. */
#ifndef CUBIT_API_EXPERIMENT_SPEC_H
#define CUBIT_API_EXPERIMENT_SPEC_H

#include <jansson.h>
#include <stddef.h>

#include "api/experiment/experiment.h"
#include "api/experiment/metrics.h"
#include "api/pipeline/pipeline.h"
#include "kube/client.h"

extern const kube_resource experiment_resource;

/* Observations of the objective kept in that annotation: the first ones
 * (medianstop compares running averages from the start). */
#define EXP_RECORD_OBSERVATIONS 200

#define EXP_MAX_PARALLEL 100
#define EXP_MAX_TRIALS 10000

typedef enum { EXP_TEMPLATE_REF, EXP_TEMPLATE_INLINE } exp_template_source;
typedef enum { EXP_METRICS_STDOUT, EXP_METRICS_FILE } exp_metrics_source;

typedef struct exp_spec {
  hpo_space space;
  hpo_objective objective;
  hpo_algorithm algorithm;
  hpo_early_stopping early_stopping;
  exp_template_source source;
  pl_template_kind ref_kind;   /* EXP_TEMPLATE_REF */
  char ref_name[254];          /* EXP_TEMPLATE_REF */
  const json_t *bindings;      /* EXP_TEMPLATE_REF: template parameter → value with {{trial.*}} (borrowed; may be NULL) */
  const json_t *trainingjob;   /* EXP_TEMPLATE_INLINE: a TrainingJob spec with {{trial.*}} (borrowed) */
  int parallel_trials;         /* default 1 */
  int max_trials;              /* default 10 */
  int max_failed_trials;       /* default 3: more failed trials fail the Experiment */
  exp_metrics_source metrics_source; /* default stdout */
  hpo_metrics_format metrics_format; /* default text */
  char metrics_path[256];      /* file: the container's termination message path ("" = Kubernetes' default) */
  int suspend;                 /* spec.suspend: no new trials, the unfinished ones suspended */
} exp_spec;

/* Parses an Experiment object's spec; messages name the field from
 * "spec." (spec.parameters[1].max: ...). A binding or an inline spec that
 * refers to an unknown parameter ({{trial.parameters.x}}), or to anything
 * but trial.*, is refused. The TrainingJob the inline spec makes is checked
 * by the caller (exp_trial_check). exp_spec_free releases *out, also after
 * an error. */
int exp_spec_parse(const json_t *experiment, exp_spec *out, char *err, size_t errlen) CUBIT_WUR;
void exp_spec_free(exp_spec *s);

/* "<experiment>-<number>": a trial's TrainingJob. */
void exp_trial_name(const char *experiment, long long number, char *out, size_t len);

/* The value of {{trial.*}} for one trial: the substitution's lookup. */
typedef struct exp_trial_refs {
  const char *name;
  json_t *values; /* "name", "number", "parameters.X" → JSON value (owned) */
} exp_trial_refs;

/* Fills r for trial 'number' of 'experiment' (in namespace ns) with
 * assignment x; free with exp_trial_refs_free. */
void exp_trial_refs_init(exp_trial_refs *r, const hpo_space *space, const char *ns, const char *experiment,
                         long long number, const double *x);
void exp_trial_refs_free(exp_trial_refs *r);
/* pl_ref_value_fn over exp_trial_refs (arg). */
const json_t *exp_trial_ref_value(const pl_ref *ref, void *arg, char *err, size_t errlen);

/* The TrainingJob spec of a trial: the inline spec substituted, or the
 * template's workload with the bindings substituted and resolved against
 * the template's typed parameters (tmpl_spec: the JobTemplate's spec, NULL
 * for an inline spec). *out is a new object. CUBIT_EINVAL with a message
 * naming the field. */
int exp_trial_spec(const exp_spec *s, const json_t *tmpl_spec, exp_trial_refs *refs, json_t **out, char *err,
                   size_t errlen) CUBIT_WUR;

#endif
