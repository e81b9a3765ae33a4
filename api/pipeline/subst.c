#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pipeline/pipeline.h"
#include "util/alloc.h"
#include "util/buf.h"

static int ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Splits "a.b.c" into at most 4 identifier segments. */
static int segments(const char *text, size_t len, char seg[4][64], size_t *nseg) {
  *nseg = 0;
  size_t i = 0;
  while (i <= len) {
    size_t start = i;
    while (i < len && ident_char(text[i])) i++;
    size_t n = i - start;
    if (n == 0 || n >= 64 || *nseg == 4) return -1;
    memcpy(seg[*nseg], text + start, n);
    seg[*nseg][n] = '\0';
    (*nseg)++;
    if (i == len) return 0;
    if (text[i] != '.') return -1;
    i++;
  }
  return -1;
}

int pl_ref_parse(const char *text, size_t len, pl_ref *out) {
  memset(out, 0, sizeof(*out));
  while (len && (*text == ' ' || *text == '\t')) text++, len--;
  while (len && (text[len - 1] == ' ' || text[len - 1] == '\t')) len--;
  char seg[4][64];
  size_t n;
  if (segments(text, len, seg, &n)) return CUBIT_EINVAL;
  if (n == 2 && strcmp(seg[0], "params") == 0) {
    out->kind = PL_REF_PARAM;
    snprintf(out->name, sizeof(out->name), "%s", seg[1]);
    return 0;
  }
  if (n == 2 && strcmp(seg[0], "run") == 0 &&
      (strcmp(seg[1], "name") == 0 || strcmp(seg[1], "namespace") == 0 || strcmp(seg[1], "scheduledTime") == 0)) {
    out->kind = PL_REF_RUN;
    snprintf(out->name, sizeof(out->name), "%s", seg[1]);
    return 0;
  }
  if (n == 2 && strcmp(seg[0], "trial") == 0 && (strcmp(seg[1], "name") == 0 || strcmp(seg[1], "number") == 0)) {
    out->kind = PL_REF_TRIAL;
    snprintf(out->name, sizeof(out->name), "%s", seg[1]);
    return 0;
  }
  if (n == 3 && strcmp(seg[0], "trial") == 0 && strcmp(seg[1], "parameters") == 0) {
    out->kind = PL_REF_TRIAL;
    snprintf(out->name, sizeof(out->name), "parameters.%s", seg[2]);
    return 0;
  }
  if (n == 4 && strcmp(seg[0], "tasks") == 0 && strcmp(seg[2], "outputs") == 0) {
    out->kind = PL_REF_OUTPUT;
    snprintf(out->task, sizeof(out->task), "%s", seg[1]);
    snprintf(out->name, sizeof(out->name), "%s", seg[3]);
    return 0;
  }
  return CUBIT_EINVAL;
}

void pl_ref_format(const pl_ref *r, char *out, size_t len) {
  switch (r->kind) {
    case PL_REF_PARAM: snprintf(out, len, "params.%s", r->name); break;
    case PL_REF_RUN: snprintf(out, len, "run.%s", r->name); break;
    case PL_REF_TRIAL: snprintf(out, len, "trial.%s", r->name); break;
    default: snprintf(out, len, "tasks.%s.outputs.%s", r->task, r->name); break;
  }
}

/* Finds the next "{{...}}" in s from *pos: its start, the inside and the end.
 * Returns 1 when found, 0 when there is none, -1 for an unterminated one. */
static int next_ref(const char *s, size_t *pos, size_t *start, size_t *in_start, size_t *in_len, size_t *end) {
  const char *open = strstr(s + *pos, "{{");
  if (open == NULL) return 0;
  const char *close = strstr(open + 2, "}}");
  if (close == NULL) return -1;
  *start = (size_t)(open - s);
  *in_start = *start + 2;
  *in_len = (size_t)(close - open - 2);
  *end = (size_t)(close - s) + 2;
  *pos = *end;
  return 1;
}

static void child_path(char *out, size_t len, const char *path, const char *key, size_t index, int is_index) {
  if (is_index) snprintf(out, len, "%s[%zu]", path, index);
  else snprintf(out, len, "%s.%s", path, key);
}

static int check_string(const char *s, const char *path, pl_ref_check_fn check, void *arg, char *err, size_t errlen) {
  size_t pos = 0, start, in_start, in_len, end;
  int found;
  while ((found = next_ref(s, &pos, &start, &in_start, &in_len, &end)) == 1) {
    pl_ref ref;
    if (pl_ref_parse(s + in_start, in_len, &ref)) {
      snprintf(err, errlen, "%s: unknown substitution {{%.*s}} (known: params.NAME, run.name, run.namespace, "
               "run.scheduledTime, tasks.TASK.outputs.NAME)", path, (int)(in_len > 80 ? 80 : in_len), s + in_start);
      return CUBIT_EINVAL;
    }
    char why[400] = "";
    if (check && check(&ref, arg, why, sizeof(why))) {
      char shown[200];
      pl_ref_format(&ref, shown, sizeof(shown));
      snprintf(err, errlen, "%s: unknown substitution {{%s}}: %s", path, shown, why);
      return CUBIT_EINVAL;
    }
  }
  if (found < 0) {
    snprintf(err, errlen, "%s: unterminated substitution (\"{{\" without \"}}\")", path);
    return CUBIT_EINVAL;
  }
  return 0;
}

static int too_deep(const char *path, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: nested deeper than %d levels", path, PL_SUBST_MAX_DEPTH);
  return CUBIT_EINVAL;
}

