#include "util/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

/* Process-wide logging settings: written once by main (log_init) before any
 * thread starts, read-only afterwards. */
static int log_verbosity = 0;
static FILE *log_out = NULL;

void log_init(int verbosity, FILE *out) {
  log_verbosity = verbosity;
  log_out = out;
}

int log_enabled(int v) {
  return v <= log_verbosity;
}

static const char *level_name(int level) {
  switch (level) {
    case LOG_LEVEL_ERROR: return "error";
    case LOG_LEVEL_WARN: return "warn";
    default: return "info";
  }
}

void log_emit(int level, int v, const char *logger, const char *msg, const char *kvfmt, ...) {
  FILE *out = log_out ? log_out : stderr;
  struct timespec ts;
  struct tm tm;
  char when[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

  flockfile(out);
  fprintf(out, "ts=%s.%03ldZ level=%s", when, ts.tv_nsec / 1000000, level_name(level));
  if (v > 0) fprintf(out, " v=%d", v);
  fprintf(out, " logger=%s msg=\"", logger ? logger : "cubit");
  for (const char *p = msg; p && *p; p++) {
    if (*p == '"' || *p == '\\') fputc('\\', out);
    fputc(*p == '\n' ? ' ' : *p, out);
  }
  fputc('"', out);
  if (kvfmt && *kvfmt) {
    va_list ap;
    va_start(ap, kvfmt);
    fputc(' ', out);
    vfprintf(out, kvfmt, ap);
    va_end(ap);
  }
  fputc('\n', out);
  fflush(out);
  funlockfile(out);
}
