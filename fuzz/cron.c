/* pkg/util/cron. Input: "SPEC\nREST": a schedule, then bytes that pick the
 * zone and the instants to start from.
 *
 * Properties:
 *   - an invalid schedule is CUBIT_EINVAL with a message and no result;
 *   - t = cron_next(after) is a whole minute after 'after', and the first
 *     tick after t-1 is t again (ticks depend on the schedule and zone only);
 *   - cron_ticks over (after, after + 8 days] lists strictly increasing
 *     ticks, each the cron_next of the one before. */
#include "fuzz.h"
#include "util/cron.h"

/* UTC and zones with DST gaps and overlaps, a 30-minute DST and a
 * quarter-hour offset. */
static const char *const zone_names[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                         "Asia/Kathmandu"};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))
static tz_zone *zones[NZONES]; /* loaded once; immutable */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  for (size_t i = 0; i < NZONES; i++) {
    char err[256];
    if (tz_load(zone_names[i], &zones[i], err, sizeof(err)) != 0) {
      fprintf(stderr, "fuzz cron: %s\n", err);
      abort();
    }
  }
  return 0;
}

/* 1970 .. 2100: the instants a controller asks about. */
#define SPAN 4102444800LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *spec = fuzz_cstr(data, size);
  char *rest = fuzz_split_line(spec);
  cron_expr *c = NULL;
  char err[256] = "";
  int rc = cron_parse(spec, &c, err, sizeof(err));
  if (rc) {
    FUZZ_ASSERT(rc == CUBIT_EINVAL && c == NULL && err[0], "cron_parse returned %d (%s)", rc, err);
    free(spec);
    return 0;
  }
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (const char *p = rest; p && *p; p++) seed = seed * 31 + (unsigned char)*p;
  const tz_zone *z = zones[seed % NZONES];
  for (int round = 0; round < 3; round++) {
    int64_t after = (int64_t)(fuzz_next(&seed) % (uint64_t)SPAN);
    if (round == 0) after -= after % 60; /* a whole minute: the tick itself is not "after" */
    int64_t t = cron_next(c, z, after);
    if (t == -1) continue;
    FUZZ_ASSERT(t > after && t % 60 == 0, "%s in %s: next after %lld is %lld", spec, tz_name(z), (long long)after,
                (long long)t);
    int64_t again = cron_next(c, z, t - 1);
    FUZZ_ASSERT(again == t, "%s in %s: next after %lld is %lld, but after %lld it is %lld", spec, tz_name(z),
                (long long)after, (long long)t, (long long)(t - 1), (long long)again);

    int64_t ticks[16];
    int n = cron_ticks(c, z, after, after + 8 * 86400, ticks, 16);
    FUZZ_ASSERT(n >= 0 && n <= 16, "cron_ticks returned %d", n);
    int64_t prev = after;
    for (int i = 0; i < n; i++) {
      int64_t want = cron_next(c, z, prev);
      FUZZ_ASSERT(ticks[i] == want && ticks[i] <= after + 8 * 86400, "%s in %s: tick %d of (%lld, +8d] is %lld, "
                  "cron_next says %lld", spec, tz_name(z), i, (long long)after, (long long)ticks[i], (long long)want);
      prev = ticks[i];
    }
    if (n < 16) {
      int64_t next = cron_next(c, z, prev);
      FUZZ_ASSERT(next == -1 || next > after + 8 * 86400, "%s in %s: cron_ticks missed %lld", spec, tz_name(z),
                  (long long)next);
    }
  }
  cron_free(c);
  free(spec);
  return 0;
}
