#include "util/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "util/alloc.h"

/* Process-wide logging settings: written once by main (log_init) before any
 * thread starts, read-only afterwards. */
static int log_verbosity = 0;
static FILE *log_out = NULL;

void log_init(int verbosity, FILE *out) {
  log_verbosity = verbosity;
  log_out = out;
}

int log_enabled(int v) {
  return v <= log_verbosity;
}

static const char *level_name(int level) {
  switch (level) {
    case LOG_LEVEL_ERROR: return "error";
    case LOG_LEVEL_WARN: return "warn";
    default: return "info";
  }
}

/* ---- the line being built ---- */

typedef struct line {
  char *p;
  size_t len, cap;
  char small[1024];
} line;

static void line_init(line *l) {
  l->p = l->small;
  l->len = 0;
  l->cap = sizeof(l->small);
}

static void line_free(line *l) {
  if (l->p != l->small) free(l->p);
}

static void put(line *l, const char *s, size_t n) {
  if (l->len + n + 1 > l->cap) {
    size_t cap = l->cap * 2;
    while (cap < l->len + n + 1) cap *= 2;
    if (l->p == l->small) {
      l->p = xmalloc(cap);
      memcpy(l->p, l->small, l->len);
    } else {
      l->p = xrealloc(l->p, cap);
    }
    l->cap = cap;
  }
  memcpy(l->p + l->len, s, n);
  l->len += n;
}

static void putc_(line *l, char c) {
  put(l, &c, 1);
}

static void putu(line *l, unsigned cp) {
  char u[8];
  snprintf(u, sizeof(u), "\\u%04x", cp & 0xffff);
  put(l, u, 6);
}

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code
 * point, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    len = 2, min = 0x80, c &= 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, min = 0x800, c &= 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, min = 0x10000, c &= 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return len;
}

/* Appends s[0..n) for use inside double quotes: quote and backslash
 * escaped, control characters (C0, DEL, C1) and the Unicode line
 * separators as \n, \r, \t or \uXXXX, invalid UTF-8 as \ufffd, so a value
 * can neither end its quotes nor start a new line or key. At most
 * LOG_VALUE_MAX bytes of s are written; a longer value ends in "...". */
static void put_escaped(line *l, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  int cut = n > LOG_VALUE_MAX;
  if (cut) n = LOG_VALUE_MAX;
  size_t i = 0;
  while (i < n) {
    unsigned char c = u[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      size_t j = i + 1; /* a run of plain bytes in one copy */
      while (j < n && u[j] >= 0x20 && u[j] < 0x7f && u[j] != '"' && u[j] != '\\') j++;
      put(l, s + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"': put(l, "\\\"", 2); i++; continue;
      case '\\': put(l, "\\\\", 2); i++; continue;
      case '\n': put(l, "\\n", 2); i++; continue;
      case '\r': put(l, "\\r", 2); i++; continue;
      case '\t': put(l, "\\t", 2); i++; continue;
      default: break;
    }
    if (c < 0x80) { /* other C0 controls and DEL */
      putu(l, c);
      i++;
      continue;
    }
    unsigned cp;
    size_t len = utf8_seq(u + i, n - i, &cp);
    if (len == 0) {
      putu(l, 0xfffd);
      i++;
    } else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
      putu(l, cp);
      i += len;
    } else {
      put(l, s + i, len);
      i += len;
    }
  }
  if (cut) put(l, "...", 3);
}

static void put_quoted(line *l, const char *s, size_t n) {
  putc_(l, '"');
  put_escaped(l, s, n);
  putc_(l, '"');
}

/* 1 when s[0..n) cannot stand unquoted in logfmt: empty, or holding a
 * blank, '=', a quote, a backslash, a control or a non-ASCII byte. */
static int needs_quotes(const char *s, size_t n) {
  if (n == 0 || n > LOG_VALUE_MAX) return 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '=' || c == '"' || c == '\\') return 1;
  }
  return 0;
}

/* Appends a key: anything that would end it or start a value becomes '_'. */
static void put_key(line *l, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    putc_(l, (c <= 0x20 || c >= 0x7f || c == '=' || c == '"' || c == '\\') ? '_' : (char)c);
  }
}

