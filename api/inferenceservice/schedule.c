/* The cron HPA (cube-studio's 定时伸缩): windows of the local day in an
 * IANA time zone that set the HPA's floor. Local times come from
 * util/tz (the system tz database read without the process's TZ), so
 * reconcile workers compute them in parallel without sharing anything. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/inferenceservice/inferenceservice.h"

#define DAY_MINUTES 1440

static int in_window(const inference_window *w, int minute) {
  return w->start < w->end ? minute >= w->start && minute < w->end : minute >= w->start || minute < w->end;
}

/* The instants at which the local clock of z reads 'minute' of the day
 * 'day_offset' days after y-m-d: both occurrences in a fall-back overlap
 * (a wake-up at each is harmless), and in a spring-forward gap the instant
 * of the jump (the first wall time after the gap). Returns the count. */
static int local_instants(const tz_zone *z, int y, int m, int d, int day_offset, int minute, int64_t out[2]) {
  struct tm t = {0};
  t.tm_year = y - 1900;
  t.tm_mon = m - 1;
  t.tm_mday = d + day_offset; /* timegm normalises the date; gmtime_r reads it back */
  t.tm_hour = 12;
  time_t norm = timegm(&t);
  gmtime_r(&norm, &t);
  for (int at = minute; at < DAY_MINUTES; at++) {
    int n = tz_from_local(z, t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, at / 60, at % 60, 0, out);
    if (n > 0) return n;
  }
  return 0;
}

/* The next instant after 'now' at which the local clock of z reads
 * 'minute' of some day (INT64_MAX when none is found within three days). */
static int64_t next_local(const tz_zone *z, int64_t now, int minute) {
  tz_local lt;
  tz_to_local(z, now, &lt);
  int64_t best = INT64_MAX;
  for (int day = -1; day <= 2; day++) {
    int64_t at[2];
    int n = local_instants(z, lt.year, lt.month, lt.day, day, minute, at);
    for (int i = 0; i < n; i++)
      if (at[i] > now && at[i] < best) best = at[i];
  }
  return best;
}

/* Seconds east of UTC in effect in z at t. */
static int32_t offset_at(const tz_zone *z, int64_t t) {
  tz_local lt;
  tz_to_local(z, t, &lt);
  return lt.utc_offset;
}

int inference_schedule_floor(const inference_spec *s, int64_t now, int *floor, int *window,
                             int64_t *next, char *err, size_t errlen) {
  *floor = s->stable.min_replicas;
  *window = -1;
  *next = INT64_MAX;
  int best = -1;
  for (size_t i = 0; i < s->nwindows; i++) {
    const inference_window *w = &s->windows[i];
    tz_zone *z = NULL;
    int rc = tz_load(w->time_zone, &z, err, errlen);
    if (rc) return rc;
    tz_local lt;
    tz_to_local(z, now, &lt);
    /* Overlapping windows (the webhook refuses them) take the larger floor. */
    if (in_window(w, lt.hour * 60 + lt.minute) && w->min_replicas > best) {
      best = w->min_replicas;
      *window = (int)i;
    }
    int64_t a = next_local(z, now, w->start), b = next_local(z, now, w->end);
    if (a < *next) *next = a;
    if (b < *next) *next = b;
    tz_free(z);
  }
  if (best > 0) *floor = best;
  return 0;
}

/* Arcs of the day circle, [from, to) with 0 <= from < to <= DAY_MINUTES. */
typedef struct arc {
  int from, to;
} arc;

/* The window shifted by 'shift' minutes, as one or two arcs. */
static size_t arcs_of(const inference_window *w, int shift, arc out[3]) {
  int start = ((w->start + shift) % DAY_MINUTES + DAY_MINUTES) % DAY_MINUTES;
  int len = ((w->end - w->start) % DAY_MINUTES + DAY_MINUTES) % DAY_MINUTES;
  if (start + len <= DAY_MINUTES) {
    out[0] = (arc){start, start + len};
    return 1;
  }
  out[0] = (arc){start, DAY_MINUTES};
  out[1] = (arc){0, start + len - DAY_MINUTES};
  return 2;
}

static int arcs_meet(const inference_window *a, const inference_window *b, int shift_b) {
  arc x[3], y[3];
  size_t nx = arcs_of(a, 0, x), ny = arcs_of(b, shift_b, y);
  for (size_t i = 0; i < nx; i++)
    for (size_t j = 0; j < ny; j++) {
      int from = x[i].from > y[j].from ? x[i].from : y[j].from;
      int to = x[i].to < y[j].to ? x[i].to : y[j].to;
      if (from < to) return 1;
    }
  return 0;
}

/* "HH:MM-HH:MM <zone>": room for four numbers of any int's width (the
 * compiler cannot know they are minutes of a day) and the longest zone. */
#define WINDOW_TEXT_MAX (4 * 11 + 3 + sizeof(((inference_window *)0)->time_zone))

static void describe(const inference_window *w, char out[WINDOW_TEXT_MAX]) {
  snprintf(out, WINDOW_TEXT_MAX, "%02d:%02d-%02d:%02d %s", w->start / 60, w->start % 60, w->end / 60, w->end % 60,
           w->time_zone);
}

int inference_windows_overlap(const inference_spec *s, int64_t now, char *err, size_t errlen) {
  tz_zone *zones[INFERENCE_MAX_WINDOWS] = {0};
  int rc = 0;
  for (size_t i = 0; i < s->nwindows && rc == 0; i++) rc = tz_load(s->windows[i].time_zone, &zones[i], err, errlen);
  for (size_t j = 1; j < s->nwindows && rc == 0; j++) {
    for (size_t i = 0; i < j && rc == 0; i++) {
      const inference_window *a = &s->windows[i], *b = &s->windows[j];
      int clash = 0;
      if (strcmp(a->time_zone, b->time_zone) == 0) {
        clash = arcs_meet(a, b, 0);
      } else {
        /* b's minutes seen on a's clock: shifted by the difference of the
         * offsets the two zones keep on the same day, for every pair of
         * offsets they keep together in the coming year. */
        int32_t pairs[16][2];
        size_t npairs = 0;
        for (int day = 0; day <= 366 && !clash; day++) {
          int64_t t = now + (int64_t)day * 86400;
          int32_t oa = offset_at(zones[i], t), ob = offset_at(zones[j], t);
          int seen = 0;
          for (size_t k = 0; k < npairs; k++) seen |= pairs[k][0] == oa && pairs[k][1] == ob;
          if (seen || npairs == 16) continue;
          pairs[npairs][0] = oa;
          pairs[npairs][1] = ob;
          npairs++;
          clash = arcs_meet(a, b, (oa - ob) / 60);
        }
      }
      if (clash) {
        char da[WINDOW_TEXT_MAX], db[WINDOW_TEXT_MAX];
        describe(a, da);
        describe(b, db);
        snprintf(err, errlen, "spec.autoscaling.schedule[%zu]: window %s overlaps spec.autoscaling.schedule[%zu] (%s)",
                 j, db, i, da);
        rc = CUBIT_EINVAL;
      }
    }
  }
  for (size_t i = 0; i < s->nwindows; i++) tz_free(zones[i]);
  return rc;
}
