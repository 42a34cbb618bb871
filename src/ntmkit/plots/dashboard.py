"""The dashboard: one sequence through a trained NTM, every internal on a shared time axis.

Panels, top to bottom (time runs left to right on every one):

    Input            channels x time        what the model reads
    Target           channels x time        what it should emit (scored on the output phase)
    Prediction       channels x time        sigmoid of the model's logits
    Write weighting  slots x time, per head where each write head puts its weight
    Read weighting   slots x time, per head where each read head reads from
    [details]        erase/add vectors, shift distributions, gate and gamma per step

and, right of the last weighting, the memory after the last step (slots x word), on that
weighting's slot axis. In a large memory each weighting panel shows the slots its own head
visits (`SampleTrace.used_slots`), so heads that work far apart are each drawn in full.
Dashed vertical lines mark the task's notable steps (`Task.markers`: the delimiter of copy,
the repeat count of repeat copy, the query of associative recall).

A model with the DNC's memory (``NTMConfig.memory="dnc"``) has no shift, gate or gamma; after
its weightings come its own internals (Graves et al. 2016, Methods), before any details:

    Usage            slots x time           how used each slot is after each step
    Allocation       slots x time           where an allocating write would go at each step
    Gates            lines                  write and allocation gates, a free gate per read head
    Read modes       lines, per read head   backward, content and forward weights of the read
    [details]        erase/add vectors

with the link matrix after the last step (slots x slots) right of the allocation. Usage,
allocation and the link matrix show the slots some head uses (`SampleTrace.used_slots()`).

Heads are numbered as in `HeadParams`: write heads first, then read heads.
"""

from pathlib import Path
from typing import TypedDict

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..model import NTM
from ..tasks import Batch, Task
from .common import (
    BITS_CMAP,
    MEMORY_CMAP,
    SLOT_THRESHOLD,
    WEIGHTS_CMAP,
    SampleTrace,
    draw_sample,
    new_figure,
    save_figure,
    trace_sample,
)


class LineStyle(TypedDict):
    """Keyword arguments of `Axes.axvline` that style a marker line."""

    color: str
    linestyle: str
    linewidth: float
    alpha: float


MARKER_STYLE: LineStyle = {"color": "white", "linestyle": "--", "linewidth": 1.0, "alpha": 0.85}
MARKER_LABEL_STEPS = 0.12
"""Marker labels closer than this fraction of the sequence are stacked, not overlapped."""


def dashboard_figure(
    model: NTM,
    task: Task,
    batch: Batch | None = None,
    index: int = 0,
    length: int | None = None,
    head: int | None = None,
    details: bool = False,
    title: str | None = None,
) -> Figure:
    """The dashboard of sequence ``index`` of ``batch`` (a fresh sample if None).

    Args:
      model: the NTM; it is run on the one sequence alone, in eval mode, without gradients.
      task: the task the sequence comes from (for its markers).
      batch: episodes to take the sequence from; None draws one from ``task``.
      index: which sequence of ``batch``.
      length: payload length of the fresh sample when ``batch`` is None.
      head: show this head only (write heads first, then read heads); None shows all.
      details: add the erase and add vectors, shift distributions, gates and gammas.
      title: what the figure title says before the sample's length and bit errors; None
        names the task.
    """
    sample = trace_sample(model, task, draw_sample(task, batch, length), index)
    heading = f"{title or type(task).name}: {sample.steps} steps, {sample.errors_text()}"
    return sample_figure(sample, head=head, details=details, title=heading)


def save_dashboard(path: str | Path, model: NTM, task: Task, **options) -> Path:
    """`dashboard_figure` written to ``path`` (.png, .svg or .pdf)."""
    return save_figure(dashboard_figure(model, task, **options), path)


