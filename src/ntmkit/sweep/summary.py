"""A sweep's results per setting: ``summary.json`` and the printed table.

For each setting: seeds converged out of those run, the median and interquartile range of the
sequences and seconds to converge over all seeds (a seed that did not converge counts as over
budget: infinite), how many the scheduler stopped early, and the median error at each point of
the generalisation test over the seeds that ran it.
"""

import json
import math
from collections.abc import Sequence
from typing import Any

from .grid import Setting
from .trial import TrialOutcome

SUMMARY_FILE = "summary.json"
OVER = math.inf
"""Sequences and seconds of a seed that did not converge: more than any budget."""


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of ``values`` by linear interpolation between order statistics (numpy's
    default), with infinity kept: between a finite value and infinity it is infinite."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    if fraction == 0 or ordered[low] == ordered[high]:
        return ordered[low]
    if math.isinf(ordered[high]):
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median and quartiles."""
    return {
        "median": quantile(values, 0.5),
        "q1": quantile(values, 0.25),
        "q3": quantile(values, 0.75),
    }


def summarize(
    settings: Sequence[Setting], outcomes: Sequence[TrialOutcome], seeds: int
) -> list[dict[str, Any]]:
    """One entry per setting, in the grid's order; ``seeds`` is how many each should have."""
    rows = []
    for setting in settings:
        mine = [o for o in outcomes if o.setting == setting.name]
        rows.append(
            {
                "setting": setting.name,
                "overrides": setting.as_dict(),
                "seeds": seeds,
                "finished": len(mine),
                "converged": sum(o.converged for o in mine),
                "stopped_early": sum(o.status == "stopped" for o in mine),
                "sequences": spread([o.sequences if o.converged else OVER for o in mine] or [OVER]),
                "seconds": spread([o.seconds if o.converged else OVER for o in mine] or [OVER]),
                "generalisation": _generalisation(mine),
            }
        )
    return rows


ERRORS = ("bit_errors", "symbol_errors", "mse")
"""The error a final-test row holds, by the task's output kind (one of these)."""

SCORES = (*ERRORS, "excess_bits", "cost_bits")
"""The scores of a final-test row (`TrialOutcome.generalisation`); the other keys are its
test point. ``excess_bits`` only for dynamic n-grams, ``cost_bits`` only for priority sort
(the tasks whose measure they are)."""

MEASURE_SUFFIX = {"excess_bits": " excess", "cost_bits": " cost"}
"""How a table column names a final-test score other than bit errors."""


def _generalisation(outcomes: Sequence[TrialOutcome]) -> list[dict[str, Any]]:
    """The median of each score (`SCORES`) at each point of the final test, over the seeds
    that ran it."""
    points: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for outcome in outcomes:
        for row in outcome.generalisation:
            pinned = {k: v for k, v in row.items() if k not in SCORES}
            key = json.dumps(pinned, sort_keys=True)
            points.setdefault(key, (pinned, []))[1].append(row)
    medians = []
    for pinned, rows in points.values():
        scores = {
            name: quantile([row[name] for row in rows], 0.5)
            for name in SCORES
            if all(name in row for row in rows)
        }
        medians.append({**pinned, **scores, "seeds": len(rows)})
    return medians


def to_json(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """``summary.json``: infinities written as null (JSON has none), with ``meta`` on top."""
    return json.dumps({**meta, "settings": _nulls(rows)}, indent=2) + "\n"


def format_table(rows: list[dict[str, Any]], budget: float | None) -> str:
    """The printed table: one line per setting."""
    points = [_point_label(p) for p in rows[0]["generalisation"]] if rows else []
    header = ["setting", "converged", "sequences median [IQR]", "seconds median [IQR]", *points]
    lines = [header]
    for row in rows:
        errors = [f"{_score(p):.2f}" for p in row["generalisation"]]
        lines.append(
            [
                row["setting"],
                f"{row['converged']}/{row['finished']}" + _not_run(row),
                _spread_text(row["sequences"], "{:,.0f}", None),
                _spread_text(row["seconds"], "{:.0f}", budget),
                *errors + [""] * (len(points) - len(errors)),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def _not_run(row: dict[str, Any]) -> str:
    stopped = f", {row['stopped_early']} stopped early" if row["stopped_early"] else ""
    missing = row["seeds"] - row["finished"]
    return stopped + (f", {missing} not run" if missing else "")


def _spread_text(values: dict[str, float], pattern: str, budget: float | None) -> str:
    """``median [q1-q3]``; a seed that did not converge is ``> budget`` (seconds with a budget)
    or ``unsolved``, and a median that did not converge is just that."""

    def show(value: float) -> str:
        if math.isinf(value):
            return f"> {budget:.0f}" if budget else "unsolved"
        return pattern.format(value)

    if math.isinf(values["median"]):
        return show(values["median"])
    return f"{show(values['median'])} [{show(values['q1'])}-{show(values['q3'])}]"


def _point_label(point: dict[str, Any]) -> str:
    names = {"length": "L", "repeats": "R", "items": "I"}
    label = " ".join(
        f"{names.get(k, k)}={v}" for k, v in point.items() if k not in (*SCORES, "seeds")
    )
    return label + "".join(suffix for key, suffix in MEASURE_SUFFIX.items() if key in point)


def _score(point: dict[str, Any]) -> float:
    """A final-test point's task measure: its excess or cost where it has one, else errors."""
    first = [key for key in (*MEASURE_SUFFIX, *ERRORS) if key in point]
    return float(point[first[0]])


def _nulls(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    return value
