/* Tests of util/cron: parsing (valid and invalid, with exact messages), the
 * next tick in UTC and in zones with daylight saving time, and tick windows.
 *
 * Expected ticks were computed by a brute force independent of this code:
 * stepping through every minute as unix time, converting with CPython's
 * zoneinfo, and keeping the minutes whose local time matches and is the
 * first occurrence of that wall time (fold 0).
 *
 * On daylight saving time, a fact about robfig/cron v3 (what Kubernetes'
 * CronJob uses), from its own spec_test.go TestNext, America/New_York:
 *   - spring forward, 2012-03-11: "0 0 * * * ?" goes 01:00 EST -> 03:00 EDT,
 *     and "2am nightly job (skipped)": "0 0 2 * * ?" fires next on 03-12.
 *     Cubit does the same: a wall time in the gap does not happen.
 *   - fall back, 2012-11-04: "hourly job" goes 01:00 EDT -> 01:00 EST ->
 *     02:00 EST, "1am nightly job (runs twice)" fires at 01:00 EDT and again
 *     at 01:00 EST, and "30 1" from 01:45 EDT fires at 01:30 EST.
 *     Cubit does not: a repeated wall time fires once, at its first
 *     occurrence (util/cron.h), so an hourly schedule fires for each wall
 *     hour once (the repeated 01:00 once) and a daily one once a day. The
 *     robfig_fall_back test shows both behaviours side by side. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "util/cron.h"
#include "util/tz.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static cron_expr *must_parse(const char *spec) {
  cron_expr *c = NULL;
  char err[256] = "";
  int rc = cron_parse(spec, &c, err, sizeof(err));
  ck_assert_msg(rc == 0, "cron_parse(\"%s\"): %d %s", spec, rc, err);
  ck_assert_ptr_nonnull(c);
  return c;
}

static tz_zone *must_load(const char *name) {
  tz_zone *z = NULL;
  char err[256] = "";
  ck_assert_msg(tz_load(name, &z, err, sizeof(err)) == 0, "tz_load(%s): %s", name, err);
  return z;
}

/* ---- invalid specs ---- */

