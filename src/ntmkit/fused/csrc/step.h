// One NTM step of a whole batch, forward and backward, in either step order of
// ntmkit/cell.py:
//
//   lasagne:  M_t = write(M_{t-1}, ww_{t-1}, vectors(h_{t-1}));  r_t = read(M_t, wr_{t-1})
//             h_t = controller(x_t, r_t);  ww_t, wr_t = address(h_t, M_t);  y_t = out(h_t, r_t)
//   graves:   h_t = controller(x_t, r_{t-1});  ww_t, wr_t = address(h_t, M_{t-1})
//             M_t = write(M_{t-1}, ww_t, vectors(h_t));  r_t = read(M_t, wr_t);  y_t = out(h_t, r_t)
//
// The linear layers are one matrix product over the batch each (blas.h); addressing and memory
// run sequence by sequence, in parallel. The recurrent state of every step and what the
// backward pass needs are kept in a `Tape` of time-major arrays [slots, B, size]. Sequences
// shorter than the batch's steps (`active` false) are left alone from their end on. The DNC's
// step (NTMConfig(memory="dnc")) is dnc_step.h's, on the same arrays and a few of its own.
#pragma once

#include <array>
#include <vector>

#include "addressing.h"
#include "controller.h"
#include "dnc.h"
#include "head_layout.h"
#include "memory.h"

namespace ntmkit {

struct Spec {
  int64_t T, B, N, W, Hr, Hw, S, O;
  ControllerSizes controller;
  bool graves;  // step order; false: lasagne
  bool out_h, out_r;  // what the output layer sees: [h, r] in that order
  int act_key, act_beta, act_gate, act_shift, act_gamma, act_erase, act_add;
  Sizes sizes;
  HeadLayout layout;  // where each head field lies (ntmkit/heads.py's named split)
  bool dnc;  // the DNC's memory (dnc.h, dnc_step.h): one interface layer instead of the heads'
  DNCSizes dnc_sizes;

  int64_t H() const { return Hw + Hr; }
  int64_t P() const { return layout.P; }  // addressing values of one head
  int64_t V() const { return layout.V; }  // erase and add of one write head
  int64_t R() const { return Hr * W; }
  int64_t U() const { return controller.U; }
  int64_t CS() const { return controller.state_size(); }
  int64_t Fo() const { return (out_h ? U() : 0) + (out_r ? R() : 0); }
  int64_t addr_size() const { return kHeadTapeArrays * N; }
  // The head layer's outputs (the DNC's interface vector) and the write-vector layer's.
  int64_t head_size() const { return dnc ? dnc_sizes.layout.K : H() * P(); }
  int64_t vector_size() const { return dnc ? 0 : Hw * V(); }
  // The DNC's arrays per sequence, 1 (unused) for the NTM: usage and precedence, the link
  // matrix, a step's tape.
  int64_t dnc_slots() const { return dnc ? N : 1; }
  int64_t dnc_links() const { return dnc ? N * N : 1; }
  int64_t dnc_step() const { return dnc ? dnc_tape_size(N, Hr) : 1; }
};

template <typename T>
struct Weights {
  ControllerWeights<T> controller;
  const T *head_w, *head_b;  // addressing layer [H P, U], [H P]; the DNC's interface [K, U], [K]
  const T *vec_w = nullptr, *vec_b = nullptr;  // write-vector layer [Hw V, U], [Hw V]
  const T *out_w, *out_b;  // output layer [O, Fo], [O]
  const T *proj_w = nullptr, *proj_b = nullptr;  // both stacked [H P + Hw V, U] (engine.cpp)
};

// Arrays [slots, B, size]: the state slots (steps + 1 when the whole sequence is kept, else 2
// used in turn) and the per-step slots (steps, or 1). Without the whole sequence, the memory
// has one slot, written in place: half the memory traffic of a step, whose read and write of
// every sequence's memory are what its time goes to in a large batch. So has the DNC's link
// matrix.
template <typename T>
struct Tape {
  bool keep;
  int64_t B;  // the whole batch: the arrays' row count per slot
  int64_t b0;  // the first sequence this view covers (threads split the batch)
  T *mem, *ww, *wr, *reads, *hout, *ctrl;  // state
  T *row_sq, *head_raw, *head_val, *vec_raw, *vec_val, *addr, *ctrl_tape;  // per step
  T *usage, *link, *prec;  // the DNC's state
  T* dnc;  // the DNC's per step (dnc.h's DNCTape)
  int64_t* free_list;  // the DNC's per step: the allocation's slot order

