// The Differentiable Neural Computer's memory access (Graves et al. 2016, Methods) for one
// sequence and one step, forward and backward, in the order of ntmkit.dnc_access.access_step:
//
//   psi = retention(free gates, wr_{t-1});  u_t = usage(u_{t-1}, ww_{t-1}, psi)
//   c^w = content(M_{t-1}, write key);  a = allocation(u_t);  ww_t = write weighting(a, c^w)
//   M_t = write(M_{t-1}, ww_t, erase, write vector)
//   L_t = link(L_{t-1}, p_{t-1}, ww_t);  p_t = precedence(p_{t-1}, ww_t)
//   f, b = directions(L_t, wr_{t-1});  c^r = content(M_t, read keys)
//   wr_t = read weighting(b, c^r, f, read modes);  r_t = read(M_t, wr_t)
//
// The content lookups, the write and the read are the NTM's kernels (addressing.h, memory.h);
// the DNC's own equations are in allocation.h and temporal_links.h, one function each, tagged
// with their Python twin, as ntmkit.allocation and ntmkit.temporal_links hold them; this file
// chains them. The memory is transposed, M^T [W, N] (memory.h).
#pragma once

#include "addressing.h"
#include "allocation.h"
#include "head_layout.h"
#include "memory.h"
#include "temporal_links.h"

namespace ntmkit {

// The sizes of the access step: the NTM's (slots, word, cosine epsilon), the read heads and
// where the interface's fields lie.
struct DNCSizes {
  Sizes sizes;
  int64_t R;
  DNCLayout layout;
  HeadLayout vectors;  // erase and write vector as the write kernels take a head's
};

// One sequence's DNC state between two steps (ntmkit.dnc_access.DNCAccessState).
template <typename T>
struct AccessState {
  T* memory;  // M^T [W, N]
  T *usage, *link, *precedence;  // [N], [N, N], [N]
  T *read_weights, *write_weights;  // [R, N], [N]
};

// The gradients at an AccessState and at the reads [R W], for the backward pass.
template <typename T>
struct AccessGrads {
  T* memory;
  T *usage, *link, *precedence;
  T *read_weights, *write_weights;
  T* reads;
};

// What the backward pass of one step needs from its forward pass, each [N] unless said.
template <typename T>
struct DNCTape {
  T *row_sq_prev, *row_sq;  // |M_{t-1, i}|^2 and |M_{t, i}|^2
  T *retention, *allocation;  // psi and a
  T *forward, *backward;  // the directional weightings [R, N]
  T* lookups;  // the write key's content lookup on M_{t-1}, then each read key's on M_t

