/* The algorithm with its settings, and early stopping: one table of the
 * settings each accepts, so a misspelt setting is an error that lists the
 * right ones rather than a default silently kept. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/experiment.h"

static const char *const algorithm_names[] = {"random", "grid", "tpe", "bayesian", "cmaes", "hyperband"};
#define NALGORITHMS (sizeof(algorithm_names) / sizeof(algorithm_names[0]))

const char *hpo_algorithm_name(hpo_algorithm_kind k) { return algorithm_names[k]; }

typedef enum { SET_INT, SET_INT64, SET_NUMBER, SET_BOOL, SET_KERNEL, SET_NAME } setting_kind;

typedef struct setting {
  int owner; /* an hpo_algorithm_kind, or -1 - an hpo_early_stopping_kind */
  const char *name;
  setting_kind kind;
  double lo, hi; /* SET_INT, SET_NUMBER: the range, lo excluded when lo_open */
  int lo_open;
  size_t offset; /* of the field in hpo_algorithm or hpo_early_stopping */
} setting;

#define ALG(kind, name, type, lo, hi, open, field) {kind, name, type, lo, hi, open, offsetof(hpo_algorithm, field)}
#define ES(kind, name, type, lo, hi, field) {-1 - (kind), name, type, lo, hi, 0, offsetof(hpo_early_stopping, field)}

static const setting settings[] = {
    ALG(HPO_GRID, "gridPoints", SET_INT, 2, 100000, 0, grid.points),
    ALG(HPO_TPE, "gamma", SET_NUMBER, 0, 1, 1, tpe.gamma),
    ALG(HPO_TPE, "nStartup", SET_INT, 1, 100000, 0, tpe.n_startup),
    ALG(HPO_TPE, "nCandidates", SET_INT, 1, 10000, 0, tpe.n_candidates),
    ALG(HPO_TPE, "priorWeight", SET_NUMBER, 0, 100, 1, tpe.prior_weight),
    ALG(HPO_TPE, "multivariate", SET_BOOL, 0, 1, 0, tpe.multivariate),
    ALG(HPO_BAYESIAN, "kernel", SET_KERNEL, 0, 0, 0, bayesian.kernel),
    ALG(HPO_BAYESIAN, "nStartup", SET_INT, 1, 100000, 0, bayesian.n_startup),
    ALG(HPO_BAYESIAN, "nCandidates", SET_INT, 10, 100000, 0, bayesian.n_candidates),
    ALG(HPO_BAYESIAN, "xi", SET_NUMBER, 0, 10, 0, bayesian.xi),
    ALG(HPO_BAYESIAN, "maxPoints", SET_INT, 10, 2000, 0, bayesian.max_points),
    ALG(HPO_CMAES, "sigma", SET_NUMBER, 0, 1, 1, cmaes.sigma),
    ALG(HPO_CMAES, "population", SET_INT, 2, 1000, 0, cmaes.population),
    ALG(HPO_HYPERBAND, "resourceName", SET_NAME, 0, 0, 0, hyperband.resource),
    ALG(HPO_HYPERBAND, "eta", SET_NUMBER, 1, 100, 1, hyperband.eta),
    ES(HPO_ES_MEDIANSTOP, "minTrials", SET_INT, 1, 100000, min_trials),
    ES(HPO_ES_MEDIANSTOP, "startStep", SET_INT64, 0, 1e15, start_step),
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* "gamma, nStartup, ..." for a message. */
static void known_settings(int owner, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < NSETTINGS; i++) {
    if (settings[i].owner != owner) continue;
    int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", settings[i].name);
    if (n < 0 || (size_t)n >= len - used) return;
    used += (size_t)n;
  }
  if (used == 0) snprintf(buf, len, "none");
}

/* A number, or a string holding one (Katib writes settings as strings). */
static int setting_number(const json_t *v, double *out) {
  const char *s = json_string_value(v);
  if (s) {
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*out);
  }
  if (!json_is_number(v)) return 0;
  *out = json_number_value(v);
  return isfinite(*out);
}

