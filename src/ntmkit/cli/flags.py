"""The flags of ``ntmkit train``, in one table: the parser, the settings they make, what a
resumed run takes, and the help text all come from `TRAIN_FLAGS`.

A flag that names a ``setting`` (a dotted key, as ``--set`` takes it) sets that setting, and
its help is that field's sentence from its config's docstring (`ntmkit.field_docs`); a flag
with ``to_settings`` makes its settings from its value (``--memory 128x20`` sets two). Flags
marked ``on_resume`` may be given with ``--resume``; every other one is refused there, so
nothing the user typed is ignored.
"""

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import NTMConfig
from ..field_docs import field_docs
from ..run.config import RunConfig
from ..run.train_config import TrainConfig
from ..validation import check_size
from ..vocabulary import ControllerKind, OptimizerName, PresetName, names


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as JSON when it parses (numbers, true, null)."""
    if "=" not in text:
        raise ValueError(f"--set expects KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def parse_memory(text: str) -> tuple[int, int]:
    """``128x20`` -> (128, 20)."""
    try:
        slots, word = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--memory expects SLOTSxWORD like 128x20, got {text!r}") from None
    return slots, word


def parse_int_list(text: str, flag: str) -> list[int]:
    """``10,20,30`` -> [10, 20, 30]; each a size (1 to `LARGEST_SIZE`), named by ``flag``."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"{flag} expects comma-separated integers like 10,20,30, got {text!r}"
        ) from None
    if not values:
        raise ValueError(f"{flag} expects comma-separated integers like 10,20,30, got {text!r}")
    return [check_size(flag, value) for value in values]


Settings = Callable[[Any, RunConfig | None], dict[str, Any]]
"""How a flag makes its settings from its value and the preset's run (None: not known yet)."""


@dataclass(frozen=True)
class Flag:
    """One flag of ``ntmkit train``.

    Attributes:
      name: the flag as typed, e.g. ``--batch-size``.
      setting: the dotted setting it sets (``train.batch_size``), or None.
      type: argparse's converter (int, float, str); None for an on/off flag.
      help: the help text; empty takes the setting's sentence from its config's docstring.
      choices: the allowed values, if a fixed list.
      metavar: how the help shows the value.
      on_resume: may be given with ``--resume`` (its setting must be one a resume may change).
      to_settings: makes the settings from the value and the preset's run, where ``setting``
        cannot (several keys, or keys that depend on the task).
      repeat: may be given several times (its value is then the list).
    """

    name: str
    setting: str | None = None
    type: Callable[[str], Any] | None = str
    help: str = ""
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    on_resume: bool = False
    to_settings: Settings | None = None
    repeat: bool = False

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")

    def settings(self, value: Any, run: RunConfig | None) -> dict[str, Any]:
        """The settings this flag makes from ``value`` for a run starting from ``run``."""
        if self.to_settings is not None:
            return self.to_settings(value, run)
        return {} if self.setting is None else {self.setting: value}


def _length_range(end: str) -> Settings:
    """``--min-length``/``--max-length``: the task's own length range (lengths of copy,
    item lengths of associative recall)."""

    def settings(value: Any, run: RunConfig | None) -> dict[str, Any]:
        if run is None:  # the task's range fields are known once its config is
            return {}
        for low, high in (("min_length", "max_length"), ("min_item_length", "max_item_length")):
            if hasattr(run.task_config, low):
                return {f"task.{low if end == 'min' else high}": value}
        raise ValueError(f"task {run.task!r} has no length range; use --set task.FIELD=VALUE")

    return settings


def _memory(value: str, run: RunConfig | None) -> dict[str, Any]:
    return dict(zip(("model.num_slots", "model.word_size"), parse_memory(value)))


def _assignments(values: list[str], run: RunConfig | None) -> dict[str, Any]:
    return dict(parse_assignment(text) for text in values)


