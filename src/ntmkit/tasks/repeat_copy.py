"""Repeat copy (Graves et al. 2014, section 4.2): read L vectors and a repeat count R, then write
the vectors R times back to back.

Two layouts, chosen by `layout`. Examples with S = 3, L = 2, R = 2 (`x` payload bits).

"lasagne", ntm-lasagne's `RepeatCopyTask`: inputs and targets have S + 2 channels. The count
sits on channel S (second to last) at t = L, either as one scalar R / max_repeats
(`repeat_encoding="scalar"`) or as R consecutive ones (`"unary"`); the delimiter on channel S + 1
follows it. With `end_marker` one extra final step raises the targets' last channel.

    scalar, end_marker on       t:  0 1 2 3 4 5 6 7 8
        inputs   bits               x x . . . . . . .
                 count              . . c . . . . . .      c = R / max_repeats
                 delim              . . . 1 . . . . .
        targets  bits               . . . . x x x x .      R copies, back to back
                 (unused)           . . . . . . . . .
                 end                . . . . . . . . 1
        mask                        . . . . 1 1 1 1 1

    unary, end_marker off       t:  0 1 2 3 4 5 6 7 8
        inputs   bits               x x . . . . . . .
                 count              . . 1 1 . . . . .      R ones from t = L
                 delim              . . . . 1 . . . .
        targets  bits               . . . . . x x x x
                 (unused)           . . . . . . . . .
                 end                . . . . . . . . .
        mask                        . . . . . 1 1 1 1

"paper", the paper's description: S + 2 input channels (the bits, a delimiter, and the count as
one scalar normalised to mean 0 and variance 1 over the uniform distribution on
min_repeats..max_repeats), S + 1 output channels (the bits and an end marker, which the model must
always emit right after the R copies; `repeat_encoding` must stay "scalar" and `end_marker` is
implied).

    paper                       t:  0 1 2 3 4 5 6 7 8
        inputs   bits               x x . . . . . . .
                 delim              . . 1 . . . . . .
                 count              . . . r . . . . .      r = (R - mean) / std
        targets  bits               . . . . x x x x .
                 end                . . . . . . . . 1
        mask                        . . . . 1 1 1 1 1
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from ntmkit.tasks.base import Batch, Grid, Task, first_step, full_batch, steps_mask
from ntmkit.validation import check_bool, check_choice, check_size, fail

Layout = Literal["lasagne", "paper"]
"""ntm-lasagne's layout or the paper's (see the module doc)."""
RepeatEncoding = Literal["scalar", "unary"]
"""The lasagne layout's repeat count: one scalar step, or as many ones as repeats."""


@dataclass(frozen=True)
class RepeatCopyConfig:
    """Repeat-copy options; the default ranges are the paper's training setting."""

    size: int = 8  # Bits per vector (the paper uses 8-bit vectors).
    min_length: int = 1
    max_length: int = 10  # The paper trains on lengths 1 to 10.
    min_repeats: int = 1
    max_repeats: int = 10  # The paper trains on 1 to 10 repeats.
    layout: Layout = "lasagne"
    repeat_encoding: RepeatEncoding = "scalar"  # The lasagne layout's count; ntm-lasagne's default.
    end_marker: bool = False  # The lasagne layout's optional end step; the paper layout has one.
    per_sequence_lengths: bool = False  # Draw length and repeats per sequence (see base.py).

    @property
    def input_size(self) -> int:
        return self.size + 2

    @property
    def output_size(self) -> int:
        return self.size + (2 if self.layout == "lasagne" else 1)

    def __post_init__(self) -> None:
        check_size("task.size", self.size, low=1)
        check_size("task.min_length", self.min_length, low=1)
        check_size(
            "task.max_length", self.max_length, low=self.min_length, low_name="task.min_length"
        )
        check_size("task.min_repeats", self.min_repeats, low=1)
        check_size(
            "task.max_repeats", self.max_repeats, low=self.min_repeats, low_name="task.min_repeats"
        )
        check_choice("task.layout", self.layout, Layout)
        check_choice("task.repeat_encoding", self.repeat_encoding, RepeatEncoding)
        check_bool("task.end_marker", self.end_marker)
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)
        if self.layout == "paper":
            # The paper layout standardises the count, which needs a spread of repeat values.
            paper = "task.min_repeats + 1, with task.layout 'paper'"
            check_size(
                "task.max_repeats", self.max_repeats, low=self.min_repeats + 1, low_name=paper
            )
            if self.repeat_encoding != "scalar":
                raise fail(
                    "task.repeat_encoding",
                    "'scalar' with task.layout 'paper'",
                    self.repeat_encoding,
                )


