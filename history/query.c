/* Query-string parsing of the history API (query.h). */
#include "history/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"

#define MAX_PARAMS 16

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes src[0..n) into out (size outlen, NUL-terminated). */
static int decode(const char *src, size_t n, char *out, size_t outlen, const char *what, char *err, size_t errlen) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = src[i];
    if (c == '+') c = ' ';
    else if (c == '%') {
      int hi = i + 1 < n ? hexval(src[i + 1]) : -1;
      int lo = i + 2 < n ? hexval(src[i + 2]) : -1;
      if (hi < 0 || lo < 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: bad percent-encoding", what);
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || (unsigned char)c < 0x20 || c == 0x7f)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: control characters are not allowed", what);
    if (o + 1 >= outlen) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: longer than %zu bytes", what, outlen - 1);
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

typedef struct {
  const char *name;
  char *value; /* decoded into this buffer */
  size_t len;
  int seen;
  /* a repeatable parameter: value is an array of 'max' buffers of len
   * bytes, *count of them filled */
  size_t *count, max;
} param;

/* Splits the query on '&', matches each name to params (exact, decoded). */
static int parse_params(const char *query, param *params, size_t n, char *err, size_t errlen) {
  const char *p = query ? query : "";
  while (*p) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0) {
      const char *eq = memchr(p, '=', len);
      size_t nlen = eq ? (size_t)(eq - p) : len;
      char name[64];
      int rc = decode(p, nlen, name, sizeof name, "a parameter name", err, errlen);
      if (rc) return rc;
      size_t i;
      for (i = 0; i < n; i++)
        if (strcmp(params[i].name, name) == 0) break;
      if (i == n) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: unknown parameter", name);
      param *pm = &params[i];
      if (pm->seen && pm->count == NULL)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: given more than once", name);
      if (pm->count && *pm->count == pm->max)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: given more than %zu times", name, pm->max);
      pm->seen = 1;
      if (eq == NULL || nlen + 1 == len) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: empty value", name);
      char *into = pm->count ? pm->value + *pm->count * pm->len : pm->value;
      rc = decode(eq + 1, len - nlen - 1, into, pm->len, pm->name, err, errlen);
      if (rc) return rc;
      if (pm->count) (*pm->count)++;
    }
    p += len;
    if (*p == '&') p++;
  }
  return 0;
}

int hist_query_value(const char *query, const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  for (const char *p = query ? query : ""; *p;) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    char key[64];
    if (eq && decode(p, (size_t)(eq - p), key, sizeof key, "", NULL, 0) == 0 && strcmp(key, name) == 0) {
      if (decode(eq + 1, len - (size_t)(eq - p) - 1, out, outlen, "", NULL, 0) == 0) return 1;
      out[0] = '\0';
      return 0;
    }
    p += len;
    if (*p == '&') p++;
  }
  return 0;
}

static int check_format(const char *format, char *err, size_t errlen) {
  if (format[0] && strcmp(format, "json") && strcmp(format, "csv"))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "format: want json or csv");
  return 0;
}

static int parse_time(const char *name, const char *s, int64_t *out, char *err, size_t errlen) {
  if (s[0] == '\0') return 0;
  if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v <= 0 || v > 253402300799LL)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: epoch seconds out of range", name);
    *out = v;
    return 0;
  }
  if (time_parse_rfc3339(s, out) != 0 || *out <= 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want RFC 3339 (2026-12-01T00:00:00Z) or epoch seconds", name);
  return 0;
}

/* A label name as Kubernetes has them: an optional DNS-subdomain prefix
 * and '/', then 1-63 alphanumerics, '-', '_', '.' starting and ending
 * alphanumeric. Checked loosely for the prefix (its characters), exactly
 * for the name part. */
