"""`RunConfig`: everything a training run needs (task, model, optimisation) as typed data.

A run is saved as ``config.json`` next to its checkpoints, so any run folder says exactly how
it was made. Presets (`ntmkit.presets`) are named `RunConfig` values; the command line only
parses flags into `RunConfig.override`, which goes through the same typed validation as
loading JSON (`RunConfig.from_dict`).

``config.json`` layout (``format_version`` 2)::

    {"format_version": 2, "task": "copy", "task_config": {...every CopyConfig field...},
     "model": {...every NTMConfig field but input_size and output_size...},
     "train": {...every TrainConfig field...}, "preset": "fast"}

``task`` is a built-in task's name, a name an installed package registers, or an import path
(``mypackage.tasks:AdditionTask``, ``/abs/path/addition.py:AdditionTask``); see
`ntmkit.tasks.registry`. The task's class says what its config is and what its outputs are.

The model's input and output sizes are not stored: they follow from the task's config. Files
written by ntmkit 0.1.0 have no ``format_version`` and keep the task's fields, only those that
differ from the defaults, under ``task_fields``; `from_dict` reads them too.
"""

import dataclasses
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import ACTIVATION_SETS, NTMConfig
from ..tasks import Task, task_class
from ..tasks.registry import canonical
from ..validation import check_choice, fail, from_dict, reject_unknown
from ..vocabulary import OutputKind
from .metrics import KIND_LOSSES, resolved_loss
from .train_config import TrainConfig

FORMAT_VERSION = 2
"""The ``config.json`` layout written by this ntmkit (0.1.0 wrote no version: layout 1)."""

TASK_SIZES = ("input_size", "output_size")
"""`NTMConfig` fields that come from the task's config, never set on their own."""


@dataclass(frozen=True)
class RunConfig:
    """A task (its name or import path, and its own config), an `NTMConfig` and a `TrainConfig`.

    The model's ``input_size`` and ``output_size`` must be the task's; `create` fills them in.
    ``train.loss`` must suit the task's output kind (``auto`` always does).
    """

    task: str
    task_config: Any  # the frozen config of the task's class, e.g. a CopyConfig
    model: NTMConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "custom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", canonical(self.task))
        config_class = self.task_class.config_class
        if not isinstance(self.task_config, config_class):
            raise fail(
                "task_config", f"a {config_class.__name__} (task {self.task})", self.task_config
            )
        if not isinstance(self.model, NTMConfig):
            raise fail("model", "an NTMConfig", self.model)
        for name in TASK_SIZES:
            expected, got = getattr(self.task_config, name), getattr(self.model, name)
            if got != expected:
                raise fail(f"model.{name}", f"{expected}, the task's {name}", got)
        if not isinstance(self.train, TrainConfig):
            raise fail("train", "a TrainConfig", self.train)
        if self.train.curriculum is not None and not hasattr(self.task_config, "max_length"):
            rule = f"null for task {self.task}, which has no max_length to grow"
            raise fail("train.curriculum", rule, dataclasses.asdict(self.train.curriculum))
        kind = self.output_kind
        if resolved_loss(self.train.loss, kind) not in KIND_LOSSES[kind]:
            rule = f"auto or one of {', '.join(KIND_LOSSES[kind])} for a task of {kind} outputs"
            raise fail("train.loss", rule, self.train.loss)

    @property
    def task_class(self) -> type[Task]:
        """The task's class (`ntmkit.tasks.task_class`)."""
        return task_class(self.task)

    @property
    def task_label(self) -> str:
        """A short name of the task for titles: its name, or the ``name`` of a task class
        given by import path (``brackets`` for ``/home/me/brackets.py:BracketsTask``)."""
        return self.task_class.name or self.task if ":" in self.task else self.task

    @property
    def output_kind(self) -> OutputKind:
        """What the task's targets are: ``bits``, ``categorical`` or ``real``."""
        return self.make_task(seed=0).output_kind

    @classmethod
    def create(
        cls,
        task: str,
        task_config: Any = None,
        model: NTMConfig | Mapping[str, Any] | None = None,
        train: TrainConfig | Mapping[str, Any] | None = None,
        preset: str = "custom",
    ) -> "RunConfig":
        """A `RunConfig` from plain parts: the task's config or a dict of its fields (None:
        defaults), the model options but its sizes (a dict, or an `NTMConfig` whose sizes are
        checked), the training options (a `TrainConfig` or a dict)."""
        config_class = task_class(canonical(task)).config_class
        if task_config is None or isinstance(task_config, Mapping):
            task_config = from_dict(config_class, "task", task_config or {})
        if model is None or isinstance(model, Mapping):
            model = model_for(task_config, model or {})
        if train is None or isinstance(train, Mapping):
            train = TrainConfig.from_dict(train or {})
        return cls(task, task_config, model, train, preset)

    def make_task(self, seed: int) -> Task:
        """The task, seeded with ``seed``."""
        return self.task_class(self.task_config, seed=seed)

    @property
    def measure(self) -> str:
        """The `Evaluation` field its task is judged by (`Task.measure`, which for n-grams
        depends on the task config)."""
        return self.make_task(seed=0).measure

    def to_dict(self) -> dict[str, Any]:
        model = {k: v for k, v in self.model.to_dict().items() if k not in TASK_SIZES}
        return {
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "task_config": dataclasses.asdict(self.task_config),
            "model": model,
            "train": self.train.to_dict(),
            "preset": self.preset,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "RunConfig":
        """A `RunConfig` from `to_dict` output or a 0.1.0 config; unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise fail("run config", "an object", data)
        data = _upgrade(data)
        reject_unknown("run config field", data, ["format_version", *_FIELDS])
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise fail("format_version", f"{FORMAT_VERSION} (this ntmkit's layout)", version)
        if "task" not in data:
            raise ValueError("a run config needs a task")
        parts = {name: data[name] for name in _FIELDS if name in data and name != "task"}
        return cls.create(data["task"], **parts)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))

    def override(self, assignments: Mapping[str, Any]) -> "RunConfig":
        """A copy with dotted keys replaced: ``train.lr``, ``model.shift_mode``,
        ``task.max_length``, ``train.restart.after``. Unknown keys raise `ValueError` listing
        the valid ones; the result is validated like a loaded ``config.json``."""
        reject_unknown("setting", assignments, sorted(self.override_keys()))
        data = self.to_dict()
        for key, value in assignments.items():
            section, *path = key.split(".")
            target = data[_SECTIONS[section]]
            if len(path) == 2:  # a field of a nested config, e.g. model.head_bias.gate
                outer, inner = path
                target[outer] = {**_as_fields(outer, target.get(outer)), inner: value}
            else:
                target[path[0]] = value
        return RunConfig.from_dict(data)

    def differences(self, other: "RunConfig") -> list[str]:
        """The dotted keys (as `override` takes them) whose values differ in ``other``, sorted;
        a different task is ``task``."""
        if self.task != other.task:
            return ["task"]
        mine, theirs = _flat(self.to_dict()), _flat(other.to_dict())
        return sorted(
            key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key)
        )

    def override_keys(self) -> set[str]:
        """Every dotted key `override` accepts for this run's task."""
        keys: set[str] = set()
        for section, config_class in (
            ("task", type(self.task_config)),
            ("model", NTMConfig),
            ("train", TrainConfig),
        ):
            for name, nested in _fields_and_nested(config_class).items():
                if section == "model" and name in TASK_SIZES:
                    continue
                keys.add(f"{section}.{name}")
                if nested is not None:
                    keys |= {f"{section}.{name}.{f.name}" for f in dataclasses.fields(nested)}
        return keys


_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))
_SECTIONS = {"task": "task_config", "model": "model", "train": "train"}
"""The first part of a dotted setting and the `to_dict` entry it changes."""