def sample_figure(
    sample: SampleTrace, head: int | None = None, details: bool = False, title: str = ""
) -> Figure:
    """The dashboard of an already traced sequence (see `dashboard_figure`)."""
    heads = _chosen_heads(sample, head)
    num_write = sample.write_weights.shape[1]
    slots = {h: sample.used_slots(h) for h in heads}
    panels = _panels(sample, heads, num_write, slots, details)
    heights = [_panel_height(rows) for _, _, rows in panels]
    width = float(np.clip(6.0 + 0.09 * sample.steps, 9.0, 15.0))
    figure = new_figure(width, sum(heights) + 1.0)
    # The DNC's link matrix needs a wider right column than the memory alone.
    ratios = [5, 1.5] if sample.is_dnc else [5, 1]
    grid = figure.add_gridspec(len(panels), 2, height_ratios=heights, width_ratios=ratios)
    axes = [figure.add_subplot(grid[0, 0])]
    axes += [figure.add_subplot(grid[i, 0], sharex=axes[0]) for i in range(1, len(panels))]
    _add_colorbars(figure, _draw_panels(axes, panels))
    axes[-1].tick_params(labelbottom=True)
    axes[-1].set_xlabel("time step")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    _mark_steps(axes, sample.markers)
    # Beside the last weighting, so that the memory's x label sits where no panel follows.
    weights_row = max(i for i, (name, _, _) in enumerate(panels) if name == "weighting")
    memory_ax = _memory_panel(
        figure, grid[weights_row, 1], axes[weights_row], sample, slots[heads[-1]]
    )
    if weights_row < len(panels) - 1:
        # Its word-element axis may hang into the empty cell below instead of opening a gap
        # between the weighting and the detail panels.
        memory_ax.xaxis.set_in_layout(False)
    if sample.link is not None:
        # Beside the allocation: the cell beside the usage takes the memory's hanging axis.
        row = next(i for i, (name, _, _) in enumerate(panels) if name == "allocation")
        link_ax = _link_panel(figure, grid[row, 1], sample.link[-1], sample.used_slots())
        # Its slot axis may hang into the cell below, as the memory's does.
        link_ax.xaxis.set_in_layout(False)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


# ---- panels ----------------------------------------------------------------------------------
# Each panel is (colour group, draw(ax) -> image or None, rows); neighbouring panels of one colour
# group share one colour bar.


def _panels(sample: SampleTrace, heads: list[int], num_write: int, slots, details: bool):
    """The panels to draw; ``slots`` maps each head to the slots its panel shows."""
    channels_in, channels_out = sample.inputs.shape[1], sample.targets.shape[1]
    weights = sample.weights()  # (T, H, N)
    panels = [("bits", _image_drawer("Input", sample.inputs.T, "channel"), channels_in)]
    panels += _output_panels(sample, channels_out)
    for h in heads:
        kind = "Write" if h < num_write else "Read"
        name = f"{kind} weighting, head {h}"
        drawer = _image_drawer(
            name,
            weights[:, h, slots[h]].T,
            "slot",
            slots[h],
            WEIGHTS_CMAP,
            note=_crop_note(slots[h], sample.memory.shape[1]),
        )
        panels.append(("weighting", drawer, len(slots[h])))
    panels += _dnc_panels(sample, heads, num_write)
    if details:
        panels += _detail_panels(sample, heads, num_write)
    return panels


READ_MODES = ("backward", "content", "forward")
"""The read modes in the order of `DNCInterface.read_modes`."""


def _dnc_panels(sample: SampleTrace, heads: list[int], num_write: int):
    """Usage, allocation weighting, gates and read modes of the DNC's memory; none for the NTM.

    Read modes are drawn for the read heads among ``heads``; the gates and the memory-wide
    usage and allocation always.
    """
    usage, allocation = sample.usage, sample.allocation
    write_gate, allocation_gate = sample.write_gate, sample.allocation_gate
    free_gates, read_modes = sample.free_gates, sample.read_modes
    if (
        usage is None
        or allocation is None
        or write_gate is None
        or allocation_gate is None
        or free_gates is None
        or read_modes is None
    ):
        return []  # the NTM
    slots = sample.used_slots()
    note = _crop_note(slots, sample.memory.shape[1], "some head")
    usage_image = _image_drawer(
        "Usage u", usage[:, slots].T, "slot", slots, WEIGHTS_CMAP, note=note
    )
    allocation_image = _image_drawer(
        "Allocation weighting a", allocation[:, slots].T, "slot", slots, WEIGHTS_CMAP, note=note
    )
    gates = {"write gate": write_gate, "allocation gate": allocation_gate}
    gates |= {
        f"free gate, head {num_write + r}": free_gates[:, r] for r in range(free_gates.shape[1])
    }
    panels = [
        ("usage", usage_image, len(slots)),
        ("allocation", allocation_image, len(slots)),
        ("lines", _lines_drawer("Write, allocation and free gates", gates), 4),
    ]
    for h in (h for h in heads if h >= num_write):
        modes = {mode: read_modes[:, h - num_write, m] for m, mode in enumerate(READ_MODES)}
        panels.append(("lines", _lines_drawer(f"Read modes, head {h}", modes), 4))
    return panels


OUTPUT_PANELS = {
    "bits": ("Prediction (sigmoid)", "channel"),
    "categorical": ("Prediction (softmax)", "class"),
    "real": ("Prediction", "channel"),
}
"""The prediction panel's title and row label for each output kind."""


