/* Prometheus metrics: counters, gauges and histograms with labels, written
 * in the text exposition format (version 0.0.4).
 *
 * A family is created once with its label names ("controller,result");
 * every update passes exactly that many label values as trailing string
 * arguments:
 *
 *   metric *m = metrics_counter(reg, "controller_runtime_reconcile_total",
 *                               "Total number of reconciliations per controller",
 *                               "controller,result");
 *   metric_add(m, 1, "notebook", "success");
 *
 * The registry owns its families; families are safe to update from any thread. */
#ifndef CUBIT_UTIL_METRICS_H
#define CUBIT_UTIL_METRICS_H

#include <stddef.h>

#include "util/buf.h"

typedef struct metrics_registry metrics_registry;
typedef struct metric metric;

metrics_registry *metrics_registry_new(void);
void metrics_registry_free(metrics_registry *r);

/* Creating a family twice with the same name returns the first one, so
 * modules can ask for the metric they update without coordinating. */
metric *metrics_counter(metrics_registry *r, const char *name, const char *help, const char *labels);
metric *metrics_gauge(metrics_registry *r, const char *name, const char *help, const char *labels);
/* 'buckets' are upper bounds in increasing order; +Inf is implicit. */
metric *metrics_histogram(metrics_registry *r, const char *name, const char *help, const char *labels,
                          const double *buckets, size_t nbuckets);

/* Counter or gauge: add v (v >= 0 for counters). NULL m is a no-op, so
 * components can run without a registry. */
void metric_add(metric *m, double v, ...);
/* Gauge: set to v. */
void metric_set(metric *m, double v, ...);
/* Histogram: record one observation. */
void metric_observe(metric *m, double v, ...);
/* Reads the current value of a counter or gauge child (0 when absent). */
double metric_value(metric *m, ...);

/* Appends the exposition of every family to 'out'. */
int metrics_write(metrics_registry *r, cubit_buf *out) CUBIT_WUR;

/* Bucket sets used by controller-runtime. */
extern const double metrics_reconcile_buckets[];
extern const size_t metrics_reconcile_nbuckets;
extern const double metrics_workqueue_buckets[];
extern const size_t metrics_workqueue_nbuckets;

#endif
