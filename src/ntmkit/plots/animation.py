"""An animated GIF of one sequence: the memory and the head weightings, one frame per step.

Each frame shows, at step t: the input sequence with a cursor on step t, the predictions made
so far, the memory matrix after step t (word element x slot) and every head's weighting over
the slots. On a copy model one watches the write head walk along the slots while the input
arrives, filling them, then the read head walk the same slots while the output is produced.
A model with the DNC's memory (``NTMConfig.memory="dnc"``) adds each slot's usage and the
allocation weighting under the weightings, and the temporal link matrix beside them.

Frames are drawn on one Agg figure whose artists are updated in place, then written with
Pillow using one palette for the whole animation (per-frame palettes make colours flicker).
"""

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from ..model import NTM
from ..tasks import Batch, Task
from .common import (
    BITS_CMAP,
    MEMORY_CMAP,
    WEIGHTS_CMAP,
    SampleTrace,
    draw_sample,
    new_figure,
    trace_sample,
)

FRAME_DPI = 80
"""Resolution of the frames: a 9 x 6.5 inch frame is 720 x 520 pixels."""

PALETTE_FRAMES = 8
"""Frames sampled to build the animation's shared 256-colour palette."""

DNC_LINK_WIDTH = 1.3
"""Width of the DNC frame's link-matrix column, relative to 4 for the slot panels."""


def save_animation(
    path: str | Path,
    model: NTM,
    task: Task,
    length: int | None = 20,
    batch: Batch | None = None,
    index: int = 0,
    fps: float = 4.0,
) -> Path:
    """Write a GIF of one sequence (a fresh one of payload ``length`` unless ``batch`` given).

    Returns the path; the GIF has one frame per time step and loops forever.
    """
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"an animation is written as a .gif file, got {path.name!r}")
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    sample = trace_sample(model, task, draw_sample(task, batch, length), index)
    frames = animation_frames(sample, title=type(task).name)
    palette = _shared_palette(frames)
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    indexed[0].save(
        path,
        save_all=True,
        append_images=indexed[1:],
        duration=round(1000 / fps),
        loop=0,
        disposal=1,
        optimize=False,
    )
    return path


def animation_frames(sample: SampleTrace, title: str = "") -> list[Image.Image]:
    """One RGB image per time step of ``sample``."""
    figure, update = _frame_figure(sample, title)
    frames = []
    for t in range(sample.steps):
        update(t)
        figure.canvas.draw()
        frames.append(Image.fromarray(np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()))
        if t == 0:
            # Freeze the layout found for the first frame so that nothing shifts between frames.
            figure.set_layout_engine("none")
    return frames


def _frame_figure(sample: SampleTrace, title: str):
    """The figure of one frame and a function that moves it to step t."""
    slots = sample.used_slots()
    steps = sample.steps
    move_dnc = None
    if sample.is_dnc:
        figure, axes, (usage_ax, link_ax) = _dnc_frame_axes()
        move_dnc = _dnc_panels(figure, usage_ax, link_ax, sample, slots)
    else:
        figure, axes = _frame_axes()
    input_ax, output_ax, memory_ax, weights_ax = axes

    _sequence_panel(input_ax, sample.inputs.T, "Input")
    predictions = np.full(sample.predictions.T.shape, np.nan)
    output_image = _sequence_panel(output_ax, predictions, "Prediction so far (sigmoid)")
    output_ax.set_xlabel("time step", fontsize=8)
    cursors = [ax.axvline(0, color="red", linewidth=1.2, alpha=0.9) for ax in (input_ax, output_ax)]
    figure.colorbar(output_image, ax=[input_ax, output_ax], pad=0.01).ax.tick_params(labelsize=7)

    memory, memory_image = _memory_panel(figure, memory_ax, sample, slots)
    weights, lines = _weight_lines(weights_ax, sample, slots)
    _style_weights(figure, weights_ax, slots)
    if move_dnc is not None:  # the usage panel below carries the slot axis
        weights_ax.set_xlabel("")
        weights_ax.tick_params(labelbottom=False)

    def update(t: int) -> None:
        for cursor in cursors:
            cursor.set_xdata([t, t])
        shown = predictions.copy()
        shown[:, : t + 1] = sample.predictions[: t + 1].T
        output_image.set_data(shown)
        memory_image.set_data(memory[t])
        for h, line in enumerate(lines):
            line.set_ydata(weights[t, h])
        if move_dnc is not None:
            move_dnc(t)
        phase = "output phase" if sample.mask[t] else "input phase"
        figure.suptitle(f"{title}: step {t} of {steps - 1} ({phase})", fontsize=11)

    return figure, update


def _frame_axes() -> tuple[Figure, list[Axes]]:
    """The NTM's frame: input, prediction, memory and weightings, one under the other."""
    figure = new_figure(9.0, 6.5)
    figure.set_dpi(FRAME_DPI)
    grid = figure.add_gridspec(4, 1, height_ratios=[1, 1, 1.6, 1.2])
    input_ax = figure.add_subplot(grid[0])
    output_ax = figure.add_subplot(grid[1], sharex=input_ax)
    memory_ax = figure.add_subplot(grid[2])
    weights_ax = figure.add_subplot(grid[3], sharex=memory_ax)
    return figure, [input_ax, output_ax, memory_ax, weights_ax]


