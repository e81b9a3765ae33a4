/* pkg/util/log: every line is one logfmt record whatever the values hold.
 * Lines are read back with a logfmt decoder written here (go-logfmt's
 * rules: bare tokens, or double-quoted strings with JSON escapes), so an
 * injection that forged a key, a level or a line would show up as an extra
 * pair or a second line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/alloc.h"
#include "util/log.h"

/* ---- a logfmt decoder ---- */

#define MAX_PAIRS 16

typedef struct record {
  char *key[MAX_PAIRS];
  char *val[MAX_PAIRS];
  size_t vlen[MAX_PAIRS];
  int n;
} record;

static void record_free(record *r) {
  for (int i = 0; i < r->n; i++) {
    free(r->key[i]);
    free(r->val[i]);
  }
  r->n = 0;
}

static size_t put_utf8(char *out, unsigned cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  out[0] = (char)(0xe0 | (cp >> 12));
  out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[2] = (char)(0x80 | (cp & 0x3f));
  return 3;
}

/* Decodes one line (without its newline). Returns 0, or -1 when it is not
 * valid logfmt (a bare value holding a quote, an unterminated string, an
 * unknown escape, a raw control character). */
static int decode(const char *line, record *r) {
  memset(r, 0, sizeof(*r));
  const char *p = line;
  while (*p) {
    if (*p == ' ') {
      p++;
      continue;
    }
    if (r->n == MAX_PAIRS) return -1;
    const char *k = p;
    while (*p && *p != '=' && *p != ' ') {
      if ((unsigned char)*p < 0x20 || *p == '"') return -1;
      p++;
    }
    r->key[r->n] = xstrndup(k, (size_t)(p - k));
    char *v = xmalloc(strlen(line) + 1);
    size_t vn = 0;
    if (*p == '=') {
      p++;
      if (*p == '"') {
        p++;
        for (;;) {
          if (*p == '\0') {
            free(v);
            r->n++;
            return -1;
          }
          if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            free(v);
            r->n++;
            return -1;
          }
          if (*p == '"') {
            p++;
            break;
          }
          if (*p != '\\') {
            v[vn++] = *p++;
            continue;
          }
          p++;
          switch (*p) {
            case '"': v[vn++] = '"'; p++; break;
            case '\\': v[vn++] = '\\'; p++; break;
            case 'n': v[vn++] = '\n'; p++; break;
            case 'r': v[vn++] = '\r'; p++; break;
            case 't': v[vn++] = '\t'; p++; break;
            case 'u': {
              char hex[5] = {0};
              memcpy(hex, p + 1, 4);
              unsigned cp = (unsigned)strtoul(hex, NULL, 16);
              vn += put_utf8(v + vn, cp);
              p += 5;
              break;
            }
            default:
              free(v);
              r->n++;
              return -1;
          }
        }
        if (*p && *p != ' ') {
          free(v);
          r->n++;
          return -1;
        }
      } else {
        while (*p && *p != ' ') {
          if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '=' || (unsigned char)*p >= 0x7f) {
            free(v);
            r->n++;
            return -1;
          }
          v[vn++] = *p++;
        }
      }
    }
    v[vn] = '\0';
    r->val[r->n] = v;
    r->vlen[r->n] = vn;
    r->n++;
  }
  return 0;
}

/* ---- capturing the log ---- */

typedef struct capture {
  char *text;
  size_t len;
  FILE *f;
} capture;

static void capture_start(capture *c) {
  c->text = NULL;
  c->len = 0;
  c->f = open_memstream(&c->text, &c->len);
  ck_assert_ptr_nonnull(c->f);
  log_init(3, c->f);
}

/* Ends the capture and checks it holds exactly one line; returns it
 * without its newline (caller frees). */
static char *capture_line(capture *c) {
  fclose(c->f);
  log_init(0, NULL);
  ck_assert_uint_gt(c->len, 0);
  ck_assert_msg(c->text[c->len - 1] == '\n', "no newline at the end: %s", c->text);
  ck_assert_msg(memchr(c->text, '\n', c->len - 1) == NULL, "more than one line: %s", c->text);
  c->text[c->len - 1] = '\0';
  return c->text;
}

