#include <string.h>

#include "runtime/events.h"
#include "testutil.h"

/* The aggregation decision: the same series counts up on one Event name,
 * a different series gets its own Event. */
START_TEST(repeats_count_on_one_event) {
  rt_recorder *r = rt_recorder_new(NULL, "cubit-manager");
  const char *name1, *name2, *name3;
  ck_assert_uint_eq(rt__event_observe(r, "uid1|Warning|Failed|boom", "nb1", 0x100, &name1), 1);
  char first[128];
  strcpy(first, name1);
  ck_assert_str_eq(first, "nb1.100");
  ck_assert_uint_eq(rt__event_observe(r, "uid1|Warning|Failed|boom", "nb1", 0x200, &name2), 2);
  ck_assert_str_eq(name2, first);
  ck_assert_uint_eq(rt__event_observe(r, "uid1|Warning|Failed|boom", "nb1", 0x300, &name2), 3);
  ck_assert_uint_eq(rt__event_observe(r, "uid1|Normal|Started|ok", "nb1", 0x400, &name3), 1);
  ck_assert_str_eq(name3, "nb1.400");
  rt__event_forget(r, "uid1|Warning|Failed|boom");
  ck_assert_uint_eq(rt__event_observe(r, "uid1|Warning|Failed|boom", "nb1", 0x500, &name1), 1);
  ck_assert_str_eq(name1, "nb1.500");
  rt_recorder_free(r);
}
END_TEST

/* Beyond the bound the oldest series are forgotten, the newest kept. */
START_TEST(bounded_memory) {
  rt_recorder *r = rt_recorder_new(NULL, "cubit-manager");
  const char *name;
  char key[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof(key), "series-%d", i);
    rt__event_observe(r, key, "o", i + 1, &name);
  }
  ck_assert_uint_eq(rt__event_observe(r, "series-9999", "o", 20000, &name), 2);
  ck_assert_uint_eq(rt__event_observe(r, "series-0", "o", 20001, &name), 1);
  rt_recorder_free(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("events");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, repeats_count_on_one_event);
  tcase_add_test(tc, bounded_memory);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
