"""One self-contained HTML page per run: config, final metrics and every picture.

The page embeds its pictures as base64 data URIs and carries its own small stylesheet, so it
opens offline, can be mailed as one file and references nothing outside itself. Parts that
do not exist yet (no evaluation, no checkpoint) are replaced by a sentence saying so.
"""

import base64
import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..run_log import EvaluationRecord, Record, StepRecord, of_kind, read_log
from ..runs import RunFolder
from .common import load_run_config
from .generalisation import read_eval
from .run_figures import (
    ANIMATION,
    CURVES,
    DASHBOARD,
    GENERALISATION,
    write_dashboard,
    write_generalisation,
    write_learning_curves,
)

REPORT = "report.html"

_MIME = {".png": "image/png", ".gif": "image/gif"}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 1em 0; }
caption { text-align: left; color: #555; padding-bottom: 0.3em; }
th, td { padding: 0.25em 0.9em; text-align: right; border-bottom: 1px solid #eee; }
th { background: #f5f5f5; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.missing { color: #8a5300; background: #fff6e5; padding: 0.5em 0.8em; border-radius: 4px; }
"""

_CAPTIONS = {
    DASHBOARD: "One sequence: input, target, prediction, head weightings and final memory.",
    CURVES: "Loss and bit errors per sequence against sequences seen (bold: trailing mean; "
    "dots: evaluations on the fixed evaluation set).",
    GENERALISATION: "Bit errors and perfect sequences against the swept quantity; the shaded "
    "band is the range seen in training.",
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
    if (root / ANIMATION).is_file():
        sections.append(_figure(root, ANIMATION, None))
    sections += ["<h2>Configuration</h2>", f"<pre>{_escape(run.to_json())}</pre>", _footer()]
    page = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>ntmkit report: {_escape(root.name)}</title>\n<style>{_STYLE}</style>\n"
        "</head>\n<body>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )
    path = root / REPORT
    path.write_text(page, encoding="utf-8")
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
        f"<h1>{_escape(root.name)}</h1>\n"
        f"<p class='sub'>{_escape(run.task)} task, {_escape(run.preset)} preset: "
        f"{_escape(progress)}</p>"
    )


def _last_evaluation(root: Path, records: list[Record]) -> str:
    evals = of_kind(records, EvaluationRecord)
    if not evals:
        return _missing(
            "No evaluation yet: the log has no evaluation record "
            "(training evaluates every train.eval_every steps)."
        )
    last = evals[-1]
    row = {"step": last.step, "sequences": last.sequences, **last.eval.to_dict()}
    caption = "Last evaluation on the fixed evaluation set (training distribution)"
    return _table(caption, [row])


def _sweep_table(root: Path) -> str:
    try:
        result = read_eval(root)
    except ValueError as error:
        return _missing(f"No generalisation sweep: {error}")
    scored = "output phase" if result.get("scope", "output") == "output" else "every step"
    caption = (
        f"Generalisation sweep over {' x '.join(result['grid'])} at step {result.get('step', '?')} "
        f"(eval.json, {scored} scored)"
    )
    return _table(caption, result["rows"])


def _table(caption: str, rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    head = "".join(f"<th>{_escape(_column_name(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_escape(_cell(c, row[c]))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return (
        f"<table class='metrics'>\n<caption>{_escape(caption)}</caption>\n"
        f"<tr>{head}</tr>\n{body}\n</table>"
    )


def _column_name(column: str) -> str:
    names = {"bit_errors": "bit errors / seq", "cost_bits": "cost (bits) / seq"}
    return names.get(column, column)


def _cell(column: str, value: Any) -> str:
    if column == "perfect":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _figure(root: Path, name: str, draw: Callable[[], Path] | None) -> str:
    """The picture ``name`` of the run folder, drawn first if missing, embedded in the page."""
    path = root / name
    if not path.is_file() and draw is not None:
        try:
            draw()
        except ValueError as error:
            return _missing(f"No {Path(name).stem.replace('_', ' ')} figure: {error}")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f"<figure><img alt='{_escape(name)}' src='data:{_MIME[path.suffix]};base64,{data}'>"
        f"<figcaption>{_escape(_CAPTIONS[name])}</figcaption></figure>"
    )


def _missing(sentence: str) -> str:
    sentence = sentence if sentence.endswith(".") else sentence + "."
    return f"<p class='missing'>{_escape(sentence)}</p>"


def _footer() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return f"<p class='sub'>Written by ntmkit {_escape(__version__)} on {stamp}.</p>"


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)
