"""Make a shipped model from a trained run folder (for maintainers).

    python -m ntmkit.pretrained.ship sweeps/copy-fast/default/seed4 \\
        --command "ntmkit sweep copy --seeds 10 --budget 600" --chosen "..." --samples 1000

evaluates the run's model on its task's generalisation test (or ``--test KEY=V1,V2,...``),
scored both ways (output phase and every step) on ``--samples`` sequences per point, and
writes the folder ``NAME/`` (`ntmkit.pretrained.model_name`: the task's name, ``TASK-dnc`` for
the DNC's memory; ``model.safetensors``, ``config.json``, ``card.json``,
``metrics.jsonl``) into ``ntmkit/pretrained/models`` (or ``--into``). See `ntmkit.pretrained`.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from ..presets import describe
from ..run.evaluate import EVAL_SEED_OFFSET, sweep
from ..run.folder import RunFolder, load_run, read_run_config
from ..run.log import EvaluationRecord, StepRecord, encode, read_log
from ..sweep.grid import parse_grid_flag
from . import CARD, MODELS, ModelCard, model_name, score_line, test_point

STEPS_KEPT = 400
"""At most this many training-step records go into a shipped learning curve (evenly spaced,
the last one kept)."""
EVALUATIONS_KEPT = 400
"""At most this many evaluation records likewise; every fresh start is kept."""
DIGITS = 6
"""Significant digits of the numbers in a shipped learning curve (a picture needs no more)."""


def ship(
    folder: str | Path,
    command: str,
    chosen: str,
    samples: int,
    grid: dict[str, tuple[int, ...]] | None = None,
    into: str | Path = MODELS,
) -> ModelCard:
    """Write the shipped files of the run in ``folder``; returns its card."""
    run, model, payload = load_run(folder)
    grid = grid or dict(run.task_class.generalisation)
    seed = run.train.seed + 2 * EVAL_SEED_OFFSET  # the seed `ntmkit eval` tests with
    scored = {  # a fresh task per scope: both score the same sequences
        scope: sweep(model, run.make_task(seed=seed), grid, samples, scope=scope)
        for scope in ("output", "all")
    }
    rows = tuple(
        {**{key: row[key] for key in grid}, "samples": samples, "output": row, "all": every}
        for row, every in zip(scored["output"], scored["all"], strict=True)
    )
    card = ModelCard(
        task=run.task,
        preset=run.preset,
        seed=run.train.seed,
        recipe=describe(run),
        sequences=int(payload["sequences"]),
        seconds=float(payload.get("seconds", 0.0)),
        command=command,
        chosen=chosen,
        generalisation=rows,
        date=datetime.date.today().isoformat(),
    )
    shipped = Path(into) / model_name(run)
    write_shipped(shipped, run, model, payload, card)
    (shipped / "metrics.jsonl").write_text(_learning_curve(RunFolder(Path(folder))))
    return card


def write_shipped(
    into: Path, run, model, payload: dict[str, Any], card: ModelCard | None = None
) -> None:
    """A shipped model's folder: the weights (float32, with the run's counts as metadata), the
    run config and, given one, the card."""
    counts = {k: str(payload.get(k, 0)) for k in ("step", "sequences", "seconds")}
    model.float().save_pretrained(into, metadata=counts)
    (into / "config.json").write_text(run.to_json() + "\n")  # the run's, beside the weights
    if card is not None:
        (into / CARD).write_text(card.to_json() + "\n")


def _learning_curve(folder: RunFolder) -> str:
    """The run's log with its step and evaluation records thinned to `STEPS_KEPT` and
    `EVALUATIONS_KEPT`, its numbers to `DIGITS` significant digits."""
    records = read_log(folder.metrics)
    thinned = {StepRecord: STEPS_KEPT, EvaluationRecord: EVALUATIONS_KEPT}
    kept: set[int] = set()
    for kind, most in thinned.items():
        some = [r for r in records if isinstance(r, kind)]
        every = max(1, -(-len(some) // most))
        kept |= {id(r) for r in some[::every]} | ({id(some[-1])} if some else set())
    chosen = [r for r in records if not isinstance(r, tuple(thinned)) or id(r) in kept]
    return "".join(json.dumps(_rounded(json.loads(encode(r)))) + "\n" for r in chosen)


def _rounded(value: Any) -> Any:
    """``value`` (parsed JSON) with every float at `DIGITS` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the trained run folder")
    parser.add_argument("--command", required=True, help="how it was trained")
    parser.add_argument("--chosen", required=True, help="why this seed")
    parser.add_argument("--samples", type=int, default=1000, help="sequences per test point")
    parser.add_argument("--test", action="append", default=[], metavar="KEY=V1,V2,...")
    parser.add_argument("--into", default=str(MODELS))
    args = parser.parse_args(argv)
    grid = dict(parse_grid_flag(text) for text in args.test) or None
    card = ship(args.run, args.command, args.chosen, args.samples, grid, args.into)
    measure = read_run_config(RunFolder(Path(args.run)).config).measure
    for row in card.generalisation:
        point = ", ".join(f"{k}={v}" for k, v in test_point(row).items())
        print(f"{point}: {score_line(row, every_step=True, measure=measure)}")
    print(f"wrote {args.into}/{model_name(read_run_config(RunFolder(Path(args.run)).config))}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
