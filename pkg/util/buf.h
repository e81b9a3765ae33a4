/* A growable byte buffer with a size cap (curl's curlx_dyn).
 *
 * Every input Cubit reads from the network has a maximum: a watch line, a
 * response body, an admission request. Appending past 'max' fails with
 * CUBIT_ETOOBIG and leaves the buffer as it was. The buffer is always
 * NUL-terminated after a successful append, so 'data' can be read as a string.
 * Allocation here is fallible (CUBIT_ENOMEM) because parsers build on it. */
#ifndef CUBIT_UTIL_BUF_H
#define CUBIT_UTIL_BUF_H

#include <stddef.h>

#include "util/err.h"

typedef struct cubit_buf {
  char *data;  /* read-only for users; NULL until the first append */
  size_t len;  /* read-only: bytes stored, excluding the terminating NUL */
  size_t cap;  /* private */
  size_t max;  /* private: the cap on len */
} cubit_buf;

void buf_init(cubit_buf *b, size_t max);
/* Appends n bytes. Returns 0, CUBIT_ETOOBIG or CUBIT_ENOMEM. */
int buf_append(cubit_buf *b, const void *p, size_t n) CUBIT_WUR;
int buf_appends(cubit_buf *b, const char *s) CUBIT_WUR;
int buf_appendf(cubit_buf *b, const char *fmt, ...) CUBIT_WUR __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes, keeping the rest (used to consume parsed lines). */
void buf_consume(cubit_buf *b, size_t n);
/* Empties the buffer but keeps its memory. */
void buf_reset(cubit_buf *b);
/* Frees the memory; the buffer can be reused after buf_init. */
void buf_free(cubit_buf *b);
/* Returns the contents as a malloc'ed string (never NULL on success, "" when
 * empty) and leaves the buffer empty; the caller frees it. NULL on ENOMEM. */
char *buf_detach(cubit_buf *b);

#endif
