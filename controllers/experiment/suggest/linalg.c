/* The little linear algebra the models need, on small dense row-major
 * matrices: Cholesky for the Gaussian process, Jacobi eigen-decomposition
 * for CMA-ES' covariance. */
#include <math.h>
#include <string.h>

#include "controllers/experiment/suggest/internal.h"

/* Four partial sums, so the compiler can keep four multiply-adds in
 * flight without reassociating (which C forbids it to do by itself). */
static double dot(const double *a, const double *b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

int hpo__cholesky(double *a, size_t n) {
  for (size_t j = 0; j < n; j++) {
    double *rj = a + j * n;
    double s = rj[j] - dot(rj, rj, j);
    if (!(s > 0)) return -1;
    double ljj = sqrt(s);
    rj[j] = ljj;
    for (size_t i = j + 1; i < n; i++) {
      double *ri = a + i * n;
      ri[j] = (ri[j] - dot(ri, rj, j)) / ljj;
    }
  }
  return 0;
}

void hpo__solve_lower(const double *l, size_t n, double *b) {
  for (size_t i = 0; i < n; i++) {
    const double *ri = l + i * n;
    b[i] = (b[i] - dot(ri, b, i)) / ri[i];
  }
}

void hpo__solve_upper(const double *l, size_t n, double *b) {
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

void hpo__eigen_sym(double *a, size_t n, double *w, double *v) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) v[i * n + j] = i == j;
  for (int sweep = 0; sweep < 64; sweep++) {
    double off = 0, diag = 0;
    for (size_t i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (size_t j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * diag || off == 0) break;
    for (size_t p = 0; p < n; p++)
      for (size_t q = p + 1; q < n; q++) {
        double apq = a[p * n + q];
        if (apq == 0) continue;
        double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; k++) { /* A <- A J */
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; k++) { /* A <- J^T A */
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (size_t k = 0; k < n; k++) { /* V <- V J */
          double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  for (size_t i = 0; i < n; i++) w[i] = a[i * n + i];
}

double hpo__phi(double z) { return exp(-0.5 * z * z) / sqrt(2 * M_PI); }
double hpo__Phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }
