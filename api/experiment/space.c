/* The search space: parameters parsed from spec.parameters, and their
 * values read from and written to JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/experiment/experiment.h"
#include "util/alloc.h"

static const char *const type_names[] = {"int", "double", "categorical", "discrete"};

const char *hpo_type_name(hpo_type t) { return type_names[t]; }

/* Letters, digits and '_', not starting with a digit: the names a template
 * binding ({{trial.parameters.NAME}}) can spell. */
static int valid_param_name(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) >= HPO_NAME_LEN) return 0;
  if (*s >= '0' && *s <= '9') return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

/* A JSON number as a finite double. */
static int number_of(const json_t *v, double *out) {
  if (!json_is_number(v)) return 0;
  *out = json_number_value(v);
  return isfinite(*out);
}

/* 2^53: beyond it doubles no longer hold every integer. */
#define HPO_MAX_EXACT 9007199254740992.0

static int is_integer(double v) { return floor(v) == v && fabs(v) <= HPO_MAX_EXACT; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_list(const json_t *d, const char *where, hpo_param *p, char *err, size_t errlen) {
  const json_t *list = json_object_get(d, "list");
  if (list == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list: required for type %s", where,
                                        hpo_type_name(p->type));
  if (!json_is_array(list) || json_array_size(list) == 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list: want a non-empty list", where);
  if (json_array_size(list) > HPO_MAX_LIST)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list: at most %d values", where, HPO_MAX_LIST);
  size_t n = json_array_size(list);
  if (p->type == HPO_CATEGORICAL) {
    p->categories = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
      const char *s = json_string_value(json_array_get(list, i));
      if (s == NULL || *s == '\0')
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list[%zu]: want a non-empty string", where, i);
      for (size_t k = 0; k < p->nlist; k++)
        if (strcmp(p->categories[k], s) == 0)
          return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list[%zu]: \"%s\" is listed twice", where, i, s);
      p->categories[p->nlist++] = xstrdup(s);
    }
    return 0;
  }
  p->values = xcalloc(n, sizeof(double));
  p->integral = 1;
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_array_get(list, i);
    double x;
    if (!number_of(v, &x)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list[%zu]: want a number", where, i);
    if (!json_is_integer(v)) p->integral = 0;
    p->values[p->nlist++] = x;
  }
  qsort(p->values, n, sizeof(double), cmp_double);
  for (size_t i = 1; i < n; i++)
    if (p->values[i] == p->values[i - 1])
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list: %g is listed twice", where, p->values[i]);
  return 0;
}

static int parse_range(const json_t *d, const char *where, hpo_param *p, char *err, size_t errlen) {
  const json_t *min = json_object_get(d, "min"), *max = json_object_get(d, "max"), *step = json_object_get(d, "step");
  const char *scale = json_string_value(json_object_get(d, "scale"));
  if (min == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.min: required for type %s", where,
                                       hpo_type_name(p->type));
  if (max == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.max: required for type %s", where,
                                       hpo_type_name(p->type));
  if (!number_of(min, &p->min)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.min: want a number", where);
  if (!number_of(max, &p->max)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.max: want a number", where);
  if (p->type == HPO_INT && !is_integer(p->min))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.min: want an integer for type int, got %g", where,
                        p->min);
  if (p->type == HPO_INT && !is_integer(p->max))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.max: want an integer for type int, got %g", where,
                        p->max);
  if (p->min >= p->max)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.max: must be greater than min (%g >= %g)", where, p->min,
                        p->max);
  if (json_object_get(d, "scale") && scale == NULL)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.scale: want linear or log", where);
  if (scale == NULL || strcmp(scale, "linear") == 0)
    p->scale = HPO_LINEAR;
  else if (strcmp(scale, "log") == 0)
    p->scale = HPO_LOG;
  else
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.scale: want linear or log, got \"%s\"", where, scale);
  if (p->scale == HPO_LOG && p->min <= 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.min: a log scale needs min > 0, got %g", where, p->min);
  if (step) {
    if (!number_of(step, &p->step) || p->step <= 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.step: want a number > 0", where);
    if (p->type == HPO_INT && !is_integer(p->step))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.step: want an integer for type int, got %g", where,
                          p->step);
    if (p->scale == HPO_LOG)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.step: a log scale has no step (values are spread by ratio)",
                          where);
    if (p->step > p->max - p->min)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.step: %g is larger than max - min (%g)", where, p->step,
                          p->max - p->min);
  } else if (p->type == HPO_INT && p->scale == HPO_LINEAR) {
    p->step = 1;
  }
  if (p->step > 0) {
    /* The tolerance keeps max when (max - min) / step is meant to be whole
     * but is not, in binary (0.1 steps from 0 to 0.3). */
    double k = floor((p->max - p->min) / p->step + 1e-9);
    if (k + 1 > HPO_MAX_EXACT)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.step: too many values between min and max", where);
    p->nsteps = (size_t)k + 1;
  } else if (p->type == HPO_INT) {
    p->nsteps = (size_t)(p->max - p->min) + 1; /* an int on a log scale: every integer */
  }
  return 0;
}

