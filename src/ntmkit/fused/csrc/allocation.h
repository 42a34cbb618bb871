// Dynamic memory allocation of the Differentiable Neural Computer (Graves et al. 2016, Methods,
// "Dynamic memory allocation" and "Write weighting") for one sequence and one step, forward
// and backward: the equations of ntmkit/allocation.py, one function each, over the N slots.
// dnc.h chains them into the access step.
#pragma once

#include <algorithm>
#include <utility>

#include "kernels.h"

namespace ntmkit {

// DNC retention, ntmkit.allocation.retention: psi = prod_r (1 - f_r wr_r) over the read heads.
template <typename T>
void retention(const T* free_gates, const T* wr_prev, int64_t R, int64_t N, T* psi) {
  fill(psi, T(1), N);
  for (int64_t r = 0; r < R; ++r) {
    const T f = free_gates[r];
    const T* w = wr_prev + r * N;
#pragma omp simd
    for (int64_t i = 0; i < N; ++i) psi[i] *= T(1) - f * w[i];
  }
}

// DNC retention backward, ntmkit.allocation.retention: each head's factor times the product
// of the others' (recomputed, R - 1 factors: no division by a factor that may be 0). Writes
// d_free [R], adds to d_wr_prev [R, N]. others: [N] scratch.
template <typename T>
void retention_backward(const T* free_gates, const T* wr_prev, const T* d_psi, int64_t R,
                        int64_t N, T* d_free, T* d_wr_prev, T* others) {
  for (int64_t r = 0; r < R; ++r) {
    fill(others, T(1), N);
    for (int64_t k = 0; k < R; ++k) {
      if (k == r) continue;
      const T f = free_gates[k];
      const T* w = wr_prev + k * N;
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) others[i] *= T(1) - f * w[i];
    }
    const T f = free_gates[r];
    const T* w = wr_prev + r * N;
    T* dw = d_wr_prev + r * N;
    T df = 0;
#pragma omp simd reduction(+ : df)
    for (int64_t i = 0; i < N; ++i) {
      const T g = d_psi[i] * others[i];
      df -= g * w[i];
      dw[i] -= g * f;
    }
    d_free[r] = df;
  }
}

// DNC usage, ntmkit.allocation.usage: u = (u_prev + ww_prev - u_prev ww_prev) psi.
template <typename T>
void usage_forward(const T* u_prev, const T* ww_prev, const T* psi, int64_t N, T* u) {
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) u[i] = (u_prev[i] + ww_prev[i] - u_prev[i] * ww_prev[i]) * psi[i];
}

// DNC usage backward, ntmkit.allocation.usage: d_u [N] (the gradient at u) becomes the
// gradient at u_prev, in place; adds to d_ww_prev; writes d_psi.
template <typename T>
void usage_backward(const T* u_prev, const T* ww_prev, const T* psi, int64_t N, T* d_u,
                    T* d_ww_prev, T* d_psi) {
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    const T g = d_u[i];
    d_psi[i] = g * (u_prev[i] + ww_prev[i] - u_prev[i] * ww_prev[i]);
    d_ww_prev[i] += g * psi[i] * (T(1) - u_prev[i]);
    d_u[i] = g * psi[i] * (T(1) - ww_prev[i]);
  }
}

// One sequence's free list, [N] each: the slots in order (kept on the tape for the backward
// pass), and the sort's scratch.
template <typename T>
struct FreeList {
  std::pair<T, int64_t>* pairs;
  int64_t* order;
};

// The free list phi: the slots by usage, ascending, ties in index order (torch.sort's
// stable order, which ntmkit.allocation.allocation_weights uses), into list.order. The
// (usage, index) pairs are sorted themselves, not indices by the usages they point to: no
// indirect load per comparison (that sort took a tenth of a training step's time).
template <typename T>
void free_list(const T* u, int64_t N, const FreeList<T>& list) {
  for (int64_t i = 0; i < N; ++i) list.pairs[i] = {u[i], i};
  std::sort(list.pairs, list.pairs + N);  // by usage, then by index
  for (int64_t j = 0; j < N; ++j) list.order[j] = list.pairs[j].second;
}

// DNC allocation, ntmkit.allocation.allocation_weights:
// a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i]. list: the free list on return.
template <typename T>
void allocation_forward(const T* u, int64_t N, const FreeList<T>& list, T* a) {
  free_list(u, N, list);
  T used = 1;  // the cumulative product, in the free list's order as torch.cumprod takes it
  for (int64_t j = 0; j < N; ++j) {
    const int64_t k = list.order[j];
    a[k] = (T(1) - u[k]) * used;
    used *= u[k];
  }
}

// DNC allocation backward, ntmkit.allocation.allocation_weights, with the free list `order`
// held fixed. With s_j = u[phi_j], g_j = dL/da[phi_j] and P_k = prod_{i<k} s_i,
//   dL/ds_k = P_k (S_k - g_k),  S_k = sum_{j>k} g_j (1 - s_j) prod_{k<i<j} s_i,
// where S_k = g_{k+1} (1 - s_{k+1}) + s_{k+1} S_{k+1} is built from the end: no division, so
// usages of exactly 0 or 1 (every slot's, at first) need no special case. Adds to d_u.
// prefix: [N] scratch.
template <typename T>
void allocation_backward(const T* u, const int64_t* order, const T* d_a, int64_t N, T* prefix,
                         T* d_u) {
  T used = 1;
  for (int64_t j = 0; j < N; ++j) {
    prefix[j] = used;
    used *= u[order[j]];
  }
  T later = 0;  // S_k
  for (int64_t k = N - 1; k >= 0; --k) {
    const int64_t i = order[k];
    d_u[i] += prefix[k] * (later - d_a[i]);
    later = d_a[i] * (T(1) - u[i]) + u[i] * later;
  }
}

// DNC write weighting, ntmkit.allocation.write_weights: ww = g^w (g^a a + (1 - g^a) c^w).
template <typename T>
void write_weighting(const T* a, const T* content, T write_gate, T allocation_gate, int64_t N,
                     T* ww) {
  const T gw = write_gate, ga = allocation_gate;
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) ww[i] = gw * (ga * a[i] + (T(1) - ga) * content[i]);
}

// DNC write weighting backward, ntmkit.allocation.write_weights: writes d_a, d_content and
// the gates' gradients (*d_write_gate, *d_allocation_gate).
template <typename T>
void write_weighting_backward(const T* a, const T* content, T write_gate, T allocation_gate,
                              const T* d_ww, int64_t N, T* d_a, T* d_content, T* d_write_gate,
                              T* d_allocation_gate) {
  const T gw = write_gate, ga = allocation_gate;
  T dgw = 0, dga = 0;
#pragma omp simd reduction(+ : dgw, dga)
  for (int64_t i = 0; i < N; ++i) {
    dgw += d_ww[i] * (ga * a[i] + (T(1) - ga) * content[i]);
    dga += d_ww[i] * (a[i] - content[i]);
    d_a[i] = gw * ga * d_ww[i];
    d_content[i] = gw * (T(1) - ga) * d_ww[i];
  }
  *d_write_gate = dgw;
  *d_allocation_gate = gw * dga;
}

}  // namespace ntmkit