  int64_t state_slot(int64_t t) const { return keep ? t : (t & 1); }
  int64_t memory_slot(int64_t t) const { return keep ? t : 0; }
  int64_t step_slot(int64_t t) const { return keep ? t : 0; }
  Rows<T> rows(T* base, int64_t slot, int64_t size) const {
    return Rows<T>{base + (slot * B + b0) * size, size};
  }
};

// One state slot of the whole batch.
template <typename T>
struct State {
  Rows<T> mem, ww, wr, reads, hout, ctrl;
  Rows<T> usage, link, prec;  // the DNC's
};

template <typename T>
State<T> state_at(const Spec& s, const Tape<T>& tape, int64_t slot) {
  const int64_t CS = s.CS() > 0 ? s.CS() : 1;
  return State<T>{tape.rows(tape.mem, tape.keep ? slot : 0, s.N * s.W),
                  tape.rows(tape.ww, slot, s.Hw * s.N),
                  tape.rows(tape.wr, slot, s.Hr * s.N), tape.rows(tape.reads, slot, s.R()),
                  tape.rows(tape.hout, slot, s.U()), tape.rows(tape.ctrl, slot, CS),
                  tape.rows(tape.usage, slot, s.dnc_slots()),
                  tape.rows(tape.link, tape.keep ? slot : 0, s.dnc_links()),
                  tape.rows(tape.prec, slot, s.dnc_slots())};
}

// One per-step slot of the whole batch.
template <typename T>
struct Step {
  Rows<T> row_sq, head_raw, head_val, vec_raw, vec_val, addr, ctrl_tape, dnc;
  Rows<int64_t> free_list;
};

template <typename T>
Step<T> step_at(const Spec& s, const Tape<T>& tape, int64_t slot) {
  const int64_t HP = s.head_size(), HV = s.vector_size();
  return Step<T>{tape.rows(tape.row_sq, slot, s.N), tape.rows(tape.head_raw, slot, HP),
                 tape.rows(tape.head_val, slot, HP), tape.rows(tape.vec_raw, slot, HV),
                 tape.rows(tape.vec_val, slot, HV), tape.rows(tape.addr, slot, s.H() * s.addr_size()),
                 tape.rows(tape.ctrl_tape, slot, s.controller.tape_size()),
                 tape.rows(tape.dnc, slot, s.dnc_step()),
                 Rows<int64_t>{tape.free_list + (slot * tape.B + tape.b0) * s.dnc_slots(),
                               s.dnc_slots()}};
}

// Working arrays [rows, size] of the sequences one thread runs; the adjoints live here across
// the backward pass, one row per sequence.
template <typename T>
struct Buffers {
  std::vector<T> data;
  Rows<T> work, x_out, dh, d_mem, d_ww, d_wr, d_ww_new, d_wr_new, d_r, d_hout, d_ctrl;
  Rows<T> d_head_val, d_vec_val, address, memory, projection;
  Rows<T> d_usage, d_link, d_prec;  // the DNC's adjoints
  std::vector<std::pair<T, int64_t>> pairs;  // the DNC's free list's sort, [N] per sequence

