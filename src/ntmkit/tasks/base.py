"""The batch format every task produces, the `Task` base class, and helpers the tasks share.

A task turns random numbers into time-major episodes. One episode is a single sequence that the
model reads step by step: first an input phase (the payload and its delimiters), then an output
phase in which the targets appear. The model is fed `inputs[t]` and judged on `targets[t]` at the
steps where `mask[t]` is True.

Randomness: each task owns a `torch.Generator` seeded from its `seed`, and never touches the global
torch, NumPy or Python random state. Its state is a uint8 tensor (`get_rng_state`), so a checkpoint
saved with `torch.save` (and loaded with `weights_only=True`) can resume the exact data stream.

Episode parameters (the length, and for some tasks the repeat count or item count) are drawn once
per batch, as ntm-lasagne did, so a batch needs no padding. With `per_sequence_lengths=True` they
are drawn once per sequence instead; the batch is then padded with zeros to its longest sequence,
the padding is never scored, and `lengths` says where each sequence ends.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import torch

from ntmkit.validation import check_choice, check_int, fail, reject_unknown
from ntmkit.vocabulary import OutputKind, Scope


class Batch(NamedTuple):
    """A batch of episodes, time-major.

    Attributes:
      inputs:  `[T, B, input_size]` float32, what the model reads at each step.
      targets: `[T, B, output_size]` float32, what it should emit at each step.
      mask:    `[T, B]` bool, True on the scored steps (the output phase).
      lengths: `[B]` int64, the number of real (non-padded) steps of each sequence.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor


def score_mask(batch: Batch, scope: Scope) -> torch.Tensor:
    """Selects the steps a loss or metric should look at.

    Args:
      batch: the episodes.
      scope: "output" scores the output phase only (`batch.mask`, the paper's measure); "all"
        scores every non-padded step, as ntm-lasagne trained and judged its models.

    Returns:
      `[T, B]` bool.
    """
    if check_choice("scope", scope, Scope) == "output":
        return batch.mask
    steps = torch.arange(batch.mask.shape[0], device=batch.lengths.device)
    return steps[:, None] < batch.lengths[None, :]  # (T, B)


# Helpers that build batches.


