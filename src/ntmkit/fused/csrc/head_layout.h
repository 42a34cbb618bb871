// Where each named field of a head lies in the head layers' outputs: ntmkit/heads.py's named
// split (heads.addressing_fields, heads.write_fields), mirrored. Every offset into a head's
// values in the engine comes from here; no other file computes one.
#pragma once

#include <cstdint>

namespace ntmkit {

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

}  // namespace ntmkit
