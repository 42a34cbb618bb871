"""The ``ntmkit`` command: parses flags and calls the library, nothing more.

ntmkit train copy --out runs/copy          train with the default (fast) preset
ntmkit train --resume runs/copy            continue an interrupted run
ntmkit train --resume runs/copy --lr 1e-4  continue at a lower constant rate (polishing)
ntmkit eval runs/copy --lengths 10,20,120  generalisation table (also eval.json)
ntmkit plot runs/copy                      dashboard, learning curves, generalisation plot
ntmkit animate runs/copy                   animation.gif of memory and weightings
ntmkit report runs/copy                    report.html with everything, offline
ntmkit import-lasagne copy.npy --task copy --out runs/lasagne-copy
ntmkit sweep copy --seeds 10 --grid train.batch_size=4,64   Ray Tune trials, summary.json
ntmkit pretrained                          the models shipped in the package
ntmkit eval --pretrained copy              (also plot, animate, report) on a shipped model
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from . import __version__, engine
from .evaluate import DEFAULT_SWEEPS, EVAL_SEED_OFFSET, SWEEP_FLAGS, format_table, sweep
from .guard import NonFiniteTraining
from .presets import describe, preset
from .presets.lasagne import SHIPPED_TASKS
from .run_config import RunConfig
from .run_lock import RunInUseError
from .runs import RunFolder, load_run, read_run_config, write_eval
from .validation import available_devices, check_int, check_number, check_size
from .vocabulary import (
    ControllerKind,
    OptimizerName,
    PresetName,
    SchedulerName,
    Scope,
    TaskName,
    names,
)

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(func):
        COMMANDS[name] = func
        return func

    return register


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


def _task_range_keys(run: RunConfig) -> tuple[str, str]:
    """The task fields that --min-length/--max-length set for this task."""
    for low, high in (("min_length", "max_length"), ("min_item_length", "max_item_length")):
        if hasattr(run.task_config, low):
            return low, high
    raise ValueError(f"task {run.task!r} has no length range; use --set task.FIELD=VALUE")


def run_from_flags(args: argparse.Namespace) -> RunConfig:
    """The preset named by --preset with every flag and --set applied."""
    run = preset(args.task, args.preset or "fast")
    settings: dict[str, Any] = {}
    flag_keys = {
        "max_iter": "train.max_iter", "batch_size": "train.batch_size", "seed": "train.seed",
        "optimizer": "train.optimizer", "lr": "train.lr", "clip": "train.clip",
        "device": "train.device", "eval_every": "train.eval_every",
        "target_error": "train.target_error", "controller": "model.controller",
        "read_heads": "model.read_heads", "write_heads": "model.write_heads", "size": "task.size",
    }  # fmt: skip
    for flag, key in flag_keys.items():
        value = getattr(args, flag)
        if value is not None:
            settings[key] = value
    if args.memory is not None:
        settings["model.num_slots"], settings["model.word_size"] = parse_memory(args.memory)
    if args.min_length is not None or args.max_length is not None:
        low, high = _task_range_keys(run)
        if args.min_length is not None:
            settings[f"task.{low}"] = args.min_length
        if args.max_length is not None:
            settings[f"task.{high}"] = args.max_length
    settings.update(parse_assignment(text) for text in args.set)
    return run.override(settings)


RESUME_FLAGS = ("--max-iter", "--target-error", "--lr", "--time-limit", "--threads",
                "--no-progress")  # fmt: skip
"""The train flags that work with --resume; the others would change what the run is."""


def _check_resume_flags(args: argparse.Namespace) -> None:
    """A clear error for a flag --resume would otherwise ignore: a run goes on with its own
    config (config.json), so a new batch size or seed cannot apply to it."""
    given = [
        flag
        for flag, value in (
            ("TASK", args.task), ("--preset", args.preset), ("--out", args.out),
            ("--size", args.size), ("--batch-size", args.batch_size), ("--seed", args.seed),
            ("--min-length", args.min_length), ("--max-length", args.max_length),
            ("--read-heads", args.read_heads), ("--write-heads", args.write_heads),
            ("--eval-every", args.eval_every), ("--clip", args.clip),
            ("--controller", args.controller), ("--optimizer", args.optimizer),
            ("--memory", args.memory), ("--device", args.device), ("--set", args.set or None),
            ("--overwrite", args.overwrite or None),
        )
        if value is not None
    ]  # fmt: skip
    if given:
        raise ValueError(
            f"--resume goes on with the run's own settings, so {', '.join(given)} cannot apply;"
            f" with --resume use only {', '.join(RESUME_FLAGS)}"
        )


@command("train")
def train_command(args: argparse.Namespace) -> int:
    if args.time_limit is not None:
        check_number("--time-limit", args.time_limit, low=0, low_open=True)
    trainer, out = _resumed_trainer(args) if args.resume else _new_trainer(args)
    result = trainer.fit(progress=not args.no_progress, time_limit=args.time_limit)
    if result.interrupted:
        print(
            f"Interrupted at step {result.step}; checkpoint saved. "
            f"Resume with: ntmkit train --resume {out}"
        )
        return 130
    status = "converged" if result.converged else "reached max_iter"
    if result.timed_out:
        status = f"used its --time-limit (resume with: ntmkit train --resume {out})"
    last = result.last_eval
    scores = (
        "none"
        if last is None
        else f"{last.bit_errors:.3f} bit errors/seq, {last.perfect:.1%} perfect"
    )
    if last is not None and last.excess_bits is not None:  # dynamic n-grams' own measure
        scores += f", {last.excess_bits:.3f} bits/seq above the optimal predictor"
    print(
        f"Stopped at step {result.step} ({result.sequences} sequences, "
        f"{result.seconds:.0f} s): {status}; last evaluation: {scores}"
    )
    table = trainer.final_sweep()
    print(format_table(table["rows"]))
    _draw_pictures(out)
    return 0


def _resumed_trainer(args: argparse.Namespace):
    """The trainer of ``--resume RUN``, with the flags a resume may change applied."""
    from .train import Trainer

    _check_resume_flags(args)
    out = Path(args.resume)
    run = None
    given = {"train.max_iter": args.max_iter, "train.target_error": args.target_error}
    changes = {key: value for key, value in given.items() if value is not None}
    if args.lr is not None:  # a constant rate from the resumed step on
        changes.update({"train.lr": args.lr, "train.lr_drop": None})
    if changes:
        run = read_run_config(RunFolder(out).config).override(changes)
    trainer = Trainer(run, out, resume=True)
    print(f"Resuming {out} at step {trainer.step}")
    return trainer, out


def _new_trainer(args: argparse.Namespace):
    """The trainer of a new run from TASK and the flags."""
    from .train import Trainer

    if args.task is None:
        raise ValueError(f"train needs a TASK ({', '.join(names(TaskName))}) or --resume RUN")
    run = run_from_flags(args)
    out = Path(args.out or f"runs/{args.task}-{run.preset}-seed{run.train.seed}")
    trainer = Trainer(run, out, overwrite=args.overwrite)
    if trainer.replaced is not None:
        print(f"Moved the old contents of {out} to {trainer.replaced}")
    print(f"Training {describe(run)} -> {out}")
    return trainer, out


@command("sweep")
def sweep_command(args: argparse.Namespace) -> int:
    from .sweep import INSTALL_HINT, SweepSpec, parse_grid_flag, ray_available, run_sweep

    if not ray_available():
        print(f"ntmkit sweep: {INSTALL_HINT}", file=sys.stderr)
        return 2
    spec = SweepSpec(
        task=args.task,
        preset=args.preset,
        seeds=args.seeds,
        first_seed=args.first_seed,
        grid=tuple(parse_grid_flag(text) for text in args.grid),
        overrides=tuple(parse_assignment(text) for text in args.set),
        budget=args.budget,
        max_iter=args.max_iter,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        scheduler=args.scheduler,
        trial_reports=not args.no_trial_reports,
    )
    out = Path(args.out or f"sweeps/{args.task}-{args.preset}")
    result = run_sweep(spec, out, address=args.address)
    return 0 if result.complete else 130


def _draw_pictures(out: Path) -> None:
    try:
        from .plots import write_run_figures
    except ImportError:
        return
    for path in write_run_figures(out):
        print(f"wrote {path}")


@command("eval")
def eval_command(args: argparse.Namespace) -> int:
    check_int("--samples", args.samples, low=1)
    grid = {
        name: parse_int_list(getattr(args, flag), f"--{flag}")
        for flag, name in SWEEP_FLAGS.items()
        if getattr(args, flag) is not None
    }
    run, model, payload = load_run(args.run, device=args.device)
    grid = grid or DEFAULT_SWEEPS[run.task]
    task = run.make_task(
        seed=args.seed if args.seed is not None else run.train.seed + 2 * EVAL_SEED_OFFSET
    )
    rows = sweep(model, task, grid, args.samples, scope=args.scope)
    print(
        f"{run.task} at step {payload['step']} ({args.samples} samples per row, "
        f"scored steps: {args.scope})"
    )
    print(format_table(rows))
    out = Path(args.json) if args.json else None
    if out is None and Path(args.run).is_dir():
        out = RunFolder(Path(args.run)).eval
    if out is not None:
        write_eval(out, grid, rows, payload["step"], args.scope)
        print(f"wrote {out}")
    return 0


@command("import-lasagne")
def import_lasagne_command(args: argparse.Namespace) -> int:
    from .compat.importer import import_lasagne_run

    out = import_lasagne_run(args.model, args.task, args.out)
    print(f"wrote run folder {out}; try: ntmkit eval {out} --scope all")
    return 0


@command("plot")
def plot_command(args: argparse.Namespace) -> int:
    from .plots import write_dashboard, write_run_figures

    _check_view_flags(args)
    view = (args.length, args.head, args.out)
    if args.details or args.index or any(value is not None for value in view):
        paths = [
            write_dashboard(args.run, args.out, args.length, args.index, args.head, args.details)
        ]
    else:
        paths = write_run_figures(args.run)
    for path in paths:
        print(f"wrote {path}")
    return 0


@command("animate")
def animate_command(args: argparse.Namespace) -> int:
    from .plots import write_animation

    _check_view_flags(args)
    print(f"wrote {write_animation(args.run, args.out, args.length)}")
    return 0


def _check_view_flags(args: argparse.Namespace) -> None:
    """The flags of plot and animate that pick what to draw, named as typed."""
    if args.length is not None:
        check_size("--length", args.length)
    if getattr(args, "index", None) is not None:
        check_int("--index", args.index, low=0)
    if getattr(args, "head", None) is not None:
        check_int("--head", args.head, low=0)


@command("pretrained")
def pretrained_command(args: argparse.Namespace) -> int:
    from .pretrained import available, card, run_config, score_line, test_point

    if not available():
        print("no pretrained models are shipped in this version")
        return 0
    for task in available():
        run = run_config(task)
        shown, every_step, measure = card(task), run.train.score == "all", run.measure
        print(f"{task}: {shown.recipe}; seed {shown.seed}, {shown.sequences:,} sequences")
        for row in shown.generalisation:
            point = ", ".join(f"{k}={v}" for k, v in test_point(row).items())
            # Scoring every step only means something for a model trained to answer on each.
            scores = score_line(row, every_step, measure)
            print(f"  {point}: {scores}, {row['samples']} sequences")
    print("use one with e.g. `ntmkit eval --pretrained TASK`, or ntmkit.pretrained.load(TASK)")
    return 0


@command("report")
def report_command(args: argparse.Namespace) -> int:
    from .plots import write_report

    print(f"wrote {write_report(args.run)}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in ntmkit's one-line form (argparse adds a usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ntmkit", description="Neural Turing Machines on PyTorch.")
    parser.add_argument(
        "--version", action="version", version=f"ntmkit {__version__} (torch {torch.__version__})"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = _Parser(add_help=False)
    common.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads, >= 1 (default 1: an NTM's small per-step operations run "
        "faster on one)",
    )
    _add_train_parser(sub, common)
    _add_eval_parser(sub, common)
    importer = sub.add_parser("import-lasagne", help="convert an ntm-lasagne model to a run folder")
    importer.add_argument("model", help="an ntm-lasagne .npy model file")
    importer.add_argument("--task", required=True, choices=SHIPPED_TASKS, metavar="TASK")
    importer.add_argument("--out", required=True, help="run folder to write")
    _add_picture_parsers(sub, common)
    _add_sweep_parser(sub)
    return parser


def _add_train_parser(sub, common) -> None:
    train = sub.add_parser("train", parents=[common], help="train an NTM on a task")
    tasks = names(TaskName)
    train.add_argument("task", nargs="?", choices=tasks, metavar="TASK", help=", ".join(tasks))
    train.add_argument("--preset", choices=names(PresetName), help="default fast")
    train.add_argument("--out", help="run folder (default runs/TASK-PRESET-seedN)")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="start over in an --out that holds a run (or anything else): it is moved aside to "
        "OUT.replaced-DATE, never deleted",
    )
    train.add_argument(
        "--resume",
        metavar="RUN",
        help="continue the run in this folder; with --max-iter or --target-error extend or "
        "tighten it, with --lr go on at that constant rate",
    )
    int_flags = ("--max-iter", "--size", "--batch-size", "--seed", "--min-length", "--max-length")
    for flag in (*int_flags, "--read-heads", "--write-heads", "--eval-every"):
        train.add_argument(flag, type=int)
    for flag in ("--lr", "--clip", "--target-error"):
        train.add_argument(flag, type=float)
    train.add_argument("--time-limit", type=float, metavar="SECONDS", help="seconds, > 0")
    train.add_argument("--controller", choices=names(ControllerKind))
    train.add_argument("--optimizer", choices=names(OptimizerName))
    train.add_argument("--memory", help="SLOTSxWORD, e.g. 128x20")
    train.add_argument("--device", help=f"e.g. cpu or cuda:0 (this machine: {available_devices()})")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any setting, e.g. model.shift_mode=circular or train.lr=3e-4",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_sweep_parser(sub) -> None:
    sweep = sub.add_parser(
        "sweep", help="train every grid setting x every seed as Ray Tune trials; summarise"
    )
    tasks = names(TaskName)
    sweep.add_argument("task", choices=tasks, metavar="TASK", help=", ".join(tasks))
    sweep.add_argument("--preset", default="fast", choices=names(PresetName))
    sweep.add_argument("--seeds", type=int, required=True, help="seeds per setting")
    sweep.add_argument("--first-seed", type=int, default=0)
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a setting to sweep (the keys of --set); several --grid flags sweep every combination",
    )
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    sweep.add_argument("--budget", type=float, metavar="SECONDS", help="wall-clock per trial")
    sweep.add_argument("--max-iter", type=int, help="training steps per trial")
    sweep.add_argument("--out", help="sweep folder (default sweeps/TASK-PRESET)")
    sweep.add_argument("--cpus-per-trial", type=float, default=1.0, help="also its torch threads")
    sweep.add_argument("--gpus-per-trial", type=float, default=0.0, help="> 0 trains on cuda")
    sweep.add_argument(
        "--address", help="join this Ray cluster (auto, or HOST:PORT); default: a local Ray"
    )
    sweep.add_argument(
        "--scheduler",
        choices=names(SchedulerName),
        default="none",
        help="asha: stop trials far behind the others (Ray Tune's ASHA)",
    )
    sweep.add_argument("--no-trial-reports", action="store_true", help="skip each report.html")


def _add_eval_parser(sub, common) -> None:
    evaluate = sub.add_parser(
        "eval", parents=[common], help="evaluate a trained run on a sweep of lengths"
    )
    _add_run_argument(evaluate, "run folder or checkpoint file")
    for flag in SWEEP_FLAGS:
        evaluate.add_argument(
            f"--{flag}",
            help="comma-separated values; one value pins it while another flag sweeps, two "
            "flags with several values give a two-way table",
        )
    evaluate.add_argument("--samples", type=int, default=100, help="sequences per point")
    evaluate.add_argument(
        "--scope",
        choices=names(Scope),
        default="output",
        help="score the output phase (paper) or every step (ntm-lasagne)",
    )
    evaluate.add_argument("--seed", type=int)
    evaluate.add_argument("--device", default="cpu")
    evaluate.add_argument("--json", help="where to write the table (default RUN/eval.json)")


def _add_picture_parsers(sub, common) -> None:
    plot = sub.add_parser(
        "plot",
        parents=[common],
        help="draw a run's figures, or one dashboard with --length/--index/--head/--out",
    )
    _add_run_argument(plot, "run folder")
    plot.add_argument("--length", type=int, help="payload length of the dashboard's sequence")
    plot.add_argument("--index", type=int, default=0, help="which sequence of the seeded batch")
    plot.add_argument("--head", type=int, help="only this head (write heads first, then read)")
    plot.add_argument("--details", action="store_true", help="add erase/add, shift, gate, gamma")
    plot.add_argument("--out", help="dashboard file (.png, .svg, .pdf; default in RUN)")

    animate = sub.add_parser(
        "animate", parents=[common], help="a GIF of memory and weightings, step by step"
    )
    _add_run_argument(animate, "run folder")
    animate.add_argument("--length", type=int, help="payload length (default: longest trained)")
    animate.add_argument("--out", help="GIF file (default RUN/animation.gif)")

    report = sub.add_parser(
        "report", parents=[common], help="write RUN/report.html with the config, metrics, figures"
    )
    _add_run_argument(report, "run folder")
    sub.add_parser("pretrained", help="list the pretrained models shipped in the package")


def _add_run_argument(parser, what: str) -> None:
    """RUN, or --pretrained TASK (then RUN, default runs/pretrained-TASK, receives its files)."""
    parser.add_argument("run", nargs="?", metavar="RUN", help=what)
    parser.add_argument(
        "--pretrained",
        metavar="TASK",
        help="the package's pretrained model of TASK (`ntmkit pretrained` lists them), "
        "written out as the run folder RUN (default runs/pretrained-TASK)",
    )


def _resolve_run(args: argparse.Namespace) -> None:
    """Turn ``--pretrained TASK`` into a run folder; refuse a command with neither."""
    if getattr(args, "pretrained", None) is not None:
        from .pretrained import materialize

        args.run = str(
            materialize(args.pretrained, args.run or f"runs/pretrained-{args.pretrained}")
        )
    elif hasattr(args, "pretrained") and args.run is None:
        raise ValueError("give a RUN folder, or --pretrained TASK")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        engine.current()  # a bad NTMKIT_ENGINE is this command's one-line error
        if hasattr(args, "threads"):
            torch.set_num_threads(check_int("--threads", args.threads, low=1))
        _resolve_run(args)
        return COMMANDS[args.command](args)
    except (ValueError, OSError, RunInUseError, NonFiniteTraining) as exc:
        print(f"ntmkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: Exception) -> str:
    """An error as one line; an OSError names its file first (``PATH: Permission denied``)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
