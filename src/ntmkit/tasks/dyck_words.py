"""Dyck words (ntm-lasagne's `DyckWordsTask`): tell, after every symbol, whether the parentheses
read so far form a complete well-nested word.

One channel in and one out; 0 is "(" and 1 is ")". Each sequence is a balanced word of semilength
L (L of each symbol, 2L steps): with probability 1/2 a uniform random Dyck word (it never closes
more parentheses than it opened), otherwise a uniform random balanced word that is not a Dyck word
(it dips below zero somewhere). The choice is a fair coin per sequence, as in ntm-lasagne, so a
batch is only half and half on average. The target at step t is 1 iff the prefix up to t never
dipped below zero and is balanced at t, that is, iff it is itself a complete Dyck word; every step
is scored. Example with L = 3, the non-Dyck word "( ) ) ( ( )":

                  t:   0  1  2  3  4  5
    inputs   symbol    0  1  1  0  0  1      ( ) ) ( ( )
    targets  flag      .  1  .  .  .  .      "()" is complete; no prefix through the dip at t = 2 is
    mask               1  1  1  1  1  1
    (height)           1  0 -1  0  1  0      not a channel: the parentheses open so far

Sampling:
  Dyck words, by the cycle lemma (Flajolet and Sedgewick, Analytic Combinatorics, note I.47):
  shuffle L "(" and L + 1 ")"; exactly one rotation of that word has all proper prefixes at
  height >= 0 (the one starting right after the first lowest point); it ends with ")", and
  dropping that gives a uniform Dyck word.
  Non-Dyck words, by Andre's reflection: shuffle L - 1 "(" and L + 1 ")"; flipping every symbol
  after the first dip to -1 gives a balanced word that dips, and every such word arises once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ntmkit.tasks.base import Batch, Grid, Task, full_batch
from ntmkit.validation import check_bool, check_size

OPEN, CLOSE = 0, 1  # The input encoding of "(" and ")", as in ntm-lasagne.
DYCK_PROBABILITY = 0.5  # Chance that a sequence is a Dyck word rather than a non-Dyck one.


@dataclass(frozen=True)
class DyckWordsConfig:
    """Dyck-words options; the defaults are ntm-lasagne's example."""

    min_length: int = 1  # Semilength L: a word has L of each symbol.
    max_length: int = 5  # ntm-lasagne's example started at 5 and doubled it to 20 once learned.
    per_sequence_lengths: bool = False  # Draw one length per sequence and pad (see base.py).

    input_size: ClassVar[int] = 1  # the symbol read at each step
    output_size: ClassVar[int] = 1  # whether the prefix so far is a Dyck word

    def __post_init__(self) -> None:
        check_size("task.min_length", self.min_length, low=1)
        check_size(
            "task.max_length", self.max_length, low=self.min_length, low_name="task.min_length"
        )
        check_bool("task.per_sequence_lengths", self.per_sequence_lengths)


class DyckWordsTask(Task):
    """Flag every prefix that is a complete Dyck word (see module doc).

    Overrides: `length=` pins the semilength L (the episode has 2L steps).
    """

    name = "dyck_words"
    generalisation: ClassVar[Grid] = {"length": (5, 10, 20, 40, 80)}
    config_class = DyckWordsConfig

    def build(self, words: torch.Tensor) -> Batch:
        """Makes the episodes for given words.

        Args:
          words: `[2L, B]` symbols, 0 for "(" and 1 for ")".

        Returns:
          A `Batch` of 2L steps whose targets flag the complete Dyck prefixes.
        """
        steps, batch_size = words.shape
        mask = torch.ones(steps, batch_size, dtype=torch.bool)
        return full_batch(words[:, :, None], dyck_prefixes(words)[:, :, None], mask)

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        length = int(batch.lengths[index])
        heights = _heights(batch.inputs[:length, index, 0].long())
        dips = torch.nonzero(heights < 0).flatten()
        return [(int(dips[0]), "dip")] if dips.numel() else []

    def pinnable(self) -> dict[str, int]:
        return {"length": 1}

    def sample_fixed(self, batch_size: int, length: int) -> Batch:
        is_dyck = self._uniform(batch_size) < DYCK_PROBABILITY
        dyck = random_dyck_words(batch_size, length, self.generator)
        non_dyck = random_non_dyck_words(batch_size, length, self.generator)
        return self.build(torch.where(is_dyck, dyck, non_dyck))


def dyck_prefixes(words: torch.Tensor) -> torch.Tensor:
    """Flags the prefixes that are complete Dyck words.

    Args:
      words: `[T, B]` symbols, 0 for "(" and 1 for ")".

    Returns:
      `[T, B]` float32, 1 at t iff `words[:t + 1]` never dips below zero and is balanced.
    """
    heights = _heights(words.long())
    never_dipped = heights.cummin(dim=0).values >= 0
    return (never_dipped & (heights == 0)).float()


def random_dyck_words(count: int, semilength: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform random Dyck words, by the cycle lemma (see module doc).

    Returns:
      `[2 * semilength, count]` int64 symbols.
    """
    words = _shuffled(count, semilength, semilength + 1, generator)  # (count, 2L + 1)
    size = words.shape[1]
    # Rotate to start right after the first lowest point; argmin returns the first minimum.
    cut = (_heights(words.T).argmin(dim=0) + 1) % size  # (count,)
    rotation = (cut[:, None] + torch.arange(size)) % size
    return words.gather(1, rotation)[:, :-1].T  # Drop the final ")".


def random_non_dyck_words(count: int, semilength: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform random balanced words that are not Dyck words, by reflection (see module doc).

    Returns:
      `[2 * semilength, count]` int64 symbols.
    """
    words = _shuffled(count, semilength - 1, semilength + 1, generator).T  # (2L, count)
    # Every such word reaches -1 (it ends at -2); argmax returns the first True.
    first_dip = (_heights(words) < 0).int().argmax(dim=0)  # (count,)
    after_dip = torch.arange(words.shape[0])[:, None] > first_dip[None, :]
    return torch.where(after_dip, 1 - words, words)


def _shuffled(count: int, opens: int, closes: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform random arrangements of `opens` "(" and `closes` ")": `[count, opens + closes]`."""
    symbols = torch.tensor([OPEN] * opens + [CLOSE] * closes)
    # Sorting uniform keys gives a uniform permutation; float64 keys make ties negligible.
    keys = torch.rand(count, opens + closes, generator=generator, dtype=torch.float64)
    return symbols[keys.argsort(dim=1)]


def _heights(words: torch.Tensor) -> torch.Tensor:
    """Open parentheses after each symbol: cumulative +1 per "(" and -1 per ")" along dim 0."""
    return torch.cumsum(1 - 2 * words, dim=0)
