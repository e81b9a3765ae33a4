/* pkg/util/tz: the POSIX TZ rules of a TZif footer ("CET-1CEST,M3.5.0,
 * M10.5.0/3"), which decide every instant after a zone's last transition.
 * Input: the rule (first line); the target wraps it in a version 3 image
 * without transitions.
 *
 * Properties: a malformed rule is CUBIT_EINVAL naming the zone; for an
 * accepted one, local times are in range and tz_from_local(tz_to_local(t))
 * gives t back among at most two instants that all have t's wall time, for
 * instants from 1900 to 2200 and around the offset changes of one year. */
#include "tz_check.h"
#include "util/tz_internal.h"

static unsigned char *put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
  return p + 4;
}

/* A header and a data block with no transitions and one type (UTC, "UTC"). */
static unsigned char *put_utc_block(unsigned char *p) {
  memcpy(p, "TZif3", 5);
  memset(p + 5, 0, 15);
  p = put32(p + 20, 0); /* isutcnt */
  p = put32(p, 0);      /* isstdcnt */
  p = put32(p, 0);      /* leapcnt */
  p = put32(p, 0);      /* timecnt */
  p = put32(p, 1);      /* typecnt */
  p = put32(p, 4);      /* charcnt */
  p = put32(p, 0);      /* utoff */
  *p++ = 0;             /* isdst */
  *p++ = 0;             /* desigidx */
  memcpy(p, "UTC", 4);
  return p + 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t rule_len = nl ? (size_t)(nl - data) : size;
  size_t cap = 2 * 64 + rule_len + 2;
  unsigned char *image = malloc(cap);
  if (image == NULL) abort();
  unsigned char *p = put_utc_block(image);
  p = put_utc_block(p);
  *p++ = '\n';
  memcpy(p, data, rule_len);
  p += rule_len;
  *p++ = '\n';

  tz_zone *z = NULL;
  char err[256] = "";
  int rc = tz__parse_tzif("Fuzz/Rule", image, (size_t)(p - image), &z, err, sizeof(err));
  free(image);
  if (rc) {
    FUZZ_ASSERT((rc == CUBIT_EINVAL || rc == CUBIT_ENOMEM) && z == NULL, "tz__parse_tzif returned %d", rc);
    FUZZ_ASSERT(strstr(err, "Fuzz/Rule") != NULL, "the error does not name the zone: %s", err);
    return 0;
  }
  uint64_t seed = 0x13198a2e03707344ULL;
  for (size_t i = 0; i < size; i++) seed = seed * 31 + data[i];
  /* 1900-01-01 .. 2200-01-01 */
  const int64_t from = -2208988800LL, span = 7258118400LL - -2208988800LL;
  for (int i = 0; i < 4; i++) tz_check_instant(z, from + (int64_t)(fuzz_next(&seed) % (uint64_t)span), 1);
  tz_check_changes(z, from + (int64_t)(fuzz_next(&seed) % (uint64_t)span), 1);
  tz_free(z);
  return 0;
}
