#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "util/alloc.h"
#include "util/json.h"

static const char *type_names[] = {"string", "int", "float", "bool", "enum", "json"};

const char *pl_type_name(pl_type t) {
  return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

/* A short rendering of a value for messages. */
static void show(const json_t *v, char *out, size_t len) {
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL) {
    snprintf(out, len, "?");
    return;
  }
  if (strlen(text) > 60) snprintf(out, len, "%.57s...", text);
  else snprintf(out, len, "%s", text);
  free(text);
}

static int parse_int_text(const char *s, json_int_t *out) {
  if (s == NULL || *s == '\0') return -1;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (errno || *end != '\0') return -1;
  *out = v;
  return 0;
}

static int parse_float_text(const char *s, double *out) {
  if (s == NULL || *s == '\0') return -1;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno || *end != '\0' || !isfinite(v)) return -1;
  /* strtod also reads hex, inf and nan; numbers here are decimal. */
  for (const char *p = s; *p; p++)
    if (!strchr("0123456789+-.eE", *p)) return -1;
  *out = v;
  return 0;
}

static int in_range(const pl_param *p, double v, const char *path, char *err, size_t errlen) {
  if (p->has_min && v < p->min) {
    snprintf(err, errlen, "%s: %g is less than the minimum %g", path, v, p->min);
    return CUBIT_EINVAL;
  }
  if (p->has_max && v > p->max) {
    snprintf(err, errlen, "%s: %g is more than the maximum %g", path, v, p->max);
    return CUBIT_EINVAL;
  }
  return 0;
}

int pl_param_coerce(const pl_param *p, const json_t *v, const char *path, json_t **out, char *err,
                    size_t errlen) {
  char shown[80];
  show(v, shown, sizeof(shown));
  *out = NULL;
  switch (p->type) {
    case PL_STRING:
      if (json_is_string(v)) {
        *out = json_incref((json_t *)v);
        return 0;
      }
      if (json_is_number(v) || json_is_boolean(v)) {
        char *text = pl_value_text(v);
        *out = json_string(text);
        free(text);
        return 0;
      }
      snprintf(err, errlen, "%s: want a string, got %s", path, shown);
      return CUBIT_EINVAL;
    case PL_INT: {
      json_int_t i;
      if (json_is_integer(v)) i = json_integer_value(v);
      else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 9e15)
        i = (json_int_t)json_real_value(v);
      else if (!json_is_string(v) || parse_int_text(json_string_value(v), &i)) {
        snprintf(err, errlen, "%s: want an integer, got %s", path, shown);
        return CUBIT_EINVAL;
      }
      if (in_range(p, (double)i, path, err, errlen)) return CUBIT_EINVAL;
      *out = json_integer(i);
      return 0;
    }
    case PL_FLOAT: {
      double d;
      if (json_is_number(v)) d = json_number_value(v);
      else if (!json_is_string(v) || parse_float_text(json_string_value(v), &d)) {
        snprintf(err, errlen, "%s: want a number, got %s", path, shown);
        return CUBIT_EINVAL;
      }
      if (in_range(p, d, path, err, errlen)) return CUBIT_EINVAL;
      *out = json_real(d);
      return 0;
    }
    case PL_BOOL:
      if (json_is_boolean(v)) {
        *out = json_incref((json_t *)v);
        return 0;
      }
      if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 || strcmp(json_string_value(v), "false") == 0)) {
        *out = json_boolean(strcmp(json_string_value(v), "true") == 0);
        return 0;
      }
      snprintf(err, errlen, "%s: want true or false, got %s", path, shown);
      return CUBIT_EINVAL;
    case PL_ENUM: {
      char *text = json_is_string(v) || json_is_number(v) || json_is_boolean(v) ? pl_value_text(v) : NULL;
      size_t i;
      json_t *e;
      json_array_foreach(p->enum_values, i, e) {
        if (text && json_is_string(e) && strcmp(json_string_value(e), text) == 0) {
          *out = json_string(text);
          free(text);
          return 0;
        }
      }
      free(text);
      char allowed[300] = "";
      size_t used = 0;
      json_array_foreach(p->enum_values, i, e) {
        int n = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "", json_string_value(e));
        if (n < 0 || (size_t)n >= sizeof(allowed) - used) break;
        used += (size_t)n;
      }
      snprintf(err, errlen, "%s: want one of %s, got %s", path, allowed, shown);
      return CUBIT_EINVAL;
    }
    case PL_JSON:
      *out = json_incref((json_t *)v);
      return 0;
  }
  snprintf(err, errlen, "%s: unknown type", path);
  return CUBIT_EINVAL;
}

char *pl_value_text(const json_t *v) {
  if (json_is_string(v)) return xstrdup(json_string_value(v));
  if (json_is_integer(v)) return xasprintf("%lld", (long long)json_integer_value(v));
  if (json_is_real(v)) {
    /* The shortest text that reads back as the same double. */
    double d = json_real_value(v);
    for (int prec = 1; prec <= 17; prec++) {
      char *s = xasprintf("%.*g", prec, d);
      if (strtod(s, NULL) == d) return s;
      free(s);
    }
    return xasprintf("%.17g", d);
  }
  if (json_is_true(v)) return xstrdup("true");
  if (json_is_false(v)) return xstrdup("false");
  if (json_is_null(v) || v == NULL) return xstrdup("");
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  char *copy = xstrdup(s ? s : "");
  free(s);
  return copy;
}

static int valid_name(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 63) return 0;
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

