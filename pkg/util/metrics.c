#include "util/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "util/alloc.h"

#define METRIC_MAX_LABELS 8

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* One labelled time series of a family. */
typedef struct series {
  char *key;                 /* label values joined with '\x1f' (hash key) */
  char **values;             /* label values, nlabels of them */
  double value;              /* counter/gauge value, or histogram sum */
  unsigned long long count;  /* histogram observations */
  unsigned long long *buckets; /* histogram cumulative counts, nbuckets */
  UT_hash_handle hh;
} series;

struct metric {
  char *name;
  char *help;
  enum metric_type type;
  char *labels[METRIC_MAX_LABELS];
  size_t nlabels;
  double *bounds;
  size_t nbuckets;
  pthread_mutex_t mu;
  series *children; /* uthash, guarded by mu */
  struct metric *next;
};

struct metrics_registry {
  pthread_mutex_t mu;
  metric *families; /* in creation order, guarded by mu */
  metric *last;
};

const double metrics_reconcile_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,
                                            0.35,  0.4,  0.45,  0.5,  0.6, 0.7,  0.8, 0.9, 1.0,
                                            1.25,  1.5,  1.75,  2.0,  2.5, 3.0,  3.5, 4.0, 4.5,
                                            5,     6,    7,     8,    9,   10,   15,  20,  25,
                                            30,    40,   50,    60};
const size_t metrics_reconcile_nbuckets = sizeof(metrics_reconcile_buckets) / sizeof(double);
/* Exponential 1e-8 .. 1e1 by factor 10, as controller-runtime's workqueue. */
const double metrics_workqueue_buckets[] = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
const size_t metrics_workqueue_nbuckets = sizeof(metrics_workqueue_buckets) / sizeof(double);

metrics_registry *metrics_registry_new(void) {
  metrics_registry *r = xcalloc(1, sizeof(*r));
  pthread_mutex_init(&r->mu, NULL);
  return r;
}

static void series_free(series *s, size_t nlabels) {
  for (size_t i = 0; i < nlabels; i++) free(s->values[i]);
  free(s->values);
  free(s->buckets);
  free(s->key);
  free(s);
}

