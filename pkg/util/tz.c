/* IANA time zones from TZif files (RFC 8536), read without the C library's
 * process-global TZ state.
 *
 * A zone is the file's 64-bit data block (the 32-bit one for version 1
 * files): transition instants, each naming a local time type (offset and DST
 * flag), plus the footer's POSIX TZ string, which extends the rules to every
 * instant after the last transition. Leap-second files ("right/...") count
 * TAI-like seconds rather than unix time and are refused. */
#include "util/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/tz_internal.h"

#define TZ_DIR "/usr/share/zoneinfo"
/* The largest zone in tzdata is under 4 KiB; anything far bigger is not one. */
#define TZ_FILE_MAX (256 * 1024)
#define TZ_NAME_MAX 128
/* RFC 8536 bounds offsets to -25:59:59..+25:59:59; POSIX rule times go to
 * 167 hours (version 3). */
#define TZ_OFFSET_MAX (26 * 3600 - 1)
#define TZ_RULE_HOURS_MAX 167
/* Instants are clamped to about +-34,000 years around 1970, so that every
 * year fits an int and no arithmetic on them can overflow. */
#define TZ_T_LIMIT ((int64_t)1 << 40)
#define TZ_YEAR_LIMIT 30000

typedef struct tz_rule_date {
  char kind;       /* 'J': day 1..365 without Feb 29; 'D': day 0..365 counting it; 'M': month.week.weekday */
  int day;         /* 'J', 'D': the day; 'M': the weekday 0..6 (0 = Sunday) */
  int month, week; /* 'M': month 1..12, week 1..5 (5 = the last such weekday) */
  int32_t time;    /* seconds after that day's local midnight, in the time then in effect */
} tz_rule_date;

typedef struct tz_rule {
  int32_t std_off, dst_off; /* seconds east of UTC */
  bool has_dst;
  tz_rule_date start, end; /* DST starts at 'start' (local standard time), ends at 'end' (local DST) */
} tz_rule;

typedef struct tz_type {
  int32_t off;
  uint8_t is_dst;
} tz_type;

struct tz_zone {
  char *name;
  size_t ntrans;
  int64_t *trans;      /* strictly ascending */
  uint8_t *trans_type; /* index into types, per transition */
  size_t ntypes;       /* >= 1; types[0] applies before the first transition */
  tz_type *types;
  bool has_rule; /* rule applies after the last transition */
  tz_rule rule;
};

/* ---- calendar (proleptic Gregorian, days counted from 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) q--;
  return q;
}

static bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Counts whole 400-year eras (146097 days each) from a year that starts in
 * March, so the leap day is the last day of its year. */
