"""`RunConfig`: everything a training run needs (task, model, optimisation) as validated data.

A run is saved as ``config.json`` next to its checkpoints, so any run folder says exactly how
it was made. Presets (`ntmkit.presets`) are named `RunConfig` instances; the CLI only parses
flags into `RunConfig.override`.
"""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .config import (
    ACTIVATION_PRESETS,
    HeadActivations,
    HeadBias,
    NTMConfig,
    dataclass_from_dict,
)
from .optim import OPTIMIZERS
from .schedules import LearningRateDrop, LengthCurriculum, Restart
from .tasks import TASKS, make_task
from .tasks.base import SCOPES

ClipMode = Literal["norm", "value"]
SCHEDULES: dict[str, type] = {
    "lr_drop": LearningRateDrop,
    "curriculum": LengthCurriculum,
    "restart": Restart,
}
"""The `TrainConfig` fields that hold a schedule rule, and the rule's class."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping options of a training run."""

    batch_size: int = 32
    optimizer: str = "adam"  # see ntmkit.optim.OPTIMIZERS
    lr: float = 1e-3
    momentum: float = 0.9  # Graves' RMSProp and torch RMSprop (the paper's 0.9)
    clip_mode: ClipMode = "norm"  # "value" clips each gradient element (the paper's [-10, 10])
    clip: float = 10.0  # global norm, or the elementwise bound; 0 disables clipping
    max_iter: int = 20_000  # optimiser steps
    seed: int = 0  # seeds the model's initialisation and the training data
    score: str = "output"  # which steps the loss sees: "output" phase or "all" (ntm-lasagne)
    eval_every: int = 250  # steps between evaluations on the fixed evaluation set
    eval_samples: int = 200  # sequences in the fixed evaluation set (training distribution)
    target_error: float = 0.01  # stop once evaluation bit errors per sequence fall below it
    checkpoint_every: int = 500
    lr_drop: LearningRateDrop | None = None
    curriculum: LengthCurriculum | None = None  # grows the task's max_length
    restart: Restart | None = None  # fresh start for an attempt that has not taken off
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_iter", "eval_every", "eval_samples", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"train.{name} must be an integer >= 1, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"train.optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.clip_mode not in get_args(ClipMode):
            raise ValueError(
                f"train.clip_mode must be one of {list(get_args(ClipMode))}, got {self.clip_mode!r}"
            )
        if self.score not in SCOPES:
            raise ValueError(f"train.score must be one of {list(SCOPES)}, got {self.score!r}")
        for name, allow_zero in (("lr", False), ("clip", True), ("target_error", True)):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and math.isfinite(value)
            if not ok or value < 0 or (value == 0 and not allow_zero):
                bound = ">= 0" if allow_zero else "> 0"
                raise ValueError(f"train.{name} must be a finite number {bound}, got {value!r}")
        for name, cls in SCHEDULES.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, dataclass_from_dict(cls, f"train.{name}", value))
            elif value is not None and not isinstance(value, cls):
                raise ValueError(
                    f"train.{name} must be null or an object with the fields "
                    f"{[f.name for f in dataclasses.fields(cls)]}, got {value!r}"
                )


@dataclass(frozen=True)
class RunConfig:
    """A task (by registry name, with its config fields), NTM options and `TrainConfig`.

    ``model`` holds `NTMConfig` fields except ``input_size`` and ``output_size``, which come
    from the task.
    """

    task: str
    task_fields: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "custom"

    def __post_init__(self) -> None:
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainConfig(**self.train))
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {list(TASKS)}, got {self.task!r}")
        for name in ("input_size", "output_size"):
            if name in self.model:
                raise ValueError(f"model.{name} comes from the task; do not set it")
        self.ntm_config()  # validates task fields and model options now, not mid-run
        task_fields = {f.name for f in dataclasses.fields(TASKS[self.task].config_class)}
        if self.train.curriculum is not None and "max_length" not in task_fields:
            raise ValueError(
                f"train.curriculum grows task.max_length, which task {self.task!r} does not have"
            )

    def make_task(self, seed: int):
        return make_task(self.task, seed=seed, **self.task_fields)

    def ntm_config(self) -> NTMConfig:
        task = self.make_task(seed=0)
        return NTMConfig(input_size=task.input_size, output_size=task.output_size, **self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        _reject_unknown("run", data, {f.name for f in dataclasses.fields(cls)})
        train = dict(data.get("train", {}))
        _reject_unknown("train", train, {f.name for f in dataclasses.fields(TrainConfig)})
        return cls(**{**data, "train": TrainConfig(**train)})

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))

    def override(self, assignments: dict[str, Any]) -> "RunConfig":
        """A copy with dotted keys replaced: ``train.lr``, ``model.shift_mode``,
        ``task.max_length``. Unknown keys raise `ValueError` listing the valid ones."""
        data = self.to_dict()
        valid = self.override_keys()
        for key, value in assignments.items():
            if key not in valid:
                raise ValueError(
                    f"unknown setting {key!r}; valid settings: {', '.join(sorted(valid))}"
                )
            section, name = key.split(".", 1)
            target = data["task_fields"] if section == "task" else data[section]
            if "." in name:  # e.g. train.lr_drop.threshold
                outer, inner = name.split(".", 1)
                existing = target.get(outer) or {}
                if isinstance(existing, str):  # an activation preset name
                    existing = dataclasses.asdict(ACTIVATION_PRESETS[existing])
                target[outer] = {**existing, inner: value}
            else:
                target[name] = value
        return RunConfig.from_dict(data)

    def override_keys(self) -> set[str]:
        """Every dotted key `override` accepts for this run's task."""
        task_cls = TASKS[self.task]
        keys = {f"task.{f.name}" for f in dataclasses.fields(task_cls.config_class)}
        keys |= {
            f"model.{f.name}"
            for f in dataclasses.fields(NTMConfig)
            if f.name not in ("input_size", "output_size")
        }
        keys |= {f"model.activations.{f.name}" for f in dataclasses.fields(HeadActivations)}
        keys |= {f"model.head_bias.{f.name}" for f in dataclasses.fields(HeadBias)}
        keys |= {f"train.{f.name}" for f in dataclasses.fields(TrainConfig)}
        for name, cls in SCHEDULES.items():
            keys |= {f"train.{name}.{f.name}" for f in dataclasses.fields(cls)}
        return keys


def _reject_unknown(section: str, data: dict, valid: set[str]) -> None:
    unknown = sorted(set(data) - valid)
    if unknown:
        raise ValueError(f"unknown {section} fields {unknown}; valid: {sorted(valid)}")
