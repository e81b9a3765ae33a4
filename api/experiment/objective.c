/* The objective: which metric, which direction, which of a trial's values
 * counts, and the best trial. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/experiment/experiment.h"

static const char *const strategy_names[] = {"last", "min", "max"};

const char *hpo_direction_name(hpo_direction d) { return d == HPO_MAXIMIZE ? "maximize" : "minimize"; }
const char *hpo_strategy_name(hpo_strategy s) { return strategy_names[s]; }

/* The names a metric line can carry: "val/loss", "top-1", "acc_1.5". */
static int valid_metric_name(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) >= HPO_NAME_LEN) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '-' || *p == '.' || *p == '/'))
      return 0;
  return 1;
}

static const char *const objective_fields[] = {"metric", "type", "goal", "strategy", "additionalMetrics"};

int hpo_objective_parse(const json_t *j, const char *path, hpo_objective *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (j == NULL || json_is_null(j))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: required: the metric to optimise and its type", path);
  if (!json_is_object(j)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object", path);
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    int known = 0;
    for (size_t k = 0; k < sizeof(objective_fields) / sizeof(objective_fields[0]); k++)
      known |= strcmp(key, objective_fields[k]) == 0;
    if (!known)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: unknown field (known: metric, type, goal, strategy, "
                          "additionalMetrics)", path, key);
  }
  const char *metric = json_string_value(json_object_get(j, "metric"));
  if (!valid_metric_name(metric))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.metric: want a metric name of letters, digits and _ - . / (at "
                        "most %d characters), got \"%s\"", path, HPO_NAME_LEN - 1, metric ? metric : "");
  snprintf(out->metric, sizeof(out->metric), "%s", metric);
  const char *type = json_string_value(json_object_get(j, "type"));
  if (type && strcmp(type, "minimize") == 0)
    out->direction = HPO_MINIMIZE;
  else if (type && strcmp(type, "maximize") == 0)
    out->direction = HPO_MAXIMIZE;
  else
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.type: want minimize or maximize, got \"%s\"", path,
                        type ? type : "");
  const json_t *goal = json_object_get(j, "goal");
  if (goal && !json_is_null(goal)) {
    if (!json_is_number(goal) || !isfinite(json_number_value(goal)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.goal: want a number", path);
    out->has_goal = 1;
    out->goal = json_number_value(goal);
  }
  const json_t *strategy = json_object_get(j, "strategy");
  out->strategy = HPO_STRATEGY_LAST;
  if (strategy) {
    const char *s = json_string_value(strategy);
    int found = -1;
    for (int k = 0; s && k < 3; k++)
      if (strcmp(s, strategy_names[k]) == 0) found = k;
    if (found < 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.strategy: want last, min or max, got \"%s\"", path,
                          s ? s : "");
    out->strategy = (hpo_strategy)found;
  }
  const json_t *more = json_object_get(j, "additionalMetrics");
  if (more && !json_is_null(more)) {
    if (!json_is_array(more)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.additionalMetrics: want a list", path);
    if (json_array_size(more) > HPO_MAX_METRICS)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.additionalMetrics: at most %d metrics", path,
                          HPO_MAX_METRICS);
    for (size_t i = 0; i < json_array_size(more); i++) {
      const char *m = json_string_value(json_array_get(more, i));
      if (!valid_metric_name(m))
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.additionalMetrics[%zu]: want a metric name, got \"%s\"",
                            path, i, m ? m : "");
      if (strcmp(m, out->metric) == 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.additionalMetrics[%zu]: %s is the objective's metric",
                            path, i, m);
      for (size_t k = 0; k < out->nadditional; k++)
        if (strcmp(out->additional[k], m) == 0)
          return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.additionalMetrics[%zu]: %s is listed twice", path, i, m);
      snprintf(out->additional[out->nadditional++], HPO_NAME_LEN, "%s", m);
    }
  }
  return 0;
}

double hpo_series_value(hpo_strategy s, const hpo_observation *obs, size_t n) {
  double v = obs[n - 1].value;
  if (s == HPO_STRATEGY_LAST) return v;
  for (size_t i = 0; i < n; i++)
    if (s == HPO_STRATEGY_MIN ? obs[i].value < v : obs[i].value > v) v = obs[i].value;
  return v;
}

const hpo_trial *hpo_best_trial(const hpo_objective *o, const hpo_trials *t) {
  const hpo_trial *best = NULL;
  for (size_t i = 0; i < t->n; i++) {
    const hpo_trial *c = &t->items[i];
    if (hpo_trial_scored(c) && (best == NULL || hpo_better(o, c->value, best->value))) best = c;
  }
  return best;
}

int hpo_goal_reached(const hpo_objective *o, const hpo_trials *t) {
  const hpo_trial *best = hpo_best_trial(o, t);
  return o->has_goal && best && !hpo_better(o, o->goal, best->value);
}
