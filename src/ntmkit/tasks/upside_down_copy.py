"""Upside-down copy (ntm-lasagne's `UpsideDownCopyTask`): each vector comes back with its bits
in reverse channel order, while the vectors keep their time order.

The copy layout (see copy.py). S = 3, L = 2, end marker off, payload bits p, q, r in channels
0, 1, 2 at t = 0 and u, v, w at t = 1:

                  t:  0 1 2 3 4
    inputs   bit 0    p u . . .
             bit 1    q v . . .
             bit 2    r w . . .
             delim    . . 1 . .
    targets  bit 0    . . . r w      bit 2 of the input lands on bit 0, and so on
             bit 1    . . . q v
             bit 2    . . . p u
             end      . . . . .
    mask              . . . 1 1
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ntmkit.tasks.base import Grid
from ntmkit.tasks.copy import CopyTask


class UpsideDownCopyTask(CopyTask):
    """Copy whose target flips every vector's bits end to end."""

    name = "upside_down_copy"
    generalisation: ClassVar[Grid] = {
        "length": (5, 10, 20, 40, 80, 120)
    }  # ntm-lasagne scored its models here

    def target_sequence(self, bits: torch.Tensor) -> torch.Tensor:
        """`[L, B, S]` -> the same vectors, each with its bits reversed."""
        return bits.flip(-1)
