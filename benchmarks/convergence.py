"""How fast does a preset learn a task? Trains several seeds as a sweep and prints the figures.

    python benchmarks/convergence.py --task copy --seeds 10 --jobs 2

A thin caller of `ntmkit.sweep.run_sweep` (the same as `ntmkit sweep TASK --seeds N`): one
Ray Tune trial per seed, each on one thread, --jobs of them at once (at most one per core; keep
the machine otherwise idle while it runs). For each seed it prints the sequences seen and the
wall-clock seconds (training plus the periodic evaluations) until the mean bit errors per
sequence on the fixed evaluation set (the training distribution, e.g. copy lengths 1-20) first
fall below --target, then the error at the --test points; finally the median time over
converged seeds, the fraction of seeds that converged within --budget seconds, and the median
over all seeds (a seed that did not converge counts as over budget).

--keep DIR keeps the sweep folder (summary.json, sweep_curves.png, report.html and each seed's
run folder); running the same command with the same --keep again continues it.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from ntmkit.cli import parse_assignment
from ntmkit.presets import PRESET_NAMES, describe
from ntmkit.sweep import SweepSpec, TrialOutcome, parse_grid_flag, run_sweep


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _median_all(outcomes: list[TrialOutcome], budget: float) -> str:
    """Median seconds over every seed, a seed that did not converge counting as over budget."""
    times = sorted(o.seconds if o.converged else float("inf") for o in outcomes)
    median = statistics.median(times)
    return f"> {budget:.0f} s (budget)" if median == float("inf") else f"{median:.0f} s"


def _spec(args: argparse.Namespace) -> SweepSpec:
    overrides = [parse_assignment(text) for text in args.set]
    overrides.append(("train.target_error", args.target))
    test = parse_grid_flag(args.test) if args.test else None
    return SweepSpec(
        args.task,
        preset=args.preset,
        seeds=args.seeds,
        first_seed=args.first_seed,
        overrides=tuple(overrides),
        budget=args.budget,
        max_iter=10**9,  # the budget ends a seed that does not converge
        generalisation=None if test is None else (test,),
        trial_reports=False,
    )


def _print_table(spec: SweepSpec, outcomes: list[TrialOutcome], test_key: str) -> None:
    points = [row[test_key] for row in outcomes[0].generalisation] if outcomes else []
    header = f"{'seed':>4}  {'converged':>9}  {'sequences':>9}  {'seconds':>7}  {'eval err':>8}"
    print(header + "".join(f"  {f'{test_key[0].upper()}={n}':>7}" for n in points))
    for o in outcomes:
        cells = "".join(f"  {row['bit_errors']:>7.2f}" for row in o.generalisation)
        print(
            f"{o.seed:>4}  {o.converged!s:>9}  {o.sequences:>9}  {o.seconds:>7.1f}  "
            f"{_number(o.eval_error):>8}{cells}"
        )
    converged = [o for o in outcomes if o.converged]
    if converged:
        median = statistics.median(o.seconds for o in converged)
        median_seqs = statistics.median(o.sequences for o in converged)
        print(f"median time to converge: {median:.0f} s ({median_seqs:.0f} sequences)")
    print(f"converged: {len(converged)}/{len(outcomes)} seeds within {spec.budget:.0f} s")
    print(f"median over all seeds: {_median_all(outcomes, spec.budget)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="copy")
    parser.add_argument("--preset", default="fast", choices=PRESET_NAMES)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.01, help="bit errors per sequence")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per seed")
    parser.add_argument(
        "--test", default="length=40,80,120", help="generalisation points, KEY=V1,V2,..."
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", help="also write the per-seed results here")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at once")
    parser.add_argument("--keep", help="keep the sweep folder here (and continue it on a rerun)")
    args = parser.parse_args(argv)

    spec = _spec(args)
    print(f"{describe(spec.base_run())}; target {args.target} bit errors/seq; "
          f"budget {args.budget:.0f} s/seed; {args.jobs} at once")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        result = run_sweep(spec, out, num_cpus=args.jobs)  # a line per seed as it ends
    outcomes = sorted(result.outcomes, key=lambda o: o.seed)
    _print_table(spec, outcomes, next(iter(spec.generalisation_grid())))
    if args.json:
        results = [{**o.__dict__, "generalisation": list(o.generalisation)} for o in outcomes]
        run = spec.base_run().to_dict()
        Path(args.json).write_text(json.dumps({"run": run, "results": results}, indent=2))
    return 0 if result.complete else 130


if __name__ == "__main__":
    sys.exit(main())
