/* Seeded random streams: xoshiro256** (Blackman and Vigna), seeded through
 * splitmix64 so that nearby seeds and stream numbers give unrelated
 * streams. */
#include <math.h>

#include "controllers/experiment/suggest/internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void hpo__rng_init(hpo__rng *r, uint64_t seed, uint64_t stream, uint64_t purpose) {
  uint64_t x = seed;
  x = splitmix64(&x) ^ stream;
  x = splitmix64(&x) ^ purpose;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hpo__rng_u64(hpo__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double hpo__rng_uniform(hpo__rng *r) { return (double)(hpo__rng_u64(r) >> 11) * 0x1.0p-53; }

size_t hpo__rng_below(hpo__rng *r, size_t n) {
  /* Lemire's multiply-shift would be faster; the modulo bias of n << 2^64
   * is far below anything a search could notice. */
  return (size_t)(hpo__rng_u64(r) % (uint64_t)n);
}

double hpo__rng_normal(hpo__rng *r) {
  double u1 = 1.0 - hpo__rng_uniform(r); /* (0, 1]: log(0) never happens */
  double u2 = hpo__rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