  Buffers(const Spec& s, int64_t count) : pairs(s.dnc ? count * s.N : 0) {
    const int64_t N = s.N;
    // address: the NTM's addressing scratch, or the DNC's access step's
    const int64_t address_size = s.dnc ? dnc_scratch_size(N, s.Hr) : (1 + 2 * s.H()) * N;
    const int64_t sizes[] = {s.controller.work_size(), s.Fo(), s.U(), N * s.W, s.Hw * N,
                             s.Hr * N, s.Hw * N, s.Hr * N, s.R(), s.U(),
                             s.CS() > 0 ? s.CS() : 1, s.head_size(), s.vector_size(),
                             address_size, (2 * s.Hw + 1) * N,
                             s.head_size() + s.vector_size(), s.dnc_slots(), s.dnc_links(),
                             s.dnc_slots()};
    Rows<T>* rows[] = {&work, &x_out, &dh, &d_mem, &d_ww, &d_wr, &d_ww_new, &d_wr_new, &d_r,
                       &d_hout, &d_ctrl, &d_head_val, &d_vec_val, &address, &memory,
                       &projection, &d_usage, &d_link, &d_prec};
    constexpr int kRows = sizeof(rows) / sizeof(rows[0]);
    static_assert(kRows == sizeof(sizes) / sizeof(sizes[0]), "a size for every row array");
    int64_t total = 0;
    for (int64_t size : sizes) total += size * count;
    data.assign(total, T(0));
    T* next = data.data();
    for (int i = 0; i < kRows; ++i) {
      *rows[i] = Rows<T>{next, sizes[i]};
      next += sizes[i] * count;
    }
  }
};

// ntmkit.heads.Heads.params: head h's named parameters in a row of all heads' values.
template <typename T>
HeadValues<T> head_values(const Spec& s, const T* val, int64_t h) {
  const HeadLayout& L = s.layout;
  const T* v = L.head(val, h);
  return HeadValues<T>{v + L.key, v[L.beta], v[L.gate], v + L.shift, v[L.gamma]};
}

template <typename T>
HeadTape<T> head_tape(const Spec& s, T* addr, int64_t h) {
  T* a = addr + h * s.addr_size();
  const int64_t N = s.N;
  return HeadTape<T>{a, a + N, a + 2 * N, a + 3 * N, a + 4 * N, a + 5 * N};
}

// The activation of each head field (NTMConfig.activations), field by field, as
// ntmkit.heads.Heads.params applies them: (activation, offset in a head, width).
struct FieldActivation {
  int activation;
  int64_t offset, width;
};

inline std::array<FieldActivation, 5> head_field_activations(const Spec& s) {
  const HeadLayout& L = s.layout;
  return {{{s.act_key, L.key, s.W}, {s.act_beta, L.beta, 1}, {s.act_gate, L.gate, 1},
           {s.act_shift, L.shift, s.S}, {s.act_gamma, L.gamma, 1}}};
}

// ntmkit.heads.Heads.write_vectors's activations: erase, add.
inline std::array<FieldActivation, 2> vector_field_activations(const Spec& s) {
  const HeadLayout& L = s.layout;
  return {{{s.act_erase, L.erase, s.W}, {s.act_add, L.add, s.W}}};
}

// Each field of `heads` rows of `size` values: y = activation(x), field by field.
template <typename T, typename Fields>
void activate_fields(const Fields& fields, int64_t heads, int64_t size, const T* raw, T* val) {
  for (int64_t h = 0; h < heads; ++h) {
    for (const FieldActivation& f : fields) {
      const int64_t o = h * size + f.offset;
      activate(f.activation, raw + o, val + o, f.width);
    }
  }
}

// The backward pass of `activate_fields`: d_raw from the gradient at the values.
template <typename T, typename Fields>
void fields_backward(const Fields& fields, int64_t heads, int64_t size, const T* raw,
                     const T* val, const T* d_val, T* d_raw) {
  for (int64_t h = 0; h < heads; ++h) {
    for (const FieldActivation& f : fields) {
      const int64_t o = h * size + f.offset;
      activate_backward(f.activation, raw + o, val + o, d_val + o, d_raw + o, f.width);
    }
  }
}

template <typename T>
void activate_heads(const Spec& s, const T* raw, T* val) {
  activate_fields(head_field_activations(s), s.H(), s.P(), raw, val);
}

template <typename T>
void activate_vectors(const Spec& s, const T* raw, T* val) {
  activate_fields(vector_field_activations(s), s.Hw, s.V(), raw, val);
}

template <typename T>
void head_grads_to_raw(const Spec& s, const T* raw, const T* val, const T* d_val, T* d_raw) {
  fields_backward(head_field_activations(s), s.H(), s.P(), raw, val, d_val, d_raw);
}

template <typename T>
void vector_grads_to_raw(const Spec& s, const T* raw, const T* val, const T* d_val, T* d_raw) {
  fields_backward(vector_field_activations(s), s.Hw, s.V(), raw, val, d_val, d_raw);
}

// A linear layer over the batch: Y = X W^T + bias, bias rows first then one product.
template <typename T>
void linear(const std::vector<char>& active, Rows<T> X, int64_t in, const T* W, const T* bias,
            Rows<T> Y, int64_t out) {
  for_active(active, [&](int64_t b) { copy(bias, Y[b], out); });
  gemm_xwt(static_cast<int64_t>(active.size()), out, in, X.data, X.stride, W, in, T(1), Y.data,
           Y.stride);
}

// Addresses every head of sequence b on `memory` from the weights of `prev` into `next`.
template <typename T>
void address_heads(const Spec& s, const T* memory, const State<T>& prev, const State<T>& next,
                   const Step<T>& step, int64_t b) {
  const int64_t N = s.N, H = s.H();
  const T* keys[kMaxHeads];
  T* dots[kMaxHeads];
  for (int64_t h = 0; h < H; ++h) {
    keys[h] = head_values(s, step.head_val[b], h).key;
    dots[h] = head_tape(s, step.addr[b], h).similarity;
  }
  memory_dots(memory, keys, H, N, s.W, step.row_sq[b], dots);
  for (int64_t h = 0; h < H; ++h) {
    const bool writes = h < s.Hw;
    const int64_t k = (writes ? h : h - s.Hw) * N;
    address_forward(step.row_sq[b], (writes ? prev.ww : prev.wr)[b] + k,
                    head_values(s, step.head_val[b], h), s.sizes, head_tape(s, step.addr[b], h),
                    (writes ? next.ww : next.wr)[b] + k);
  }
}

// The output layer on [h * mask, r]; a finished sequence's logits stay zero.
template <typename T>
void output_forward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                    const T* mask, const State<T>& next, Buffers<T>& buf, Rows<T> logits) {
  const int64_t B = static_cast<int64_t>(active.size()), U = s.U();
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      T* x = buf.x_out[b];
      if (!active[b]) {
        fill(x, T(0), s.Fo());
        fill(logits[b], T(0), s.O);
        continue;
      }
      if (s.out_h) {
        const T* m = mask ? mask + b * U : nullptr;
        for (int64_t i = 0; i < U; ++i) x[i] = m ? next.hout[b][i] * m[i] : next.hout[b][i];
      }
      if (s.out_r) copy(next.reads[b], x + (s.out_h ? U : 0), s.R());
      copy(p.out_b, logits[b], s.O);
    }
  });
  gemm_xwt(B, s.O, s.Fo(), buf.x_out.data, buf.x_out.stride, p.out_w, s.Fo(), T(1), logits.data,
           logits.stride);
}