class RepeatCopyTask(Task):
    """Repeat copy in ntm-lasagne's or the paper's layout (see module doc)."""

    name = "repeat_copy"
    generalisation: ClassVar[Grid] = {"repeats": (5, 10, 15, 20)}
    config_class = RepeatCopyConfig

    def normalised_repeats(self, repeats: int) -> float:
        """The paper's count: R standardised over the uniform law on min_repeats..max_repeats."""
        low, high = self.config.min_repeats, self.config.max_repeats
        mean = (low + high) / 2
        variance = ((high - low + 1) ** 2 - 1) / 12  # Variance of a discrete uniform law.
        return (repeats - mean) / math.sqrt(variance)

    def build(self, bits: torch.Tensor, repeats: int) -> Batch:
        """Makes the episodes for given payload bits and repeat count.

        Args:
          bits: `[L, B, size]` payload vectors.
          repeats: R, the number of copies to write.

        Returns:
          A `Batch` in the configured layout (see module doc for its length).
        """
        if bits.shape[-1] != self.config.size:
            raise ValueError(
                f"bits has shape {tuple(bits.shape)}, expected [L, B, {self.config.size}]"
            )
        if self.config.layout == "paper":
            return self._build_paper(bits, repeats)
        return self._build_lasagne(bits, repeats)

    def _build_lasagne(self, bits: torch.Tensor, repeats: int) -> Batch:
        length, batch_size, size = bits.shape
        unary = self.config.repeat_encoding == "unary"
        count_steps = repeats if unary else 1
        start = length + count_steps + 1  # First output step, right after the delimiter.
        steps = start + repeats * length + int(self.config.end_marker)
        inputs = torch.zeros(steps, batch_size, self.input_size)
        inputs[:length, :, :size] = bits
        inputs[length : length + count_steps, :, size] = (
            1.0 if unary else repeats / self.config.max_repeats
        )
        inputs[length + count_steps, :, size + 1] = 1.0
        targets = torch.zeros(steps, batch_size, self.output_size)
        targets[start : start + repeats * length, :, :size] = bits.repeat(repeats, 1, 1)
        if self.config.end_marker:
            targets[-1, :, size + 1] = 1.0
        return full_batch(inputs, targets, steps_mask(steps, batch_size, start, steps))

    def _build_paper(self, bits: torch.Tensor, repeats: int) -> Batch:
        length, batch_size, size = bits.shape
        start = length + 2  # After the delimiter step and the count step.
        steps = start + repeats * length + 1  # The last step carries the end marker.
        inputs = torch.zeros(steps, batch_size, self.input_size)
        inputs[:length, :, :size] = bits
        inputs[length, :, size] = 1.0
        inputs[length + 1, :, size + 1] = self.normalised_repeats(repeats)
        targets = torch.zeros(steps, batch_size, self.output_size)
        targets[start:-1, :, :size] = bits.repeat(repeats, 1, 1)
        targets[-1, :, size] = 1.0
        return full_batch(inputs, targets, steps_mask(steps, batch_size, start, steps))

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        inputs, size = batch.inputs[:, index], self.config.size
        end = int(batch.lengths[index]) - 1
        if self.config.layout == "paper":
            delimiter = first_step(inputs[:, size])
            # The count is found next to the delimiter: its standardised value can be exactly 0.
            return [(delimiter, "delimiter"), (delimiter + 1, "repeats"), (end, "end")]
        marks = [
            (first_step(inputs[:, size]), "repeats"),
            (first_step(inputs[:, size + 1]), "delimiter"),
        ]
        if self.config.end_marker:
            marks.append((end, "end"))
        return marks

    def pinnable(self) -> dict[str, int]:
        return {"length": 1, "repeats": 1}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        config = self.config
        return {
            "length": self._pick(pinned, "length", config.min_length, config.max_length),
            "repeats": self._pick(pinned, "repeats", config.min_repeats, config.max_repeats),
        }

    def sample_fixed(self, batch_size: int, length: int, repeats: int) -> Batch:
        return self.build(self._bits(length, batch_size, self.config.size), repeats)