int64_t tz__days_from_civil(int64_t y, int m, int d) {
  int64_t ym = m > 2 ? y : y - 1;
  int mar = m > 2 ? m - 3 : m + 9; /* months since March */
  int64_t era = floor_div(ym, 400);
  int64_t yoe = ym - era * 400; /* 0..399 */
  int64_t doy = (153 * mar + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468; /* 719468 days from 0000-03-01 to 1970-01-01 */
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d) {
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mar = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mar + 2) / 5 + 1);
  *m = (int)(mar < 10 ? mar + 3 : mar - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int weekday_of(int64_t days) {
  return (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

/* ---- POSIX TZ rules ---- */

static int64_t rule_day(const tz_rule_date *r, int64_t year) {
  int64_t jan1 = tz__days_from_civil(year, 1, 1);
  switch (r->kind) {
    case 'J': return jan1 + r->day - 1 + (is_leap(year) && r->day >= 60);
    case 'D': return jan1 + r->day;
    default: {
      int64_t first = tz__days_from_civil(year, r->month, 1);
      int dd = (r->day - weekday_of(first) + 7) % 7 + 7 * (r->week - 1);
      while (dd >= days_in_month(year, r->month)) dd -= 7;
      return first + dd;
    }
  }
}

static void rule_lookup(const tz_rule *r, int64_t t, int32_t *off, int *is_dst) {
  *off = r->std_off;
  *is_dst = 0;
  if (!r->has_dst) return;
  int64_t y;
  int m, d;
  civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
  /* The latest rule change at or before t decides. Rule times reach 167
   * hours past their day, so neighbouring years' changes are considered.
   * On a tie the start wins: that is how a version 3 footer says "DST all
   * year" (e.g. "EST5EDT,0/0,J365/25"). */
  bool found = false;
  int64_t best = 0;
  for (int64_t yy = y - 2; yy <= y + 2; yy++) {
    int64_t s = rule_day(&r->start, yy) * 86400 + r->start.time - r->std_off;
    int64_t e = rule_day(&r->end, yy) * 86400 + r->end.time - r->dst_off;
    if (s <= t && (!found || s >= best)) {
      best = s;
      *is_dst = 1;
      found = true;
    }
    if (e <= t && (!found || e > best)) {
      best = e;
      *is_dst = 0;
      found = true;
    }
  }
  *off = *is_dst ? r->dst_off : r->std_off;
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A zone designation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool parse_abbr(const char **pp, const char *end) {
  const char *p = *pp, *start;
  if (p < end && *p == '<') {
    start = ++p;
    while (p < end && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-')) p++;
    if (p >= end || *p != '>' || p - start < 3) return false;
    *pp = p + 1;
    return true;
  }
  start = p;
  while (p < end && is_alpha(*p)) p++;
  if (p - start < 3) return false;
  *pp = p;
  return true;
}

static bool parse_num(const char **pp, const char *end, int maxdigits, int *out) {
  const char *p = *pp;
  int v = 0, n = 0;
  while (p < end && is_digit(*p) && n < maxdigits) {
    v = v * 10 + (*p++ - '0');
    n++;
  }
  if (n == 0 || (p < end && is_digit(*p))) return false;
  *pp = p;
  *out = v;
  return true;
}

/* [+-]hh[:mm[:ss]] with hh at most max_hours; returns seconds. */
static bool parse_hms(const char **pp, const char *end, int max_hours, int32_t *out) {
  const char *p = *pp;
  int sign = 1, h, m = 0, s = 0;
  if (p < end && (*p == '+' || *p == '-')) sign = *p++ == '-' ? -1 : 1;
  if (!parse_num(&p, end, 3, &h) || h > max_hours) return false;
  if (p < end && *p == ':') {
    p++;
    if (!parse_num(&p, end, 2, &m) || m > 59) return false;
    if (p < end && *p == ':') {
      p++;
      if (!parse_num(&p, end, 2, &s) || s > 59) return false;
    }
  }
  *pp = p;
  *out = sign * (h * 3600 + m * 60 + s);
  return true;
}

static bool parse_rule_date(const char **pp, const char *end, tz_rule_date *r) {
  const char *p = *pp;
  if (p < end && *p == 'J') {
    p++;
    r->kind = 'J';
    if (!parse_num(&p, end, 3, &r->day) || r->day < 1 || r->day > 365) return false;
  } else if (p < end && *p == 'M') {
    p++;
    r->kind = 'M';
    if (!parse_num(&p, end, 2, &r->month) || r->month < 1 || r->month > 12) return false;
    if (p >= end || *p++ != '.') return false;
    if (!parse_num(&p, end, 1, &r->week) || r->week < 1 || r->week > 5) return false;
    if (p >= end || *p++ != '.') return false;
    if (!parse_num(&p, end, 1, &r->day) || r->day > 6) return false;
  } else {
    r->kind = 'D';
    if (!parse_num(&p, end, 3, &r->day) || r->day > 365) return false;
  }
  r->time = 2 * 3600;
  if (p < end && *p == '/') {
    p++;
    if (!parse_hms(&p, end, TZ_RULE_HOURS_MAX, &r->time)) return false;
  }
  *pp = p;
  return true;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]", offsets counted
 * west of Greenwich as POSIX has them. */
static bool parse_posix_tz(const char *s, const char *end, tz_rule *r) {
  const char *p = s;
  int32_t v;
  memset(r, 0, sizeof(*r));
  if (!parse_abbr(&p, end) || !parse_hms(&p, end, 24, &v)) return false;
  r->std_off = -v;
  if (p == end) return true;
  if (!parse_abbr(&p, end)) return false;
  r->has_dst = true;
  r->dst_off = r->std_off + 3600;
  if (p < end && *p != ',') {
    if (!parse_hms(&p, end, 24, &v)) return false;
    r->dst_off = -v;
  }
  if (p == end) {
    /* POSIX leaves the rule to the implementation; tzcode uses the US one. */
    r->start = (tz_rule_date){.kind = 'M', .month = 3, .week = 2, .day = 0, .time = 7200};
    r->end = (tz_rule_date){.kind = 'M', .month = 11, .week = 1, .day = 0, .time = 7200};
    return true;
  }
  if (*p++ != ',' || !parse_rule_date(&p, end, &r->start)) return false;
  if (p >= end || *p++ != ',' || !parse_rule_date(&p, end, &r->end)) return false;
  return p == end;
}

/* ---- lookups ---- */

static int64_t clamp_t(int64_t t) {
  return t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
}

static void zone_lookup(const tz_zone *z, int64_t t, int32_t *off, int *is_dst) {
  if (z == NULL) {
    *off = 0;
    *is_dst = 0;
    return;
  }
  size_t type = 0;
  if (z->ntrans == 0 || t > z->trans[z->ntrans - 1]) {
    if (z->has_rule) {
      rule_lookup(&z->rule, t, off, is_dst);
      return;
    }
    if (z->ntrans > 0) type = z->trans_type[z->ntrans - 1];
  } else if (t >= z->trans[0]) {
    size_t lo = 0, hi = z->ntrans - 1; /* trans[lo] <= t < trans[hi + 1] */
    while (lo < hi) {
      size_t mid = lo + (hi - lo + 1) / 2;
      if (z->trans[mid] <= t)
        lo = mid;
      else
        hi = mid - 1;
    }
    type = z->trans_type[lo];
  }
  *off = z->types[type].off;
  *is_dst = z->types[type].is_dst;
}

void tz_to_local(const tz_zone *z, int64_t t, tz_local *out) {
  int32_t off;
  int is_dst;
  t = clamp_t(t);
  zone_lookup(z, t, &off, &is_dst);
  int64_t lt = t + off;
  int64_t days = floor_div(lt, 86400), secs = lt - days * 86400, y;
  civil_from_days(days, &y, &out->month, &out->day);
  out->year = (int)y;
  out->hour = (int)(secs / 3600);
  out->minute = (int)(secs / 60 % 60);
  out->second = (int)(secs % 60);
  out->weekday = weekday_of(days);
  out->utc_offset = off;
  out->is_dst = is_dst;
}

/* Keeps the two earliest distinct solutions in out[0] < out[1]. */
static void add_solution(int64_t t, int64_t out[2], int *n) {
  for (int i = 0; i < *n; i++)
    if (out[i] == t) return;
  if (*n < 2) {
    out[(*n)++] = t;
  } else if (t < out[1]) {
    out[1] = t;
  } else {
    return;
  }
  if (*n == 2 && out[1] < out[0]) {
    int64_t tmp = out[0];
    out[0] = out[1];
    out[1] = tmp;
  }
}

/* Every solution t satisfies t + offset(t) == wall, and offset(t) is one of
 * the zone's offsets, so trying each of them finds all solutions. */
int tz_from_local(const tz_zone *z, int year, int month, int day, int hour, int minute, int second,
                  int64_t out[2]) {
  if (year < -TZ_YEAR_LIMIT || year > TZ_YEAR_LIMIT || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59)
    return 0;
  int64_t wall = tz__days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  int n = 0;
  if (z == NULL) {
    out[n++] = wall;
    return n;
  }
  size_t ncand = z->ntypes + (z->has_rule ? 2 : 0);
  for (size_t i = 0; i < ncand; i++) {
    int32_t cand = i < z->ntypes ? z->types[i].off : i == z->ntypes ? z->rule.std_off : z->rule.dst_off;
    if (i == z->ntypes + 1 && !z->rule.has_dst) continue;
    int32_t off;
    int is_dst;
    zone_lookup(z, wall - cand, &off, &is_dst);
    if (off == cand) add_solution(wall - cand, out, &n);
  }
  return n;
}

const char *tz_name(const tz_zone *z) {
  return z ? z->name : "UTC";
}

void tz_free(tz_zone *z) {
  if (z == NULL) return;
  free(z->name);
  free(z->trans);
  free(z->trans_type);
  free(z->types);
  free(z);
}

/* ---- loading ---- */

/* A name as it may appear in a message: printable ASCII, no quotes, bounded. */
static void printable_name(const char *name, char out[72]) {
  size_t i = 0;
  for (; name[i] && i < 64; i++) {
    unsigned char c = (unsigned char)name[i];
    out[i] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '?' : (char)c;
  }
  strcpy(out + i, name[i] ? "..." : "");
}

/* Relative paths of letters, digits, '/', '_', '+' and '-' only: that keeps
 * a name inside the zoneinfo directory ("..", absolute paths and empty
 * components cannot be written). */
static bool name_is_safe(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || name[len - 1] == '/') return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!(is_alpha(c) || is_digit(c) || c == '/' || c == '_' || c == '+' || c == '-')) return false;
    if (c == '/' && name[i + 1] == '/') return false;
  }
  return true;
}

static int zone_new(const char *name, tz_zone **out) {
  tz_zone *z = calloc(1, sizeof(*z));
  if (z == NULL) return CUBIT_ENOMEM;
  z->name = strdup(name);
  if (z->name == NULL) {
    free(z);
    return CUBIT_ENOMEM;
  }
  *out = z;
  return 0;
}

static int zone_utc(const char *name, tz_zone **out) {
  tz_zone *z;
  int rc = zone_new(name, &z);
  if (rc) return rc;
  z->types = calloc(1, sizeof(*z->types));
  if (z->types == NULL) {
    tz_free(z);
    return CUBIT_ENOMEM;
  }
  z->ntypes = 1;
  *out = z;
  return 0;
}

typedef struct tzif_counts {
  uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64s(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void read_counts(const unsigned char *h, tzif_counts *c) {
  c->isut = be32(h + 20);
  c->isstd = be32(h + 24);
  c->leap = be32(h + 28);
  c->time = be32(h + 32);
  c->type = be32(h + 36);
  c->chars = be32(h + 40);
}

static uint64_t block_len(const tzif_counts *c, int timesize) {
  return (uint64_t)c->time * (uint64_t)(timesize + 1) + (uint64_t)c->type * 6 + c->chars +
         (uint64_t)c->leap * (uint64_t)(timesize + 4) + c->isstd + c->isut;
}

static const char *check_counts(const tzif_counts *c) {
  if (c->type == 0 || c->type > 256) return "bad number of local time types";
  if (c->chars == 0) return "no time zone designations";
  if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
    return "bad indicator counts";
  return NULL;
}

/* Fills z from one data block (4- or 8-byte times) whose size was checked. */
static const char *read_block(tz_zone *z, const unsigned char *p, const tzif_counts *c, int timesize) {
  for (uint32_t i = 0; i < c->time; i++, p += timesize) {
    z->trans[i] = timesize == 4 ? (int64_t)(int32_t)be32(p) : be64s(p);
    if (i > 0 && z->trans[i] <= z->trans[i - 1]) return "transition times not ascending";
  }
  for (uint32_t i = 0; i < c->time; i++, p++) {
    if (*p >= c->type) return "transition names an unknown local time type";
    z->trans_type[i] = *p;
  }
  for (uint32_t i = 0; i < c->type; i++, p += 6) {
    int32_t off = (int32_t)be32(p);
    if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX) return "UT offset out of range";
    if (p[4] > 1) return "bad DST indicator";
    if (p[5] >= c->chars) return "designation index out of range";
    z->types[i].off = off;
    z->types[i].is_dst = p[4];
  }
  return NULL;
}

int tz__parse_tzif(const char *name, const unsigned char *data, size_t len, tz_zone **out, char *err,
                   size_t errlen) {
  char shown[72];
  const char *why = NULL;
  tz_zone *z = NULL;
  int rc;
  *out = NULL;
  printable_name(name, shown);
  if (len < 44 || memcmp(data, "TZif", 4) != 0) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown time zone \"%s\"", shown);
  }
  int version = data[4] == 0 ? 1 : data[4] >= '2' && data[4] <= '4' ? data[4] - '0' : 0;
  tzif_counts c;
  read_counts(data, &c);
  if (version == 0) {
    why = "unsupported version";
    goto fail_malformed;
  }
  if ((why = check_counts(&c)) != NULL) goto fail_malformed;
  uint64_t v1len = block_len(&c, 4);
  if (v1len > len - 44) {
    why = "truncated";
    goto fail_malformed;
  }
  const unsigned char *block = data + 44, *footer = NULL, *end = data + len;
  int timesize = 4;
  if (version >= 2) {
    /* Readers of version 2+ skip the 32-bit block: the 64-bit one follows. */
    const unsigned char *h2 = block + v1len;
    if ((size_t)(end - h2) < 44 || memcmp(h2, "TZif", 4) != 0) {
      why = "missing version 2 header";
      goto fail_malformed;
    }
    read_counts(h2, &c);
    if ((why = check_counts(&c)) != NULL) goto fail_malformed;
    uint64_t v2len = block_len(&c, 8);
    if (v2len > (uint64_t)(end - h2 - 44)) {
      why = "truncated";
      goto fail_malformed;
    }
    block = h2 + 44;
    footer = block + v2len;
    timesize = 8;
  }
  if (c.leap > 0) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "time zone \"%s\" counts leap seconds (not supported)", shown);
  }

  if ((rc = zone_new(name, &z)) != 0) return rc;
  if (c.time > 0) {
    z->trans = malloc(c.time * sizeof(*z->trans));
    z->trans_type = malloc(c.time);
    if (z->trans == NULL || z->trans_type == NULL) goto fail_nomem;
  }
  z->types = malloc(c.type * sizeof(*z->types));
  if (z->types == NULL) goto fail_nomem;
  z->ntrans = c.time;
  z->ntypes = c.type;
  if ((why = read_block(z, block, &c, timesize)) != NULL) goto fail_malformed;

  if (footer != NULL) {
    /* "\n<TZ string>\n"; an empty string leaves the last type in force. */
    const unsigned char *nl = NULL;
    if (footer < end && *footer == '\n') nl = memchr(footer + 1, '\n', (size_t)(end - footer - 1));
    if (nl == NULL) {
      why = "missing footer";
      goto fail_malformed;
    }
    if (nl > footer + 1) {
      if (!parse_posix_tz((const char *)footer + 1, (const char *)nl, &z->rule)) {
        why = "bad TZ string in footer";
        goto fail_malformed;
      }
      z->has_rule = true;
    }
  }
  *out = z;
  return 0;

