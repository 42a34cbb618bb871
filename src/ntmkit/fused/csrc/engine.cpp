// ntmkit's fused engine: a whole NTM sequence forward in one call and backpropagation through
// time in one more, with no Python and no autograd inside the time loop.
//
// Python (ntmkit/fused/sequence.py) passes the inputs of every step, the initial state, the
// weights and a small integer spec; forward returns the logits, the final state and the tape;
// backward returns the gradients of the inputs (when asked), of the initial state and of
// every weight. Sequences (batch elements) are independent, so both passes run
// over them in parallel on torch's intra-op threads; the weight gradients are then one matrix
// product per layer over all steps of all sequences.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "dnc_step.h"
#include "step.h"
#include "workspace.h"

namespace ntmkit {
namespace {

using at::Tensor;

// Spec layout, kept in step with ntmkit/fused/spec.py.
enum SpecField : int {
  kT, kB, kN, kW, kHr, kHw, kS, kO, kController, kControllerAct, kUnits, kLayers, kGraves,
  kOutH, kOutR, kCircular, kActKey, kActBeta, kActGate, kActShift, kActGamma, kActErase,
  kActAdd, kInputSize, kDNC, kSpecSize
};

Spec make_spec(const std::vector<int64_t>& v, const std::vector<double>& eps) {
  TORCH_CHECK(static_cast<int>(v.size()) == kSpecSize, "ntmkit engine: spec has ", v.size(),
              " fields, expected ", static_cast<int>(kSpecSize));
  Spec s;
  s.T = v[kT], s.B = v[kB], s.N = v[kN], s.W = v[kW], s.Hr = v[kHr], s.Hw = v[kHw];
  s.S = v[kS], s.O = v[kO];
  s.controller = ControllerSizes{static_cast<int>(v[kController]),
                                 static_cast<int>(v[kControllerAct]), v[kUnits], v[kLayers],
                                 v[kHr] * v[kW], v[kInputSize]};
  s.graves = v[kGraves] != 0, s.out_h = v[kOutH] != 0, s.out_r = v[kOutR] != 0;
  s.act_key = v[kActKey], s.act_beta = v[kActBeta], s.act_gate = v[kActGate];
  s.act_shift = v[kActShift], s.act_gamma = v[kActGamma], s.act_erase = v[kActErase];
  s.act_add = v[kActAdd];
  s.sizes = Sizes{s.N, s.W, s.S, v[kCircular] != 0, eps.at(0), eps.at(1)};
  s.layout = HeadLayout(s.W, s.S);
  s.dnc = v[kDNC] != 0;
  s.dnc_sizes = DNCSizes{s.sizes, s.Hr, DNCLayout(s.Hr, s.W), s.layout};
  TORCH_CHECK(!s.dnc || (s.Hw == 1 && s.graves), "ntmkit engine: the DNC has one write head and "
              "the graves step order");
  TORCH_CHECK(s.H() <= kMaxHeads, "ntmkit engine: at most ", kMaxHeads, " heads, got ", s.H());
  return s;
}

// Weight order, kept in step with ntmkit/fused/sequence.py: controller first layer, GRU gate
// and candidate layers (empty otherwise), heads W and b (the DNC's interface layer), write
// vectors W and b (empty for the DNC), output W and b, the controller's input layer W and b,
// then w_ih, w_hh, b_ih, b_hh of each further LSTM layer.
constexpr int kFixedWeights = 11;

// The first layer's input and read (and, for RNN and LSTM, recurrent) weights side by side,
// [W_x | W_first] [G, F + R (+ U)], so that one product per step computes all three parts.
Tensor joint_weights(const std::vector<Tensor>& w) { return at::cat({w[9], w[0]}, 1).contiguous(); }

// The head and write-vector layers stacked, [W_heads; W_vectors] [H P + Hw V, U] and their
// biases: in the graves order both read h_t, so one product per step computes both.
struct Projection {
  Tensor weight, bias;
};

Projection projection_weights(const std::vector<Tensor>& w) {
  if (w[5].numel() == 0) return {};  // the DNC: its interface layer alone
  return {at::cat({w[3], w[5]}, 0).contiguous(), at::cat({w[4], w[6]}, 0).contiguous()};
}

template <typename T>
Weights<T> weights_of(const Spec& s, const std::vector<Tensor>& w, const Tensor& joint,
                      const Projection& projection) {
  Weights<T> p;
  if (projection.weight.defined()) {  // the forward pass's; the backward pass has none
    p.proj_w = projection.weight.data_ptr<T>(), p.proj_b = projection.bias.data_ptr<T>();
  }
  p.controller.first = w[0].data_ptr<T>();
  p.controller.gate_hidden = w[1].numel() ? w[1].data_ptr<T>() : nullptr;
  p.controller.candidate_hidden = w[2].numel() ? w[2].data_ptr<T>() : nullptr;
  p.head_w = w[3].data_ptr<T>(), p.head_b = w[4].data_ptr<T>();
  if (!s.dnc) p.vec_w = w[5].data_ptr<T>(), p.vec_b = w[6].data_ptr<T>();  // else empty
  p.out_w = w[7].data_ptr<T>(), p.out_b = w[8].data_ptr<T>();
  p.controller.input_b = w[10].data_ptr<T>();
  p.controller.joint = joint.data_ptr<T>();
  for (int64_t l = 1; l < s.controller.L; ++l) {
    const int base = kFixedWeights + 4 * static_cast<int>(l - 1);
    p.controller.w_ih.push_back(w[base].data_ptr<T>());
    p.controller.w_hh.push_back(w[base + 1].data_ptr<T>());
    p.controller.b_ih.push_back(w[base + 2].data_ptr<T>());
    p.controller.b_hh.push_back(w[base + 3].data_ptr<T>());
  }
  return p;
}

// The tape's arrays, in the order forward returns them to Python.
struct TapeTensors {
  Tensor mem, ww, wr, reads, hout, ctrl, row_sq, head_raw, head_val, vec_raw, vec_val, addr,
      ctrl_tape, usage, link, prec, dnc, free_list;