template <typename T>
void step_forward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                  Rows<const T> x, const T* mask, const State<T>& prev, const State<T>& next,
                  const Step<T>& step, Buffers<T>& buf, Rows<T> logits) {
  const int64_t U = s.U(), N = s.N, W = s.W, HP = s.H() * s.P(), HV = s.Hw * s.V();
  const ControllerSizes& c = s.controller;
  if (s.graves) {
    controller_forward(c, p.controller, active, x, prev.reads, prev.ctrl, next.ctrl,
                       next.hout, step.ctrl_tape, buf.work);
    linear(active, next.hout, U, p.proj_w, p.proj_b, buf.projection, HP + HV);
    for_active(active, [&](int64_t b) {
      copy(buf.projection[b], step.head_raw[b], HP);
      copy(buf.projection[b] + HP, step.vec_raw[b], HV);
      activate_heads(s, step.head_raw[b], step.head_val[b]);
      activate_vectors(s, step.vec_raw[b], step.vec_val[b]);
      address_heads(s, prev.mem[b], prev, next, step, b);
      write_and_read_forward(prev.mem[b], next.ww[b], step.vec_val[b], s.Hw, next.wr[b], s.Hr,
                             N, W, s.layout, next.mem[b], next.reads[b], buf.memory[b]);
    });
  } else {
    linear(active, prev.hout, U, p.vec_w, p.vec_b, step.vec_raw, HV);
    for_active(active, [&](int64_t b) {
      activate_vectors(s, step.vec_raw[b], step.vec_val[b]);
      write_and_read_forward(prev.mem[b], prev.ww[b], step.vec_val[b], s.Hw, prev.wr[b], s.Hr,
                             N, W, s.layout, next.mem[b], next.reads[b], buf.memory[b]);
    });
    controller_forward(c, p.controller, active, x, next.reads, prev.ctrl, next.ctrl,
                       next.hout, step.ctrl_tape, buf.work);
    linear(active, next.hout, U, p.head_w, p.head_b, step.head_raw, HP);
    for_active(active, [&](int64_t b) {
      activate_heads(s, step.head_raw[b], step.head_val[b]);
      address_heads(s, next.mem[b], prev, next, step, b);
    });
  }
  output_forward(s, p, active, mask, next, buf, logits);
}

