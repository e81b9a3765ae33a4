#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/buf.h"

START_TEST(append_and_cap) {
  cubit_buf b;
  buf_init(&b, 8);
  ck_assert_int_eq(buf_appends(&b, "abcd"), 0);
  ck_assert_int_eq(buf_appendf(&b, "%d", 123), 0);
  ck_assert_str_eq(b.data, "abcd123");
  ck_assert_int_eq(buf_appends(&b, "xy"), CUBIT_ETOOBIG);
  ck_assert_str_eq(b.data, "abcd123"); /* unchanged by the failed append */
  ck_assert_int_eq(buf_appends(&b, "x"), 0);
  ck_assert_uint_eq(b.len, 8);
  buf_consume(&b, 3);
  ck_assert_str_eq(b.data, "d123x");
  buf_consume(&b, 100);
  ck_assert_uint_eq(b.len, 0);
  buf_free(&b);
}
END_TEST

START_TEST(appendf_large) {
  cubit_buf b;
  buf_init(&b, 1 << 20);
  char big[1000];
  memset(big, 'z', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(buf_appendf(&b, "<%s>", big), 0);
  ck_assert_uint_eq(b.len, 1001);
  char *s = buf_detach(&b);
  ck_assert_int_eq(s[0], '<');
  ck_assert_ptr_null(b.data);
  free(s);
}
END_TEST

static int build_string(void *arg) {
  (void)arg;
  cubit_buf b;
  buf_init(&b, 4096);
  int err = 0;
  for (int i = 0; i < 100 && !err; i++) err = buf_appendf(&b, "line %d\n", i);
  buf_free(&b);
  return err;
}

START_TEST(allocation_failure) {
  int points = testutil_alloc_torture(build_string, NULL);
  ck_assert_int_ne(points, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("buf");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, append_and_cap);
  tcase_add_test(tc, appendf_large);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
