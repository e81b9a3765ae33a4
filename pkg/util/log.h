/* Structured logging: one line per event, in logfmt.
 *
 *   ts=2026-11-22T07:00:00.123Z level=info logger=cache msg="synced" resource=configmaps count=5000
 *
 * 'kvfmt' is a printf format for the trailing key=value pairs (may be NULL).
 * Info lines carry a verbosity: log_v(2, ...) prints only when the process runs
 * with -v 2 or more (klog's convention). Errors and warnings always print.
 * The level is set once by main before threads start; lines from concurrent
 * threads never interleave. */
#ifndef CUBIT_UTIL_LOG_H
#define CUBIT_UTIL_LOG_H

#include <stdio.h>

enum { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO };

void log_init(int verbosity, FILE *out);
int log_enabled(int v);
void log_emit(int level, int v, const char *logger, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 5, 6)));

#define log_error(logger, msg, ...) log_emit(LOG_LEVEL_ERROR, 0, logger, msg, __VA_ARGS__)
#define log_warn(logger, msg, ...) log_emit(LOG_LEVEL_WARN, 0, logger, msg, __VA_ARGS__)
#define log_info(logger, msg, ...) log_emit(LOG_LEVEL_INFO, 0, logger, msg, __VA_ARGS__)
#define log_v(v, logger, msg, ...)                                                   \
  do {                                                                               \
    if (log_enabled(v)) log_emit(LOG_LEVEL_INFO, v, logger, msg, __VA_ARGS__);       \
  } while (0)

#endif
