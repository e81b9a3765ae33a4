/* The checks shared by the two time-zone targets (tzif.c, tz_rule.c). */
#ifndef CUBIT_FUZZ_TZ_CHECK_H
#define CUBIT_FUZZ_TZ_CHECK_H

#include "fuzz.h"
#include "util/tz.h"

static inline int tz_local_eq(const tz_local *a, const tz_local *b) {
  return a->year == b->year && a->month == b->month && a->day == b->day && a->hour == b->hour &&
         a->minute == b->minute && a->second == b->second;
}

/* For the local time L of t: the fields are in range, and tz_from_local(L)
 * lists at most two instants, in order, each of which has the wall time L.
 * With 'complete', t must be one of them (true of any zone whose offsets
 * change at most once within a day, which is every real one). */
static inline void tz_check_instant(const tz_zone *z, int64_t t, int complete) {
  tz_local l;
  tz_to_local(z, t, &l);
  FUZZ_ASSERT(l.month >= 1 && l.month <= 12 && l.day >= 1 && l.day <= 31 && l.hour >= 0 && l.hour <= 23 &&
                  l.minute >= 0 && l.minute <= 59 && l.second >= 0 && l.second <= 60 && l.weekday >= 0 &&
                  l.weekday <= 6,
              "%lld: %d-%d-%d %d:%d:%d weekday %d", (long long)t, l.year, l.month, l.day, l.hour, l.minute,
              l.second, l.weekday);
  int64_t at[2] = {0, 0};
  int n = tz_from_local(z, l.year, l.month, l.day, l.hour, l.minute, l.second, at);
  FUZZ_ASSERT(n >= 0 && n <= 2, "tz_from_local returned %d", n);
  FUZZ_ASSERT(n < 2 || at[0] < at[1], "two instants out of order: %lld, %lld", (long long)at[0], (long long)at[1]);
  for (int i = 0; i < n; i++) {
    tz_local back;
    tz_to_local(z, at[i], &back);
    FUZZ_ASSERT(tz_local_eq(&back, &l), "%lld is %d-%02d-%02d %02d:%02d:%02d, but tz_from_local of that gives %lld, "
                "which is %d-%02d-%02d %02d:%02d:%02d", (long long)t, l.year, l.month, l.day, l.hour, l.minute,
                l.second, (long long)at[i], back.year, back.month, back.day, back.hour, back.minute, back.second);
  }
  if (complete && l.second < 60)
    FUZZ_ASSERT((n > 0 && at[0] == t) || (n > 1 && at[1] == t), "%lld is %d-%02d-%02d %02d:%02d:%02d, but "
                "tz_from_local of that does not give it back (%d instants)", (long long)t, l.year, l.month, l.day,
                l.hour, l.minute, l.second, n);
}

/* Finds the offset changes within a year from 'start' (sampled every three
 * hours, then narrowed to the second) and checks the instants around each:
 * the edges of gaps and overlaps are where a conversion goes wrong. */
static inline void tz_check_changes(const tz_zone *z, int64_t start, int complete) {
  const int64_t step = 3 * 3600;
  tz_local l;
  tz_to_local(z, start, &l);
  int prev = l.utc_offset, found = 0;
  for (int64_t t = start + step; t <= start + 366 * 86400 && found < 4; t += step) {
    tz_to_local(z, t, &l);
    if (l.utc_offset == prev) continue;
    /* the offset changes within (t - step, t]: find the second */
    int64_t lo = t - step, hi = t;
    while (hi - lo > 1) {
      int64_t mid = lo + (hi - lo) / 2;
      tz_to_local(z, mid, &l);
      if (l.utc_offset == prev) lo = mid;
      else hi = mid;
    }
    tz_to_local(z, hi, &l);
    int64_t shift = l.utc_offset > prev ? l.utc_offset - prev : prev - l.utc_offset;
    const int64_t around[] = {-shift - 1, -shift, -1, 0, 1, shift - 1, shift, shift + 1};
    for (size_t i = 0; i < sizeof(around) / sizeof(around[0]); i++) tz_check_instant(z, hi + around[i], complete);
    prev = l.utc_offset;
    found++;
  }
}

#endif
