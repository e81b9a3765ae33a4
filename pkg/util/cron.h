/* Cron schedules as Kubernetes CronJobs and cube-studio write them: five
 * fields (minute hour day-of-month month day-of-week) with lists, ranges,
 * steps, names (JAN-DEC, SUN-SAT), '?' for day fields, and the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly; evaluated in
 * an IANA time zone.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week
 * are restricted, a day matches if either does.
 *
 * Daylight saving time, as Kubernetes' CronJob (robfig/cron) handles it: a
 * wall time that falls in a spring-forward gap does not happen that day (the
 * tick is skipped), and one that occurs twice in a fall-back overlap fires
 * once, at its first occurrence. */
#ifndef CUBIT_UTIL_CRON_H
#define CUBIT_UTIL_CRON_H

#include <stdint.h>

#include "util/err.h"
#include "util/tz.h"

typedef struct cron_expr cron_expr;

/* Parses spec. Returns 0, or CUBIT_EINVAL with a message naming the field
 * and the reason ("minute field \"61\": value out of range 0-59"). */
int cron_parse(const char *spec, cron_expr **out, char *err, size_t errlen) CUBIT_WUR;
void cron_free(cron_expr *c);

/* The first tick strictly after unix time 'after', in zone z (NULL = UTC),
 * or -1 when there is none within the next 5 years (e.g. "0 0 30 2 *"). */
int64_t cron_next(const cron_expr *c, const tz_zone *z, int64_t after);

/* Every tick in (from, to], oldest first, at most max of them; returns the
 * count written to out. */
int cron_ticks(const cron_expr *c, const tz_zone *z, int64_t from, int64_t to, int64_t *out, int max);

#endif
