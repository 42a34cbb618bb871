// The controllers of ntmkit/controllers.py (DenseController.step, RNNController.step,
// GRUController.step, LSTMController.step) for one step of a whole batch, forward and
// backward: dense, vanilla RNN, GRU (ntm-lasagne's form) and stacked LSTM.
//
// Every pre-activation is its input, read and recurrent parts, x W_x + b + r W_r + h W_h,
// each one matrix product over the batch; then the controller applies its gates sequence by
// sequence. Per step it records its activations (`tape`) for the backward pass, which writes
// the gradient of every pre-activation (`d_pre`, whose first block belongs to the input layer
// x W_x + b); engine.cpp turns those into weight gradients afterwards.
#pragma once

#include <ATen/Parallel.h>

#include <vector>

#include "blas.h"
#include "kernels.h"

namespace ntmkit {

enum ControllerKind : int { DENSE = 0, RNN = 1, LSTM = 2, GRU = 3 };  // vocabulary order

struct ControllerSizes {
  int kind;
  int act;  // dense and RNN activation
  int64_t U;  // units
  int64_t L;  // LSTM layers
  int64_t R;  // read vector length, read heads * W
  int64_t F;  // input size

  // Recurrent state: none (dense), h (RNN, GRU), h_1..h_L then c_1..c_L (LSTM).
  int64_t state_size() const { return kind == DENSE ? 0 : (kind == LSTM ? 2 * L * U : U); }
  // Width of the input projection, the first block of d_pre.
  int64_t projection_size() const { return kind == LSTM ? 4 * U : (kind == GRU ? 3 * U : U); }
  // Per sequence and step: dense and RNN pre-activation and output; GRU u, z, candidate;
  // LSTM i, f, g, o and tanh(c) of every layer.
  int64_t tape_size() const { return kind == LSTM ? 5 * L * U : (kind == GRU ? 3 * U : 2 * U); }
  int64_t d_pre_size() const { return kind == LSTM ? 4 * U * L : projection_size(); }
  // The first layer's inputs side by side: [x; r] (dense, GRU) or [x; r; h_prev] (RNN, LSTM).
  int64_t joint_size() const { return F + R + (kind == RNN || kind == LSTM ? U : 0); }
  // Batch scratch per sequence: pre-activations (4U), one more U-vector, the joint inputs.
  int64_t work_size() const { return 5 * U + joint_size(); }
};

template <typename T>
struct ControllerWeights {
  const T* input_b;  // input_layer's bias [G]: all of the first layer's biases
  const T* joint;  // [input_layer W | first] [G, joint_size]: see engine.cpp's joint_weights
  const T* first;  // dense read_layer [U, R]; RNN/LSTM recurrent_layer [G, R + U]; GRU [3U, R]
  const T* gate_hidden;  // GRU [2U, U]
  const T* candidate_hidden;  // GRU [U, U]
  std::vector<const T*> w_ih, w_hh, b_ih, b_hh;  // LSTM layers 2..L, each [4U, U] and [4U]
};

// Row-major batch arrays of one step: pointer and row stride.
template <typename T>
struct Rows {
  T* data;
  int64_t stride;
  T* operator[](int64_t b) const { return data + b * stride; }
};

// Runs f(b) for every active sequence b, in parallel over torch's intra-op threads.
template <typename F>
void for_active(const std::vector<char>& active, const F& f) {
  const int64_t B = static_cast<int64_t>(active.size());
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      if (active[b]) f(b);
    }
  });
}

template <typename T>
void lstm_cell(const T* pre, const T* c_prev, T* gates, T* c_new, T* h_new, int64_t U) {
  activate(SIGMOID, pre, gates, 2 * U);  // input and forget gates
  activate(TANH, pre + 2 * U, gates + 2 * U, U);  // cell input
  activate(SIGMOID, pre + 3 * U, gates + 3 * U, U);  // output gate
  T* tanh_c = gates + 4 * U;
#pragma omp simd
  for (int64_t i = 0; i < U; ++i) c_new[i] = gates[U + i] * c_prev[i] + gates[i] * gates[2 * U + i];
  activate(TANH, c_new, tanh_c, U);
#pragma omp simd
  for (int64_t i = 0; i < U; ++i) h_new[i] = gates[3 * U + i] * tanh_c[i];
}

