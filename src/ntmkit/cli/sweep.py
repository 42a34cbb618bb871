"""``ntmkit sweep``: every grid setting x every seed as Ray Tune trials, then the summary."""

import argparse
import sys
from pathlib import Path

from ..validation import check_int
from ..vocabulary import PresetName, SchedulerName, names
from .flags import parse_assignment
from .train import task_help


def add_parser(sub) -> None:
    sweep = sub.add_parser(
        "sweep", help="train every grid setting x every seed as Ray Tune trials; summarise"
    )
    sweep.add_argument("task", nargs="?", metavar="TASK", help=task_help())
    sweep.add_argument("--data", metavar="FILE", help="sweep the data task on these sequences")
    sweep.add_argument("--val", metavar="FILE", help="the data task's evaluation sequences")
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
    sweep.add_argument(
        "--cpus",
        type=int,
        metavar="N",
        help="CPUs the local Ray may use (default: every core); N / --cpus-per-trial trials "
        "run at once",
    )
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
    sweep.set_defaults(run_command=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    from ..sweep import INSTALL_HINT, SweepSpec, parse_grid_flag, ray_available, run_sweep

    if not ray_available():
        print(f"ntmkit sweep: {INSTALL_HINT}", file=sys.stderr)
        return 2
    if args.cpus is not None:
        check_int("--cpus", args.cpus, low=1)
        if args.address:
            raise ValueError(
                "--cpus sizes a local Ray; a cluster joined with --address has its own"
            )
    data = [("task.train", args.data)] if args.data else []
    data += [("task.val", args.val)] if args.val else []
    task = args.task or ("data" if args.data else None)
    if task is None:
        raise ValueError("sweep needs a TASK or --data FILE")
    spec = SweepSpec(
        task=task,
        preset=args.preset,
        seeds=args.seeds,
        first_seed=args.first_seed,
        grid=tuple(parse_grid_flag(text) for text in args.grid),
        overrides=(*data, *(parse_assignment(text) for text in args.set)),
        budget=args.budget,
        max_iter=args.max_iter,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        scheduler=args.scheduler,
        trial_reports=not args.no_trial_reports,
    )
    name = task.rpartition(":")[2] if ":" in task else task
    out = Path(args.out or f"sweeps/{name}-{args.preset}")
    result = run_sweep(spec, out, address=args.address, num_cpus=args.cpus)
    return 0 if result.complete else 130