static const struct bad_case {
  const char *spec;
  const char *message;
} bad_cases[] = {
    {"", "empty schedule"},
    {" \t ", "empty schedule"},
    {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
    {"0 * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"},
    {"61 * * * *", "minute field \"61\": value out of range 0-59"},
    {"* 24 * * *", "hour field \"24\": value out of range 0-23"},
    {"* * 0 * *", "day-of-month field \"0\": value out of range 1-31"},
    {"* * 32 * *", "day-of-month field \"32\": value out of range 1-31"},
    {"* * * 0 *", "month field \"0\": value out of range 1-12"},
    {"* * * 13 *", "month field \"13\": value out of range 1-12"},
    {"* * * * 8", "day-of-week field \"8\": value out of range 0-7"},
    {"* * * * 7-8", "day-of-week field \"7-8\": value out of range 0-7"},
    {"1,61 * * * *", "minute field \"1,61\": value out of range 0-59"},
    {"99999999999999999999 * * * *", "minute field \"99999999999999999999\": value out of range 0-59"},
    {"*/0 * * * *", "minute field \"*/0\": step must be a positive number"},
    {"*/ * * * *", "minute field \"*/\": step must be a positive number"},
    {"*/x * * * *", "minute field \"*/x\": step must be a positive number"},
    {"1/-2 * * * *", "minute field \"1/-2\": step must be a positive number"},
    {"5-3 * * * *", "minute field \"5-3\": range start 5 is after its end 3"},
    {"* * * * FRI-MON", "day-of-week field \"FRI-MON\": range start 5 is after its end 1"},
    {"* * * DEC-JAN *", "month field \"DEC-JAN\": range start 12 is after its end 1"},
    {"1,,2 * * * *", "minute field \"1,,2\": empty list element"},
    {"1, * * * *", "minute field \"1,\": empty list element"},
    {",1 * * * *", "minute field \",1\": empty list element"},
    {"? * * * *", "minute field \"?\": '?' is allowed only in day-of-month and day-of-week"},
    {"* * * ? *", "month field \"?\": '?' is allowed only in day-of-month and day-of-week"},
    {"* * * JANUARY *", "month field \"JANUARY\": unknown month name \"JANUARY\""},
    {"* * * FOO *", "month field \"FOO\": unknown month name \"FOO\""},
    {"* * * * MONDAY", "day-of-week field \"MONDAY\": unknown day name \"MONDAY\""},
    {"* * * * JAN", "day-of-week field \"JAN\": unknown day name \"JAN\""},
    {"MON * * * *", "minute field \"MON\": not a number"},
    {"L * * * *", "minute field \"L\": not a number"},
    {"1-2-3 * * * *", "minute field \"1-2-3\": unexpected \"-3\""},
    {"1/2/3 * * * *", "minute field \"1/2/3\": unexpected \"/3\""},
    {"** * * * *", "minute field \"**\": unexpected \"*\""},
    {"* * * * 1#2", "day-of-week field \"1#2\": unexpected \"#2\""},
    {"1- * * * *", "minute field \"1-\": missing value"},
    {"-1 * * * *", "minute field \"-1\": missing value"},
    {"* * * * 5-\"x", "day-of-week field \"5-?x\": missing value"},
    {"@reboot", "unknown macro \"@reboot\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"},
    {"@every 1h",
     "unknown macro \"@every 1h\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"},
    {"@Daily", "unknown macro \"@Daily\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"},
    {"@daily 5",
     "unknown macro \"@daily 5\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"},
    {"TZ=Europe/Berlin 0 * * * *",
     "a time zone prefix (TZ=...) is not supported in the schedule; give the zone separately"},
    {"CRON_TZ=UTC 0 * * * *",
     "a time zone prefix (TZ=...) is not supported in the schedule; give the zone separately"},
};

START_TEST(parse_invalid) {
  const struct bad_case *c = &bad_cases[_i];
  cron_expr *e = (cron_expr *)&e; /* must be reset */
  char err[256] = "";
  ck_assert_int_eq(cron_parse(c->spec, &e, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(e);
  ck_assert_str_eq(err, c->message);
}
END_TEST

START_TEST(parse_invalid_without_message) {
  cron_expr *e;
  ck_assert_int_eq(cron_parse("61 * * * *", &e, NULL, 0), CUBIT_EINVAL);
  ck_assert_int_eq(cron_parse(NULL, &e, NULL, 0), CUBIT_EINVAL);
  char small[8];
  ck_assert_int_eq(cron_parse("61 * * * *", &e, small, sizeof(small)), CUBIT_EINVAL);
  ck_assert_str_eq(small, "minute "); /* truncated, terminated */
}
END_TEST

/* ---- equivalent spellings ---- */

static const struct same_case {
  const char *a, *b;
} same_cases[] = {
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
    {"  @hourly\t", "0 * * * *"},
    {"0 0 * * 7", "0 0 * * 0"},
    {"0 0 * * SUN", "0 0 * * 0"},
    {"0 0 * * sun", "0 0 * * 7"},
    {"0 0 * * MON-FRI", "0 0 * * 1-5"},
    {"0 0 * * Mon-Fri", "0 0 * * 1,2,3,4,5"},
    {"0 0 * * 5-7", "0 0 * * FRI,SAT,SUN"},
    {"0 0 * * *", "0 0 * * 0-7"},
    {"0 0 * JAN,MAR *", "0 0 * 1,3 *"},
    {"0 0 * jan-jun/2 *", "0 0 * 1,3,5 *"},
    {"0 0 ? * MON", "0 0 * * 1"},
    {"0 0 1 * ?", "0 0 1 * *"},
    {"*/15 * * * *", "0,15,30,45 * * * *"},
    {"0/15 * * * *", "0,15,30,45 * * * *"},
    {"5/15 * * * *", "5-59/15 * * * *"},
    {"1-5/2 * * * *", "1,3,5 * * * *"},
    {"*/1 * * * *", "* * * * *"},
    {"*/60 * * * *", "0 * * * *"},
    {"0 */7 * * *", "0 0,7,14,21 * * *"},
    {"00 08 * * *", "0 8 * * *"},
    {"0\t0  *   *\t*", "0 0 * * *"},
    {"0 0 1-31 * *", "0 0 * * *"},
};

/* Two specs mean the same when they tick alike over a year (in a zone with
 * DST, starting on a Monday). */
START_TEST(parse_equivalent) {
  const struct same_case *c = &same_cases[_i];
  cron_expr *a = must_parse(c->a), *b = must_parse(c->b);
  tz_zone *z = must_load("Europe/Berlin");
  int64_t t = 1735516800LL; /* 2024-12-30 */
  for (int i = 0; i < 400; i++) {
    int64_t ta = cron_next(a, z, t), tb = cron_next(b, z, t);
    ck_assert_msg(ta == tb, "\"%s\" and \"%s\" differ after %lld: %lld vs %lld", c->a, c->b, (long long)t,
                  (long long)ta, (long long)tb);
    ck_assert_int_gt(ta, t);
    t = ta;
  }
  tz_free(z);
  cron_free(a);
  cron_free(b);
}
END_TEST

/* ---- the next tick ---- */

static const struct next_case {
  const char *zone, *spec;
  int64_t after, next;
} next_cases[] = {
    /* robfig/cron's TestNext cases, in five fields */
    {"UTC", "*/15 * * * *", 1341845100LL, 1341846000LL},       /* 2012-07-09T14:45 -> 15:00 */
    {"UTC", "*/15 * * * *", 1341845999LL, 1341846000LL},       /* 14:59:59 -> 15:00 */
    {"UTC", "20-35/15 * * * *", 1341848700LL, 1341850800LL},   /* 15:45 -> 16:20 */
    {"UTC", "*/15 * * * *", 1341877560LL, 1341878400LL},       /* 23:46 -> 07-10T00:00 */
    {"UTC", "0 0 9 APR-OCT ?", 1341876900LL, 1344470400LL},    /* 2012-07-09T23:35 -> 08-09 */
    {"UTC", "0 0 * FEB MON", 1341876900LL, 1359936000LL},      /* -> 2013-02-04 */
    {"UTC", "0 0 * FEB MON/2", 1341876900LL, 1359676800LL},    /* Mon, Wed, Fri -> 2013-02-01 */
    /* Vixie's day rule: both day fields restricted, either may match ... */
    {"UTC", "0 0 1,15 * SUN", 1341876900LL, 1342310400LL},     /* -> Sun 07-15 */
    {"UTC", "0 0 1,15 * SUN", 1342310400LL, 1342915200LL},     /* -> Sun 07-22 */
    {"UTC", "0 0 */5 APR,AUG,OCT MON", 1341876900LL, 1343779200LL}, /* -> Wed 08-01 (day 1) */
    {"UTC", "0 0 */10 * SUN", 1342310400LL, 1342828800LL},     /* "*" with a step restricts: -> Sat 07-21 */
    /* ... one unrestricted ('*' or '?'), both must */
    {"UTC", "0 0 1,15 * *", 1342310400LL, 1343779200LL},       /* -> 08-01 */
    {"UTC", "0 0 * * MON", 1341876900LL, 1342396800LL},        /* -> Mon 07-16 */
    {"UTC", "0 0 ? * SUN", 1342310400LL, 1342915200LL},        /* -> 07-22 */
    {"UTC", "0 0 30 2 MON", 1740787200LL, 1769990400LL},       /* 2025-03-01 -> Mon 2026-02-02 */
    /* macros */
    {"UTC", "@yearly", 1748779200LL, 1767225600LL},            /* 2025-06-01T12:00 -> 2026-01-01 */
    {"UTC", "@annually", 1748779200LL, 1767225600LL},
    {"UTC", "@monthly", 1748779200LL, 1751328000LL},           /* -> 07-01 */
    {"UTC", "@weekly", 1748779200LL, 1749340800LL},            /* -> Sun 06-08 */
    {"UTC", "@daily", 1748779200LL, 1748822400LL},             /* -> 06-02 */
    {"UTC", "@midnight", 1748779200LL, 1748822400LL},
    {"UTC", "@hourly", 1748779200LL, 1748782800LL},            /* -> 13:00 */
    /* fields */
    {"UTC", "59 23 31 12 *", 1767225540LL, 1798761540LL},      /* 2025-12-31T23:59 -> 2026-12-31T23:59 */
    {"UTC", "* * * * *", 1767225570LL, 1767225600LL},          /* 23:59:30 -> 2026-01-01T00:00 */
    {"UTC", "0 12 * * 7", 1748822400LL, 1749384000LL},         /* Mon 2025-06-02 -> Sun 06-08T12:00 */
    {"UTC", "0 9-17/2 * * MON-FRI", 1749231000LL, 1749459600LL}, /* Fri 17:30 -> Mon 09:00 */
    {"UTC", "0 9-17/2 * * mon-fri", 1749231000LL, 1749459600LL},
    {"UTC", "5 4 * JAN,MAR *", 1738368000LL, 1740801900LL},    /* 2025-02-01 -> 03-01T04:05 */
    {"UTC", "0 0 * * 5-7", 1748736000LL, 1749168000LL},        /* Sun 06-01 00:00 -> Fri 06-06 */
    {"UTC", "*/20 1-5/2 * * *", 1748736000LL, 1748739600LL},   /* -> 01:00 */
    {"UTC", "10/25 * * * *", 1748736000LL, 1748736600LL},      /* -> 00:10 */
    {"UTC", "0 22/3 * * *", 1748736000LL, 1748815200LL},       /* -> 22:00 */
    {"UTC", "0 0 1 1 *", -1000000000LL, -978307200LL},         /* 1938-04-24 -> 1939-01-01 */
    {"UTC", "0 0 1 * *", 7258118400LL, 7260796800LL},          /* 2200-01-01 -> 2200-02-01 */
    /* leap days: 2100 is not a leap year */
    {"UTC", "0 0 29 2 *", 1735689600LL, 1835395200LL},         /* 2025-01-01 -> 2028-02-29 */
    {"UTC", "0 0 29 2 *", 4083955200LL, 4233686400LL},         /* 2099-06-01 -> 2104-02-29 */
    {"UTC", "0 0 29 2 *", 3981398400LL, -1LL},                 /* 2096-03-01: 2104 is past 5 years */
    /* impossible */
    {"UTC", "0 0 30 2 *", 1748736000LL, -1LL},
    {"UTC", "0 0 31 2 ?", 1748736000LL, -1LL},
    {"UTC", "0 0 31 4,6,9,11 *", 1748736000LL, -1LL},
    {"Europe/Berlin", "0 0 30 2 *", 1748736000LL, -1LL},
    /* Berlin: 02:30 does not happen on 2025-03-30, happens twice on 10-26 */
    {"Europe/Berlin", "30 2 * * *", 1743211800LL, 1743381000LL}, /* 03-29T02:30+01 -> 03-31T02:30+02 */
    {"Europe/Berlin", "30 2 * * *", 1761352200LL, 1761438600LL}, /* 10-25T02:30+02 -> 10-26T02:30+02 */
    {"Europe/Berlin", "30 2 * * *", 1761438600LL, 1761528600LL}, /* 10-26T02:30+02 -> 10-27T02:30+01 */
    {"Europe/Berlin", "30 2 * * *", 1761441000LL, 1761528600LL}, /* 10-26T02:10+01 (2nd pass) -> 10-27 */
    /* Berlin past the last transition in the file (2037): footer rules */
    {"Europe/Berlin", "30 2 * * *", 4109794200LL, 4109963400LL},   /* 2100-03-27T02:30+01 -> 03-29T02:30+02 */
    {"Europe/Berlin", "30 2 * * *", 4128625800LL, 4128715800LL},   /* 2100-10-31T02:30+02 -> 11-01T02:30+01 */
    {"Europe/Berlin", "0 12 * * *", 10429419600LL, 10429466400LL}, /* 2300-06-30T23:00+02 -> 07-01T12:00+02 */
    /* New York: 01:30 twice on 2025-11-02, fires at the EDT one only */
    {"America/New_York", "30 1 * * *", 1761975000LL, 1762061400LL},   /* 11-01T01:30-04 -> 11-02T01:30-04 */
    {"America/New_York", "30 1 * * *", 1762061400LL, 1762151400LL},   /* 11-02T01:30-04 -> 11-03T01:30-05 */
    {"America/New_York", "30 1 * * *", 1762063200LL, 1762151400LL},   /* 11-02T01:00-05 -> 11-03T01:30-05 */
    {"America/New_York", "*/15 * * * *", 1762063800LL, 1762066800LL}, /* 01:10-05 -> 02:00-05 */
    {"America/New_York", "*/15 * * * *", 1762062600LL, 1762066800LL}, /* 01:50-04 -> 02:00-05 */
    {"America/New_York", "30 2 * * *", 1741419000LL, 1741588200LL},   /* 03-08T02:30-05 -> 03-10T02:30-04 */
    {"America/New_York", "*/15 * * * *", 1741503000LL, 1741503600LL}, /* 03-09T01:50-05 -> 03:00-04 */
    {"America/New_York", "30 1 * * *", 5706567000LL, 5706657000LL},   /* 2150-11-01T01:30-04 -> 11-02T01:30-05 */
    /* Lord Howe: a 30-minute gap (02:00-02:30) and overlap (01:30-02:00) */
    {"Australia/Lord_Howe", "15 2 * * *", 1759506300LL, 1759677300LL},   /* 10-04T02:15 -> 10-06T02:15+11 */
    {"Australia/Lord_Howe", "*/20 * * * *", 1759591200LL, 1759592400LL}, /* 10-05T01:50 -> 02:40+11 */
    {"Australia/Lord_Howe", "45 1 * * *", 1743777900LL, 1743864300LL},   /* 04-05T01:45 -> 04-06T01:45+11 */
    {"Australia/Lord_Howe", "45 1 * * *", 1743864300LL, 1743952500LL},   /* 04-06T01:45+11 -> 04-07T01:45+10:30 */
    {"Australia/Lord_Howe", "*/30 * * * *", 1743863400LL, 1743867000LL}, /* 04-06T01:30+11 -> 02:00+10:30 */
    {"Australia/Lord_Howe", "*/30 * * * *", 1743865200LL, 1743867000LL}, /* 01:30+10:30 (2nd) -> 02:00 */
    {"Australia/Lord_Howe", "*/30 * * * *", 2863870140LL, 2863870200LL}, /* 2060-10-02T01:59 -> 02:00+10:30 */
    /* Kathmandu, +5:45 (and its 15-minute gap of 1986) */
    {"Asia/Kathmandu", "0 9 * * *", 1748715300LL, 1748747700LL},     /* 09:00+05:45 is 03:15Z */
    {"Asia/Kathmandu", "*/5 * * * *", 504901740LL, 504901800LL},     /* 1985-12-31T23:59+05:30 -> 00:15+05:45 */
    {"Asia/Kathmandu", "0 9 * * *", 10413771300LL, 10413803700LL},   /* 2300 */
    /* Sydney: the southern hemisphere springs forward in October */
    {"Australia/Sydney", "30 2 * * *", 1759509000LL, 1759678200LL}, /* 10-04T02:30+10 -> 10-06T02:30+11 */
    {"Australia/Sydney", "30 2 * * *", 1743780600LL, 1743867000LL}, /* 04-05T02:30+11 -> 04-06T02:30+11 */
    {"Australia/Sydney", "30 2 * * *", 1743867000LL, 1743957000LL}, /* 04-06T02:30+11 -> 04-07T02:30+10 */
    {"Australia/Sydney", "0 2 * * *", 3479634000LL, 3479641200LL},  /* 2080-04-07: 02:00+11, the first */
    /* Samoa skipped 2011-12-30 */
    {"Pacific/Apia", "0 12 * * *", 1325196000LL, 1325282400LL}, /* 12-29T12:00-10 -> 12-31T12:00+14 */
    /* Nuuk's footer moves at -1:00 (Saturday 23:00 local): 23:30 is skipped */
    {"America/Nuuk", "30 23 * * *", 3794088600LL, 3794257800LL}, /* 2090-03-24T23:30-02 -> 03-26T23:30-01 */
    /* robfig/cron's spring-forward cases, same results */
    {"America/New_York", "0 * * * *", 1331442000LL, 1331445600LL}, /* 2012-03-11T00:00-05 -> 01:00-05 */
    {"America/New_York", "0 * * * *", 1331445600LL, 1331449200LL}, /* 01:00-05 -> 03:00-04 */
    {"America/New_York", "0 2 * * *", 1331442000LL, 1331532000LL}, /* -> 03-12T02:00-04 */
    {"America/New_York", "30 2 4 11 *", 1352001600LL, 1352014200LL}, /* 2012-11-04T00:00-04 -> 02:30-05 */
};

START_TEST(next_tick) {
  const struct next_case *c = &next_cases[_i];
  tz_zone *z = must_load(c->zone);
  cron_expr *e = must_parse(c->spec);
  int64_t got = cron_next(e, z, c->after);
  ck_assert_msg(got == c->next, "%s \"%s\" after %lld: %lld, want %lld", c->zone, c->spec, (long long)c->after,
                (long long)got, (long long)c->next);
  cron_free(e);
  tz_free(z);
}
END_TEST

START_TEST(null_zone_is_utc) {
  cron_expr *e = must_parse("0 9 * * *");
  ck_assert_int_eq(cron_next(e, NULL, 1748736000LL), 1748768400LL); /* 2025-06-01T09:00Z */
  cron_free(e);
}
END_TEST

START_TEST(out_of_range_instants) {
  cron_expr *e = must_parse("* * * * *");
  ck_assert_int_eq(cron_next(e, NULL, INT64_MAX), -1);
  ck_assert_int_eq(cron_next(e, NULL, INT64_MIN), -1);
  int64_t out[4];
  ck_assert_int_eq(cron_ticks(e, NULL, INT64_MAX - 10, INT64_MAX, out, 4), 0);
  cron_free(e);
}
END_TEST

/* robfig/cron v3 against Cubit on New York's fall back, 2012-11-04 (see the
 * comment at the top): robfig fires hourly at 01:00 EDT (05:00Z), 01:00 EST
 * (06:00Z), 02:00 EST (07:00Z); Cubit skips the repeated 01:00. */
START_TEST(robfig_fall_back) {
  tz_zone *z = must_load("America/New_York");
  cron_expr *hourly = must_parse("0 * * * *"), *nightly = must_parse("0 1 * * *");
  int64_t out[8];
  int n = cron_ticks(hourly, z, 1352001600LL /* 00:00 EDT */, 1352016000LL /* 03:00 EST */, out, 8);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(out[0], 1352005200LL); /* 01:00 EDT */
  ck_assert_int_eq(out[1], 1352012400LL); /* 02:00 EST, not 01:00 EST (1352008800) */
  ck_assert_int_eq(out[2], 1352016000LL); /* 03:00 EST */
  n = cron_ticks(nightly, z, 1352001600LL, 1352001600LL + 2 * 86400, out, 8);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(out[0], 1352005200LL); /* 11-04 01:00 EDT */
  ck_assert_int_eq(out[1], 1352095200LL); /* 11-05 01:00 EST, the next day: not twice on 11-04 */
  cron_free(hourly);
  cron_free(nightly);
  tz_free(z);
}
END_TEST

/* ---- windows ---- */

static const struct window_case {
  const char *zone, *spec;
  int64_t from, to;
  int max, n;
  int64_t ticks[8];
} window_cases[] = {
    /* six hours after 2025-06-01T00:00Z: six hourly ticks, the start excluded, the end included */
    {"UTC", "0 * * * *", 1748736000LL, 1748757600LL, 8, 6,
     {1748739600LL, 1748743200LL, 1748746800LL, 1748750400LL, 1748754000LL, 1748757600LL}},
    {"UTC", "@hourly", 1748736000LL - 1, 1748757600LL - 1, 8, 6,
     {1748736000LL, 1748739600LL, 1748743200LL, 1748746800LL, 1748750400LL, 1748754000LL}},
    {"UTC", "0 * * * *", 1748736000LL, 1748757600LL, 3, 3, {1748739600LL, 1748743200LL, 1748746800LL}},
    {"UTC", "0 * * * *", 1748736000LL, 1748736000LL, 8, 0, {0}},
    {"UTC", "0 * * * *", 1748736000LL - 1, 1748736000LL, 8, 1, {1748736000LL}},
    {"UTC", "0 * * * *", 1748736000LL, 1748739599LL, 8, 0, {0}},
    {"UTC", "0 * * * *", 1748757600LL, 1748736000LL, 8, 0, {0}}, /* from after to */
    {"UTC", "0 * * * *", 1748736000LL, 1748757600LL, 0, 0, {0}},
    {"UTC", "0 0 30 2 *", 1748736000LL, 1748736000LL + 10 * 366 * 86400LL, 8, 0, {0}},
    /* New York spring forward 2025-03-09, 05:00Z-11:00Z: six real hours, six
     * wall hours (01, 03, 04, 05, 06, 07: 02:00 does not exist) */
    {"America/New_York", "0 * * * *", 1741496400LL, 1741518000LL, 8, 6,
     {1741500000LL, 1741503600LL, 1741507200LL, 1741510800LL, 1741514400LL, 1741518000LL}},
    /* New York fall back 2025-11-02, 04:00Z-10:00Z: six real hours, five
     * wall hours (01 EDT, 02, 03, 04, 05 EST: the repeated 01:00 once) */
    {"America/New_York", "0 * * * *", 1762056000LL, 1762077600LL, 8, 5,
     {1762059600LL, 1762066800LL, 1762070400LL, 1762074000LL, 1762077600LL}},
    /* Berlin fall back 2025-10-26, 22:00Z-04:00Z: 01, 02 CEST, 03, 04, 05 CET */
    {"Europe/Berlin", "0 * * * *", 1761429600LL, 1761451200LL, 8, 5,
     {1761433200LL, 1761436800LL, 1761444000LL, 1761447600LL, 1761451200LL}},
    /* Berlin spring forward 2025-03-30, 23:00Z-05:00Z: 01 CET, 03, 04, 05, 06, 07 CEST */
    {"Europe/Berlin", "0 * * * *", 1743289200LL, 1743310800LL, 8, 6,
     {1743292800LL, 1743296400LL, 1743300000LL, 1743303600LL, 1743307200LL, 1743310800LL}},
    /* Lord Howe 2025-04-06: 01:30 twice (+11, then +10:30); "30 *" fires at the first */
    {"Australia/Lord_Howe", "30 * * * *", 1743856200LL, 1743872400LL, 8, 4,
     {1743859800LL, 1743863400LL, 1743868800LL, 1743872400LL}}, /* 00:30, 01:30 +11, 02:30, 03:30 +10:30 */
    /* Sydney spring forward 2025-10-05, 14:00Z-20:00Z: 01 AEST, 03..07 AEDT */
    {"Australia/Sydney", "0 * * * *", 1759586400LL, 1759608000LL, 8, 6,
     {1759590000LL, 1759593600LL, 1759597200LL, 1759600800LL, 1759604400LL, 1759608000LL}},
};

START_TEST(ticks_window) {
  const struct window_case *c = &window_cases[_i];
  tz_zone *z = must_load(c->zone);
  cron_expr *e = must_parse(c->spec);
  int64_t out[8];
  int n = cron_ticks(e, z, c->from, c->to, out, c->max);
  ck_assert_msg(n == c->n, "%s \"%s\" (%lld, %lld]: %d ticks, want %d", c->zone, c->spec, (long long)c->from,
                (long long)c->to, n, c->n);
  for (int i = 0; i < n; i++)
    ck_assert_msg(out[i] == c->ticks[i], "tick %d: %lld, want %lld", i, (long long)out[i], (long long)c->ticks[i]);
  cron_free(e);
  tz_free(z);
}
END_TEST

/* Over a year of a dense schedule in each zone: ticks ascend, each one's
 * local time matches the schedule, and each is its wall time's first
 * occurrence; and every matching wall minute of the year that exists is a
 * tick, found by cron_ticks and cron_next alike. */
START_TEST(ticks_are_first_occurrences) {
  static const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
                                "Australia/Sydney"};
  static int64_t out[20000];
  cron_expr *e = must_parse("*/30 0-3 * * *");
  for (int zi = 0; zi < N(zones); zi++) {
    tz_zone *z = must_load(zones[zi]);
    const int64_t from = 1735689600LL, to = from + 365 * 86400LL; /* 2025 */
    int n = cron_ticks(e, z, from, to, out, N(out));
    int expected = 0;
    for (int64_t day = from - 86400; day < to + 86400; day += 86400) {
      tz_local d;
      tz_to_local(z, day, &d);
      for (int h = 0; h < 4; h++)
        for (int m = 0; m < 60; m += 30) {
          int64_t at[2];
          if (tz_from_local(z, d.year, d.month, d.day, h, m, 0, at) > 0 && at[0] > from && at[0] <= to) expected++;
        }
    }
    ck_assert_int_eq(n, expected);
    int64_t prev = from;
    for (int i = 0; i < n; i++) {
      ck_assert_int_gt(out[i], prev);
      ck_assert_int_eq(cron_next(e, z, prev), out[i]);
      tz_local l;
      tz_to_local(z, out[i], &l);
      ck_assert(l.hour <= 3 && l.minute % 30 == 0 && l.second == 0);
      int64_t at[2];
      ck_assert_int_ge(tz_from_local(z, l.year, l.month, l.day, l.hour, l.minute, 0, at), 1);
      ck_assert_int_eq(at[0], out[i]);
      prev = out[i];
    }
    tz_free(z);
  }
  cron_free(e);
}
END_TEST

/* ---- allocation failure ---- */

static int parse_spec(void *arg) {
  cron_expr *e = NULL;
  char err[128];
  int rc = cron_parse((const char *)arg, &e, err, sizeof(err));
  if (rc == 0 && cron_next(e, NULL, 0) != 900) rc = 99; /* every 15 minutes: 00:15 on 1970-01-01 */
  cron_free(e);
  return rc;
}

START_TEST(allocation_failure) {
  int points = testutil_alloc_torture(parse_spec, "*/15 * * * *");
  ck_assert_int_ne(points, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cron");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, parse_invalid, 0, N(bad_cases));
  tcase_add_test(tc, parse_invalid_without_message);
  tcase_add_loop_test(tc, parse_equivalent, 0, N(same_cases));
  tcase_add_loop_test(tc, next_tick, 0, N(next_cases));
  tcase_add_test(tc, null_zone_is_utc);
  tcase_add_test(tc, out_of_range_instants);
  tcase_add_test(tc, robfig_fall_back);
  tcase_add_loop_test(tc, ticks_window, 0, N(window_cases));
  tcase_add_test(tc, ticks_are_first_occurrences);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
