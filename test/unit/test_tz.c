/* Tests of util/tz: TZif files of the system's tz database (Debian tzdata)
 * and synthetic ones, POSIX TZ footers, local time in both directions.
 *
 * Expected values come from other implementations reading the same data:
 * CPython's zoneinfo for zones and instants, and glibc's tzset for the
 * zero-based "n" footer form (zoneinfo puts "59" one day early: Feb 28
 * instead of POSIX's Mar 1, or Feb 29 in a leap year). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/tz.h"
#include "util/tz_internal.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static tz_zone *must_load(const char *name) {
  tz_zone *z = NULL;
  char err[256] = "";
  int rc = tz_load(name, &z, err, sizeof(err));
  ck_assert_msg(rc == 0, "tz_load(%s): %d %s", name ? name : "NULL", rc, err);
  return z;
}

/* ---- names ---- */

static const struct name_case {
  const char *name;
  const char *shown; /* tz_name */
} good_names[] = {
    {NULL, "UTC"},
    {"", "UTC"},
    {"UTC", "UTC"},
    {"Etc/UTC", "Etc/UTC"},
    {"Europe/Berlin", "Europe/Berlin"},
    {"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
    {"US/Eastern", "US/Eastern"}, /* a link (symlink) to America/New_York */
    {"Etc/GMT+5", "Etc/GMT+5"},
    {"Etc/GMT-14", "Etc/GMT-14"},
    {"America/Port-au-Prince", "America/Port-au-Prince"},
};

START_TEST(load_names) {
  const struct name_case *c = &good_names[_i];
  tz_zone *z = must_load(c->name);
  ck_assert_str_eq(tz_name(z), c->shown);
  tz_free(z);
}
END_TEST

static const struct bad_name_case {
  const char *name;
  const char *message;
} bad_names[] = {
    {"Mars/Olympus", "unknown time zone \"Mars/Olympus\""},
    {"Europe", "unknown time zone \"Europe\""},           /* a directory */
    {"europe/berlin", "unknown time zone \"europe/berlin\""}, /* names are case-sensitive */
    {"../../../etc/passwd", "invalid time zone name \"../../../etc/passwd\""},
    {"Europe/../Europe/Berlin", "invalid time zone name \"Europe/../Europe/Berlin\""},
    {"/usr/share/zoneinfo/UTC", "invalid time zone name \"/usr/share/zoneinfo/UTC\""},
    {"Europe//Berlin", "invalid time zone name \"Europe//Berlin\""},
    {"Europe/", "invalid time zone name \"Europe/\""},
    {"zone1970.tab", "invalid time zone name \"zone1970.tab\""},
    {"Europe/Berlin ", "invalid time zone name \"Europe/Berlin \""},
    {"Europe/Berlin\n", "invalid time zone name \"Europe/Berlin?\""},
    {"Europe\\Berlin", "invalid time zone name \"Europe?Berlin\""},
    {"CET-1CEST", "unknown time zone \"CET-1CEST\""}, /* TZ strings are not names */
    {"right/UTC", "time zone \"right/UTC\" counts leap seconds (not supported)"},
};

START_TEST(reject_names) {
  const struct bad_name_case *c = &bad_names[_i];
  tz_zone *z = (tz_zone *)&z; /* must be reset */
  char err[256] = "";
  ck_assert_int_eq(tz_load(c->name, &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(z);
  ck_assert_str_eq(err, c->message);
}
END_TEST

START_TEST(long_names) {
  char name[300];
  memset(name, 'A', sizeof(name) - 1);
  name[sizeof(name) - 1] = '\0';
  tz_zone *z;
  char err[256];
  ck_assert_int_eq(tz_load(name, &z, err, sizeof(err)), CUBIT_EINVAL);
  /* the message shows a bounded prefix of the name */
  ck_assert_ptr_nonnull(strstr(err, "invalid time zone name \"AAAA"));
  ck_assert_ptr_nonnull(strstr(err, "...\""));
  ck_assert_uint_lt(strlen(err), 120);
  ck_assert_int_eq(tz_load(name, &z, NULL, 0), CUBIT_EINVAL); /* no message wanted */
}
END_TEST

/* ---- unix time to local time ---- */

static const struct local_case {
  const char *zone;
  int64_t t;
  int year, month, day, hour, minute, second, weekday, offset, is_dst;
} local_cases[] = {
    {"UTC", 0LL, 1970, 1, 1, 0, 0, 0, 4, 0, 0},
    {"UTC", -1LL, 1969, 12, 31, 23, 59, 59, 3, 0, 0},
    {"UTC", 951827696LL, 2000, 2, 29, 12, 34, 56, 2, 0, 0},
    {"Europe/Berlin", 1736942400LL, 2025, 1, 15, 13, 0, 0, 3, 3600, 0},
    {"Europe/Berlin", 1752580800LL, 2025, 7, 15, 14, 0, 0, 2, 7200, 1},
    /* spring forward 2025-03-30: 01:59:59 CET, then 03:00 CEST */
    {"Europe/Berlin", 1743296399LL, 2025, 3, 30, 1, 59, 59, 0, 3600, 0},
    {"Europe/Berlin", 1743296400LL, 2025, 3, 30, 3, 0, 0, 0, 7200, 1},
    /* past the file's last transition (2037): the footer's rule */
    {"Europe/Berlin", 4109878799LL, 2100, 3, 28, 1, 59, 59, 0, 3600, 0},
    {"Europe/Berlin", 4109878800LL, 2100, 3, 28, 3, 0, 0, 0, 7200, 1},
    {"Europe/Berlin", 13585190400LL, 2400, 7, 1, 2, 0, 0, 6, 7200, 1},
    /* fall back 2025-11-02: 01:30 happens in EDT, then in EST */
    {"America/New_York", 1762061400LL, 2025, 11, 2, 1, 30, 0, 0, -14400, 1},
    {"America/New_York", 1762065000LL, 2025, 11, 2, 1, 30, 0, 0, -18000, 0},
    /* local mean time before 1883-11-18 12:03:58, and before the first transition */
    {"America/New_York", -2717650801LL, 1883, 11, 18, 12, 3, 57, 0, -17762, 0},
    {"America/New_York", -3786825600LL, 1849, 12, 31, 19, 3, 58, 1, -17762, 0},
    {"America/New_York", 5696236800LL, 2150, 7, 4, 12, 0, 0, 6, -14400, 1},
    /* Lord Howe Island: +10:30 standard, +11 (30-minute) daylight time */
    {"Australia/Lord_Howe", 1736467200LL, 2025, 1, 10, 11, 0, 0, 5, 39600, 1},
    {"Australia/Lord_Howe", 1752105600LL, 2025, 7, 10, 10, 30, 0, 4, 37800, 0},
    {"Australia/Lord_Howe", 2871115200LL, 2060, 12, 24, 23, 0, 0, 5, 39600, 1},
    /* Kathmandu moved from +5:30 to +5:45 on 1986-01-01 */
    {"Asia/Kathmandu", 504901799LL, 1985, 12, 31, 23, 59, 59, 2, 19800, 0},
    {"Asia/Kathmandu", 504901800LL, 1986, 1, 1, 0, 15, 0, 3, 20700, 0},
    {"Asia/Kathmandu", 10413792000LL, 2300, 1, 1, 5, 45, 0, 1, 20700, 0},
    /* southern hemisphere: daylight time over the new year */
    {"Australia/Sydney", 1735689600LL, 2025, 1, 1, 11, 0, 0, 3, 39600, 1},
    {"Australia/Sydney", 1748736000LL, 2025, 6, 1, 10, 0, 0, 0, 36000, 0},
    {"Australia/Sydney", 3471292800LL, 2080, 1, 1, 11, 0, 0, 1, 39600, 1},
    /* version 3 footers: rule times of 24:00, -1:00 and 26:00 */
    {"America/Santiago", 3794785199LL, 2090, 4, 1, 23, 59, 59, 6, -10800, 1},
    {"America/Santiago", 3794785200LL, 2090, 4, 1, 23, 0, 0, 6, -14400, 0},
    {"America/Santiago", 3808094399LL, 2090, 9, 2, 23, 59, 59, 6, -14400, 0},
    {"America/Santiago", 3808094400LL, 2090, 9, 3, 1, 0, 0, 0, -10800, 1},
    {"America/Nuuk", 3794173199LL, 2090, 3, 25, 22, 59, 59, 6, -7200, 0},
    {"America/Nuuk", 3794173200LL, 2090, 3, 26, 0, 0, 0, 0, -3600, 1},
    {"America/Nuuk", 3812921999LL, 2090, 10, 28, 23, 59, 59, 6, -3600, 1},
    {"America/Nuuk", 3812922000LL, 2090, 10, 28, 23, 0, 0, 6, -7200, 0},
    {"Asia/Jerusalem", 3793996799LL, 2090, 3, 24, 1, 59, 59, 5, 7200, 0},
    {"Asia/Jerusalem", 3793996800LL, 2090, 3, 24, 3, 0, 0, 5, 10800, 1},
    /* Samoa skipped 2011-12-30 when it crossed the date line */
    {"Pacific/Apia", 1325239199LL, 2011, 12, 29, 23, 59, 59, 4, -36000, 1},
    {"Pacific/Apia", 1325239200LL, 2011, 12, 31, 0, 0, 0, 6, 50400, 1},
};

START_TEST(to_local) {
  const struct local_case *c = &local_cases[_i];
  tz_zone *z = must_load(c->zone);
  tz_local l;
  tz_to_local(z, c->t, &l);
  ck_assert_msg(l.year == c->year && l.month == c->month && l.day == c->day && l.hour == c->hour &&
                    l.minute == c->minute && l.second == c->second,
                "%s %lld: got %04d-%02d-%02d %02d:%02d:%02d", c->zone, (long long)c->t, l.year, l.month, l.day,
                l.hour, l.minute, l.second);
  ck_assert_int_eq(l.weekday, c->weekday);
  ck_assert_int_eq(l.utc_offset, c->offset);
  ck_assert_int_eq(l.is_dst, c->is_dst);
  tz_free(z);
}
END_TEST

START_TEST(null_zone_is_utc) {
  tz_local l;
  tz_to_local(NULL, 951827696LL, &l);
  ck_assert_int_eq(l.year, 2000);
  ck_assert_int_eq(l.day, 29);
  ck_assert_int_eq(l.utc_offset, 0);
  int64_t out[2];
  ck_assert_int_eq(tz_from_local(NULL, 2000, 2, 29, 12, 34, 56, out), 1);
  ck_assert_int_eq(out[0], 951827696LL);
  ck_assert_str_eq(tz_name(NULL), "UTC");
}
END_TEST

/* ---- local time to unix times ---- */

static const struct from_case {
  const char *zone;
  int year, month, day, hour, minute, second;
  int n;
  int64_t t[2];
} from_cases[] = {
    {"UTC", 2025, 6, 1, 12, 0, 0, 1, {1748779200LL, 0LL}},
    /* Berlin: 02:00-02:59:59 missing on 2025-03-30, twice on 2025-10-26 */
    {"Europe/Berlin", 2025, 3, 30, 1, 59, 59, 1, {1743296399LL, 0LL}},
    {"Europe/Berlin", 2025, 3, 30, 2, 0, 0, 0, {0LL, 0LL}},
    {"Europe/Berlin", 2025, 3, 30, 2, 30, 0, 0, {0LL, 0LL}},
    {"Europe/Berlin", 2025, 3, 30, 3, 0, 0, 1, {1743296400LL, 0LL}},
    {"Europe/Berlin", 2025, 10, 26, 1, 59, 59, 1, {1761436799LL, 0LL}},
    {"Europe/Berlin", 2025, 10, 26, 2, 0, 0, 2, {1761436800LL, 1761440400LL}},
    {"Europe/Berlin", 2025, 10, 26, 2, 59, 59, 2, {1761440399LL, 1761443999LL}},
    {"Europe/Berlin", 2025, 10, 26, 3, 0, 0, 1, {1761444000LL, 0LL}},
    {"America/New_York", 2025, 3, 9, 2, 30, 0, 0, {0LL, 0LL}},
    {"America/New_York", 2025, 11, 2, 0, 59, 0, 1, {1762059540LL, 0LL}},
    {"America/New_York", 2025, 11, 2, 1, 30, 0, 2, {1762061400LL, 1762065000LL}},
    {"America/New_York", 2025, 11, 2, 2, 0, 0, 1, {1762066800LL, 0LL}},
    /* Lord Howe: a 30-minute gap (02:00-02:30) and a 30-minute overlap (01:30-02:00) */
    {"Australia/Lord_Howe", 2025, 10, 5, 1, 59, 0, 1, {1759591740LL, 0LL}},
    {"Australia/Lord_Howe", 2025, 10, 5, 2, 15, 0, 0, {0LL, 0LL}},
    {"Australia/Lord_Howe", 2025, 10, 5, 2, 30, 0, 1, {1759591800LL, 0LL}},
    {"Australia/Lord_Howe", 2025, 4, 6, 1, 29, 0, 1, {1743863340LL, 0LL}},
    {"Australia/Lord_Howe", 2025, 4, 6, 1, 45, 0, 2, {1743864300LL, 1743866100LL}},
    {"Australia/Lord_Howe", 2025, 4, 6, 2, 0, 0, 1, {1743867000LL, 0LL}},
    /* Kathmandu's 15-minute gap */
    {"Asia/Kathmandu", 1986, 1, 1, 0, 5, 0, 0, {0LL, 0LL}},
    {"Asia/Kathmandu", 1986, 1, 1, 0, 15, 0, 1, {504901800LL, 0LL}},
    {"Asia/Kathmandu", 2025, 6, 1, 9, 0, 0, 1, {1748747700LL, 0LL}},
    {"Australia/Sydney", 2025, 10, 5, 2, 30, 0, 0, {0LL, 0LL}},
    {"Australia/Sydney", 2025, 4, 6, 2, 30, 0, 2, {1743867000LL, 1743870600LL}},
    /* footer rules */
    {"Europe/Berlin", 2100, 3, 28, 2, 30, 0, 0, {0LL, 0LL}},
    {"Europe/Berlin", 2100, 10, 31, 2, 30, 0, 2, {4128625800LL, 4128629400LL}},
    {"America/New_York", 2150, 11, 1, 1, 30, 0, 2, {5706567000LL, 5706570600LL}},
    {"America/Nuuk", 2090, 3, 25, 23, 30, 0, 0, {0LL, 0LL}},
    {"America/Nuuk", 2090, 10, 28, 23, 30, 0, 2, {3812920200LL, 3812923800LL}},
    {"Asia/Jerusalem", 2090, 3, 24, 2, 30, 0, 0, {0LL, 0LL}},
    /* a whole day that never happened */
    {"Pacific/Apia", 2011, 12, 30, 12, 0, 0, 0, {0LL, 0LL}},
    /* not wall times at all */
    {"UTC", 2025, 2, 29, 12, 0, 0, 0, {0LL, 0LL}},
    {"UTC", 2025, 4, 31, 12, 0, 0, 0, {0LL, 0LL}},
    {"UTC", 2025, 13, 1, 12, 0, 0, 0, {0LL, 0LL}},
    {"UTC", 2025, 1, 1, 24, 0, 0, 0, {0LL, 0LL}},
    {"UTC", 2025, 1, 1, 23, 60, 0, 0, {0LL, 0LL}},
    {"UTC", 2025, 1, 1, 23, 59, 60, 0, {0LL, 0LL}},
    {"UTC", 2025, 1, 0, 0, 0, 0, 0, {0LL, 0LL}},
    {"UTC", 2000000000, 1, 1, 0, 0, 0, 0, {0LL, 0LL}},
};

START_TEST(from_local) {
  const struct from_case *c = &from_cases[_i];
  tz_zone *z = must_load(c->zone);
  int64_t out[2] = {0, 0};
  int n = tz_from_local(z, c->year, c->month, c->day, c->hour, c->minute, c->second, out);
  ck_assert_msg(n == c->n, "%s %04d-%02d-%02d %02d:%02d:%02d: %d times, want %d", c->zone, c->year, c->month,
                c->day, c->hour, c->minute, c->second, n, c->n);
  for (int i = 0; i < n; i++) ck_assert_int_eq(out[i], c->t[i]);
  tz_free(z);
}
END_TEST

/* Every instant is one of the times its own wall time occurs, and the
 * times found all show that wall time: over two years of 20-minute steps
 * (which cross every transition of those years) in zones with gaps and
 * overlaps of 30, 60 and 15 minutes, and around the footer's rules. */
START_TEST(round_trip) {
  static const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
                                "Australia/Sydney", "America/Nuuk"};
  static const int64_t starts[] = {1735689600LL /* 2025 */, 4102444800LL /* 2100 */};
  for (int zi = 0; zi < N(zones); zi++) {
    tz_zone *z = must_load(zones[zi]);
    for (int si = 0; si < N(starts); si++) {
      int overlaps = 0;
      for (int64_t t = starts[si]; t < starts[si] + 2 * 366 * 86400LL; t += 1200) {
        tz_local l;
        tz_to_local(z, t, &l);
        int64_t out[2];
        int n = tz_from_local(z, l.year, l.month, l.day, l.hour, l.minute, l.second, out);
        ck_assert_msg(n >= 1 && (out[0] == t || (n == 2 && out[1] == t)), "%s %lld not found back", zones[zi],
                      (long long)t);
        if (n == 2) {
          overlaps++;
          ck_assert_int_lt(out[0], out[1]);
          tz_local other;
          tz_to_local(z, out[0] == t ? out[1] : out[0], &other);
          ck_assert_int_eq(other.hour * 60 + other.minute, l.hour * 60 + l.minute);
          ck_assert_int_ne(other.utc_offset, l.utc_offset);
        }
      }
      /* Kathmandu has no DST; the others fall back twice in two years */
      ck_assert_int_eq(overlaps > 0, strcmp(zones[zi], "Asia/Kathmandu") != 0);
    }
    tz_free(z);
  }
}
END_TEST

/* ---- synthetic TZif files ---- */

typedef struct tzif_spec {
  int version; /* 1, 2 or 3 */
  int ntrans;
  int64_t trans[4];
  uint8_t idx[4];
  int ntypes;
  int32_t off[3];
  uint8_t dst[3];
  const char *footer; /* version 2+: the TZ string; NULL leaves the footer out */
  uint32_t leapcnt;
} tzif_spec;

static unsigned char *put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
  return p + 4;
}

static unsigned char *put_header(unsigned char *p, char version, uint32_t leap, uint32_t timecnt,
                                 uint32_t typecnt, uint32_t charcnt) {
  memcpy(p, "TZif", 4);
  p[4] = (unsigned char)version;
  memset(p + 5, 0, 15);
  p = put32(p + 20, 0); /* isutcnt */
  p = put32(p, 0);      /* isstdcnt */
  p = put32(p, leap);
  p = put32(p, timecnt);
  p = put32(p, typecnt);
  return put32(p, charcnt);
}

static unsigned char *put_block(unsigned char *p, const tzif_spec *s, int timesize) {
  for (int i = 0; i < s->ntrans; i++) {
    if (timesize == 8) p = put32(p, (uint32_t)((uint64_t)s->trans[i] >> 32));
    p = put32(p, (uint32_t)s->trans[i]);
  }
  for (int i = 0; i < s->ntrans; i++) *p++ = s->idx[i];
  for (int i = 0; i < s->ntypes; i++) {
    p = put32(p, (uint32_t)s->off[i]);
    *p++ = s->dst[i];
    *p++ = 0;
  }
  memcpy(p, "AAA", 4);
  p += 4;
  for (uint32_t i = 0; i < s->leapcnt; i++) {
    if (timesize == 8) p = put32(p, 0);
    p = put32(p, 78796800u + i);
    p = put32(p, i + 1);
  }
  return p;
}

/* Version 1 carries the data in 32-bit form. Versions 2+ get a stub
 * 32-bit block (no transitions, offset 0, as "zic -b slim" writes it), so a
 * reader that used it instead of the 64-bit block would see UTC. */
static size_t build_tzif(const tzif_spec *s, unsigned char *buf) {
  unsigned char *p = buf;
  if (s->version == 1) {
    p = put_header(p, 0, s->leapcnt, (uint32_t)s->ntrans, (uint32_t)s->ntypes, 4);
    return (size_t)(put_block(p, s, 4) - buf);
  }
  char v = (char)('0' + s->version);
  tzif_spec stub = {.ntypes = 1, .off = {0}};
  p = put_header(p, v, 0, 0, 1, 4);
  p = put_block(p, &stub, 4);
  p = put_header(p, v, s->leapcnt, (uint32_t)s->ntrans, (uint32_t)s->ntypes, 4);
  p = put_block(p, s, 8);
  if (s->footer) p += sprintf((char *)p, "\n%s\n", s->footer);
  return (size_t)(p - buf);
}

static tz_zone *must_parse(const tzif_spec *s) {
  unsigned char buf[1024];
  size_t len = build_tzif(s, buf);
  tz_zone *z = NULL;
  char err[256] = "";
  int rc = tz__parse_tzif("Test/Zone", buf, len, &z, err, sizeof(err));
  ck_assert_msg(rc == 0, "parse: %d %s", rc, err);
  return z;
}

static int offset_at(const tz_zone *z, int64_t t, int *is_dst) {
  tz_local l;
  tz_to_local(z, t, &l);
  if (is_dst) *is_dst = l.is_dst;
  return l.utc_offset;
}

START_TEST(version1_file) {
  /* +1 before 1990, +2 (DST) from 1990, +3 from 2000; no footer: +3 stays */
  tzif_spec s = {.version = 1, .ntrans = 2, .trans = {631152000, 946684800}, .idx = {1, 2}, .ntypes = 3,
                 .off = {3600, 7200, 10800}, .dst = {0, 1, 0}};
  tz_zone *z = must_parse(&s);
  int dst;
  ck_assert_int_eq(offset_at(z, -4000000000LL, &dst), 3600); /* before the first: type 0 */
  ck_assert_int_eq(offset_at(z, 631151999, &dst), 3600);
  ck_assert_int_eq(offset_at(z, 631152000, &dst), 7200);
  ck_assert_int_eq(dst, 1);
  ck_assert_int_eq(offset_at(z, 946684799, &dst), 7200);
  ck_assert_int_eq(offset_at(z, 946684800, &dst), 10800);
  ck_assert_int_eq(dst, 0);
  ck_assert_int_eq(offset_at(z, 5000000000LL, &dst), 10800);
  ck_assert_str_eq(tz_name(z), "Test/Zone");
  tz_free(z);
}
END_TEST

START_TEST(version2_uses_64bit_block) {
  /* a transition past 2038, which only 64 bits can hold; the footer is
   * empty, so the last type stays in force after it */
  tzif_spec s = {.version = 2, .ntrans = 1, .trans = {5000000000LL}, .idx = {1}, .ntypes = 2,
                 .off = {-18000, 20700}, .dst = {0, 0}, .footer = ""};
  tz_zone *z = must_parse(&s);
  ck_assert_int_eq(offset_at(z, 0, NULL), -18000);
  ck_assert_int_eq(offset_at(z, 4999999999LL, NULL), -18000);
  ck_assert_int_eq(offset_at(z, 5000000000LL, NULL), 20700);
  ck_assert_int_eq(offset_at(z, 9000000000LL, NULL), 20700);
  tz_free(z);
}
END_TEST

START_TEST(footer_after_last_transition) {
  /* data says +9 until 2001, then -1; the footer then says CET rules */
  tzif_spec s = {.version = 2, .ntrans = 1, .trans = {978307200}, .idx = {1}, .ntypes = 2,
                 .off = {32400, -3600}, .dst = {0, 0}, .footer = "CET-1CEST,M3.5.0,M10.5.0/3"};
  tz_zone *z = must_parse(&s);
  ck_assert_int_eq(offset_at(z, 978307199, NULL), 32400);
  ck_assert_int_eq(offset_at(z, 978307200, NULL), -3600); /* the transition itself: data */
  ck_assert_int_eq(offset_at(z, 978307201, NULL), 3600);  /* after it: the rule (winter) */
  ck_assert_int_eq(offset_at(z, 1000000000, NULL), 7200); /* 2001-09-09: summer */
  tz_free(z);
}
END_TEST

/* Footers alone (no transitions): every POSIX form, at both edges of each
 * change. */
static const struct footer_case {
  const char *footer;
  int64_t t;
  int offset, is_dst;
} footer_cases[] = {
    {"UTC0", 1900000000LL, 0, 0},
    {"<+14>-14", 1900000000LL, 50400, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1900000000LL, 3600, 0},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1901149199LL, 3600, 0}, /* 2030-03-31T01:59:59+01:00 */
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1901149200LL, 7200, 1}, /* 2030-03-31T03:00:00+02:00 */
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1919293199LL, 7200, 1}, /* 2030-10-27T02:59:59+02:00 */
    {"CET-1CEST,M3.5.0,M10.5.0/3", 1919293200LL, 3600, 0}, /* 2030-10-27T02:00:00+01:00 */
    {"<+0545>-5:45", 1893474000LL, 20700, 0},
    {"<+0545>-5:45", 1925009999LL, 20700, 0},
    /* southern hemisphere: DST spans the new year */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1900000000LL, 39600, 1},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1901721599LL, 39600, 1}, /* 2030-04-07T02:59:59+11:00 */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1901721600LL, 36000, 0}, /* 2030-04-07T02:00:00+10:00 */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1917446399LL, 36000, 0}, /* 2030-10-06T01:59:59+10:00 */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1917446400LL, 39600, 1}, /* 2030-10-06T03:00:00+11:00 */
    /* no rule given: the US one, as tzcode and glibc */
    {"EST5EDT", 1899356399LL, -18000, 0}, /* 2030-03-10T01:59:59-05:00 */
    {"EST5EDT", 1899356400LL, -14400, 1}, /* 2030-03-10T03:00:00-04:00 */
    {"EST5EDT", 1919915999LL, -14400, 1}, /* 2030-11-03T01:59:59-04:00 */
    {"EST5EDT", 1919916000LL, -18000, 0}, /* 2030-11-03T01:00:00-05:00 */
    /* Jn: day 60 is March 1 in every year */
    {"XXX0YYY,J60/2,J300/2", 1677635999LL, 0, 0},    /* 2023-03-01T01:59:59 */
    {"XXX0YYY,J60/2,J300/2", 1677636000LL, 3600, 1}, /* 2023-03-01T03:00:00+01:00 */
    {"XXX0YYY,J60/2,J300/2", 1709258399LL, 0, 0},    /* 2024-03-01T01:59:59 */
    {"XXX0YYY,J60/2,J300/2", 1709258400LL, 3600, 1}, /* 2024-03-01T03:00:00+01:00 */
    {"XXX0YYY,J60/2,J300/2", 1729990799LL, 3600, 1}, /* 2024-10-27T01:59:59+01:00 */
    {"XXX0YYY,J60/2,J300/2", 1729990800LL, 0, 0},    /* 2024-10-27T01:00:00 */
    /* n: zero-based and counting Feb 29, so 59 is Mar 1 in 2023, Feb 29 in 2024 */
    {"XXX0YYY,59/2,299/2", 1677635999LL, 0, 0},    /* 2023-03-01T01:59:59 */
    {"XXX0YYY,59/2,299/2", 1677636000LL, 3600, 1}, /* 2023-03-01T03:00:00+01:00 */
    {"XXX0YYY,59/2,299/2", 1709171999LL, 0, 0},    /* 2024-02-29T01:59:59 */
    {"XXX0YYY,59/2,299/2", 1709172000LL, 3600, 1}, /* 2024-02-29T03:00:00+01:00 */
    {"XXX0YYY,59/2,299/2", 1698368399LL, 3600, 1}, /* 2023-10-27T01:59:59+01:00 */
    {"XXX0YYY,59/2,299/2", 1698368400LL, 0, 0},    /* 2023-10-27T01:00:00 */
    /* version 3: negative and past-midnight rule times */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1901149199LL, -7200, 0}, /* 2030-03-30T22:59:59-02:00 */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1901149200LL, -3600, 1}, /* 2030-03-31T00:00:00-01:00 */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1919293199LL, -3600, 1}, /* 2030-10-26T23:59:59-01:00 */
    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1919293200LL, -7200, 0}, /* 2030-10-26T23:00:00-02:00 */
    {"IST-2IDT,M3.4.4/26,M10.5.0", 1900972799LL, 7200, 0},  /* 2030-03-29T01:59:59+02:00 */
    {"IST-2IDT,M3.4.4/26,M10.5.0", 1900972800LL, 10800, 1}, /* 2030-03-29T03:00:00+03:00 */
    {"IST-2IDT,M3.4.4/26,M10.5.0", 1919285999LL, 10800, 1}, /* 2030-10-27T01:59:59+03:00 */
    {"IST-2IDT,M3.4.4/26,M10.5.0", 1919286000LL, 7200, 0},  /* 2030-10-27T01:00:00+02:00 */
    {"XXX3YYY,M3.1.0/-167,M10.1.0/167", 1898135999LL, -10800, 0}, /* 2030-02-24T00:59:59-03:00 */
    {"XXX3YYY,M3.1.0/-167,M10.1.0/167", 1898136000LL, -7200, 1},  /* 2030-02-24T02:00:00-02:00 */
    {"XXX3YYY,M3.1.0/-167,M10.1.0/167", 1918083599LL, -7200, 1},  /* 2030-10-12T22:59:59-02:00 */
    {"XXX3YYY,M3.1.0/-167,M10.1.0/167", 1918083600LL, -10800, 0}, /* 2030-10-12T22:00:00-03:00 */
    {"EET-2EEST,M3.4.4/50,M10.4.4/50", 1901059199LL, 7200, 0},    /* 2030-03-30T01:59:59+02:00 (Gaza) */
    {"EET-2EEST,M3.4.4/50,M10.4.4/50", 1901059200LL, 10800, 1},   /* 2030-03-30T03:00:00+03:00 */
    {"EET-2EEST,M3.4.4/50,M10.4.4/50", 1919199599LL, 10800, 1},   /* 2030-10-26T01:59:59+03:00 */
    {"EET-2EEST,M3.4.4/50,M10.4.4/50", 1919199600LL, 7200, 0},    /* 2030-10-26T01:00:00+02:00 */
    /* Lord Howe's 30-minute DST, explicit DST offset */
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1901717999LL, 39600, 1}, /* 2030-04-07T01:59:59+11:00 */
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1901718000LL, 37800, 0}, /* 2030-04-07T01:30:00+10:30 */
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1917444599LL, 37800, 0}, /* 2030-10-06T01:59:59+10:30 */
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1917444600LL, 39600, 1}, /* 2030-10-06T02:30:00+11:00 */
    /* version 3: DST all year (starts Jan 1 00:00, ends Dec 31 at 24:00 + 1 h) */
    {"EST5EDT,0/0,J365/25", 1893474000LL, -14400, 1}, /* 2030-01-01T01:00:00-04:00 */
    {"EST5EDT,0/0,J365/25", 1900000000LL, -14400, 1},
    {"EST5EDT,0/0,J365/25", 1925009999LL, -14400, 1}, /* 2031-01-01T00:59:59-04:00 */
};

