/* Time zones from the tz database: TZif parsing, POSIX footers, offsets,
 * local times, wall times that happen twice or never, names that must not
 * escape the database, and allocation failure. Historical instants only
 * where the system's tzdata is read, so a future tzdata cannot break them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/tz.h"

/* 2024-03-31T01:00:00Z: Europe's clocks went forward. */
#define EU_SPRING_2024 1711846800LL
/* 2024-11-03T06:00:00Z: New York's clocks went back (02:00 EDT -> 01:00 EST). */
#define US_FALL_2024 1730613600LL

static tz_zone *load(const char *name) {
  tz_zone *z = NULL;
  char err[256] = "";
  int rc = tz_load(NULL, name, &z, err, sizeof(err));
  ck_assert_msg(rc == 0, "tz_load(%s): %s", name, err);
  return z;
}

typedef struct offset_case {
  const char *zone;
  int64_t utc;
  int32_t offset;
  int is_dst;
  const char *abbr;
} offset_case;

static const offset_case offsets[] = {
    {"Europe/Berlin", 1705320000LL, 3600, 0, "CET"},                 /* 2024-01-15T12:00Z */
    {"Europe/Berlin", 1719835200LL, 7200, 1, "CEST"},                /* 2024-07-01T12:00Z */
    {"Europe/Berlin", EU_SPRING_2024 - 1, 3600, 0, "CET"},
    {"Europe/Berlin", EU_SPRING_2024, 7200, 1, "CEST"},
    {"America/New_York", US_FALL_2024 - 1, -14400, 1, "EDT"},
    {"America/New_York", US_FALL_2024, -18000, 0, "EST"},
    {"Asia/Shanghai", 1719835200LL, 28800, 0, "CST"},
    {"Asia/Kolkata", 1719835200LL, 19800, 0, "IST"},
    {"Australia/Sydney", 1705320000LL, 39600, 1, "AEDT"},            /* southern summer */
    {"Australia/Sydney", 1719835200LL, 36000, 0, "AEST"},
    {"UTC", 1719835200LL, 0, 0, "UTC"},
};

START_TEST(offsets_of_zones) {
  const offset_case *c = &offsets[_i];
  tz_zone *z = load(c->zone);
  tz_time lt;
  tz_local(z, c->utc, &lt);
  ck_assert_msg(lt.utc_offset == c->offset, "%s at %lld: offset %d, want %d", c->zone, (long long)c->utc,
                lt.utc_offset, c->offset);
  ck_assert_int_eq(tz_offset(z, c->utc), c->offset);
  ck_assert_int_eq(lt.is_dst, c->is_dst);
  ck_assert_str_eq(lt.abbr, c->abbr);
  ck_assert_str_eq(tz_name(z), c->zone);
  tz_free(z);
}
END_TEST

START_TEST(local_time_fields) {
  tz_zone *z = load("Asia/Shanghai");
  tz_time lt;
  tz_local(z, 1719849600LL, &lt); /* 2024-07-01T16:00:00Z = 2024-07-02 00:00 in Shanghai */
  ck_assert_int_eq(lt.year, 2024);
  ck_assert_int_eq(lt.month, 7);
  ck_assert_int_eq(lt.day, 2);
  ck_assert_int_eq(lt.hour, 0);
  ck_assert_int_eq(lt.minute, 0);
  ck_assert_int_eq(lt.weekday, 2); /* a Tuesday */
  tz_free(z);
}
END_TEST

START_TEST(wall_time_once_twice_never) {
  int64_t a = 0, b = 0;
  tz_zone *ny = load("America/New_York");
  /* 01:30 on 2024-11-03 happens in EDT, then again in EST. */
  ck_assert_int_eq(tz_utc_of_local(ny, 2024, 11, 3, 1, 30, 0, &a, &b), 2);
  ck_assert_int_eq(a, US_FALL_2024 - 1800);
  ck_assert_int_eq(b, US_FALL_2024 + 1800);
  ck_assert_int_eq(tz_utc_of_local(ny, 2024, 7, 4, 9, 0, 0, &a, &b), 1);
  ck_assert_int_eq(a, 1720098000LL); /* 13:00Z */
  tz_free(ny);
  tz_zone *berlin = load("Europe/Berlin");
  /* 02:30 on 2024-03-31 never happens in Berlin: the jump is the answer. */
  ck_assert_int_eq(tz_utc_of_local(berlin, 2024, 3, 31, 2, 30, 0, &a, &b), 0);
  ck_assert_int_eq(a, EU_SPRING_2024);
  /* Normalised like timegm: 24:00 is the next day's midnight. */
  ck_assert_int_eq(tz_utc_of_local(berlin, 2024, 1, 14, 24, 0, 0, &a, &b), 1);
  ck_assert_int_eq(a, 1705273200LL); /* 2024-01-14T23:00Z */
  tz_free(berlin);
}
END_TEST

