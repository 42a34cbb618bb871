"""The pictures of a run folder, written next to its checkpoint under fixed names.

    RUN/dashboard.png         one sequence at the longest training length (`dashboard`)
    RUN/learning_curves.png   loss and bit errors against sequences seen (`curves`)
    RUN/generalisation.png    the sweep of eval.json (`generalisation`), once there is one
    RUN/paper_comparison.png  the evaluations' cost next to the paper's curves (`paper_curves`),
                              for the paper's five tasks
    RUN/animation.gif         memory and weightings step by step (`animation`), on request

Dashboards and animations use sequences from their own seeded stream, so drawing them again
gives the same sequence.
"""

from pathlib import Path

from ..run.config import RunConfig
from ..run.evaluate import EVAL_SEED_OFFSET
from ..run.folder import RunFolder, load_run, read_eval
from .animation import save_animation
from .common import evaluation_records, load_run_config, no_evaluation_message
from .curves import save_learning_curves
from .dashboard import save_dashboard
from .generalisation import save_generalisation, training_range
from .paper_curves import paper_figure, save_paper_comparison

DASHBOARD, CURVES, GENERALISATION, PAPER_COMPARISON, ANIMATION = (
    "dashboard.png",
    "learning_curves.png",
    "generalisation.png",
    "paper_comparison.png",
    "animation.gif",
)

PICTURE_SEED_OFFSET = 3 * EVAL_SEED_OFFSET
"""Pictures draw their sequences from the task seeded with ``train.seed + PICTURE_SEED_OFFSET``,
a stream that neither training (offset 0) nor evaluation (1x and 2x the offset) uses."""


def has_evaluation(run_folder: str | Path) -> bool:
    """Whether the run has an eval.json or an evaluation record in its log."""
    return RunFolder(Path(run_folder)).eval.is_file() or bool(evaluation_records(run_folder))


def write_run_figures(run_folder: str | Path) -> list[Path]:
    """Write the dashboard, learning curves, (with eval.json) generalisation plot and (for the
    paper's tasks) the comparison with the paper's learning curves.

    Raises ValueError with a sentence saying what to do if the run has no evaluation yet.
    """
    root = Path(run_folder)
    if not has_evaluation(root):
        raise ValueError(no_evaluation_message(root))
    written = [write_dashboard(root), write_learning_curves(root)]
    if RunFolder(root).eval.is_file() and read_eval(RunFolder(root).eval)["grid"]:
        written.append(write_generalisation(root))  # a task without axes has nothing swept
    if has_paper_figure(root) and evaluation_records(root):
        written.append(write_paper_comparison(root))
    return written


def has_paper_figure(run_folder: str | Path) -> bool:
    """Whether the paper has a learning curve of the run's task."""
    return paper_figure(load_run_config(run_folder).task) is not None


def write_dashboard(
    run_folder: str | Path,
    path: str | Path | None = None,
    length: int | None = None,
    index: int = 0,
    head: int | None = None,
    details: bool = False,
) -> Path:
    """The dashboard of sequence ``index`` of a seeded batch of the run's task.

    ``length`` defaults to the longest training length; ``path`` to `dashboard_path`.
    """
    root = Path(run_folder)
    run, model, payload = load_run(root)
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    path = path or dashboard_path(root, length, head, details)
    task = run.make_task(seed=run.train.seed + PICTURE_SEED_OFFSET)
    length = length or _longest_training_length(run, root)
    batch = task.sample(index + 1) if length is None else task.sample(index + 1, length=length)
    title = f"{run.task_label} at step {payload['step']}, sequence {index}"
    return save_dashboard(
        path, model, task, batch=batch, index=index, head=head, details=details, title=title
    )


def dashboard_path(
    run_folder: str | Path, length: int | None = None, head: int | None = None, details=False
) -> Path:
    """RUN/dashboard.png, or RUN/dashboard-length40-head1.png for a particular view."""
    suffix = "" if length is None else f"-length{length}"
    suffix += "" if head is None else f"-head{head}"
    suffix += "-details" if details else ""
    return Path(run_folder) / (DASHBOARD if not suffix else f"dashboard{suffix}.png")


def write_learning_curves(run_folder: str | Path) -> Path:
    return save_learning_curves(Path(run_folder) / CURVES, run_folder)


def write_generalisation(run_folder: str | Path) -> Path:
    return save_generalisation(Path(run_folder) / GENERALISATION, run_folder)


def write_paper_comparison(run_folder: str | Path) -> Path:
    return save_paper_comparison(Path(run_folder) / PAPER_COMPARISON, run_folder)


def write_animation(
    run_folder: str | Path, path: str | Path | None = None, length: int | None = None
) -> Path:
    """RUN/animation.gif (or ``path``) of one sequence, by default of the longest training
    length."""
    root = Path(run_folder)
    run, model, _ = load_run(root)
    task = run.make_task(seed=run.train.seed + PICTURE_SEED_OFFSET)
    length = length or _longest_training_length(run, root)
    return save_animation(path or root / ANIMATION, model, task, length=length)


def _longest_training_length(run: RunConfig, run_folder: Path) -> int | None:
    span = training_range(run, "length", run_folder)
    return None if span is None else span[1]
