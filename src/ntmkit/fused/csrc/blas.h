// Matrix products over the batch: MKL's (or any BLAS's) sgemm/dgemm where torch exports one,
// plain loops otherwise.
//
// torch's x86 builds link MKL and export its Fortran-style sgemm_/dgemm_; the weak declarations
// below resolve to them when the engine is loaded, and to null on a build without them, where
// the loops take over. All matrices are row-major with a leading dimension (row stride).
#pragma once

#include <cstdint>

extern "C" {
void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
            const float*, const int*, const float*, const int*, const float*, float*,
            const int*) __attribute__((weak));
void dgemm_(const char*, const char*, const int*, const int*, const int*, const double*,
            const double*, const int*, const double*, const int*, const double*, double*,
            const int*) __attribute__((weak));
}

namespace ntmkit {

inline bool have_blas() { return sgemm_ != nullptr && dgemm_ != nullptr; }

inline void blas(char ta, char tb, int m, int n, int k, const float* a, int lda, const float* b,
                 int ldb, float beta, float* c, int ldc) {
  const float one = 1;
  sgemm_(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc);
}

inline void blas(char ta, char tb, int m, int n, int k, const double* a, int lda, const double* b,
                 int ldb, double beta, double* c, int ldc) {
  const double one = 1;
  dgemm_(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc);
}

// Y[b, n] = beta Y[b, n] + sum_k X[b, k] W[n, k]: a linear layer (W [N, K]) on B rows.
template <typename T>
void gemm_xwt(int64_t B, int64_t N, int64_t K, const T* X, int64_t ldx, const T* W, int64_t ldw,
              T beta, T* Y, int64_t ldy) {
  if (B == 0 || N == 0) return;
  if (have_blas() && K > 0) {
    // Column-major: Y^T (N x B) = W^T' (N x K) X^T (K x B).
    blas('T', 'N', int(N), int(B), int(K), W, int(ldw), X, int(ldx), beta, Y, int(ldy));
    return;
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* x = X + b * ldx;
    T* y = Y + b * ldy;
    for (int64_t n = 0; n < N; ++n) {
      const T* w = W + n * ldw;
      T total = 0;
#pragma omp simd reduction(+ : total)
      for (int64_t k = 0; k < K; ++k) total += x[k] * w[k];
      y[n] = (beta == T(0) ? T(0) : beta * y[n]) + total;
    }
  }
}

// dX[b, k] = beta dX[b, k] + sum_n dY[b, n] W[n, k]: the input gradient of `gemm_xwt`.
template <typename T>
void gemm_yw(int64_t B, int64_t K, int64_t N, const T* dY, int64_t ldy, const T* W, int64_t ldw,
             T beta, T* dX, int64_t ldx) {
  if (B == 0 || K == 0) return;
  if (have_blas() && N > 0) {
    // Column-major: dX^T (K x B) = W' (K x N) dY^T (N x B).
    blas('N', 'N', int(K), int(B), int(N), W, int(ldw), dY, int(ldy), beta, dX, int(ldx));
    return;
  }
  for (int64_t b = 0; b < B; ++b) {
    T* dx = dX + b * ldx;
    const T* dy = dY + b * ldy;
    for (int64_t k = 0; k < K; ++k) dx[k] = beta == T(0) ? T(0) : beta * dx[k];
    for (int64_t n = 0; n < N; ++n) {
      const T g = dy[n];
      if (g == T(0)) continue;
      const T* w = W + n * ldw;
#pragma omp simd
      for (int64_t k = 0; k < K; ++k) dx[k] += g * w[k];
    }
  }
}

}  // namespace ntmkit
