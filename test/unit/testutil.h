/* Helpers shared by the Check suites. */
#ifndef CUBIT_TESTUTIL_H
#define CUBIT_TESTUTIL_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation-failure pass (curl's torture tests). Calls fn(arg) once
 * normally to learn its result, then again and again with the 1st, 2nd, 3rd
 * ... allocation failing, until a run makes no allocation that was failed.
 * fn must free everything it produced before returning, and must not call
 * Check's ck_* macros (they allocate, and would be failed too). Fails the current
 * test when a run leaks (allocations != frees), or when the run without an
 * injected failure returns something other than the baseline. Returns the
 * number of failure points exercised, or -1 when the build cannot inject
 * failures (under AddressSanitizer or valgrind, which own malloc). */
int testutil_alloc_torture(int (*fn)(void *arg), void *arg);

/* Creates a fresh directory under $TMPDIR; the caller frees the path.
 * testutil_write_file writes 'content' to dir/name and returns the path
 * (caller frees). */
char *testutil_tmpdir(void);
char *testutil_write_file(const char *dir, const char *name, const char *content);
/* Path of a file in the source tree (CUBIT_TEST_SRCDIR); caller frees. */
char *testutil_src_path(const char *rel);
/* Whole contents of a file in the source tree, NUL-terminated; its length in
 * *len. Fails the current test when it cannot be read; caller frees. */
char *testutil_read_src(const char *rel, size_t *len);

/* Runs a suite and returns the process exit code. */
int testutil_run(Suite *s);

/* JSON written with single quotes for readable fixtures ('a' reads as "a");
 * any JSON value. Fails the current test when it does not parse. Caller
 * owns the result. */
json_t *testutil_json(const char *text);
/* An RFC 3339 time as epoch seconds; fails the current test when it does
 * not parse. */
int64_t testutil_time(const char *rfc3339);

#endif
