// Small dense kernels of the fused engine: activations and vector/matrix loops.
//
// Everything works on raw contiguous arrays of one sequence (one batch element) and one step,
// so the compiler can keep them in registers and vectorise the inner loops. Matrices are
// row-major [rows, cols], as torch.nn.Linear stores its weight [out, in].
#pragma once

#include <cmath>
#include <cstdint>

#include "reduce.h"

// With glibc's libmvec (2.35 and later; build.py checks), exp, log1p and tanh inside
// `omp simd` loops become calls to its vector versions (4 ulp at most): these declarations
// say that they exist. Without it, the loops call the scalar functions.
#ifdef NTMKIT_LIBMVEC
extern "C" {
#pragma omp declare simd notinbranch
float expf(float) noexcept;
#pragma omp declare simd notinbranch
double exp(double) noexcept;
#pragma omp declare simd notinbranch
float logf(float) noexcept;
#pragma omp declare simd notinbranch
double log(double) noexcept;
#pragma omp declare simd notinbranch
float log1pf(float) noexcept;
#pragma omp declare simd notinbranch
double log1p(double) noexcept;
#pragma omp declare simd notinbranch
float tanhf(float) noexcept;
#pragma omp declare simd notinbranch
double tanh(double) noexcept;
}
#endif

namespace ntmkit {

inline float vexp(float x) { return expf(x); }
inline double vexp(double x) { return exp(x); }
inline float vlog(float x) { return logf(x); }
inline double vlog(double x) { return log(x); }
inline float vlog1p(float x) { return log1pf(x); }
inline double vlog1p(double x) { return log1p(x); }
inline float vtanh(float x) { return tanhf(x); }
inline double vtanh(double x) { return tanh(x); }

// Activation codes; the Python side sends the index of each name in
// ntmkit.vocabulary.ActivationName (see ntmkit/fused/spec.py).
enum Act : int {
  IDENTITY = 0,
  RELU = 1,
  TANH = 2,
  SIGMOID = 3,
  HARD_SIGMOID = 4,
  SOFTPLUS = 5,
  CLIP01 = 6,
  CLIP11 = 7,
  ONE_PLUS_RELU = 8,
  ONE_PLUS_SOFTPLUS = 9,
  SOFTMAX = 10,
};

// torch.nn.functional.softplus with beta 1: linear above this threshold.
constexpr double SOFTPLUS_THRESHOLD = 20.0;

template <typename T>
inline T clamp(T x, T low, T high) {
  return x < low ? low : (x > high ? high : x);
}

// y = softmax(x) over n elements.
template <typename T>
inline void softmax(const T* x, T* y, int64_t n) {
  const T top = max_of(x, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = vexp(x[i] - top);
  const T scale = T(1) / sum_of(y, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] *= scale;
}

// y = act(x) over n elements; SOFTMAX normalises over the n elements.
template <typename T>
inline void activate(int act, const T* x, T* y, int64_t n) {
  const T threshold = T(SOFTPLUS_THRESHOLD);
  switch (act) {
    case IDENTITY:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      break;
    case RELU:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      break;
    case TANH:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = vtanh(x[i]);
      break;
    case SIGMOID:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + vexp(-x[i]));
      break;
    case HARD_SIGMOID:
      for (int64_t i = 0; i < n; ++i) y[i] = clamp(T(0.2) * x[i] + T(0.5), T(0), T(1));
      break;
    case SOFTPLUS:
    case ONE_PLUS_SOFTPLUS: {
      const T offset = act == SOFTPLUS ? T(0) : T(1);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const T soft = vlog1p(vexp(x[i]));
        y[i] = offset + (x[i] > threshold ? x[i] : soft);
      }
      break;
    }
    case CLIP01:
      for (int64_t i = 0; i < n; ++i) y[i] = clamp(x[i], T(0), T(1));
      break;
    case CLIP11:
      for (int64_t i = 0; i < n; ++i) y[i] = clamp(x[i], T(-1), T(1));
      break;
    case ONE_PLUS_RELU:
      for (int64_t i = 0; i < n; ++i) y[i] = T(1) + (x[i] > T(0) ? x[i] : T(0));
      break;
    default:  // SOFTMAX
      softmax(x, y, n);
  }
}

// dx = dy * act'(x), from the input x and output y of `activate`; the masks at the kinks are
// PyTorch's (relu passes no gradient at 0, clamp passes it at the bounds).
template <typename T>
inline void activate_backward(int act, const T* x, const T* y, const T* dy, T* dx, int64_t n) {
  switch (act) {
    case IDENTITY:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i];
      break;
    case RELU:
    case ONE_PLUS_RELU:
      for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
      break;
    case TANH:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
      break;
    case SIGMOID:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
      break;
    case HARD_SIGMOID:
      for (int64_t i = 0; i < n; ++i) {
        const T v = T(0.2) * x[i] + T(0.5);
        dx[i] = (v >= T(0) && v <= T(1)) ? T(0.2) * dy[i] : T(0);
      }
      break;
    case SOFTPLUS:
    case ONE_PLUS_SOFTPLUS:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const T z = vexp(x[i]);
        dx[i] = x[i] > T(SOFTPLUS_THRESHOLD) ? dy[i] : dy[i] * z / (z + T(1));
      }
      break;
    case CLIP01:
      for (int64_t i = 0; i < n; ++i) dx[i] = (x[i] >= T(0) && x[i] <= T(1)) ? dy[i] : T(0);
      break;
    case CLIP11:
      for (int64_t i = 0; i < n; ++i) dx[i] = (x[i] >= T(-1) && x[i] <= T(1)) ? dy[i] : T(0);
      break;
    default: {  // SOFTMAX
      T dot = 0;
      for (int64_t i = 0; i < n; ++i) dot += dy[i] * y[i];
      for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - dot);
    }
  }
}

// Softmax backward for a distribution y: dx = y * (dy - <dy, y>).
template <typename T>
inline void softmax_backward(const T* y, const T* dy, T* dx, int64_t n) {
  activate_backward(SOFTMAX, y, y, dy, dx, n);
}

// y[r] = bias[r] + sum_c W[r, c] x[c], for W [rows, cols]; bias may be null (zero).
template <typename T>
inline void matvec(const T* W, const T* x, const T* bias, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) y[r] = (bias ? bias[r] : T(0)) + dot(W + r * cols, x, cols);
}

// y[r] += sum_c W[r, c] x[c].
template <typename T>
inline void matvec_add(const T* W, const T* x, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) y[r] += dot(W + r * cols, x, cols);
}

// dx[c] += sum_r W[r, c] dy[r]: the input gradient of `matvec`.
template <typename T>
inline void matvec_t_add(const T* W, const T* dy, T* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T g = dy[r];
    if (g == T(0)) continue;
    const T* row = W + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) dx[c] += row[c] * g;
  }
}

template <typename T>
inline void fill(T* x, T value, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = value;
}

template <typename T>
inline void copy(const T* src, T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

template <typename T>
inline void add_to(const T* src, T* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace ntmkit
