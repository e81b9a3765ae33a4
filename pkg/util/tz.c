#include "util/tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One local time type: an offset, whether it is daylight time, its name. */
typedef struct tz_type {
  int32_t utoff;
  int is_dst;
  char abbr[16];
} tz_type;

/* A POSIX rule date: Jn (1-365, Feb 29 never counted), n (0-365) or
 * Mm.w.d, plus the local time of day of the change in seconds. */
typedef struct tz_rule_date {
  char kind; /* 'J', 'N' or 'M' */
  int n, m, w, d;
  int32_t time;
} tz_rule_date;

typedef struct tz_posix {
  int present;
  tz_type std, dst;
  int has_dst;
  tz_rule_date start, end;
} tz_posix;

struct tz_zone {
  char name[TZ_NAME_MAX + 1];
  size_t ntrans;
  int64_t *trans;  /* ascending UTC instants */
  uint8_t *idx;    /* the type in force from trans[i] */
  size_t ntypes;
  tz_type *types;
  tz_posix footer; /* for instants after the last transition */
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *arg) {
  if (err && errlen) snprintf(err, errlen, fmt, arg);
}

/* ---------------------------------------------------------- calendar */

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int64_t year_of(int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL) return 1970;
  return (int64_t)tm.tm_year + 1900;
}

/* Seconds from the epoch to 00:00 local of the rule date in year y, plus
 * the rule's time of day: a "local" instant, to be shifted by the offset in
 * force before the change. */
static int64_t rule_local(int64_t y, const tz_rule_date *r) {
  int64_t day;
  switch (r->kind) {
    case 'J': {
      int doy = r->n - 1;
      if (is_leap(y) && r->n >= 60) doy++;
      day = days_from_civil(y, 1, 1) + doy;
      break;
    }
    case 'N':
      day = days_from_civil(y, 1, 1) + r->n;
      break;
    default: {
      int64_t first = days_from_civil(y, r->m, 1);
      int dow_first = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
      int mday = 1 + ((r->d - dow_first + 7) % 7) + (r->w - 1) * 7;
      while (mday > days_in_month(y, r->m)) mday -= 7;
      day = first + mday - 1;
      break;
    }
  }
  return day * 86400 + r->time;
}

/* ------------------------------------------------------------- POSIX */

static int posix_name(const char **pp, char abbr[16]) {
  const char *p = *pp;
  size_t n = 0;
  if (*p == '<') {
    p++;
    while (*p && *p != '>') {
      if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
            *p == '-'))
        return -1;
      if (n < 15) abbr[n] = *p;
      n++;
      p++;
    }
    if (*p != '>') return -1;
    p++;
  } else {
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
      if (n < 15) abbr[n] = *p;
      n++;
      p++;
    }
  }
  if (n < 3) return -1;
  abbr[n < 15 ? n : 15] = '\0';
  *pp = p;
  return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours. */
static int posix_hms(const char **pp, int max_hours, int32_t *out) {
  const char *p = *pp;
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (*p < '0' || *p > '9') return -1;
  int32_t part[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    if (i > 0) {
      if (*p != ':') break;
      p++;
      if (*p < '0' || *p > '9') return -1;
    }
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (++digits > 3) return -1;
      part[i] = part[i] * 10 + (*p++ - '0');
    }
    if (i > 0 && part[i] > 59) return -1;
  }
  if (part[0] > max_hours) return -1;
  *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
  *pp = p;
  return 0;
}

static int posix_num(const char **pp, int lo, int hi, int *out) {
  const char *p = *pp;
  if (*p < '0' || *p > '9') return -1;
  int v = 0;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (*p++ - '0');
    if (v > hi) return -1;
  }
  if (v < lo) return -1;
  *out = v;
  *pp = p;
  return 0;
}

static int posix_date(const char **pp, tz_rule_date *r) {
  const char *p = *pp;
  memset(r, 0, sizeof(*r));
  if (*p == 'J') {
    p++;
    r->kind = 'J';
    if (posix_num(&p, 1, 365, &r->n)) return -1;
  } else if (*p == 'M') {
    p++;
    r->kind = 'M';
    if (posix_num(&p, 1, 12, &r->m) || *p++ != '.' || posix_num(&p, 1, 5, &r->w) || *p++ != '.' ||
        posix_num(&p, 0, 6, &r->d))
      return -1;
  } else {
    r->kind = 'N';
    if (posix_num(&p, 0, 365, &r->n)) return -1;
  }
  r->time = 7200;
  if (*p == '/') {
    p++;
    if (posix_hms(&p, 167, &r->time)) return -1;
  }
  *pp = p;
  return 0;
}