fail_malformed:
  tz_free(z);
  return cubit_errorf(err, errlen, CUBIT_EINVAL, "time zone \"%s\": malformed TZif data (%s)", shown, why);
fail_nomem:
  tz_free(z);
  return CUBIT_ENOMEM;
}

/* Returns 0, CUBIT_ENOTFOUND when path is not a regular file of a sane
 * size, CUBIT_EIO or CUBIT_ENOMEM. */
static int read_zone_file(const char *path, unsigned char **data, size_t *len) {
  struct stat st;
  unsigned char *buf = NULL;
  int rc = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG
                         ? CUBIT_ENOTFOUND
                         : CUBIT_EIO;
  if (fstat(fd, &st) != 0) {
    rc = CUBIT_EIO;
    goto out;
  }
  if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
    rc = CUBIT_ENOTFOUND;
    goto out;
  }
  size_t want = (size_t)st.st_size, got = 0;
  buf = malloc(want ? want : 1);
  if (buf == NULL) {
    rc = CUBIT_ENOMEM;
    goto out;
  }
  while (got < want) {
    ssize_t n = read(fd, buf + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = CUBIT_EIO;
      goto out;
    }
    if (n == 0) break; /* shrank under us: parse what is there */
    got += (size_t)n;
  }
  *data = buf;
  *len = got;
  buf = NULL;
out:;
  int saved = errno; /* for the caller's message */
  free(buf);
  close(fd);
  errno = saved;
  return rc;
}

int tz_load(const char *name, tz_zone **out, char *err, size_t errlen) {
  char shown[72], path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
  unsigned char *data = NULL;
  size_t len = 0;
  *out = NULL;
  /* UTC needs no file, so it works where tzdata is missing. */
  if (name == NULL || name[0] == '\0') return zone_utc("UTC", out);
  if (strcmp(name, "UTC") == 0) return zone_utc(name, out);
  printable_name(name, shown);
  if (!name_is_safe(name)) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "invalid time zone name \"%s\"", shown);
  }
  snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
  int rc = read_zone_file(path, &data, &len);
  if (rc == CUBIT_ENOTFOUND) {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown time zone \"%s\"", shown);
  }
  if (rc == CUBIT_EIO) cubit_errorf(err, errlen, rc, "time zone \"%s\": cannot read %s: %m", shown, path);
  if (rc) return rc;
  rc = tz__parse_tzif(name, data, len, out, err, errlen);
  free(data);
  return rc;
}
