"""Learning curves from ``metrics.jsonl``: loss and bit errors against sequences seen.

Per-step values are noisy, so each run is drawn twice: faintly as logged and boldly as a
trailing mean. Evaluations on the fixed evaluation set are marked on the bit-error panel, and
fresh starts (``train.restart``) as dotted vertical lines. With several runs (seeds of one
recipe, say) their median trailing mean is drawn in black.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, NullFormatter

from ..run.evaluate import Evaluation
from ..run.folder import RunFolder
from ..run.log import EvaluationRecord, RestartRecord, StepRecord, of_kind, read_log
from ..vocabulary import OutputKind
from .common import load_run_config, new_figure, save_figure

BIT_ERRORS_LINEAR_BELOW = 0.01
"""The bit-error axis is logarithmic above this value and linear below, so that the zeros of a
converged run stay on the plot."""

MEDIAN_POINTS = 200
"""Sequence counts at which several runs' trailing means are interpolated for their median."""


@dataclass(frozen=True)
class Curves:
    """One run's log as arrays: training steps and evaluations, against sequences seen."""

    label: str
    sequences: np.ndarray
    loss: np.ndarray
    bit_errors: np.ndarray  # the logged error: wrong bits, wrong classes or mse (`errors`)
    eval_sequences: np.ndarray
    eval_bit_errors: np.ndarray
    restart_sequences: np.ndarray  # where `train.restart` began a fresh attempt
    kind: OutputKind = "bits"  # the task's output kind, which names the axes


AXIS_LABELS = {
    "bits": (
        "binary cross-entropy (nats per bit)",
        "Bit errors per sequence",
        "wrong bits per sequence",
    ),
    "categorical": (
        "cross-entropy (nats per step)",
        "Wrong classes per sequence",
        "wrong classes per sequence",
    ),
    "real": ("squared error per value", "Mean squared error", "squared error per value"),
}
"""The loss axis label, the error panel's title and its axis label, by output kind."""


def read_curves(run_folder: str | Path, label: str | None = None) -> Curves:
    """The curves of one run folder; a ValueError if it has not logged a training step."""
    folder = RunFolder(Path(run_folder))
    records = read_log(folder.metrics)
    steps = of_kind(records, StepRecord)
    if not steps:
        raise ValueError(f"{folder.root} has no training records yet (metrics.jsonl is empty)")
    evals = of_kind(records, EvaluationRecord)

    def column(rows, get) -> np.ndarray:
        return np.array([get(r) for r in rows], dtype=float)

    return Curves(
        kind=load_run_config(folder.root).output_kind,
        label=label or folder.root.name,
        sequences=column(steps, lambda r: r.sequences),
        loss=column(steps, lambda r: r.loss),
        bit_errors=column(steps, lambda r: r.errors),
        eval_sequences=column(evals, lambda r: r.sequences),
        eval_bit_errors=column(evals, lambda r: _error_of(r.eval)),
        restart_sequences=column(of_kind(records, RestartRecord), lambda r: r.sequences),
    )


def _error_of(evaluation: Evaluation) -> float:
    """The evaluation's error of the kind the training steps log (bits, classes or mse)."""
    return next(
        float(v)
        for v in (evaluation.bit_errors, evaluation.symbol_errors, evaluation.mse)
        if v is not None
    )


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values; the first values average what exists so far."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    end = np.arange(1, len(values) + 1)
    start = np.maximum(0, end - window)
    return (total[end] - total[start]) / (end - start)


