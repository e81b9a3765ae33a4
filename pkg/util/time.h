/* Clocks and the RFC 3339 timestamps Kubernetes writes. */
#ifndef CUBIT_UTIL_TIME_H
#define CUBIT_UTIL_TIME_H

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds, for durations and timers. */
int64_t time_mono_ms(void);
/* Monotonic seconds as a double, for metric observations. */
double time_mono_s(void);
/* Wall-clock seconds since the epoch. */
int64_t time_wall_s(void);
/* Formats 'secs' (epoch) as "2026-11-22T07:00:00Z" into out (>= 21 bytes). */
void time_format_rfc3339(int64_t secs, char out[32]);
/* Parses "2026-11-22T07:00:00Z", fractional seconds and "+01:00" offsets
 * included. Returns 0 and the epoch seconds, or CUBIT_EINVAL. */
int time_parse_rfc3339(const char *s, int64_t *out);
/* The epoch seconds of an RFC 3339 string, or 0 when s is NULL or invalid. */
int64_t time_epoch_of(const char *s);

#endif
