/* Cron schedules: parsing into bit sets, and the search for the next tick.
 *
 * The search walks wall-clock time of the zone (calendar fields, no time
 * zone involved), jumping from one matching month, day, hour and minute to
 * the next with the bit sets, and only then asks the zone when that wall
 * time happens. So a yearly schedule costs a few steps per year, never a
 * step per minute; an impossible one ("0 0 30 2 *") gives up after five
 * years of a few steps each. */
#include "util/cron.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/tz_internal.h"

/* cron_next's horizon, as robfig/cron: no tick within 5 years means none. */
#define CRON_YEARS_AHEAD 5
/* Instants this far from 1970 (about 17,000 years) are outside every schedule. */
#define CRON_T_LIMIT ((int64_t)1 << 39)
/* Numbers saturate here while parsing, far above any field's maximum. */
#define CRON_NUM_CAP 100000

struct cron_expr {
  uint64_t minute; /* bit n set: minute n (0..59) matches */
  uint32_t hour;   /* 0..23 */
  uint32_t dom;    /* 1..31 */
  uint32_t month;  /* 1..12 */
  uint32_t dow;    /* 0..6, 0 = Sunday */
  /* The day field was '*' or '?' (an element covering every value with step 1):
   * then a day must match both day fields, otherwise either (Vixie's rule). */
  bool dom_any, dow_any;
};

typedef struct cron_field {
  const char *name;
  int min, max;            /* values accepted */
  int all_max;             /* last value of '*' and of "N/step" (day-of-week: 6; 7 is Sunday again) */
  const char *const *names; /* three-letter names of min, min+1, ...; NULL: numbers only */
  int nnames;
  const char *names_kind;
  bool question; /* '?' accepted (day fields) */
} cron_field;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const cron_field fields[5] = {
    {"minute", 0, 59, 59, NULL, 0, NULL, false},
    {"hour", 0, 23, 23, NULL, 0, NULL, false},
    {"day-of-month", 1, 31, 31, NULL, 0, NULL, true},
    {"month", 1, 12, 12, month_names, 12, "month name", false},
    {"day-of-week", 0, 7, 6, day_names, 7, "day name", true},
};

