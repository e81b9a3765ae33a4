/* Structured logging: one line per event, in logfmt.
 *
 *   ts=2026-11-22T07:00:00.123Z level=info logger=cache msg="synced" resource=configmaps count=5000
 *
 * 'kvfmt' is a printf format for the trailing key=value pairs (may be NULL).
 * Info lines carry a verbosity: log_v(2, ...) prints only when the process runs
 * with -v 2 or more (klog's convention). Errors and warnings always print.
 * The level is set once by main before threads start; lines from concurrent
 * threads never interleave.
 *
 * Escaping. Values come from users and the network (object names, API
 * messages, request paths), so none of them may forge a key, a level or a
 * line. The literal text of 'kvfmt' is trusted (keys, '=', quotes); each
 * converted argument is escaped for where it lands:
 *   key="%s"   inside quotes: '"' and '\' are escaped, newline, CR and tab
 *              become \n \r \t, other control characters (C0, DEL, C1)
 *              and U+2028/U+2029 become \uXXXX, invalid UTF-8 \ufffd;
 *   key=%s     a bare value (the text up to the next blank of the format):
 *              when it is empty or holds a blank, '=', a quote, a backslash,
 *              a control or a non-ASCII byte, the whole value is quoted and
 *              escaped as above;
 *   %s=...     in a key: blanks, '=', quotes and controls become '_'.
 * msg is always quoted and escaped, the logger name when it needs it. A
 * value longer than LOG_VALUE_MAX bytes is cut there and ends in "...".
 * go-logfmt and Loki's logfmt parser read the lines back unchanged. */
#ifndef CUBIT_UTIL_LOG_H
#define CUBIT_UTIL_LOG_H

#include <stdio.h>

enum { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO };

#define LOG_VALUE_MAX 16384

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
