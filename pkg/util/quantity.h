/* Kubernetes resource quantities ("500m", "1.5Gi", "1e3"), exact and without
 * floating point, with the semantics of k8s.io/apimachinery's
 * resource.Quantity: the same grammar, the same parse errors, the same
 * rounding and the same canonical strings.
 *
 * Grammar (apimachinery's):
 *   quantity  ::= [+-]? number suffix
 *   number    ::= digits | digits "." digits? | "." digits?
 *   suffix    ::= "" | n u m k M G T P E          (DecimalSI, powers of 1000)
 *               | Ki Mi Gi Ti Pi Ei               (BinarySI, powers of 1024)
 *               | (e|E) [+-]? digits              (DecimalExponent)
 * No white space anywhere. Like apimachinery, a number may be only a sign
 * or a dot ("+", ".", "k" all read as zero).
 *
 * Semantics kept from apimachinery:
 *   - A non-zero value finer than 10^-9 is rounded away from zero to the next
 *     nano ("0.9n" -> "1n", "-3.001n" -> "-4n").
 *   - A BinarySI quantity is silently capped at 2^63-1 in magnitude ("9Ei");
 *     one strictly between 0 and 1 becomes DecimalSI ("0.000000000001Ki").
 *     Decimal quantities are not capped.
 *   - The format remembered from the suffix decides the canonical string;
 *     see quantity_string().
 *
 * Representation and range: a quantity is value * 10^scale with a signed
 * 128-bit value of at most QUANTITY_MAX_DIGITS (38) significant decimal
 * digits and |scale| <= QUANTITY_MAX_SCALE. That holds every quantity a
 * cluster uses (int64 bytes, millicores, nano-units) with room to sum
 * millions of them. apimachinery falls back to arbitrary precision beyond
 * int64; where a value would need more than 38 significant digits or a
 * larger exponent, parsing and arithmetic return CUBIT_ETOOBIG instead (and
 * the arithmetic leaves the receiver unchanged). No function allocates.
 *
 * Deliberate differences from apimachinery (v0.34), where it is wrong or
 * cannot be matched without keeping the input:
 *   - apimachinery's String() returns the parsed text itself when it judges
 *     it canonical, which lets "+1", "01M", "1.500k" and "424E-3" through
 *     unchanged; quantity_string always writes the canonical form ("1",
 *     "1M", "1500", "424e-3"), as its CanonicalizeBytes does.
 *   - A DecimalSI value whose exponent has no suffix is written in exponent
 *     form ("1000E" -> "1e21", as apimachinery's main branch does; v0.34
 *     drops the exponent and writes "1").
 *   - Arithmetic keeps a BinarySI result within the range parsing gives it
 *     (|value| <= 2^63-1) and returns CUBIT_ETOOBIG beyond: apimachinery
 *     adds 4Ei + 4Ei to 2^63, writes it "8Ei" and reads that back as
 *     2^63-1. A BinarySI value beyond 2^63-1 made otherwise (quantity_from_*
 *     or a changed format) is written as DecimalSI, so every canonical
 *     string reads back as the value it was written from.
 *   - Exponents are not truncated to int32: a non-zero value with an
 *     exponent beyond the range is CUBIT_ETOOBIG, and a very negative one
 *     rounds up to 1n.
 *   - The int64 accessors round away from zero for every value and saturate;
 *     apimachinery wraps on overflow, and for a value it holds in big
 *     decimal form it gets negative ones wrong ("-9.34728269917408855954"
 *     gives Value() -8). */
#ifndef CUBIT_UTIL_QUANTITY_H
#define CUBIT_UTIL_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Room for any canonical string, sign and suffix included, and the NUL. */
#define QUANTITY_STRLEN 64
/* The most significant decimal digits a value may have. */
#define QUANTITY_MAX_DIGITS 38
/* The largest base-10 exponent (either sign) of a value's last digit. */
#define QUANTITY_MAX_SCALE 1000000000

typedef enum {
  QUANTITY_DECIMAL_SI = 0, /* 12M = 12 * 10^6; also the format of a zeroed struct */
  QUANTITY_BINARY_SI,      /* 12Mi = 12 * 2^20 */
  QUANTITY_DECIMAL_EXPONENT /* 12e6 */
} quantity_format;

__extension__ typedef __int128 quantity_int128;

/* Plain data: copy it by assignment. A zeroed struct is the quantity "0".
 * Only 'format' is public (read and write it freely, as apimachinery lets
 * callers change Format); the other fields are private. */
