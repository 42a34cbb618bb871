"""A sweep's learning curves: each task's measure (`Task.measure`) at evaluation against
sequences seen, per setting: bit errors per sequence, for dynamic n-grams the cost above the
optimal predictor, for priority sort the cost.

Each seed's evaluations are drawn faintly; over them, the median of the seeds and their
interquartile band. A seed that has stopped (converged, or stopped early) keeps its last
value from then on, so the median at the right end says how the seeds ended rather than
how the slowest one is doing.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from .common import evaluation_records, load_run_config, new_figure, save_figure
from .curves import BIT_ERRORS_LINEAR_BELOW

SWEEP_CURVES = "sweep_curves.png"


EXCESS_LABEL = "evaluation bits/seq above the optimum"
ERRORS_LABEL = "evaluation bit errors per sequence"
COST_LABEL = "evaluation cost per sequence (bits)"
LABELS = {
    "bit_errors": ERRORS_LABEL,
    "excess_bits": EXCESS_LABEL,
    "cost_bits": COST_LABEL,
    "symbol_errors": "evaluation wrong classes per sequence",
    "mse": "evaluation mean squared error",
}
"""The y axis of each task measure (`Task.measure`)."""


def seed_curve(run_folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(sequences, the task's measure) of a run's evaluations; empty arrays before the first."""
    records = evaluation_records(run_folder) if Path(run_folder).exists() else []
    measure = _measure_name(run_folder, records)
    return (
        np.array([r.sequences for r in records], dtype=float),
        np.array([getattr(r.eval, measure) for r in records], dtype=float),
    )


def _measure_name(run_folder: str | Path, records) -> str:
    """The run's task measure from its config.json; a log without one (a trial that has not
    written it yet) is read as the excess where it carries an optimum, else bit errors."""
    config = Path(run_folder) / "config.json"
    if config.is_file():
        return load_run_config(run_folder).measure
    excess = records and records[0].eval.optimal_bits is not None
    return "excess_bits" if excess else "bit_errors"


def _label(run_folder: str | Path) -> str:
    records = evaluation_records(run_folder) if Path(run_folder).exists() else []
    return LABELS[_measure_name(run_folder, records)]


def carried_forward(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y at each grid point: the last value at or before it (NaN before the first)."""
    index = np.searchsorted(x, grid, side="right") - 1
    return np.where(index >= 0, y[np.clip(index, 0, None)], np.nan)


def sweep_curves_figure(settings: Mapping[str, Sequence[str | Path]]) -> Figure:
    """One panel per setting (name -> its seeds' run folders), sharing the axes."""
    count = max(len(settings), 1)
    columns = min(count, 3)
    rows = -(-count // columns)
    figure = new_figure(4.2 * columns, 3.3 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True)).ravel()
    for ax, (name, folders) in zip(axes, settings.items()):
        _draw_setting(ax, name, [seed_curve(folder) for folder in folders])
        if folders:
            ax.set_ylabel(_label(folders[0]))
    for ax in axes[len(settings) :]:
        ax.set_visible(False)
    return figure


def save_sweep_curves(path: str | Path, settings: Mapping[str, Sequence[str | Path]]) -> Path:
    return save_figure(sweep_curves_figure(settings), path)


def _draw_setting(ax, name: str, curves: list[tuple[np.ndarray, np.ndarray]]) -> None:
    curves = [(x, y) for x, y in curves if x.size]
    for x, y in curves:
        ax.plot(x, y, color="C0", alpha=0.25, linewidth=0.8)
    if curves:
        grid = np.unique(np.concatenate([x for x, _ in curves]))
        values = np.array([carried_forward(grid, x, y) for x, y in curves])
        started = ~np.isnan(values).all(axis=0)
        q1, median, q3 = np.nanpercentile(values[:, started], [25, 50, 75], axis=0)
        ax.fill_between(
            grid[started], q1, q3, color="C0", alpha=0.2, linewidth=0, label="interquartile range"
        )
        ax.plot(
            grid[started],
            median,
            color="black",
            linewidth=1.8,
            label=f"median of {len(curves)} seeds",
        )
        ax.legend(fontsize=7, frameon=False, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no evaluation yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(name, loc="left", fontsize=8)
    ax.set_yscale("symlog", linthresh=BIT_ERRORS_LINEAR_BELOW, linscale=0.3)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.set_xlabel("sequences seen")
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.grid(alpha=0.3)
