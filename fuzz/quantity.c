/* pkg/util/quantity. Input: up to three lines "A\nB\nN": quantities A and B
 * and an integer factor N.
 *
 * Properties:
 *   - parse errors are CUBIT_EINVAL or CUBIT_ETOOBIG with a message;
 *   - format(parse(A)) parses to the same value and formats to the same
 *     string (the canonical string is a fixed point; for BinarySI from the
 *     second writing, see round_trip);
 *   - the int64 accessors round away from zero by less than one unit;
 *   - A+B, A-B and A*N either fail with CUBIT_ETOOBIG leaving A unchanged,
 *     or are exact: (A+B)-B == A, the sign of (A+B)-A is the sign of B,
 *     A+B == B+A, A*2 == A+A (same result, same failure), and every result's
 *     string reads back as the result (issue 13: 4Ei + 4Ei). */
#include "fuzz.h"
#include "util/quantity.h"

/* A BinarySI value that is no multiple of 1024 is written without a suffix
 * ("62.5Ki" -> "64000", as apimachinery does) and reads back as DecimalSI,
 * which writes it "64k": the value survives, the format need not. So the
 * string is a fixed point from the second writing on. */
static void round_trip(const quantity *q, const char *what) {
  char s[QUANTITY_STRLEN], s2[QUANTITY_STRLEN], s3[QUANTITY_STRLEN], err[256];
  quantity_string(q, s);
  quantity back, again;
  int rc = quantity_parse_err(s, &back, err, sizeof(err));
  FUZZ_ASSERT(rc == 0, "%s: its string \"%s\" does not parse: %s", what, s, err);
  FUZZ_ASSERT(quantity_cmp(q, &back) == 0, "%s: \"%s\" reads back as a different value", what, s);
  quantity_string(&back, s2);
  if (q->format != QUANTITY_BINARY_SI || back.format == QUANTITY_BINARY_SI)
    FUZZ_ASSERT(strcmp(s, s2) == 0, "%s: \"%s\" reads back and formats as \"%s\"", what, s, s2);
  rc = quantity_parse_err(s2, &again, err, sizeof(err));
  FUZZ_ASSERT(rc == 0 && quantity_cmp(q, &again) == 0, "%s: \"%s\" does not read back as the value", what, s2);
  quantity_string(&again, s3);
  FUZZ_ASSERT(strcmp(s2, s3) == 0, "%s: \"%s\" reads back and formats as \"%s\"", what, s2, s3);
}

/* v (in units of 10^scale) is q rounded away from zero: one unit less in
 * magnitude would not reach q. */
static void check_rounding(const quantity *q, int scale) {
  int64_t v;
  if (quantity_scaled_value_checked(q, scale, &v) != 0) return;
  quantity exact = quantity_from_scaled(v, scale, QUANTITY_DECIMAL_SI);
  int sign = quantity_sign(q);
  if (sign == 0) {
    FUZZ_ASSERT(v == 0, "zero has value %lld at scale %d", (long long)v, scale);
    return;
  }
  quantity inner = quantity_from_scaled(v - sign, scale, QUANTITY_DECIMAL_SI);
  FUZZ_ASSERT(quantity_cmp(&exact, q) * sign >= 0, "value %lld at scale %d is rounded toward zero", (long long)v,
              scale);
  FUZZ_ASSERT(quantity_cmp(&inner, q) * sign < 0, "value %lld at scale %d is more than one unit away", (long long)v,
              scale);
}

static void check_sum(const quantity *a, const quantity *b) {
  quantity sum = *a;
  int rc = quantity_add(&sum, b);
  FUZZ_ASSERT(rc == 0 || rc == CUBIT_ETOOBIG, "add returned %d", rc);
  if (rc) {
    FUZZ_ASSERT(quantity_cmp(&sum, a) == 0 && sum.format == a->format, "a failed add changed its receiver");
    return;
  }
  round_trip(&sum, "A+B");
  quantity diff = sum;
  if (quantity_sub(&diff, b) == 0) FUZZ_ASSERT(quantity_cmp(&diff, a) == 0, "(A+B)-B differs from A");
  quantity grew = sum;
  if (quantity_sub(&grew, a) == 0)
    FUZZ_ASSERT(quantity_sign(&grew) == quantity_sign(b), "(A+B)-A has a sign other than B's: a wrapped sum");
  quantity other = *b;
  if (quantity_add(&other, a) == 0) FUZZ_ASSERT(quantity_cmp(&other, &sum) == 0, "B+A differs from A+B");

  quantity d = *a;
  if (quantity_sub(&d, b) == 0) round_trip(&d, "A-B");
}

static void check_product(const quantity *a, int64_t n) {
  quantity p = *a;
  int rc = quantity_mul_int(&p, n);
  FUZZ_ASSERT(rc == 0 || rc == CUBIT_ETOOBIG, "mul returned %d", rc);
  if (rc) {
    FUZZ_ASSERT(quantity_cmp(&p, a) == 0 && p.format == a->format, "a failed mul changed its receiver");
  } else {
    round_trip(&p, "A*N");
    int want = quantity_sign(a) * (n > 0 ? 1 : n < 0 ? -1 : 0);
    FUZZ_ASSERT(quantity_sign(&p) == want, "A*N has the wrong sign: a wrapped product");
  }
  quantity twice = *a, doubled = *a;
  int rc_mul = quantity_mul_int(&twice, 2), rc_add = quantity_add(&doubled, a);
  FUZZ_ASSERT(rc_mul == rc_add, "A*2 returned %d but A+A %d", rc_mul, rc_add);
  if (rc_mul == 0)
    FUZZ_ASSERT(quantity_cmp(&twice, &doubled) == 0 && twice.format == doubled.format, "A*2 differs from A+A");
}

static int parse_checked(const char *s, quantity *q) {
  char err[256] = "x";
  int rc = quantity_parse_err(s, q, err, sizeof(err));
  if (rc == 0) {
    FUZZ_ASSERT(err[0] == '\0', "success leaves a message: %s", err);
    return 1;
  }
  FUZZ_ASSERT(rc == CUBIT_EINVAL || rc == CUBIT_ETOOBIG, "parse returned %d", rc);
  FUZZ_ASSERT(err[0] != '\0', "an error without a message");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  char *second = fuzz_split_line(text);
  char *third = second ? fuzz_split_line(second) : NULL;
  quantity a, b;
  if (parse_checked(text, &a)) {
    round_trip(&a, "A");
    check_rounding(&a, 0);
    check_rounding(&a, -3);
    check_rounding(&a, -9);
    if (second && parse_checked(second, &b)) {
      round_trip(&b, "B");
      check_sum(&a, &b);
    }
    if (third) check_product(&a, strtoll(third, NULL, 10));
  }
  free(text);
  return 0;
}
