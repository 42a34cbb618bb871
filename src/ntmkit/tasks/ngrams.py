"""Dynamic n-grams (Graves et al. 2014, section 4.4): predict the next bit of a sequence drawn from
an unknown n-gram model, which the model must estimate while it reads.

Each bit depends on the n - 1 bits before it (its context) through a table of 2^(n-1) probabilities
P(1 | context). With `table="dynamic"` (the paper) every sequence gets a fresh table whose entries
are drawn from Beta(1/2, 1/2); with `table="fixed"` (ntm-lasagne's `DynamicNGramsTask`) one table is
drawn from the task's seed at construction and shared by all sequences. The first n - 1 bits of a
sequence are uniform, the others drawn from the table. A sequence of N bits b_0 ... b_{N-1} gives an
episode of N - 1 steps on one channel, every step scored:

                  t:  0   1   2   ...  N-2
    inputs   bit      b0  b1  b2  ...  b_{N-2}     the sequence without its last bit
    targets  bit      b1  b2  b3  ...  b_{N-1}     the sequence without its first bit
    mask              1   1   1   ...  1

The paper uses n = 6 (32 contexts of 5 bits) and 200-bit sequences, the defaults. Note that
ntm-lasagne's `ngrams` argument counts the context bits, so its `ngrams=5` is n = 6 here.

`bayes_optimal_cost` gives the cost of the Bayes-optimal predictor for the dynamic table, the
yardstick the paper compares models against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from ntmkit.tasks.base import Batch, Grid, Task, full_batch
from ntmkit.validation import check_bool, check_choice, check_size

Table = Literal["dynamic", "fixed"]
"""A fresh table per sequence (the paper) or one table per task seed (ntm-lasagne)."""
MIN_N = 2  # A bigram is the shortest model with a context.
MAX_N = 16  # Dynamic tables hold 2^(n-1) floats per sequence; beyond this they stop fitting.
BETA_PRIOR = 0.5  # Beta(1/2, 1/2) prior on each table entry, and the matching 1/2 pseudo-count.


@dataclass(frozen=True)
class NGramsConfig:
    """N-gram options; the defaults are the paper's setting."""

    n: int = 6  # Each bit depends on the n - 1 bits before it.
    min_length: int = 200  # Bits per sequence (the episode has one step fewer).
    max_length: int = 200
    table: Table = "dynamic"
    per_sequence_lengths: bool = False  # Draw one length per sequence and pad (see base.py).

    input_size: ClassVar[int] = 1  # the bit read at each step
    output_size: ClassVar[int] = 1  # the probability of the next bit

    def __post_init__(self) -> None:
        check_size("task.n", self.n, low=MIN_N, high=MAX_N)
        # At least one bit must come from the table, the n-th.
        check_size("task.min_length", self.min_length, low=self.n, low_name="task.n")
        check_size(
            "task.max_length", self.max_length, low=self.min_length, low_name="task.min_length"
        )
        check_choice("task.table", self.table, Table)
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)


class NGramsTask(Task):
    """Predict each next bit of an n-gram sequence (see module doc).

    Overrides: `length=` pins the number of bits per sequence (at least n).
    """

    name = "ngrams"
    generalisation: ClassVar[Grid] = {"length": (200,)}
    config_class = NGramsConfig

    def __init__(self, config: NGramsConfig | None = None, seed: int = 0, **fields) -> None:
        super().__init__(config, seed, **fields)
        # The fixed table is the first draw of the stream, so it is a function of the seed alone
        # and a checkpoint only needs the seed and the generator state to resume.
        self.fixed_table = None
        if self.config.table == "fixed":
            self.fixed_table = draw_tables(1, self.config.n, self.generator)[0]

    @property
    def measure(self) -> str:
        """Dynamic tables: the cost above the Bayes optimum of the same sequences (the paper's
        yardstick, eq. in section 4.4); a fixed table can be learnt outright, so its cost."""
        return "excess_bits" if self.config.table == "dynamic" else "cost_bits"

    def optimal_cost(self, batch: Batch) -> torch.Tensor | None:
        """`bayes_optimal_cost` of ``batch`` for a dynamic table (a fresh one per sequence)."""
        return bayes_optimal_cost(batch, self.config.n) if self.config.table == "dynamic" else None

    def build(self, bits: torch.Tensor) -> Batch:
        """Makes the episodes for given bit sequences.

        Args:
          bits: `[N, B]` binary sequences.

        Returns:
          A `Batch` of N - 1 steps with inputs `bits[:-1]` and targets `bits[1:]`.
        """
        steps, batch_size = bits.shape[0] - 1, bits.shape[1]
        mask = torch.ones(steps, batch_size, dtype=torch.bool)
        return full_batch(bits[:-1, :, None], bits[1:, :, None], mask)

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        # Targets before this step are uniform bits: no predictor can beat a coin there.
        return [(self.config.n - 2, "first table bit")]

    def pinnable(self) -> dict[str, int]:
        return {"length": self.config.n}

    def sample_fixed(self, batch_size: int, length: int) -> Batch:
        n = self.config.n
        if self.fixed_table is None:
            tables = draw_tables(batch_size, n, self.generator)
        else:
            tables = self.fixed_table.expand(batch_size, -1)
        return self.build(sample_bits(tables, length, n, self.generator))


