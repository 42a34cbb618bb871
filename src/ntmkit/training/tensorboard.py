"""Optional TensorBoard logging: scalars every step, the dashboard at each evaluation.

Used only when the ``tensorboard`` package is installed; otherwise `open_writer` returns None
and training logs to ``metrics.jsonl`` alone.
"""

from pathlib import Path

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


def log_step(writer, record) -> None:
    """Training scalars of one `ntmkit.run.log.StepRecord`, against sequences seen."""
    for name in ("loss", "bit_errors", "symbol_errors", "mse", "lr", "seq_per_s"):
        if getattr(record, name) is not None:  # the error of the task's output kind
            writer.add_scalar(f"train/{name}", getattr(record, name), record.sequences)


def log_evaluation(writer, run, model, record) -> None:
    """The scalars of an `ntmkit.run.log.EvaluationRecord` and the dashboard of one sample."""
    from ..plots import dashboard_figure

    sequences = record.sequences
    for name, value in record.eval.to_dict().items():
        writer.add_scalar(f"eval/{name}", value, sequences)
    task = run.make_task(seed=DASHBOARD_SEED)
    writer.add_figure("dashboard", dashboard_figure(model, task), sequences)
