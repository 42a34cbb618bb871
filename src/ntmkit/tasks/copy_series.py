"""Copy series: copy after copy through a memory too small for the whole series, the test of
dynamic memory allocation in Graves et al. 2016 (the DNC paper, Extended Data Figure 1).

An episode is C copy episodes (`ntmkit.tasks.copy`) back to back: read L random S-bit vectors
and a delimiter (the recall cue), write the L vectors back, then the next sequence. Its recipe
gives the model 8 memory slots while a series of 4 copies of up to 5 vectors holds 20, so a
model solves it only by writing each new sequence over slots whose contents were already
recalled: the DNC frees them with its free gates and allocates them again; the NTM has to walk
its write head over them. Example with S = 2, C = 2, L = 2:

                  t:  0 1 2 3 4 5 6 7 8 9
    inputs   bits     x x . . . y y . . .      the first sequence, then the second
             delim    . . 1 . . . . 1 . .      a recall cue after each
    targets  bits     . . . x x . . . y y      each sequence again, after its cue
    mask              . . . 1 1 . . . 1 1      the output phases

Every copy of a batch's series has the same length L; L and C are drawn per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ntmkit.tasks.base import Batch, Grid, Task, full_batch
from ntmkit.validation import check_size


@dataclass(frozen=True)
class CopySeriesConfig:
    """Copy-series options: a series of ``min_copies..max_copies`` copies of
    ``min_length..max_length`` vectors each."""

    size: int = 8  # Bits per vector, as in copy.
    min_length: int = 1
    max_length: int = 5
    min_copies: int = 1
    max_copies: int = 4  # With lengths up to 5: up to 20 vectors, more than the recipe's 8 slots.

    @property
    def input_size(self) -> int:
        return self.size + 1  # the bits and the recall cue

    @property
    def output_size(self) -> int:
        return self.size

    def __post_init__(self) -> None:
        check_size("task.size", self.size, low=1)
        check_size("task.min_length", self.min_length, low=1)
        check_size(
            "task.max_length", self.max_length, low=self.min_length, low_name="task.min_length"
        )
        check_size("task.min_copies", self.min_copies, low=1)
        check_size(
            "task.max_copies", self.max_copies, low=self.min_copies, low_name="task.min_copies"
        )


class CopySeriesTask(Task):
    """Copy series: C copies back to back through a small memory (see the module doc)."""

    name = "copy_series"
    config_class = CopySeriesConfig
    generalisation: ClassVar[Grid] = {"copies": (4, 8, 16, 32)}
    recipe: ClassVar[dict[str, Any]] = {
        "model.num_slots": 8,
        "train.batch_size": 16,
        "train.eval_every": 200,
        "train.target_error": 0.01,
        "train.max_iter": 100_000,
    }
    """8 slots: the series outgrows them from its second copy of 5 vectors on."""

    def pinnable(self) -> dict[str, int]:
        return {"length": 1, "copies": 1}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        config = self.config
        return {
            "length": self._pick(pinned, "length", config.min_length, config.max_length),
            "copies": self._pick(pinned, "copies", config.min_copies, config.max_copies),
        }

    def sample_fixed(self, batch_size: int, length: int = 1, copies: int = 1) -> Batch:
        """A batch of series of ``copies`` copies of ``length`` vectors, `copies (2 length + 1)`
        steps long."""
        size, span = self.config.size, 2 * length + 1
        steps = copies * span
        inputs = torch.zeros(steps, batch_size, size + 1)
        targets = torch.zeros(steps, batch_size, size)
        mask = torch.zeros(steps, batch_size, dtype=torch.bool)
        for copy in range(copies):
            start = copy * span
            bits = self._bits(length, batch_size, size)
            inputs[start : start + length, :, :size] = bits
            inputs[start + length, :, size] = 1.0  # the recall cue
            targets[start + length + 1 : start + span] = bits
            mask[start + length + 1 : start + span] = True
        return full_batch(inputs, targets, mask)

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        cues = torch.nonzero(batch.inputs[:, index, self.config.size]).flatten().tolist()
        return [(int(t), "cue") for t in cues]