static const char *const param_fields[] = {"name", "type", "min", "max", "step", "scale", "list"};

static int parse_param(const json_t *d, const char *where, hpo_space *s, char *err, size_t errlen) {
  if (!json_is_object(d)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object", where);
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)d, key, v) {
    int known = 0;
    for (size_t k = 0; k < sizeof(param_fields) / sizeof(param_fields[0]); k++) known |= strcmp(key, param_fields[k]) == 0;
    if (!known)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: unknown field (known: name, type, min, max, step, scale, "
                          "list)", where, key);
  }
  hpo_param *p = &s->params[s->n];
  const char *name = json_string_value(json_object_get(d, "name"));
  if (!valid_param_name(name))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: want a name of letters, digits and _ (not starting with "
                        "a digit, at most %d characters), got \"%s\"", where, HPO_NAME_LEN - 1, name ? name : "");
  if (hpo_space_find(s, name) >= 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.name: parameter %s is declared twice", where, name);
  const char *type = json_string_value(json_object_get(d, "type"));
  int t = -1;
  for (int k = 0; type && k < 4; k++)
    if (strcmp(type, type_names[k]) == 0) t = k;
  if (t < 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.type: want int, double, categorical or discrete, got \"%s\"",
                        where, type ? type : "");
  snprintf(p->name, sizeof(p->name), "%s", name);
  p->type = (hpo_type)t;
  s->n++; /* from here on hpo_space_free releases what p holds */
  if (p->type == HPO_INT || p->type == HPO_DOUBLE) {
    if (json_object_get(d, "list"))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.list: type %s has min and max, not a list", where, type);
    return parse_range(d, where, p, err, errlen);
  }
  const char *range_field = json_object_get(d, "min")    ? "min"
                            : json_object_get(d, "max")  ? "max"
                            : json_object_get(d, "step") ? "step"
                            : json_object_get(d, "scale") ? "scale"
                                                          : NULL;
  if (range_field)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: type %s has a list, not %s", where, range_field, type,
                        range_field);
  return parse_list(d, where, p, err, errlen);
}

int hpo_space_parse(const json_t *arr, const char *path, hpo_space *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (arr == NULL || json_is_null(arr))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: required: the parameters to search", path);
  if (!json_is_array(arr)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a list", path);
  size_t n = json_array_size(arr);
  if (n == 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: the search space is empty", path);
  if (n > HPO_MAX_PARAMS) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: at most %d parameters", path, HPO_MAX_PARAMS);
  out->params = xcalloc(n, sizeof(hpo_param));
  for (size_t i = 0; i < n; i++) {
    char where[256];
    snprintf(where, sizeof(where), "%s[%zu]", path, i);
    int rc = parse_param(json_array_get(arr, i), where, out, err, errlen);
    if (rc) return rc;
  }
  return 0;
}

void hpo_space_free(hpo_space *s) {
  for (size_t i = 0; i < s->n; i++) {
    hpo_param *p = &s->params[i];
    for (size_t k = 0; k < p->nlist && p->categories; k++) free(p->categories[k]);
    free(p->categories);
    free(p->values);
  }
  free(s->params);
  memset(s, 0, sizeof(*s));
}

int hpo_space_find(const hpo_space *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->params[i].name, name) == 0) return (int)i;
  return -1;
}

size_t hpo_param_size(const hpo_param *p) {
  if (p->type == HPO_CATEGORICAL || p->type == HPO_DISCRETE) return p->nlist;
  return p->nsteps;
}

