/* Cron schedules as Kubernetes CronJobs and cube-studio write them: five
 * fields (minute hour day-of-month month day-of-week) with lists, ranges,
 * steps, names (JAN-DEC, SUN-SAT), '?' for day fields, and the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly; evaluated in
 * an IANA time zone.
 *
 * Day-of-week takes 0-7 (0 and 7 are Sunday); '*' and "N/step" in it run
 * to 6. "N/step" runs from N to the field's end.
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week
 * are restricted, a day matches if either does. As in robfig/cron v3, a day
 * field is unrestricted only when it is '*' or '?' without a step (a step
 * greater than 1 restricts it).
 *
 * Daylight saving time: a wall time that falls in a spring-forward gap does
 * not happen that day (the tick is skipped, as Kubernetes' CronJob through
 * robfig/cron v3 does), and one that occurs twice in a fall-back overlap
 * fires once, at its first occurrence. There robfig/cron v3 differs: it
 * fires at both occurrences (its own tests: "0 1 * * *" runs twice, and
 * "0 * * * *" fires at 01:00 EDT and again at 01:00 EST). So here an hourly
 * schedule fires once per wall hour that exists: 23 times on a day that
 * springs forward an hour, 24 on one that falls back.
 *
 * Ticks are a property of the schedule and zone alone: cron_next from any
 * instant and cron_ticks over any window agree with each other. */
#ifndef CUBIT_UTIL_CRON_H
#define CUBIT_UTIL_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/tz.h"

typedef struct cron_expr cron_expr;

/* Parses spec. Returns 0, or CUBIT_EINVAL with a message naming the field
 * and the reason ("minute field \"61\": value out of range 0-59"). */
int cron_parse(const char *spec, cron_expr **out, char *err, size_t errlen) CUBIT_WUR;
void cron_free(cron_expr *c);

/* The first tick strictly after unix time 'after', in zone z (NULL = UTC),
 * or -1 when there is none within the next 5 years (e.g. "0 0 30 2 *");
 * -1 (1969-12-31T23:59:59Z, not a whole minute anywhere) is never a tick.
 * The search steps over whole months, days and hours that cannot match,
 * never minute by minute, and gives up after 5 years. */
int64_t cron_next(const cron_expr *c, const tz_zone *z, int64_t after);

/* Every tick in (from, to], oldest first, at most max of them; returns the
 * count written to out. */
int cron_ticks(const cron_expr *c, const tz_zone *z, int64_t from, int64_t to, int64_t *out, int max);

#endif