static const struct {
  const char *name, *spec;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

/* ---- parsing ---- */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static char upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_alpha(char c) {
  return upper(c) >= 'A' && upper(c) <= 'Z';
}

/* Text of the spec as it may appear in a message: printable ASCII without
 * quotes, at most 48 characters. */
static void shown(const char *s, size_t len, char out[56]) {
  size_t i = 0;
  for (; i < len && i < 48; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '?' : (char)c;
  }
  strcpy(out + i, i < len ? "..." : "");
}

/* The message of a field error: 'day-of-week field "8": value out of range 0-7'. */
typedef struct field_err {
  const cron_field *f;
  const char *text;
  size_t len;
  char *err;
  size_t errlen;
} field_err;

static int fail(const field_err *fe, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const field_err *fe, const char *fmt, ...) {
  char reason[128], text[56];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  shown(fe->text, fe->len, text);
  return cubit_errorf(fe->err, fe->errlen, CUBIT_EINVAL, "%s field \"%s\": %s", fe->f->name, text, reason);
}

static int parse_number(const char **pp, const char *end) {
  int v = 0;
  for (const char *p = *pp; p < end && is_digit(*p); p++, *pp = p)
    if (v < CRON_NUM_CAP) v = v * 10 + (*p - '0');
  return v;
}

/* A number or, where the field has them, a three-letter name. */
static int parse_value(const field_err *fe, const char **pp, const char *end, int *out) {
  const cron_field *f = fe->f;
  const char *p = *pp;
  if (p < end && is_digit(*p)) {
    int v = parse_number(&p, end);
    if (v < f->min || v > f->max) return fail(fe, "value out of range %d-%d", f->min, f->max);
    *pp = p;
    *out = v;
    return 0;
  }
  if (p >= end || !is_alpha(*p)) return fail(fe, "missing value");
  const char *word = p;
  while (p < end && is_alpha(*p)) p++;
  size_t wlen = (size_t)(p - word);
  if (f->names == NULL) return fail(fe, "not a number");
  for (int i = 0; wlen == 3 && i < f->nnames; i++) {
    const char *name = f->names[i];
    if (upper(word[0]) == name[0] && upper(word[1]) == name[1] && upper(word[2]) == name[2]) {
      *pp = p;
      *out = f->min + i;
      return 0;
    }
  }
  char w[56];
  shown(word, wlen, w);
  return fail(fe, "unknown %s \"%s\"", f->names_kind, w);
}

/* One list element: '*' or '?', a value, or a range, each with an optional
 * "/step"; "N/step" runs from N to the field's end. */
static int parse_element(const field_err *fe, const char *p, const char *end, uint64_t *bits, bool *any) {
  const cron_field *f = fe->f;
  int lo, hi, step = 1, rc;
  bool wildcard = false, range = false;
  if (p == end) return fail(fe, "empty list element");
  if (*p == '*' || *p == '?') {
    if (*p == '?' && !f->question) return fail(fe, "'?' is allowed only in day-of-month and day-of-week");
    wildcard = true;
    lo = f->min;
    hi = f->all_max;
    p++;
  } else {
    if ((rc = parse_value(fe, &p, end, &lo)) != 0) return rc;
    hi = lo;
    if (p < end && *p == '-') {
      p++;
      if ((rc = parse_value(fe, &p, end, &hi)) != 0) return rc;
      range = true;
    }
  }
  if (p < end && *p == '/') {
    p++;
    if (p >= end || !is_digit(*p) || (step = parse_number(&p, end)) == 0)
      return fail(fe, "step must be a positive number");
    if (!wildcard && !range) hi = f->all_max > lo ? f->all_max : lo;
  }
  if (p != end) {
    char rest[56];
    shown(p, (size_t)(end - p), rest);
    return fail(fe, "unexpected \"%s\"", rest);
  }
  if (lo > hi) return fail(fe, "range start %d is after its end %d", lo, hi);
  for (int v = lo; v <= hi; v += step) *bits |= (uint64_t)1 << (f->names == day_names && v == 7 ? 0 : v);
  if (wildcard && step == 1) *any = true;
  return 0;
}

static int parse_field(const cron_field *f, const char *text, size_t len, uint64_t *bits, bool *any, char *err,
                       size_t errlen) {
  field_err fe = {f, text, len, err, errlen};
  const char *end = text + len, *p = text;
  *bits = 0;
  *any = false;
  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *elem_end = comma ? comma : end;
    int rc = parse_element(&fe, p, elem_end, bits, any);
    if (rc) return rc;
    if (comma == NULL) return 0;
    p = comma + 1;
  }
}

static int parse_fields(const char *spec, cron_expr *c, char *err, size_t errlen) {
  const char *text[5];
  size_t len[5];
  int n = 0;
  for (const char *p = spec; *p;) {
    while (is_space(*p)) p++;
    if (!*p) break;
    const char *start = p;
    while (*p && !is_space(*p)) p++;
    if (n < 5) {
      text[n] = start;
      len[n] = (size_t)(p - start);
    }
    n++;
  }
  if (n > 0 && (strncmp(text[0], "TZ=", 3) == 0 || strncmp(text[0], "CRON_TZ=", 8) == 0)) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "a time zone prefix (TZ=...) is not supported in the schedule; give the zone separately");
  }
  if (n != 5) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "expected 5 fields (minute hour day-of-month month day-of-week), found %d", n);
  }
  uint64_t bits[5];
  bool any[5];
  for (int i = 0; i < 5; i++) {
    int rc = parse_field(&fields[i], text[i], len[i], &bits[i], &any[i], err, errlen);
    if (rc) return rc;
  }
  c->minute = bits[0];
  c->hour = (uint32_t)bits[1];
  c->dom = (uint32_t)bits[2];
  c->month = (uint32_t)bits[3];
  c->dow = (uint32_t)bits[4];
  c->dom_any = any[2];
  c->dow_any = any[4];
  return 0;
}

