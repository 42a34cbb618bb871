"""``ntmkit train``: a new run from a task and flags, or ``--resume RUN``."""

import argparse
from pathlib import Path

from ..presets import describe, preset
from ..run.evaluate import Evaluation, format_table
from ..run.folder import read_run_config
from ..tasks import task_names
from ..training import resume
from ..training.trainer import Trainer, TrainResult
from ..validation import check_number
from .flags import TRAIN_FLAGS, add_flags, flag_settings, resume_changes, run_from_flags
from .runs import draw_run_pictures


def add_parser(sub, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("train", parents=[common], help="train an NTM on a task")
    parser.add_argument("task", nargs="?", metavar="TASK", help=task_help())
    add_flags(parser, TRAIN_FLAGS)
    parser.set_defaults(run_command=train_command)


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
    print(_ending(result, out))
    table = trainer.final_sweep()
    print(format_table(table["rows"]))
    draw_run_pictures(out)
    return 0


def _ending(result: TrainResult, out: Path) -> str:
    """How the run stopped, in one line."""
    status = "converged" if result.converged else "reached max_iter"
    if result.timed_out:
        status = f"used its --time-limit (resume with: ntmkit train --resume {out})"
    last = result.last_eval
    scores = "none" if last is None else evaluation_line(last)
    return (
        f"Stopped at step {result.step} ({result.sequences} sequences, "
        f"{result.seconds:.0f} s): {status}; last evaluation: {scores}"
    )


def task_help() -> str:
    """The TASK argument's help: the tasks by name, and how to name one's own."""
    return (
        f"{', '.join(task_names())}, or your own by import path: mypackage.tasks:MyTask or "
        f"tasks.py:MyTask (`ntmkit tasks` lists them)"
    )


def _folder_name(task: str) -> str:
    """A run folder's name for ``task``: the class name of a task given by import path."""
    return task.rpartition(":")[2] if ":" in task else task


def evaluation_line(last: Evaluation) -> str:
    """An evaluation's scores in words, by what it holds (the task's output kind)."""
    if last.bit_errors is not None:
        scores = f"{last.bit_errors:.3f} bit errors/seq"
    elif last.symbol_errors is not None:
        scores = f"{last.symbol_errors:.3f} wrong classes/seq, {last.accuracy:.2%} accuracy"
    else:
        scores = f"{last.mse:.4g} mean squared error"
    if last.perfect is not None:
        scores += f", {last.perfect:.1%} perfect"
    if last.excess_bits is not None:  # dynamic n-grams' own measure
        scores += f", {last.excess_bits:.3f} bits/seq above the optimal predictor"
    return scores


def _resumed_trainer(args: argparse.Namespace) -> tuple[Trainer, Path]:
    """The trainer of ``--resume RUN``, with what the flags may change changed."""
    changes = resume_changes(args)
    out = Path(args.resume)
    run = None
    if changes:
        run = resume.resumed_config(read_run_config(out), changes)
    trainer = Trainer(run, out, resume=True)
    print(f"Resuming {out} at step {trainer.step}")
    return trainer, out


def _new_trainer(args: argparse.Namespace) -> tuple[Trainer, Path]:
    """The trainer of a new run from TASK and the flags."""
    task = args.task or ("data" if args.data else None)
    if task is None:
        raise ValueError(
            f"train needs a TASK ({', '.join(task_names())}), --data FILE or --resume RUN"
        )
    # The task's own settings first: a data set's config cannot even be made without its path.
    fields = {
        key[5:]: value
        for key, value in flag_settings(args, None).items()
        if key.startswith("task.")
    }
    run = run_from_flags(args, preset(task, args.preset or "fast", **fields))
    out = Path(args.out or f"runs/{_folder_name(task)}-{run.preset}-seed{run.train.seed}")
    trainer = Trainer(run, out, overwrite=args.overwrite)
    if trainer.replaced is not None:
        print(f"Moved the old contents of {out} to {trainer.replaced}")
    print(f"Training {describe(run)} -> {out}")
    return trainer, out
