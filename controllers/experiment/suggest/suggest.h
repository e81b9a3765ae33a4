/* The search algorithms and early stopping as pure functions: the parsed
 * space, objective and algorithm (api/experiment/) and the trials in; the
 * next assignments and the trials to stop out. No clock, no I/O, no state
 * kept between calls: everything comes from the trials handed in, so a
 * manager restarted mid-Experiment (or a new leader) suggests exactly what
 * the old one would have. Randomness comes from the algorithm's seed and the
 * number of the trial being suggested, never from the order of calls.
 *
 *   suggest.c     hpo_suggest: shared preparation (losses, pending trials,
 *                 duplicates), dispatch, numbering
 *   random.c      uniform sampling (log scales by ratio), deduplicated
 *   grid.c        every grid point once, in order
 *   tpe.c         tree-structured Parzen estimators
 *   gp.c          Gaussian-process regression with expected improvement
 *   cmaes.c       CMA-ES, its state replayed generation by generation
 *   hyperband.c   Hyperband's brackets of successive halving
 *   medianstop.c  the median stopping rule
 *   rng.c, linalg.c, encode.c  seeded streams, Cholesky and Jacobi, the
 *                 unit-cube coordinates the models work in
 *
 * How the controller uses them, each reconcile: build the trials from
 * every trial TrainingJob (number from its label, state, assignment,
 * reported values), call hpo_early_stop and stop what it names, then ask
 * hpo_suggest for parallelTrials minus the running and pending ones, and
 * create each suggestion as the trial named by its number, so a creation
 * repeated after a restart meets AlreadyExists instead of making a twin.
 * exhausted: the search is over; a reason without it: ask again when a
 * trial finishes.
 *
 * Why here and not in api/: the webhook and the CRD need the vocabulary
 * (what may be written), only the controller (and cubit-suggest, for
 * benchmarks) decides what to try next; this is decision logic, like a
 * controller's plan. */
#ifndef CUBIT_CONTROLLERS_EXPERIMENT_SUGGEST_H
#define CUBIT_CONTROLLERS_EXPERIMENT_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

#include "api/experiment/experiment.h"

typedef struct hpo_suggestions {
  double *x;        /* owned: n assignments of space->n values, one after the other */
  int64_t *numbers; /* owned: the trial number each is for (after the highest handed in) */
  size_t n;         /* at most the count asked for */
  int exhausted;    /* nothing new can ever be suggested (the grid or a finite space is covered) */
  char reason[256]; /* when n is less than asked: why (waiting for a rung, exhausted) */
} hpo_suggestions;

/* Suggests up to 'count' new assignments, after the trials (all of them,
 * sorted by number: finished, running, pending). Running and pending
 * trials are not suggested again, and neither are two of one call.
 * Deterministic: the same arguments give the same suggestions. Fewer than
 * count when the algorithm must wait (Hyperband's next rung, CMA-ES' next
 * generation) or is exhausted; reason says which. Returns 0, or
 * CUBIT_EINVAL with a message when the arguments are inconsistent (a
 * space the algorithm was not parsed against). The caller frees *out with
 * hpo_suggestions_free. */
int hpo_suggest(const hpo_space *space, const hpo_objective *obj, const hpo_algorithm *alg,
                const hpo_trials *trials, size_t count, hpo_suggestions *out, char *err, size_t errlen) CUBIT_WUR;
void hpo_suggestions_free(hpo_suggestions *s);

typedef struct hpo_stop {
  size_t trial;     /* index into the trials handed in */
  char reason[256]; /* for the trial's condition and event */
} hpo_stop;

typedef struct hpo_stops {
  hpo_stop *items; /* owned */
  size_t n;
} hpo_stops;

/* The median stopping rule (docs/experiment.md): which running trials to
 * stop now. A running trial whose last reported step s is at least
 * startStep is stopped when its best value up to s is worse than the
 * median, over the succeeded trials that reported by step s (at least
 * minTrials of them), of their running averages up to s. Deterministic;
 * the caller frees *out with hpo_stops_free. */
void hpo_early_stop(const hpo_objective *obj, const hpo_early_stopping *es, const hpo_trials *trials,
                    hpo_stops *out);
void hpo_stops_free(hpo_stops *s);

#endif