static const char *get(const record *r, const char *key, size_t *len) {
  for (int i = 0; i < r->n; i++)
    if (strcmp(r->key[i], key) == 0) {
      if (len) *len = r->vlen[i];
      return r->val[i];
    }
  return NULL;
}

/* ---- values ---- */

typedef struct value_case {
  const char *name;
  const char *in;
  const char *decoded; /* what a logfmt reader gets back; NULL = the input */
  const char *quoted;  /* the exact text inside k="..." */
} value_case;

static const value_case values[] = {
    {"plain", "plain", NULL, "plain"},
    {"empty", "", NULL, ""},
    {"blank", "a b", NULL, "a b"},
    {"forged pair", "x\" level=error msg=\"forged", NULL, "x\\\" level=error msg=\\\"forged"},
    {"forged line", "one\nts=2026-01-01T00:00:00.000Z level=error msg=forged", NULL,
     "one\\nts=2026-01-01T00:00:00.000Z level=error msg=forged"},
    {"backslash", "back\\slash\\", NULL, "back\\\\slash\\\\"},
    {"equals", "k=v", NULL, "k=v"},
    {"cr tab", "a\rb\tc", NULL, "a\\rb\\tc"},
    {"terminal escape", "\x1b[31mred\x1b[0m", NULL, "\\u001b[31mred\\u001b[0m"},
    {"other controls", "\x01\x7f", NULL, "\\u0001\\u007f"},
    {"utf-8 kept", "h\xc3\xa9 \xe6\x97\xa5", NULL, "h\xc3\xa9 \xe6\x97\xa5"},
    {"c1 control (NEL)", "a\xc2\x85" "b", NULL, "a\\u0085b"},
    {"line separator", "a\xe2\x80\xa8" "b", NULL, "a\\u2028b"},
    {"invalid bytes", "\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd", "\\ufffd\\ufffd"},
    {"overlong slash", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "\\ufffd\\ufffd"},
    {"surrogate", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "\\ufffd\\ufffd\\ufffd"},
    {"truncated sequence", "a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd", "a\\ufffd\\ufffd"},
};

/* Every value in every position a format can put it: inside quotes, as a
 * bare value, as part of a bare value, and as a key. */
START_TEST(values_cannot_escape_their_place) {
  const value_case *c = &values[_i];
  const char *want = c->decoded ? c->decoded : c->in;
  capture cap;
  record r;

  capture_start(&cap);
  log_info("test", "m", "k=\"%s\" after=1", c->in);
  char *line = capture_line(&cap);
  char *expect = xasprintf(" k=\"%s\" after=1", c->quoted);
  ck_assert_msg(strstr(line, expect) != NULL, "%s: %s lacks %s", c->name, line, expect);
  free(expect);
  ck_assert_msg(decode(line, &r) == 0, "%s: not logfmt: %s", c->name, line);
  ck_assert_int_eq(r.n, 6); /* ts level logger msg k after */
  ck_assert_str_eq(get(&r, "k", NULL), want);
  ck_assert_str_eq(get(&r, "level", NULL), "info");
  ck_assert_str_eq(get(&r, "after", NULL), "1");
  record_free(&r);
  free(line);

  capture_start(&cap);
  log_warn("test", "m", "k=%s after=%d", c->in, 2);
  line = capture_line(&cap);
  ck_assert_msg(decode(line, &r) == 0, "%s: bare value: not logfmt: %s", c->name, line);
  ck_assert_int_eq(r.n, 6);
  ck_assert_str_eq(get(&r, "k", NULL), want);
  ck_assert_str_eq(get(&r, "level", NULL), "warn");
  ck_assert_str_eq(get(&r, "after", NULL), "2");
  record_free(&r);
  free(line);

  capture_start(&cap);
  log_error("test", "m", "key=%s/%s", "ns", c->in);
  line = capture_line(&cap);
  ck_assert_msg(decode(line, &r) == 0, "%s: composed value: not logfmt: %s", c->name, line);
  ck_assert_int_eq(r.n, 5);
  char *composed = xasprintf("ns/%s", want);
  ck_assert_str_eq(get(&r, "key", NULL), composed);
  free(composed);
  record_free(&r);
  free(line);

  capture_start(&cap);
  log_info("test", "m", "%s=1", c->in);
  line = capture_line(&cap);
  ck_assert_msg(decode(line, &r) == 0, "%s: key: not logfmt: %s", c->name, line);
  ck_assert_int_le(r.n, 5);
  record_free(&r);
  free(line);
}
END_TEST