  ContentTape<T> lookup(int64_t k, int64_t N) const {  // k = 0 the write key, 1 + r read key r
    T* base = lookups + 3 * k * N;
    return ContentTape<T>{base, base + N, base + 2 * N};
  }
};

inline int64_t dnc_tape_size(int64_t N, int64_t R) { return (7 + 5 * R) * N; }

template <typename T>
DNCTape<T> dnc_tape(T* base, int64_t N, int64_t R) {
  return DNCTape<T>{base, base + N, base + 2 * N, base + 3 * N, base + 4 * N,
                    base + (4 + R) * N, base + (4 + 2 * R) * N};
}

// Scratch of `access_backward`, per sequence.
inline int64_t dnc_scratch_size(int64_t N, int64_t R) { return (7 + 4 * R) * N; }

// Every read key's content lookup on the memory (row norms into row_sq), then each read
// head's weighting; tape.forward and tape.backward hold the directional weightings.
template <typename T>
void read_heads_forward(const DNCSizes& s, const T* val, const T* memory, const DNCTape<T>& tape,
                        T* wr) {
  const int64_t N = s.sizes.N, R = s.R;
  const DNCLayout& L = s.layout;
  const T* keys[kMaxHeads];
  T* dots[kMaxHeads];
  for (int64_t r = 0; r < R; ++r) {
    keys[r] = L.read_key(val, r);
    dots[r] = tape.lookup(1 + r, N).similarity;
  }
  memory_dots(memory, keys, R, N, s.sizes.W, tape.row_sq, dots);
  for (int64_t r = 0; r < R; ++r) {
    const ContentTape<T> lookup = tape.lookup(1 + r, N);
    content_forward(tape.row_sq, keys[r], val[L.read_strengths + r], s.sizes, lookup);
    read_weighting(tape.backward + r * N, lookup.content, tape.forward + r * N, L.modes(val, r),
                   N, wr + r * N);
  }
}

// DNC access step, ntmkit.dnc_access.access_step: from the interface's values `val` [K] and
// the previous state, the next state and the reads [R W]. next's memory and link may be
// prev's (in place). order: [N] scratch.
template <typename T>
void access_forward(const DNCSizes& s, const T* val, const AccessState<T>& prev,
                    const AccessState<T>& next, T* reads, const DNCTape<T>& tape,
                    const FreeList<T>& list) {
  const int64_t N = s.sizes.N, W = s.sizes.W, R = s.R;
  const DNCLayout& L = s.layout;
  retention(val + L.free_gates, prev.read_weights, R, N, tape.retention);
  usage_forward(prev.usage, prev.write_weights, tape.retention, N, next.usage);
  const T* write_key = val + L.write_key;
  const ContentTape<T> lookup = tape.lookup(0, N);
  memory_dots(prev.memory, &write_key, 1, N, W, tape.row_sq_prev, &lookup.similarity);
  content_forward(tape.row_sq_prev, write_key, val[L.write_strength], s.sizes, lookup);
  allocation_forward(next.usage, N, list, tape.allocation);
  write_weighting(tape.allocation, lookup.content, val[L.write_gate], val[L.allocation_gate], N,
                  next.write_weights);
  // eqs. 3-4, ntmkit.memory.write: the one write head's erase and add, alone (the reads come
  // after the read weighting, below).
  write_and_read_forward<T>(prev.memory, next.write_weights, val + L.erase, 1, nullptr, 0, N, W,
                            s.vectors, next.memory, nullptr, nullptr);
  links_forward(prev.link, prev.precedence, next.write_weights, prev.read_weights, R, N, next.link,
                tape.forward, tape.backward);
  precedence_forward(prev.precedence, next.write_weights, N, next.precedence);
  read_heads_forward(s, val, next.memory, tape, next.read_weights);
  read_forward(next.memory, next.read_weights, R, N, W, reads);
}

// The read heads' backward: from the gradient at wr_t (d.read_weights), the read modes',
// read keys' and strengths' gradients into d_val, the memory's part of the lookups into
// d.memory, and the gradients at the directional weightings, d_f and d_b [R, N].
// scratch: [(1 + 2 R) N].
template <typename T>
void read_heads_backward(const DNCSizes& s, const T* val, const T* memory,
                         const DNCTape<T>& tape, const AccessGrads<T>& d, T* d_val, T* d_f,
                         T* d_b, T* scratch) {
  const int64_t N = s.sizes.N, R = s.R;
  const DNCLayout& L = s.layout;
  T* d_content = scratch;  // [N], one head at a time
  T* factors = scratch + N;  // [R, 2N]: each head's dL/d(k . M_i) and row factors
  const T *keys[kMaxHeads], *d_dots[kMaxHeads], *row_scales[kMaxHeads];
  T* d_keys[kMaxHeads];
  for (int64_t r = 0; r < R; ++r) {
    const ContentTape<T> lookup = tape.lookup(1 + r, N);
    read_weighting_backward(tape.backward + r * N, lookup.content, tape.forward + r * N,
                            L.modes(val, r), d.read_weights + r * N, N, L.modes(d_val, r),
                            d_b + r * N, d_content, d_f + r * N);
    keys[r] = L.read_key(val, r), d_keys[r] = L.read_key(d_val, r);
    T* d_dot = factors + 2 * r * N;
    d_dots[r] = d_dot, row_scales[r] = d_dot + N;
    d_val[L.read_strengths + r] =
        content_backward(tape.row_sq, keys[r], val[L.read_strengths + r], s.sizes, lookup,
                         d_content, d_dot, d_dot + N, d_keys[r]);
  }
  memory_dots_backward(memory, keys, d_dots, row_scales, R, N, s.sizes.W, d_keys, d.memory,
                       scratch);
}

// The write head's backward, from the gradient at ww_t (d.write_weights, complete) and at
// M_t: d.memory becomes the gradient at M_{t-1}; the write's, gates' and write key's
// gradients into d_val; adds the allocation's part to d.usage. scratch: [6N].
template <typename T>
void write_head_backward(const DNCSizes& s, const T* val, const AccessState<T>& prev,
                         const AccessState<T>& next, const DNCTape<T>& tape,
                         const AccessGrads<T>& d, T* d_val, T* scratch,
                         const int64_t* order) {
  const int64_t N = s.sizes.N, W = s.sizes.W;
  const DNCLayout& L = s.layout;
  T *d_a = scratch, *d_content = scratch + N, *prefix = scratch + 2 * N;
  T* factors = scratch + 3 * N;  // [2N]: dL/d(k . M_i) and the row factors
  // eqs. 3-4 backward, ntmkit.memory.write, for the one write head.
  write_backward<T>(prev.memory, next.write_weights, val + L.erase, 1, N, W, s.vectors, d.memory,
                    d.write_weights, d_val + L.erase, nullptr);  // one head: no scratch
  const ContentTape<T> lookup = tape.lookup(0, N);
  write_weighting_backward(tape.allocation, lookup.content, val[L.write_gate],
                           val[L.allocation_gate], d.write_weights, N, d_a, d_content,
                           d_val + L.write_gate, d_val + L.allocation_gate);
  const T* write_key = val + L.write_key;
  T* d_key = d_val + L.write_key;
  d_val[L.write_strength] = content_backward(tape.row_sq_prev, write_key, val[L.write_strength],
                                             s.sizes, lookup, d_content, factors, factors + N,
                                             d_key);
  const T* d_dot = factors;
  const T* row_scale = factors + N;
  memory_dots_backward(prev.memory, &write_key, &d_dot, &row_scale, 1, N, W, &d_key, d.memory,
                       scratch + 5 * N);
  allocation_backward(next.usage, order, d_a, N, prefix, d.usage);
}

// DNC access step backward, ntmkit.dnc_access.access_step: d holds the gradients at the
// step's outputs (the next state and the reads) and, on return, at the previous state but
// for its weightings, whose gradients are added to d_prev_wr and d_prev_ww (d's weightings
// gather the gradients at wr_t and ww_t on the way). Writes d_val [K], the gradient at the
// interface's values. order: the forward pass's free list. scratch: [dnc_scratch_size(N, R)].
template <typename T>
void access_backward(const DNCSizes& s, const T* val, const AccessState<T>& prev,
                     const AccessState<T>& next, const DNCTape<T>& tape, const AccessGrads<T>& d,
                     T* d_prev_wr, T* d_prev_ww, T* d_val, T* scratch,
                     const int64_t* order) {
  const int64_t N = s.sizes.N, W = s.sizes.W, R = s.R;
  const DNCLayout& L = s.layout;
  T *d_f = scratch, *d_b = scratch + R * N, *d_p_prev = scratch + 2 * R * N;
  T* rest = scratch + (2 * R + 1) * N;  // [(6 + 2R) N]
  // eq. 2 backward, ntmkit.memory.read: the reads of M_t.
  read_backward(next.memory, next.read_weights, d.reads, R, N, W, d.memory, d.read_weights);
  read_heads_backward(s, val, next.memory, tape, d, d_val, d_f, d_b, rest);
  precedence_backward(prev.precedence, next.write_weights, d.precedence, N, d_p_prev,
                      d.write_weights);
  links_backward(prev.link, next.link, prev.precedence, next.write_weights, prev.read_weights,
                 d_f, d_b, R, N, d.link, d.write_weights, d_p_prev, d_prev_wr);
  copy(d_p_prev, d.precedence, N);
  write_head_backward(s, val, prev, next, tape, d, d_val, rest, order);
  T* d_psi = rest;
  usage_backward(prev.usage, prev.write_weights, tape.retention, N, d.usage, d_prev_ww, d_psi);
  retention_backward(val + L.free_gates, prev.read_weights, d_psi, R, N, d_val + L.free_gates,
                     d_prev_wr, rest + N);
}

}  // namespace ntmkit
