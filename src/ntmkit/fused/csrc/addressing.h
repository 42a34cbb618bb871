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

// One block of `memory_dots`: slots i0..i0+BLOCK of HEADS heads, with the row norms when
// NORMS. Everything is a constant, so the partial sums stay in registers while the W rows go
// by; each is a chain of W dependent multiply-adds, and a block wide enough for several
// independent chains per head keeps the multiply-add units busy (with one register per
// accumulator the chains' latency, not the arithmetic, set the pace: perf annotate).
template <int HEADS, int BLOCK, bool NORMS, typename T>
void block_dots(const T* memory, const T* const* keys, int64_t i0, int64_t N, int64_t W,
                T* row_sq, T* const* dots) {
  T sq[BLOCK] = {}, acc[HEADS][BLOCK] = {};
  for (int64_t j = 0; j < W; ++j) {
    const T* row = memory + j * N + i0;
    if (NORMS) {
#pragma omp simd
      for (int64_t k = 0; k < BLOCK; ++k) sq[k] += row[k] * row[k];
    }
    for (int h = 0; h < HEADS; ++h) {
      const T key = keys[h][j];
#pragma omp simd
      for (int64_t k = 0; k < BLOCK; ++k) acc[h][k] += key * row[k];
    }
  }
  if (NORMS) copy(sq, row_sq + i0, BLOCK);
  for (int h = 0; h < HEADS; ++h) copy(acc[h], dots[h] + i0, BLOCK);
}

// Slots i0.. in blocks of BLOCK for the heads from keys[0] and dots[0] (at most 4); returns
// the first slot past the last whole block.
template <int BLOCK, bool NORMS, typename T>
int64_t blocks_of_dots(const T* memory, const T* const* keys, int64_t heads, int64_t i0,
                       int64_t N, int64_t W, T* row_sq, T* const* dots) {
  for (; i0 + BLOCK <= N; i0 += BLOCK) {
    switch (heads) {
      case 1: block_dots<1, BLOCK, NORMS>(memory, keys, i0, N, W, row_sq, dots); break;
      case 2: block_dots<2, BLOCK, NORMS>(memory, keys, i0, N, W, row_sq, dots); break;
      case 3: block_dots<3, BLOCK, NORMS>(memory, keys, i0, N, W, row_sq, dots); break;
      default: block_dots<4, BLOCK, NORMS>(memory, keys, i0, N, W, row_sq, dots);
    }
  }
  return i0;
}

// Block widths of `memory_dots`, in elements: 64 floats (four AVX-512 registers per
// accumulator) or 16 doubles (two; at 64, four heads' five accumulators would not fit in the
// 32 registers), then 16.
template <typename T>
constexpr int kWideBlock = sizeof(T) == 4 ? 64 : 16;
constexpr int kNarrowBlock = 16;

// One group of at most four heads in wide blocks, then narrow ones; returns the first slot
// past them. Only the first group computes the row norms.
template <bool NORMS, typename T>
int64_t group_dots(const T* memory, const T* const* keys, int64_t heads, int64_t N, int64_t W,
                   T* row_sq, T* const* dots) {
  const int64_t i0 =
      blocks_of_dots<kWideBlock<T>, NORMS>(memory, keys, heads, 0, N, W, row_sq, dots);
  return blocks_of_dots<kNarrowBlock, NORMS>(memory, keys, heads, i0, N, W, row_sq, dots);
}

// eq. 6, ntmkit.addressing.cosine_similarity (its numerator and |M_i|^2).
// The pass over memory that every head of a step shares, the one read of the memory the
// cosine similarity needs: row_sq[i] = |M_i|^2 and dots[h][i] = k_h . M_i. Up to four heads
// at a time, in wide blocks of slots, then narrow ones, then one slot at a time.
template <typename T>
void memory_dots(const T* memory, const T* const* keys, int64_t H, int64_t N, int64_t W,
                 T* row_sq, T* const* dots) {
  int64_t done = 0;
  for (int64_t h0 = 0; h0 < H; h0 += 4) {
    const int64_t heads = H - h0 < 4 ? H - h0 : 4;
    done = h0 == 0 ? group_dots<true>(memory, keys, heads, N, W, row_sq, dots)
                   : group_dots<false>(memory, keys + h0, heads, N, W, row_sq, dots + h0);
  }
  for (int64_t i = done; i < N; ++i) {  // the slots past the last whole block
    row_sq[i] = 0;
    for (int64_t h = 0; h < H; ++h) dots[h][i] = 0;
    for (int64_t j = 0; j < W; ++j) {
      const T m = memory[j * N + i];
      row_sq[i] += m * m;
      for (int64_t h = 0; h < H; ++h) dots[h][i] += keys[h][j] * m;
    }
  }
}