/* ---- one conversion of the key=value format ---- */

/* Formats the conversion starting at *fmt (just after '%') with the next
 * arguments. Sets *text and *n to the result (pointing into 'tmp', into a
 * string argument, or into *heap, which the caller frees) and advances
 * *fmt past the conversion. Handles what printf does for the flags,
 * widths, precisions and length modifiers C11 defines; the format
 * attribute of log_emit has the compiler check the argument types. */
static void format_one(const char **fmt, va_list *ap, char *tmp, size_t tmplen, char **heap, const char **text,
                       size_t *n) {
  char spec[48];
  size_t sl = 0;
  const char *f = *fmt;
  spec[sl++] = '%';
  size_t nflags = 0;
  while (*f && strchr("-+ #0", *f) && nflags < 8) spec[sl++] = *f++, nflags++;
  int width = 0, has_width = 0, prec = -1;
  if (*f == '*') {
    width = va_arg(*ap, int);
    has_width = 1;
    f++;
  } else {
    while (*f >= '0' && *f <= '9') {
      width = width * 10 + (*f++ - '0');
      has_width = 1;
    }
  }
  if (has_width) sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%d", width);
  if (*f == '.') {
    f++;
    if (*f == '*') {
      prec = va_arg(*ap, int);
      f++;
    } else {
      prec = 0;
      while (*f >= '0' && *f <= '9') prec = prec * 10 + (*f++ - '0');
    }
    if (prec >= 0) sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, ".%d", prec);
  }
  char len[3] = "";
  if ((f[0] == 'h' && f[1] == 'h') || (f[0] == 'l' && f[1] == 'l')) {
    len[0] = f[0], len[1] = f[1];
    f += 2;
  } else if (*f && strchr("hlzjtL", *f)) {
    len[0] = *f++;
  }
  char conv = *f ? *f++ : '%';
  *fmt = f;
  memcpy(spec + sl, len, strlen(len));
  sl += strlen(len);
  spec[sl++] = conv;
  spec[sl] = '\0';

  int r = 0;
  switch (conv) {
    case 's': {
      const char *s = va_arg(*ap, const char *);
      if (s == NULL) s = "(null)";
      if (nflags == 0 && !has_width) { /* the common case: no copy */
        *text = s;
        *n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
        return;
      }
      r = snprintf(NULL, 0, spec, s);
      if (r >= 0 && (size_t)r >= tmplen) {
        *heap = xmalloc((size_t)r + 1);
        snprintf(*heap, (size_t)r + 1, spec, s);
        *text = *heap;
        *n = (size_t)r;
        return;
      }
      r = snprintf(tmp, tmplen, spec, s);
      break;
    }
    case 'd':
    case 'i':
      if (strcmp(len, "ll") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, long long));
      else if (strcmp(len, "l") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, long));
      else if (strcmp(len, "z") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, ssize_t));
      else if (strcmp(len, "j") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, intmax_t));
      else if (strcmp(len, "t") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, ptrdiff_t));
      else r = snprintf(tmp, tmplen, spec, va_arg(*ap, int));
      break;
    case 'u':
    case 'x':
    case 'X':
    case 'o':
      if (strcmp(len, "ll") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, unsigned long long));
      else if (strcmp(len, "l") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, unsigned long));
      else if (strcmp(len, "z") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, size_t));
      else if (strcmp(len, "j") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, uintmax_t));
      else if (strcmp(len, "t") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, size_t));
      else r = snprintf(tmp, tmplen, spec, va_arg(*ap, unsigned));
      break;
    case 'c': r = snprintf(tmp, tmplen, spec, va_arg(*ap, int)); break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
      if (strcmp(len, "L") == 0) r = snprintf(tmp, tmplen, spec, va_arg(*ap, long double));
      else r = snprintf(tmp, tmplen, spec, va_arg(*ap, double));
      break;
    case 'p': r = snprintf(tmp, tmplen, spec, va_arg(*ap, void *)); break;
    case '%': r = snprintf(tmp, tmplen, "%%"); break;
    default: /* %n and unknown conversions print nothing */
      if (conv == 'n') (void)va_arg(*ap, int *);
      r = 0;
      break;
  }
  if (r < 0) r = 0;
  if ((size_t)r >= tmplen) r = (int)tmplen - 1; /* numbers: never with the sizes used here */
  *text = tmp;
  *n = (size_t)r;
}