static int label_name_ok(const char *s, size_t n) {
  const char *slash = memchr(s, '/', n);
  const char *name = slash ? slash + 1 : s;
  size_t nlen = (size_t)(s + n - name);
  if (slash && (slash == s || (size_t)(slash - s) > 253)) return 0;
  for (const char *p = s; slash && p < slash; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) return 0;
  if (nlen == 0 || nlen > 63) return 0;
  for (size_t i = 0; i < nlen; i++) {
    char c = name[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && !((c == '-' || c == '_' || c == '.') && i > 0 && i + 1 < nlen)) return 0;
  }
  return 1;
}

/* A label value: empty, or 1-63 of the name part's characters. */
static int label_value_ok(const char *s) {
  size_t n = strlen(s);
  return n == 0 || (strchr(s, '/') == NULL && label_name_ok(s, n));
}

/* One selector of label=: name=value (or ==), name!=value, name, !name. */
static int parse_label(const char *text, hist_label_sel *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *name = text, *value = NULL;
  const char *eq = strchr(text, '=');
  size_t nlen;
  if (text[0] == '!') {
    out->op = HIST_LABEL_NOT_EXISTS;
    name = text + 1;
    nlen = eq ? 0 : strlen(name); /* "!a=b" is no form */
  } else if (eq && eq > text && eq[-1] == '!') {
    out->op = HIST_LABEL_NE;
    nlen = (size_t)(eq - 1 - text);
    value = eq + 1;
  } else if (eq) {
    out->op = HIST_LABEL_EQ;
    nlen = (size_t)(eq - text);
    value = eq + 1 + (eq[1] == '=');
  } else {
    out->op = HIST_LABEL_EXISTS;
    nlen = strlen(text);
  }
  if (nlen == 0 || !label_name_ok(name, nlen))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "label: want name=value, name!=value, name or !name with a Kubernetes label name (got \"%s\")",
                        text);
  if (value && !label_value_ok(value))
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                        "label: the value for %.*s is not a Kubernetes label value (at most 63 letters, digits, '-', "
                        "'_', '.')",
                        (int)nlen, name);
  memcpy(out->name, name, nlen);
  out->name[nlen] = '\0';
  if (value) snprintf(out->value, sizeof out->value, "%s", value);
  return 0;
}

int hist_parse_runs_query(const char *query, hist_runs_query *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char from[64] = "", to[64] = "", limit[16] = "";
  /* name (317) '!=' value (63) */
  char labels[HIST_MAX_LABEL_SELS][HIST_LABEL_NAME_LEN + HIST_LABEL_VALUE_LEN + 3];
  size_t nlabels = 0;
  param ps[] = {{"project", out->project, sizeof out->project, 0, NULL, 0}, {"kind", out->kind, sizeof out->kind, 0, NULL, 0},
                {"namespace", out->ns, sizeof out->ns, 0, NULL, 0},         {"phase", out->phase, sizeof out->phase, 0, NULL, 0},
                {"user", out->user, sizeof out->user, 0, NULL, 0},          {"after", out->after, sizeof out->after, 0, NULL, 0},
                {"from", from, sizeof from, 0, NULL, 0},                    {"to", to, sizeof to, 0, NULL, 0},
                {"limit", limit, sizeof limit, 0, NULL, 0},                 {"parent", out->parent, sizeof out->parent, 0, NULL, 0},
                {"format", out->format, sizeof out->format, 0, NULL, 0},
                {"label", labels[0], sizeof labels[0], 0, &nlabels, HIST_MAX_LABEL_SELS}};
  int rc = parse_params(query, ps, sizeof ps / sizeof ps[0], err, errlen);
  if (rc == 0) rc = check_format(out->format, err, errlen);
  for (size_t i = 0; rc == 0 && i < nlabels; i++) rc = parse_label(labels[i], &out->labels[i], err, errlen);
  if (rc) return rc;
  out->nlabels = nlabels;
  if ((rc = parse_time("from", from, &out->from, err, errlen)) || (rc = parse_time("to", to, &out->to, err, errlen)))
    return rc;
  if (out->from && out->to && out->to <= out->from)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "to: must be after from");
  out->limit = 100;
  if (limit[0]) {
    char *end;
    errno = 0;
    long v = strtol(limit, &end, 10);
    if (errno || *end || end == limit || v < 1 || v > 1000)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "limit: want an integer from 1 to 1000");
    out->limit = (int)v;
  }
  return 0;
}

