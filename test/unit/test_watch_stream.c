#include <stdlib.h>
#include <string.h>

#include "kube/watch.h"
#include "testutil.h"

typedef struct lines {
  char got[64][128];
  int n;
} lines;

static int collect(const char *line, size_t len, void *arg) {
  lines *l = arg;
  ck_assert_int_lt(l->n, 64);
  ck_assert_uint_lt(len, 128);
  memcpy(l->got[l->n], line, len);
  l->got[l->n][len] = '\0';
  l->n++;
  return 0;
}

static const char *stream =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n"
    "\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"c\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n";

/* Every way of cutting the stream into two and three chunks gives the same
 * four lines. */
START_TEST(any_chunk_boundaries) {
  size_t len = strlen(stream);
  for (size_t i = 0; i <= len; i++) {
    for (size_t j = i; j <= len; j += 7) {
      cubit_buf pending;
      buf_init(&pending, 1024);
      lines l = {.n = 0};
      ck_assert_int_eq(kube_stream_feed(&pending, stream, i, collect, &l), 0);
      ck_assert_int_eq(kube_stream_feed(&pending, stream + i, j - i, collect, &l), 0);
      ck_assert_int_eq(kube_stream_feed(&pending, stream + j, len - j, collect, &l), 0);
      ck_assert_int_eq(l.n, 4);
      ck_assert_uint_eq(pending.len, 0);
      ck_assert_ptr_nonnull(strstr(l.got[0], "\"ADDED\""));
      ck_assert_ptr_nonnull(strstr(l.got[2], "\"DELETED\""));
      ck_assert_ptr_nonnull(strstr(l.got[3], "\"BOOKMARK\""));
      buf_free(&pending);
    }
  }
}
END_TEST

START_TEST(byte_at_a_time) {
  cubit_buf pending;
  buf_init(&pending, 1024);
  lines l = {.n = 0};
  for (const char *p = stream; *p; p++) ck_assert_int_eq(kube_stream_feed(&pending, p, 1, collect, &l), 0);
  ck_assert_int_eq(l.n, 4);
  buf_free(&pending);
}
END_TEST

START_TEST(partial_line_kept) {
  cubit_buf pending;
  buf_init(&pending, 1024);
  lines l = {.n = 0};
  const char *first = "{\"a\":1}\n{\"b\"";
  ck_assert_int_eq(kube_stream_feed(&pending, first, strlen(first), collect, &l), 0);
  ck_assert_int_eq(l.n, 1);
  ck_assert_str_eq(pending.data, "{\"b\"");
  ck_assert_int_eq(kube_stream_feed(&pending, ":2}\n", 4, collect, &l), 0);
  ck_assert_int_eq(l.n, 2);
  ck_assert_str_eq(l.got[1], "{\"b\":2}");
  buf_free(&pending);
}
END_TEST

START_TEST(line_over_cap) {
  cubit_buf pending;
  buf_init(&pending, 8);
  lines l = {.n = 0};
  ck_assert_int_eq(kube_stream_feed(&pending, "0123456789", 10, collect, &l), CUBIT_ETOOBIG);
  buf_free(&pending);
}
END_TEST

/* Issue 13: a line that arrived whole in one chunk skipped the cap. The
 * cap holds however the line is cut: whole, with its newline in the next
 * chunk, or byte by byte; a line of exactly the cap passes. */
START_TEST(line_over_cap_in_one_chunk) {
  static const struct {
    const char *data;
    int rc;
    int lines;
  } cases[] = {
      {"0123456789\n", CUBIT_ETOOBIG, 0},
      {"ab\n0123456789\ncd\n", CUBIT_ETOOBIG, 1},
      {"01234567\n", 0, 1},
      {"01234567\n012345678\n", CUBIT_ETOOBIG, 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len = strlen(cases[i].data);
    /* one chunk, then every split into two chunks, then byte by byte */
    for (size_t cut = 0; cut <= len + 1; cut++) {
      cubit_buf pending;
      buf_init(&pending, 8);
      lines l = {.n = 0};
      int rc;
      if (cut == 0) {
        rc = kube_stream_feed(&pending, cases[i].data, len, collect, &l);
      } else if (cut <= len) {
        rc = kube_stream_feed(&pending, cases[i].data, cut, collect, &l);
        if (rc == 0) rc = kube_stream_feed(&pending, cases[i].data + cut, len - cut, collect, &l);
      } else {
        rc = 0;
        for (size_t k = 0; k < len && rc == 0; k++) rc = kube_stream_feed(&pending, cases[i].data + k, 1, collect, &l);
      }
      ck_assert_msg(rc == cases[i].rc, "case %zu cut %zu: rc %d", i, cut, rc);
      ck_assert_msg(l.n == cases[i].lines, "case %zu cut %zu: %d lines", i, cut, l.n);
      for (int k = 0; k < l.n; k++) ck_assert_uint_le(strlen(l.got[k]), 8);
      buf_free(&pending);
    }
  }
}
END_TEST

static int stop_at_second(const char *line, size_t len, void *arg) {
  int *n = arg;
  return ++*n == 2 ? CUBIT_EINVAL : 0;
}

START_TEST(callback_error_stops) {
  cubit_buf pending;
  buf_init(&pending, 1024);
  int n = 0;
  ck_assert_int_eq(kube_stream_feed(&pending, stream, strlen(stream), stop_at_second, &n), CUBIT_EINVAL);
  ck_assert_int_eq(n, 2);
  buf_free(&pending);
}
END_TEST

/* Counts lines without Check's assertions, which allocate. */
static int count_lines(const char *line, size_t len, void *arg) {
  (*(int *)arg)++;
  return 0;
}

static int feed_in_pieces(void *arg) {
  cubit_buf pending;
  buf_init(&pending, 1024);
  int n = 0;
  int rc = 0;
  for (size_t off = 0, len = strlen(stream); off < len && rc == 0; off += 5)
    rc = kube_stream_feed(&pending, stream + off, len - off < 5 ? len - off : 5, count_lines, &n);
  buf_free(&pending);
  return rc;
}

START_TEST(allocation_failure) {
  ck_assert_int_ne(testutil_alloc_torture(feed_in_pieces, NULL), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("watch_stream");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, any_chunk_boundaries);
  tcase_add_test(tc, byte_at_a_time);
  tcase_add_test(tc, partial_line_kept);
  tcase_add_test(tc, line_over_cap);
  tcase_add_test(tc, line_over_cap_in_one_chunk);
  tcase_add_test(tc, callback_error_stops);
  tcase_add_test(tc, allocation_failure);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