// eq. 8, ntmkit.addressing.shift, for three offsets.
// w~ = shift(w_g) for three offsets (R = 1), the usual case, in one pass: interior slots in
// a contiguous loop, the two end slots by the shift mode.
template <typename T>
inline void shift3(const T* g, const T* shift, const Sizes& s, T* out) {
  const int64_t N = s.N;
  const T s0 = shift[0], s1 = shift[1], s2 = shift[2];
  // w~[i] = s2 w_g[i-1] + s1 w_g[i] + s0 w_g[i+1], summed in ntmkit.addressing.shift's order.
#pragma omp simd
  for (int64_t i = 1; i < N - 1; ++i) out[i] = g[i - 1] * s2 + g[i] * s1 + g[i + 1] * s0;
  const T before_first = s.circular ? g[N - 1] : T(0), after_last = s.circular ? g[0] : T(0);
  out[0] = before_first * s2 + g[0] * s1 + (N > 1 ? g[1] : after_last) * s0;
  if (N > 1) out[N - 1] = g[N - 2] * s2 + g[N - 1] * s1 + after_last * s0;
}

// One content lookup's arrays (each [N]): the NTM's heads and the DNC's keys keep them.
template <typename T>
struct ContentTape {
  T* similarity;  // K[k, M_i]; k . M_i on entry to `content_forward`
  T* denominator;  // sqrt(|k|^2 |M_i|^2 + eps)
  T* content;  // w_c
};

// w_c = softmax(beta K[k, M]) from the dot products k . M_i in tape.similarity (`memory_dots`)
// and the squared row norms |M_i|^2; tape.similarity holds the cosine similarities on return.
template <typename T>
void content_forward(const T* row_sq, const T* key, T beta, const Sizes& s,
                     const ContentTape<T>& tape) {
  const int64_t N = s.N;
  // Scalars in locals: a store through a T* could alias them, which would stop vectorising.
  const T key_sq = dot(key, key, s.W), eps = T(s.cosine_eps), strength = beta;
  T *similarity = tape.similarity, *denominator = tape.denominator, *content = tape.content;
  // eq. 6, ntmkit.addressing.cosine_similarity: k . M_i / sqrt(|k|^2 |M_i|^2 + eps).
  // eq. 5, ntmkit.addressing.content_weights: w_c = softmax(beta K).
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    const T d = std::sqrt(key_sq * row_sq[i] + eps);
    denominator[i] = d;
    similarity[i] /= d;
    content[i] = strength * similarity[i];  // the content logits, then their softmax
  }
  softmax(content, content, N);
}

// eqs. 5-6 backward, ntmkit.addressing.content_weights and cosine_similarity: w_c =
// softmax(beta * K), then the cosine similarity, from d_content = dL/dw_c. Returns dL/dbeta;
// writes d_key [W] but for its part through the memory, which `memory_dots_backward` adds
// from d_dot = dL/d(k . M_i) and row_scale, the factor of row i in dL/dM_i (each [N]).
template <typename T>
T content_backward(const T* row_sq, const T* key, T beta, const Sizes& s,
                   const ContentTape<T>& tape, const T* d_content, T* d_dot, T* row_scale,
                   T* d_key) {
  const int64_t N = s.N, W = s.W;
  const T *similarity = tape.similarity, *denominator = tape.denominator, *content = tape.content;
  const T along = dot(d_content, content, N), key_sq = dot(key, key, W), strength = beta;
  T d_beta = 0, key_scale = 0;  // key_scale: sum_i dL/d(D_i^2) |M_i|^2
  T* d_sq = row_scale;  // dL/d(D_i^2) first
#pragma omp simd reduction(+ : d_beta, key_scale)
  for (int64_t i = 0; i < N; ++i) {
    const T dz = content[i] * (d_content[i] - along);
    d_beta += dz * similarity[i];
    d_dot[i] = strength * dz / denominator[i];
    d_sq[i] = T(-0.5) * d_dot[i] * similarity[i] / denominator[i];
    key_scale += d_sq[i] * row_sq[i];
  }
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) d_sq[i] *= T(2) * key_sq;  // now the scale of row i itself
  for (int64_t j = 0; j < W; ++j) d_key[j] = T(2) * key_scale * key[j];
  return d_beta;
}

