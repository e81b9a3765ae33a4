/* What the fuzz targets share: libFuzzer's entry points, a NUL-terminated
 * copy of the input, and FUZZ_ASSERT, which turns a broken property into a
 * crash that libFuzzer reports with the input (docs/fuzzing.md). */
#ifndef CUBIT_FUZZ_H
#define CUBIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts with the property and a printf message when cond is false. */
#define FUZZ_ASSERT(cond, ...)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz: property violated at %s:%d: %s\n  ", __FILE__, __LINE__, \
              #cond);                                                                 \
      fprintf(stderr, __VA_ARGS__);                                                   \
      fputc('\n', stderr);                                                            \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

/* The input as a malloc'ed string (it ends at the first NUL, if any);
 * the caller frees it. Aborts when out of memory, like xmalloc. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Splits s in place at its first '\n': returns the rest (after the
 * newline), or NULL when there is none. */
static inline char *fuzz_split_line(char *s) {
  char *nl = strchr(s, '\n');
  if (nl == NULL) return NULL;
  *nl = '\0';
  return nl + 1;
}

/* A small deterministic generator for chunk sizes and picks derived from
 * the input, so a crash repeats from the input alone. */
static inline uint64_t fuzz_next(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

#endif
