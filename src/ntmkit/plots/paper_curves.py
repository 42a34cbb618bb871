"""A run's learning curve next to the paper's (Graves et al. 2014, Figures 3, 7, 10, 13, 18).

The paper plots, for each of its five tasks, the cost per sequence in bits against the number
of training sequences (in thousands) of an LSTM, an NTM with an LSTM controller and an NTM
with a feedforward controller. Those curves ship in ``paper_curves.json``, read from the
figures' vector drawing by ``benchmarks/paper_figures.py``: numbers from a published figure,
labelled as such on the plot. A run is drawn by its evaluations' cost (`Evaluation.cost_bits`,
the fixed evaluation set of the training distribution), on the paper's axes.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .common import evaluation_records, load_run_config, new_figure, save_figure

SOURCE = "Graves et al. 2014"
PAPER_STYLE = {  # the paper's colours and markers, drawn thinner and dashed
    "LSTM": ("#1c4599", "o"),
    "NTM with LSTM controller": ("#12ad33", "s"),
    "NTM with feedforward controller": ("#e62b17", "^"),
    "Optimal estimator": ("#e69e17", None),
}


ABOVE_LAST = 1.1
"""The cost axis is the paper's, raised where needed to 1.1 times a run's last mean per bin,
so that a run that ends above the paper's axis is still drawn (its start may be cut off, as
the paper's own curves are)."""


BIN_THOUSANDS = 10.0
"""A run's evaluations are averaged in bins of 10,000 sequences, the spacing of the paper's
markers, so that a curve of noisy single evaluations reads like the paper's; a run shorter
than `MIN_BINS` such bins gets narrower ones."""

MIN_BINS = 20
"""The fewest bins a run's evaluations are averaged in: a copy run that converges within
10,000 sequences still shows its fall."""


@dataclass(frozen=True)
class PaperFigure:
    """One of the paper's learning-curve figures.

    Attributes:
      task: the ntmkit task it shows.
      number: its figure number in arXiv:1410.5401v2.
      x_range, y_range: its axes, thousands of sequences and bits per sequence.
      series: legend name -> `[K, 2]` points, thousands of sequences and cost in bits.
    """

    task: str
    number: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    series: dict[str, np.ndarray]


@cache
def _data() -> dict:
    return json.loads(resources.files(__package__).joinpath("paper_curves.json").read_text())


def paper_figure(task: str) -> PaperFigure | None:
    """The paper's learning curves of ``task``; None for a task the paper does not have."""
    entry = _data()["tasks"].get(task)
    if entry is None:
        return None
    return PaperFigure(
        task=task,
        number=entry["figure"],
        x_range=tuple(entry["axes"]["x"]),
        y_range=tuple(entry["axes"]["y"]),
        series={name: np.array(points, dtype=float) for name, points in entry["series"].items()},
    )


def paper_comparison_figure(
    run_folders: Sequence[str | Path] | str | Path, labels: Sequence[str] | None = None
) -> Figure:
    """The paper's curves of the runs' task and each run's evaluation cost, on the paper's axes.

    Args:
      run_folders: one run folder or several of the same task (seeds of a recipe, say).
      labels: one legend entry per run; the folder names when None.

    Raises ValueError if the runs' tasks differ, the paper has no figure of their task, or a
    run has no evaluation yet.
    """
    if isinstance(run_folders, (str, Path)):
        run_folders = [run_folders]
    if labels is not None and len(labels) != len(run_folders):
        raise ValueError(f"got {len(labels)} labels for {len(run_folders)} runs")
    paper = _paper_figure_of(run_folders)
    figure = new_figure(6.4, 4.2)
    ax = figure.subplots()
    _draw_paper(ax, paper)
    (bottom, top), right = paper.y_range, paper.x_range[1]
    for index, folder in enumerate(run_folders):
        label = labels[index] if labels else Path(folder).name
        color = "black" if len(run_folders) == 1 else f"C{index % 10}"
        last, end, optimal = _draw_run(ax, folder, label, color)
        right, top = max(right, end), max(top, ABOVE_LAST * last)
        bottom = bottom if optimal is None else min(bottom, optimal - 1.0)
    ax.set_xlim(0, right)
    ax.set_ylim(bottom, top)
    ax.set_xlabel("sequences seen (thousands)")
    ax.set_ylabel("cost per sequence (bits)")
    ax.set_title(
        f"{paper.task}: this run and {SOURCE}, Figure {paper.number} (read from the figure)",
        loc="left",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return figure


def _paper_figure_of(run_folders: Sequence[str | Path]) -> PaperFigure:
    """The paper's figure of the runs' one task; a `ValueError` if their tasks differ or the
    paper has no figure of it."""
    tasks = {load_run_config(folder).task for folder in run_folders}
    if len(tasks) != 1:
        raise ValueError(f"the runs are of different tasks ({', '.join(sorted(tasks))})")
    (task,) = tasks
    paper = paper_figure(task)
    if paper is None:
        raise ValueError(f"the paper has no learning curve of {task}")
    return paper


def _draw_paper(ax: Axes, paper: PaperFigure) -> None:
    """The paper's curves, dashed, each in its series' style."""
    for name, points in paper.series.items():
        color, marker = PAPER_STYLE.get(name, ("0.5", None))
        ax.plot(
            points[:, 0],
            points[:, 1],
            linestyle="--",
            linewidth=1.0,
            color=color,
            marker=marker,
            markersize=2.5,
            alpha=0.8,
            label=f"{SOURCE}: {name}",
        )


def _draw_run(ax: Axes, folder, label: str, color: str) -> tuple[float, float, float | None]:
    """One run's evaluations, faint, and their means per bin, bold (with the optimal
    predictor's cost where the task has one); returns the last mean, the last sequence count
    in thousands and that optimal cost."""
    records = evaluation_records(folder)
    if not records:
        raise ValueError(f"{folder} has no evaluation yet: nothing to draw")
    thousands = np.array([r.sequences for r in records], dtype=float) / 1000
    cost = np.array([r.eval.cost_bits for r in records], dtype=float)
    ax.plot(thousands, cost, color=color, linewidth=0.6, alpha=0.25)
    width = min(BIN_THOUSANDS, float(thousands[-1]) / MIN_BINS) or BIN_THOUSANDS
    centres, means = binned_means(thousands, cost, width)
    ax.plot(
        centres,
        means,
        color=color,
        linewidth=1.8,
        marker="o",
        markersize=2.5,
        label=f"{label} (evaluations, mean per {width:.3g}k)",
    )
    optimal = records[-1].eval.optimal_bits
    if optimal is not None:
        ax.axhline(
            optimal,
            color=color,
            linestyle=":",
            linewidth=1.0,
            label=f"{label}: optimal predictor of its evaluation set",
        )
    return float(means[-1]), float(thousands[-1]), optimal


def binned_means(x: np.ndarray, y: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The mean of ``y`` in each bin ``[k * width, (k + 1) * width)`` of ``x`` that holds a
    point, at the mean ``x`` of its points; both `[K]`."""
    bins = np.floor(x / width)
    keys, inverse = np.unique(bins, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(keys))
    return (
        np.bincount(inverse, weights=x, minlength=len(keys)) / counts,
        np.bincount(inverse, weights=y, minlength=len(keys)) / counts,
    )


def save_paper_comparison(path: str | Path, run_folders, **options) -> Path:
    """`paper_comparison_figure` written to ``path`` (.png, .svg or .pdf)."""
    return save_figure(paper_comparison_figure(run_folders, **options), path)
