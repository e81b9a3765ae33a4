/* pkg/kube/watch.c: the splitter that cuts a watch body into event lines.
 * Input: the body; its bytes also decide how it is cut into chunks.
 *
 * Properties: whole, byte by byte, or in chunks of any sizes, the body
 * gives the same lines and the same result, and both match a plain
 * reading of it: every complete non-empty line in order, and CUBIT_ETOOBIG
 * at the first line (complete or not) longer than the cap, with no line
 * longer than the cap ever handed on (issue 13). */
#include "fuzz.h"
#include "kube/watch.h"

#define CAP 64

typedef struct lines {
  cubit_buf all; /* every line, each followed by '\n' */
  size_t n;
} lines;

static int collect(const char *line, size_t len, void *arg) {
  lines *l = arg;
  FUZZ_ASSERT(len > 0 && len <= CAP, "a line of %zu bytes handed on (cap %d)", len, CAP);
  FUZZ_ASSERT(memchr(line, '\n', len) == NULL, "a line with a newline in it");
  if (buf_append(&l->all, line, len) || buf_append(&l->all, "\n", 1)) abort();
  l->n++;
  return 0;
}

/* Feeds data in chunks whose sizes come from 'seed' (0: whole; 1: byte by
 * byte); returns the first non-zero result. */
static int feed(const uint8_t *data, size_t size, uint64_t seed, lines *out) {
  cubit_buf pending;
  buf_init(&pending, CAP);
  buf_init(&out->all, (size_t)1 << 30);
  out->n = 0;
  int rc = 0;
  for (size_t off = 0; off < size && rc == 0;) {
    size_t take = seed == 0 ? size : seed == 1 ? 1 : 1 + (size_t)(fuzz_next(&seed) % (2 * CAP));
    if (take > size - off) take = size - off;
    rc = kube_stream_feed(&pending, (const char *)data + off, take, collect, out);
    off += take;
  }
  buf_free(&pending);
  return rc;
}

/* The same, read plainly. */
static int expected(const uint8_t *data, size_t size, lines *out) {
  buf_init(&out->all, (size_t)1 << 30);
  out->n = 0;
  size_t start = 0;
  for (size_t i = 0; i < size; i++) {
    if (data[i] != '\n') {
      if (i - start + 1 > CAP) return CUBIT_ETOOBIG;
      continue;
    }
    if (i > start) {
      if (buf_append(&out->all, data + start, i - start) || buf_append(&out->all, "\n", 1)) abort();
      out->n++;
    }
    start = i + 1;
  }
  return 0;
}

static void compare(const lines *want, int want_rc, const lines *got, int got_rc, const char *how) {
  FUZZ_ASSERT(got_rc == want_rc, "%s: result %d, want %d", how, got_rc, want_rc);
  FUZZ_ASSERT(got->n == want->n && got->all.len == want->all.len &&
                  (got->all.len == 0 || memcmp(got->all.data, want->all.data, got->all.len) == 0),
              "%s: %zu lines, want %zu", how, got->n, want->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lines want, got;
  int want_rc = expected(data, size, &want);
  uint64_t seeds[4] = {0, 1, 0x9e3779b97f4a7c15ULL, 0};
  for (size_t i = 0; i < size && i < 8; i++) seeds[3] = seeds[3] * 257 + data[i] + 2;
  static const char *const how[] = {"whole", "byte by byte", "in chunks", "in chunks from the input"};
  for (int k = 0; k < 4; k++) {
    int rc = feed(data, size, seeds[k], &got);
    compare(&want, want_rc, &got, rc, how[k]);
    buf_free(&got.all);
  }
  buf_free(&want.all);
  return 0;
}