def full_batch(inputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> Batch:
    """Wraps unpadded episodes: every sequence is `T` steps long.

    Args:
      inputs:  `[T, B, input_size]`
      targets: `[T, B, output_size]`
      mask:    `[T, B]` bool
    """
    steps, batch_size = mask.shape
    lengths = torch.full((batch_size,), steps, dtype=torch.int64)
    return Batch(inputs.float(), targets.float(), mask.bool(), lengths)


def steps_mask(steps: int, batch_size: int, start: int, stop: int) -> torch.Tensor:
    """`[steps, batch_size]` bool, True for `start <= t < stop` (the output phase)."""
    mask = torch.zeros(steps, batch_size, dtype=torch.bool)
    mask[start:stop] = True
    return mask


def stack_padded(batches: list[Batch]) -> Batch:
    """Concatenates batches along the batch axis, padding each in time to the longest one.

    Padded steps hold zero inputs and targets and are never scored (mask False); `lengths` keeps
    each sequence's real length.
    """
    steps = max(batch.inputs.shape[0] for batch in batches)
    return Batch(
        inputs=torch.cat([_pad_time(b.inputs, steps) for b in batches], dim=1),
        targets=torch.cat([_pad_time(b.targets, steps) for b in batches], dim=1),
        mask=torch.cat([_pad_time(b.mask, steps) for b in batches], dim=1),
        lengths=torch.cat([b.lengths for b in batches]),
    )


def _pad_time(x: torch.Tensor, steps: int) -> torch.Tensor:
    """Appends zero (or False) steps to `x` (`[t, ...]`) until it has `steps` steps."""
    padding = x.new_zeros((steps - x.shape[0], *x.shape[1:]))
    return torch.cat([x, padding])


def first_step(flags: torch.Tensor) -> int:
    """The first time step at which `flags` (`[T]`) is nonzero; used to locate delimiters."""
    hits = torch.nonzero(flags).flatten()
    if hits.numel() == 0:
        raise ValueError("the sequence has no such event: is this batch from this task?")
    return int(hits[0])


Grid = dict[str, tuple[int, ...]]
"""Values of a task's pinnable episode parameters to test at, e.g. ``{"length": (10, 20)}``:
every combination is one point of a generalisation sweep."""

REQUIRED_INTERFACE = ("name", "config_class", "sample_fixed", "pinnable")
"""What a task class must define itself (`ntmkit.tasks.registry.check_interface` checks it);
everything else of `Task` has a default."""

DEFAULT_MEASURES: dict[str, str] = {
    "bits": "bit_errors",
    "categorical": "symbol_errors",
    "real": "mse",
}
"""The `ntmkit.run.evaluate.Evaluation` field that judges a task of each output kind, unless
the task names another (``Task.measure``)."""


class Task:
    """The task interface: every task, built in or the user's, is a subclass.

    A task turns its own seeded random stream into time-major episodes (`Batch`). What a task
    defines (`docs/tasks.md` walks through one):

    Required:
      name: a short name, used in messages and plot titles (the registry or the import path
        names the task in a run's config).
      config_class: a frozen dataclass of the task's options, each with a default, validated
        in ``__post_init__`` (`ntmkit.validation`), with properties ``input_size`` and
        ``output_size``; ``--set task.FIELD=VALUE`` sets its fields.
      sample_fixed(batch_size, **params): a batch in which every sequence shares the episode
        parameters ``params`` (e.g. ``length``), drawn with `_bits`, `_uniform`, `_pick` or
        ``self.generator``, never the global random state.
      pinnable(): the episode parameters `sample` may pin (``length=60``), each with its
        smallest value.

    Optional (the defaults in parentheses):
      output_kind: ``bits``, ``categorical`` or ``real`` (``bits``): what the targets are and so
        the loss, the measures and the pictures; categorical targets are `[T, B]` class indices
        and ``output_size`` is the number of classes.
      measure: the `Evaluation` field that says how far from solved (`DEFAULT_MEASURES`).
      generalisation: the grid of pinned parameters the final test sweeps (none).
      recipe: settings (``--set`` keys, e.g. ``{"train.batch_size": 16}``) that the presets
        apply on top of their shared options for this task (none).
      draw_params(pinned): the parameters of one batch (one ``length`` from the config's
        ``min_length``..``max_length``).
      markers(batch, index): time steps to mark in plots (none).
      optimal_cost(batch): the best predictor's cost in bits per sequence, if known (None).
      evaluation_set(samples): a fixed evaluation set the task brings (a data set's
        validation split), else None and one is drawn from the task.

    Args:
      config: the task's config; None takes the config class's defaults.
      seed: seeds the task's own random stream.
      **fields: config fields to override, e.g. `CopyTask(size=4, max_length=10)`.
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type]
    output_kind: ClassVar[OutputKind] = "bits"
    generalisation: ClassVar[Grid] = {}
    recipe: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Any = None, seed: int = 0, **fields: Any) -> None:
        self.config = _configure(self.config_class, config, fields)
        check_int("seed", seed, low=0)
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def measure(self) -> str:
        """The `Evaluation` field that says how far from solved the task is (lower is
        better): training stops once it falls below ``train.target_error``."""
        return DEFAULT_MEASURES[self.output_kind]

    @property
    def input_size(self) -> int:
        """Channels of `Batch.inputs` (the config's ``input_size``)."""
        return int(self.config.input_size)

    @property
    def output_size(self) -> int:
        """Channels of the model's output layer (the config's ``output_size``): the target
        channels, or for a categorical task the number of classes."""
        return int(self.config.output_size)

    def evaluation_set(self, samples: int) -> list[Batch] | None:
        """A fixed evaluation set of at most ``samples`` sequences that the task brings (a data
        set's validation split), or None: then one is drawn from the task's stream."""
        return None

    def optimal_cost(self, batch: Batch) -> torch.Tensor | None:
        """The cost in bits per sequence (`[B]`) of the best possible predictor on ``batch``,
        when the task has a known one (dynamic n-grams: the Bayes-optimal predictor); None
        for the deterministic tasks, whose optimum is zero."""
        return None

    def sample(self, batch_size: int, **overrides: int) -> Batch:
        """Draws a batch of episodes from the task's random stream.

        Args:
          batch_size: number of sequences B.
          **overrides: pin episode parameters instead of drawing them, e.g. `length=100` to test
            generalisation beyond the training lengths. Which names exist depends on the task.

        Returns:
          A `Batch` with tensors `[T, B, ...]`.
        """
        check_int("batch_size", batch_size, low=1)
        self._check_overrides(overrides)
        if getattr(self.config, "per_sequence_lengths", False):
            parts = [self.sample_fixed(1, **self.draw_params(overrides)) for _ in range(batch_size)]
            return stack_padded(parts)
        return self.sample_fixed(batch_size, **self.draw_params(overrides))

    def markers(self, batch: Batch, index: int) -> list[tuple[int, str]]:
        """Notable time steps of sequence `index` as `(t, label)`, for vertical lines in plots."""
        return []

    def get_rng_state(self) -> torch.Tensor:
        """The random stream's state, a uint8 tensor that `torch.save` stores safely."""
        return self.generator.get_state()

    def set_rng_state(self, state: torch.Tensor) -> None:
        """Restores a state from `get_rng_state`, so sampling continues exactly from there."""
        if not isinstance(state, torch.Tensor) or state.dtype != torch.uint8:
            raise ValueError(f"state must be the uint8 tensor get_rng_state returns, got {state!r}")
        self.generator.set_state(state)

    def __repr__(self) -> str:
        config = self.config
        fields = ", ".join(
            f"{f.name}={getattr(config, f.name)!r}" for f in dataclasses.fields(config)
        )
        return (
            f"{type(self).__name__}(name={self.name!r}, seed={self.seed}, {fields};"
            f" input_size={self.input_size}, output_size={self.output_size})"
        )

    # The hooks of the interface.

    def pinnable(self) -> dict[str, int]:
        """The episode parameters `sample` may pin, each with its smallest allowed value."""
        raise NotImplementedError

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        """Episode parameters for one batch (or one sequence): pinned values, others drawn.

        The default draws one ``length`` uniformly from the config's ``min_length`` to
        ``max_length``; tasks with more parameters (repeats, items) override it.
        """
        config = self.config
        return {"length": self._pick(pinned, "length", config.min_length, config.max_length)}

    def sample_fixed(self, batch_size: int, **params: int) -> Batch:
        """A batch in which every sequence shares the episode parameters `params`."""
        raise NotImplementedError

    # Random draws, all from the task's own generator (``self.generator``).

    def _pick(self, pinned: dict[str, int], name: str, low: int, high: int) -> int:
        """`pinned[name]` if the caller pinned it, else uniform on [low, high] inclusive."""
        if name in pinned:
            return pinned[name]
        return int(torch.randint(low, high + 1, (1,), generator=self.generator))

    def _bits(self, *shape: int) -> torch.Tensor:
        """Bernoulli(1/2) payload bits of the given shape, float32."""
        return torch.randint(0, 2, shape, generator=self.generator).float()

    def _uniform(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) floats of the given shape."""
        return torch.rand(shape, generator=self.generator)

    def _check_overrides(self, overrides: dict[str, int]) -> None:
        minimums = self.pinnable()
        reject_unknown(f"{self.name} sample override", overrides, sorted(minimums))
        for name, value in overrides.items():
            check_int(name, value, low=minimums[name])


def _configure(config_class: type, config: Any, fields: dict[str, Any]) -> Any:
    """The config to use: `config` (or the defaults) with `fields` replaced and re-validated."""
    if config is None:
        config = config_class()
    if not isinstance(config, config_class):
        raise fail("task config", f"a {config_class.__name__}", config)
    reject_unknown("task field", fields, [f.name for f in dataclasses.fields(config)])
    return dataclasses.replace(config, **fields)
