/* Kubernetes resource quantities without floating point; see quantity.h.
 *
 * Internally a value is sign * magnitude * 10^scale with an unsigned 128-bit
 * magnitude. Every stored quantity is normalised (no trailing zero digits in
 * the magnitude, scale 0 for zero), so the magnitude is as small as it can be
 * and one range check after each operation decides CUBIT_ETOOBIG. */
#include "util/quantity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define P19 ((u128)10000000000000000000ULL)

/* 10^0 .. 10^38; 10^38 < 2^128 so every entry fits. */
static const u128 pow10_tab[39] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    P19,
    P19 * 10ULL,
    P19 * 100ULL,
    P19 * 1000ULL,
    P19 * 10000ULL,
    P19 * 100000ULL,
    P19 * 1000000ULL,
    P19 * 10000000ULL,
    P19 * 100000000ULL,
    P19 * 1000000000ULL,
    P19 * 10000000000ULL,
    P19 * 100000000000ULL,
    P19 * 1000000000000ULL,
    P19 * 10000000000000ULL,
    P19 * 100000000000000ULL,
    P19 * 1000000000000000ULL,
    P19 * 10000000000000000ULL,
    P19 * 100000000000000000ULL,
    P19 * 1000000000000000000ULL,
    P19 * P19,
};

#define MAX_MAGNITUDE (pow10_tab[QUANTITY_MAX_DIGITS] - 1)
#define NANO_PER_UNIT 1000000000ULL
/* apimachinery caps a BinarySI quantity at 2^63-1; here in nano-units. */
#define BINARY_CAP_NANO ((u128)INT64_MAX * NANO_PER_UNIT)
/* Exponents read from input are clamped to this before any arithmetic on
 * them: far beyond QUANTITY_MAX_SCALE, so clamping changes no outcome, and
 * far below INT64_MAX, so adding string lengths cannot overflow. */
#define EXPONENT_CLAMP ((int64_t)1 << 50)

