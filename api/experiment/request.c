/* cubit-suggest's request: the Experiment's parameters, objective,
 * algorithm and early stopping under the spec's own names, the trials, and
 * how many suggestions are wanted. */
#include <string.h>

#include "api/experiment/experiment.h"

static const char *const request_fields[] = {"parameters", "objective", "algorithm", "earlyStopping", "trials", "count"};

int hpo_request_parse(const json_t *j, hpo_request *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->count = 1;
  if (!json_is_object(j)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "request: want a JSON object");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    int known = 0;
    for (size_t k = 0; k < sizeof(request_fields) / sizeof(request_fields[0]); k++)
      known |= strcmp(key, request_fields[k]) == 0;
    if (!known)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: unknown field (known: parameters, objective, algorithm, "
                          "earlyStopping, trials, count)", key);
  }
  int rc = hpo_space_parse(json_object_get(j, "parameters"), "parameters", &out->space, err, errlen);
  if (rc == 0) rc = hpo_objective_parse(json_object_get(j, "objective"), "objective", &out->objective, err, errlen);
  if (rc == 0)
    rc = hpo_algorithm_parse(json_object_get(j, "algorithm"), &out->space, "algorithm", &out->algorithm, err, errlen);
  if (rc == 0)
    rc = hpo_early_stopping_parse(json_object_get(j, "earlyStopping"), "earlyStopping", &out->early_stopping, err,
                                  errlen);
  if (rc == 0)
    rc = hpo_trials_parse(json_object_get(j, "trials"), &out->space, &out->objective, "trials", &out->trials, err,
                          errlen);
  if (rc) return rc;
  const json_t *count = json_object_get(j, "count");
  if (count) {
    if (!json_is_integer(count) || json_integer_value(count) < 0 || json_integer_value(count) > HPO_MAX_COUNT)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "count: want an integer in [0, %d]", HPO_MAX_COUNT);
    out->count = (size_t)json_integer_value(count);
  }
  return 0;
}

void hpo_request_free(hpo_request *r) {
  hpo_trials_free(&r->trials);
  hpo_space_free(&r->space);
}
