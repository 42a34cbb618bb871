"""Generalisation: errors against the swept quantity of ``eval.json``, the training range shaded.

The paper's question for every task is whether what was learnt on short sequences (few items,
few repeats) still works on longer ones. ``eval.json`` holds one row per tested combination of
the swept quantities; this figure draws the mean bit errors per sequence and the fraction of
perfect sequences against the quantity with the most values, one line per value of a second
swept quantity (e.g. repeats at two lengths), with the values seen in training shaded.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..run import folder as runs
from ..run.config import RunConfig
from ..run.evaluate import headline
from ..run.folder import RunFolder
from ..run.log import StepRecord, of_kind, read_log
from .common import load_run_config, new_figure, save_figure

RANGE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "length": (
        ("min_length", "max_length"),
        ("min_item_length", "max_item_length"),  # associative recall: vectors per item
        ("num_inputs", "num_inputs"),  # priority sort reads a fixed number of vectors
    ),
    "items": (("min_items", "max_items"),),
    "repeats": (("min_repeats", "max_repeats"),),
}
"""For each swept quantity, the task fields that may hold its training range, tried in order."""

LOG_SCALE_ABOVE = 100.0
"""The bit-error axis turns logarithmic when the largest error is this many times the smallest
nonzero one; below that a linear axis from 0 reads more easily."""


def read_eval(run_folder: str | Path) -> dict[str, Any]:
    """The ``eval.json`` of a run folder; a ValueError saying how to make one if absent."""
    folder = RunFolder(Path(run_folder))
    if not folder.eval.is_file():
        raise ValueError(
            f"{folder.root} has no eval.json yet: run `ntmkit eval {folder.root}` "
            "(or let training finish) to sweep it"
        )
    result = runs.read_eval(folder.eval)
    if not result.get("rows"):
        raise ValueError(f"{folder.eval} holds no rows")
    return result


def training_range(
    run: RunConfig, quantity: str, run_folder: str | Path | None = None
) -> tuple[int, int] | None:
    """The smallest and largest ``quantity`` (length, items, repeats) seen in training.

    A length curriculum grows ``max_length`` during training; given the run folder, the largest
    value its log records counts as the top of the range. None if the task has no such range.
    """
    config = run.task_config
    for low, high in RANGE_FIELDS.get(quantity, ()):
        if hasattr(config, low) and hasattr(config, high):
            top = getattr(config, high)
            if run_folder is not None and high == "max_length":
                steps = of_kind(read_log(RunFolder(Path(run_folder)).metrics), StepRecord)
                top = max([top, *(r.max_length for r in steps if r.max_length is not None)])
            return getattr(config, low), top
    return None


def plotted_quantity(grid: dict[str, list[int]]) -> str:
    """The swept quantity drawn along x: the one with the most values (the first of a tie)."""
    return max(grid, key=lambda key: len(grid[key]))


def generalisation_figure(
    run_folders: Sequence[str | Path] | str | Path, labels: Sequence[str] | None = None
) -> Figure:
    """The error per sequence (wrong bits, wrong classes or mean squared error, by the task's
    output kind) and the perfect sequences against the swept value, for each run."""
    if isinstance(run_folders, (str, Path)):
        run_folders = [run_folders]
    if labels is not None and len(labels) != len(run_folders):
        raise ValueError(f"got {len(labels)} labels for {len(run_folders)} runs")
    results = [read_eval(folder) for folder in run_folders]
    quantities = {plotted_quantity(result["grid"]) for result in results}
    if len(quantities) > 1:
        raise ValueError(f"the runs sweep different quantities {sorted(quantities)}")
    quantity = quantities.pop()
    names = labels or [Path(folder).name for folder in run_folders]
    figure = new_figure(11.0, 4.0)
    errors_ax, perfect_ax = figure.subplots(1, 2)
    ranges, tasks, lines = [], set(), 0
    for folder, result, name in zip(run_folders, results, names):
        run = load_run_config(folder)
        tasks.add(run.task_label)
        ranges.append(training_range(run, quantity, folder))
        for note, rows in _lines(result, quantity):
            values = [row[quantity] for row in rows]
            label = f"{name}{note} (step {result.get('step', '?')})"
            style = {"marker": "o", "markersize": 4, "linewidth": 1.6, "color": f"C{lines % 10}"}
            field = headline(rows[0])
            errors_ax.plot(values, [row[field] for row in rows], label=label, **style)
            if rows[0].get("perfect") is not None:
                perfect_ax.plot(values, [row["perfect"] for row in rows], **style)
            lines += 1
    for ax in (errors_ax, perfect_ax):
        _shade_training_range(ax, ranges)
    _style(errors_ax, perfect_ax, quantity, results)
    figure.suptitle(f"Generalisation of {', '.join(sorted(tasks))}: {_note(results)}", fontsize=10)
    return figure


def save_generalisation(path: str | Path, run_folders, **options) -> Path:
    """`generalisation_figure` written to ``path`` (.png, .svg or .pdf)."""
    return save_figure(generalisation_figure(run_folders, **options), path)


def _lines(result: dict[str, Any], quantity: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The rows of one sweep as lines along ``quantity``: one per value of the other swept
    quantities, with a label note such as ", length=20"."""
    others = [key for key, values in result["grid"].items() if key != quantity and len(values) > 1]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in result["rows"]:
        groups.setdefault(tuple(row[key] for key in others), []).append(row)
    return [
        (
            "".join(f", {key}={value}" for key, value in zip(others, group)),
            sorted(rows, key=lambda row: row[quantity]),
        )
        for group, rows in sorted(groups.items())
    ]


