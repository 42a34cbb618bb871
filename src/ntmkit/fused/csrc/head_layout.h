// Where each named field of a head lies in the head layers' outputs: ntmkit/heads.py's named
// split (heads.addressing_fields, heads.write_fields, and the DNC's dnc_interface_fields),
// mirrored. Every offset into a head's values in the engine comes from here; no other file
// computes one.
#pragma once

#include <cstdint>

namespace ntmkit {

// Read plus write heads the engine takes: ntmkit/fused/spec.py's MAX_HEADS.
constexpr int64_t kMaxHeads = 64;

struct HeadLayout {
  // One head's addressing values, P in all (heads.addressing_fields): the key [W], beta,
  // gate, the shift weights [S], gamma.
  int64_t key, beta, gate, shift, gamma, P;
  // One write head's vectors, V in all (heads.write_fields): erase [W], add [W].
  int64_t erase, add, V;

  HeadLayout() : HeadLayout(0, 0) {}
  HeadLayout(int64_t W, int64_t S)
      : key(0), beta(W), gate(W + 1), shift(W + 2), gamma(W + 2 + S), P(W + S + 3),
        erase(0), add(W), V(2 * W) {}

  // Head h's addressing values in a row of all heads' (write heads first).
  template <typename T>
  T* head(T* values, int64_t h) const { return values + h * P; }
  // Write head h's erase vector [W] and add vector [W] in a row of all write heads'.
  template <typename T>
  T* erase_of(T* vectors, int64_t h) const { return vectors + h * V + erase; }
  template <typename T>
  T* add_of(T* vectors, int64_t h) const { return vectors + h * V + add; }
};

// The DNC's interface vector (ntmkit.heads.dnc_interface_fields, the paper's order): R read
// keys [W] and strengths, the write key [W] and strength, erase [W], the write vector [W], R
// free gates, the allocation and write gates, and R read modes [3] (backward, content,
// forward). Erase and the write vector lie side by side, as a `HeadLayout` write head's erase
// and add do, so the NTM's write kernels take them as they are.
struct DNCLayout {
  int64_t R, W;
  int64_t read_keys, read_strengths, write_key, write_strength, erase, write_vector;
  int64_t free_gates, allocation_gate, write_gate, read_modes, K;

  DNCLayout() : DNCLayout(0, 0) {}
  DNCLayout(int64_t R, int64_t W)
      : R(R), W(W), read_keys(0), read_strengths(R * W), write_key(R * W + R),
        write_strength(R * W + R + W), erase(R * W + R + W + 1), write_vector(erase + W),
        free_gates(write_vector + W), allocation_gate(free_gates + R),
        write_gate(allocation_gate + 1), read_modes(write_gate + 1), K(read_modes + 3 * R) {}

  // Read head r's key [W] and its three read modes in the interface's values.
  template <typename T>
  T* read_key(T* values, int64_t r) const { return values + read_keys + r * W; }
  template <typename T>
  T* modes(T* values, int64_t r) const { return values + read_modes + 3 * r; }
};

}  // namespace ntmkit
