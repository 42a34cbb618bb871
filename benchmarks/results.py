"""The tables of one task's results page (docs/results/TASK.md), in Markdown.

    python benchmarks/results.py reversed_copy --sweep sweeps/reversed_copy-fast --samples 500

prints, for TASK:

* the seed table of a sweep folder (``ntmkit sweep``): each seed's status, sequences and
  seconds to converge, and its errors on the generalisation test, then the medians;
* the shipped pretrained model's generalisation table (`ntmkit.pretrained.card`), bit errors
  per sequence scored on the output phase and on every step;
* where ntm-lasagne's model of the task is in ``../shared/fixtures/ntm-lasagne/`` (copy and
  reversed copy), a head-to-head table: that model imported and scored at the same lengths,
  both scopes, ``--samples`` sequences per point, on the task as it was trained (its own end
  marker), next to the shipped model's figures.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

from ntmkit import pretrained
from ntmkit.compat import lasagne
from ntmkit.run.evaluate import EVAL_SEED_OFFSET, METRIC_COLUMNS, Evaluation, sweep
from ntmkit.run.folder import read_run_config
from ntmkit.tasks import make_task

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "ntm-lasagne"
LASAGNE_FILES = {"copy": "copy.npy", "reversed_copy": "reversed-copy.npy"}
SCORES = (*METRIC_COLUMNS, "excess_bits")
"""The score keys of a final-test row; the others name its test point."""


MEASURE_WORDS = {
    "bit_errors": "errors",
    "symbol_errors": "errors",
    "excess_bits": "excess",
    "cost_bits": "cost",
    "mse": "mse",
}
"""How the seed table's columns name each task measure (`Task.measure`)."""


def seed_table(folder: Path) -> str:
    """One row per trial of the sweep in ``folder``, then the median row."""
    trials = sorted(
        (_with_final_test(path) for path in folder.glob("*/seed*/trial.json")),
        key=lambda trial: (trial["setting"], trial["seed"]),
    )
    if not trials:
        raise SystemExit(f"error: {folder} holds no ended trial (no */seed*/trial.json)")
    first = trials[0].get("generalisation") or []
    points = [_point(row) for row in first]
    measure = trials[0]["measure"]
    settings = sorted({t["setting"] for t in trials})
    named = len(settings) > 1  # a --grid sweep: each row names its setting
    header = ["setting"] * named + ["seed", "status", "sequences", "seconds"]
    header += [f"{MEASURE_WORDS[measure]} at {p}" for p in points]
    lines = [_row(header), _row(["---"] * len(header))]
    for trial in trials:
        scores = [f"{_measure(row, measure):.2f}" for row in trial.get("generalisation") or []]
        cells = [trial["setting"]] * named + [trial["seed"], trial["status"]]
        cells.append(f"{trial['sequences']:,}")
        lines.append(_row([*cells, f"{trial['seconds']:.0f}", *scores]))
    if named:  # one summary per setting
        lines.append("")
        for setting in settings:
            of_setting = [t for t in trials if t["setting"] == setting]
            lines.append(f"* {setting}: {_summary(of_setting, points, measure)}")
    else:
        lines.append(f"\n{_summary(trials, points, measure)}")
    return "\n".join(lines)


def _summary(trials: list[dict], points: list[str], measure: str) -> str:
    """Seeds solved, the median sequences and seconds of the solved, and every seed's median
    score at each test point."""
    solved = [t for t in trials if t["status"] == "converged"]
    text = f"{len(solved)}/{len(trials)} seeds solved"
    if solved:
        sequences = statistics.median(t["sequences"] for t in solved)
        seconds = statistics.median(t["seconds"] for t in solved)
        text += f"; median of the solved: {sequences:,.0f} sequences, {seconds:.0f} s"
    tested = [t["generalisation"] for t in trials if t.get("generalisation")]
    if tested:
        medians = [
            statistics.median(_measure(rows[i], measure) for rows in tested)
            for i in range(len(points))
        ]
        scores = ", ".join(f"{m:.2f} at {p}" for m, p in zip(medians, points))
        text += f"; median {MEASURE_WORDS[measure]} over all seeds: {scores}"
    return text


