// Reductions of one short contiguous array to a scalar: sum, maximum and dot product.
//
// An `omp simd reduction` loop vectorises its body, but GCC ends it by spilling the vector
// accumulator to the stack and adding its lanes one after another, in sequence: 16 dependent
// scalar adds for an AVX-512 float register. The engine's arrays are short (N = 128 slots,
// W = 20 word elements), so that epilogue cost as much as the loop itself (perf annotate of
// `write_and_read_forward`: half its samples). Here the lanes are combined by register
// shuffles instead (`_mm512_reduce_add_ps` and the like), where the build targets AVX-512 or
// AVX2, and by the plain loop otherwise. The order of the additions differs from a serial
// sum only by rounding.
#pragma once

#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ntmkit {

// The portable forms, also every double reduction and the build without AVX2.
template <typename T>
inline T dot(const T* a, const T* b, int64_t n) {
  T total = 0;
#pragma omp simd reduction(+ : total)
  for (int64_t i = 0; i < n; ++i) total += a[i] * b[i];
  return total;
}

template <typename T>
inline T sum_of(const T* x, int64_t n) {
  T total = 0;
#pragma omp simd reduction(+ : total)
  for (int64_t i = 0; i < n; ++i) total += x[i];
  return total;
}

// max(x[0..n)); n >= 1.
template <typename T>
inline T max_of(const T* x, int64_t n) {
  T top = x[0];
#pragma omp simd reduction(max : top)
  for (int64_t i = 1; i < n; ++i) top = x[i] > top ? x[i] : top;
  return top;
}

#if defined(__AVX512F__)

// The n % 16 elements past the last whole register, zero elsewhere.
inline __mmask16 tail_mask(int64_t rest) { return static_cast<__mmask16>((1u << rest) - 1u); }

// Two accumulators: two chains of dependent multiply-adds, each half as long.
template <>
inline float dot(const float* a, const float* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps(), other = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    other = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), other);
  }
  acc = _mm512_add_ps(acc, other);
  for (; i + 16 <= n; i += 16) {
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

template <>
inline float sum_of(const float* x, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
  if (i < n) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
  return _mm512_reduce_add_ps(acc);
}

template <>
inline float max_of(const float* x, int64_t n) {
  __m512 top = _mm512_set1_ps(x[0]);  // x[0] again in every lane: harmless for a maximum
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) top = _mm512_max_ps(top, _mm512_loadu_ps(x + i));
  if (i < n) {  // the lanes past the end keep top
    const __mmask16 m = tail_mask(n - i);
    top = _mm512_mask_max_ps(top, m, top, _mm512_maskz_loadu_ps(m, x + i));
  }
  return _mm512_reduce_max_ps(top);
}

#elif defined(__AVX2__)

inline float lanes_sum(__m256 v) {
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(half, _mm_movehdup_ps(half)));
}

inline float lanes_max(__m256 v) {
  __m128 half = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  half = _mm_max_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_max_ss(half, _mm_movehdup_ps(half)));
}

template <>
inline float dot(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  }
  float total = lanes_sum(acc);
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

template <>
inline float sum_of(const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
  float total = lanes_sum(acc);
  for (; i < n; ++i) total += x[i];
  return total;
}

template <>
inline float max_of(const float* x, int64_t n) {
  __m256 top = _mm256_set1_ps(x[0]);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) top = _mm256_max_ps(top, _mm256_loadu_ps(x + i));
  float best = lanes_max(top);
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

#endif

}  // namespace ntmkit
