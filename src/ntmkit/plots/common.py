"""What every figure shares: one sample traced through the model, saving, and run lookups.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so
drawing touches no global state and works without a display.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..model import NTM, Trace
from ..run.config import RunConfig
from ..run.folder import RunFolder, read_run_config
from ..run.log import EvaluationRecord, of_kind, read_log
from ..run.metrics import predictions
from ..tasks import Batch, Task
from ..vocabulary import OutputKind

FORMATS = ("png", "svg", "pdf")
"""File types a figure can be saved as, chosen by the file extension."""

DPI = 110
"""Raster resolution of saved figures: sharp on screen, small enough to embed in a report."""

SLOT_THRESHOLD = 0.01
"""A memory slot counts as used when some head puts at least this weight on it at some step."""

MAX_SLOTS_SHOWN = 32
"""Memories with more slots than this are cropped to their used slots in the pictures."""

BITS_CMAP, WEIGHTS_CMAP, MEMORY_CMAP = "viridis", "magma", "RdBu_r"


@dataclass(frozen=True)
class SampleTrace:
    """One sequence run through the model, as NumPy arrays with time first.

    Attributes:
      inputs: `[T, C_in]`; targets and predictions: `[T, C_out]`, as the output kind shows
        them: bits and their sigmoid probabilities; classes one-hot and the softmax; or real
        values and the model's values (`ntmkit.run.metrics.predictions`).
      mask: `[T]` bool, the scored (output phase) steps.
      write_weights: `[T, Hw, N]`; read_weights: `[T, Hr, N]`.
      memory: `[T, N, W]`, the memory after each step.
      erase, add: `[T, Hw, W]`; gate, gamma: `[T, H]`; shift: `[T, H, S]` (write heads first);
        None for a DNC, whose heads are addressed through its interface instead.
      markers: `(t, label)` pairs from `Task.markers`.

    The DNC's memory (``NTMConfig.memory="dnc"``) adds its own internals, each None for the NTM:
      usage, allocation: `[T, N]`, each slot's usage after each step and the allocation
        weighting of each step.
      link: `[T, N, N]`, the temporal link matrix after each step; ``link[t, i, j]`` is the
        degree to which slot i was written right after slot j.
      write_gate, allocation_gate: `[T]`; free_gates: `[T, R]`, one per read head.
      read_modes: `[T, R, 3]`, each read head's (backward, content, forward) distribution.
    """

    inputs: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray
    mask: np.ndarray
    write_weights: np.ndarray
    read_weights: np.ndarray
    memory: np.ndarray
    erase: np.ndarray
    add: np.ndarray
    gate: np.ndarray | None
    shift: np.ndarray | None
    gamma: np.ndarray | None
    markers: list[tuple[int, str]]
    kind: OutputKind = "bits"
    usage: np.ndarray | None = None
    allocation: np.ndarray | None = None
    link: np.ndarray | None = None
    write_gate: np.ndarray | None = None
    allocation_gate: np.ndarray | None = None
    free_gates: np.ndarray | None = None
    read_modes: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def is_dnc(self) -> bool:
        """Whether the sample comes from a model with the DNC's memory."""
        return self.usage is not None

    @property
    def bit_errors(self) -> int:
        """Wrong bits (prediction thresholded at 0.5) on the scored steps."""
        wrong = (self.predictions > 0.5) != (self.targets > 0.5)
        return int(wrong[self.mask].sum())

    def errors_text(self) -> str:
        """What went wrong on the scored steps, in words: wrong bits, wrong classes, or the
        mean squared error."""
        if self.kind == "real":
            squares = (self.predictions - self.targets)[self.mask] ** 2
            return f"mean squared error {float(squares.mean()) if squares.size else 0.0:.4g}"
        if self.kind == "categorical":
            wrong = self.predictions.argmax(-1) != self.targets.argmax(-1)
            count, unit = int(wrong[self.mask].sum()), "wrong class"
        else:
            count, unit = self.bit_errors, "bit error"
        return f"1 {unit}" if count == 1 else f"{count} {unit}{'es' if unit.endswith('s') else 's'}"

    def weights(self) -> np.ndarray:
        """Every head's weighting, `[T, H, N]`, write heads first (the `HeadParams` order)."""
        return np.concatenate([self.write_weights, self.read_weights], axis=1)

    def used_slots(self, head: int | None = None) -> np.ndarray:
        """Slot indices worth drawing for ``head`` (None: any head): all of a small memory,
        else those the head gives at least `SLOT_THRESHOLD` at some step (all slots if it
        never does, so a diffuse head is still drawn)."""
        num_slots = self.memory.shape[1]
        if num_slots <= MAX_SLOTS_SHOWN:
            return np.arange(num_slots)
        weights = self.weights() if head is None else self.weights()[:, head : head + 1]
        peak = weights.max(axis=(0, 1))  # (N,)
        used = np.flatnonzero(peak >= SLOT_THRESHOLD)
        if used.size == 0:
            return np.arange(num_slots)
        # Memory is a ring under circular shifts: start after the widest gap between used slots,
        # so that a head moving from slot N - 1 to slot 0 stays on neighbouring rows.
        gaps = np.diff(np.append(used, used[0] + num_slots))
        return np.roll(used, -(int(np.argmax(gaps)) + 1))


