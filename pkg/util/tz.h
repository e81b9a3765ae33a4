/* Time zones from the system tz database, without the process's TZ.
 *
 * glibc's localtime_r and mktime read one zone for the whole process (the TZ
 * environment variable); switching it with setenv + tzset from a reconcile
 * worker would race with every other thread that reads the environment or
 * the current zone (curl reads proxy variables on each transfer), so Cubit
 * never touches TZ. Instead a zone is read from its TZif file in the system
 * tz database (RFC 8536: /usr/share/zoneinfo/<Area/City>, or $TZDIR) into an
 * immutable tz_zone, and local times are computed from it with the C
 * library's TZ-independent calendar functions (gmtime_r and timegm). A zone
 * holds no lock and no cache: any number of threads may read one at once,
 * and each caller loads the zones it needs (a file of a few KiB), so a
 * tzdata upgrade is seen without a restart.
 *
 * Instants after a file's last transition follow its footer, a POSIX TZ
 * rule ("CET-1CEST,M3.5.0,M10.5.0/3"), which tz_parse_posix also reads on
 * its own. Leap-second records are ignored: Kubernetes' clocks are POSIX
 * clocks.
 *
 * tz_load, tz_parse and tz_parse_posix read external input: they allocate
 * with malloc and return CUBIT_ENOMEM on failure. */
#ifndef CUBIT_UTIL_TZ_H
#define CUBIT_UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct tz_zone tz_zone;

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (1 << 20) /* a TZif file above this is refused */

/* Loads zone 'name' ("Europe/Berlin", "UTC") from the tz database in dir
 * (NULL: $TZDIR, else TZ_DEFAULT_DIR). A name is relative: absolute paths,
 * ".." components and characters outside [A-Za-z0-9/_+-.] are refused, so a
 * user's string never names another file. On success the caller owns *out
 * (tz_free). Errors: CUBIT_EINVAL (bad name, unknown zone, not a TZif file:
 * err says which), CUBIT_ETOOBIG, CUBIT_EIO, CUBIT_ENOMEM. */
int tz_load(const char *dir, const char *name, tz_zone **out, char *err, size_t errlen) CUBIT_WUR;
/* Parses the bytes of a TZif file (versions 1 to 4). */
int tz_parse(const unsigned char *data, size_t len, tz_zone **out, char *err, size_t errlen) CUBIT_WUR;
/* Parses a POSIX TZ string with RFC 8536's extensions (hours up to 167 and
 * negative rule times): "UTC0", "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0". */
int tz_parse_posix(const char *rule, tz_zone **out, char *err, size_t errlen) CUBIT_WUR;
void tz_free(tz_zone *z);

/* The name the zone was loaded with ("" for a parsed one); owned by z. */
const char *tz_name(const tz_zone *z);

/* Local time of an instant. */
typedef struct tz_time {
  int year, month, day;       /* month 1-12, day 1-31 */
  int hour, minute, second;
  int weekday;                /* 0 = Sunday */
  int32_t utc_offset;         /* seconds east of UTC */
  int is_dst;
  char abbr[16];              /* "CEST", "+0530" */
} tz_time;

/* Seconds east of UTC in effect at 'utc' (epoch seconds). */
int32_t tz_offset(const tz_zone *z, int64_t utc);
/* The local time at 'utc'. */
void tz_local(const tz_zone *z, int64_t utc, tz_time *out);

/* The instants at which the local clock reads y-m-d hh:mm:ss. Returns 1
 * (one instant in *first), 2 (the wall time happens twice when clocks go
 * back: *first and *second, in order) or 0 when clocks jump over it; then
 * *first is the instant of the jump, the first moment the local clock
 * reads a later time. Out-of-range fields are normalised as timegm does
 * (day 32 is the next month's first). */
int tz_utc_of_local(const tz_zone *z, int year, int month, int day, int hour, int minute, int second,
                    int64_t *first, int64_t *second_out);

#endif