START_TEST(footer_rules) {
  const struct footer_case *c = &footer_cases[_i];
  tzif_spec s = {.version = 3, .ntypes = 1, .off = {0}, .footer = c->footer};
  tz_zone *z = must_parse(&s);
  int dst;
  ck_assert_msg(offset_at(z, c->t, &dst) == c->offset, "%s at %lld: offset %d, want %d", c->footer,
                (long long)c->t, offset_at(z, c->t, NULL), c->offset);
  ck_assert_int_eq(dst, c->is_dst);
  tz_free(z);
}
END_TEST

static const char *const bad_footers[] = {
    "CET",                           /* no offset */
    "CE-1",                          /* designation of two letters */
    "<+1>-1",                        /* quoted designation of two characters */
    "<+0545-5:45",                   /* unterminated */
    "CET-25",                        /* offset hours past 24 */
    "CET-1:60",                      /* minutes past 59 */
    "CET-1CEST,M13.1.0,M10.5.0",     /* month 13 */
    "CET-1CEST,M3.6.0,M10.5.0",      /* week 6 */
    "CET-1CEST,M3.5.7,M10.5.0",      /* weekday 7 */
    "CET-1CEST,J0,J300",             /* J counts from 1 */
    "CET-1CEST,366,300",             /* n ends at 365 */
    "CET-1CEST,M3.5.0/168,M10.5.0",  /* rule time past 167 hours */
    "CET-1CEST,M3.5.0",              /* no end */
    "CET-1CEST,M3.5.0,M10.5.0/3 ",   /* trailing junk */
    "CET-1CEST,M3.5.0,M10.5.0,M1.1.0",
    "CET-1CEST-2-3",
};

