"""One self-contained HTML page per run: config, final metrics and every picture.

The page embeds its pictures as base64 data URIs and carries its own small stylesheet, so it
opens offline, can be mailed as one file and references nothing outside itself. Parts that
do not exist yet (no evaluation, no checkpoint) are replaced by a sentence saying so.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..run.files import write_text_atomically
from ..run.folder import RunFolder
from ..run.log import EvaluationRecord, Record, StepRecord, of_kind, read_log
from .common import load_run_config
from .generalisation import read_eval
from .html_page import default_cell, embedded_image, escape, footer, missing, page, table
from .run_figures import (
    ANIMATION,
    CURVES,
    DASHBOARD,
    GENERALISATION,
    PAPER_COMPARISON,
    has_paper_figure,
    write_dashboard,
    write_generalisation,
    write_learning_curves,
    write_paper_comparison,
)

REPORT = "report.html"

_CAPTIONS = {
    DASHBOARD: "One sequence: input, target, prediction, head weightings and final memory.",
    CURVES: "Loss and bit errors per sequence against sequences seen (bold: trailing mean; "
    "dots: evaluations on the fixed evaluation set).",
    GENERALISATION: "Bit errors and perfect sequences against the swept quantity; the shaded "
    "band is the range seen in training.",
    PAPER_COMPARISON: "Cost per sequence of this run's evaluations next to the learning curves "
    "of Graves et al. 2014 (read from the paper's figure).",
    ANIMATION: "Memory and head weightings, one frame per time step.",
}


def write_report(run_folder: str | Path) -> Path:
    """Write RUN/report.html, drawing the run's missing figures first; returns its path."""
    root = Path(run_folder)
    run = load_run_config(root)
    records = read_log(RunFolder(root).metrics)
    sections = [
        _heading(root, run, records),
        "<h2>Final metrics</h2>",
        _last_evaluation(root, records),
        _sweep_table(root),
        "<h2>Figures</h2>",
        _figure(root, DASHBOARD, lambda: write_dashboard(root)),
        _figure(root, CURVES, lambda: write_learning_curves(root)),
        _figure(root, GENERALISATION, lambda: write_generalisation(root)),
    ]
    if has_paper_figure(root):
        sections.append(_figure(root, PAPER_COMPARISON, lambda: write_paper_comparison(root)))
    if (root / ANIMATION).is_file():
        sections.append(_figure(root, ANIMATION, None))
    sections += ["<h2>Configuration</h2>", f"<pre>{escape(run.to_json())}</pre>", footer()]
    html = page(f"ntmkit report: {root.name}", sections)
    path = root / REPORT
    write_text_atomically(path, html)
    return path


def _heading(root: Path, run, records: list[Record]) -> str:
    steps = of_kind(records, StepRecord)
    if steps:
        last = steps[-1]
        progress = (
            f"step {last.step:,}, {last.sequences:,} sequences, "
            f"{last.time / 60:.1f} min of training"
        )
    else:
        progress = "no training step logged yet"
    return (
        f"<h1>{escape(root.name)}</h1>\n"
        f"<p class='sub'>{escape(run.task_label)} task, {escape(run.preset)} preset: "
        f"{escape(progress)}</p>"
    )


def _last_evaluation(root: Path, records: list[Record]) -> str:
    evals = of_kind(records, EvaluationRecord)
    if not evals:
        return missing(
            "No evaluation yet: the log has no evaluation record "
            "(training evaluates every train.eval_every steps)."
        )
    last = evals[-1]
    row = {"step": last.step, "sequences": last.sequences, **last.eval.to_dict()}
    caption = "Last evaluation on the fixed evaluation set (training distribution)"
    return table(caption, [row], _cell, _column_name)


def _sweep_table(root: Path) -> str:
    try:
        result = read_eval(root)
    except ValueError as error:
        return missing(f"No generalisation sweep: {error}")
    scored = "output phase" if result.get("scope", "output") == "output" else "every step"
    caption = (
        f"Generalisation sweep over {' x '.join(result['grid'])} at step {result.get('step', '?')} "
        f"(eval.json, {scored} scored)"
    )
    return table(caption, result["rows"], _cell, _column_name)


def _column_name(column: str) -> str:
    names = {
        "bit_errors": "bit errors / seq",
        "symbol_errors": "wrong classes / seq",
        "cost_bits": "cost (bits) / seq",
    }
    return names.get(column, column)


def _cell(column: str, value: Any) -> str:
    percent = column in ("perfect", "accuracy")
    return escape(f"{value:.1%}" if percent else default_cell(value))


def _figure(root: Path, name: str, draw: Callable[[], Path] | None) -> str:
    """The picture ``name`` of the run folder, drawn first if missing, embedded in the page."""
    path = root / name
    if not path.is_file() and draw is not None:
        try:
            draw()
        except ValueError as error:
            return missing(f"No {Path(name).stem.replace('_', ' ')} figure: {error}")
    return embedded_image(path, _CAPTIONS[name])