// dL/dpre [4U] of one LSTM layer from the gradient at h(t+1) (d_h) and at c(t+1) (d_c, which
// becomes the gradient at c(t)).
template <typename T>
void lstm_cell_backward(const T* gates, const T* c_prev, const T* d_h, T* d_c, T* d, int64_t U) {
  const T* tanh_c = gates + 4 * U;
#pragma omp simd
  for (int64_t i = 0; i < U; ++i) {
    const T gi = gates[i], gf = gates[U + i], gg = gates[2 * U + i], go = gates[3 * U + i];
    const T dc = d_c[i] + d_h[i] * go * (T(1) - tanh_c[i] * tanh_c[i]);
    d[i] = dc * gg * gi * (T(1) - gi);
    d[U + i] = dc * c_prev[i] * gf * (T(1) - gf);
    d[2 * U + i] = dc * gi * (T(1) - gg * gg);
    d[3 * U + i] = d_h[i] * tanh_c[i] * go * (T(1) - go);
    d_c[i] = dc * gf;
  }
}

// One step over the batch. reads: the reads the controller sees; state/new_state: [CS] rows;
// h: the output rows; work: [work_size] rows of scratch.
template <typename T>
void controller_forward(const ControllerSizes& c, const ControllerWeights<T>& p,
                        const std::vector<char>& active, Rows<const T> x, Rows<T> reads,
                        Rows<T> state, Rows<T> new_state, Rows<T> h, Rows<T> tape, Rows<T> work) {
  const int64_t B = static_cast<int64_t>(active.size()), U = c.U, R = c.R, G = c.projection_size();
  const int64_t F = c.F, J = c.joint_size();
  Rows<T> pre{work.data, work.stride};
  Rows<T> joint{work.data + 5 * U, work.stride};  // [x; r (; h_prev)]
  for_active(active, [&](int64_t b) {
    copy(p.input_b, pre[b], G);
    copy(x[b], joint[b], F);
    copy(reads[b], joint[b] + F, R);
    if (J > F + R) copy(state[b], joint[b] + F + R, U);  // h_prev (of the first LSTM layer)
  });
  gemm_xwt(B, G, J, joint.data, joint.stride, p.joint, J, T(1), pre.data, pre.stride);
  // ntmkit.controllers.DenseController.step and RNNController.step: h = act(pre).
  if (c.kind == DENSE || c.kind == RNN) {
    for_active(active, [&](int64_t b) {
      copy(pre[b], tape[b], U);
      activate(c.act, pre[b], tape[b] + U, U);
      copy(tape[b] + U, h[b], U);
      if (c.kind == RNN) copy(h[b], new_state[b], U);
    });
    return;
  }
  // ntmkit.controllers.GRUController.step: h = (1 - u) tanh(.) + u h_prev.
  if (c.kind == GRU) {
    gemm_xwt(B, 2 * U, U, state.data, state.stride, p.gate_hidden, U, T(1), pre.data, pre.stride);
    Rows<T> reset_h{work.data + 4 * U, work.stride};
    for_active(active, [&](int64_t b) {
      activate(SIGMOID, pre[b], tape[b], 2 * U);  // update u, reset z
      for (int64_t i = 0; i < U; ++i) reset_h[b][i] = tape[b][U + i] * state[b][i];
    });
    gemm_xwt(B, U, U, reset_h.data, reset_h.stride, p.candidate_hidden, U, T(1), pre.data + 2 * U,
             pre.stride);
    for_active(active, [&](int64_t b) {
      const T *u = tape[b], *h_prev = state[b];
      T* cand = tape[b] + 2 * U;
      activate(TANH, pre[b] + 2 * U, cand, U);
      for (int64_t i = 0; i < U; ++i) h[b][i] = (T(1) - u[i]) * cand[i] + u[i] * h_prev[i];
      copy(h[b], new_state[b], U);
    });
    return;
  }
  // ntmkit.controllers.LSTMController.step: the first layer, then each torch LSTMCell above.
  const int64_t L = c.L;
  for (int64_t l = 0; l < L; ++l) {
    if (l > 0) {
      for_active(active, [&](int64_t b) {
        for (int64_t r = 0; r < 4 * U; ++r) pre[b][r] = p.b_ih[l - 1][r] + p.b_hh[l - 1][r];
      });
      gemm_xwt(B, 4 * U, U, new_state.data + (l - 1) * U, new_state.stride, p.w_ih[l - 1], U,
               T(1), pre.data, pre.stride);
      gemm_xwt(B, 4 * U, U, state.data + l * U, state.stride, p.w_hh[l - 1], U, T(1), pre.data,
               pre.stride);
    }
    for_active(active, [&](int64_t b) {
      lstm_cell(pre[b], state[b] + (L + l) * U, tape[b] + l * 5 * U, new_state[b] + (L + l) * U,
                new_state[b] + l * U, U);
      if (l == L - 1) copy(new_state[b] + l * U, h[b], U);
    });
  }
}

