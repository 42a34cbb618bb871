"""Associative recall (Graves et al. 2014, section 4.3), in ntm-lasagne's `AssociativeRecallTask`
layout.

The model reads n items, each of L vectors of S bits, then a query that repeats one of them
(item q, with q uniform on 0..n-2 for each sequence), and must answer with the item that followed
it in the list (item q + 1). Inputs and targets have S + 2 channels; channel S marks the start of
each item and channel S + 1 brackets the query. Every block (item, query, answer) takes L + 1
steps, one delimiter step and L item steps, so an episode lasts (L + 1)(n + 2) steps:

    item j (j < n)   delimiter on channel S at t = j(L + 1), rows at t = j(L + 1) + 1 ... + L
    query            delimiter on channel S + 1 at t = n(L + 1), then a copy of item q
    answer           delimiter on channel S + 1 at t = (n + 1)(L + 1), then the target: item q + 1

Example with L = 1, n = 3 items a, b, c and the query a (q = 0), so the answer is b:

                       t:  0 1 2 3 4 5 6 7 8 9
    inputs   bits          . a . b . c . a . .
             item delim    1 . 1 . 1 . . . . .
             query delim   . . . . . . 1 . 1 .
    targets  bits          . . . . . . . . . b
             (unused)      . . . . . . . . . .      the two delimiter channels stay 0, as in
             (unused)      . . . . . . . . . .      ntm-lasagne, whose output layer had S + 2 units
    mask                   . . . . . . . . . 1      the last L steps

The paper's setting (the defaults) is items of three 6-bit vectors and 2 to 6 items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ntmkit.tasks.base import Batch, Grid, Task, full_batch, steps_mask
from ntmkit.validation import check_bool, check_size

MIN_ITEMS = 2  # A query needs an item after it, so there are at least two items.


@dataclass(frozen=True)
class AssociativeRecallConfig:
    """Associative-recall options; the defaults are the paper's training setting."""

    size: int = 6  # Bits per vector (the paper uses 6-bit vectors).
    min_item_length: int = 3  # Vectors per item; the paper uses three.
    max_item_length: int = 3
    min_items: int = 2  # The paper trains on 2 to 6 items.
    max_items: int = 6
    per_sequence_lengths: bool = False  # Draw item length and count per sequence (see base.py).

    @property
    def input_size(self) -> int:
        return self.size + 2  # the bits and two delimiters

    @property
    def output_size(self) -> int:
        return self.size + 2  # as ntm-lasagne's output layer: the delimiters stay 0

    def __post_init__(self) -> None:
        check_size("task.size", self.size, low=1)
        check_size("task.min_item_length", self.min_item_length, low=1)
        check_size(
            "task.max_item_length",
            self.max_item_length,
            low=self.min_item_length,
            low_name="task.min_item_length",
        )
        check_size("task.min_items", self.min_items, low=MIN_ITEMS)
        check_size("task.max_items", self.max_items, low=self.min_items, low_name="task.min_items")
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)


class AssociativeRecallTask(Task):
    """Associative recall: given a query item, recall the item after it (see module doc).

    Overrides: `length=` pins the item length L, `items=` the number of items n.
    """

    name = "associative_recall"
    generalisation: ClassVar[Grid] = {"items": (2, 4, 6, 8, 10, 12)}
    config_class = AssociativeRecallConfig

    def build(self, items: torch.Tensor, queries: torch.Tensor) -> Batch:
        """Makes the episodes for given items and queries.

        Args:
          items: `[n, L, B, size]`, item j of sequence b is `items[j, :, b]`.
          queries: `[B]` int, the index q of the queried item, in 0..n-2.

        Returns:
          A `Batch` of (L + 1)(n + 2) steps.
        """
        num_items, length, batch_size, size = items.shape
        if size != self.config.size or queries.shape != (batch_size,):
            raise ValueError(
                f"items has shape {tuple(items.shape)} and queries {tuple(queries.shape)},"
                f" expected [n, L, B, {self.config.size}] and [B]"
            )
        if not ((queries >= 0) & (queries <= num_items - 2)).all():
            raise ValueError(f"queries must lie in 0..{num_items - 2}, got {queries.tolist()}")
        block = length + 1  # A delimiter step, then the L rows of an item.
        steps = block * (num_items + 2)
        inputs = torch.zeros(steps, batch_size, self.input_size)
        for j in range(num_items):
            inputs[j * block, :, size] = 1.0
            inputs[j * block + 1 : (j + 1) * block, :, :size] = items[j]
        inputs[num_items * block, :, size + 1] = 1.0
        inputs[num_items * block + 1 : (num_items + 1) * block, :, :size] = _pick_items(
            items, queries
        )
        inputs[(num_items + 1) * block, :, size + 1] = 1.0
        targets = torch.zeros(steps, batch_size, self.output_size)
        targets[steps - length :, :, :size] = _pick_items(items, queries + 1)
        return full_batch(inputs, targets, steps_mask(steps, batch_size, steps - length, steps))

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        brackets = torch.nonzero(batch.inputs[:, index, self.config.size + 1]).flatten()
        return [(int(brackets[0]), "query"), (int(brackets[1]), "answer")]

    def pinnable(self) -> dict[str, int]:
        return {"length": 1, "items": MIN_ITEMS}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        config = self.config
        return {
            "length": self._pick(pinned, "length", config.min_item_length, config.max_item_length),
            "items": self._pick(pinned, "items", config.min_items, config.max_items),
        }

    def sample_fixed(self, batch_size: int, length: int, items: int) -> Batch:
        payload = self._bits(items, length, batch_size, self.config.size)
        queries = torch.randint(0, items - 1, (batch_size,), generator=self.generator)
        return self.build(payload, queries)


def _pick_items(items: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """Item `which[b]` of each sequence b: `[n, L, B, S]`, `[B]` -> `[L, B, S]`."""
    batch = torch.arange(items.shape[2])
    return items[which, :, batch].transpose(0, 1)  # (B, L, S) -> (L, B, S)