int pl_params_parse(const json_t *arr, const char *path, pl_params *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (arr == NULL || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) {
    snprintf(err, errlen, "%s: want a list", path);
    return CUBIT_EINVAL;
  }
  if (json_array_size(arr) > PL_MAX_PARAMS) {
    snprintf(err, errlen, "%s: at most %d parameters", path, PL_MAX_PARAMS);
    return CUBIT_EINVAL;
  }
  out->items = xcalloc(json_array_size(arr) + 1, sizeof(pl_param));
  size_t i;
  json_t *d;
  json_array_foreach(arr, i, d) {
    pl_param *p = &out->items[out->n];
    p->name = js_str(d, "name");
    if (!valid_name(p->name)) {
      snprintf(err, errlen, "%s[%zu].name: want a name of letters, digits and _ (not starting with a digit), got \"%s\"",
               path, i, p->name ? p->name : "");
      goto fail;
    }
    if (pl_params_find(out, p->name)) {
      snprintf(err, errlen, "%s[%zu].name: parameter %s is declared twice", path, i, p->name);
      goto fail;
    }
    const char *type = js_str(d, "type");
    int t = -1;
    for (int k = 0; type && k < (int)(sizeof(type_names) / sizeof(type_names[0])); k++)
      if (strcmp(type, type_names[k]) == 0) t = k;
    if (type == NULL) t = PL_STRING;
    if (t < 0) {
      snprintf(err, errlen, "%s[%zu].type: want string, int, float, bool, enum or json, got \"%s\" (parameter %s)",
               path, i, type, p->name);
      goto fail;
    }
    p->type = (pl_type)t;
    p->required = js_bool(d, "required", 0);
    p->enum_values = json_object_get(d, "enum");
    if (p->type == PL_ENUM) {
      size_t k;
      json_t *e;
      int ok = json_array_size(p->enum_values) > 0;
      json_array_foreach(p->enum_values, k, e) ok &= json_is_string(e);
      if (!ok) {
        snprintf(err, errlen, "%s[%zu].enum: parameter %s of type enum needs a list of strings", path, i, p->name);
        goto fail;
      }
    } else if (p->enum_values) {
      snprintf(err, errlen, "%s[%zu].enum: parameter %s is of type %s, not enum", path, i, p->name,
               pl_type_name(p->type));
      goto fail;
    }
    json_t *min = json_object_get(d, "minimum"), *max = json_object_get(d, "maximum");
    if ((min || max) && p->type != PL_INT && p->type != PL_FLOAT) {
      snprintf(err, errlen, "%s[%zu]: parameter %s of type %s cannot have a minimum or maximum", path, i, p->name,
               pl_type_name(p->type));
      goto fail;
    }
    if ((min && !json_is_number(min)) || (max && !json_is_number(max))) {
      snprintf(err, errlen, "%s[%zu]: minimum and maximum of parameter %s must be numbers", path, i, p->name);
      goto fail;
    }
    p->has_min = min != NULL;
    p->has_max = max != NULL;
    p->min = min ? json_number_value(min) : 0;
    p->max = max ? json_number_value(max) : 0;
    if (p->has_min && p->has_max && p->min > p->max) {
      snprintf(err, errlen, "%s[%zu]: parameter %s has a minimum above its maximum", path, i, p->name);
      goto fail;
    }
    p->def = json_object_get(d, "default");
    if (p->def && json_is_null(p->def)) p->def = NULL;
    if (p->def && p->required) {
      snprintf(err, errlen, "%s[%zu]: parameter %s is required and has a default; a required parameter has none", path,
               i, p->name);
      goto fail;
    }
    if (p->def) {
      char where[128], why[400];
      snprintf(where, sizeof(where), "%s[%zu].default", path, i);
      json_t *coerced;
      if (pl_param_coerce(p, p->def, where, &coerced, why, sizeof(why))) {
        snprintf(err, errlen, "%s (parameter %s is of type %s)", why, p->name, pl_type_name(p->type));
        goto fail;
      }
      json_decref(coerced);
    }
    out->n++;
  }
  return 0;
fail:
  pl_params_free(out);
  return CUBIT_EINVAL;
}

void pl_params_free(pl_params *p) {
  free(p->items);
  p->items = NULL;
  p->n = 0;
}

const pl_param *pl_params_find(const pl_params *p, const char *name) {
  for (size_t i = 0; name && i < p->n; i++)
    if (strcmp(p->items[i].name, name) == 0) return &p->items[i];
  return NULL;
}

int pl_params_resolve(const pl_params *decls, const json_t *given, const char *path, json_t **out, char *err,
                      size_t errlen) {
  json_t *values = json_object();
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)given, key, v) {
    if (pl_params_find(decls, key) == NULL) {
      snprintf(err, errlen, "%s.%s: no such parameter", path, key);
      json_decref(values);
      return CUBIT_EINVAL;
    }
  }
  for (size_t i = 0; i < decls->n; i++) {
    const pl_param *p = &decls->items[i];
    const json_t *val = json_object_get(given, p->name);
    if (val == NULL || json_is_null(val)) val = p->def;
    char where[160];
    snprintf(where, sizeof(where), "%s.%s", path, p->name);
    if (val == NULL) {
      if (p->required) {
        snprintf(err, errlen, "%s: required (a %s parameter without a default)", where, pl_type_name(p->type));
        json_decref(values);
        return CUBIT_EINVAL;
      }
      /* Optional without a default: the empty value of its type. */
      json_t *empty = p->type == PL_INT     ? json_integer(0)
                      : p->type == PL_FLOAT ? json_real(0)
                      : p->type == PL_BOOL  ? json_false()
                      : p->type == PL_JSON  ? json_null()
                                            : json_string("");
      json_object_set_new(values, p->name, empty);
      continue;
    }
    json_t *c;
    if (pl_param_coerce(p, val, where, &c, err, errlen)) {
      json_decref(values);
      return CUBIT_EINVAL;
    }
    json_object_set_new(values, p->name, c);
  }
  *out = values;
  return 0;
}
