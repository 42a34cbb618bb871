"""One self-contained HTML page for a whole sweep: its table, its curves and a link to each
trial's own report."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..run.files import write_text_atomically
from .html_page import embedded_image, escape, footer, missing, page
from .report import REPORT
from .sweep_curves import SWEEP_CURVES

CURVES_CAPTION = (
    "Evaluation bit errors per sequence against sequences seen, per setting: each seed faint, "
    "the median of the seeds in black and their interquartile range shaded."
)


def write_sweep_report(
    root: str | Path, title: str, table_text: str, trials: Sequence[dict[str, Any]]
) -> Path:
    """Write ROOT/report.html.

    Args:
      root: the sweep folder (with ``sweep_curves.png`` if it has been drawn).
      title: one line saying what the sweep ran.
      table_text: the summary table as printed.
      trials: one dict per trial with ``setting``, ``seed``, ``folder`` and ``status``.
    """
    root = Path(root)
    curves = root / SWEEP_CURVES
    sections = [
        f"<h1>{escape(root.name)}</h1>",
        f"<p class='sub'>{escape(title)}</p>",
        "<h2>Results</h2>",
        f"<pre>{escape(table_text)}</pre>",
        "<h2>Learning curves</h2>",
        embedded_image(curves, CURVES_CAPTION) if curves.is_file() else missing("No curves yet"),
        "<h2>Trials</h2>",
        _trial_list(root, trials),
        footer(),
    ]
    path = root / REPORT
    write_text_atomically(path, page(f"ntmkit sweep: {root.name}", sections))
    return path


def _trial_list(root: Path, trials: Sequence[dict[str, Any]]) -> str:
    items = []
    for trial in trials:
        folder = Path(trial["folder"])
        relative = folder.relative_to(root) if folder.is_relative_to(root) else folder
        label = escape(f"{trial['setting']} seed {trial['seed']}: {trial['status']}")
        report = folder / REPORT
        link = f"<a href='{escape((relative / REPORT).as_posix())}'>{label}</a>"
        items.append(f"<li>{link if report.is_file() else label}</li>")
    return "<ul>\n" + "\n".join(items) + "\n</ul>"
