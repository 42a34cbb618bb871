// One step of a DNC (NTMConfig(memory="dnc"), ntmkit.cell.NTMCell._step_dnc) for a whole
// batch, forward and backward:
//
//   h_t  = controller(x_t, r_{t-1});  xi_t = interface(h_t)
//   M_t, ww_t, wr_t, r_t (and usage, link, precedence) = access(state_{t-1}, xi_t)   (dnc.h)
//   y_t  = output layer on [h_t, r_t]
//
// The controller, the output layer and the batch's arrays are the NTM's (step.h); the
// interface layer takes the place of the head layers (its weights are Weights::head_w and
// head_b, its outputs and values the step's head_raw and head_val).
#pragma once

#include <array>
#include <vector>

#include "dnc.h"
#include "step.h"

namespace ntmkit {

// DNC interface, ntmkit.heads.dnc_interface: each field's activation (oneplus for strengths,
// sigmoid for gates and erase, none for keys and the write vector); the read modes, a softmax
// over each head's three, are applied apart.
inline std::array<FieldActivation, 9> interface_activations(const DNCLayout& L) {
  return {{{IDENTITY, L.read_keys, L.R * L.W}, {ONE_PLUS_SOFTPLUS, L.read_strengths, L.R},
           {IDENTITY, L.write_key, L.W}, {ONE_PLUS_SOFTPLUS, L.write_strength, 1},
           {SIGMOID, L.erase, L.W}, {IDENTITY, L.write_vector, L.W}, {SIGMOID, L.free_gates, L.R},
           {SIGMOID, L.allocation_gate, 1}, {SIGMOID, L.write_gate, 1}}};
}

template <typename T>
void interface_forward(const DNCLayout& L, const T* raw, T* val) {
  activate_fields(interface_activations(L), 1, L.K, raw, val);
  for (int64_t r = 0; r < L.R; ++r) activate(SOFTMAX, L.modes(raw, r), L.modes(val, r), 3);
}

template <typename T>
void interface_backward(const DNCLayout& L, const T* raw, const T* val, const T* d_val,
                        T* d_raw) {
  fields_backward(interface_activations(L), 1, L.K, raw, val, d_val, d_raw);
  for (int64_t r = 0; r < L.R; ++r) {
    softmax_backward(L.modes(val, r), L.modes(d_val, r), L.modes(d_raw, r), 3);
  }
}

// Sequence b's access state in a state slot of the batch.
template <typename T>
AccessState<T> access_state(const State<T>& state, int64_t b) {
  return AccessState<T>{state.mem[b], state.usage[b], state.link[b],
                        state.prec[b], state.wr[b],   state.ww[b]};
}

template <typename T>
void dnc_step_forward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                      Rows<const T> x, const T* mask, const State<T>& prev, const State<T>& next,
                      const Step<T>& step, Buffers<T>& buf, Rows<T> logits) {
  const int64_t N = s.N, R = s.Hr;
  controller_forward(s.controller, p.controller, active, x, prev.reads, prev.ctrl, next.ctrl,
                     next.hout, step.ctrl_tape, buf.work);
  linear(active, next.hout, s.U(), p.head_w, p.head_b, step.head_raw, s.head_size());
  for_active(active, [&](int64_t b) {
    interface_forward(s.dnc_sizes.layout, step.head_raw[b], step.head_val[b]);
    access_forward(s.dnc_sizes, step.head_val[b], access_state(prev, b), access_state(next, b),
                   next.reads[b], dnc_tape(step.dnc[b], N, R),
                   FreeList<T>{buf.pairs.data() + b * N, step.free_list[b]});
  });
  output_forward(s, p, active, mask, next, buf, logits);
}

// One step of the backward pass through time, as `step_backward` (step.h) is for the NTM;
// buf's DNC adjoints (d_usage, d_link, d_prec) go from the state after the step to the state
// before it too. d_head_raw: the interface layer's output gradients.
template <typename T>
void dnc_step_backward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                       const T* mask, Rows<const T> d_logits, const State<T>& prev,
                       const State<T>& next, const Step<T>& step, Buffers<T>& buf,
                       Rows<T> d_pre, Rows<T> d_head_raw) {
  const int64_t B = static_cast<int64_t>(active.size()), U = s.U(), N = s.N, R = s.Hr;
  output_backward(s, p, active, mask, d_logits, buf);
  for_active(active, [&](int64_t b) {
    const AccessGrads<T> d{buf.d_mem[b], buf.d_usage[b], buf.d_link[b], buf.d_prec[b],
                           buf.d_wr[b],  buf.d_ww[b],    buf.d_r[b]};
    access_backward(s.dnc_sizes, step.head_val[b], access_state(prev, b), access_state(next, b),
                    dnc_tape(step.dnc[b], N, R), d, buf.d_wr_new[b], buf.d_ww_new[b],
                    buf.d_head_val[b], buf.address[b], step.free_list[b]);
    interface_backward(s.dnc_sizes.layout, step.head_raw[b], step.head_val[b],
                       buf.d_head_val[b], d_head_raw[b]);
    add_to(buf.d_hout[b], buf.dh[b], U);
    fill(buf.d_r[b], T(0), s.R());  // from here on the gradient at r_{t-1}, the controller's
    fill(buf.d_hout[b], T(0), U);  // the DNC never reads the previous h_{t-1}
  });
  gemm_yw(B, U, s.head_size(), d_head_raw.data, d_head_raw.stride, p.head_w, U, T(1),
          buf.dh.data, buf.dh.stride);
  controller_backward(s.controller, p.controller, active, prev.ctrl, step.ctrl_tape, buf.dh,
                      buf.d_ctrl, buf.d_r, d_pre, buf.work);
  previous_weights_backward(s, active, buf);
}

}  // namespace ntmkit