static int posix_parse(const char *s, tz_posix *out) {
  memset(out, 0, sizeof(*out));
  const char *p = s;
  int32_t off;
  if (posix_name(&p, out->std.abbr) || posix_hms(&p, 24, &off)) return -1;
  out->std.utoff = -off; /* POSIX offsets count west */
  out->present = 1;
  if (*p == '\0') return 0;
  if (posix_name(&p, out->dst.abbr)) return -1;
  out->has_dst = 1;
  out->dst.is_dst = 1;
  out->dst.utoff = out->std.utoff + 3600;
  if (*p && *p != ',') {
    if (posix_hms(&p, 24, &off)) return -1;
    out->dst.utoff = -off;
  }
  if (*p == '\0') { /* no rule: the US rule, as tzcode assumes */
    out->start = (tz_rule_date){'M', 0, 3, 2, 0, 7200};
    out->end = (tz_rule_date){'M', 0, 11, 1, 0, 7200};
    return 0;
  }
  if (*p++ != ',' || posix_date(&p, &out->start) || *p++ != ',' || posix_date(&p, &out->end)) return -1;
  return *p == '\0' ? 0 : -1;
}

/* The type in force at t under a POSIX rule: the last change at or before
 * t among those of the years around t (so rules whose times cross a year's
 * end, and southern-hemisphere summers, come out right). */
static const tz_type *posix_type(const tz_posix *r, int64_t t) {
  if (!r->has_dst) return &r->std;
  int64_t y = year_of(t + r->std.utoff);
  int64_t best_at = INT64_MIN;
  const tz_type *best = &r->std;
  for (int64_t yy = y - 1; yy <= y + 1; yy++) {
    int64_t start = rule_local(yy, &r->start) - r->std.utoff; /* the change happens on standard time */
    int64_t end = rule_local(yy, &r->end) - r->dst.utoff;     /* and back on daylight time */
    if (start <= t && start > best_at) {
      best_at = start;
      best = &r->dst;
    }
    if (end <= t && end > best_at) {
      best_at = end;
      best = &r->std;
    }
  }
  return best;
}