  std::vector<Tensor> list() const {
    return {mem, ww, wr, reads, hout, ctrl, row_sq, head_raw, head_val, vec_raw, vec_val, addr,
            ctrl_tape, usage, link, prec, dnc, free_list};
  }
  static TapeTensors from(const std::vector<Tensor>& t) {
    return {t[0],  t[1],  t[2],  t[3],  t[4],  t[5],  t[6],  t[7],  t[8],
            t[9],  t[10], t[11], t[12], t[13], t[14], t[15], t[16], t[17]};
  }
  template <typename T>
  Tape<T> view(bool keep, int64_t B) const {
    return Tape<T>{keep, B, 0, mem.data_ptr<T>(), ww.data_ptr<T>(), wr.data_ptr<T>(),
                   reads.data_ptr<T>(), hout.data_ptr<T>(), ctrl.data_ptr<T>(),
                   row_sq.data_ptr<T>(), head_raw.data_ptr<T>(), head_val.data_ptr<T>(),
                   vec_raw.data_ptr<T>(), vec_val.data_ptr<T>(), addr.data_ptr<T>(),
                   ctrl_tape.data_ptr<T>(), usage.data_ptr<T>(), link.data_ptr<T>(),
                   prec.data_ptr<T>(), dnc.data_ptr<T>(), free_list.data_ptr<int64_t>()};
  }
};

// The tape's arrays as (slots, size) pairs, in `TapeTensors` order, but for the last, the
// DNC's free lists, which are integers (`allocate_tape`).
std::vector<std::pair<int64_t, int64_t>> tape_layout(const Spec& s, bool keep) {
  const int64_t states = keep ? s.T + 1 : 2, steps = keep ? s.T : 1;
  const int64_t addr = s.dnc ? 1 : s.H() * s.addr_size();  // the DNC keeps its own (dnc)
  return {{keep ? states : 1, s.N * s.W}, {states, s.Hw * s.N}, {states, s.Hr * s.N}, {states, s.R()},
          {states, s.U()}, {states, s.CS() > 0 ? s.CS() : 1}, {steps, s.N},
          {steps, s.head_size()}, {steps, s.head_size()}, {steps, s.vector_size()},
          {steps, s.vector_size()}, {steps, addr}, {steps, s.controller.tape_size()},
          {states, s.dnc_slots()}, {keep ? states : 1, s.dnc_links()}, {states, s.dnc_slots()},
          {steps, s.dnc_step()}};
}

// A tape for the next pass, from the workspace (workspace.h).
TapeTensors allocate_tape(const Spec& s, bool keep, bool zeros, const at::TensorOptions& o) {
  std::vector<Tensor> parts;
  for (const auto& [slots, size] : tape_layout(s, keep)) {
    parts.push_back(workspace().take({slots, s.B, size}, o, zeros));
  }
  const int64_t steps = keep ? s.T : 1;
  parts.push_back(workspace().take({steps, s.B, s.dnc_slots()}, o.dtype(at::kLong), zeros));
  return TapeTensors::from(parts);
}

// The state's tensors: the NTM's six, and the DNC's usage, link and precedence.
size_t state_count(const Spec& s) { return s.dnc ? 9 : 6; }

// The initial state (NTMState order, controller state stacked, then the DNC's usage, link and
// precedence) into state slot 0; the engine keeps the memory transposed, [W, N] per sequence
// (memory.h).
void load_initial_state(const Spec& s, TapeTensors& tape, const std::vector<Tensor>& state) {
  const Tensor* dst[] = {&tape.mem,  &tape.wr,   &tape.ww,    &tape.reads, &tape.hout,
                         &tape.ctrl, &tape.usage, &tape.link, &tape.prec};
  TORCH_CHECK(state.size() == state_count(s), "ntmkit engine: the state has ", state.size(),
              " tensors, expected ", state_count(s));
  for (size_t i = 0; i < state.size(); ++i) {
    if (i == 5 && s.CS() == 0) continue;
    const Tensor& part = i == 0 ? state[0].transpose(1, 2) : state[i];
    (*dst[i])[0].copy_(part.reshape({s.B, -1}));
  }
}

// Gradients the backward pass writes per step, [T, B, size]: of the controller's
// pre-activations (first its input projection), of the head and write-vector layers.
template <typename T>
struct StepGrads {
  T *d_pre, *d_head_raw, *d_vec_raw;
};

// Which of the sequences b0..b0+count-1 still run at step t.
std::vector<char> active_at(const Tensor& lengths, int64_t t, int64_t b0, int64_t count) {
  std::vector<char> active(count, 1);
  if (lengths.defined()) {
    const int64_t* length = lengths.data_ptr<int64_t>() + b0;
    for (int64_t b = 0; b < count; ++b) active[b] = t < length[b];
  }
  return active;
}

// Runs f(b0, count) on consecutive slices of the batch, one per intra-op thread: sequences
// are independent, so each thread runs its slice through every step on its own (its matrix
// products over its rows, MKL single-threaded inside), with no synchronisation per step.
template <typename F>
void over_batch_slices(int64_t B, const F& f) {
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), B));
  const int64_t grain = (B + threads - 1) / threads;
  at::parallel_for(0, B, grain, [&](int64_t begin, int64_t end) { f(begin, end - begin); });
}