def default_window(steps: int) -> int:
    """A trailing-mean window of about 1/40 of the run: smooth, yet still shows plateaus."""
    return int(np.clip(steps // 40, 1, 500))


def learning_curves_figure(
    run_folders: Sequence[str | Path] | str | Path,
    labels: Sequence[str] | None = None,
    window: int | None = None,
) -> Figure:
    """Loss and bit errors per sequence of one or more runs, against sequences seen.

    Args:
      run_folders: a run folder or a list of them, drawn on the same axes.
      labels: one legend entry per run; the folder names when None.
      window: trailing-mean window in steps; `default_window` of each run when None.
    """
    if isinstance(run_folders, (str, Path)):
        run_folders = [run_folders]
    if labels is not None and len(labels) != len(run_folders):
        raise ValueError(f"got {len(labels)} labels for {len(run_folders)} runs")
    names = labels or _distinct_names(run_folders)
    runs = [read_curves(folder, name) for folder, name in zip(run_folders, names)]
    figure = new_figure(11.0, 4.2)
    loss_ax, errors_ax = figure.subplots(1, 2)
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for run, color in zip(runs, colors):
        size = window or default_window(len(run.loss))
        _draw(loss_ax, run.sequences, run.loss, size, color, run.label)
        _draw(errors_ax, run.sequences, run.bit_errors, size, color, run.label)
        if run.eval_sequences.size:
            errors_ax.plot(
                run.eval_sequences,
                run.eval_bit_errors,
                "o",
                color=color,
                markersize=4,
                markeredgecolor="white",
                markeredgewidth=0.6,
                zorder=3,
            )
        for ax in (loss_ax, errors_ax):
            for x in run.restart_sequences:
                ax.axvline(x, color=color, linestyle=":", linewidth=1.2)
    if len(runs) > 1:
        _draw_median(loss_ax, runs, "loss", window)
        _draw_median(errors_ax, runs, "bit_errors", window)
    _style(
        loss_ax,
        errors_ax,
        runs[0].kind,
        has_evals=any(run.eval_sequences.size for run in runs),
        has_restarts=any(run.restart_sequences.size for run in runs),
    )
    return figure


def save_learning_curves(path: str | Path, run_folders, **options) -> Path:
    """`learning_curves_figure` written to ``path`` (.png, .svg or .pdf)."""
    return save_figure(learning_curves_figure(run_folders, **options), path)


def _draw(ax: Axes, x, values, window: int, color: str, label: str) -> None:
    ax.plot(x, values, color=color, alpha=0.12, linewidth=0.5)
    ax.plot(x, rolling_mean(values, window), color=color, linewidth=1.8, label=label)


def _draw_median(ax: Axes, runs: list[Curves], field: str, window: int | None) -> None:
    end = min(run.sequences[-1] for run in runs)
    start = max(run.sequences[0] for run in runs)
    grid = np.linspace(start, end, MEDIAN_POINTS)
    smooth = [
        np.interp(
            grid,
            run.sequences,
            rolling_mean(getattr(run, field), window or default_window(len(run.loss))),
        )
        for run in runs
    ]
    ax.plot(
        grid,
        np.median(smooth, axis=0),
        color="black",
        linewidth=2.2,
        label=f"median of {len(runs)} runs",
    )


def _style(
    loss_ax: Axes, errors_ax: Axes, kind: OutputKind, has_evals: bool, has_restarts: bool
) -> None:
    loss_label, errors_title, errors_label = AXIS_LABELS[kind]
    loss_ax.set_yscale("log")
    loss_ax.yaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks crowd the axis
    errors_ax.set_yscale("symlog", linthresh=BIT_ERRORS_LINEAR_BELOW, linscale=0.3)
    errors_ax.set_ylim(bottom=0)
    loss_ax.set_title("Training loss", loc="left", fontsize=10)
    loss_ax.set_ylabel(loss_label)
    errors_ax.set_title(errors_title, loc="left", fontsize=10)
    errors_ax.set_ylabel(errors_label)
    for ax in (loss_ax, errors_ax):
        ax.set_xlabel("sequences seen")
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.grid(alpha=0.3, which="major")
        ax.set_xlim(left=0)
    handles, labels = errors_ax.get_legend_handles_labels()
    if has_evals:
        (marker,) = errors_ax.plot([], [], "o", color="0.4", markersize=4)
        handles, labels = [*handles, marker], [*labels, "evaluation"]
    if has_restarts:
        (line,) = errors_ax.plot([], [], ":", color="0.4")
        handles, labels = [*handles, line], [*labels, "fresh start (train.restart)"]
    errors_ax.legend(handles, labels, fontsize=8, frameon=False)


def _distinct_names(run_folders) -> list[str]:
    """Folder names, or parent/name where two runs share a name."""
    paths = [Path(folder).resolve() for folder in run_folders]
    names = [path.name for path in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{path.parent.name}/{path.name}" for path in paths]
