"""The NaN hunt: short seeded trainings under the settings that break NTMs, and what went wrong.

`hunt_cases` crosses every task, every preset and every stress in `STRESSES`, giving each case a
controller kind and an engine in turn; `run_case` trains one case for a few hundred steps and
reports each kind of non-finite event with the step it first happened at:

* ``loss``: a NaN or infinite training loss (the guard skipped the step);
* ``gradient``: a finite loss with a NaN or infinite gradient (also skipped);
* ``parameter``: a weight that is no longer finite when the run ends;
* ``evaluation``: a NaN in the final evaluation's cost.

The guard (`ntmkit.training.guard`) keeps every one of these from reaching the weights, so a
hunt counts what would have broken an unguarded run; its root causes are fixed in `ntmkit.numerics`.
``benchmarks/stability.py`` runs the whole hunt; the tests run a few cases of it.
"""

import contextlib
import dataclasses
import itertools
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import engine
from ..presets import preset
from ..run.config import RunConfig
from ..run.evaluate import Evaluation
from ..run.log import StepRecord, of_kind, read_log
from ..vocabulary import (
    CONTROLLER_KINDS,
    PRESET_NAMES,
    TASK_NAMES,
    ControllerKind,
    EngineName,
    PresetName,
    TaskName,
)
from .guard import NonFiniteTraining
from .trainer import Trainer

Stress = Callable[[RunConfig], dict[str, Any]]

STRESSES: dict[str, Stress] = {
    "preset": lambda run: {},  # as shipped
    "lr_x10": lambda run: {"train.lr": run.train.lr * 10},
    "no_clip": lambda run: {"train.clip": 0.0},
    # Sharpening and key strength far past anything a trained head uses: gamma about 101,
    # beta about 1000 from the first step.
    "extreme_heads": lambda run: {"model.head_bias.gamma": 100.0, "model.head_bias.beta": 1000.0},
    "zero_memory": lambda run: {"model.memory_init": "constant", "model.memory_init_value": 0.0},
}
"""The settings users try that push an NTM towards NaNs, each a function of the preset's run
giving the overrides to apply."""

NTM_ONLY_STRESSES = ("extreme_heads",)
"""Stresses of options the DNC's memory has not got (head biases): no ``dnc`` case has them."""


@dataclass(frozen=True)
class HuntCase:
    """One short training of the hunt."""

    task: TaskName
    preset: PresetName
    stress: str
    controller: ControllerKind
    engine: EngineName
    seed: int

    def run_config(self, steps: int) -> RunConfig:
        """The preset with the stress, controller and a hunt's bookkeeping applied."""
        run = preset(self.task, self.preset)
        settings = {
            **STRESSES[self.stress](run),
            "model.controller": self.controller,
            "train.seed": self.seed,
            "train.max_iter": steps,
            "train.eval_every": steps,
            "train.eval_samples": 20,
            "train.checkpoint_every": steps,
            "train.max_skipped_steps": steps,  # count every event instead of stopping
            "train.restart": None,  # one attempt: a restart would hide what happened
        }
        if self.controller != "lstm":  # stacked layers are an LSTM option
            settings["model.controller_layers"] = 1
        return run.override(settings)


@dataclass(frozen=True)
class Finding:
    """What one case did: steps trained, and the first step of each kind of event (None:
    never), with how many steps were skipped for a non-finite loss or gradient."""

    case: HuntCase
    steps: int
    loss: int | None
    gradient: int | None
    parameter: int | None
    evaluation: int | None
    skipped: int

    @property
    def events(self) -> list[str]:
        """The kinds of event that happened."""
        kinds = ("loss", "gradient", "parameter", "evaluation")
        return [kind for kind in kinds if getattr(self, kind) is not None]

    def to_dict(self) -> dict[str, Any]:
        """The case's fields and the finding's, flat (one JSON object per run)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del found["case"]
        return {**dataclasses.asdict(self.case), **found, "events": self.events}


CONTROLLERS: tuple[ControllerKind, ...] = CONTROLLER_KINDS
ENGINES: tuple[EngineName, ...] = ("fused", "eager")


def hunt_cases(
    tasks: tuple[TaskName, ...] | None = None, stresses: tuple[str, ...] | None = None
) -> list[HuntCase]:
    """Every task x preset x stress, the controller kind cycling fastest and the engine
    alternating with each full cycle of controllers; case ``i`` has seed ``i``."""
    tasks = tasks or TASK_NAMES
    stresses = stresses or tuple(STRESSES)
    grid = [
        (task, preset_name, stress)
        for task, preset_name, stress in itertools.product(tasks, PRESET_NAMES, stresses)
        if not (preset_name == "dnc" and stress in NTM_ONLY_STRESSES)
    ]
    return [
        HuntCase(
            task,
            preset_name,
            stress,
            CONTROLLERS[i % len(CONTROLLERS)],
            ENGINES[(i // len(CONTROLLERS)) % len(ENGINES)],
            seed=i,
        )
        for i, (task, preset_name, stress) in enumerate(grid)
    ]


def run_case(case: HuntCase, steps: int = 200, seconds: float = 10.0) -> Finding:
    """Train ``case`` for ``steps`` steps or ``seconds`` of wall clock, whichever ends first."""
    with tempfile.TemporaryDirectory(prefix="ntmkit-hunt-") as folder, engine.use(case.engine):
        trainer = Trainer(case.run_config(steps), Path(folder) / "run")
        # NonFiniteTraining here: the end-of-run checkpoint refused non-finite weights.
        with contextlib.suppress(NonFiniteTraining):
            trainer.fit(progress=False, time_limit=seconds)
        records = of_kind(read_log(trainer.folder.metrics), StepRecord)
        trainer.close()
    skipped = [r for r in records if r.skipped]
    last = trainer.last_eval
    return Finding(
        case,
        steps=trainer.step,
        loss=_first(r.step for r in skipped if not math.isfinite(r.loss)),
        gradient=_first(r.step for r in skipped if math.isfinite(r.loss)),
        parameter=None if _finite(trainer.model) else trainer.step,
        evaluation=None if last is None or _finite_cost(last) else trainer.step,
        skipped=len(skipped),
    )


def _finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _finite_cost(evaluation: Evaluation) -> bool:
    """Whether an evaluation's cost is finite (the hunt's tasks all have a cost in bits)."""
    return evaluation.cost_bits is None or math.isfinite(evaluation.cost_bits)


def _first(steps) -> int | None:
    return next(iter(steps), None)
