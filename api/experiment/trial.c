/* Trial records: what the algorithms learn from. The controller builds them
 * from the Experiment's TrainingJobs; cubit-suggest reads them from JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/experiment.h"
#include "util/alloc.h"

static const char *const state_names[] = {"Pending", "Running", "Succeeded", "Failed", "EarlyStopped"};

const char *hpo_trial_state_name(hpo_trial_state s) { return state_names[s]; }

static const char *const trial_fields[] = {"name", "number", "state", "parameters", "value", "observations"};

static int parse_observations(const json_t *arr, const char *where, hpo_trial *t, char *err, size_t errlen) {
  if (arr == NULL || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.observations: want a list", where);
  size_t n = json_array_size(arr);
  if (n > HPO_MAX_OBSERVATIONS)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.observations: at most %d values", where, HPO_MAX_OBSERVATIONS);
  if (n == 0) return 0;
  t->obs = xcalloc(n, sizeof(hpo_observation));
  for (size_t i = 0; i < n; i++) {
    const json_t *o = json_array_get(arr, i);
    const json_t *step = json_object_get(o, "step"), *value = json_object_get(o, "value");
    if (!json_is_object(o) || !json_is_number(value) || !isfinite(json_number_value(value)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.observations[%zu]: want {\"step\": N, \"value\": number}",
                          where, i);
    if (step && (!json_is_integer(step) || json_integer_value(step) < 0))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.observations[%zu].step: want an integer >= 0", where, i);
    t->obs[i].step = step ? json_integer_value(step) : (int64_t)i + 1;
    t->obs[i].value = json_number_value(value);
    t->nobs++;
  }
  return 0;
}

static int parse_trial(const json_t *d, const char *where, size_t pos, const hpo_space *space,
                       const hpo_objective *obj, hpo_trial *t, char *err, size_t errlen) {
  if (!json_is_object(d)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object", where);
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)d, key, v) {
    int known = 0;
    for (size_t k = 0; k < sizeof(trial_fields) / sizeof(trial_fields[0]); k++) known |= strcmp(key, trial_fields[k]) == 0;
    if (!known)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: unknown field (known: name, number, state, parameters, "
                          "value, observations)", where, key);
  }
  const json_t *name = json_object_get(d, "name");
  if (name && !json_is_string(name)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: want a string", where);
  t->name = xstrdup(name ? json_string_value(name) : "");
  const json_t *number = json_object_get(d, "number");
  if (number && (!json_is_integer(number) || json_integer_value(number) < 1))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.number: want an integer >= 1", where);
  t->number = number ? json_integer_value(number) : (int64_t)pos + 1;
  const char *state = json_string_value(json_object_get(d, "state"));
  int s = -1;
  for (int k = 0; state && k < 5; k++)
    if (strcmp(state, state_names[k]) == 0) s = k;
  if (s < 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.state: want Pending, Running, Succeeded, Failed or "
                        "EarlyStopped, got \"%s\"", where, state ? state : "");
  t->state = (hpo_trial_state)s;
  char ppath[512];
  snprintf(ppath, sizeof(ppath), "%s.parameters", where);
  t->x = xcalloc(space->n, sizeof(double));
  int rc = hpo_assignment_parse(space, json_object_get(d, "parameters"), ppath, t->x, err, errlen);
  if (rc) return rc;
  rc = parse_observations(json_object_get(d, "observations"), where, t, err, errlen);
  if (rc) return rc;
  const json_t *value = json_object_get(d, "value");
  if (value && !json_is_null(value)) {
    if (!json_is_number(value) || !isfinite(json_number_value(value)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.value: want a number", where);
    t->has_value = 1;
    t->value = json_number_value(value);
  } else if (t->nobs > 0) {
    t->has_value = 1;
    t->value = hpo_series_value(obj->strategy, t->obs, t->nobs);
  }
  if (!t->has_value && (t->state == HPO_TRIAL_SUCCEEDED || t->state == HPO_TRIAL_EARLY_STOPPED))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: state %s needs a value or observations of %s", where,
                        state_names[s], obj->metric);
  return 0;
}

static int cmp_number(const void *a, const void *b) {
  int64_t x = ((const hpo_trial *)a)->number, y = ((const hpo_trial *)b)->number;
  return (x > y) - (x < y);
}

int hpo_trials_parse(const json_t *arr, const hpo_space *space, const hpo_objective *obj, const char *path,
                     hpo_trials *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (arr == NULL || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a list", path);
  size_t n = json_array_size(arr);
  if (n > HPO_MAX_TRIALS) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: at most %d trials", path, HPO_MAX_TRIALS);
  if (n == 0) return 0;
  out->items = xcalloc(n, sizeof(hpo_trial));
  for (size_t i = 0; i < n; i++) {
    char where[256];
    snprintf(where, sizeof(where), "%s[%zu]", path, i);
    out->n++; /* hpo_trials_free releases a half-parsed record too */
    int rc = parse_trial(json_array_get(arr, i), where, i, space, obj, &out->items[i], err, errlen);
    if (rc) return rc;
  }
  qsort(out->items, n, sizeof(hpo_trial), cmp_number);
  for (size_t i = 1; i < n; i++)
    if (out->items[i].number == out->items[i - 1].number)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: two trials have number %lld (%s and %s)", path,
                          (long long)out->items[i].number, out->items[i - 1].name, out->items[i].name);
  return 0;
}

void hpo_trials_free(hpo_trials *t) {
  for (size_t i = 0; i < t->n; i++) {
    free(t->items[i].name);
    free(t->items[i].x);
    free(t->items[i].obs);
  }
  free(t->items);
  memset(t, 0, sizeof(*t));
}