// Backpropagates through sequence b's addressing on `memory`: reads the gradients at the new
// weights (buf.d_ww, buf.d_wr), adds to buf.d_mem and to the gradients at the previous weights
// (buf.d_ww_new, buf.d_wr_new), and writes the head layer's output gradient d_head_raw.
template <typename T>
void address_heads_backward(const Spec& s, const T* memory, const State<T>& prev,
                            const State<T>& next, const Step<T>& step, Buffers<T>& buf, int64_t b,
                            T* d_head_raw) {
  const int64_t N = s.N, W = s.W, H = s.H();
  T* dw = buf.address[b];
  const T *keys[kMaxHeads], *d_dots[kMaxHeads], *row_scales[kMaxHeads];
  T* d_keys[kMaxHeads];
  for (int64_t h = 0; h < H; ++h) {
    const bool writes = h < s.Hw;
    const int64_t k = (writes ? h : h - s.Hw) * N;
    copy((writes ? buf.d_ww : buf.d_wr)[b] + k, dw, N);
    T* g = s.layout.head(buf.d_head_val[b], h);
    T* scratch = dw + N + 2 * N * h;  // this head's dL/d(k . M_i) and row factors
    HeadGrads<T> grads{g + s.layout.key, 0, 0, g + s.layout.shift, 0};
    const HeadValues<T> values = head_values(s, step.head_val[b], h);
    address_backward(step.row_sq[b], (writes ? prev.ww : prev.wr)[b] + k,
                     (writes ? next.ww : next.wr)[b] + k, values, s.sizes,
                     head_tape(s, step.addr[b], h), dw, scratch,
                     (writes ? buf.d_ww_new : buf.d_wr_new)[b] + k, grads);
    g[s.layout.beta] = grads.beta;
    g[s.layout.gate] = grads.gate;
    g[s.layout.gamma] = grads.gamma;
    keys[h] = values.key, d_dots[h] = scratch, row_scales[h] = scratch + N;
    d_keys[h] = g + s.layout.key;
  }
  memory_dots_backward(memory, keys, d_dots, row_scales, H, N, W, d_keys, buf.d_mem[b], dw);
  head_grads_to_raw(s, step.head_raw[b], step.head_val[b], buf.d_head_val[b], d_head_raw);
}

// The output layer's backward: the gradients at h (buf.dh) and, added, at the reads r_t
// (buf.d_r); the gradients at the previous weights (buf.d_ww_new, d_wr_new) start at zero.
template <typename T>
void output_backward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                     const T* mask, Rows<const T> d_logits, Buffers<T>& buf) {
  const int64_t B = static_cast<int64_t>(active.size()), U = s.U(), N = s.N, R = s.R();
  gemm_yw(B, s.Fo(), s.O, d_logits.data, d_logits.stride, p.out_w, s.Fo(), T(0), buf.x_out.data,
          buf.x_out.stride);
  for_active(active, [&](int64_t b) {
    const T* dx = buf.x_out[b];
    const T* m = mask ? mask + b * U : nullptr;
    for (int64_t i = 0; i < U; ++i) buf.dh[b][i] = !s.out_h ? T(0) : (m ? dx[i] * m[i] : dx[i]);
    if (s.out_r) add_to(dx + (s.out_h ? U : 0), buf.d_r[b], R);
    fill(buf.d_ww_new[b], T(0), s.Hw * N);
    fill(buf.d_wr_new[b], T(0), s.Hr * N);
  });
}

// The end of a step's backward pass: the gradients at the previous weights become the
// adjoints of the weights, for the step before.
template <typename T>
void previous_weights_backward(const Spec& s, const std::vector<char>& active, Buffers<T>& buf) {
  for_active(active, [&](int64_t b) {
    copy(buf.d_ww_new[b], buf.d_ww[b], s.Hw * s.N);
    copy(buf.d_wr_new[b], buf.d_wr[b], s.Hr * s.N);
  });
}