uint64_t hpo_space_size(const hpo_space *s) {
  uint64_t total = 1;
  for (size_t i = 0; i < s->n; i++) {
    uint64_t k = hpo_param_size(&s->params[i]);
    if (k == 0) return 0;
    if (total > UINT64_MAX / k) return UINT64_MAX;
    total *= k;
  }
  return total;
}

/* Clamped, and -0 made 0 (adding 0.0 does that), so equal values are
 * equal bit for bit too. */
static double clampd(double x, double lo, double hi) { return (x < lo ? lo : x > hi ? hi : x) + 0.0; }

double hpo_param_snap(const hpo_param *p, double x) {
  if (isnan(x)) x = p->type == HPO_INT || p->type == HPO_DOUBLE ? p->min : 0;
  switch (p->type) {
  case HPO_CATEGORICAL:
  case HPO_DISCRETE:
    return clampd(round(x), 0, (double)p->nlist - 1);
  case HPO_INT:
  case HPO_DOUBLE:
    if (p->nsteps > 0 && p->step > 0) {
      double k = clampd(round((x - p->min) / p->step), 0, (double)p->nsteps - 1);
      return p->min + k * p->step;
    }
    if (p->type == HPO_INT) return clampd(round(x), p->min, p->max);
    return clampd(x, p->min, p->max);
  }
  return x;
}

int hpo_value_parse(const hpo_param *p, const json_t *v, const char *path, double *out, char *err, size_t errlen) {
  if (p->type == HPO_CATEGORICAL) {
    const char *s = json_string_value(v);
    for (size_t k = 0; s && k < p->nlist; k++)
      if (strcmp(p->categories[k], s) == 0) {
        *out = (double)k;
        return 0;
      }
    if (s == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a string, one of parameter %s's list", path,
                                       p->name);
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: \"%s\" is not in parameter %s's list", path, s, p->name);
  }
  double x;
  const char *s = json_string_value(v);
  if (s) {
    char *end;
    x = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(x))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a number, got \"%s\"", path, s);
  } else if (!number_of(v, &x)) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want a number", path);
  }
  if (p->type == HPO_DISCRETE) {
    for (size_t k = 0; k < p->nlist; k++)
      if (p->values[k] == x) {
        *out = (double)k;
        return 0;
      }
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %g is not in parameter %s's list", path, x, p->name);
  }
  if (x < p->min || x > p->max)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %g is outside parameter %s's range [%g, %g]", path, x, p->name,
                        p->min, p->max);
  if (p->type == HPO_INT && floor(x) != x)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an integer, got %g", path, x);
  double snapped = hpo_param_snap(p, x);
  /* A stepped value written in decimal is near min + k*step, seldom on it. */
  if (fabs(snapped - x) > 1e-9 * fmax(1.0, fabs(x)))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: %g is not min + a multiple of step (%g + k*%g)", path, x,
                        p->min, p->step);
  *out = snapped;
  return 0;
}

json_t *hpo_value_json(const hpo_param *p, double x) {
  switch (p->type) {
  case HPO_CATEGORICAL:
    return json_string(p->categories[(size_t)hpo_param_snap(p, x)]);
  case HPO_DISCRETE: {
    double v = p->values[(size_t)hpo_param_snap(p, x)];
    return p->integral ? json_integer((json_int_t)v) : json_real(v);
  }
  case HPO_INT:
    return json_integer((json_int_t)x);
  case HPO_DOUBLE:
    return json_real(x);
  }
  return json_null();
}

int hpo_assignment_parse(const hpo_space *s, const json_t *obj, const char *path, double *x, char *err,
                         size_t errlen) {
  if (!json_is_object(obj)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want an object of parameter values",
                                                path);
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    if (hpo_space_find(s, key) < 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s.%s: not a parameter of the search space", path, key);
  }
  for (size_t i = 0; i < s->n; i++) {
    char where[512];
    snprintf(where, sizeof(where), "%s.%s", path, s->params[i].name);
    v = json_object_get(obj, s->params[i].name);
    if (v == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: missing", where);
    int rc = hpo_value_parse(&s->params[i], v, where, &x[i], err, errlen);
    if (rc) return rc;
  }
  return 0;
}

json_t *hpo_assignment_json(const hpo_space *s, const double *x) {
  json_t *o = json_object();
  for (size_t i = 0; i < s->n; i++) json_object_set_new(o, s->params[i].name, hpo_value_json(&s->params[i], x[i]));
  return o;
}