def draw_tables(count: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """Draws `count` n-gram tables with entries from Beta(1/2, 1/2).

    Beta(1/2, 1/2) is the arcsine law, whose inverse CDF is sin^2(pi u / 2), so one uniform draw per
    entry suffices (torch.distributions cannot take our generator).

    Returns:
      `[count, 2^(n-1)]`, entry c of a table is P(next bit = 1 | context c).
    """
    uniform = torch.rand(count, 1 << (n - 1), generator=generator)
    return torch.sin(0.5 * math.pi * uniform) ** 2


def sample_bits(
    tables: torch.Tensor, length: int, n: int, generator: torch.Generator
) -> torch.Tensor:
    """Draws one sequence per table: n - 1 uniform bits, then each bit from the table.

    The context of a bit is the integer whose binary digits are the n - 1 bits before it, the
    oldest most significant.

    Args:
      tables: `[B, 2^(n-1)]` probabilities of a 1 given each context.
      length: N, bits per sequence (at least n - 1).

    Returns:
      `[N, B]` float32 bits.
    """
    batch_size = tables.shape[0]
    bits = torch.zeros(length, batch_size)
    bits[: n - 1] = torch.randint(0, 2, (n - 1, batch_size), generator=generator).float()
    context = torch.zeros(batch_size, dtype=torch.int64)
    for t in range(length):
        if t >= n - 1:
            p_one = tables.gather(1, context[:, None]).squeeze(1)  # (B,)
            bits[t] = (torch.rand(batch_size, generator=generator) < p_one).float()
        context = _next_context(context, bits[t].long(), n)
    return bits


def bayes_optimal_probabilities(bits: torch.Tensor, n: int) -> torch.Tensor:
    """The Bayes-optimal P(bit t = 1 | bits before t) for dynamic n-grams (paper, section 4.4).

    With a Beta(1/2, 1/2) prior on each table entry, the posterior predictive is
    P(1 | N1, N0) = (N1 + 1/2) / (N1 + N0 + 1), where N1 and N0 count how often the current
    context was followed by a 1 and by a 0 earlier in the same sequence. The first n - 1 bits are
    uniform, so their probability is 1/2.

    Args:
      bits: `[N, B]` binary sequences.
      n: the n of the n-gram model.

    Returns:
      `[N, B]` float64 probabilities.
    """
    bits = bits.long()
    length, batch_size = bits.shape
    rows = torch.arange(batch_size)
    counts = torch.zeros(batch_size, 1 << (n - 1), 2, dtype=torch.float64)  # (B, contexts, bit)
    probabilities = torch.full((length, batch_size), 0.5, dtype=torch.float64)
    context = torch.zeros(batch_size, dtype=torch.int64)
    for t in range(length):
        if t >= n - 1:
            seen = counts[rows, context]  # (B, 2): N0, N1 for this context so far.
            probabilities[t] = (seen[:, 1] + BETA_PRIOR) / (seen.sum(1) + 2 * BETA_PRIOR)
            counts[rows, context, bits[t]] += 1
        context = _next_context(context, bits[t], n)
    return probabilities


def bayes_optimal_cost(batch: Batch, n: int) -> torch.Tensor:
    """The Bayes-optimal predictor's cost, in bits per sequence, on a dynamic n-gram batch.

    Only scored steps count (`batch.mask`), so padded sequences are handled. Compare its mean
    with `ntmkit.run.metrics.cost_bits_per_sequence` of a model on the same batch. For a fixed table
    this is not the optimum: a model can learn that table, and beat this number.

    Args:
      batch: a batch from `NGramsTask`.
      n: the n of the n-gram model that made it.

    Returns:
      `[B]` float32, -sum over scored steps of log2 P(target).
    """
    bits = torch.cat([batch.inputs[:1, :, 0], batch.targets[:, :, 0]])  # (T + 1, B)
    p_one = bayes_optimal_probabilities(bits, n)[1:]  # (T, B): predictions of the targets.
    p_target = torch.where(batch.targets[:, :, 0] > 0.5, p_one, 1.0 - p_one)
    cost = -(torch.log2(p_target) * batch.mask).sum(dim=0)
    return cost.float()


def _next_context(context: torch.Tensor, bit: torch.Tensor, n: int) -> torch.Tensor:
    """Shifts `bit` (`[B]`) into the contexts (`[B]`), dropping the oldest of the n - 1 bits."""
    return ((context << 1) | bit) & ((1 << (n - 1)) - 1)
