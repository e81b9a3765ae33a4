/* Allocation that cannot fail.
 *
 * Out of memory is handled here, in one place: these functions print a message
 * and abort, so call sites stay clean (Redis' zmalloc). Parsers of external
 * input (kubeconfig, watch streams, quantities) instead use plain malloc and
 * return CUBIT_ENOMEM, and are proven leak-free by the allocation-failure tests. */
#ifndef CUBIT_UTIL_ALLOC_H
#define CUBIT_UTIL_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