void metrics_registry_free(metrics_registry *r) {
  if (r == NULL) return;
  metric *m = r->families;
  while (m) {
    metric *next = m->next;
    series *s, *tmp;
    HASH_ITER(hh, m->children, s, tmp) {
      HASH_DEL(m->children, s);
      series_free(s, m->nlabels);
    }
    for (size_t i = 0; i < m->nlabels; i++) free(m->labels[i]);
    free(m->bounds);
    free(m->name);
    free(m->help);
    pthread_mutex_destroy(&m->mu);
    free(m);
    m = next;
  }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

static metric *family(metrics_registry *r, enum metric_type type, const char *name, const char *help,
                      const char *labels, const double *bounds, size_t nbuckets) {
  pthread_mutex_lock(&r->mu);
  for (metric *m = r->families; m; m = m->next) {
    if (strcmp(m->name, name) == 0) {
      pthread_mutex_unlock(&r->mu);
      return m;
    }
  }
  metric *m = xcalloc(1, sizeof(*m));
  m->name = xstrdup(name);
  m->help = xstrdup(help);
  m->type = type;
  pthread_mutex_init(&m->mu, NULL);
  for (const char *p = labels; p && *p && m->nlabels < METRIC_MAX_LABELS;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    m->labels[m->nlabels++] = xstrndup(p, n);
    p = comma ? comma + 1 : p + n;
  }
  if (nbuckets) {
    m->bounds = xmalloc(nbuckets * sizeof(double));
    memcpy(m->bounds, bounds, nbuckets * sizeof(double));
    m->nbuckets = nbuckets;
  }
  if (r->last)
    r->last->next = m;
  else
    r->families = m;
  r->last = m;
  pthread_mutex_unlock(&r->mu);
  return m;
}

metric *metrics_counter(metrics_registry *r, const char *name, const char *help, const char *labels) {
  return family(r, METRIC_COUNTER, name, help, labels, NULL, 0);
}

metric *metrics_gauge(metrics_registry *r, const char *name, const char *help, const char *labels) {
  return family(r, METRIC_GAUGE, name, help, labels, NULL, 0);
}

metric *metrics_histogram(metrics_registry *r, const char *name, const char *help, const char *labels,
                          const double *buckets, size_t nbuckets) {
  return family(r, METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

/* Finds or creates the series for the label values in 'ap'. Called with
 * m->mu held. */
static series *child(metric *m, va_list ap) {
  const char *vals[METRIC_MAX_LABELS];
  char key[512];
  size_t off = 0;
  for (size_t i = 0; i < m->nlabels; i++) {
    vals[i] = va_arg(ap, const char *);
    if (vals[i] == NULL) vals[i] = "";
    int n = snprintf(key + off, sizeof(key) - off, "%s\x1f", vals[i]);
    if (n < 0 || (size_t)n >= sizeof(key) - off) break;
    off += (size_t)n;
  }
  key[off] = '\0';
  series *s;
  HASH_FIND_STR(m->children, key, s);
  if (s) return s;
  s = xcalloc(1, sizeof(*s));
  s->key = xstrdup(key);
  s->values = xcalloc(m->nlabels ? m->nlabels : 1, sizeof(char *));
  for (size_t i = 0; i < m->nlabels; i++) s->values[i] = xstrdup(vals[i]);
  if (m->type == METRIC_HISTOGRAM) s->buckets = xcalloc(m->nbuckets ? m->nbuckets : 1, sizeof(*s->buckets));
  HASH_ADD_KEYPTR(hh, m->children, s->key, strlen(s->key), s);
  return s;
}

void metric_add(metric *m, double v, ...) {
  if (m == NULL) return;
  va_list ap;
  va_start(ap, v);
  pthread_mutex_lock(&m->mu);
  child(m, ap)->value += v;
  pthread_mutex_unlock(&m->mu);
  va_end(ap);
}

void metric_set(metric *m, double v, ...) {
  if (m == NULL) return;
  va_list ap;
  va_start(ap, v);
  pthread_mutex_lock(&m->mu);
  child(m, ap)->value = v;
  pthread_mutex_unlock(&m->mu);
  va_end(ap);
}

void metric_observe(metric *m, double v, ...) {
  if (m == NULL) return;
  va_list ap;
  va_start(ap, v);
  pthread_mutex_lock(&m->mu);
  series *s = child(m, ap);
  s->value += v;
  s->count++;
  for (size_t i = 0; i < m->nbuckets; i++)
    if (v <= m->bounds[i]) s->buckets[i]++;
  pthread_mutex_unlock(&m->mu);
  va_end(ap);
}

double metric_value(metric *m, ...) {
  if (m == NULL) return 0;
  va_list ap;
  va_start(ap, m);
  pthread_mutex_lock(&m->mu);
  double v = child(m, ap)->value;
  pthread_mutex_unlock(&m->mu);
  va_end(ap);
  return v;
}

static int write_escaped(cubit_buf *out, const char *s) {
  int err = 0;
  for (; *s && !err; s++) {
    if (*s == '\\') err = buf_appends(out, "\\\\");
    else if (*s == '"') err = buf_appends(out, "\\\"");
    else if (*s == '\n') err = buf_appends(out, "\\n");
    else err = buf_append(out, s, 1);
  }
  return err;
}

/* Writes {a="x",b="y"[,le="..."]}; nothing when there are no labels. */
static int write_labels(cubit_buf *out, const metric *m, const series *s, const char *le) {
  if (m->nlabels == 0 && le == NULL) return 0;
  int err = buf_appends(out, "{");
  for (size_t i = 0; i < m->nlabels && !err; i++) {
    err = buf_appendf(out, "%s%s=\"", i ? "," : "", m->labels[i]);
    if (!err) err = write_escaped(out, s->values[i]);
    if (!err) err = buf_appends(out, "\"");
  }
  if (!err && le) err = buf_appendf(out, "%sle=\"%s\"", m->nlabels ? "," : "", le);
  if (!err) err = buf_appends(out, "}");
  return err;
}

static int write_value(cubit_buf *out, double v) {
  if (isinf(v)) return buf_appends(out, v > 0 ? " +Inf\n" : " -Inf\n");
  return buf_appendf(out, " %.17g\n", v);
}

static int write_family(cubit_buf *out, metric *m) {
  static const char *type_names[] = {"counter", "gauge", "histogram"};
  int err = buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, type_names[m->type]);
  series *s, *tmp;
  HASH_ITER(hh, m->children, s, tmp) {
    if (err) break;
    if (m->type != METRIC_HISTOGRAM) {
      err = buf_appends(out, m->name);
      if (!err) err = write_labels(out, m, s, NULL);
      if (!err) err = write_value(out, s->value);
      continue;
    }
    for (size_t i = 0; i <= m->nbuckets && !err; i++) {
      char le[32];
      if (i < m->nbuckets)
        snprintf(le, sizeof(le), "%g", m->bounds[i]);
      else
        snprintf(le, sizeof(le), "+Inf");
      err = buf_appendf(out, "%s_bucket", m->name);
      if (!err) err = write_labels(out, m, s, le);
      if (!err) err = write_value(out, (double)(i < m->nbuckets ? s->buckets[i] : s->count));
    }
    if (!err) err = buf_appendf(out, "%s_sum", m->name);
    if (!err) err = write_labels(out, m, s, NULL);
    if (!err) err = write_value(out, s->value);
    if (!err) err = buf_appendf(out, "%s_count", m->name);
    if (!err) err = write_labels(out, m, s, NULL);
    if (!err) err = write_value(out, (double)s->count);
  }
  return err;
}

int metrics_write(metrics_registry *r, cubit_buf *out) {
  int err = 0;
  pthread_mutex_lock(&r->mu);
  for (metric *m = r->families; m && !err; m = m->next) {
    pthread_mutex_lock(&m->mu);
    err = write_family(out, m);
    pthread_mutex_unlock(&m->mu);
  }
  pthread_mutex_unlock(&r->mu);
  return err;
}
