"""Bracket matching with several kinds of bracket: a task of your own for ntmkit, in one file.

The model reads a balanced sequence of brackets of K kinds, one bracket a step. An opening
bracket says its kind; a closing bracket only says "close". At every closing bracket the model
must name the kind it closes: the kind of the innermost bracket still open. That is a stack
(push on open, pop on close), which the NTM keeps in its memory; the answer is one of K
classes, so the task is categorical (a softmax over the kinds, cross-entropy, accuracy).

Channels for K = 3 kinds and the sequence ``( [ ] { } )``, with ``.`` a zero::

                  t:  0 1 2 3 4 5
    inputs   open 0   1 . . . . .      "(" : kind 0
             open 1   . 1 . . . .      "[" : kind 1
             open 2   . . . 1 . .      "{" : kind 2
             close    . . 1 . 1 1      a closing bracket, kind not given
    targets  class    . . 1 . 2 0      the kind each closing bracket closes
    mask              . . 1 . 1 1      scored at the closing brackets only

Train it, resume it, sweep it and draw it like any built-in task::

    ntmkit train examples/brackets.py:BracketsTask --out runs/brackets
    ntmkit sweep examples/brackets.py:BracketsTask --seeds 5 --budget 600
    ntmkit plot runs/brackets
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ntmkit.tasks import Batch, Task
from ntmkit.tasks.base import Grid, full_batch
from ntmkit.validation import check_bool, check_size


@dataclass(frozen=True)
class BracketsConfig:
    """The kinds of bracket and how many pairs a sequence holds.

    Attributes:
      kinds: kinds of bracket, K (the classes of the answer).
      min_pairs: fewest bracket pairs in a sequence.
      max_pairs: most bracket pairs in a sequence (a sequence lasts twice as many steps).
      per_sequence_lengths: draw the pairs per sequence and pad (`ntmkit.tasks.base`), not
        once per batch; evaluation sets are drawn so, to cover every length.
    """

    kinds: int = 4
    min_pairs: int = 1
    max_pairs: int = 10
    per_sequence_lengths: bool = False

    def __post_init__(self) -> None:
        check_size("task.kinds", self.kinds, low=2)
        check_size("task.min_pairs", self.min_pairs, low=1)
        check_size("task.max_pairs", self.max_pairs, low=self.min_pairs, low_name="task.min_pairs")
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)

    @property
    def input_size(self) -> int:
        return self.kinds + 1  # an open channel per kind, and close

    @property
    def output_size(self) -> int:
        return self.kinds  # the classes


class BracketsTask(Task):
    """Name the kind of bracket each closing bracket closes (see the module doc)."""

    name = "brackets"
    config_class = BracketsConfig
    output_kind = "categorical"
    generalisation: ClassVar[Grid] = {"pairs": (5, 10, 20, 40)}
    # Training at batch 16 with Adam at 1e-3; everything else is the preset's (an LSTM
    # controller, 128 x 20 memory).
    recipe: ClassVar[dict[str, Any]] = {
        "train.batch_size": 16,
        "train.lr": 1e-3,
        "train.eval_every": 200,
        "train.target_error": 0.01,
        "train.max_iter": 100_000,
    }

    def pinnable(self) -> dict[str, int]:
        return {"pairs": 1}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        config = self.config
        return {"pairs": self._pick(pinned, "pairs", config.min_pairs, config.max_pairs)}

    def sample_fixed(self, batch_size: int, pairs: int) -> Batch:
        opens = self._opening_steps(batch_size, pairs)  # (2n, B) bool
        kinds = torch.randint(
            0, self.config.kinds, (2 * pairs, batch_size), generator=self.generator
        )
        return self.build(opens, kinds)

    def build(self, opens: torch.Tensor, kinds: torch.Tensor) -> Batch:
        """The episodes of given bracket sequences: ``opens [T, B]`` (True where a bracket
        opens, a balanced sequence) and ``kinds [T, B]`` (the kind of each opening bracket;
        ignored where one closes)."""
        steps, batch_size = opens.shape
        inputs = torch.zeros(steps, batch_size, self.input_size)
        targets = torch.zeros(steps, batch_size, dtype=torch.int64)
        stacks: list[list[int]] = [[] for _ in range(batch_size)]
        for t in range(steps):
            for b in range(batch_size):
                if opens[t, b]:
                    kind = int(kinds[t, b])
                    inputs[t, b, kind] = 1.0
                    stacks[b].append(kind)
                else:
                    inputs[t, b, self.config.kinds] = 1.0
                    targets[t, b] = stacks[b].pop()
        batch = full_batch(inputs, torch.zeros(steps, batch_size), ~opens)
        return batch._replace(targets=targets)

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        closes = batch.inputs[:, index, self.config.kinds]
        first = int(torch.nonzero(closes).flatten()[0])
        return [(first, "first close")]

    def _opening_steps(self, batch_size: int, pairs: int) -> torch.Tensor:
        """Random balanced sequences: True where a bracket opens. While a bracket may both
        open and close, each is as likely."""
        opens = torch.zeros(2 * pairs, batch_size, dtype=torch.bool)
        left = torch.full((batch_size,), pairs)  # opening brackets still to come
        depth = torch.zeros(batch_size, dtype=torch.int64)
        coins = torch.rand(2 * pairs, batch_size, generator=self.generator) < 0.5
        for t in range(2 * pairs):
            open_now = (left > 0) & ((depth == 0) | coins[t])
            opens[t] = open_now
            left -= open_now.long()
            depth += open_now.long() * 2 - 1
        return opens
