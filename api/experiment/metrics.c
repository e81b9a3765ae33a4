/* Metrics from a trial's output: name=value text lines and JSON lines. */
#include "api/experiment/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/alloc.h"

const char *hpo_metrics_format_name(hpo_metrics_format f) { return f == HPO_METRICS_JSON ? "json" : "text"; }

/* Observations read in all, over every series, before the rest of the
 * output is ignored: bounds the work whatever the output. */
#define MAX_READ (HPO_MAX_OBSERVATIONS * 4)

typedef struct parser {
  hpo_metrics *m;
  size_t read;
} parser;

static hpo_series *series_of(hpo_metrics *m, const char *name, size_t len) {
  for (size_t i = 0; i < m->n; i++)
    if (strlen(m->series[i].name) == len && memcmp(m->series[i].name, name, len) == 0) return &m->series[i];
  return NULL;
}

static void add(parser *p, hpo_series *s, int has_step, int64_t step, double v) {
  if (p->read >= MAX_READ) return;
  p->read++;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->obs = xrealloc(s->obs, s->cap * sizeof(*s->obs));
  }
  s->obs[s->n].step = has_step ? step : (int64_t)s->n + 1;
  s->obs[s->n].value = v;
  s->n++;
}

/* A whole token as a finite number. */
static int number_of(const char *s, size_t len, double *out) {
  if (len == 0 || len > 64) return 0;
  char tmp[65];
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  errno = 0;
  char *end;
  double v = strtod(tmp, &end);
  if (end != tmp + len || errno == ERANGE || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ';'; }

static int step_word(const char *tok, size_t len) {
  return (len == 4 && memcmp(tok, "step", 4) == 0) || (len == 5 && memcmp(tok, "epoch", 5) == 0);
}

static int step_value(double v, int64_t *out) {
  if (v != floor(v) || fabs(v) >= 9e15) return 0;
  *out = (int64_t)v;
  return 1;
}

/* "epoch 3 loss=0.21 accuracy=0.9": the step first (epoch=N, step=N, or
 * the words epoch or step followed by a number), then the values. */
static void text_line(parser *p, const char *line, size_t len) {
  int has_step = 0;
  int64_t step = 0;
  for (int pass = 0; pass < 2; pass++) {
    size_t i = 0;
    int after_word = 0; /* the previous token was "epoch" or "step" */
    while (i < len) {
      while (i < len && is_space(line[i])) i++;
      size_t start = i;
      while (i < len && !is_space(line[i])) i++;
      const char *tok = line + start;
      size_t tlen = i - start;
      int was_word = after_word;
      after_word = step_word(tok, tlen);
      double w;
      if (pass == 0 && was_word && !has_step && number_of(tok, tlen, &w) && step_value(w, &step)) has_step = 1;
      const char *eq = memchr(tok, '=', tlen);
      if (eq == NULL || eq == tok) continue;
      size_t nlen = (size_t)(eq - tok);
      double v;
      if (!number_of(eq + 1, tlen - nlen - 1, &v)) continue;
      if (pass == 0) {
        if (step_word(tok, nlen) && !has_step && step_value(v, &step)) has_step = 1;
        continue;
      }
      hpo_series *s = series_of(p->m, tok, nlen);
      if (s) add(p, s, has_step, step, v);
    }
  }
}

static void json_line(parser *p, const char *line, size_t len) {
  size_t i = 0;
  while (i < len && is_space(line[i])) i++;
  if (i == len || line[i] != '{') return;
  json_t *o = json_loadb(line + i, len - i, JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    return;
  }
  int has_step = 0;
  int64_t step = 0;
  json_t *sv = json_object_get(o, "step");
  if (!json_is_number(sv)) sv = json_object_get(o, "epoch");
  if (json_is_number(sv)) {
    double v = json_number_value(sv);
    if (isfinite(v) && step_value(v, &step)) has_step = 1;
  }
  for (size_t k = 0; k < p->m->n; k++) {
    hpo_series *s = &p->m->series[k];
    json_t *v = json_object_get(o, s->name);
    double d;
    if (json_is_number(v)) {
      d = json_number_value(v);
      if (!isfinite(d)) continue;
    } else if (json_is_string(v)) {
      const char *t = json_string_value(v);
      if (!number_of(t, strlen(t), &d)) continue;
    } else {
      continue;
    }
    add(p, s, has_step, step, d);
  }
  json_decref(o);
}

void hpo_metrics_parse(const char *buf, size_t len, hpo_metrics_format fmt, int complete, const char *const *names,
                       size_t nnames, hpo_metrics *out) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < nnames && out->n < HPO_METRICS_MAX_SERIES; i++) {
    if (names[i] == NULL || names[i][0] == '\0' || strlen(names[i]) >= HPO_NAME_LEN) continue;
    if (series_of(out, names[i], strlen(names[i]))) continue;
    memcpy(out->series[out->n].name, names[i], strlen(names[i]) + 1);
    out->n++;
  }
  if (buf == NULL) return;
  if (len > HPO_METRICS_MAX_BYTES) {
    len = HPO_METRICS_MAX_BYTES;
    complete = 0; /* the cut line is not whole */
  }
  parser p = {out, 0};
  size_t at = 0;
  while (at < len && p.read < MAX_READ) {
    const char *nl = memchr(buf + at, '\n', len - at);
    if (nl == NULL && !complete) break; /* still being written */
    size_t end = nl ? (size_t)(nl - buf) : len;
    /* A NUL inside a line makes it no metric line. */
    if (memchr(buf + at, '\0', end - at) == NULL) {
      if (fmt == HPO_METRICS_JSON) json_line(&p, buf + at, end - at);
      else text_line(&p, buf + at, end - at);
    }
    at = end + 1;
  }
  /* Keep the last observations of each series. */
  for (size_t i = 0; i < out->n; i++) {
    hpo_series *s = &out->series[i];
    if (s->n > HPO_MAX_OBSERVATIONS) {
      memmove(s->obs, s->obs + (s->n - HPO_MAX_OBSERVATIONS), HPO_MAX_OBSERVATIONS * sizeof(*s->obs));
      s->n = HPO_MAX_OBSERVATIONS;
    }
  }
}

void hpo_metrics_free(hpo_metrics *m) {
  for (size_t i = 0; i < m->n; i++) free(m->series[i].obs);
  memset(m, 0, sizeof(*m));
}

const hpo_series *hpo_metrics_get(const hpo_metrics *m, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->series[i].name, name) == 0) return m->series[i].n ? &m->series[i] : NULL;
  return NULL;
}