def _shade_training_range(ax: Axes, ranges: list[tuple[int, int] | None]) -> None:
    known = [r for r in ranges if r is not None]
    if not known:
        return
    low, high = min(r[0] for r in known), max(r[1] for r in known)
    pad = 0.5 if low == high else 0.0  # a single value still gets a visible band
    ax.axvspan(low - pad, high + pad, color="0.85", zorder=0, label=f"training ({low}–{high})")


ERROR_TITLES = {
    "bit_errors": ("Bit errors per sequence", "mean wrong bits per sequence"),
    "symbol_errors": ("Wrong classes per sequence", "mean wrong classes per sequence"),
    "mse": ("Mean squared error", "squared error per value"),
}
"""The error panel's title and axis label for each kind of error a sweep row holds."""


def _style(errors_ax: Axes, perfect_ax: Axes, quantity: str, results) -> None:
    field = headline(results[0]["rows"][0])
    errors = np.array([row[field] for result in results for row in result["rows"]])
    nonzero = errors[errors > 0]
    if nonzero.size and errors.max() / nonzero.min() > LOG_SCALE_ABOVE:
        errors_ax.set_yscale("symlog", linthresh=max(nonzero.min(), 1e-3), linscale=0.3)
    errors_ax.set_ylim(bottom=0)
    title, label = ERROR_TITLES[field]
    errors_ax.set_title(title, loc="left", fontsize=10)
    errors_ax.set_ylabel(label)
    perfect_ax.set_title("Perfect sequences", loc="left", fontsize=10)
    perfect_ax.set_ylabel("sequences with nothing wrong")
    perfect_ax.set_ylim(-0.03, 1.03)
    perfect_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    for ax in (errors_ax, perfect_ax):
        ax.set_xlabel(f"{quantity} (swept)")
        ax.grid(alpha=0.3)
    errors_ax.legend(fontsize=8, frameon=False)


def _note(results) -> str:
    samples = sorted({row["samples"] for result in results for row in result["rows"]})
    scope = {result.get("scope", "output") for result in results}
    names = {"output": "output phase", "all": "every step"}
    scored = " / ".join(names.get(name, name) for name in sorted(scope))
    return f"{', '.join(map(str, samples))} sequences per point, {scored} scored"