def _flat(data: Mapping[str, Any]) -> dict[str, Any]:
    """`RunConfig.to_dict` as dotted keys: ``{"model.head_bias.gate": ..., "train.lr": ...}``."""
    sections = {value: key for key, value in _SECTIONS.items()}
    flat: dict[str, Any] = {}
    for name, value in data.items():
        prefix = sections.get(name, name)
        if isinstance(value, Mapping):
            for key, item in _flat(value).items():
                flat[f"{prefix}.{key}"] = item
        else:
            flat[prefix] = value
    return flat


def model_for(task_config: Any, options: Mapping[str, Any]) -> NTMConfig:
    """The `NTMConfig` of ``options`` (every field but the sizes) for a task's config."""
    taken = sorted(set(options) & set(TASK_SIZES))
    if taken:
        raise ValueError(f"model.{taken[0]} comes from the task's config; do not set it")
    sizes = {name: getattr(task_config, name) for name in TASK_SIZES}
    return from_dict(NTMConfig, "model", {**sizes, **options})


def _upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A 0.1.0 config (no ``format_version``; ``task_fields`` holds the changed task fields)
    in the current layout; a current one unchanged."""
    data = dict(data)
    if "format_version" not in data:
        data["format_version"] = FORMAT_VERSION
        if "task_fields" in data:
            data["task_config"] = data.pop("task_fields")
    return data


def _fields_and_nested(config_class: type) -> dict[str, type | None]:
    """Each field of a config dataclass, with the dataclass it holds (or None)."""
    hints = typing.get_type_hints(config_class)
    result: dict[str, type | None] = {}
    for f in dataclasses.fields(config_class):
        options = typing.get_args(hints[f.name]) or (hints[f.name],)
        nested = [o for o in options if isinstance(o, type) and dataclasses.is_dataclass(o)]
        result[f.name] = nested[0] if nested else None
    return result


def _as_fields(name: str, value: Any) -> dict[str, Any]:
    """The current value of a nested config as a dict of fields, to change one of them."""
    if value is None:
        return {}
    if isinstance(value, str) and name == "activations":  # a set name, e.g. "paper"
        check_choice("model.activations", value, tuple(ACTIVATION_SETS))
        return dataclasses.asdict(ACTIVATION_SETS[value])
    if not isinstance(value, Mapping):
        raise fail(name, "an object to set a field of", value)
    return dict(value)
