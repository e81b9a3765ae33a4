#include "testutil.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/time.h"

/* The allocation interposer: the test executable's malloc family wraps
 * glibc's, so calls from libyaml, jansson and libcurl are counted and can be
 * failed too. Sanitizers and valgrind replace malloc themselves, so there the
 * interposer is left out and the torture pass reports -1. */
#if !defined(CUBIT_SANITIZE)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_int torture_on;
static atomic_long torture_countdown; /* fail when it reaches 0 */
static atomic_long torture_allocs, torture_frees, torture_failed;

static int inject(void) {
  if (!atomic_load(&torture_on)) return 0;
  if (atomic_fetch_sub(&torture_countdown, 1) == 1) {
    atomic_fetch_add(&torture_failed, 1);
    return 1;
  }
  return 0;
}

void *malloc(size_t n) {
  if (inject()) return NULL;
  void *p = __libc_malloc(n);
  if (p && atomic_load(&torture_on)) atomic_fetch_add(&torture_allocs, 1);
  return p;
}

void *calloc(size_t c, size_t n) {
  if (inject()) return NULL;
  void *p = __libc_calloc(c, n);
  if (p && atomic_load(&torture_on)) atomic_fetch_add(&torture_allocs, 1);
  return p;
}

void *realloc(void *old, size_t n) {
  if (old == NULL) return malloc(n);
  if (n == 0) {
    free(old);
    return NULL;
  }
  if (inject()) return NULL;
  return __libc_realloc(old, n);
}

void free(void *p) {
  if (p && atomic_load(&torture_on)) atomic_fetch_add(&torture_frees, 1);
  __libc_free(p);
}

static int can_inject(void) {
  return getenv("CUBIT_UNDER_VALGRIND") == NULL;
}
#else
static atomic_int torture_on;
static atomic_long torture_countdown, torture_allocs, torture_frees, torture_failed;
static int can_inject(void) {
  return 0;
}
#endif

int testutil_alloc_torture(int (*fn)(void *arg), void *arg) {
  int baseline = fn(arg);
  if (!can_inject()) return -1;
  for (long point = 1;; point++) {
    atomic_store(&torture_allocs, 0);
    atomic_store(&torture_frees, 0);
    atomic_store(&torture_failed, 0);
    atomic_store(&torture_countdown, point);
    atomic_store(&torture_on, 1);
    int rc = fn(arg);
    atomic_store(&torture_on, 0);
    long allocs = atomic_load(&torture_allocs), frees = atomic_load(&torture_frees);
    ck_assert_msg(allocs == frees, "allocation failure at point %ld leaked: %ld allocations, %ld frees",
                  point, allocs, frees);
    if (atomic_load(&torture_failed) == 0) {
      ck_assert_msg(rc == baseline, "run without failure returned %d, expected %d", rc, baseline);
      return (int)(point - 1);
    }
  }
}

char *testutil_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char *tmpl = xasprintf("%s/cubit-test-XXXXXX", base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpl));
  return tmpl;
}

char *testutil_write_file(const char *dir, const char *name, const char *content) {
  char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(content, f);
  fclose(f);
  return path;
}

char *testutil_src_path(const char *rel) {
  const char *src = getenv("CUBIT_TEST_SRCDIR");
  return xasprintf("%s/%s", src ? src : ".", rel);
}

char *testutil_read_src(const char *rel, size_t *len) {
  char *path = testutil_src_path(rel);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = xmalloc((size_t)n + 1);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  free(path);
  *len = (size_t)n;
  return buf;
}

int testutil_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

json_t *testutil_json(const char *text) {
  char *copy = xstrdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '\'') *p = '"';
  json_error_t err;
  json_t *v = json_loads(copy, JSON_DECODE_ANY, &err);
  ck_assert_msg(v != NULL, "fixture %s: %s", copy, err.text);
  free(copy);
  return v;
}

int64_t testutil_time(const char *rfc3339) {
  int64_t t;
  ck_assert_msg(time_parse_rfc3339(rfc3339, &t) == 0, "time %s", rfc3339);
  return t;
}