static const char err_format[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
static const char err_numeric[] = "unable to parse numeric part of quantity";
static const char err_suffix[] = "unable to parse quantity's suffix";
static const char err_digits[] = "quantity has more than 38 significant digits";
static const char err_scale[] = "quantity exponent is out of range (more than 10^9 in magnitude)";

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int digit_count(u128 x) {
  int n = 1;
  while (n < 39 && x >= pow10_tab[n]) n++;
  return n;
}

static u128 magnitude_of(quantity_int128 v) {
  return v < 0 ? (u128)0 - (u128)v : (u128)v;
}

/* Writes sign * mag * 10^scale, normalised, into *value and *scale; leaves
 * them alone and returns CUBIT_ETOOBIG (with *why set) when out of range. */
static int make_value(int neg, u128 mag, int64_t scale, quantity_int128 *value, int32_t *out_scale,
                      const char **why) {
  if (mag == 0) {
    *value = 0;
    *out_scale = 0;
    return 0;
  }
  while (mag % 10 == 0) {
    mag /= 10;
    scale++;
  }
  if (mag > MAX_MAGNITUDE) {
    *why = err_digits;
    return CUBIT_ETOOBIG;
  }
  if (scale > QUANTITY_MAX_SCALE || scale < -QUANTITY_MAX_SCALE) {
    *why = err_scale;
    return CUBIT_ETOOBIG;
  }
  *value = neg ? -(quantity_int128)mag : (quantity_int128)mag;
  *out_scale = (int32_t)scale;
  return 0;
}

static int set_quantity(quantity *q, int neg, u128 mag, int64_t scale) {
  const char *why = NULL;
  return make_value(neg, mag, scale, &q->value, &q->scale, &why);
}

/* 1 when |q| exceeds 2^63-1, the most quantity_parse gives a BinarySI
 * quantity: such a value has no BinarySI string that reads back as itself
 * ("8Ei" reads as 2^63-1). */
static int beyond_binary_cap(const quantity *q) {
  u128 mag = magnitude_of(q->value), limit;
  if (q->scale >= 0)
    return q->scale > 19 || __builtin_mul_overflow(mag, pow10_tab[q->scale], &limit) || limit > (u128)INT64_MAX;
  /* mag < 10^38 < 2^128: below the cap when the cap's magnitude at this
   * scale does not fit 128 bits. */
  if (q->scale < -38 || __builtin_mul_overflow((u128)INT64_MAX, pow10_tab[-q->scale], &limit)) return 0;
  return mag > limit;
}

/* Stores r (of format fmt) into *dst, or returns CUBIT_ETOOBIG and leaves
 * *dst alone when r is a BinarySI value beyond the cap: the arithmetic keeps
 * to the range parsing gives, so the result's string reads back as itself. */
static int store_result(quantity *dst, quantity r, quantity_format fmt) {
  r.format = fmt;
  if (fmt == QUANTITY_BINARY_SI && beyond_binary_cap(&r)) return CUBIT_ETOOBIG;
  *dst = r;
  return 0;
}

/* ---- parsing ---------------------------------------------------------- */

/* The pieces of a quantity string, found the way apimachinery's scanner
 * finds them so that the same inputs are rejected with the same error. */
typedef struct scanned {
  int neg;
  int has_digit;   /* the number part holds at least one digit */
  const char *num; /* integer digits after the leading zeros */
  size_t num_len;
  const char *den; /* fraction digits */
  size_t den_len;
  const char *suf;
  size_t suf_len;
} scanned;

static int scan(const char *s, size_t len, scanned *r) {
  static const char suffix_letters[] = "eEinumkKMGTP";
  size_t pos = 0;
  memset(r, 0, sizeof(*r));
  if (len > 0 && (s[0] == '-' || s[0] == '+')) {
    r->neg = s[0] == '-';
    pos = 1;
  }
  while (pos < len && s[pos] == '0') {
    r->has_digit = 1;
    pos++;
  }
  if (pos == len) return 0; /* only zeros (or nothing) after the sign: zero */
  r->num = s + pos;
  while (pos < len && is_digit(s[pos])) pos++;
  r->num_len = (size_t)(s + pos - r->num);
  if (pos < len && s[pos] == '.') {
    pos++;
    r->den = s + pos;
    while (pos < len && is_digit(s[pos])) pos++;
    r->den_len = (size_t)(s + pos - r->den);
  }
  if (r->num_len || r->den_len) r->has_digit = 1;
  size_t suffix_start = pos;
  while (pos < len && memchr(suffix_letters, s[pos], sizeof(suffix_letters) - 1)) pos++;
  if (pos < len && (s[pos] == '-' || s[pos] == '+')) pos++;
  while (pos < len && is_digit(s[pos])) pos++;
  if (pos != len) return CUBIT_EINVAL;
  r->suf = s + suffix_start;
  r->suf_len = len - suffix_start;
  return 0;
}

/* Go's strconv.ParseInt(s, 10, 64): an optional sign and at least one
 * digit, within int64. The result is clamped to +-EXPONENT_CLAMP. */
static int parse_exponent(const char *s, size_t len, int64_t *out) {
  size_t pos = 0;
  int neg = 0;
  if (len > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    pos = 1;
  }
  if (pos == len) return CUBIT_EINVAL;
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t v = 0;
  for (; pos < len; pos++) {
    if (!is_digit(s[pos])) return CUBIT_EINVAL;
    unsigned d = (unsigned)(s[pos] - '0');
    if (v > (limit - d) / 10) return CUBIT_EINVAL;
    v = v * 10 + d;
  }
  if (v > (uint64_t)EXPONENT_CLAMP) v = (uint64_t)EXPONENT_CLAMP;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return 0;
}

/* The power of ten of a one-letter DecimalSI suffix, or 1 for none. */
static int decimal_suffix_exponent(char c) {
  switch (c) {
    case 'n': return -9;
    case 'u': return -6;
    case 'm': return -3;
    case 'k': return 3;
    case 'M': return 6;
    case 'G': return 9;
    case 'T': return 12;
    case 'P': return 15;
    case 'E': return 18;
  }
  return 1;
}

/* Reads the suffix: a power of ten (*exp10) for the decimal formats, or a
 * power of two (*exp2, 10..60) for BinarySI. */
static int interpret_suffix(const char *s, size_t len, quantity_format *fmt, int64_t *exp10, int *exp2) {
  static const char binary[] = "KMGTPE"; /* Ki = 2^10 ... Ei = 2^60 */
  *exp10 = 0;
  *exp2 = 0;
  *fmt = QUANTITY_DECIMAL_SI;
  if (len == 0) return 0;
  if (len == 1 && decimal_suffix_exponent(s[0]) != 1) {
    *exp10 = decimal_suffix_exponent(s[0]);
    return 0;
  }
  if (len == 2 && s[1] == 'i') {
    const char *p = memchr(binary, s[0], sizeof(binary) - 1);
    if (p) {
      *fmt = QUANTITY_BINARY_SI;
      *exp2 = (int)(p - binary + 1) * 10;
      return 0;
    }
  }
  if (len > 1 && (s[0] == 'e' || s[0] == 'E')) {
    *fmt = QUANTITY_DECIMAL_EXPONENT;
    return parse_exponent(s + 1, len - 1, exp10);
  }
  return CUBIT_EINVAL;
}

static char digit_at(const scanned *r, size_t i) {
  return i < r->num_len ? r->num[i] : r->den[i - r->num_len];
}

/* digits[from..to] (inclusive) as a number; the caller keeps it <= 39 digits. */
static u128 digits_value(const scanned *r, size_t from, size_t to) {
  u128 v = 0;
  for (size_t i = from; i <= to; i++) v = v * 10 + (unsigned)(digit_at(r, i) - '0');
  return v;
}

/* number * 10^exp10, rounded away from zero to a whole nano. */
static int parse_decimal(const scanned *r, int64_t exp10, quantity *q, const char **why) {
  size_t len = r->num_len + r->den_len;
  size_t first = 0;
  while (first < len && digit_at(r, first) == '0') first++;
  if (first == len) return make_value(0, 0, 0, &q->value, &q->scale, why);
  size_t last = len - 1;
  while (digit_at(r, last) == '0') last--;

  /* Digit i stands for digit * 10^(top - i). */
  int64_t top = exp10 - (int64_t)r->den_len + (int64_t)(len - 1);
  size_t cut = last;
  int round_up = 0;
  if (top - (int64_t)last < -9) {
    int64_t nano_digit = top + 9; /* index of the digit worth 10^-9 */
    if (nano_digit < (int64_t)first) return make_value(r->neg, 1, -9, &q->value, &q->scale, why);
    cut = (size_t)nano_digit;
    round_up = 1;
  }
  /* Rounding up turns trailing nines into zeros: leave them out first, so a
   * result that ends up within 38 digits is not refused. */
  size_t nines = 0;
  if (round_up)
    while (nines < cut + 1 - first && digit_at(r, cut - nines) == '9') nines++;
  size_t count = cut + 1 - first - nines; /* 0 when every kept digit is a nine */
  int64_t scale = top - (int64_t)cut + (int64_t)nines;
  if (count > QUANTITY_MAX_DIGITS) {
    *why = err_digits;
    return CUBIT_ETOOBIG;
  }
  u128 mag = (count ? digits_value(r, first, first + count - 1) : 0) + (u128)round_up;
  return make_value(r->neg, mag, scale, &q->value, &q->scale, why);
}

/* number * 2^exp2 in nano-units, rounded away from zero, capped at 2^63-1
 * units. The number is split at the nano digit: the digits above it are a
 * whole count of nano-units, and the digits below are a fraction whose
 * product with 2^exp2 is worked out digit by digit from the right, so any
 * length of input is exact without big numbers. */
static int parse_binary(const scanned *r, int exp2, quantity *q, quantity_format *fmt, const char **why) {
  size_t len = r->num_len + r->den_len;
  size_t first = 0;
  while (first < len && digit_at(r, first) == '0') first++;
  if (first == len) return make_value(0, 0, 0, &q->value, &q->scale, why);

  size_t whole_end = r->den_len <= 9 ? len : len - (r->den_len - 9);
  unsigned pad = r->den_len <= 9 ? (unsigned)(9 - r->den_len) : 0;
  size_t whole_digits = whole_end > first ? whole_end - first : 0;
  u128 nano = BINARY_CAP_NANO;
  /* 10^30 nano-units times 2^10 is already past the cap. */
  if (whole_digits + pad <= 30) {
    u128 whole = whole_digits ? digits_value(r, first, whole_end - 1) * pow10_tab[pad] : 0;
    if (whole <= (BINARY_CAP_NANO >> exp2)) {
      u128 carry = 0;
      int inexact = 0;
      for (size_t i = len; i > whole_end; i--) {
        u128 t = (u128)(unsigned)(digit_at(r, i - 1) - '0') * ((u128)1 << exp2) + carry;
        if (t % 10) inexact = 1;
        carry = t / 10;
      }
      u128 sum = (whole << exp2) + carry + (u128)inexact;
      if (sum < nano) nano = sum;
    }
  }
  *fmt = nano < NANO_PER_UNIT ? QUANTITY_DECIMAL_SI : QUANTITY_BINARY_SI;
  return make_value(r->neg, nano, -9, &q->value, &q->scale, why);
}

static void set_error(char *errbuf, size_t errlen, const char *msg) {
  if (errbuf && errlen) snprintf(errbuf, errlen, "%s", msg);
}

int quantity_parse_err(const char *s, quantity *out, char *errbuf, size_t errlen) {
  set_error(errbuf, errlen, "");
  if (s == NULL || *s == '\0') {
    set_error(errbuf, errlen, err_format);
    return CUBIT_EINVAL;
  }
  scanned r;
  if (scan(s, strlen(s), &r) != 0) {
    set_error(errbuf, errlen, err_format);
    return CUBIT_EINVAL;
  }
  quantity_format fmt;
  int64_t exp10;
  int exp2;
  if (interpret_suffix(r.suf, r.suf_len, &fmt, &exp10, &exp2) != 0) {
    set_error(errbuf, errlen, err_suffix);
    return CUBIT_EINVAL;
  }
  /* A number that is only a sign or a dot is zero to apimachinery's fast
   * path, but its exact path (taken below nano, and for Pi and Ei) cannot
   * read it. */
  if (!r.has_digit && (fmt == QUANTITY_BINARY_SI ? exp2 >= 50 : exp10 < -9)) {
    set_error(errbuf, errlen, err_numeric);
    return CUBIT_EINVAL;
  }
  quantity q = {.format = fmt};
  const char *why = NULL;
  int err = fmt == QUANTITY_BINARY_SI ? parse_binary(&r, exp2, &q, &q.format, &why)
                                      : parse_decimal(&r, exp10, &q, &why);
  if (err) {
    set_error(errbuf, errlen, why);
    return err;
  }
  *out = q;
  return 0;
}

int quantity_parse(const char *s, quantity *out) {
  return quantity_parse_err(s, out, NULL, 0);
}

/* ---- formatting ------------------------------------------------------- */

/* Appends the decimal digits of x to p; returns the new end. */
static char *put_u128(char *p, u128 x) {
  char tmp[40];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + (int)(x % 10));
    x /= 10;
  } while (x);
  while (n) *p++ = tmp[--n];
  return p;
}