int cron_parse(const char *spec, cron_expr **out, char *err, size_t errlen) {
  cron_expr c;
  *out = NULL;
  if (spec == NULL) spec = "";
  while (is_space(*spec)) spec++;
  if (*spec == '\0') {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "empty schedule");
  }
  if (*spec == '@') {
    size_t wlen = 0;
    while (spec[wlen] && !is_space(spec[wlen])) wlen++;
    const char *rest = spec + wlen;
    while (is_space(*rest)) rest++;
    const char *expanded = NULL;
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]) && *rest == '\0'; i++)
      if (strlen(macros[i].name) == wlen && memcmp(macros[i].name, spec, wlen) == 0) expanded = macros[i].spec;
    if (expanded == NULL) {
      char w[56];
      size_t len = strlen(spec);
      while (is_space(spec[len - 1])) len--;
      shown(spec, len, w);
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "unknown macro \"%s\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
                          w);
    }
    spec = expanded;
  }
  int rc = parse_fields(spec, &c, err, errlen);
  if (rc) return rc;
  cron_expr *e = malloc(sizeof(*e));
  if (e == NULL) return CUBIT_ENOMEM;
  *e = c;
  *out = e;
  return 0;
}

void cron_free(cron_expr *c) {
  free(c);
}

/* ---- the search ---- */

/* A wall-clock minute of the schedule's zone. */
typedef struct wall {
  int64_t year;
  int month, day, hour, minute;
} wall;

/* The lowest set bit of bits at or above 'from', or -1. */
static int next_bit(uint64_t bits, int from) {
  if (from > 63) return -1;
  bits &= ~(uint64_t)0 << from;
  return bits ? __builtin_ctzll(bits) : -1;
}

static bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static bool day_matches(const cron_expr *c, int64_t y, int m, int d) {
  int64_t days = tz__days_from_civil(y, m, d);
  int wd = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
  bool dom = c->dom >> d & 1, dow = c->dow >> wd & 1;
  return c->dom_any || c->dow_any ? dom && dow : dom || dow;
}

/* Moves *w to the first wall minute at or after it that the schedule
 * matches, in years up to 'last_year'. Fields past their end (minute 60,
 * day 32) carry into the next hour, day or month. */
static bool next_wall(const cron_expr *c, wall *w, int64_t last_year) {
  for (;;) {
    if (w->year > last_year) return false;
    int m = next_bit(c->month, w->month);
    if (m < 0) {
      *w = (wall){w->year + 1, 1, 1, 0, 0};
      continue;
    }
    if (m != w->month) *w = (wall){w->year, m, 1, 0, 0};
    if (w->day > days_in_month(w->year, w->month)) {
      *w = (wall){w->year, w->month + 1, 1, 0, 0};
      continue;
    }
    if (!day_matches(c, w->year, w->month, w->day)) {
      /* With day-of-week unrestricted only day-of-month decides: jump to its next value. */
      int d = c->dow_any ? next_bit(c->dom, w->day + 1) : w->day + 1;
      *w = (wall){w->year, w->month, d < 0 ? 32 : d, 0, 0};
      continue;
    }
    int h = next_bit(c->hour, w->hour);
    if (h < 0) {
      *w = (wall){w->year, w->month, w->day + 1, 0, 0};
      continue;
    }
    if (h != w->hour) *w = (wall){w->year, w->month, w->day, h, 0};
    int mi = next_bit(c->minute, w->minute);
    if (mi < 0) {
      *w = (wall){w->year, w->month, w->day, w->hour + 1, 0};
      continue;
    }
    w->minute = mi;
    return true;
  }
}

/* A matching wall time ticks at its first occurrence only: never inside a
 * spring-forward gap, once in a fall-back overlap. Each candidate is the
 * next matching wall minute; one whose first occurrence is not after
 * 'after' (we are in the repeated hour, past it) is passed over. */
int64_t cron_next(const cron_expr *c, const tz_zone *z, int64_t after) {
  if (after <= -CRON_T_LIMIT || after >= CRON_T_LIMIT) return -1;
  tz_local l;
  tz_to_local(z, after, &l);
  wall w = {l.year, l.month, l.day, l.hour, l.minute + 1};
  int64_t last_year = (int64_t)l.year + CRON_YEARS_AHEAD;
  while (next_wall(c, &w, last_year)) {
    int64_t at[2];
    if (tz_from_local(z, (int)w.year, w.month, w.day, w.hour, w.minute, 0, at) > 0 && at[0] > after) return at[0];
    w.minute++;
  }
  return -1;
}

int cron_ticks(const cron_expr *c, const tz_zone *z, int64_t from, int64_t to, int64_t *out, int max) {
  int n = 0;
  for (int64_t t = from; n < max && t < to;) {
    t = cron_next(c, z, t);
    if (t == -1 || t > to) break; /* ticks fall on whole local minutes, so -1 is never one */
    out[n++] = t;
  }
  return n;
}
