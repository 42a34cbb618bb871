// Addressing of one head for one sequence and one step (Graves et al. 2014, section 3.3):
// content weights from the cosine similarity (eqs. 5-6), interpolation (eq. 7), convolutional
// shift (eq. 8) and sharpening (eq. 9), and their backward pass. The formulas, epsilons and
// index conventions are those of ntmkit/addressing.py, the readable definition. The memory
// is transposed, M^T [W, N] (see memory.h).
#pragma once

#include "kernels.h"

namespace ntmkit {

// What the backward pass of one head's addressing needs from its forward pass (each [N]).
template <typename T>
struct HeadTape {
  T* similarity;  // K[k, M_i]
  T* denominator;  // sqrt(|k|^2 |M_i|^2 + eps)
  T* content;  // w_c
  T* gated;  // w_g
  T* shifted;  // w~
  T* log_shifted;  // log(w~ + eps)
};

constexpr int64_t kHeadTapeArrays = 6;

// The head's parameters after their activations.
template <typename T>
struct HeadValues {
  const T* key;  // [W]
  T beta;
  T gate;
  const T* shift;  // [S], a distribution over offsets -R..R
  T gamma;
};

// The gradients of a head's parameters.
template <typename T>
struct HeadGrads {
  T* key;  // [W]
  T beta;
  T gate;
  T* shift;  // [S]
  T gamma;
};

struct Sizes {
  int64_t N;  // slots
  int64_t W;  // word size
  int64_t S;  // shift offsets
  bool circular;  // shift mode
  double cosine_eps;  // ntmkit.numerics.COSINE_EPSILON
  double sharpen_eps;  // ntmkit.numerics.SHARPEN_EPSILON
};

// out[i] += weight * in[i - o] for every slot i, under the shift mode; the bulk of the slots
// is one contiguous loop.
template <typename T>
inline void add_shifted(const T* in, T weight, int64_t o, const Sizes& s, T* out) {
  const int64_t N = s.N;
  const int64_t lo = o > 0 ? o : 0, hi = o < 0 ? N + o : N;  // i - o stays inside [0, N)
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) out[i] += weight * in[i - o];
  if (!s.circular) return;
  for (int64_t i = 0; i < lo; ++i) out[i] += weight * in[i - o + N];
  for (int64_t i = hi; i < N; ++i) out[i] += weight * in[i - o - N];
}

// row_sq[i] = |M_i|^2, shared by every head of the step.
template <typename T>
void row_norms(const T* memory, int64_t N, int64_t W, T* row_sq) {
  fill(row_sq, T(0), N);
  for (int64_t j = 0; j < W; ++j) {
    const T* row = memory + j * N;
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) row_sq[i] += row[i] * row[i];
  }
}

// sum_i a[i] b[i - o] under the shift mode (the weight gradient of add_shifted).
template <typename T>
inline T shifted_dot(const T* a, const T* b, int64_t o, const Sizes& s) {
  const int64_t N = s.N;
  const int64_t lo = o > 0 ? o : 0, hi = o < 0 ? N + o : N;
  T total = dot(a + lo, b + lo - o, hi - lo);
  if (!s.circular) return total;
  for (int64_t i = 0; i < lo; ++i) total += a[i] * b[i - o + N];
  for (int64_t i = hi; i < N; ++i) total += a[i] * b[i - o - N];
  return total;
}

// w = address(M, w_prev, head).
template <typename T>
void address_forward(const T* memory, const T* row_sq, const T* w_prev, const HeadValues<T>& v,
                     const Sizes& s, const HeadTape<T>& tape, T* w) {
  const int64_t N = s.N, W = s.W, S = s.S, R = S / 2;
  // Scalars in locals: a store through a T* could alias them, which would stop vectorising.
  const T key_sq = dot(v.key, v.key, W), eps = T(s.cosine_eps), beta = v.beta, gamma = v.gamma;
  T *similarity = tape.similarity, *denominator = tape.denominator, *content = tape.content;
  T *gated = tape.gated, *shifted = tape.shifted, *log_shifted = tape.log_shifted;
  fill(similarity, T(0), N);  // first the dot products k . M_i
  for (int64_t j = 0; j < W; ++j) {
    const T k = v.key[j];
    const T* row = memory + j * N;
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) similarity[i] += k * row[i];
  }
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    const T d = std::sqrt(key_sq * row_sq[i] + eps);
    denominator[i] = d;
    similarity[i] /= d;
    gated[i] = beta * similarity[i];  // scratch: the content logits
  }
  softmax(gated, content, N);
  // torch.lerp(w_prev, w_c, g), with its two formulas for the two halves of g.
  const T g = v.gate;
  if (g < T(0.5)) {
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) gated[i] = w_prev[i] + g * (content[i] - w_prev[i]);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) {
      gated[i] = content[i] - (content[i] - w_prev[i]) * (T(1) - g);
    }
  }
  // w~[i] = sum_k s[S-1-k] w_g[i + k - R]: offset o = R - k moves slot i - o to slot i.
  fill(shifted, T(0), N);
  for (int64_t k = 0; k < S; ++k) add_shifted(gated, v.shift[S - 1 - k], R - k, s, shifted);
  const T sharpen_eps = T(s.sharpen_eps);
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    log_shifted[i] = vlog(shifted[i] + sharpen_eps);
    w[i] = gamma * log_shifted[i];
  }
  softmax(w, w, N);
}