typedef struct posix_case {
  const char *rule;
  int64_t utc;
  int32_t offset;
} posix_case;

static const posix_case posix_cases[] = {
    {"UTC0", 0, 0},
    {"<+0530>-5:30", 1719835200LL, 19800},
    {"CET-1CEST,M3.5.0,M10.5.0/3", EU_SPRING_2024 - 1, 3600},
    {"CET-1CEST,M3.5.0,M10.5.0/3", EU_SPRING_2024, 7200},
    {"CET-1CEST,M3.5.0,M10.5.0/3", 4118047200LL, 7200},           /* 2100-07-01 */
    {"EST5EDT", US_FALL_2024 - 1, -14400},                         /* the default rule */
    {"EST5EDT", US_FALL_2024, -18000},
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1705320000LL, 39600},          /* southern summer */
    {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1719835200LL, 36000},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1719835200LL, -7200},     /* RFC 8536 negative times */
    {"XYZ-2ABC,J60/0,300", 1709251200LL, 10800},                   /* 2024-03-01: Julian day 60 */
};

START_TEST(posix_rules) {
  const posix_case *c = &posix_cases[_i];
  tz_zone *z = NULL;
  char err[128];
  ck_assert_int_eq(tz_parse_posix(c->rule, &z, err, sizeof(err)), 0);
  ck_assert_msg(tz_offset(z, c->utc) == c->offset, "%s at %lld: %d, want %d", c->rule, (long long)c->utc,
                tz_offset(z, c->utc), c->offset);
  tz_free(z);
}
END_TEST

START_TEST(posix_rules_refused) {
  static const char *bad[] = {"", "X1", "CET", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
                              "CET-25", "CET-1CEST,M3.6.0,M10.5.0", "<+05>-5:60", "CET-1CEST,J0,J365"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tz_zone *z = (tz_zone *)1;
    char err[128] = "";
    ck_assert_msg(tz_parse_posix(bad[i], &z, err, sizeof(err)) == CUBIT_EINVAL, "accepted \"%s\"", bad[i]);
    ck_assert_ptr_null(z);
    ck_assert(strstr(err, "POSIX") != NULL);
  }
}
END_TEST

