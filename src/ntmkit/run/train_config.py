"""`TrainConfig`: the optimisation and bookkeeping options of a training run."""

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..numerics import LASAGNE_PROBABILITY_CLIP
from ..validation import (
    check_choice,
    check_device,
    check_int,
    check_number,
    check_size,
    fail,
    from_dict,
)
from ..vocabulary import ClipMode, LossName, OptimizerName, Scope
from .schedules import LearningRateDrop, LengthCurriculum, Restart

SCHEDULES: dict[str, type] = {
    "lr_drop": LearningRateDrop,
    "curriculum": LengthCurriculum,
    "restart": Restart,
}
"""The `TrainConfig` fields that hold a schedule rule, and the rule's class."""

_POSITIVE_INT_FIELDS = (
    "batch_size",
    "max_iter",
    "eval_every",
    "eval_samples",
    "checkpoint_every",
    "max_skipped_steps",
)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping options of a training run.

    Attributes:
      batch_size: sequences per optimiser step.
      optimizer: ``adam``, ``rmsprop``, ``graves_rmsprop`` (Graves 2013, eqs. 38-41) or
        ``graves_rmsprop_legacy`` (`ntmkit.training.optim`).
      lr: the learning rate (the start of ``lr_drop``'s schedule, if any).
      momentum: the momentum of Graves' RMSProp and torch's RMSprop (the paper's 0.9).
      clip_mode: ``norm`` clips the global gradient norm; ``value`` clips each element (the
        paper's [-10, 10]).
      clip: the global norm, or the elementwise bound; 0 disables clipping.
      max_iter: optimiser steps of the whole run.
      seed: seeds the model's initialisation and the training data.
      score: which steps the loss sees: ``output`` (the output phase) or ``all`` (every step,
        as ntm-lasagne trained).
      loss: ``auto`` (the task's output kind's own: ``bce`` for bits, ``cross_entropy`` for
        classes, ``mse`` for real values), ``bce`` (binary cross-entropy on the logits),
        ``clipped_bce`` (ntm-lasagne's: probabilities clipped to ``loss_clip``, no gradient on
        saturated bits), ``cross_entropy`` or ``mse``.
      loss_clip: ``clipped_bce``'s probability clip, in (0, 0.5).
      eval_every: steps between evaluations on the fixed evaluation set.
      eval_samples: sequences in the fixed evaluation set (the training distribution).
      target_error: stop once the evaluation's measure (`Task.measure`) falls below it.
      checkpoint_every: steps between checkpoints (one is also written at every stop).
      max_skipped_steps: a step whose loss or gradient is NaN or infinite is skipped
        (`ntmkit.training.guard`); this many in a row stop the run, leaving the last good
        checkpoint.
      lr_drop: a `LearningRateDrop` (lower the rate once the loss is low), a dict of its
        fields, or None.
      curriculum: a `LengthCurriculum` growing the task's ``max_length``, a dict, or None.
      restart: a `Restart`: a fresh start for an attempt that has not taken off; a dict, or
        None.
      device: where to train: ``cpu``, ``cuda``, ``cuda:1``, ...
    """

    batch_size: int = 32
    optimizer: OptimizerName = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    clip_mode: ClipMode = "norm"
    clip: float = 10.0
    max_iter: int = 20_000
    seed: int = 0
    score: Scope = "output"
    loss: LossName = "auto"
    loss_clip: float = LASAGNE_PROBABILITY_CLIP
    eval_every: int = 250
    eval_samples: int = 200
    target_error: float = 0.01
    checkpoint_every: int = 500
    max_skipped_steps: int = 10
    lr_drop: LearningRateDrop | None = None
    curriculum: LengthCurriculum | None = None
    restart: Restart | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in _POSITIVE_INT_FIELDS:
            check = check_size if name in ("batch_size", "eval_samples") else check_int
            check(f"train.{name}", getattr(self, name), low=1)
        check_int("train.seed", self.seed, low=0)
        check_choice("train.optimizer", self.optimizer, OptimizerName)
        check_choice("train.clip_mode", self.clip_mode, ClipMode)
        check_choice("train.score", self.score, Scope)
        check_choice("train.loss", self.loss, LossName)
        check_number("train.lr", self.lr, low=0, low_open=True)
        check_number("train.momentum", self.momentum, low=0, high=1, high_open=True)
        check_number("train.clip", self.clip, low=0)
        check_number(
            "train.loss_clip", self.loss_clip, low=0, high=0.5, low_open=True, high_open=True
        )
        check_number("train.target_error", self.target_error, low=0)
        check_device("train.device", self.device)
        for name, cls in SCHEDULES.items():
            object.__setattr__(self, name, _as_schedule(name, cls, getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        """Build from `to_dict` output (JSON); unknown keys are an error, not ignored."""
        return from_dict(cls, "train", data)


def _as_schedule(name: str, cls: type, value: Any) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return from_dict(cls, f"train.{name}", value)
    fields = ", ".join(f.name for f in dataclasses.fields(cls))
    raise fail(f"train.{name}", f"null or an object with the fields {fields}", value)