template <typename T>
void forward_steps(const Spec& s, const Weights<T>& p, Tape<T> tape, const Tensor& inputs,
                   const Tensor& mask, const Tensor& lengths, Tensor& logits) {
  const int64_t B = s.B, F = s.controller.F, U = s.U();
  const T* x = inputs.data_ptr<T>();
  const T* m = mask.defined() ? mask.data_ptr<T>() : nullptr;
  T* y = logits.data_ptr<T>();
  over_batch_slices(B, [&](int64_t b0, int64_t count) {
    Tape<T> slice = tape;
    slice.b0 = b0;
    Buffers<T> buf(s, count);
    // Without a tape the addressing's arrays are scratch, used within one sequence's step:
    // one sequence's worth (row stride 0), reused by each in turn, stays in L1, where a row
    // per sequence, 6.5 KB each, would crowd the memories out of L2 in a large batch.
    // The slice's sequences go one after another: it is one thread's share, and `for_active`
    // inside it runs inline (ATen does not nest parallel regions).
    const bool shared = !slice.keep && (at::in_parallel_region() || at::get_num_threads() == 1);
    std::vector<T> scratch(shared ? s.N + s.H() * s.addr_size() : 0);
    for (int64_t t = 0; t < s.T; ++t) {
      const int64_t row = t * B + b0;
      Step<T> step = step_at(s, slice, slice.step_slot(t));
      if (shared) {
        step.row_sq = Rows<T>{scratch.data(), 0};
        step.addr = Rows<T>{scratch.data() + s.N, 0};
      }
      const auto step_of = s.dnc ? dnc_step_forward<T> : step_forward<T>;
      step_of(s, p, active_at(lengths, t, b0, count), Rows<const T>{x + row * F, F},
              m ? m + row * U : nullptr, state_at(s, slice, slice.state_slot(t)),
              state_at(s, slice, slice.state_slot(t + 1)), step, buf,
              Rows<T>{y + row * s.O, s.O});
    }
  });
}

int64_t tape_state_slot(int64_t t, bool keep) { return keep ? t : (t & 1); }