def _dnc_frame_axes() -> tuple[Figure, list[Axes], tuple[Axes, Axes]]:
    """The DNC's frame: the NTM's, with a row for usage under the weightings and a column for
    the link matrix beside them; returns the NTM's axes and (usage, link)."""
    figure = new_figure(9.0, 8.0)
    figure.set_dpi(FRAME_DPI)
    grid = figure.add_gridspec(
        5, 2, height_ratios=[1, 1, 1.6, 1.2, 1.2], width_ratios=[4, DNC_LINK_WIDTH]
    )
    input_ax = figure.add_subplot(grid[0, :])
    output_ax = figure.add_subplot(grid[1, :], sharex=input_ax)
    memory_ax = figure.add_subplot(grid[2, 0])
    weights_ax = figure.add_subplot(grid[3, 0], sharex=memory_ax)
    usage_ax = figure.add_subplot(grid[4, 0], sharex=memory_ax)
    link_ax = figure.add_subplot(grid[3:, 1])
    return figure, [input_ax, output_ax, memory_ax, weights_ax], (usage_ax, link_ax)


def _dnc_panels(figure: Figure, usage_ax: Axes, link_ax: Axes, sample: SampleTrace, slots):
    """Usage and allocation weighting (lines over the slots) and the link matrix at step 0;
    returns a function that moves them to step t."""
    usage, allocation, link = sample.usage, sample.allocation, sample.link
    if usage is None or allocation is None or link is None:
        raise ValueError("the sample has no DNC internals to draw")
    positions = np.arange(len(slots))
    (usage_line,) = usage_ax.step(
        positions, usage[0, slots], where="mid", linewidth=1.6, color="C2", label="usage"
    )
    (allocation_line,) = usage_ax.step(
        positions,
        allocation[0, slots],
        where="mid",
        linewidth=1.2,
        linestyle="--",
        color="C4",
        label="allocation weighting",
    )
    _style_weights(figure, usage_ax, slots, "Usage and allocation after this step", "value")
    links = link[:, slots][:, :, slots]  # (T, n, n)
    link_image = _link_panel(figure, link_ax, links[0], slots)

    def update(t: int) -> None:
        usage_line.set_ydata(usage[t, slots])
        allocation_line.set_ydata(allocation[t, slots])
        link_image.set_data(links[t])

    return update


def _link_panel(figure: Figure, ax: Axes, link: np.ndarray, slots: np.ndarray):
    """The link matrix ``link [n, n]`` on the slots ``slots``; returns its image."""
    image = ax.imshow(
        link, aspect="equal", interpolation="nearest", cmap=WEIGHTS_CMAP, vmin=0.0, vmax=1.0
    )
    # The dashboard's `LINK_TITLE` on two lines: the column is narrow.
    ax.set_title("link matrix L[i, j]:\ni written after j", loc="left", fontsize=9)
    ax.set_ylabel("slot i", fontsize=8)
    ax.set_xlabel("slot j", fontsize=8)
    ax.tick_params(labelsize=7)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=min(len(slots), 5), integer=True))
        axis.set_major_formatter(_slot_formatter(slots))
    bar = figure.colorbar(image, ax=ax, pad=0.02)
    bar.set_label("link strength", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return image


def _memory_panel(figure: Figure, ax, sample: SampleTrace, slots: np.ndarray):
    """The memory image (word element x slot) at step 0; returns every step's data and it."""
    memory = sample.memory[:, slots].transpose(0, 2, 1)  # (T, W, n): slots along x
    limit = max(float(np.percentile(np.abs(memory), 99)), 1e-6)
    image = ax.imshow(
        memory[0],
        aspect="auto",
        interpolation="nearest",
        cmap=MEMORY_CMAP,
        vmin=-limit,
        vmax=limit,
    )
    ax.set_title("Memory after this step", loc="left", fontsize=9)
    ax.set_ylabel("element", fontsize=8)
    ax.tick_params(labelbottom=False, labelsize=7)
    bar = figure.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("memory value", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return memory, image


def _weight_lines(ax, sample: SampleTrace, slots: np.ndarray):
    """One step line per head at step 0; returns every step's weights `[T, H, n]` and them."""
    num_write = sample.write_weights.shape[1]
    weights = sample.weights()[:, :, slots]  # (T, H, n)
    lines = []
    for h in range(weights.shape[1]):
        kind = "write" if h < num_write else "read"
        (line,) = ax.step(
            np.arange(len(slots)),
            weights[0, h],
            where="mid",
            linewidth=1.6,
            color="C3" if kind == "write" else f"C{h - num_write}",
            label=f"{kind} head {h}",
        )
        lines.append(line)
    return weights, lines


def _sequence_panel(ax, data: np.ndarray, title: str):
    image = ax.imshow(
        data, aspect="auto", interpolation="nearest", cmap=BITS_CMAP, vmin=0.0, vmax=1.0
    )
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel("channel", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=min(data.shape[0], 5), integer=True))
    return image


def _style_weights(
    figure: Figure,
    ax,
    slots: np.ndarray,
    title: str = "Head weightings after this step",
    ylabel: str = "weight",
) -> None:
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlim(-0.5, len(slots) - 0.5)
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xlabel("slot", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=16, integer=True))
    ax.xaxis.set_major_formatter(_slot_formatter(slots))
    # Constrained layout gives every panel of the column the same right margin (the colour
    # bars'), so the memory and the weightings stay aligned slot for slot.
    ax.legend(fontsize=7, loc="upper right", framealpha=0.8)


def _slot_formatter(slots: np.ndarray) -> FuncFormatter:
    """Tick labels naming positions along a cropped slot axis by their slot."""
    labels = [str(slot) for slot in slots]
    return FuncFormatter(lambda x, _: labels[int(x)] if 0 <= int(x) < len(labels) else "")


def _shared_palette(frames: list[Image.Image]) -> Image.Image:
    """A 256-colour palette image built from frames spread over the whole animation."""
    picks = frames[:: max(1, len(frames) // PALETTE_FRAMES)]
    width, height = picks[0].size
    montage = Image.new("RGB", (width, height * len(picks)))
    for i, frame in enumerate(picks):
        montage.paste(frame, (0, i * height))
    return montage.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
