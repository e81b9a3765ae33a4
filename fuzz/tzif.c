/* pkg/util/tz: whole TZif images (transitions, types, leap seconds, the
 * footer's POSIX TZ rule). Input: the image.
 *
 * Properties: a malformed image is CUBIT_EINVAL with a message naming the
 * zone; for an accepted one, every instant's local time has fields in
 * range and tz_from_local of it gives only instants with that wall time
 * (see tz_check.h). Completeness is not asserted: a fuzzed zone may change
 * its offset many times a day, so one wall time may occur three times. */
#include "tz_check.h"
#include "util/tz_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tz_zone *z = NULL;
  char err[256] = "";
  int rc = tz__parse_tzif("Fuzz/Zone", data, size, &z, err, sizeof(err));
  if (rc) {
    FUZZ_ASSERT((rc == CUBIT_EINVAL || rc == CUBIT_ENOMEM) && z == NULL, "tz__parse_tzif returned %d", rc);
    FUZZ_ASSERT(strstr(err, "Fuzz/Zone") != NULL, "the error does not name the zone: %s", err);
    return 0;
  }
  uint64_t seed = 0x243f6a8885a308d3ULL;
  for (size_t i = 0; i < size; i += 7) seed = seed * 31 + data[i];
  /* around the epoch, now, 2100 and one instant anywhere in +-2^40 s */
  static const int64_t anchors[] = {-2208988800LL, 0, 1735689600LL, 4102444800LL};
  for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++)
    tz_check_instant(z, anchors[i] + (int64_t)(fuzz_next(&seed) % 63072000) - 31536000, 0);
  tz_check_instant(z, (int64_t)(fuzz_next(&seed) % (1ULL << 41)) - (1LL << 40), 0);
  tz_check_changes(z, anchors[fuzz_next(&seed) % 4], 0);
  tz_free(z);
  return 0;
}