// The state each sequence ended in, [B, size] tensors in NTMState order with the controller
// state stacked: memory, read weights, write weights, reads, controller output, controller,
// and the DNC's usage, link and precedence.
std::vector<Tensor> final_state(const Spec& s, const TapeTensors& tape, const Tensor& lengths,
                                bool keep) {
  auto pick = [&](const Tensor& state) {
    // Where slot t is: the memory has one slot without the whole sequence (step.h).
    auto slot = [&](int64_t t) { return state.size(0) == 1 ? 0 : tape_state_slot(t, keep); };
    if (!lengths.defined()) return state.select(0, slot(s.T)).clone();
    Tensor out = at::empty({s.B, state.size(2)}, state.options());
    const int64_t* length = lengths.data_ptr<int64_t>();
    for (int64_t b = 0; b < s.B; ++b) out[b].copy_(state[slot(length[b])][b]);
    return out;
  };
  std::vector<Tensor> out = {
      pick(tape.mem).view({s.B, s.W, s.N}).transpose(1, 2).contiguous(),
      pick(tape.wr).view({s.B, s.Hr, s.N}), pick(tape.ww).view({s.B, s.Hw, s.N}),
      pick(tape.reads), pick(tape.hout),
      s.CS() > 0 ? pick(tape.ctrl) : at::empty({s.B, 0}, tape.ctrl.options())};
  if (s.dnc) {
    out.insert(out.end(), {pick(tape.usage), pick(tape.link).view({s.B, s.N, s.N}),
                           pick(tape.prec)});
  }
  return out;
}

std::vector<Tensor> forward(std::vector<int64_t> spec_values, std::vector<double> eps,
                            Tensor inputs, std::optional<Tensor> mask_or_none,
                            std::optional<Tensor> lengths_or_none, std::vector<Tensor> state,
                            std::vector<Tensor> weights, bool keep) {
  const Tensor mask = mask_or_none.value_or(Tensor()), lengths = lengths_or_none.value_or(Tensor());
  const Spec s = make_spec(spec_values, eps);
  const bool padded = lengths.defined();
  TapeTensors tape = allocate_tape(s, keep, padded, inputs.options());
  load_initial_state(s, tape, state);
  Tensor logits = padded ? at::zeros({s.T, s.B, s.O}, inputs.options())
                         : at::empty({s.T, s.B, s.O}, inputs.options());
  const Tensor joint = joint_weights(weights);
  const Projection projection = projection_weights(weights);
  AT_DISPATCH_FLOATING_TYPES(inputs.scalar_type(), "ntmkit_forward", [&] {
    forward_steps<scalar_t>(s, weights_of<scalar_t>(s, weights, joint, projection),
                            tape.view<scalar_t>(keep, s.B), inputs, mask, lengths, logits);
  });
  std::vector<Tensor> out = {logits};
  for (const Tensor& part : final_state(s, tape, lengths, keep)) out.push_back(part);
  for (const Tensor& part : tape.list()) out.push_back(part);
  return out;
}

template <typename T>
void backward_steps(const Spec& s, const Weights<T>& p, Tape<T> tape, const StepGrads<T>& g,
                    const Tensor& mask, const Tensor& lengths, const Tensor& d_logits,
                    const std::vector<Tensor>& d_final, std::vector<Tensor>& d_initial) {
  const int64_t B = s.B, U = s.U(), N = s.N;
  const int64_t CY = s.controller.d_pre_size(), HP = s.head_size(), HV = s.vector_size();
  const T* m = mask.defined() ? mask.data_ptr<T>() : nullptr;
  const T* dy = d_logits.data_ptr<T>();
  const int64_t sizes[] = {N * s.W, s.Hr * N, s.Hw * N, s.R(), U, s.CS(), N, N * N, N};
  const int states = static_cast<int>(state_count(s));
  over_batch_slices(B, [&](int64_t b0, int64_t count) {
    Tape<T> slice = tape;
    slice.b0 = b0;
    Buffers<T> buf(s, count);
    Rows<T>* adjoints[] = {&buf.d_mem, &buf.d_wr, &buf.d_ww,    &buf.d_r,   &buf.d_hout,
                           &buf.d_ctrl, &buf.d_usage, &buf.d_link, &buf.d_prec};
    for (int i = 0; i < states; ++i) {
      for (int64_t b = 0; b < count && sizes[i] > 0; ++b) {
        copy(d_final[i].data_ptr<T>() + (b0 + b) * sizes[i], (*adjoints[i])[b], sizes[i]);
      }
    }
    for (int64_t t = s.T - 1; t >= 0; --t) {
      const int64_t row = t * B + b0;
      const std::vector<char> active = active_at(lengths, t, b0, count);
      const T* mask_t = m ? m + row * U : nullptr;
      const Rows<const T> dy_t{dy + row * s.O, s.O};
      const Rows<T> d_pre{g.d_pre + row * CY, CY}, d_head_raw{g.d_head_raw + row * HP, HP};
      if (s.dnc) {
        dnc_step_backward(s, p, active, mask_t, dy_t, state_at(s, slice, t),
                          state_at(s, slice, t + 1), step_at(s, slice, t), buf, d_pre,
                          d_head_raw);
      } else {
        step_backward(s, p, active, mask_t, dy_t, state_at(s, slice, t),
                      state_at(s, slice, t + 1), step_at(s, slice, t), buf, d_pre, d_head_raw,
                      Rows<T>{g.d_vec_raw + row * HV, HV});
      }
    }
    for (int i = 0; i < states; ++i) {
      for (int64_t b = 0; b < count && sizes[i] > 0; ++b) {
        copy((*adjoints[i])[b], d_initial[i].data_ptr<T>() + (b0 + b) * sizes[i], sizes[i]);
      }
    }
  });
}

