// Memory of one sequence for one step: erase-then-add writing for any number of heads
// (Graves et al. 2014, eqs. 3-4) and reading (eq. 2), and their backward passes, as in
// ntmkit/memory.py.
//
// The engine keeps the memory transposed, M^T [W, N] (word element major), so that every loop
// over the N slots is contiguous and vectorises fully; NTMState.memory is [N, W] and
// engine.cpp transposes at the sequence's two ends only.
#pragma once

#include "head_layout.h"
#include "kernels.h"

namespace ntmkit {

// The write: M' = M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T, for w [Hw, N] and vectors
// [Hw, V] (each head's erase and add where HeadLayout puts them), forward in
// `write_and_read_forward` below.

// eqs. 3-4 backward, ntmkit.memory._OneHeadWriteRead.backward (one head) and
// ntmkit.memory.write (any number): d_out [W, N] (the gradient at the new memory) becomes the
// gradient at the old memory, in place; adds to d_w [Hw, N]; writes d_vectors [Hw, V].
// scratch: [2 Hw N + N].
template <typename T>
void write_backward(const T* memory, const T* w, const T* vectors, int64_t Hw, int64_t N,
                    int64_t W, const HeadLayout& L, T* d_out, T* d_w, T* d_vectors, T* scratch) {
  for (int64_t j = 0; j < W; ++j) {
    const T* row = memory + j * N;
    T* d_row = d_out + j * N;
    if (Hw == 1) {
      const T e = L.erase_of(vectors, 0)[j], a = L.add_of(vectors, 0)[j];
      T d_erase = 0, d_add = 0;
#pragma omp simd reduction(+ : d_erase, d_add)
      for (int64_t i = 0; i < N; ++i) {
        const T g = d_row[i];
        d_w[i] += g * (a - row[i] * e);
        d_erase -= g * row[i] * w[i];
        d_add += g * w[i];
        d_row[i] = g * (T(1) - w[i] * e);
      }
      L.erase_of(d_vectors, 0)[j] = d_erase;
      L.add_of(d_vectors, 0)[j] = d_add;
      continue;
    }
    // The erase factors f_h = 1 - w_h e_hj; each head's gradient needs the product of the
    // others' factors, prefix times suffix products.
    T* before = scratch;  // [Hw, N]: prod of f_k over k < h
    T* after = scratch + Hw * N;  // [N]: running prod of f_k over k > h
    fill(before, T(1), N);
    for (int64_t h = 1; h < Hw; ++h) {
      const T e = L.erase_of(vectors, h - 1)[j];
      const T* wk = w + (h - 1) * N;
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) before[h * N + i] = before[(h - 1) * N + i] * (T(1) - wk[i] * e);
    }
    fill(after, T(1), N);
    for (int64_t h = Hw - 1; h >= 0; --h) {
      const T e = L.erase_of(vectors, h)[j], a = L.add_of(vectors, h)[j];
      const T* wh = w + h * N;
      T* dwh = d_w + h * N;
      const T* others_before = before + h * N;
      T d_erase = 0, d_add = 0;
#pragma omp simd reduction(+ : d_erase, d_add)
      for (int64_t i = 0; i < N; ++i) {
        const T g = d_row[i];
        const T erased = g * row[i] * others_before[i] * after[i];
        dwh[i] += g * a - erased * e;
        d_erase -= erased * wh[i];
        d_add += g * wh[i];
        after[i] *= T(1) - wh[i] * e;
      }
      L.erase_of(d_vectors, h)[j] = d_erase;
      L.add_of(d_vectors, h)[j] = d_add;
    }
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) d_row[i] *= after[i];  // after = prod of every f_h now
  }
}

// eqs. 3-4 then eq. 2, ntmkit.memory.write_and_read: the write, then the read
// r_h = wr_h^T M' of what it wrote, each row read while it is at hand: one pass over the
// memory instead of two. out may be the memory itself. scratch: [2N].
template <typename T>
void write_and_read_forward(const T* memory, const T* ww, const T* vectors, int64_t Hw,
                            const T* wr, int64_t Hr, int64_t N, int64_t W, const HeadLayout& L,
                            T* out, T* reads, T* scratch) {
  if (memory != out) copy(memory, out, N * W);  // then in place: one pointer, no aliasing
  for (int64_t j = 0; j < W; ++j) {
    T* __restrict row = out + j * N;
    if (Hw == 1) {  // the one-head form of ntmkit.memory: M - M * (w e^T) + w a^T
      const T e = L.erase_of(vectors, 0)[j], a = L.add_of(vectors, 0)[j];
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) row[i] = row[i] - row[i] * (ww[i] * e) + ww[i] * a;
    } else {
      T* keep = scratch;
      T* added = scratch + N;
      fill(keep, T(1), N);
      fill(added, T(0), N);
      for (int64_t h = 0; h < Hw; ++h) {
        const T e = L.erase_of(vectors, h)[j], a = L.add_of(vectors, h)[j];
        const T* wh = ww + h * N;
#pragma omp simd
        for (int64_t i = 0; i < N; ++i) {
          keep[i] *= T(1) - wh[i] * e;
          added[i] += wh[i] * a;
        }
      }
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) row[i] = row[i] * keep[i] + added[i];
    }
    for (int64_t h = 0; h < Hr; ++h) reads[h * W + j] = dot(wr + h * N, row, N);
  }
}

// eq. 2 backward, ntmkit.memory.read: the read r_h[j] = sum_i w_h[i] M[i, j] adds to
// d_memory [W, N] and d_w [Hr, N].
template <typename T>
void read_backward(const T* memory, const T* w, const T* d_reads, int64_t Hr, int64_t N,
                   int64_t W, T* d_memory, T* d_w) {
  for (int64_t h = 0; h < Hr; ++h) {
    const T* wh = w + h * N;
    T* dwh = d_w + h * N;
    for (int64_t j = 0; j < W; ++j) {
      const T g = d_reads[h * W + j];
      const T* row = memory + j * N;
      T* d_row = d_memory + j * N;
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) {
        dwh[i] += g * row[i];
        d_row[i] += g * wh[i];
      }
    }
  }
}

// eq. 2, ntmkit.memory.read: r_h[j] = sum_i w_h[i] M[i, j], for the DNC's read heads (the NTM
// reads while it writes, in `write_and_read_forward`).
template <typename T>
void read_forward(const T* memory, const T* w, int64_t R, int64_t N, int64_t W, T* reads) {
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t j = 0; j < W; ++j) reads[r * W + j] = dot(w + r * N, memory + j * N, N);
  }
}

}  // namespace ntmkit