START_TEST(names_stay_in_the_database) {
  static const char *bad[] = {"", "/etc/passwd", "../../etc/passwd", "Europe/../../../etc/passwd",
                              "Europe//Berlin", ".hidden", "Europe/Berlin/", "Europe/Ber lin"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tz_zone *z = NULL;
    char err[256] = "";
    ck_assert_int_eq(tz_load(NULL, bad[i], &z, err, sizeof(err)), CUBIT_EINVAL);
    ck_assert_msg(strstr(err, "invalid time zone name") != NULL, "%s: %s", bad[i], err);
  }
  tz_zone *z = NULL;
  char err[256] = "";
  ck_assert_int_eq(tz_load(NULL, "Mars/Olympus_Mons", &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "unknown time zone \"Mars/Olympus_Mons\" (not in the tz database)");
  ck_assert_int_eq(tz_load(NULL, "Europe", &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert(strstr(err, "unknown time zone \"Europe\"") != NULL);
}
END_TEST

/* A database directory of our own: UTC works without a file, and TZif
 * files we write are read from it. */
static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* A version-2 TZif with no transitions, one type and a footer. */
static size_t make_tzif(unsigned char *buf, int32_t utoff, const char *abbr, const char *footer) {
  size_t n = 0, charcnt = strlen(abbr) + 1;
  for (int block = 0; block < 2; block++) {
    memset(buf + n, 0, 44);
    memcpy(buf + n, "TZif2", 5);
    put_be32(buf + n + 20 + 4 * 4, 1);                /* typecnt */
    put_be32(buf + n + 20 + 5 * 4, (uint32_t)charcnt); /* charcnt */
    n += 44;
    put_be32(buf + n, (uint32_t)utoff);
    buf[n + 4] = 0;
    buf[n + 5] = 0;
    n += 6;
    memcpy(buf + n, abbr, charcnt);
    n += charcnt;
  }
  buf[n++] = '\n';
  memcpy(buf + n, footer, strlen(footer));
  n += strlen(footer);
  buf[n++] = '\n';
  return n;
}

START_TEST(own_database_and_footers) {
  char *dir = testutil_tmpdir();
  tz_zone *z = NULL;
  char err[256] = "";
  ck_assert_int_eq(tz_load(dir, "UTC", &z, err, sizeof(err)), 0);
  ck_assert_int_eq(tz_offset(z, 1719835200LL), 0);
  tz_free(z);
  ck_assert_int_eq(tz_load(dir, "Europe/Berlin", &z, err, sizeof(err)), CUBIT_EINVAL);

  unsigned char buf[512];
  size_t n = make_tzif(buf, 3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3");
  ck_assert_int_eq(tz_parse(buf, n, &z, err, sizeof(err)), 0);
  ck_assert_int_eq(tz_offset(z, EU_SPRING_2024), 7200); /* from the footer */
  tz_time lt;
  tz_local(z, EU_SPRING_2024, &lt);
  ck_assert_str_eq(lt.abbr, "CEST");
  tz_free(z);

  n = make_tzif(buf, 3600, "CET", "CET-1CEST,M3.5.0");
  ck_assert_int_eq(tz_parse(buf, n, &z, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "the TZif footer is not a POSIX TZ rule");
  free(dir);
}
END_TEST

/* Every prefix of a real file is refused cleanly (ASan watches the reads). */
START_TEST(truncated_files) {
  char path[512];
  snprintf(path, sizeof(path), "%s/America/New_York", getenv("TZDIR") ? getenv("TZDIR") : TZ_DEFAULT_DIR);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char *data = malloc(1 << 16);
  size_t len = fread(data, 1, 1 << 16, f);
  fclose(f);
  ck_assert_uint_gt(len, 100);
  tz_zone *z = NULL;
  char err[256];
  ck_assert_int_eq(tz_parse(data, len, &z, err, sizeof(err)), 0);
  tz_free(z);
  /* Cut within the data blocks: never accepted. The footer's final newline
   * is what a cut there loses, so stop before it. */
  for (size_t cut = 0; cut + 40 < len; cut += 7) {
    unsigned char *copy = malloc(cut ? cut : 1);
    memcpy(copy, data, cut);
    int rc = tz_parse(copy, cut, &z, err, sizeof(err));
    ck_assert_msg(rc == CUBIT_EINVAL, "a file cut at %zu bytes was accepted", cut);
    free(copy);
  }
  free(data);
}
END_TEST

static int load_berlin(void *arg) {
  (void)arg;
  tz_zone *z = NULL;
  int rc = tz_load(NULL, "Europe/Berlin", &z, NULL, 0);
  if (rc == 0) {
    rc = tz_offset(z, EU_SPRING_2024) == 7200 ? 0 : -100;
    tz_free(z);
  }
  return rc;
}

static int parse_rule(void *arg) {
  tz_zone *z = NULL;
  int rc = tz_parse_posix(arg, &z, NULL, 0);
  tz_free(z);
  return rc;
}

START_TEST(allocation_failure) {
  int points = testutil_alloc_torture(load_berlin, NULL);
  ck_assert_int_ne(points, 0);
  points = testutil_alloc_torture(parse_rule, "CET-1CEST,M3.5.0,M10.5.0/3");
  ck_assert_int_ne(points, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("tz");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, offsets_of_zones, 0, sizeof(offsets) / sizeof(offsets[0]));
  tcase_add_test(tc, local_time_fields);
  tcase_add_test(tc, wall_time_once_twice_never);
  tcase_add_loop_test(tc, posix_rules, 0, sizeof(posix_cases) / sizeof(posix_cases[0]));
  tcase_add_test(tc, posix_rules_refused);
  tcase_add_test(tc, names_stay_in_the_database);
  tcase_add_test(tc, own_database_and_footers);
  tcase_add_test(tc, truncated_files);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
