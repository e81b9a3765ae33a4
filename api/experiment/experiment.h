/* The Experiment's vocabulary (hyperparameter search, docs/experiment.md):
 * the search space, the objective, the algorithm with its settings and seed,
 * early stopping, and the trial records the algorithms learn from. Shared
 * by the Experiment controller, its validating webhook and cubit-suggest;
 * the algorithms themselves are in controllers/experiment/suggest/.
 *
 *   space.c      parameters: int, double, categorical, discrete (Katib's
 *                feasibleSpace semantics), values to and from JSON
 *   objective.c  the objective; a trial's value by the strategy; the best
 *   algorithm.c  the algorithm, its settings, early stopping
 *   trial.c      trial records (state, parameters, value, observations)
 *   request.c    cubit-suggest's request: all of the above in one object
 *
 * Every parser takes a 'path' that prefixes its messages ("spec.parameters"
 * in the webhook, "parameters" in cubit-suggest) and fails with
 * CUBIT_EINVAL and a message naming the field and the reason:
 *   parameters[1].max: must be greater than min (0.1 >= 0.1)
 * Out of memory aborts (util/alloc.h). Parsed structs own their memory and
 * keep no pointer into the JSON they came from. */
#ifndef CUBIT_API_EXPERIMENT_H
#define CUBIT_API_EXPERIMENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define HPO_NAME_LEN 64         /* parameter and metric names: at most 63 characters */
#define HPO_MAX_PARAMS 64       /* parameters in a space */
#define HPO_MAX_LIST 1000       /* values of a categorical or discrete parameter */
#define HPO_MAX_METRICS 16      /* additionalMetrics */
#define HPO_MAX_TRIALS 100000   /* trial records in a request */
#define HPO_MAX_OBSERVATIONS 10000 /* intermediate values of one trial */
#define HPO_MAX_COUNT 1000      /* suggestions asked for at once */

/* ------------------------------------------------------------ the space */

typedef enum { HPO_INT, HPO_DOUBLE, HPO_CATEGORICAL, HPO_DISCRETE } hpo_type;
typedef enum { HPO_LINEAR, HPO_LOG } hpo_scale;

/* One parameter. A value of it is held in a double everywhere (an
 * "assignment" is one double per parameter of the space, in its order):
 *   int          the integer: min, min+step, ... <= max (step 1 by default)
 *   double       the number in [min, max]; with a step, min + k*step <= max
 *   categorical  the index into categories[]
 *   discrete     the index into values[] (ascending) */
typedef struct hpo_param {
  char name[HPO_NAME_LEN];
  hpo_type type;
  hpo_scale scale;   /* int and double; log needs min > 0 and no step */
  double min, max;   /* int and double; min < max */
  double step;       /* int and double; 0 = none (an int's is then 1) */
  size_t nsteps;     /* with a step (or an int): the values are min + k*step, k = 0..nsteps-1 */
  size_t nlist;      /* categorical, discrete: how many values */
  char **categories; /* categorical: owned */
  double *values;    /* discrete: owned, ascending, distinct */
  int integral;      /* discrete: every value was written as an integer (and is printed so) */
} hpo_param;

typedef struct hpo_space {
  hpo_param *params; /* owned */
  size_t n;
} hpo_space;

/* Parses spec.parameters: a non-empty list of
 *   {"name": "lr", "type": "double", "min": 0.0001, "max": 0.1, "scale": "log"}
 *   {"name": "layers", "type": "int", "min": 2, "max": 8, "step": 2}
 *   {"name": "optimizer", "type": "categorical", "list": ["adam", "sgd"]}
 *   {"name": "batch", "type": "discrete", "list": [16, 32, 64]}
 * Names are letters, digits and '_' (not starting with a digit), distinct.
 * Unknown fields are errors. hpo_space_free releases *out (also after an
 * error). */
int hpo_space_parse(const json_t *arr, const char *path, hpo_space *out, char *err, size_t errlen) CUBIT_WUR;
void hpo_space_free(hpo_space *s);
/* Index of the parameter called name, or -1. */
int hpo_space_find(const hpo_space *s, const char *name);
const char *hpo_type_name(hpo_type t);
/* How many values p can take, or 0 when it is continuous (a double
 * without a step). */
size_t hpo_param_size(const hpo_param *p);
/* How many assignments the space has: the product of hpo_param_size, or
 * 0 when a parameter is continuous; saturates at UINT64_MAX. */
uint64_t hpo_space_size(const hpo_space *s);
/* The value of p that is nearest to x (in p's representation above):
 * clamped to [min, max], rounded to an integer or a step, an index
 * clamped to the list. Algorithms pass everything they make through it. */
double hpo_param_snap(const hpo_param *p, double x);