def _output_panels(sample: SampleTrace, channels: int):
    """Target and prediction: on the 0..1 scale for bits and classes; real values on a scale
    of their own, symmetric about 0 and wide enough for both."""
    title, rows = OUTPUT_PANELS[sample.kind]
    if sample.kind != "real":
        target = _image_drawer("Target", sample.targets.T, rows)
        return [
            ("bits", target, channels),
            ("bits", _image_drawer(title, sample.predictions.T, rows), channels),
        ]
    limit = max(float(np.abs(sample.targets).max()), float(np.abs(sample.predictions).max()), 1e-6)
    target = _image_drawer("Target", sample.targets.T, rows, None, MEMORY_CMAP, limit)
    prediction = _image_drawer(title, sample.predictions.T, rows, None, MEMORY_CMAP, limit)
    return [("values", target, channels), ("values", prediction, channels)]


def _detail_panels(sample: SampleTrace, heads: list[int], num_write: int):
    panels = []
    word = sample.erase.shape[2]
    limit = max(float(np.abs(sample.add).max()), 1e-6)
    for h in (h for h in heads if h < num_write):
        erase = _image_drawer(f"Erase vector, head {h}", sample.erase[:, h].T, "element")
        add = _image_drawer(
            f"Add vector, head {h}", sample.add[:, h].T, "element", None, MEMORY_CMAP, limit
        )
        panels += [("erase", erase, word), ("add", add, word)]
    if sample.shift is None or sample.gate is None or sample.gamma is None:
        return panels  # the DNC: its gates are drawn by `_dnc_panels`
    num_shifts = sample.shift.shape[2]
    offsets = np.arange(num_shifts) - num_shifts // 2
    for h in heads:
        drawer = _image_drawer(
            f"Shift distribution, head {h}", sample.shift[:, h].T, "shift", offsets, WEIGHTS_CMAP
        )
        panels.append(("shift", drawer, num_shifts))
    gates = {f"head {h}": sample.gate[:, h] for h in heads}
    gammas = {f"head {h}": sample.gamma[:, h] for h in heads}
    bottom = min(0.9, float(sample.gamma.min()) - 0.1)
    panels.append(("lines", _lines_drawer("Interpolation gate g", gates), 4))
    panels.append(("lines", _lines_drawer("Sharpening γ", gammas, bottom=bottom), 4))
    return panels


def _draw_panels(axes: list[Axes], panels) -> list[tuple[str, list]]:
    """Draw each panel; returns the runs of neighbouring images of one colour group."""
    groups: list[tuple[str, list]] = []
    previous = None
    for ax, (name, draw, _) in zip(axes, panels):
        image = draw(ax)
        if image is not None:
            if name != previous:
                groups.append((name, []))
            groups[-1][1].append((ax, image))
        previous = name
        ax.tick_params(labelbottom=False, labelsize=7)
    return groups


def _image_drawer(title, data, ylabel, row_labels=None, cmap=BITS_CMAP, limit=None, note=""):
    """A panel drawing ``data [rows, T]``; range 0..1, or -limit..limit when limit is given.

    The image is labelled ``title``; the panel's heading adds ``note`` (e.g. which slots).
    """

    def draw(ax: Axes):
        vmin, vmax = (0.0, 1.0) if limit is None else (-limit, limit)
        image = ax.imshow(
            data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax
        )
        image.set_label(title)
        _label_panel(ax, title + note, ylabel, data.shape[0], row_labels)
        return image

    return draw


def _lines_drawer(title: str, lines: dict[str, np.ndarray], bottom: float | None = None):
    """A panel of one line over time per entry of ``lines`` (label -> `[T]`): values in 0..1
    (gates, modes), or from ``bottom`` up when given (gammas)."""

    def draw(ax: Axes):
        for label, values in lines.items():
            ax.plot(values, marker=".", markersize=3, linewidth=1, label=label)
        if bottom is not None:
            ax.set_ylim(bottom=bottom)
        else:
            ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.set_title(title, loc="left", fontsize=9)
        return None

    return draw


def _label_panel(ax: Axes, title: str, ylabel: str, rows: int, row_labels=None) -> None:
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=min(rows, 6), integer=True))
    if row_labels is not None:
        ax.yaxis.set_major_formatter(_row_formatter(row_labels))


def _row_formatter(row_labels) -> FuncFormatter:
    """Tick labels naming image rows (or columns) by ``row_labels`` instead of their index."""
    labels = [str(label) for label in row_labels]
    return FuncFormatter(lambda y, _: labels[int(y)] if 0 <= int(y) < len(labels) else "")


def _panel_height(rows: int) -> float:
    """Inches for a panel of ``rows`` image rows: readable for 2 rows, bounded for 128."""
    return float(np.clip(0.12 * rows + 0.45, 0.9, 2.4))


