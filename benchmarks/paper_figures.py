"""Reads the paper's learning curves out of its PDF into ``ntmkit/plots/paper_curves.json``.

    pip install pymupdf          # not a dependency of ntmkit; only this script needs it
    python benchmarks/paper_figures.py PATH/TO/1410.5401v2.pdf

Graves et al. 2014 drew Figures 3, 7, 10, 13 and 18 (copy, repeat copy, associative recall,
dynamic n-grams, priority sort) as vector graphics: each series is one stroked polyline
through its markers, one marker per 10,000 sequences. This script takes those polylines'
vertices and maps them to data through the axes' tick labels (a least-squares line per
axis), so the values are what the figure shows, to a fraction of a line's width, not a reading
by eye. Points clipped at the top border are dropped. The n-gram figure's optimal estimator
is a flat line and is kept as its two ends.

The JSON holds numbers from a published figure: cite them as read from the figure.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "ntmkit" / "plots" / "paper_curves.json"

FIGURES = {  # task: (page index in arXiv v2, figure number)
    "copy": (10, 3),
    "repeat_copy": (13, 7),
    "associative_recall": (15, 10),
    "ngrams": (18, 13),
    "priority_sort": (21, 18),
}
SERIES = {  # stroke colour (rounded RGB) -> the legend's name
    (0.11, 0.27, 0.6): "LSTM",
    (0.07, 0.68, 0.2): "NTM with LSTM controller",
    (0.9, 0.17, 0.09): "NTM with feedforward controller",
}
OPTIMAL = (0.9, 0.62, 0.09)  # the n-gram figure's "Optimal Estimator" line
CLIPPED = 0.02  # points within this fraction of the y range of the top tick were clipped
JOINED = 1e-3  # page points: a segment starting this close to the last one's end continues it


def _colour(drawing) -> tuple:
    return tuple(round(c, 2) for c in drawing.get("color") or ())


def _longest_polyline(items) -> list[tuple[float, float]]:
    """The longest run of connected line segments (the legend's sample line is separate)."""
    runs, current = [], []
    for kind, *points in items:
        if kind != "l":
            continue
        start, end = points[0], points[1]
        if current and max(abs(current[-1][0] - start.x), abs(current[-1][1] - start.y)) < JOINED:
            current.append((end.x, end.y))
        else:
            runs.append(current)
            current = [(start.x, start.y), (end.x, end.y)]
    runs.append(current)
    return max(runs, key=len)


def _axis_map(ticks: list[tuple[float, float]]):
    """Least-squares page coordinate -> value map of one axis from (position, label) pairs."""
    positions, values = np.array(ticks).T
    slope, offset = np.polyfit(positions, values, 1)
    return lambda p: float(slope * p + offset)


def read_figure(page) -> dict:
    """The axes' ranges and each series' points, ``[thousands of sequences, bits]``."""
    polylines = {
        SERIES[_colour(d)]: _longest_polyline(d["items"])
        for d in page.get_drawings()
        if d["type"] == "s" and len(d["items"]) > 20 and _colour(d) in SERIES
    }
    xs = [x for line in polylines.values() for x, _ in line]
    ys = [y for line in polylines.values() for _, y in line]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    numbers = [w for w in page.get_text("words") if w[4].replace(".", "", 1).isdigit()]
    # Tick labels: the y axis's are right-aligned left of the plot, the x axis's share a top.
    near_y = [w for w in numbers if left - 30 < w[2] < left + 3 and top - 30 < w[1] < bottom + 15]
    edge = Counter(round(w[2], 1) for w in near_y).most_common(1)[0][0]
    y_ticks = [((w[1] + w[3]) / 2, float(w[4])) for w in near_y if round(w[2], 1) == edge]
    below = [w for w in numbers if bottom < w[1] < bottom + 25 and left - 30 < w[0] < right + 15]
    row = Counter(round(w[1], 1) for w in below).most_common(1)[0][0]
    x_ticks = [((w[0] + w[2]) / 2, float(w[4])) for w in below if round(w[1], 1) == row]
    to_x, to_y = _axis_map(x_ticks), _axis_map(y_ticks)
    top_value = max(v for _, v in y_ticks)
    limit = top_value - CLIPPED * (top_value - min(v for _, v in y_ticks))
    series = {}
    for name, line in polylines.items():
        points = [[round(to_x(x), 1) + 0.0, round(to_y(y), 2) + 0.0] for x, y in line]  # no -0.0
        while points and points[0][1] >= limit:
            points.pop(0)
        series[name] = points
    for d in page.get_drawings():
        for kind, *ends in d["items"] if _colour(d) == OPTIMAL else ():
            flat = kind == "l" and abs(ends[0].y - ends[1].y) < JOINED
            if flat and ends[1].x - ends[0].x > (right - left) / 2:  # not the legend's sample
                value = round(to_y(ends[0].y), 2)
                series["Optimal estimator"] = [[0.0, value], [1000.0, value]]
    axes = {"x": [min(v for _, v in x_ticks), max(v for _, v in x_ticks)], "y": [0.0, top_value]}
    if min(v for _, v in y_ticks) > 0:  # the n-gram figure's axis starts at 130 bits
        axes["y"][0] = min(v for _, v in y_ticks)
    return {"axes": axes, "series": series}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path, help="the paper, arXiv 1410.5401v2")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    try:
        import pymupdf
    except ImportError:
        raise SystemExit("error: this script needs PyMuPDF: pip install pymupdf") from None
    document = pymupdf.open(args.pdf)
    tasks = {
        task: {"figure": figure, **read_figure(document[page])}
        for task, (page, figure) in FIGURES.items()
    }
    data = {
        "source": "Graves, Wayne & Danihelka 2014, Neural Turing Machines, arXiv:1410.5401v2",
        "read": "from the figures' vector drawing by benchmarks/paper_figures.py",
        "x": "sequence number (thousands)",
        "y": "cost per sequence (bits)",
        "tasks": tasks,
    }
    text = json.dumps(data, indent=1)
    text = re.sub(r"\[\s+(-?[\d.]+),\s+(-?[\d.]+)\s+\]", r"[\1, \2]", text)  # a point per line
    args.out.write_text(text + "\n")
    for task, entry in tasks.items():
        ends = ", ".join(f"{name} {line[-1][1]:g}" for name, line in entry["series"].items())
        print(f"{task} (Figure {entry['figure']}): last points {ends}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
