"""The commands on a trained run: ``eval``, ``plot``, ``animate``, ``report``; the shipped
models (``pretrained``, and ``--pretrained TASK`` in place of a run folder); and
``import-lasagne``, which makes a run folder of an ntm-lasagne model; ``export``, which writes a
run's model as a shareable folder (``config.json`` and ``model.safetensors``)."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..presets.lasagne import SHIPPED_TASKS
from ..run.evaluate import (
    EVAL_SEED_OFFSET,
    SWEEP_FLAGS,
    format_table,
    sweep,
)
from ..run.folder import RunFolder, load_run, write_eval
from ..validation import check_int, check_size
from ..vocabulary import Scope, names
from .flags import parse_int_list


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    _add_eval_parser(sub, common)
    _add_picture_parsers(sub, common)
    sub.add_parser(
        "pretrained", help="list the pretrained models shipped in the package"
    ).set_defaults(run_command=pretrained_command)
    importer = sub.add_parser("import-lasagne", help="convert an ntm-lasagne model to a run folder")
    importer.add_argument("model", help="an ntm-lasagne .npy model file")
    importer.add_argument("--task", required=True, choices=SHIPPED_TASKS, metavar="TASK")
    importer.add_argument("--out", required=True, help="run folder to write")
    importer.set_defaults(run_command=import_lasagne_command)
    exporter = sub.add_parser(
        "export",
        help="write a run's model as config.json and model.safetensors, for "
        "NTM.from_pretrained or the Hugging Face Hub",
    )
    exporter.add_argument("run", help="the run folder (or checkpoint file)")
    exporter.add_argument("out", help="the folder to write; must not exist or be empty")
    exporter.set_defaults(run_command=export_command)


def eval_command(args: argparse.Namespace) -> int:
    check_int("--samples", args.samples, low=1)
    grid: dict[str, Sequence[int]] = {
        name: parse_int_list(getattr(args, flag), f"--{flag}")
        for flag, name in SWEEP_FLAGS.items()
        if getattr(args, flag) is not None
    }
    for text in args.at:
        name, values = parse_grid_point(text)
        grid[name] = values
    run, model, payload = load_run(args.run, device=args.device)
    grid = grid or dict(run.task_class.generalisation)
    seed = args.seed if args.seed is not None else run.train.seed + 2 * EVAL_SEED_OFFSET
    rows = sweep(model, run.make_task(seed=seed), grid, args.samples, scope=args.scope)
    print(
        f"{run.task_label} at step {payload['step']} ({args.samples} samples per row, "
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


def plot_command(args: argparse.Namespace) -> int:
    from ..plots import write_dashboard, write_run_figures

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


def animate_command(args: argparse.Namespace) -> int:
    from ..plots import write_animation

    _check_view_flags(args)
    print(f"wrote {write_animation(args.run, args.out, args.length)}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    from ..plots import write_report

    print(f"wrote {write_report(args.run)}")
    return 0


def pretrained_command(args: argparse.Namespace) -> int:
    from ..pretrained import available, card, run_config, score_line, test_point

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


def import_lasagne_command(args: argparse.Namespace) -> int:
    from ..compat.importer import import_lasagne_run

    out = import_lasagne_run(args.model, args.task, args.out)
    print(f"wrote run folder {out}; try: ntmkit eval {out} --scope all")
    return 0


def export_command(args: argparse.Namespace) -> int:
    """The run's model in the shipped models' layout: ``model.safetensors`` (weights, model
    config and counts) beside the run's ``config.json``, so ``NTM.from_pretrained`` loads it
    and ``ntmkit eval`` (which needs the task) takes it as a run."""
    from ..pretrained.ship import write_shipped

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty folder: pick a new one")
    run, model, payload = load_run(args.run)
    write_shipped(out, run, model, payload)
    print(f"wrote {out}: load it with NTM.from_pretrained({str(out)!r}), or ntmkit eval {out}")
    return 0


def parse_grid_point(text: str) -> tuple[str, list[int]]:
    """``pairs=5,10`` -> ("pairs", [5, 10]) for ``--at``."""
    name, _, values = text.partition("=")
    if not name or not values:
        raise ValueError(f"--at expects NAME=V1,V2 like pairs=5,10, got {text!r}")
    return name.strip(), parse_int_list(values, f"--at {name.strip()}")


def draw_run_pictures(out: Path) -> None:
    """The run's figures, where matplotlib is installed (``ntmkit train`` ends with them)."""
    try:
        from ..plots import write_run_figures
    except ImportError:
        return
    for path in write_run_figures(out):
        print(f"wrote {path}")


def resolve_run(args: argparse.Namespace) -> None:
    """Turn ``--pretrained TASK`` into a run folder; refuse a command with neither."""
    if getattr(args, "pretrained", None) is not None:
        from ..pretrained import materialize

        folder = args.run or f"runs/pretrained-{args.pretrained}"
        args.run = str(materialize(args.pretrained, folder))
    elif hasattr(args, "pretrained") and args.run is None:
        raise ValueError("give a RUN folder, or --pretrained TASK")


def _check_view_flags(args: argparse.Namespace) -> None:
    """The flags of plot and animate that pick what to draw, named as typed."""
    if args.length is not None:
        check_size("--length", args.length)
    if getattr(args, "index", None) is not None:
        check_int("--index", args.index, low=0)
    if getattr(args, "head", None) is not None:
        check_int("--head", args.head, low=0)


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
    evaluate.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="any pinnable episode parameter of the task and its values, e.g. pairs=5,10 for "
        "a task of your own (--lengths, --items and --repeats are the built-in tasks' names)",
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
    evaluate.set_defaults(run_command=eval_command)


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
    plot.set_defaults(run_command=plot_command)

    animate = sub.add_parser(
        "animate", parents=[common], help="a GIF of memory and weightings, step by step"
    )
    _add_run_argument(animate, "run folder")
    animate.add_argument("--length", type=int, help="payload length (default: longest trained)")
    animate.add_argument("--out", help="GIF file (default RUN/animation.gif)")
    animate.set_defaults(run_command=animate_command)

    report = sub.add_parser(
        "report", parents=[common], help="write RUN/report.html with the config, metrics, figures"
    )
    _add_run_argument(report, "run folder")
    report.set_defaults(run_command=report_command)


def _add_run_argument(parser, what: str) -> None:
    """RUN, or --pretrained TASK (then RUN, default runs/pretrained-TASK, receives its files)."""
    parser.add_argument("run", nargs="?", metavar="RUN", help=what)
    parser.add_argument(
        "--pretrained",
        metavar="TASK",
        help="the package's pretrained model of TASK (`ntmkit pretrained` lists them), "
        "written out as the run folder RUN (default runs/pretrained-TASK)",
    )