// dL/dW = dY^T X over all steps of all sequences, for a layer with output gradients dY
// [T B, out] and inputs X [T B, in].
Tensor weight_grad(const Tensor& d_out, const Tensor& inputs) {
  return at::mm(d_out.t(), inputs);
}

Tensor flat(const Tensor& x) { return x.reshape({-1, x.size(-1)}); }

// The weight gradients, in the order of the weights.
std::vector<Tensor> weight_grads(const Spec& s, const TapeTensors& tape, const Tensor& d_pre,
                                 const Tensor& d_head_raw, const Tensor& d_vec_raw,
                                 const Tensor& d_logits, const Tensor& mask,
                                 const Tensor& lengths, const std::vector<Tensor>& weights) {
  const int64_t T = s.T, U = s.U();
  const Tensor h_new = flat(tape.hout.narrow(0, 1, T)), h_old = flat(tape.hout.narrow(0, 0, T));
  const Tensor r_new = flat(tape.reads.narrow(0, 1, T)), r_old = flat(tape.reads.narrow(0, 0, T));
  const Tensor c_old = flat(tape.ctrl.narrow(0, 0, T)), c_new = flat(tape.ctrl.narrow(0, 1, T));
  const Tensor dy = flat(d_pre);
  // The logits of padded steps are zeros, not outputs of the layer: their gradients are not
  // the layer's.
  Tensor g = flat(d_logits);
  if (lengths.defined()) {
    const Tensor steps = at::arange(T, lengths.options()).unsqueeze(1);
    g = g * (steps < lengths.unsqueeze(0)).reshape({-1, 1}).to(g.scalar_type());
  }
  const Tensor reads_in = s.graves ? r_old : r_new;  // what the controller read
  std::vector<Tensor> grads(weights.size());
  const ControllerSizes& c = s.controller;
  for (size_t i = 1; i < 3; ++i) grads[i] = at::zeros_like(weights[i]);
  if (c.kind == DENSE) {
    grads[0] = weight_grad(dy, reads_in);
  } else if (c.kind == GRU) {
    grads[0] = weight_grad(dy, reads_in);
    grads[1] = weight_grad(dy.narrow(1, 0, 2 * U), c_old);
    const Tensor z = flat(tape.ctrl_tape).narrow(1, U, U);
    grads[2] = weight_grad(dy.narrow(1, 2 * U, U), z * c_old);
  } else {  // RNN and the first LSTM layer read [r; h_prev]
    const int64_t G = c.projection_size();
    grads[0] = weight_grad(dy.narrow(1, 0, G), at::cat({reads_in, c_old.narrow(1, 0, U)}, 1));
  }
  grads[3] = weight_grad(flat(d_head_raw), h_new), grads[4] = flat(d_head_raw).sum(0);
  const Tensor vec_in = s.graves ? h_new : h_old;
  if (s.dnc) {  // no write-vector layer: its erase and add come from the interface
    grads[5] = at::zeros_like(weights[5]), grads[6] = at::zeros_like(weights[6]);
  } else {
    grads[5] = weight_grad(flat(d_vec_raw), vec_in), grads[6] = flat(d_vec_raw).sum(0);
  }
  std::vector<Tensor> out_in;
  if (s.out_h) out_in.push_back(mask.defined() ? h_new * flat(mask) : h_new);
  if (s.out_r) out_in.push_back(r_new);
  grads[7] = weight_grad(g, out_in.size() == 1 ? out_in[0] : at::cat(out_in, 1));
  grads[8] = g.sum(0);
  for (int64_t l = 1; l < c.L; ++l) {
    const size_t base = kFixedWeights + 4 * (l - 1);
    const Tensor d = dy.narrow(1, 4 * U * l, 4 * U);
    grads[base] = weight_grad(d, c_new.narrow(1, (l - 1) * U, U));
    grads[base + 1] = weight_grad(d, c_old.narrow(1, l * U, U));
    grads[base + 2] = d.sum(0);
    grads[base + 3] = grads[base + 2].clone();
  }
  return grads;
}