// The gradients at the first layer's read and recurrent inputs from its pre-activation
// gradients (the first G columns of d_pre), one product for both: adds to d_reads and, for
// RNN and LSTM, sets the gradient at h_prev in d_state (in place of the one at h_new).
template <typename T>
void first_layer_backward(const ControllerSizes& c, const ControllerWeights<T>& p,
                          const std::vector<char>& active, Rows<T> d_pre, Rows<T> d_state,
                          Rows<T> d_reads, Rows<T> work) {
  const int64_t B = static_cast<int64_t>(active.size()), U = c.U, R = c.R, F = c.F;
  const int64_t J = c.joint_size(), G = c.projection_size();
  Rows<T> d_joint{work.data + 5 * U, work.stride};  // [d r; d h_prev], no input part
  gemm_yw(B, J - F, G, d_pre.data, d_pre.stride, p.joint + F, J, T(0), d_joint.data,
          d_joint.stride);
  for_active(active, [&](int64_t b) {
    add_to(d_joint[b], d_reads[b], R);
    if (J > F + R) copy(d_joint[b] + R, d_state[b], U);
  });
}

// Backward of one step. dh: the gradient at the output rows; d_state [CS] rows: the gradient
// at new_state, on return at the previous state. Adds to d_reads; writes d_pre rows.
template <typename T>
void controller_backward(const ControllerSizes& c, const ControllerWeights<T>& p,
                         const std::vector<char>& active, Rows<T> state, Rows<T> tape,
                         Rows<T> dh, Rows<T> d_state, Rows<T> d_reads, Rows<T> d_pre,
                         Rows<T> work) {
  const int64_t B = static_cast<int64_t>(active.size()), U = c.U, R = c.R;
  if (c.kind == DENSE || c.kind == RNN) {
    for_active(active, [&](int64_t b) {
      if (c.kind == RNN) add_to(d_state[b], dh[b], U);
      activate_backward(c.act, tape[b], tape[b] + U, dh[b], d_pre[b], U);
    });
    first_layer_backward(c, p, active, d_pre, d_state, d_reads, work);
    return;
  }
  if (c.kind == GRU) {
    Rows<T> d_reset_h{work.data, work.stride};
    for_active(active, [&](int64_t b) {
      const T *u = tape[b], *cand = tape[b] + 2 * U, *h_prev = state[b];
      T *d_out = dh[b], *d = d_pre[b];
      add_to(d_state[b], d_out, U);
      for (int64_t i = 0; i < U; ++i) {
        d_state[b][i] = d_out[i] * u[i];  // through h' = (1 - u) c + u h
        d[i] = d_out[i] * (h_prev[i] - cand[i]) * u[i] * (T(1) - u[i]);
        d[2 * U + i] = d_out[i] * (T(1) - u[i]) * (T(1) - cand[i] * cand[i]);
      }
      fill(d_reset_h[b], T(0), U);
    });
    gemm_yw(B, U, U, d_pre.data + 2 * U, d_pre.stride, p.candidate_hidden, U, T(1),
            d_reset_h.data, d_reset_h.stride);
    for_active(active, [&](int64_t b) {
      const T *z = tape[b] + U, *h_prev = state[b];
      for (int64_t i = 0; i < U; ++i) {
        d_pre[b][U + i] = d_reset_h[b][i] * h_prev[i] * z[i] * (T(1) - z[i]);
        d_state[b][i] += d_reset_h[b][i] * z[i];
      }
    });
    gemm_yw(B, U, 2 * U, d_pre.data, d_pre.stride, p.gate_hidden, U, T(1), d_state.data,
            d_state.stride);
    first_layer_backward(c, p, active, d_pre, d_state, d_reads, work);
    return;
  }
  const int64_t L = c.L;
  Rows<T> d_below{work.data, work.stride};  // the gradient at the layer below's new h
  for (int64_t l = L - 1; l >= 0; --l) {
    for_active(active, [&](int64_t b) {
      T* d_h = l == L - 1 ? dh[b] : d_below[b];
      add_to(d_state[b] + l * U, d_h, U);
      lstm_cell_backward(tape[b] + l * 5 * U, state[b] + (L + l) * U, d_h,
                         d_state[b] + (L + l) * U, d_pre[b] + l * 4 * U, U);
      if (l > 0) {
        fill(d_state[b] + l * U, T(0), U);
        fill(d_below[b], T(0), U);
      }
    });
    if (l > 0) {
      T* d = d_pre.data + l * 4 * U;
      gemm_yw(B, U, 4 * U, d, d_pre.stride, p.w_ih[l - 1], U, T(1), d_below.data, d_below.stride);
      gemm_yw(B, U, 4 * U, d, d_pre.stride, p.w_hh[l - 1], U, T(1), d_state.data + l * U,
              d_state.stride);
    } else {
      first_layer_backward(c, p, active, d_pre, d_state, d_reads, work);
    }
  }
}

}  // namespace ntmkit