void quantity_string(const quantity *q, char out[QUANTITY_STRLEN]) {
  static const char *const binary_suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  static const char *const decimal_suffix[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  if (q->value == 0) {
    strcpy(out, "0");
    return;
  }
  u128 mag = magnitude_of(q->value);
  int64_t scale = q->scale;
  while (mag % 10 == 0) {
    mag /= 10;
    scale++;
  }
  char *p = out;
  if (q->value < 0) *p++ = '-';

  quantity_format fmt = q->format;
  if (fmt == QUANTITY_BINARY_SI) {
    /* Whole values of at least 1024 in magnitude are written in powers of
     * 1024; anything else would need rounding, and a value beyond the
     * BinarySI cap would read back as the cap, so it is written DecimalSI. */
    u128 whole;
    if (scale >= 0 && scale <= 38 && !__builtin_mul_overflow(mag, pow10_tab[scale], &whole) &&
        whole >= 1024 && whole <= (u128)INT64_MAX) {
      int e = 0;
      while (e < 6 && whole % 1024 == 0) {
        whole /= 1024;
        e++;
      }
      p = put_u128(p, whole);
      strcpy(p, binary_suffix[e]);
      return;
    }
    fmt = QUANTITY_DECIMAL_SI;
  } else if (fmt != QUANTITY_DECIMAL_SI) {
    fmt = QUANTITY_DECIMAL_EXPONENT;
  }

  /* Lower the exponent to a multiple of three, padding the digits. */
  int64_t pad = ((scale % 3) + 3) % 3;
  p = put_u128(p, mag);
  for (int64_t i = 0; i < pad; i++) *p++ = '0';
  scale -= pad;
  if (fmt == QUANTITY_DECIMAL_SI && scale >= -9 && scale <= 18) {
    strcpy(p, decimal_suffix[(scale + 9) / 3]);
  } else if (scale != 0) {
    snprintf(p, (size_t)(out + QUANTITY_STRLEN - p), "e%lld", (long long)scale);
  } else {
    *p = '\0';
  }
}

/* ---- comparison and arithmetic ----------------------------------------- */

int quantity_sign(const quantity *q) {
  return q->value > 0 ? 1 : q->value < 0 ? -1 : 0;
}

int quantity_is_zero(const quantity *q) {
  return q->value == 0;
}

/* Compares two non-zero magnitudes with their scales. */
static int cmp_magnitude(u128 ma, int64_t sa, u128 mb, int64_t sb) {
  int64_t order_a = digit_count(ma) + sa, order_b = digit_count(mb) + sb;
  if (order_a != order_b) return order_a < order_b ? -1 : 1;
  /* Same order of magnitude: the scales differ by fewer than 39 digits. */
  u128 shifted;
  if (sa > sb) {
    if (__builtin_mul_overflow(ma, pow10_tab[sa - sb], &shifted)) return 1;
    ma = shifted;
  } else if (sb > sa) {
    if (__builtin_mul_overflow(mb, pow10_tab[sb - sa], &shifted)) return -1;
    mb = shifted;
  }
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

int quantity_cmp(const quantity *a, const quantity *b) {
  int sa = quantity_sign(a), sb = quantity_sign(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int c = cmp_magnitude(magnitude_of(a->value), a->scale, magnitude_of(b->value), b->scale);
  return sa < 0 ? -c : c;
}

/* a + (negate_b ? -b : b). Both operands are normalised, so when aligning
 * the larger-scaled one overflows 128 bits, the other has a non-zero last
 * digit, the exact result has no trailing zero and is too big anyway. */
static int add_signed(quantity *a, const quantity *b, int negate_b) {
  quantity_format fmt = a->value == 0 ? b->format : a->format;
  int neg_b = (b->value < 0) != negate_b;
  if (b->value == 0) return store_result(a, *a, fmt);
  if (a->value == 0) {
    quantity r = *b;
    r.value = neg_b ? -(quantity_int128)magnitude_of(b->value) : (quantity_int128)magnitude_of(b->value);
    return store_result(a, r, fmt);
  }
  int neg_a = a->value < 0;
  u128 ma = magnitude_of(a->value), mb = magnitude_of(b->value);
  int64_t scale = a->scale < b->scale ? a->scale : b->scale;
  int64_t shift_a = a->scale - scale, shift_b = b->scale - scale;
  if (shift_a > 38 || shift_b > 38 || __builtin_mul_overflow(ma, pow10_tab[shift_a], &ma) ||
      __builtin_mul_overflow(mb, pow10_tab[shift_b], &mb))
    return CUBIT_ETOOBIG;
  u128 mag;
  int neg;
  if (neg_a == neg_b) {
    if (__builtin_add_overflow(ma, mb, &mag)) return CUBIT_ETOOBIG;
    neg = neg_a;
  } else if (ma >= mb) {
    mag = ma - mb;
    neg = neg_a;
  } else {
    mag = mb - ma;
    neg = neg_b;
  }
  quantity r;
  int err = set_quantity(&r, neg, mag, scale);
  return err ? err : store_result(a, r, fmt);
}

int quantity_add(quantity *a, const quantity *b) {
  return add_signed(a, b, 0);
}

int quantity_sub(quantity *a, const quantity *b) {
  return add_signed(a, b, 1);
}

int quantity_mul_int(quantity *q, int64_t n) {
  if (q->value == 0) return 0;
  if (n == 0) {
    q->value = 0;
    q->scale = 0;
    return 0;
  }
  int neg = (q->value < 0) != (n < 0);
  u128 m = magnitude_of(q->value);
  u128 k = n < 0 ? (u128)0 - (u128)(quantity_int128)n : (u128)n;
  int64_t scale = q->scale;
  while (k % 10 == 0) {
    k /= 10;
    scale++;
  }
  /* Take every factor of ten out of the product before forming it, so the
   * product is the normalised magnitude and an overflow really is one. */
  while ((m % 2 == 0 || k % 2 == 0) && (m % 5 == 0 || k % 5 == 0)) {
    if (m % 2 == 0)
      m /= 2;
    else
      k /= 2;
    if (m % 5 == 0)
      m /= 5;
    else
      k /= 5;
    scale++;
  }
  u128 mag;
  if (__builtin_mul_overflow(m, k, &mag)) return CUBIT_ETOOBIG;
  quantity r;
  int err = set_quantity(&r, neg, mag, scale);
  return err ? err : store_result(q, r, q->format);
}

void quantity_neg(quantity *q) {
  q->value = -q->value;
}

/* ---- construction and conversion --------------------------------------- */

quantity quantity_from_scaled(int64_t v, int scale, quantity_format f) {
  quantity q = {.format = f};
  u128 mag = v < 0 ? (u128)0 - (u128)(quantity_int128)v : (u128)v;
  if (set_quantity(&q, v < 0, mag, scale) != 0) {
    fprintf(stderr, "cubit: quantity_from_scaled: scale %d is outside +-%d\n", scale, QUANTITY_MAX_SCALE);
    abort();
  }
  return q;
}

quantity quantity_from_int(int64_t v, quantity_format f) {
  return quantity_from_scaled(v, 0, f);
}

quantity quantity_from_milli(int64_t milli, quantity_format f) {
  return quantity_from_scaled(milli, -3, f);
}

int quantity_scaled_value_checked(const quantity *q, int scale, int64_t *out) {
  if (q->value == 0) {
    *out = 0;
    return 0;
  }
  int neg = q->value < 0;
  u128 mag = magnitude_of(q->value), r = 0;
  int64_t shift = (int64_t)q->scale - scale;
  int overflow = 0;
  if (shift >= 0) {
    overflow = shift > 38 || __builtin_mul_overflow(mag, pow10_tab[shift], &r);
  } else if (-shift > 38) {
    r = 1; /* |value| < 10^38 <= 10^-shift: only the rounding unit remains */
  } else {
    u128 d = pow10_tab[-shift];
    r = mag / d + (mag % d != 0);
  }
  u128 limit = neg ? (u128)INT64_MAX + 1 : (u128)INT64_MAX;
  if (overflow || r > limit) {
    *out = neg ? INT64_MIN : INT64_MAX;
    return CUBIT_ETOOBIG;
  }
  *out = (int64_t)(neg ? -(quantity_int128)r : (quantity_int128)r);
  return 0;
}

int64_t quantity_scaled_value(const quantity *q, int scale) {
  int64_t v;
  (void)!quantity_scaled_value_checked(q, scale, &v);
  return v;
}

int64_t quantity_value(const quantity *q) {
  return quantity_scaled_value(q, 0);
}

int64_t quantity_milli_value(const quantity *q) {
  return quantity_scaled_value(q, -3);
}
