"""Priority sort (Graves et al. 2014, section 4.5): read vectors tagged with priorities, then write
the highest-priority ones, highest first.

The model reads N random S-bit vectors, each with a scalar priority drawn uniformly from [-1, 1],
then a delimiter, and must write the M vectors of highest priority sorted by priority, highest
first. Inputs have S + 2 channels (the bits, the delimiter on channel S, the priority on channel
S + 1); targets have S channels (the bits only). An episode lasts N + 1 + M steps. Example with
N = 3 vectors a, b, c of priorities 0.1, -0.7, 0.4 and M = 2:

                  t:   0    1    2   3  4  5
    inputs   bits      a    b    c   .  .  .
             delim     .    .    .   1  .  .
             priority  0.1 -0.7  0.4 .  .  .
    targets  bits      .    .    .   .  c  a      the two highest priorities, highest first
    mask               .    .    .   .  1  1

The paper uses N = 20 and M = 16 but does not give the vector width; we use 8 bits, as in its
other tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ntmkit.tasks.base import Batch, Grid, Task, first_step, full_batch, steps_mask
from ntmkit.validation import check_size

PRIORITY_RANGE = (-1.0, 1.0)  # The paper draws priorities uniformly from this interval.


@dataclass(frozen=True)
class PrioritySortConfig:
    """Priority-sort options; the defaults are the paper's setting."""

    size: int = 8  # Bits per vector (not given by the paper; 8 as in its other tasks).
    num_inputs: int = 20  # N, vectors read.
    num_outputs: int = 16  # M, highest-priority vectors to write.

    @property
    def input_size(self) -> int:
        return self.size + 2  # the bits, the delimiter and the priority

    @property
    def output_size(self) -> int:
        return self.size

    def __post_init__(self) -> None:
        check_size("task.size", self.size, low=1)
        check_size("task.num_outputs", self.num_outputs, low=1)
        check_size(
            "task.num_inputs", self.num_inputs, low=self.num_outputs, low_name="task.num_outputs"
        )


class PrioritySortTask(Task):
    """Priority sort: write the M highest-priority vectors, highest first (see module doc).

    Overrides: `length=` pins the number of input vectors N (at least `num_outputs`).
    """

    name = "priority_sort"
    generalisation: ClassVar[Grid] = {"length": (20,)}
    config_class = PrioritySortConfig
    measure = "cost_bits"
    """The paper's yardstick (Figure 18) and the target's: cost per sequence in bits, which
    also counts how sure the wrong and the right bits were."""

    def build(self, bits: torch.Tensor, priorities: torch.Tensor) -> Batch:
        """Makes the episodes for given vectors and priorities.

        Args:
          bits: `[N, B, size]` vectors.
          priorities: `[N, B]` their priorities.

        Returns:
          A `Batch` of N + 1 + num_outputs steps.
        """
        length, batch_size, size = bits.shape
        if size != self.config.size or priorities.shape != bits.shape[:2]:
            raise ValueError(
                f"bits has shape {tuple(bits.shape)} and priorities {tuple(priorities.shape)},"
                f" expected [N, B, {self.config.size}] and [N, B]"
            )
        outputs = self.config.num_outputs
        steps = length + 1 + outputs
        inputs = torch.zeros(steps, batch_size, self.input_size)
        inputs[:length, :, :size] = bits
        inputs[length, :, size] = 1.0
        inputs[:length, :, size + 1] = priorities
        # A stable descending sort: ties (probability zero for drawn priorities) keep input order.
        order = priorities.argsort(dim=0, descending=True, stable=True)[:outputs]  # (M, B)
        targets = torch.zeros(steps, batch_size, self.output_size)
        targets[length + 1 :] = bits.gather(0, order.unsqueeze(-1).expand(-1, -1, size))
        return full_batch(inputs, targets, steps_mask(steps, batch_size, length + 1, steps))

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        return [(first_step(batch.inputs[:, index, self.config.size]), "delimiter")]

    def pinnable(self) -> dict[str, int]:
        return {"length": self.config.num_outputs}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        return {"length": pinned.get("length", self.config.num_inputs)}

    def sample_fixed(self, batch_size: int, length: int) -> Batch:
        bits = self._bits(length, batch_size, self.config.size)
        low, high = PRIORITY_RANGE
        priorities = low + (high - low) * self._uniform(length, batch_size)
        return self.build(bits, priorities)
