/* Internal entry points of util/tz.c, for its unit tests: they build TZif
 * images (version 1, footers with every POSIX rule form, malformed files)
 * that the system's tz database does not contain. */
#ifndef CUBIT_UTIL_TZ_INTERNAL_H
#define CUBIT_UTIL_TZ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/tz.h"

/* Parses the TZif image data[0..len) as zone 'name' (copied). Returns 0 and
 * a zone the caller frees with tz_free, CUBIT_EINVAL with a message naming
 * the zone when the image is malformed, or CUBIT_ENOMEM. */
int tz__parse_tzif(const char *name, const unsigned char *data, size_t len, tz_zone **out, char *err,
                   size_t errlen) CUBIT_WUR;

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative
 * before it); util/cron.c walks the calendar with it. */
int64_t tz__days_from_civil(int64_t y, int m, int d);

#endif
