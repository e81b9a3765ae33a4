#include "util/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

int64_t time_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double time_mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t time_wall_s(void) {
  return (int64_t)time(NULL);
}

void time_format_rfc3339(int64_t secs, char out[32]) {
  time_t t = (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return CUBIT_EINVAL;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

int time_parse_rfc3339(const char *s, int64_t *out) {
  int y, mo, d, h, mi, se;
  if (s == NULL || strlen(s) < 20) return CUBIT_EINVAL;
  if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
      digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
      digits(s + 17, 2, &se))
    return CUBIT_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return CUBIT_EINVAL;
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return CUBIT_EINVAL;
    while (isdigit((unsigned char)*p)) p++;
  }
  int offset = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om)) return CUBIT_EINVAL;
    offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return CUBIT_EINVAL;
  }
  if (*p != '\0') return CUBIT_EINVAL;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  *out = (int64_t)timegm(&tm) - offset;
  return 0;
}

int64_t time_epoch_of(const char *s) {
  int64_t t = 0;
  return s && time_parse_rfc3339(s, &t) == 0 ? t : 0;
}