/* Appends the key=value pairs of kvfmt. The format's literal text (keys,
 * '=', quotes, blanks) is the caller's and trusted; every converted value
 * is escaped for where it lands: inside quotes it is escaped, in a bare
 * value the whole value is quoted and escaped when it needs to be, in a key
 * it is made a plain token. */
static void put_pairs(line *l, const char *kvfmt, va_list *ap) {
  enum { KEY, BARE, QUOTED, CLOSED } st = KEY;
  size_t vstart = 0;
  char tmp[128];
  const char *f = kvfmt;
  while (*f) {
    if (*f == '%') {
      f++;
      const char *text;
      size_t n;
      char *heap = NULL;
      format_one(&f, ap, tmp, sizeof(tmp), &heap, &text, &n);
      if (st == KEY) put_key(l, text, n);
      else if (st == QUOTED) put_escaped(l, text, n);
      else put(l, text, n); /* BARE (judged when the value ends), CLOSED */
      free(heap);
      continue;
    }
    char c = *f++;
    switch (st) {
      case KEY:
        putc_(l, c);
        if (c == '=') {
          st = BARE;
          vstart = l->len;
        }
        break;
      case BARE:
        if (c == '"' && l->len == vstart) {
          putc_(l, c);
          st = QUOTED;
        } else if (c == ' ') {
          goto end_value;
        } else {
          putc_(l, c);
        }
        break;
      case QUOTED:
        putc_(l, c);
        if (c == '"') st = CLOSED;
        break;
      case CLOSED:
        putc_(l, c);
        if (c == ' ') st = KEY;
        break;
    }
    continue;
  end_value:
    if (needs_quotes(l->p + vstart, l->len - vstart)) {
      char *v = xstrndup(l->p + vstart, l->len - vstart);
      size_t vn = l->len - vstart;
      l->len = vstart;
      put_quoted(l, v, vn);
      free(v);
    }
    putc_(l, ' ');
    st = KEY;
  }
  if (st == BARE && needs_quotes(l->p + vstart, l->len - vstart)) {
    char *v = xstrndup(l->p + vstart, l->len - vstart);
    size_t vn = l->len - vstart;
    l->len = vstart;
    put_quoted(l, v, vn);
    free(v);
  } else if (st == QUOTED) {
    putc_(l, '"'); /* a format that never closed its quote */
  }
}

void log_emit(int level, int v, const char *logger, const char *msg, const char *kvfmt, ...) {
  FILE *out = log_out ? log_out : stderr;
  struct timespec ts;
  struct tm tm;
  char when[32], head[96];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

  line l;
  line_init(&l);
  int hn = snprintf(head, sizeof(head), "ts=%s.%03ldZ level=%s", when, ts.tv_nsec / 1000000, level_name(level));
  put(&l, head, (size_t)hn);
  if (v > 0) {
    hn = snprintf(head, sizeof(head), " v=%d", v);
    put(&l, head, (size_t)hn);
  }
  put(&l, " logger=", 8);
  const char *lg = logger ? logger : "cubit";
  if (needs_quotes(lg, strlen(lg))) put_quoted(&l, lg, strlen(lg));
  else put(&l, lg, strlen(lg));
  put(&l, " msg=", 5);
  put_quoted(&l, msg ? msg : "", msg ? strlen(msg) : 0);
  if (kvfmt && *kvfmt) {
    size_t before = l.len;
    putc_(&l, ' ');
    va_list ap;
    va_start(ap, kvfmt);
    put_pairs(&l, kvfmt, &ap);
    va_end(ap);
    if (l.len == before + 1) l.len = before; /* the pairs were empty */
  }
  putc_(&l, '\n');

  flockfile(out);
  fwrite(l.p, 1, l.len, out);
  fflush(out);
  funlockfile(out);
  line_free(&l);
}