def draw_sample(task: Task, batch: Batch | None = None, length: int | None = None) -> Batch:
    """``batch`` if given, else one fresh sequence from ``task`` (with payload ``length``)."""
    if batch is not None:
        return batch
    return task.sample(1) if length is None else task.sample(1, length=length)


@torch.no_grad()
def trace_sample(model: NTM, task: Task, batch: Batch, index: int = 0) -> SampleTrace:
    """Run sequence ``index`` of ``batch`` alone through ``model`` and keep every step's state.

    Padded steps (tasks with per-sequence lengths) are cut off: the arrays cover the sequence's
    real length only.
    """
    if not 0 <= index < batch.inputs.shape[1]:
        raise ValueError(f"index={index} is outside the batch of {batch.inputs.shape[1]}")
    steps = int(batch.lengths[index])
    device = next(model.parameters()).device
    inputs = batch.inputs[:steps, index : index + 1].to(device)  # (T, 1, C)
    was_training = model.training
    model.eval()
    logits, _, trace = model(inputs, trace=True)
    model.train(was_training)

    def first(x: torch.Tensor) -> np.ndarray:
        return x[:, 0].float().cpu().numpy()

    kind = task.output_kind
    targets = batch.targets[:steps, index : index + 1]
    if kind == "categorical":  # class indices shown one-hot where scored, beside the softmax
        scored = batch.mask[:steps, index : index + 1, None].to(targets.device)
        targets = torch.nn.functional.one_hot(targets.long(), logits.shape[-1]) * scored
    return SampleTrace(
        kind=kind,
        inputs=first(inputs),
        targets=first(targets),
        predictions=first(predictions(kind, logits)),
        mask=first(batch.mask[:steps, index : index + 1]).astype(bool),
        write_weights=first(trace.write_weights),
        read_weights=first(trace.read_weights),
        memory=first(trace.memory),
        erase=first(trace.writes.erase),
        add=first(trace.writes.add),
        markers=[(t, label) for t, label in task.markers(batch, index) if t < steps],
        **_head_arrays(trace, first),
    )


def _head_arrays(trace: Trace, first: Callable[[torch.Tensor], np.ndarray]) -> dict[str, Any]:
    """The `SampleTrace` fields of the NTM's head parameters or of the DNC's memory, taken
    from batch row 0 by ``first``."""
    if trace.dnc is None:
        if trace.heads is None:
            raise ValueError("the trace has neither NTM head parameters nor DNC internals")
        heads = trace.heads
        return {
            "gate": first(heads.gate)[..., 0],  # (T, H)
            "shift": first(heads.shift),  # (T, H, S)
            "gamma": first(heads.gamma)[..., 0],  # (T, H)
        }
    dnc, interface = trace.dnc, trace.dnc.interface
    return {
        "gate": None,
        "shift": None,
        "gamma": None,
        "usage": first(dnc.usage),  # (T, N)
        "allocation": first(dnc.allocation),  # (T, N)
        "link": first(dnc.link),  # (T, N, N)
        "write_gate": first(interface.write_gate)[..., 0],  # (T,)
        "allocation_gate": first(interface.allocation_gate)[..., 0],  # (T,)
        "free_gates": first(interface.free_gates),  # (T, R)
        "read_modes": first(interface.read_modes),  # (T, R, 3)
    }


def save_figure(figure: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``figure`` to ``path``; the extension (.png, .svg, .pdf) picks the format."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValueError(f"cannot save a figure as {path.name!r}: use one of .png, .svg, .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)  # attach a canvas: a bare Figure has none that can print
    figure.savefig(path, format=kind, dpi=dpi)
    return path


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout on the Agg canvas."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def load_run_config(run_folder: str | Path) -> RunConfig:
    """The `RunConfig` saved in a run folder, with a clear error if there is none."""
    folder = RunFolder(Path(run_folder))
    if not folder.config.is_file():
        raise ValueError(f"{folder.root} has no config.json: is it an ntmkit run folder?")
    return read_run_config(folder.config)


def evaluation_records(run_folder: str | Path) -> list[EvaluationRecord]:
    """The evaluation records of a run's metrics log, oldest first."""
    return of_kind(read_log(RunFolder(Path(run_folder)).metrics), EvaluationRecord)


def no_evaluation_message(run_folder: str | Path) -> str:
    """The sentence shown when a run has not been evaluated yet."""
    return (
        f"{run_folder} has no evaluation yet (no eval.json and no evaluation record in "
        f"metrics.jsonl): train past train.eval_every steps or run `ntmkit eval {run_folder}`"
    )