/* Reads a value of p from JSON (a number for int, double and discrete; a
 * string for categorical; numeric strings are accepted for the numeric
 * types, since template bindings carry strings). Fails naming 'path' when
 * the value is of the wrong type or outside the space. */
int hpo_value_parse(const hpo_param *p, const json_t *v, const char *path, double *out, char *err,
                    size_t errlen) CUBIT_WUR;
/* The value as JSON: an integer for int (and integral discrete values), a
 * real for double, the string for categorical. New reference. */
json_t *hpo_value_json(const hpo_param *p, double x);
/* Reads {"name": value, ...} into x (s->n doubles): every parameter once,
 * no other key. */
int hpo_assignment_parse(const hpo_space *s, const json_t *obj, const char *path, double *x, char *err,
                         size_t errlen) CUBIT_WUR;
/* {"name": value, ...} for an assignment. New reference. */
json_t *hpo_assignment_json(const hpo_space *s, const double *x);

/* ---------------------------------------------------------- the objective */

typedef enum { HPO_MINIMIZE, HPO_MAXIMIZE } hpo_direction;
/* Which of a trial's reported values is its value. */
typedef enum { HPO_STRATEGY_LAST, HPO_STRATEGY_MIN, HPO_STRATEGY_MAX } hpo_strategy;

typedef struct hpo_objective {
  char metric[HPO_NAME_LEN];
  hpo_direction direction;
  int has_goal;
  double goal; /* the search stops once the best value reaches it */
  hpo_strategy strategy;
  char additional[HPO_MAX_METRICS][HPO_NAME_LEN];
  size_t nadditional;
} hpo_objective;

/* Parses spec.objective:
 *   {"metric": "accuracy", "type": "maximize", "goal": 0.99,
 *    "strategy": "last" | "min" | "max", "additionalMetrics": ["loss"]}
 * metric and type are required; strategy defaults to last. Metric names are
 * letters, digits and '_', '-', '.', '/' (at most 63 characters). */
int hpo_objective_parse(const json_t *j, const char *path, hpo_objective *out, char *err, size_t errlen) CUBIT_WUR;
const char *hpo_direction_name(hpo_direction d);
const char *hpo_strategy_name(hpo_strategy s);
/* What the algorithms minimise: v for minimize, -v for maximize. */
static inline double hpo_loss(const hpo_objective *o, double v) { return o->direction == HPO_MAXIMIZE ? -v : v; }
/* 1 when value a is strictly better than b for the objective. */
static inline int hpo_better(const hpo_objective *o, double a, double b) { return hpo_loss(o, a) < hpo_loss(o, b); }

/* ---------------------------------------------------------- the algorithm */

typedef enum { HPO_RANDOM, HPO_GRID, HPO_TPE, HPO_BAYESIAN, HPO_CMAES, HPO_HYPERBAND } hpo_algorithm_kind;
typedef enum { HPO_KERNEL_MATERN52, HPO_KERNEL_RBF } hpo_kernel;

/* The algorithm and its settings, every one filled in (defaults applied).
 * The settings each algorithm reads are documented in docs/experiment.md
 * and listed by hpo_algorithm_parse's messages. */
typedef struct hpo_algorithm {
  hpo_algorithm_kind kind;
  uint64_t seed;
  struct {
    int points; /* gridPoints: values of a double without a step; 0 = such doubles are refused */
  } grid;
  struct {
    double gamma;        /* the fraction of finished trials that are "good" (at most 25) */
    int n_startup;       /* random trials before the model is used; 0 = 2 x dimensions + 2, at most 10 */
    int n_candidates;    /* samples of the good density scored per suggestion */
    double prior_weight; /* weight of the uniform prior component in each density */
    int multivariate;    /* one joint kernel per trial (1) or independent parameters (0) */
  } tpe;
  struct {
    hpo_kernel kernel;
    int n_startup;    /* random trials first; 0 = 2 x dimensions + 1, within [5, 20] */
    int n_candidates; /* random candidates for the acquisition, before local search */
    double xi;        /* exploration margin of expected improvement (standardised units) */
    int max_points;   /* finished trials the model is fitted on: the best half and the most recent */
  } bayesian;
  struct {
    double sigma;   /* initial step size on the unit cube */
    int population; /* lambda; 0 = 4 + 3 ln(dimensions) */
  } cmaes;
  struct {
    char resource[HPO_NAME_LEN]; /* resourceName: the int or double parameter the rungs set */
    int resource_index;          /* its index in the space */
    double eta;                  /* rung size ratio */
  } hyperband;
} hpo_algorithm;

/* Parses spec.algorithm:
 *   {"name": "tpe", "seed": 42, "settings": {"nStartup": 10, "gamma": 0.15}}
 * against the already parsed space (hyperband's resourceName must name one
 * of its int or double parameters; grid needs a step or gridPoints for each
 * double). Unknown algorithms and settings are errors that list the known
 * ones. seed defaults to 0. */