START_TEST(footer_malformed) {
  tzif_spec s = {.version = 2, .ntypes = 1, .off = {0}, .footer = bad_footers[_i]};
  unsigned char buf[1024];
  size_t len = build_tzif(&s, buf);
  tz_zone *z = (tz_zone *)&z;
  char err[256] = "";
  ck_assert_int_eq(tz__parse_tzif("Test/Zone", buf, len, &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(z);
  ck_assert_str_eq(err, "time zone \"Test/Zone\": malformed TZif data (bad TZ string in footer)");
}
END_TEST

/* Corruptions of a valid version 2 file and the message each gets. */
enum corruption {
  TRUNCATE_HEADER,
  TRUNCATE_V1,
  TRUNCATE_V2,
  BAD_MAGIC,
  BAD_VERSION,
  NO_V2_HEADER,
  ZERO_TYPES,
  NO_CHARS,
  BAD_INDEX,
  NOT_ASCENDING,
  BAD_OFFSET,
  BAD_DST,
  NO_FOOTER,
  UNTERMINATED_FOOTER,
  LEAP_SECONDS,
  HUGE_COUNT,
};

static const struct malformed_case {
  enum corruption what;
  const char *message;
} malformed_cases[] = {
    {TRUNCATE_HEADER, "unknown time zone \"Test/Zone\""},
    {TRUNCATE_V1, "time zone \"Test/Zone\": malformed TZif data (truncated)"},
    {TRUNCATE_V2, "time zone \"Test/Zone\": malformed TZif data (truncated)"},
    {BAD_MAGIC, "unknown time zone \"Test/Zone\""},
    {BAD_VERSION, "time zone \"Test/Zone\": malformed TZif data (unsupported version)"},
    {NO_V2_HEADER, "time zone \"Test/Zone\": malformed TZif data (missing version 2 header)"},
    {ZERO_TYPES, "time zone \"Test/Zone\": malformed TZif data (bad number of local time types)"},
    {NO_CHARS, "time zone \"Test/Zone\": malformed TZif data (no time zone designations)"},
    {BAD_INDEX, "time zone \"Test/Zone\": malformed TZif data (transition names an unknown local time type)"},
    {NOT_ASCENDING, "time zone \"Test/Zone\": malformed TZif data (transition times not ascending)"},
    {BAD_OFFSET, "time zone \"Test/Zone\": malformed TZif data (UT offset out of range)"},
    {BAD_DST, "time zone \"Test/Zone\": malformed TZif data (bad DST indicator)"},
    {NO_FOOTER, "time zone \"Test/Zone\": malformed TZif data (missing footer)"},
    {UNTERMINATED_FOOTER, "time zone \"Test/Zone\": malformed TZif data (missing footer)"},
    {LEAP_SECONDS, "time zone \"Test/Zone\" counts leap seconds (not supported)"},
    {HUGE_COUNT, "time zone \"Test/Zone\": malformed TZif data (truncated)"},
};

START_TEST(tzif_malformed) {
  const struct malformed_case *c = &malformed_cases[_i];
  tzif_spec s = {.version = 2, .ntrans = 2, .trans = {1000, 2000}, .idx = {1, 0}, .ntypes = 2,
                 .off = {3600, 7200}, .dst = {0, 1}, .footer = "CET-1CEST,M3.5.0,M10.5.0/3"};
  unsigned char buf[1024];
  /* offsets in the file: the stub v1 block is 44 + 6 + 4 bytes long */
  const size_t v2 = 54, v2data = v2 + 44;
  switch (c->what) {
    case NOT_ASCENDING: s.trans[1] = 1000; break;
    case BAD_INDEX: s.idx[0] = 2; break;
    case BAD_OFFSET: s.off[1] = 26 * 3600; break;
    case BAD_DST: s.dst[1] = 2; break;
    case NO_FOOTER: s.footer = NULL; break;
    case LEAP_SECONDS: s.leapcnt = 1; break;
    default: break;
  }
  size_t len = build_tzif(&s, buf);
  switch (c->what) {
    case TRUNCATE_HEADER: len = 43; break;
    case TRUNCATE_V1: len = 50; break;
    case TRUNCATE_V2: len = v2data + 10; break;
    case BAD_MAGIC: buf[0] = 'X'; break;
    case BAD_VERSION: buf[4] = '9'; break;
    case NO_V2_HEADER: buf[v2] = 'X'; break;
    case ZERO_TYPES: put32(buf + v2 + 36, 0); break;
    case NO_CHARS: put32(buf + v2 + 40, 0); break;
    case UNTERMINATED_FOOTER: len--; break;
    case HUGE_COUNT: put32(buf + v2 + 32, 0xffffffffu); break;
    default: break;
  }
  tz_zone *z = (tz_zone *)&z;
  char err[256] = "";
  ck_assert_int_eq(tz__parse_tzif("Test/Zone", buf, len, &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(z);
  ck_assert_str_eq(err, c->message);
}
END_TEST

/* ---- allocation failure ---- */

/* Results other than success and CUBIT_ENOMEM seen while allocations
 * failed: a failed allocation must not pass for a bad zone. */
static int torture_odd_results;

static int load_zone(void *arg) {
  tz_zone *z = NULL;
  char err[256];
  int rc = tz_load((const char *)arg, &z, err, sizeof(err));
  if (rc == 0) {
    /* a loaded zone is whole: Berlin and New York keep DST in July 2025 */
    tz_local l;
    tz_to_local(z, 1752580800LL, &l);
    if (l.is_dst != (strcmp(arg, "UTC") != 0)) rc = 99;
  }
  if (rc != 0 && rc != CUBIT_ENOMEM) torture_odd_results++;
  tz_free(z);
  return rc;
}

START_TEST(allocation_failure) {
  static const char *zones[] = {"Europe/Berlin", "America/New_York", "UTC"};
  for (int i = 0; i < N(zones); i++) {
    torture_odd_results = 0;
    int points = testutil_alloc_torture(load_zone, (void *)zones[i]);
    ck_assert_int_ne(points, 0);
    ck_assert_int_eq(torture_odd_results, 0);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("tz");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, load_names, 0, N(good_names));
  tcase_add_loop_test(tc, reject_names, 0, N(bad_names));
  tcase_add_test(tc, long_names);
  tcase_add_loop_test(tc, to_local, 0, N(local_cases));
  tcase_add_test(tc, null_zone_is_utc);
  tcase_add_loop_test(tc, from_local, 0, N(from_cases));
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, version1_file);
  tcase_add_test(tc, version2_uses_64bit_block);
  tcase_add_test(tc, footer_after_last_transition);
  tcase_add_loop_test(tc, footer_rules, 0, N(footer_cases));
  tcase_add_loop_test(tc, footer_malformed, 0, N(bad_footers));
  tcase_add_loop_test(tc, tzif_malformed, 0, N(malformed_cases));
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