def _with_final_test(path: Path) -> dict:
    """A trial.json with its task's measure (``measure``) and, where the trial's eval.json
    holds its final test, that test's rows taken whole: a trial keeps only the bit errors (and
    n-grams' excess), and older n-grams trials not even that."""
    trial = json.loads(path.read_text())
    trial["measure"] = read_run_config(path.with_name("config.json")).measure
    final = path.with_name("eval.json")
    if final.is_file() and trial.get("generalisation"):
        trial["generalisation"] = json.loads(final.read_text())["rows"]
    return trial


def _measure(row: dict, measure: str) -> float:
    """A final-test row's score by the task's measure."""
    if measure in row:
        return row[measure]
    return getattr(Evaluation.from_row(row), measure)


def shipped_table(task: str) -> str:
    """The shipped model's generalisation rows: bit errors on both scopes, with the cost first
    where it is the task's measure (priority sort); n-grams: cost, optimum, excess."""
    card = pretrained.card(task)
    test = ", ".join(pretrained.test_point(card.generalisation[0]))  # the pinned keys
    measure = pretrained.run_config(task).measure
    if measure == "excess_bits":
        scores = ["cost (bits)", "optimal (bits)", "excess (bits)"]
    else:
        scores = ["cost (bits)"] * (measure == "cost_bits") + ["output phase", "every step"]
    lines = [_row([test, *scores, "samples"]), _row(["---"] * (len(scores) + 2))]
    for row in card.generalisation:
        out = Evaluation.from_row(row["output"])
        if measure == "excess_bits":
            cells = [out.cost_bits, out.optimal_bits, out.excess_bits]
        else:
            cells = [out.cost_bits] * (measure == "cost_bits")
            cells += [out.bit_errors, row["all"]["bit_errors"]]
        point = _point(pretrained.test_point(row))
        lines.append(_row([point, *(f"{cell:.3f}" for cell in cells), row["samples"]]))
    return f"seed {card.seed}, {card.sequences:,} sequences ({card.command})\n\n" + "\n".join(lines)


def head_to_head(task: str, samples: int) -> str:
    """ntm-lasagne's model against the shipped one at the shipped model's test points."""
    card = pretrained.card(task)
    path = FIXTURES / LASAGNE_FILES[task]
    model = lasagne.load(path, task=task)
    settings = lasagne.training_settings(task)
    header = ["length", "ntmkit, output", "ntm-lasagne, output", "ntmkit, every step"]
    lines = [_row([*header, "ntm-lasagne, every step"]), _row(["---"] * 5)]
    points = [pretrained.test_point(row) for row in card.generalisation]
    grid = {key: tuple(point[key] for point in points) for key in points[0]}
    scored = {  # a fresh task per scope: both score the same sequences
        scope: sweep(
            model, make_task(task, seed=2 * EVAL_SEED_OFFSET, **settings), grid, samples, scope
        )
        for scope in ("output", "all")
    }
    for row, theirs_out, theirs_all in zip(card.generalisation, scored["output"], scored["all"]):
        ours = [f"{row['output']['bit_errors']:.3f}", f"{row['all']['bit_errors']:.3f}"]
        theirs = [f"{theirs_out['bit_errors']:.3f}", f"{theirs_all['bit_errors']:.3f}"]
        point = _point(pretrained.test_point(row))
        lines.append(_row([point, ours[0], theirs[0], ours[1], theirs[1]]))
    return f"ntm-lasagne's {path.name}: {samples} sequences per point\n\n" + "\n".join(lines)


def _point(row: dict) -> str:
    return ", ".join(f"{value}" for key, value in row.items() if key not in SCORES)


def _row(cells: list) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task")
    parser.add_argument("--sweep", type=Path, help="a sweep folder of the task's recipe")
    parser.add_argument("--samples", type=int, default=500, help="sequences per point")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.sweep is not None:
        print(f"### Seeds ({args.sweep})\n\n{seed_table(args.sweep)}\n")
    if args.task in pretrained.available():
        print(f"### The shipped model\n\n{shipped_table(args.task)}\n")
    if args.task in LASAGNE_FILES and args.task in pretrained.available():
        print(f"### Against ntm-lasagne\n\n{head_to_head(args.task, args.samples)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