typedef struct quantity {
  quantity_int128 value;  /* private: unscaled, no trailing zero digits unless 0 */
  int32_t scale;          /* private: base-10 exponent, 0 when value is 0 */
  quantity_format format; /* public */
} quantity;

/* Parses 's'. Returns 0 and fills *out; CUBIT_EINVAL for malformed input
 * (the cases where ParseQuantity fails); CUBIT_ETOOBIG when the value is
 * well formed but outside the range above. *out is untouched on error. */
int quantity_parse(const char *s, quantity *out) CUBIT_WUR;

/* quantity_parse that also writes the reason into errbuf (NUL-terminated,
 * truncated to errlen; "" on success; errbuf may be NULL). The texts of
 * malformed input are apimachinery's own, so users read the message the
 * API server would give them:
 *   "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
 *   "unable to parse quantity's suffix"
 *   "unable to parse numeric part of quantity"
 * and for CUBIT_ETOOBIG, e.g. "quantity has more than 38 significant digits". */
int quantity_parse_err(const char *s, quantity *out, char *errbuf, size_t errlen) CUBIT_WUR;

/* Writes the canonical form (apimachinery's String()) into out: no fraction,
 * the largest suffix that keeps the value exact, the sign only when
 * negative. DecimalSI and DecimalExponent use an exponent that is a multiple
 * of 3 ("1.5" -> "1500m", "1e3" stays "1e3", "12E-3" -> "12e-3"); BinarySI
 * uses the largest power of 1024 ("1.5Gi" -> "1536Mi") and falls back to
 * DecimalSI for a value that is fractional, smaller than 1024 or beyond
 * 2^63-1 in magnitude ("5" stays "5", "0.5Ki" -> "512"). Zero is "0". An unknown
 * format is written as DecimalExponent, as apimachinery does. */
void quantity_string(const quantity *q, char out[QUANTITY_STRLEN]);

/* Returns -1, 0 or 1 as a < b, a == b, a > b, exactly, whatever the formats. */
int quantity_cmp(const quantity *a, const quantity *b);

/* a += b, a -= b, exactly. The result keeps a's format, except that a zero
 * receiver takes b's format (apimachinery's Add and Sub). Returns 0, or
 * CUBIT_ETOOBIG with a unchanged when the result is out of range: more than
 * 38 digits, an exponent beyond QUANTITY_MAX_SCALE, or a BinarySI result
 * beyond 2^63-1 in magnitude. */
int quantity_add(quantity *a, const quantity *b) CUBIT_WUR;
int quantity_sub(quantity *a, const quantity *b) CUBIT_WUR;

/* q *= n, exactly; the format is kept. Returns 0, or CUBIT_ETOOBIG with q
 * unchanged when the result is out of range (as for quantity_add). */
int quantity_mul_int(quantity *q, int64_t n) CUBIT_WUR;

/* q = -q (always representable). */
void quantity_neg(quantity *q);

/* v, v/1000 and v * 10^scale in format f (apimachinery's NewQuantity,
 * NewMilliQuantity, NewScaledQuantity). 'scale' must lie within
 * +-QUANTITY_MAX_SCALE: callers pass constants, and a scale outside that is a
 * programming error that aborts with a message. */
quantity quantity_from_int(int64_t v, quantity_format f);
quantity quantity_from_milli(int64_t milli, quantity_format f);
quantity quantity_from_scaled(int64_t v, int scale, quantity_format f);

/* The value in units of 10^scale, rounded away from zero when inexact
 * (apimachinery's ScaledValue, Value = scale 0, MilliValue = scale -3):
 * "1.1" -> 2, "-1.1" -> -2, "1n" -> milli value 1. Saturates at INT64_MAX
 * or INT64_MIN when out of range; use quantity_scaled_value_checked to tell. */
int64_t quantity_value(const quantity *q);
int64_t quantity_milli_value(const quantity *q);
int64_t quantity_scaled_value(const quantity *q, int scale);
/* The same, returning 0 or CUBIT_ETOOBIG (with *out saturated) when the value
 * does not fit an int64: quota accounting must not round a huge quantity down. */
int quantity_scaled_value_checked(const quantity *q, int scale, int64_t *out) CUBIT_WUR;

/* 1 when q is zero, else 0. */
int quantity_is_zero(const quantity *q);
/* -1, 0 or 1. */
int quantity_sign(const quantity *q);

#endif
