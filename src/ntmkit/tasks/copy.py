"""Copy (Graves et al. 2014, section 4.1), in ntm-lasagne's `CopyTask` layout.

The model reads L random S-bit vectors, then a delimiter, and must then write the same L vectors
back. Inputs and targets both have S + 1 channels (the last is the delimiter / end channel), and an
episode lasts 2L + 1 steps, or 2L + 2 with `end_marker`. Example with S = 3, L = 2 and the end
marker on (`x` is a payload bit, `.` a zero, `1` a one):

                  t:  0 1 2 3 4 5
    inputs   bits     x x . . . .      the payload, t < L
             delim    . . 1 . . .      the delimiter, t = L
    targets  bits     . . . x x .      the payload again, L < t <= 2L
             end      . . . . . 1      the end marker, t = 2L + 1 (only with end_marker)
    mask              . . . 1 1 1      the output phase: every step after the delimiter

`CopyTask.target_sequence` decides what the output phase holds; the reversed, upside-down and
sorted copies override only that method and keep this layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ntmkit.tasks.base import Batch, Grid, Task, first_step, full_batch, steps_mask
from ntmkit.validation import check_bool, check_size


@dataclass(frozen=True)
class CopyConfig:
    """Copy-task options; the defaults are the paper's training setting."""

    size: int = 8  # Bits per vector (the paper uses 8-bit vectors).
    min_length: int = 1
    max_length: int = 20  # The paper trains on lengths 1 to 20 and tests up to 120.
    # ntm-lasagne's option: one extra step at the end whose target raises the last channel, so
    # the model must also say when it has finished.
    end_marker: bool = False
    per_sequence_lengths: bool = False  # Draw one length per sequence and pad (see base.py).

    @property
    def input_size(self) -> int:
        return self.size + 1  # the bits and the delimiter

    @property
    def output_size(self) -> int:
        return self.size + 1  # the bits and the end marker

    def __post_init__(self) -> None:
        check_size("task.size", self.size, low=1)
        check_size("task.min_length", self.min_length, low=1)
        check_size(
            "task.max_length", self.max_length, low=self.min_length, low_name="task.min_length"
        )
        check_bool("task.end_marker", self.end_marker)
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)


class CopyTask(Task):
    """Copy: read L vectors and a delimiter, then write the L vectors back (see module doc)."""

    name = "copy"
    generalisation: ClassVar[Grid] = {
        "length": (10, 20, 30, 50, 80, 120)
    }  # the paper's copy test lengths
    config_class = CopyConfig

    @property
    def delimiter_channel(self) -> int:
        """The last channel: the delimiter in the inputs and the end marker in the targets."""
        return self.config.size

    def target_sequence(self, bits: torch.Tensor) -> torch.Tensor:
        """What the output phase holds, given the payload `[L, B, S]`; copy returns it unchanged."""
        return bits

    def build(self, bits: torch.Tensor) -> Batch:
        """Makes the episodes for given payload bits.

        Args:
          bits: `[L, B, size]` payload vectors.

        Returns:
          A `Batch` of `2L + 1` steps (`2L + 2` with the end marker).
        """
        length, batch_size, size = bits.shape
        if size != self.config.size:
            raise ValueError(
                f"bits has shape {tuple(bits.shape)}, expected [L, B, {self.config.size}]"
            )
        steps = 2 * length + 1 + int(self.config.end_marker)
        inputs = torch.zeros(steps, batch_size, self.input_size)
        targets = torch.zeros(steps, batch_size, self.output_size)
        inputs[:length, :, :size] = bits
        inputs[length, :, self.delimiter_channel] = 1.0
        targets[length + 1 : 2 * length + 1, :, :size] = self.target_sequence(bits)
        if self.config.end_marker:
            targets[-1, :, self.delimiter_channel] = 1.0
        mask = steps_mask(steps, batch_size, length + 1, steps)
        return full_batch(inputs, targets, mask)

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        delimiter = first_step(batch.inputs[:, index, self.delimiter_channel])
        marks = [(delimiter, "delimiter")]
        if self.config.end_marker:
            marks.append((2 * delimiter + 1, "end"))
        return marks

    def pinnable(self) -> dict[str, int]:
        return {"length": 1}

    def sample_fixed(self, batch_size: int, length: int) -> Batch:
        return self.build(self._bits(length, batch_size, self.config.size))