/* ------------------------------------------------------------- TZif */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_header {
  int version;
  size_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static int read_header(const unsigned char *p, size_t avail, tzif_header *h) {
  if (avail < 44 || memcmp(p, "TZif", 4) != 0) return -1;
  h->version = p[4] == 0 ? 1 : p[4] - '0';
  if (h->version < 1 || h->version > 9) return -1;
  size_t *counts[] = {&h->isutcnt, &h->isstdcnt, &h->leapcnt, &h->timecnt, &h->typecnt, &h->charcnt};
  for (int i = 0; i < 6; i++) {
    uint32_t v = be32(p + 20 + 4 * i);
    if (v > (1u << 20)) return -1;
    *counts[i] = v;
  }
  if (h->typecnt == 0 || h->charcnt == 0) return -1;
  if ((h->isstdcnt && h->isstdcnt != h->typecnt) || (h->isutcnt && h->isutcnt != h->typecnt)) return -1;
  return 0;
}

static size_t block_size(const tzif_header *h, size_t time_size) {
  return h->timecnt * time_size + h->timecnt + h->typecnt * 6 + h->charcnt + h->leapcnt * (time_size + 4) +
         h->isstdcnt + h->isutcnt;
}

int tz_parse(const unsigned char *data, size_t len, tz_zone **out, char *err, size_t errlen) {
  *out = NULL;
  tzif_header h;
  if (read_header(data, len, &h)) {
    set_err(err, errlen, "%s", "not a TZif file (bad header)");
    return CUBIT_EINVAL;
  }
  size_t off = 44, tsize = 4;
  if (h.version >= 2) { /* skip the 32-bit block: the 64-bit one follows */
    size_t v1 = block_size(&h, 4);
    if (len - off < v1 || read_header(data + off + v1, len - off - v1, &h)) {
      set_err(err, errlen, "%s", "truncated TZif file (version 2 header)");
      return CUBIT_EINVAL;
    }
    off += v1 + 44;
    tsize = 8;
  }
  if (len - off < block_size(&h, tsize)) {
    set_err(err, errlen, "%s", "truncated TZif file");
    return CUBIT_EINVAL;
  }
  const unsigned char *times = data + off, *idx = times + h.timecnt * tsize, *types = idx + h.timecnt,
                      *chars = types + h.typecnt * 6;
  size_t after = off + block_size(&h, tsize);

  tz_zone *z = calloc(1, sizeof(*z));
  if (z == NULL) return CUBIT_ENOMEM;
  z->ntrans = h.timecnt;
  z->ntypes = h.typecnt;
  z->trans = malloc((h.timecnt ? h.timecnt : 1) * sizeof(int64_t));
  z->idx = malloc(h.timecnt ? h.timecnt : 1);
  z->types = malloc(h.typecnt * sizeof(tz_type));
  if (z->trans == NULL || z->idx == NULL || z->types == NULL) {
    tz_free(z);
    return CUBIT_ENOMEM;
  }
  const char *bad = NULL;
  for (size_t i = 0; i < h.timecnt && !bad; i++) {
    z->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
    z->idx[i] = idx[i];
    if (idx[i] >= h.typecnt) bad = "a transition names a missing local time type";
    else if (i > 0 && z->trans[i] <= z->trans[i - 1]) bad = "transition times are not ascending";
  }
  for (size_t i = 0; i < h.typecnt && !bad; i++) {
    const unsigned char *t = types + 6 * i;
    z->types[i].utoff = (int32_t)be32(t);
    z->types[i].is_dst = t[4] != 0;
    size_t at = t[5];
    if (t[4] > 1 || at >= h.charcnt || z->types[i].utoff <= -89999 || z->types[i].utoff >= 93600) {
      bad = "a local time type is out of range";
      break;
    }
    size_t n = 0;
    while (at + n < h.charcnt && chars[at + n] && n < sizeof(z->types[i].abbr) - 1) n++;
    memcpy(z->types[i].abbr, chars + at, n);
    z->types[i].abbr[n] = '\0';
  }
  if (!bad && h.version >= 2 && after < len) {
    /* The footer: "\n" rule "\n"; an empty rule means none. */
    const unsigned char *f = data + after;
    size_t flen = len - after;
    const unsigned char *nl = flen > 1 && f[0] == '\n' ? memchr(f + 1, '\n', flen - 1) : NULL;
    if (nl == NULL) {
      bad = "malformed TZif footer";
    } else if (nl > f + 1) {
      char rule[128];
      size_t n = (size_t)(nl - f - 1);
      if (n >= sizeof(rule) || memchr(f + 1, '\0', n)) {
        bad = "malformed TZif footer";
      } else {
        memcpy(rule, f + 1, n);
        rule[n] = '\0';
        if (posix_parse(rule, &z->footer)) bad = "the TZif footer is not a POSIX TZ rule";
      }
    }
  }
  if (bad) {
    set_err(err, errlen, "%s", bad);
    tz_free(z);
    return CUBIT_EINVAL;
  }
  *out = z;
  return 0;
}

int tz_parse_posix(const char *rule, tz_zone **out, char *err, size_t errlen) {
  *out = NULL;
  tz_posix p;
  if (rule == NULL || posix_parse(rule, &p)) {
    set_err(err, errlen, "not a POSIX TZ rule: \"%s\"", rule ? rule : "");
    return CUBIT_EINVAL;
  }
  tz_zone *z = calloc(1, sizeof(*z));
  if (z == NULL) return CUBIT_ENOMEM;
  z->types = malloc(sizeof(tz_type));
  if (z->types == NULL) {
    free(z);
    return CUBIT_ENOMEM;
  }
  z->types[0] = p.std;
  z->ntypes = 1;
  z->footer = p;
  *out = z;
  return 0;
}

void tz_free(tz_zone *z) {
  if (z == NULL) return;
  free(z->trans);
  free(z->idx);
  free(z->types);
  free(z);
}

const char *tz_name(const tz_zone *z) {
  return z->name;
}

/* ------------------------------------------------------------ loading */

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > TZ_NAME_MAX || name[0] == '/') return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
          c == '+' || c == '-' || c == '.'))
      return 0;
    /* No component may start with a dot: no "..", no hidden files. */
    if (c == '.' && (i == 0 || name[i - 1] == '/')) return 0;
    if (c == '/' && (i + 1 == n || name[i + 1] == '/')) return 0;
  }
  return 1;
}