// w = address(M, w_prev, head); tape.similarity holds the dot products k . M_i on entry
// (`memory_dots`) and the cosine similarities on return. Short passes over the slots, each
// vectorised: the similarity, two softmaxes, the interpolation, the shift and the sharpening.
template <typename T>
void address_forward(const T* row_sq, const T* w_prev, const HeadValues<T>& v, const Sizes& s,
                     const HeadTape<T>& tape, T* w) {
  const int64_t N = s.N, S = s.S, R = S / 2;
  // Scalars in locals: a store through a T* could alias them, which would stop vectorising.
  const T gamma = v.gamma;
  T *content = tape.content, *gated = tape.gated, *shifted = tape.shifted;
  T* log_shifted = tape.log_shifted;
  content_forward(row_sq, v.key, v.beta, s, ContentTape<T>{tape.similarity, tape.denominator,
                                                            content});
  // eq. 7, ntmkit.addressing.interpolate: w_g = g w_c + (1 - g) w_prev, computed as
  // torch.lerp(w_prev, w_c, g) is, with its two formulas for the two halves of g.
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
  // eq. 8, ntmkit.addressing.shift: w~[i] = sum_k s[S-1-k] w_g[i + k - R] (offset o = R - k
  // moves slot i - o to slot i).
  if (S == 3) {
    shift3(gated, v.shift, s, shifted);
  } else {
    fill(shifted, T(0), N);
    for (int64_t k = 0; k < S; ++k) add_shifted(gated, v.shift[S - 1 - k], R - k, s, shifted);
  }
  // eq. 9, ntmkit.addressing.sharpen: w = softmax(gamma log(w~ + eps)).
  const T sharpen_eps = T(s.sharpen_eps);
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    log_shifted[i] = vlog(shifted[i] + sharpen_eps);
    w[i] = gamma * log_shifted[i];
  }
  softmax(w, w, N);
}

// Backward of `address_forward` given dw = dL/dw [N] (overwritten as scratch). Adds to
// d_w_prev [N] and writes the parameter gradients into g but for the key's part through the
// memory, which `memory_dots_backward` adds, for every head at once, from what this leaves
// in scratch [2N]: dL/d(k . M_i) and the factor of row i in dL/dM_i.
template <typename T>
void address_backward(const T* row_sq, const T* w_prev, const T* w, const HeadValues<T>& v,
                      const Sizes& s, const HeadTape<T>& tape, T* dw, T* scratch, T* d_w_prev,
                      HeadGrads<T>& g) {
  const int64_t N = s.N, S = s.S, R = S / 2;
  T* d_shifted = scratch;  // [N]
  T* d_gated = scratch + N;  // [N]
  // eq. 9 backward, ntmkit.addressing.sharpen: w = softmax(gamma * log(w~ + eps)).
  // Scalars in locals: a store through a T* could alias them, which would stop vectorising.
  const T gate_v = v.gate, gamma_v = v.gamma, sharpen_eps = T(s.sharpen_eps);
  const T* content = tape.content;
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
  // eq. 8 backward, ntmkit.addressing.shift: the transpose of add_shifted for each offset.
  fill(d_gated, T(0), N);
  for (int64_t k = 0; k < S; ++k) {
    const int64_t o = R - k;
    add_shifted(d_shifted, v.shift[S - 1 - k], -o, s, d_gated);
    g.shift[S - 1 - k] = shifted_dot(d_shifted, gated, o, s);
  }
  // eq. 7 backward, ntmkit.addressing.interpolate: w_g = lerp(w_prev, w_c, g).
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
  // The content lookup's backward; d_shifted is reused for dL/d(dot_i) and d_gated for the
  // row factors.
  const ContentTape<T> lookup{tape.similarity, tape.denominator, tape.content};
  g.beta = content_backward(row_sq, v.key, v.beta, s, lookup, d_content, d_shifted, d_gated,
                            g.key);
}

// eq. 6 backward, ntmkit.addressing._CosineSimilarity.backward (the memory's part).
// The memory part of every head's cosine backward, in one pass over the memory:
// d_key[h][j] += sum_i d_dots[h][i] M[i, j] and
// dM[i, j] += sum_h (d_dots[h][i] k_h[j] + row_scales[h][i] M[i, j]).
template <typename T>
void memory_dots_backward(const T* memory, const T* const* keys, const T* const* d_dots,
                          const T* const* row_scales, int64_t H, int64_t N, int64_t W,
                          T* const* d_keys, T* d_memory, T* scale) {
  fill(scale, T(0), N);  // sum over heads of the row factors
  for (int64_t h = 0; h < H; ++h) add_to(row_scales[h], scale, N);
  for (int64_t j = 0; j < W; ++j) {
    const T* row = memory + j * N;
    T* d_row = d_memory + j * N;
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) d_row[i] += scale[i] * row[i];
    for (int64_t h = 0; h < H; ++h) {
      d_keys[h][j] += dot(d_dots[h], row, N);
      const T k = keys[h][j];
      const T* d_dot = d_dots[h];
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) d_row[i] += d_dot[i] * k;
    }
  }
}

}  // namespace ntmkit