START_TEST(msg_and_logger_escaped) {
  capture cap;
  record r;
  capture_start(&cap);
  log_info("bad logger", "said \"hi\"\nlevel=error", "k=v");
  char *line = capture_line(&cap);
  ck_assert_ptr_nonnull(strstr(line, " logger=\"bad logger\" msg=\"said \\\"hi\\\"\\nlevel=error\" k=v"));
  ck_assert_int_eq(decode(line, &r), 0);
  ck_assert_int_eq(r.n, 5);
  ck_assert_str_eq(get(&r, "msg", NULL), "said \"hi\"\nlevel=error");
  ck_assert_str_eq(get(&r, "logger", NULL), "bad logger");
  ck_assert_str_eq(get(&r, "level", NULL), "info");
  record_free(&r);
  free(line);

  /* v= appears for verbose lines; NULL logger and msg */
  capture_start(&cap);
  log_v(2, NULL, NULL, "%s", "");
  line = capture_line(&cap);
  ck_assert_ptr_nonnull(strstr(line, " level=info v=2 logger=cubit msg=\"\""));
  ck_assert_int_eq(decode(line, &r), 0);
  ck_assert_int_eq(r.n, 5);
  record_free(&r);
  free(line);
}
END_TEST

START_TEST(conversions_like_printf) {
  capture cap;
  capture_start(&cap);
  size_t z = 42;
  long long ll = -9000000000LL;
  log_info("t", "m", "d=%d u=%u zu=%zu ld=%ld lld=%lld x=%x f=%.2f pad=%5s left=%-3s| prec=%.3s star=%*d pct=%% c=%c",
           -7, 7u, z, -1L, ll, 255u, 1.5, "ab", "x", "abcdef", 4, 9, 'q');
  char *line = capture_line(&cap);
  const char *want = " msg=\"m\" d=-7 u=7 zu=42 ld=-1 lld=-9000000000 x=ff f=1.50 pad=\"   ab\" left=\"x  |\" "
                     "prec=abc star=\"   9\" pct=% c=q";
  ck_assert_msg(strstr(line, want) != NULL, "%s\nlacks\n%s", line, want);
  free(line);
}
END_TEST

START_TEST(long_values_cut) {
  size_t n = LOG_VALUE_MAX + 100;
  char *big = xmalloc(n + 1);
  memset(big, 'a', n);
  big[n] = '\0';
  big[LOG_VALUE_MAX - 1] = '"'; /* an escape right at the cut */
  capture cap;
  record r;
  capture_start(&cap);
  log_info("t", "m", "q=\"%s\" b=%s", big, big);
  char *line = capture_line(&cap);
  ck_assert_int_eq(decode(line, &r), 0);
  size_t len = 0;
  const char *q = get(&r, "q", &len);
  ck_assert_uint_eq(len, LOG_VALUE_MAX + 3);
  ck_assert_int_eq(q[LOG_VALUE_MAX - 1], '"');
  ck_assert_str_eq(q + LOG_VALUE_MAX, "...");
  get(&r, "b", &len);
  ck_assert_uint_eq(len, LOG_VALUE_MAX + 3);
  record_free(&r);
  free(line);
  free(big);
}
END_TEST

int main(void) {
  Suite *s = suite_create("log");
  TCase *tc = tcase_create("escaping");
  tcase_add_loop_test(tc, values_cannot_escape_their_place, 0, (int)(sizeof(values) / sizeof(values[0])));
  tcase_add_test(tc, msg_and_logger_escaped);
  tcase_add_test(tc, conversions_like_printf);
  tcase_add_test(tc, long_values_cut);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