/* A namespace or object name: lower-case alphanumerics, '-' and '.',
 * starting and ending alphanumeric (what the API server accepts). */
static int object_name(const char *what, const char *s, size_t n, char *out, size_t outlen, char *err,
                       size_t errlen) {
  if (n == 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: empty", what);
  if (n >= outlen) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: longer than %zu characters", what, outlen - 1);
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !((c == '-' || c == '.') && i > 0 && i + 1 < n))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want lower-case letters, digits, '-' and '.'", what);
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}

int hist_parse_trials_query(const char *path, const char *query, hist_trials_query *out, char *err,
                            size_t errlen) {
  memset(out, 0, sizeof *out);
  const size_t plen = strlen(HIST_EXPERIMENTS_PREFIX);
  if (path == NULL || strncmp(path, HIST_EXPERIMENTS_PREFIX, plen) != 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "want /api/v1/experiments/{namespace}/{name}/trials");
  const char *ns = path + plen;
  const char *slash = strchr(ns, '/');
  const char *name = slash ? slash + 1 : NULL;
  const char *slash2 = name ? strchr(name, '/') : NULL;
  if (slash == NULL || slash2 == NULL || strcmp(slash2, "/trials") != 0)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "want /api/v1/experiments/{namespace}/{name}/trials");
  int rc = object_name("namespace", ns, (size_t)(slash - ns), out->ns, sizeof out->ns, err, errlen);
  if (rc == 0) rc = object_name("name", name, (size_t)(slash2 - name), out->name, sizeof out->name, err, errlen);
  if (rc) return rc;
  return parse_params(query, NULL, 0, err, errlen);
}

int hist_parse_run_query(const char *query, hist_run_query *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  param ps[] = {{"uid", out->uid, sizeof out->uid, 0, NULL, 0}};
  int rc = parse_params(query, ps, 1, err, errlen);
  if (rc) return rc;
  if (out->uid[0] == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "uid: required");
  return 0;
}

int hist_parse_usage_query(const char *query, int64_t now, hist_usage_query *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char from[64] = "", to[64] = "";
  param ps[] = {{"project", out->project, sizeof out->project, 0, NULL, 0},
                {"by", out->by, sizeof out->by, 0, NULL, 0},
                {"from", from, sizeof from, 0, NULL, 0},
                {"to", to, sizeof to, 0, NULL, 0},
                {"format", out->format, sizeof out->format, 0, NULL, 0}};
  int rc = parse_params(query, ps, sizeof ps / sizeof ps[0], err, errlen);
  if (rc == 0) rc = check_format(out->format, err, errlen);
  if (rc) return rc;
  if (out->by[0] == '\0') snprintf(out->by, sizeof out->by, "day");
  if (strcmp(out->by, "day") && strcmp(out->by, "week") && strcmp(out->by, "month") && strcmp(out->by, "member") &&
      strcmp(out->by, "gpu-model") && strcmp(out->by, "project"))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "by: want day, week, month, member, gpu-model or project");
  if ((rc = parse_time("from", from, &out->from, err, errlen)) || (rc = parse_time("to", to, &out->to, err, errlen)))
    return rc;
  if (out->to == 0) out->to = now;
  if (out->from == 0) out->from = out->to - 30 * 86400;
  if (out->to <= out->from) return cubit_errorf(err, errlen, CUBIT_EINVAL, "to: must be after from");
  if (out->to - out->from > 400 * 86400)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "from: the window is longer than 400 days");
  return 0;
}
