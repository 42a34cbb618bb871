"""Reversed copy (ntm-lasagne's `ReversedCopyTask`): write the vectors back last one first.

The copy layout (see copy.py), with the output phase holding the payload in reverse time order.
S = 3, L = 2, end marker on, payload vectors a (t = 0) and b (t = 1):

                  t:  0 1 2 3 4 5
    inputs   bits     a b . . . .
             delim    . . 1 . . .
    targets  bits     . . . b a .      the last vector comes out first
             end      . . . . . 1      (only with end_marker)
    mask              . . . 1 1 1
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ntmkit.tasks.base import Grid
from ntmkit.tasks.copy import CopyTask


class ReversedCopyTask(CopyTask):
    """Copy whose target is the payload reversed in time."""

    name = "reversed_copy"
    generalisation: ClassVar[Grid] = {
        "length": (5, 10, 20, 40, 80, 120)
    }  # ntm-lasagne scored its models here

    def target_sequence(self, bits: torch.Tensor) -> torch.Tensor:
        """`[L, B, S]` -> the same vectors, last first."""
        return bits.flip(0)