std::vector<Tensor> backward(std::vector<int64_t> spec_values, std::vector<double> eps,
                             Tensor inputs, bool inputs_need_grad,
                             std::optional<Tensor> mask_or_none,
                             std::optional<Tensor> lengths_or_none, std::vector<Tensor> tape_list,
                             std::vector<Tensor> weights, Tensor d_logits,
                             std::vector<Tensor> d_final) {
  const Tensor mask = mask_or_none.value_or(Tensor()), lengths = lengths_or_none.value_or(Tensor());
  const Spec s = make_spec(spec_values, eps);
  const TapeTensors tape = TapeTensors::from(tape_list);
  const at::TensorOptions o = d_logits.options();
  const int64_t T = s.T, B = s.B, CS = s.CS();
  Tensor d_pre = workspace().take({T, B, s.controller.d_pre_size()}, o, true);
  Tensor d_head_raw = workspace().take({T, B, s.head_size()}, o, true);
  Tensor d_vec_raw = workspace().take({T, B, s.vector_size()}, o, true);
  TORCH_CHECK(d_final.size() == state_count(s), "ntmkit engine: ", d_final.size(),
              " final-state gradients, expected ", state_count(s));
  d_final[0] = d_final[0].transpose(1, 2).contiguous();  // the engine's [W, N] memory
  std::vector<Tensor> d_initial = {at::empty({B, s.W, s.N}, o), at::empty({B, s.Hr, s.N}, o),
                                   at::empty({B, s.Hw, s.N}, o), at::empty({B, s.R()}, o),
                                   at::empty({B, s.U()}, o), at::empty({B, CS}, o)};
  if (s.dnc) {
    d_initial.insert(d_initial.end(), {at::empty({B, s.N}, o), at::empty({B, s.N, s.N}, o),
                                       at::empty({B, s.N}, o)});
  }
  const Tensor joint = joint_weights(weights);
  AT_DISPATCH_FLOATING_TYPES(d_logits.scalar_type(), "ntmkit_backward", [&] {
    const StepGrads<scalar_t> g{d_pre.data_ptr<scalar_t>(), d_head_raw.data_ptr<scalar_t>(),
                                d_vec_raw.data_ptr<scalar_t>()};
    backward_steps<scalar_t>(s, weights_of<scalar_t>(s, weights, joint, Projection{}),
                             tape.view<scalar_t>(true, B), g, mask, lengths, d_logits, d_final,
                             d_initial);
  });
  // The input layer, x W_x + b, made the first block of the first layer's pre-activations.
  const Tensor d_input = flat(d_pre).narrow(1, 0, s.controller.projection_size());
  std::vector<Tensor> out = {inputs_need_grad
                                 ? at::mm(d_input, weights[9]).view({T, B, -1})
                                 : Tensor()};
  d_initial[0] = d_initial[0].transpose(1, 2).contiguous();
  for (const Tensor& d : d_initial) out.push_back(d);
  std::vector<Tensor> grads = weight_grads(s, tape, d_pre, d_head_raw, d_vec_raw, d_logits, mask,
                                           lengths, weights);
  grads[9] = weight_grad(d_input, flat(inputs));
  grads[10] = d_input.sum(0);
  for (const Tensor& d : grads) out.push_back(d);
  return out;
}

}  // namespace
}  // namespace ntmkit

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "ntmkit's fused NTM sequence engine (see ntmkit/fused)";
  m.def("forward", &ntmkit::forward, "Run whole sequences forward; returns logits, final state, tape");
  m.def("backward", &ntmkit::backward, "Backpropagate through time; returns every gradient");
  m.attr("SPEC_SIZE") = static_cast<int>(ntmkit::kSpecSize);
}
