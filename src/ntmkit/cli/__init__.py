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
ntmkit tasks                               every task train can name, and how to add yours
ntmkit eval --pretrained copy              (also plot, animate, report) on a shipped model

One module per command family: ``train`` (with its flag table, ``flags``), ``runs`` (the
commands on a trained run), ``sweep``. Each parser names the function that runs its command.
"""

import argparse
import sys
from collections.abc import Sequence

import torch

from .. import __version__, engine
from ..run.lock import RunInUseError
from ..training.guard import NonFiniteTraining
from ..validation import check_int
from . import runs, sweep, tasks, train
from .flags import parse_assignment, parse_int_list, parse_memory


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in ntmkit's one-line form (argparse adds a usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ntmkit", description="Neural Turing Machines on PyTorch.")
    parser.add_argument(
        "--version", action="version", version=f"ntmkit {__version__} (torch {torch.__version__})"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads, >= 1 (default 1: an NTM's small per-step operations run "
        "faster on one)",
    )
    train.add_parser(sub, common)
    runs.add_parsers(sub, common)
    sweep.add_parser(sub)
    tasks.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        engine.current()  # a bad NTMKIT_ENGINE is this command's one-line error
        if hasattr(args, "threads"):
            torch.set_num_threads(check_int("--threads", args.threads, low=1))
        runs.resolve_run(args)
        return args.run_command(args)
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


__all__ = ["build_parser", "main", "parse_assignment", "parse_int_list", "parse_memory"]