// Backward of `address_forward` given dw = dL/dw [N] (overwritten as scratch). Adds to
// d_memory [N, W] and d_w_prev [N]; writes the parameter gradients into g. scratch: [2N].
template <typename T>
void address_backward(const T* memory, const T* row_sq, const T* w_prev, const T* w,
                      const HeadValues<T>& v, const Sizes& s, const HeadTape<T>& tape, T* dw,
                      T* scratch, T* d_memory, T* d_w_prev, HeadGrads<T>& g) {
  const int64_t N = s.N, W = s.W, S = s.S, R = S / 2;
  T* d_shifted = scratch;  // [N]
  T* d_gated = scratch + N;  // [N]
  // Sharpening: w = softmax(gamma * log(w~ + eps)).
  // Scalars in locals: a store through a T* could alias them, which would stop vectorising.
  const T beta_v = v.beta, gate_v = v.gate, gamma_v = v.gamma, sharpen_eps = T(s.sharpen_eps);
  const T *similarity = tape.similarity, *denominator = tape.denominator, *content = tape.content;
  const T *gated = tape.gated, *shifted = tape.shifted, *log_shifted = tape.log_shifted;
  T along = dot(dw, w, N);
  T gamma = 0;
#pragma omp simd reduction(+ : gamma)
  for (int64_t i = 0; i < N; ++i) {
    const T dz = w[i] * (dw[i] - along);
    gamma += dz * log_shifted[i];
    d_shifted[i] = gamma_v * dz / (shifted[i] + sharpen_eps);
  }
  g.gamma = gamma;
  // Shift: the transpose of add_shifted for each offset.
  fill(d_gated, T(0), N);
  for (int64_t k = 0; k < S; ++k) {
    const int64_t o = R - k;
    add_shifted(d_shifted, v.shift[S - 1 - k], -o, s, d_gated);
    g.shift[S - 1 - k] = shifted_dot(d_shifted, gated, o, s);
  }
  // Interpolation: w_g = lerp(w_prev, w_c, g).
  T* d_content = dw;  // dw is no longer needed
  T gate = 0;
  const T weight = gate_v;
#pragma omp simd reduction(+ : gate)
  for (int64_t i = 0; i < N; ++i) {
    gate += d_gated[i] * (content[i] - w_prev[i]);
    d_content[i] = weight * d_gated[i];
    d_w_prev[i] += (T(1) - weight) * d_gated[i];
  }
  g.gate = gate;
  // Content weights: w_c = softmax(beta * K); then the cosine similarity. d_shifted is reused
  // for dL/d(dot_i) and d_gated for dL/d(D_i^2).
  along = dot(d_content, content, N);
  const T key_sq = dot(v.key, v.key, W);
  T beta = 0, key_scale = 0;  // key_scale: sum_i dL/d(D_i^2) |M_i|^2
  T* d_dot = d_shifted;
  T* d_sq = d_gated;
#pragma omp simd reduction(+ : beta, key_scale)
  for (int64_t i = 0; i < N; ++i) {
    const T dz = content[i] * (d_content[i] - along);
    beta += dz * similarity[i];
    d_dot[i] = beta_v * dz / denominator[i];
    d_sq[i] = T(-0.5) * d_dot[i] * similarity[i] / denominator[i];
    key_scale += d_sq[i] * row_sq[i];
  }
  g.beta = beta;
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) d_sq[i] *= T(2) * key_sq;  // now the scale of row i itself
  for (int64_t j = 0; j < W; ++j) {
    const T* row = memory + j * N;
    T* d_row = d_memory + j * N;
    const T k = v.key[j];
    g.key[j] = T(2) * key_scale * k + dot(d_dot, row, N);
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) d_row[i] += d_dot[i] * k + d_sq[i] * row[i];
  }
}

}  // namespace ntmkit
