"""What a sweep runs: `SweepSpec`, saved as ``sweep.json`` in the sweep's folder.

A sweep trains one ordinary run folder per trial, ``DIR/<setting>/seed<k>``: every setting of
its grid (`ntmkit.sweep.grid`) times every seed. Running the same command again on the same
folder continues the sweep; a different command on it is refused, naming what differs.
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..presets import preset
from ..run.config import RunConfig
from ..tasks import task_class
from ..tasks.registry import canonical
from ..validation import check_choice, check_int, check_number, from_dict
from ..vocabulary import PresetName, SchedulerName
from .grid import Setting, settings

SPEC_FILE = "sweep.json"


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a setting's run for one seed, trained in ``folder``."""

    setting: str
    seed: int
    folder: str  # absolute, so any worker process finds it
    run: RunConfig

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "seed": self.seed,
            "folder": self.folder,
            "run": self.run.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrialSpec":
        return cls(data["setting"], data["seed"], data["folder"], RunConfig.from_dict(data["run"]))


@dataclass(frozen=True)
class SweepSpec:
    """A sweep over seeds and settings of one task's preset.

    ``grid`` and ``overrides`` hold ``(key, value(s))`` pairs of `RunConfig.override` keys;
    ``budget`` is each trial's wall-clock limit in seconds (None: none), ``max_iter`` replaces
    the preset's steps; ``generalisation`` is the grid of the test each trial runs when it
    stops (None: the task's own, `Task.generalisation`). ``task`` is a task's name or import
    path, as `ntmkit.tasks.registry` takes it.
    """

    task: str
    preset: PresetName = "fast"
    seeds: int = 1
    first_seed: int = 0
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    overrides: tuple[tuple[str, Any], ...] = ()
    budget: float | None = None
    max_iter: int | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    scheduler: SchedulerName = "none"
    generalisation: tuple[tuple[str, tuple[int, ...]], ...] | None = None
    trial_reports: bool = True  # each trial writes its report.html when it ends

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", canonical(self.task))
        task_class(self.task)  # a task that cannot be found is this sweep's one-line error
        check_choice("--preset", self.preset, PresetName)
        check_int("--seeds", self.seeds, low=1)
        check_int("--first-seed", self.first_seed, low=0)
        if self.budget is not None:
            check_number("--budget", self.budget, low=0, low_open=True)
        if self.max_iter is not None:
            check_int("--max-iter", self.max_iter, low=1)
        check_number("--cpus-per-trial", self.cpus_per_trial, low=0, low_open=True)
        check_number("--gpus-per-trial", self.gpus_per_trial, low=0)
        check_choice("--scheduler", self.scheduler, SchedulerName)
        for flag, pairs in (("--grid", self.grid), ("--set", self.overrides)):
            if any(key == "train.seed" for key, _ in pairs):
                raise ValueError(
                    f"{flag} train.seed: a sweep's seeds come from --seeds and --first-seed"
                )

    def base_run(self) -> RunConfig:
        """The preset with ``overrides`` (and ``max_iter``, and a GPU if trials get one)."""
        extra: dict[str, Any] = {}
        if self.max_iter is not None:
            extra["train.max_iter"] = self.max_iter
        if self.gpus_per_trial > 0:
            extra["train.device"] = "cuda"
        overrides = dict(self.overrides)
        # The task's own fields first: a data set's config cannot be made without its paths.
        fields = {k[5:]: v for k, v in overrides.items() if k.startswith("task.")}
        start = preset(self.task, self.preset, **fields)
        return start.override({**overrides, **extra})

    def settings(self) -> list[Setting]:
        return settings(self.base_run(), self.grid)

    def trials(self, out: str | Path) -> list[TrialSpec]:
        """Every trial, setting by setting, seeds in order, with its folder under ``out``."""
        root, base = Path(out).resolve(), self.base_run()
        seeds = range(self.first_seed, self.first_seed + self.seeds)
        return [
            TrialSpec(
                setting.name,
                seed,
                str(root / setting.name / f"seed{seed}"),
                base.override({**setting.as_dict(), "train.seed": seed}),
            )
            for setting in self.settings()
            for seed in seeds
        ]

    def generalisation_grid(self) -> dict[str, tuple[int, ...]]:
        if self.generalisation is None:
            return dict(task_class(self.task).generalisation)
        return {key: tuple(values) for key, values in self.generalisation}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "SweepSpec":
        data = json.loads(text)
        if isinstance(data, dict):  # from_dict names what is wrong with anything else
            pairs = {"grid": True, "overrides": False, "generalisation": True}
            for name, listed in pairs.items():
                if isinstance(data.get(name), list):
                    data[name] = tuple(
                        (key, tuple(value) if listed else value) for key, value in data[name]
                    )
        return from_dict(cls, "sweep.json", data)

    def check_continues(self, saved: "SweepSpec", folder: Path) -> None:
        """Refuse to continue a different sweep in ``folder``, naming the first difference."""
        mine_all, theirs_all = dataclasses.asdict(self), dataclasses.asdict(saved)
        for field in dataclasses.fields(self):
            mine, theirs = mine_all[field.name], theirs_all[field.name]
            if json.dumps(mine) != json.dumps(theirs):  # JSON: a list equals its tuple
                raise ValueError(
                    f"{folder} holds a different sweep ({field.name}: {theirs!r} there, "
                    f"{mine!r} now); rerun its own command or choose another --out"
                )