// One step of the backward pass through time. buf's adjoint rows (d_mem, d_ww, d_wr, d_r,
// d_hout, d_ctrl) hold the gradients at the state after the step and, on return, at the
// state before it. d_pre, d_head_raw, d_vec_raw: this step's layer output gradients.
template <typename T>
void step_backward(const Spec& s, const Weights<T>& p, const std::vector<char>& active,
                   const T* mask, Rows<const T> d_logits, const State<T>& prev,
                   const State<T>& next, const Step<T>& step, Buffers<T>& buf, Rows<T> d_pre,
                   Rows<T> d_head_raw, Rows<T> d_vec_raw) {
  const int64_t B = static_cast<int64_t>(active.size()), U = s.U(), N = s.N, W = s.W;
  const int64_t R = s.R(), HP = s.H() * s.P();
  const int64_t HV = s.Hw * s.V();
  output_backward(s, p, active, mask, d_logits, buf);
  if (s.graves) {
    for_active(active, [&](int64_t b) {
      read_backward(next.mem[b], next.wr[b], buf.d_r[b], s.Hr, N, W, buf.d_mem[b], buf.d_wr[b]);
      write_backward(prev.mem[b], next.ww[b], step.vec_val[b], s.Hw, N, W, s.layout,
                     buf.d_mem[b], buf.d_ww[b], buf.d_vec_val[b], buf.memory[b]);
      vector_grads_to_raw(s, step.vec_raw[b], step.vec_val[b], buf.d_vec_val[b], d_vec_raw[b]);
      address_heads_backward(s, prev.mem[b], prev, next, step, buf, b, d_head_raw[b]);
      add_to(buf.d_hout[b], buf.dh[b], U);
      fill(buf.d_r[b], T(0), R);  // from here on the gradient at r_{t-1}, the controller's input
      fill(buf.d_hout[b], T(0), U);  // the graves order never reads the previous h_{t-1}
    });
    gemm_yw(B, U, HV, d_vec_raw.data, d_vec_raw.stride, p.vec_w, U, T(1), buf.dh.data, buf.dh.stride);
    gemm_yw(B, U, HP, d_head_raw.data, d_head_raw.stride, p.head_w, U, T(1), buf.dh.data,
            buf.dh.stride);
    controller_backward(s.controller, p.controller, active, prev.ctrl, step.ctrl_tape, buf.dh,
                        buf.d_ctrl, buf.d_r, d_pre, buf.work);
  } else {
    for_active(active, [&](int64_t b) {
      add_to(buf.d_hout[b], buf.dh[b], U);
      address_heads_backward(s, next.mem[b], prev, next, step, buf, b, d_head_raw[b]);
    });
    gemm_yw(B, U, HP, d_head_raw.data, d_head_raw.stride, p.head_w, U, T(1), buf.dh.data,
            buf.dh.stride);
    controller_backward(s.controller, p.controller, active, prev.ctrl, step.ctrl_tape, buf.dh,
                        buf.d_ctrl, buf.d_r, d_pre, buf.work);
    for_active(active, [&](int64_t b) {
      read_backward(next.mem[b], prev.wr[b], buf.d_r[b], s.Hr, N, W, buf.d_mem[b],
                    buf.d_wr_new[b]);
      write_backward(prev.mem[b], prev.ww[b], step.vec_val[b], s.Hw, N, W, s.layout,
                     buf.d_mem[b], buf.d_ww_new[b], buf.d_vec_val[b], buf.memory[b]);
      vector_grads_to_raw(s, step.vec_raw[b], step.vec_val[b], buf.d_vec_val[b], d_vec_raw[b]);
      fill(buf.d_hout[b], T(0), U);  // from here on the gradient at h_{t-1}, the vectors' input
      fill(buf.d_r[b], T(0), R);  // the lasagne order never reads the previous r_{t-1}
    });
    gemm_yw(B, U, HV, d_vec_raw.data, d_vec_raw.stride, p.vec_w, U, T(1), buf.d_hout.data,
            buf.d_hout.stride);
  }
  previous_weights_backward(s, active, buf);
}

}  // namespace ntmkit