static int parse_setting(const setting *st, const json_t *v, const char *where, void *base, char *err, size_t errlen) {
  char *field = (char *)base + st->offset;
  double x;
  switch (st->kind) {
  case SET_INT:
  case SET_INT64:
  case SET_NUMBER:
    if (!setting_number(v, &x) || (st->kind != SET_NUMBER && floor(x) != x))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want %s", where,
                          st->kind != SET_NUMBER ? "an integer" : "a number");
    if (x < st->lo || (st->lo_open && x == st->lo) || x > st->hi)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a value in %s%g, %g], got %g", where,
                          st->lo_open ? "(" : "[", st->lo, st->hi, x);
    if (st->kind == SET_NUMBER)
      *(double *)field = x;
    else if (st->kind == SET_INT64)
      *(int64_t *)field = (int64_t)x;
    else
      *(int *)field = (int)x;
    return 0;
  case SET_BOOL:
    if (json_is_boolean(v)) {
      *(int *)field = json_is_true(v);
      return 0;
    }
    if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 || strcmp(json_string_value(v), "false") == 0)) {
      *(int *)field = strcmp(json_string_value(v), "true") == 0;
      return 0;
    }
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want true or false", where);
  case SET_KERNEL: {
    const char *s = json_string_value(v);
    if (s && strcmp(s, "matern52") == 0)
      *(hpo_kernel *)field = HPO_KERNEL_MATERN52;
    else if (s && strcmp(s, "rbf") == 0)
      *(hpo_kernel *)field = HPO_KERNEL_RBF;
    else
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want matern52 or rbf, got \"%s\"", where, s ? s : "");
    return 0;
  }
  case SET_NAME: {
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0' || strlen(s) >= HPO_NAME_LEN)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a parameter name", where);
    snprintf(field, HPO_NAME_LEN, "%s", s);
    return 0;
  }
  }
  return 0;
}

/* Reads j's "settings" object into base for the settings of 'owner'. */
static int parse_settings(const json_t *j, int owner, const char *owner_name, const char *path, void *base, char *err,
                          size_t errlen) {
  const json_t *obj = json_object_get(j, "settings");
  if (obj == NULL || json_is_null(obj)) return 0;
  if (!json_is_object(obj)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings: want an object", path);
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const setting *st = NULL;
    for (size_t i = 0; i < NSETTINGS && st == NULL; i++)
      if (settings[i].owner == owner && strcmp(settings[i].name, key) == 0) st = &settings[i];
    if (st == NULL) {
      char known[256];
      known_settings(owner, known, sizeof(known));
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.%s: unknown setting of %s (known: %s)", path, key,
                          owner_name, known);
    }
    char where[512];
    snprintf(where, sizeof(where), "%s.settings.%s", path, key);
    int rc = parse_setting(st, v, where, base, err, errlen);
    if (rc) return rc;
  }
  return 0;
}

static int check_fields(const json_t *j, const char *path, const char *const *fields, size_t n, const char *list,
                        char *err, size_t errlen) {
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    int known = 0;
    for (size_t k = 0; k < n; k++) known |= strcmp(key, fields[k]) == 0;
    if (!known) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: unknown field (known: %s)", path, key, list);
  }
  return 0;
}

/* What the algorithm needs of the space, checked once here so the
 * algorithms never meet a space they cannot search. */