int tz_load(const char *dir, const char *name, tz_zone **out, char *err, size_t errlen) {
  *out = NULL;
  if (name == NULL || !valid_name(name)) {
    set_err(err, errlen, "invalid time zone name \"%s\" (want an IANA name such as Europe/Berlin)",
            name ? name : "");
    return CUBIT_EINVAL;
  }
  if (dir == NULL) {
    const char *env = getenv("TZDIR");
    dir = env && *env ? env : TZ_DEFAULT_DIR;
  }
  char path[4096];
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
    set_err(err, errlen, "time zone path too long for \"%s\"", name);
    return CUBIT_EINVAL;
  }
  FILE *f = fopen(path, "rb");
  int rc = 0;
  unsigned char *data = NULL;
  size_t len = 0;
  if (f == NULL) {
    /* UTC needs no database: containers without tzdata still know it. */
    if (errno == ENOENT && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)) {
      rc = tz_parse_posix("UTC0", out, err, errlen);
      if (rc == 0) snprintf((*out)->name, sizeof((*out)->name), "%s", name);
      return rc;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
      set_err(err, errlen, "unknown time zone \"%s\" (not in the tz database)", name);
      return CUBIT_EINVAL;
    }
    set_err(err, errlen, "cannot read time zone \"%s\"", name);
    return CUBIT_EIO;
  }
  size_t cap = 8192;
  data = malloc(cap);
  if (data == NULL) {
    fclose(f);
    return CUBIT_ENOMEM;
  }
  for (;;) {
    size_t n = fread(data + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
    if (len == cap) {
      if (cap >= TZ_FILE_MAX) {
        rc = CUBIT_ETOOBIG;
        set_err(err, errlen, "time zone file of \"%s\" is too large", name);
        break;
      }
      unsigned char *bigger = realloc(data, cap * 2);
      if (bigger == NULL) {
        rc = CUBIT_ENOMEM;
        break;
      }
      data = bigger;
      cap *= 2;
    }
  }
  if (rc == 0 && ferror(f)) { /* a directory ("Europe") reads as an error */
    set_err(err, errlen, "unknown time zone \"%s\" (not a zone of the tz database)", name);
    rc = CUBIT_EINVAL;
  }
  fclose(f);
  if (rc == 0) {
    char why[160] = "";
    rc = tz_parse(data, len, out, why, sizeof(why));
    if (rc == CUBIT_EINVAL && err && errlen) snprintf(err, errlen, "time zone \"%s\": %s", name, why);
  }
  free(data);
  if (rc == 0) snprintf((*out)->name, sizeof((*out)->name), "%s", name);
  return rc;
}

/* ------------------------------------------------------------ lookups */

static const tz_type *type_at(const tz_zone *z, int64_t t) {
  if (z->ntrans == 0) return z->footer.present ? posix_type(&z->footer, t) : &z->types[0];
  if (t < z->trans[0]) return &z->types[0];
  if (t >= z->trans[z->ntrans - 1] && z->footer.present) return posix_type(&z->footer, t);
  size_t lo = 0, hi = z->ntrans; /* the last transition at or before t */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (z->trans[mid] <= t) lo = mid;
    else hi = mid;
  }
  return &z->types[z->idx[lo]];
}

int32_t tz_offset(const tz_zone *z, int64_t utc) {
  return type_at(z, utc)->utoff;
}

void tz_local(const tz_zone *z, int64_t utc, tz_time *out) {
  const tz_type *ty = type_at(z, utc);
  memset(out, 0, sizeof(*out));
  time_t local = (time_t)(utc + ty->utoff);
  struct tm tm;
  if (gmtime_r(&local, &tm)) {
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
    out->hour = tm.tm_hour;
    out->minute = tm.tm_min;
    out->second = tm.tm_sec;
    out->weekday = tm.tm_wday;
  }
  out->utc_offset = ty->utoff;
  out->is_dst = ty->is_dst;
  memcpy(out->abbr, ty->abbr, sizeof(out->abbr));
}

int tz_utc_of_local(const tz_zone *z, int year, int month, int day, int hour, int minute, int second,
                    int64_t *first, int64_t *second_out) {
  struct tm tm = {0};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t wall = (int64_t)timegm(&tm);
  /* Offsets never exceed 26 hours; every offset in force near 'wall' is
   * seen by sampling each hour (no zone changes twice within an hour). */
  int32_t seen[8];
  int nseen = 0;
  for (int k = -27; k <= 27; k++) {
    int32_t o = tz_offset(z, wall + (int64_t)k * 3600);
    int dup = 0;
    for (int i = 0; i < nseen; i++) dup |= seen[i] == o;
    if (!dup && nseen < 8) seen[nseen++] = o;
  }
  int64_t found[8];
  int nfound = 0;
  for (int i = 0; i < nseen; i++) {
    int64_t t = wall - seen[i];
    if (tz_offset(z, t) != seen[i]) continue;
    int dup = 0;
    for (int j = 0; j < nfound; j++) dup |= found[j] == t;
    if (!dup) found[nfound++] = t;
  }
  for (int i = 1; i < nfound; i++) /* ascending */
    for (int j = i; j > 0 && found[j] < found[j - 1]; j--) {
      int64_t tmp = found[j];
      found[j] = found[j - 1];
      found[j - 1] = tmp;
    }
  if (nfound >= 1) {
    *first = found[0];
    if (nfound >= 2 && second_out) *second_out = found[nfound - 1];
    return nfound >= 2 ? 2 : 1;
  }
  /* Clocks jumped over the wall time: the first instant whose wall time is
   * later (the local clock is monotonic around a forward jump). */
  int64_t lo = wall - 27 * 3600, hi = wall + 27 * 3600;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (mid + tz_offset(z, mid) >= wall) hi = mid;
    else lo = mid;
  }
  *first = hi;
  return 0;
}
