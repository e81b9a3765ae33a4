/* IANA time zones without the process-global TZ: a zone is loaded once from
 * the system's tz database (TZif files under /usr/share/zoneinfo, Debian's
 * tzdata) into an immutable value that any thread may use, so reconcile
 * workers in parallel can each compute local times in their own zone.
 *
 * Conversions follow the tz database's rules for all instants, including
 * those past the file's last transition (the footer's POSIX TZ string). */
#ifndef CUBIT_UTIL_TZ_H
#define CUBIT_UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct tz_zone tz_zone;

/* Loads "Europe/Berlin", "UTC", "Asia/Kathmandu"... (NULL or "" = UTC).
 * Returns 0, or CUBIT_EINVAL with a message naming the zone ("unknown time
 * zone \"Mars/Olympus\"") for names that are not in the database or not
 * safe paths. *out is immutable and shareable; tz_free releases it. */
int tz_load(const char *name, tz_zone **out, char *err, size_t errlen) CUBIT_WUR;
void tz_free(tz_zone *z);
const char *tz_name(const tz_zone *z);

/* Broken-down local time. */
typedef struct tz_local {
  int year, month, day;   /* month 1..12, day 1..31 */
  int hour, minute, second;
  int weekday;            /* 0 = Sunday */
  int utc_offset;         /* seconds east of UTC in effect */
  int is_dst;
} tz_local;

/* The local time of unix time t in zone z. */
void tz_to_local(const tz_zone *z, int64_t t, tz_local *out);

/* The unix times at which the local wall time (year..second) occurs in z:
 * usually one; two during a fall-back overlap (earlier first); none during
 * a spring-forward gap. Returns the count (0, 1 or 2) and fills out[]. */
int tz_from_local(const tz_zone *z, int year, int month, int day, int hour, int minute, int second,
                  int64_t out[2]);

#endif
