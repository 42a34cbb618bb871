"""Sort (ntm-lasagne's `SortTask`): write the vectors back in ascending order.

Each vector is read as a binary number with its first bit (channel 0) most significant, so the
order is lexicographic. The copy layout (see copy.py); S = 2, L = 3, payload 11, 00, 10:

                  t:  0 1 2 3 4 5 6
    inputs   bit 0    1 0 1 . . . .
             bit 1    1 0 0 . . . .
             delim    . . . 1 . . .
    targets  bit 0    . . . . 0 1 1      00, 10, 11: ascending
             bit 1    . . . . 0 0 1
             end      . . . . . . .      (1 at a final extra step with end_marker)
    mask              . . . . 1 1 1

Equal vectors keep their input order (the sort is stable), which the target cannot show anyway.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ntmkit.tasks.base import Grid
from ntmkit.tasks.copy import CopyTask


def sort_vectors(bits: torch.Tensor) -> torch.Tensor:
    """Sorts each sequence's vectors in ascending lexicographic order, first bit most significant.

    Sorting stably by each bit column in turn, least significant first, gives the lexicographic
    order for any vector width (packing the bits into one integer key would overflow past 63 bits).

    Args:
      bits: `[L, B, S]` binary vectors.

    Returns:
      `[L, B, S]`, the vectors of each batch element reordered along time.
    """
    order = torch.arange(bits.shape[0]).unsqueeze(1).expand(bits.shape[:2])  # (L, B)
    for column in reversed(range(bits.shape[-1])):
        keys = bits[..., column].gather(0, order)  # (L, B)
        order = order.gather(0, keys.argsort(dim=0, stable=True))
    return bits.gather(0, order.unsqueeze(-1).expand(bits.shape))


class SortTask(CopyTask):
    """Copy whose target is the payload vectors sorted in ascending order."""

    name = "sort"
    generalisation: ClassVar[Grid] = {"length": (1, 2, 3, 4, 5, 10, 15, 20)}

    def target_sequence(self, bits: torch.Tensor) -> torch.Tensor:
        """`[L, B, S]` -> the same vectors, ascending."""
        return sort_vectors(bits)