def _crop_note(slots: np.ndarray, num_slots: int, who: str = "it") -> str:
    if len(slots) == num_slots:
        return ""
    return f"  ({len(slots)} of {num_slots} slots: those {who} gives weight ≥ {SLOT_THRESHOLD:g})"


def _chosen_heads(sample: SampleTrace, head: int | None) -> list[int]:
    total = sample.write_weights.shape[1] + sample.read_weights.shape[1]
    if head is None:
        return list(range(total))
    if not 0 <= head < total:
        raise ValueError(
            f"head={head} does not exist: this model has heads 0..{total - 1} "
            f"(write heads first, then read heads)"
        )
    return [head]


# ---- decorations -----------------------------------------------------------------------------

_COLORBAR_LABELS = {
    "bits": "value",
    "values": "value",
    "weighting": "weight",
    "erase": "erase",
    "add": "add value",
    "shift": "probability",
    "usage": "usage",
    "allocation": "weight",
}


def _add_colorbars(figure: Figure, groups: list[tuple[str, list]]) -> None:
    for name, members in groups:
        axes = [ax for ax, _ in members]
        bar = figure.colorbar(members[0][1], ax=axes, pad=0.01, aspect=max(8, 12 * len(axes)))
        bar.set_label(_COLORBAR_LABELS[name], fontsize=8)
        bar.ax.tick_params(labelsize=7)


def _mark_steps(axes: list[Axes], markers: list[tuple[int, str]]) -> None:
    """Dashed vertical lines at the marker steps on every time panel, labelled on the first."""
    steps = axes[0].get_xlim()[1] + 0.5
    previous_t, level = None, 0
    for t, label in sorted(markers):
        for ax in axes:
            style: LineStyle = MARKER_STYLE if ax.images else {**MARKER_STYLE, "color": "0.45"}
            ax.axvline(t, label=label, **style)
        # Labels of close markers go one below the other; those near the end sit left of
        # their line so that they stay inside the panel.
        close = previous_t is not None and t - previous_t < MARKER_LABEL_STEPS * steps
        level = level + 1 if close else 0
        previous_t = t
        left = t > 0.85 * steps
        axes[0].annotate(
            label,
            xy=(t, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-2 if left else 2, -2 - 10 * level),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            fontsize=7,
            color="white",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "black", "alpha": 0.5, "lw": 0},
        )


def _memory_panel(figure: Figure, cell, weights_ax: Axes, sample: SampleTrace, slots) -> Axes:
    """The memory after the last step, rows aligned with the weighting panel beside it."""
    ax = figure.add_subplot(cell, sharey=weights_ax)
    final = sample.memory[-1][slots]  # (n, W)
    # A few large entries would wash out the rest: the range covers 98% of the values and the
    # colour bar's pointed ends say that larger ones are clipped.
    limit = max(float(np.percentile(np.abs(final), 98)), 1e-6)
    clipped = bool(np.abs(final).max() > limit)
    image = ax.imshow(
        final, aspect="auto", interpolation="nearest", cmap=MEMORY_CMAP, vmin=-limit, vmax=limit
    )
    image.set_label("Memory at the end")
    ax.set_title("Memory at the end", loc="left", fontsize=9)
    ax.set_xlabel("word element", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.tick_params(labelleft=False, labelsize=7)
    bar = figure.colorbar(image, ax=ax, pad=0.02, extend="both" if clipped else "neither")
    bar.set_label("memory value", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return ax


LINK_TITLE = "link matrix L[i, j]: i written after j"
"""The label of the DNC's link matrix: ``L[i, j]`` is the degree to which slot i was written
right after slot j."""


def _link_panel(figure: Figure, cell, link: np.ndarray, slots: np.ndarray) -> Axes:
    """The DNC's temporal link matrix ``link [N, N]`` on the rows and columns ``slots``
    (Graves et al. 2016, Methods, "Temporal memory linkage")."""
    ax = figure.add_subplot(cell)
    shown = link[np.ix_(slots, slots)]  # (n, n)
    image = ax.imshow(
        shown, aspect="equal", interpolation="nearest", cmap=WEIGHTS_CMAP, vmin=0.0, vmax=1.0
    )
    image.set_label(LINK_TITLE)
    # Two lines: the right column is narrow.
    _label_panel(ax, LINK_TITLE.replace(": ", ":\n"), "slot i", len(slots), slots)
    ax.set_xlabel("slot j", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=min(len(slots), 6), integer=True))
    ax.xaxis.set_major_formatter(_row_formatter(slots))
    ax.tick_params(labelsize=7)
    bar = figure.colorbar(image, ax=ax, pad=0.02)
    bar.set_label("link strength", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return ax