static int check_value(const json_t *v, const char *path, int depth, pl_ref_check_fn check, void *arg, char *err,
                       size_t errlen) {
  if (json_is_string(v)) return check_string(json_string_value(v), path, check, arg, err, errlen);
  if (!json_is_object(v) && !json_is_array(v)) return 0;
  if (depth >= PL_SUBST_MAX_DEPTH) return too_deep(path, err, errlen);
  char sub[512];
  if (json_is_object(v)) {
    const char *key;
    json_t *c;
    json_object_foreach((json_t *)v, key, c) {
      child_path(sub, sizeof(sub), path, key, 0, 0);
      if (check_value(c, sub, depth + 1, check, arg, err, errlen)) return CUBIT_EINVAL;
    }
  } else {
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) {
      child_path(sub, sizeof(sub), path, NULL, i, 1);
      if (check_value(c, sub, depth + 1, check, arg, err, errlen)) return CUBIT_EINVAL;
    }
  }
  return 0;
}

int pl_subst_check(const json_t *v, const char *path, pl_ref_check_fn check, void *arg, char *err, size_t errlen) {
  return check_value(v, path, 0, check, arg, err, errlen);
}

static int subst_string(const char *s, const char *path, pl_ref_value_fn value, void *arg, json_t **out, char *err,
                        size_t errlen) {
  size_t pos = 0, start, in_start, in_len, end;
  int found = next_ref(s, &pos, &start, &in_start, &in_len, &end);
  if (found == 0) {
    *out = json_string(s);
    return 0;
  }
  /* A string that is exactly one reference takes the value's own type
   * (replicas: "{{params.workers}}" is an integer), except where Kubernetes
   * wants a string whatever the value: list items (command, args), an env
   * variable's value, labels and annotations. */
  const char *last = strrchr(path, '.');
  int string_only = (*path && path[strlen(path) - 1] == ']') || (last && strcmp(last, ".value") == 0) ||
                    strstr(path, ".labels.") != NULL || strstr(path, ".annotations.") != NULL;
  int whole = found == 1 && start == 0 && s[end] == '\0' && !string_only;
  cubit_buf b;
  buf_init(&b, 1 << 20);
  size_t copied = 0;
  while (found == 1) {
    pl_ref ref;
    if (pl_ref_parse(s + in_start, in_len, &ref)) {
      snprintf(err, errlen, "%s: unknown substitution {{%.*s}}", path, (int)(in_len > 80 ? 80 : in_len),
               s + in_start);
      buf_free(&b);
      return CUBIT_EINVAL;
    }
    char why[400] = "unknown";
    const json_t *val = value(&ref, arg, why, sizeof(why));
    if (val == NULL) {
      char shown[200];
      pl_ref_format(&ref, shown, sizeof(shown));
      snprintf(err, errlen, "%s: {{%s}}: %s", path, shown, why);
      buf_free(&b);
      return CUBIT_EINVAL;
    }
    if (whole) {
      buf_free(&b);
      *out = json_deep_copy(val);
      return 0;
    }
    char *text = pl_value_text(val);
    if (buf_append(&b, s + copied, start - copied) || buf_append(&b, text, strlen(text))) {
      free(text);
      buf_free(&b);
      snprintf(err, errlen, "%s: the substituted string is longer than 1 MiB", path);
      return CUBIT_EINVAL;
    }
    free(text);
    copied = end;
    found = next_ref(s, &pos, &start, &in_start, &in_len, &end);
  }
  if (found < 0) {
    snprintf(err, errlen, "%s: unterminated substitution (\"{{\" without \"}}\")", path);
    buf_free(&b);
    return CUBIT_EINVAL;
  }
  if (buf_append(&b, s + copied, strlen(s + copied))) {
    buf_free(&b);
    snprintf(err, errlen, "%s: the substituted string is longer than 1 MiB", path);
    return CUBIT_EINVAL;
  }
  *out = json_stringn(b.data ? b.data : "", b.len);
  buf_free(&b);
  return 0;
}

static int subst_value(const json_t *v, const char *path, int depth, pl_ref_value_fn value, void *arg, json_t **out,
                       char *err, size_t errlen) {
  *out = NULL;
  if (json_is_string(v)) return subst_string(json_string_value(v), path, value, arg, out, err, errlen);
  if (!json_is_object(v) && !json_is_array(v)) {
    *out = json_deep_copy(v);
    return 0;
  }
  if (depth >= PL_SUBST_MAX_DEPTH) return too_deep(path, err, errlen);
  char sub[512];
  json_t *copy = json_is_object(v) ? json_object() : json_array();
  if (json_is_object(v)) {
    const char *key;
    json_t *c;
    json_object_foreach((json_t *)v, key, c) {
      child_path(sub, sizeof(sub), path, key, 0, 0);
      json_t *r;
      if (subst_value(c, sub, depth + 1, value, arg, &r, err, errlen)) {
        json_decref(copy);
        return CUBIT_EINVAL;
      }
      json_object_set_new(copy, key, r);
    }
  } else {
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) {
      child_path(sub, sizeof(sub), path, NULL, i, 1);
      json_t *r;
      if (subst_value(c, sub, depth + 1, value, arg, &r, err, errlen)) {
        json_decref(copy);
        return CUBIT_EINVAL;
      }
      json_array_append_new(copy, r);
    }
  }
  *out = copy;
  return 0;
}

int pl_subst_json(const json_t *v, const char *path, pl_ref_value_fn value, void *arg, json_t **out, char *err,
                  size_t errlen) {
  return subst_value(v, path, 0, value, arg, out, err, errlen);
}