static int check_against_space(hpo_algorithm *a, const hpo_space *space, const char *path, char *err, size_t errlen) {
  if (a->kind == HPO_GRID && a->grid.points == 0) {
    for (size_t i = 0; i < space->n; i++)
      if (hpo_param_size(&space->params[i]) == 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.gridPoints: parameter %s is a double without a "
                            "step: grid needs its step or gridPoints (how many values of each such double)", path,
                            space->params[i].name);
  }
  if (a->kind == HPO_CMAES) {
    size_t numeric = 0;
    for (size_t i = 0; i < space->n; i++) numeric += space->params[i].type != HPO_CATEGORICAL;
    if (numeric == 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: cmaes needs an int, double or discrete parameter; "
                          "the space has only categorical ones", path);
  }
  if (a->kind == HPO_HYPERBAND) {
    if (a->hyperband.resource[0] == '\0')
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.resourceName: required for hyperband: the int or "
                          "double parameter (epochs, steps) the rungs raise", path);
    int r = hpo_space_find(space, a->hyperband.resource);
    if (r < 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.resourceName: %s is not a parameter of the search "
                          "space", path, a->hyperband.resource);
    const hpo_param *p = &space->params[r];
    if (p->type != HPO_INT && p->type != HPO_DOUBLE)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.resourceName: parameter %s is %s; the resource must "
                          "be an int or a double", path, p->name, hpo_type_name(p->type));
    if (p->min <= 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.resourceName: parameter %s needs min > 0 to be a "
                          "resource, got %g", path, p->name, p->min);
    if (p->max / p->min < a->hyperband.eta)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.settings.eta: parameter %s's max / min (%g) must be at least "
                          "eta (%g) for more than one rung", path, p->name, p->max / p->min, a->hyperband.eta);
    a->hyperband.resource_index = r;
  }
  return 0;
}

static const char *const algorithm_fields[] = {"name", "seed", "settings"};

int hpo_algorithm_parse(const json_t *j, const hpo_space *space, const char *path, hpo_algorithm *out, char *err,
                        size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->tpe.gamma = 0.2;
  out->tpe.n_candidates = 128;
  out->tpe.prior_weight = 1.0;
  out->tpe.multivariate = 1;
  out->bayesian.kernel = HPO_KERNEL_MATERN52;
  out->bayesian.n_candidates = 500;
  out->bayesian.xi = 0.01;
  out->bayesian.max_points = 100;
  out->cmaes.sigma = 0.3;
  out->hyperband.eta = 3;
  out->hyperband.resource_index = -1;
  if (j == NULL || json_is_null(j))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: required (name: random, grid, tpe, bayesian, cmaes or "
                        "hyperband)", path);
  if (!json_is_object(j)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object", path);
  int rc = check_fields(j, path, algorithm_fields, 3, "name, seed, settings", err, errlen);
  if (rc) return rc;
  const char *name = json_string_value(json_object_get(j, "name"));
  int kind = -1;
  for (size_t k = 0; name && k < NALGORITHMS; k++)
    if (strcmp(name, algorithm_names[k]) == 0) kind = (int)k;
  if (kind < 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: unknown algorithm \"%s\" (known: random, grid, tpe, "
                        "bayesian, cmaes, hyperband)", path, name ? name : "");
  out->kind = (hpo_algorithm_kind)kind;
  const json_t *seed = json_object_get(j, "seed");
  if (seed && !json_is_null(seed)) {
    if (!json_is_integer(seed) || json_integer_value(seed) < 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.seed: want an integer >= 0", path);
    out->seed = (uint64_t)json_integer_value(seed);
  }
  rc = parse_settings(j, kind, name, path, out, err, errlen);
  if (rc) return rc;
  return check_against_space(out, space, path, err, errlen);
}

static const char *const es_fields[] = {"name", "settings"};

int hpo_early_stopping_parse(const json_t *j, const char *path, hpo_early_stopping *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->min_trials = 3;
  out->start_step = 4;
  if (j == NULL || json_is_null(j)) return 0;
  if (!json_is_object(j)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object", path);
  int rc = check_fields(j, path, es_fields, 2, "name, settings", err, errlen);
  if (rc) return rc;
  const char *name = json_string_value(json_object_get(j, "name"));
  if (name == NULL || strcmp(name, "medianstop") != 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: unknown early stopping \"%s\" (known: medianstop)", path,
                        name ? name : "");
  out->kind = HPO_ES_MEDIANSTOP;
  return parse_settings(j, -1 - HPO_ES_MEDIANSTOP, name, path, out, err, errlen);
}
