// Temporal memory linkage of the Differentiable Neural Computer (Graves et al. 2016, Methods,
// "Temporal memory linkage" and "Read weighting") for one sequence and one step, forward and
// backward: the equations of ntmkit/temporal_links.py, one function each. The link matrix is
// row-major, L[i, j] at i N + j; its equation and the directional weights are computed row by
// row (`links_forward`, `links_backward`). dnc.h chains them into the access step.
#pragma once

#include "kernels.h"

namespace ntmkit {

// DNC precedence, ntmkit.temporal_links.precedence: p = (1 - sum_i w_i) p_prev + w.
template <typename T>
void precedence_forward(const T* p_prev, const T* w, int64_t N, T* p) {
  const T keep = T(1) - sum_of(w, N);
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) p[i] = keep * p_prev[i] + w[i];
}

// DNC precedence backward, ntmkit.temporal_links.precedence: writes d_p_prev from d_p (the
// gradient at p); adds to d_w.
template <typename T>
void precedence_backward(const T* p_prev, const T* w, const T* d_p, int64_t N, T* d_p_prev,
                         T* d_w) {
  const T keep = T(1) - sum_of(w, N), along = dot(d_p, p_prev, N);
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    d_w[i] += d_p[i] - along;
    d_p_prev[i] = keep * d_p[i];
  }
}

// DNC link matrix, ntmkit.temporal_links.link_matrix, row i:
// L[i, j] = (1 - w_i - w_j) L_prev[i, j] + w_i p_prev[j], zero on the diagonal. row may be
// prev (in place: each entry reads only its own old value).
template <typename T>
void link_row(const T* prev, const T* p_prev, const T* w, int64_t i, int64_t N, T* row) {
  const T wi = w[i];
#pragma omp simd
  for (int64_t j = 0; j < N; ++j) row[j] = (T(1) - wi - w[j]) * prev[j] + wi * p_prev[j];
  row[i] = 0;
}

// DNC link matrix backward, ntmkit.temporal_links.link_matrix, row i: d_row (the gradient at
// row i of L) becomes the gradient at row i of L_prev, in place; adds to d_w and d_p_prev.
template <typename T>
void link_row_backward(const T* prev, const T* p_prev, const T* w, int64_t i, int64_t N,
                       T* d_row, T* d_w, T* d_p_prev) {
  const T wi = w[i];
  d_row[i] = 0;  // the diagonal is held at zero
  T dwi = 0;
#pragma omp simd reduction(+ : dwi)
  for (int64_t j = 0; j < N; ++j) {
    const T g = d_row[j];
    dwi += g * (p_prev[j] - prev[j]);
    d_w[j] -= g * prev[j];
    d_p_prev[j] += g * wi;
    d_row[j] = g * (T(1) - wi - w[j]);
  }
  d_w[i] += dwi;
}

// DNC directional weights, ntmkit.temporal_links.directional_weights, row i of L's share:
// f_r[i] = L[i, :] . wr_r, and b_r += wr_r[i] L[i, :] (b_r = L^T wr_r once every row is in).
template <typename T>
void directions_row(const T* row, int64_t i, const T* wr_prev, int64_t R, int64_t N, T* forward,
                    T* backward) {
  for (int64_t r = 0; r < R; ++r) {
    const T* w = wr_prev + r * N;
    forward[r * N + i] = dot(row, w, N);
    const T wi = w[i];
    T* b = backward + r * N;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) b[j] += wi * row[j];
  }
}

// DNC directional weights backward, ntmkit.temporal_links.directional_weights, row i of L's
// share: adds d_f_r[i] wr_r + wr_r[i] d_b_r to d_row and the row's part of L^T d_f_r + L d_b_r
// to d_wr_prev.
template <typename T>
void directions_row_backward(const T* row, int64_t i, const T* wr_prev, const T* d_f,
                             const T* d_b, int64_t R, int64_t N, T* d_row, T* d_wr_prev) {
  for (int64_t r = 0; r < R; ++r) {
    const T *w = wr_prev + r * N, *db = d_b + r * N;
    T* dw = d_wr_prev + r * N;
    const T df = d_f[r * N + i], wi = w[i];
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
      d_row[j] += df * w[j] + wi * db[j];
      dw[j] += df * row[j];
    }
    dw[i] += dot(row, db, N);
  }
}

// The link matrix L_t and the directional weightings f and b [R, N] from it, row by row: a
// shortcut through two equations, so that the link matrices (64 KB a sequence at 128 slots,
// more than the caches hold for a batch) are read and written once per step, not twice.
template <typename T>
void links_forward(const T* link_prev, const T* p_prev, const T* w, const T* wr_prev, int64_t R,
                   int64_t N, T* link, T* forward, T* backward) {
  fill(backward, T(0), R * N);
  for (int64_t i = 0; i < N; ++i) {
    link_row(link_prev + i * N, p_prev, w, i, N, link + i * N);
    directions_row(link + i * N, i, wr_prev, R, N, forward, backward);
  }
}

// The backward pass of `links_forward`, row by row too: d_link, the gradient at L_t, becomes
// the gradient at L_{t-1} (in place); adds to d_w, d_p_prev and d_wr_prev.
template <typename T>
void links_backward(const T* link_prev, const T* link, const T* p_prev, const T* w,
                    const T* wr_prev, const T* d_f, const T* d_b, int64_t R, int64_t N,
                    T* d_link, T* d_w, T* d_p_prev, T* d_wr_prev) {
  for (int64_t i = 0; i < N; ++i) {
    T* d_row = d_link + i * N;
    directions_row_backward(link + i * N, i, wr_prev, d_f, d_b, R, N, d_row, d_wr_prev);
    link_row_backward(link_prev + i * N, p_prev, w, i, N, d_row, d_w, d_p_prev);
  }
}

// DNC read weighting, ntmkit.temporal_links.read_weights: wr = pi_0 b + pi_1 c^r + pi_2 f
// for one read head.
template <typename T>
void read_weighting(const T* backward, const T* content, const T* forward, const T* modes,
                    int64_t N, T* wr) {
  const T back = modes[0], look = modes[1], ahead = modes[2];
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    wr[i] = back * backward[i] + look * content[i] + ahead * forward[i];
  }
}

// DNC read weighting backward, ntmkit.temporal_links.read_weights, for one read head: writes
// d_modes [3] and the gradients at b, c^r and f.
template <typename T>
void read_weighting_backward(const T* backward, const T* content, const T* forward,
                             const T* modes, const T* d_wr, int64_t N, T* d_modes, T* d_b,
                             T* d_c, T* d_f) {
  d_modes[0] = dot(d_wr, backward, N);
  d_modes[1] = dot(d_wr, content, N);
  d_modes[2] = dot(d_wr, forward, N);
  const T back = modes[0], look = modes[1], ahead = modes[2];
#pragma omp simd
  for (int64_t i = 0; i < N; ++i) {
    d_b[i] = back * d_wr[i];
    d_c[i] = look * d_wr[i];
    d_f[i] = ahead * d_wr[i];
  }
}

}  // namespace ntmkit