TRAIN_FLAGS: tuple[Flag, ...] = (
    Flag("--preset", choices=names(PresetName), help="the recipe to start from (default fast)"),
    Flag("--out", help="run folder (default runs/TASK-PRESET-seedN)"),
    Flag(
        "--overwrite",
        type=None,
        help="start over in an --out that holds a run (or anything "
        "else): it is moved aside to OUT.replaced-DATE, never deleted",
    ),
    Flag(
        "--resume",
        metavar="RUN",
        on_resume=True,
        help="continue the run in this folder; with "
        "--max-iter or --target-error extend or tighten it, with --lr go on at that constant "
        "rate",
    ),
    Flag("--max-iter", "train.max_iter", int, on_resume=True),
    Flag("--target-error", "train.target_error", float, on_resume=True),
    Flag(
        "--lr",
        "train.lr",
        float,
        on_resume=True,
        help="the learning rate; with --resume a constant rate from the resumed step on (train.lr)",
    ),
    Flag("--batch-size", "train.batch_size", int),
    Flag("--seed", "train.seed", int),
    Flag("--optimizer", "train.optimizer", choices=names(OptimizerName)),
    Flag("--clip", "train.clip", float),
    Flag("--eval-every", "train.eval_every", int),
    Flag("--device", "train.device"),
    Flag("--controller", "model.controller", choices=names(ControllerKind)),
    Flag("--read-heads", "model.read_heads", int),
    Flag("--write-heads", "model.write_heads", int),
    Flag(
        "--memory",
        metavar="SLOTSxWORD",
        to_settings=_memory,
        help="memory rows x columns, e.g. 128x20 (model.num_slots, model.word_size)",
    ),
    Flag(
        "--data",
        "task.train",
        metavar="FILE",
        help="train on the sequences of this .npz file "
        "or folder of .npy pairs (the task is then data; task.train)",
    ),
    Flag("--val", "task.val", metavar="FILE", help="evaluate on these sequences (task.val)"),
    Flag("--size", "task.size", int, help="bits per vector (task.size)"),
    Flag(
        "--min-length",
        type=int,
        to_settings=_length_range("min"),
        help="shortest sequence (task.min_length, or min_item_length)",
    ),
    Flag(
        "--max-length",
        type=int,
        to_settings=_length_range("max"),
        help="longest sequence (task.max_length, or max_item_length)",
    ),
    Flag(
        "--set",
        metavar="KEY=VALUE",
        repeat=True,
        to_settings=_assignments,
        help="any setting, e.g. model.shift_mode=circular or train.lr=3e-4",
    ),
    Flag(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        on_resume=True,
        help="stop after this many seconds of training (> 0); resume to go on",
    ),
    Flag("--no-progress", type=None, on_resume=True, help="no progress bar"),
)
"""Every flag of ``ntmkit train`` (``--threads`` is every command's)."""

FIELD_DOCS = {"train": field_docs(TrainConfig), "model": field_docs(NTMConfig)}


def help_of(flag: Flag) -> str:
    """The flag's help: its own, or its setting's sentence and the setting's key."""
    if flag.help or flag.setting is None:
        return flag.help
    section, field = flag.setting.split(".", 1)
    sentence = FIELD_DOCS.get(section, {}).get(field, "")
    return f"{sentence[:1].upper()}{sentence[1:].rstrip('.')} ({flag.setting})"


def add_flags(parser: argparse.ArgumentParser, flags: Sequence[Flag]) -> None:
    """Add each flag of the table to ``parser``."""
    for flag in flags:
        options: dict[str, Any] = {"help": help_of(flag), "dest": flag.dest}
        if flag.type is None:
            options["action"] = "store_true"
        elif flag.repeat:
            options.update(action="append", default=[], type=flag.type)
        else:
            options["type"] = flag.type
        if flag.choices is not None:
            options.update(choices=flag.choices, metavar=flag.metavar or flag.dest.upper())
        elif flag.metavar is not None:
            options["metavar"] = flag.metavar
        parser.add_argument(flag.name, **options)


def given(args: argparse.Namespace, flag: Flag) -> bool:
    """Whether the command line gave ``flag``."""
    value = getattr(args, flag.dest)
    return bool(value) if flag.type is None or flag.repeat else value is not None


def run_from_flags(args: argparse.Namespace, start: RunConfig) -> RunConfig:
    """``start`` (the preset's run) with every given flag's settings applied."""
    return start.override(flag_settings(args, start))


def flag_settings(args: argparse.Namespace, start: RunConfig | None) -> dict[str, Any]:
    """The settings of every given flag; ``start`` (the preset's run) for the flags whose
    settings depend on the task (None: those flags are left out)."""
    settings: dict[str, Any] = {}
    for flag in TRAIN_FLAGS:
        if given(args, flag):
            settings.update(flag.settings(getattr(args, flag.dest), start))
    return settings


def resume_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a ``--resume`` command line changes; a flag a resume cannot take is a
    one-line error naming it (a new batch size or seed cannot apply to a run under way)."""
    refused = [flag.name for flag in TRAIN_FLAGS if not flag.on_resume and given(args, flag)]
    if args.task is not None:
        refused.insert(0, "TASK")
    if refused:
        allowed = ", ".join(flag.name for flag in TRAIN_FLAGS if flag.on_resume)
        raise ValueError(
            f"--resume goes on with the run's own settings, so {', '.join(refused)} cannot "
            f"apply; with --resume use only {allowed}, --threads"
        )
    return {
        flag.setting: getattr(args, flag.dest)
        for flag in TRAIN_FLAGS
        if flag.on_resume and flag.setting is not None and given(args, flag)
    }
