"""The pieces of ntmkit's self-contained HTML pages (a run's report, a sweep's report).

Pages carry their own small stylesheet and embed their pictures as base64 data URIs, so they
open offline, can be mailed as one file and reference nothing outside themselves.
"""

import base64
import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__

MIME = {".png": "image/png", ".gif": "image/gif"}

STYLE = """
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


def page(title: str, sections: list[str]) -> str:
    """A whole HTML document with ``sections`` (HTML fragments) as its body."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n"
        "</head>\n<body>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def table(
    caption: str,
    rows: list[dict[str, Any]],
    cell: Callable[[str, Any], str] | None = None,
    column_name: Callable[[str], str] = str,
) -> str:
    """A table of ``rows`` (dicts sharing the first one's keys as columns); ``cell`` turns a
    value into text (default: floats with three decimals); ``cell`` may return HTML."""
    columns = list(rows[0])
    head = "".join(f"<th>{escape(column_name(c))}</th>" for c in columns)
    show = cell or (lambda column, value: escape(default_cell(value)))
    body = "".join(
        "<tr>" + "".join(f"<td>{show(c, row[c])}</td>" for c in columns) + "</tr>" for row in rows
    )
    return (
        f"<table class='metrics'>\n<caption>{escape(caption)}</caption>\n"
        f"<tr>{head}</tr>\n{body}\n</table>"
    )


def default_cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def embedded_image(path: Path, caption: str) -> str:
    """A figure with the picture at ``path`` inside the page."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f"<figure><img alt='{escape(path.name)}' src='data:{MIME[path.suffix]};base64,{data}'>"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def missing(sentence: str) -> str:
    """A highlighted sentence standing in for a part that does not exist yet."""
    sentence = sentence if sentence.endswith(".") else sentence + "."
    return f"<p class='missing'>{escape(sentence)}</p>"


def footer() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return f"<p class='sub'>Written by ntmkit {escape(__version__)} on {stamp}.</p>"


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)