int hpo_algorithm_parse(const json_t *j, const hpo_space *space, const char *path, hpo_algorithm *out, char *err,
                        size_t errlen) CUBIT_WUR;
const char *hpo_algorithm_name(hpo_algorithm_kind k);

typedef enum { HPO_ES_NONE, HPO_ES_MEDIANSTOP } hpo_early_stopping_kind;

typedef struct hpo_early_stopping {
  hpo_early_stopping_kind kind;
  int min_trials;     /* medianstop: succeeded trials needed before any is stopped */
  int64_t start_step; /* medianstop: no trial is judged before it reports this step */
} hpo_early_stopping;

/* Parses spec.earlyStopping: {"name": "medianstop", "settings": {"minTrials": 3,
 * "startStep": 4}}; NULL or null = none. */
int hpo_early_stopping_parse(const json_t *j, const char *path, hpo_early_stopping *out, char *err,
                             size_t errlen) CUBIT_WUR;

/* ------------------------------------------------------------- the trials */

typedef enum {
  HPO_TRIAL_PENDING,  /* created, not running yet */
  HPO_TRIAL_RUNNING,
  HPO_TRIAL_SUCCEEDED,
  HPO_TRIAL_FAILED,   /* no value: the algorithms learn only that it was tried */
  HPO_TRIAL_EARLY_STOPPED
} hpo_trial_state;

typedef struct hpo_observation {
  int64_t step;
  double value;
} hpo_observation;

typedef struct hpo_trial {
  char *name;     /* owned; "" when the record had none */
  int64_t number; /* 1, 2, ...: the order trials were created in */
  hpo_trial_state state;
  double *x;      /* owned: the assignment (space->n values) */
  int has_value;
  double value;   /* the objective's value as reported (not negated) */
  hpo_observation *obs; /* owned: the objective's intermediate values, as reported */
  size_t nobs;
} hpo_trial;

/* Sorted by number. */
typedef struct hpo_trials {
  hpo_trial *items; /* owned */
  size_t n;
} hpo_trials;

/* 1 for Succeeded, Failed and EarlyStopped. */
static inline int hpo_trial_finished(const hpo_trial *t) {
  return t->state == HPO_TRIAL_SUCCEEDED || t->state == HPO_TRIAL_FAILED || t->state == HPO_TRIAL_EARLY_STOPPED;
}
/* 1 when the trial counts for the algorithms: finished with a value. */
static inline int hpo_trial_scored(const hpo_trial *t) {
  return t->has_value && (t->state == HPO_TRIAL_SUCCEEDED || t->state == HPO_TRIAL_EARLY_STOPPED);
}
const char *hpo_trial_state_name(hpo_trial_state s);

/* Parses a list of trial records:
 *   {"name": "mnist-7", "number": 7, "state": "Succeeded",
 *    "parameters": {"lr": 0.01, "optimizer": "adam"},
 *    "value": 0.93,
 *    "observations": [{"step": 1, "value": 0.71}, {"step": 2, "value": 0.88}]}
 * state is Pending, Running, Succeeded, Failed or EarlyStopped. number
 * defaults to the position (1-based) and must be unique; the result is
 * sorted by it. value, when absent, is the observations' value by the
 * objective's strategy; a Succeeded or EarlyStopped trial needs one or the
 * other. An observation's step defaults to its position (1-based). */
int hpo_trials_parse(const json_t *arr, const hpo_space *space, const hpo_objective *obj, const char *path,
                     hpo_trials *out, char *err, size_t errlen) CUBIT_WUR;
void hpo_trials_free(hpo_trials *t);
/* The value of a series by a strategy (n > 0). */
double hpo_series_value(hpo_strategy s, const hpo_observation *obs, size_t n);
/* The best scored trial (ties: the lower number), or NULL. */
const hpo_trial *hpo_best_trial(const hpo_objective *o, const hpo_trials *t);
/* 1 when the objective has a goal and the best trial reached it. */
int hpo_goal_reached(const hpo_objective *o, const hpo_trials *t);

/* ------------------------------------------------------ cubit-suggest's request */

typedef struct hpo_request {
  hpo_space space;
  hpo_objective objective;
  hpo_algorithm algorithm;
  hpo_early_stopping early_stopping;
  hpo_trials trials;
  size_t count; /* suggestions wanted: 0 .. HPO_MAX_COUNT, default 1 */
} hpo_request;

/* Parses {"parameters": [...], "objective": {...}, "algorithm": {...},
 * "earlyStopping": {...}, "trials": [...], "count": 1} (docs/experiment.md).
 * hpo_request_free releases *out, also after an error. */
int hpo_request_parse(const json_t *j, hpo_request *out, char *err, size_t errlen) CUBIT_WUR;
void hpo_request_free(hpo_request *r);

#endif
