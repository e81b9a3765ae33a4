#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(cubit_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

int buf_append(cubit_buf *b, const void *p, size_t n) {
  if (n > b->max || b->len > b->max - n) return CUBIT_ETOOBIG;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    if (cap > b->max + 1) cap = b->max + 1;
    char *d = realloc(b->data, cap);
    if (d == NULL) return CUBIT_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int buf_appends(cubit_buf *b, const char *s) {
  return buf_append(b, s, strlen(s));
}

int buf_appendf(cubit_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) return CUBIT_EINVAL;
  if ((size_t)n < sizeof(small)) return buf_append(b, small, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (big == NULL) return CUBIT_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int err = buf_append(b, big, (size_t)n);
  free(big);
  return err;
}

void buf_consume(cubit_buf *b, size_t n) {
  if (n >= b->len) {
    buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

void buf_reset(cubit_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void buf_free(cubit_buf *b) {
  free(b->data);
  buf_init(b, b->max);
}

char *buf_detach(cubit_buf *b) {
  char *s = b->data;
  if (s == NULL) {
    s = malloc(1);
    if (s == NULL) return NULL;
    s[0] = '\0';
  }
  buf_init(b, b->max);
  return s;
}
