"""Optional TensorBoard logging: scalars every step, the dashboard at each evaluation.

Used only when the ``tensorboard`` package is installed; otherwise `open_writer` returns None
and training logs to ``metrics.jsonl`` alone.
"""

from pathlib import Path
from typing import Any

DASHBOARD_SEED = 12_345
"""Seeds the task that draws the sample shown in TensorBoard, so every evaluation shows the
same sequence and the pictures can be compared over training."""


def open_writer(folder: Path):
    """A `SummaryWriter` logging into ``folder / "tensorboard"``, or None without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(folder / "tensorboard"))


def log_step(writer, record: dict[str, Any]) -> None:
    """Training scalars of one step, against sequences seen."""
    for name in ("loss", "bit_errors", "lr", "seq_per_s"):
        writer.add_scalar(f"train/{name}", record[name], record["sequences"])


def log_evaluation(writer, run, model, step_record: dict[str, Any]) -> None:
    """Evaluation scalars and the dashboard of one fixed sample."""
    from .plots import dashboard_figure

    sequences = step_record["sequences"]
    for name, value in step_record["eval"].items():
        writer.add_scalar(f"eval/{name}", value, sequences)
    task = run.make_task(seed=DASHBOARD_SEED)
    writer.add_figure("dashboard", dashboard_figure(model, task), sequences)
