"""How fast does a preset learn a task? Trains several seeds and prints the figures.

    python benchmarks/convergence.py --task copy --seeds 10

For each seed: sequences seen and wall-clock seconds (training plus the periodic evaluations)
until the mean bit errors per sequence on the fixed evaluation set (the training distribution,
e.g. copy lengths 1-20) first fall below --target, then the error at longer lengths; finally
the median time over converged seeds, the fraction of seeds that converged within --budget
seconds, and the median over all seeds (a seed that did not converge counts as over budget).
Each seed runs on one thread; --jobs N runs N seeds at once in separate processes (use at most
one per core, and keep the machine otherwise idle while it runs). --keep DIR keeps each seed's
run folder (its metrics.jsonl holds the learning curve; `ntmkit report DIR/seedN` draws it).
"""

import argparse
import concurrent.futures
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from ntmkit.cli import parse_assignment
from ntmkit.evaluate import sweep
from ntmkit.presets import PRESET_NAMES, describe, preset
from ntmkit.train import Trainer


def run_seed(run, seed: int, budget: float, lengths: list[int], folder: Path) -> dict:
    torch.set_num_threads(1)
    run = run.override({"train.seed": seed})
    trainer = Trainer(run, folder / f"seed{seed}")
    start = time.perf_counter()
    result = trainer.fit(progress=False, time_limit=budget)
    seconds = time.perf_counter() - start
    task = run.make_task(seed=10_000 + seed)
    rows = sweep(trainer.model, task, {"length": lengths}, samples=100) if lengths else []
    return {
        "seed": seed,
        "converged": result.converged,
        "sequences": result.sequences,
        "steps": result.step,
        "seconds": seconds,
        "eval_error": result.last_eval.bit_errors if result.last_eval else None,
        "generalisation": {row["length"]: row["bit_errors"] for row in rows},
    }


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _median_all(results: list[dict], budget: float) -> str:
    """Median seconds over every seed, a seed that did not converge counting as over budget."""
    times = sorted(r["seconds"] if r["converged"] else float("inf") for r in results)
    median = statistics.median(times)
    return f"> {budget:.0f} s (budget)" if median == float("inf") else f"{median:.0f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="copy")
    parser.add_argument("--preset", default="fast", choices=PRESET_NAMES)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.01, help="bit errors per sequence")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per seed")
    parser.add_argument("--lengths", default="40,80,120", help="generalisation test lengths")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", help="also write the per-seed results here")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at once")
    parser.add_argument("--keep", help="keep each seed's run folder (metrics, checkpoint) here")
    args = parser.parse_args(argv)

    settings = dict(parse_assignment(text) for text in args.set)
    settings.update({"train.target_error": args.target, "train.max_iter": 10**9})
    run = preset(args.task, args.preset).override(settings)
    lengths = [int(x) for x in args.lengths.split(",") if x]
    print(f"{describe(run)}; target {args.target} bit errors/seq; budget {args.budget:.0f} s/seed")
    header = f"{'seed':>4}  {'converged':>9}  {'sequences':>9}  {'seconds':>7}  {'eval err':>8}"
    print(header + "".join(f"  {'L=' + str(n):>7}" for n in lengths))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results = []
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory() as tmp,
        concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool,
    ):
        folder = Path(args.keep or tmp)
        futures = [pool.submit(run_seed, run, s, args.budget, lengths, folder) for s in seeds]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results.append(r)
            cells = "".join(f"  {r['generalisation'][n]:>7.2f}" for n in lengths)
            print(
                f"{r['seed']:>4}  {r['converged']!s:>9}  {r['sequences']:>9}  "
                f"{r['seconds']:>7.1f}  {_number(r['eval_error']):>8}{cells}",
                flush=True,
            )
    results.sort(key=lambda r: r["seed"])
    converged = [r for r in results if r["converged"]]
    if converged:
        median = statistics.median(r["seconds"] for r in converged)
        median_seqs = statistics.median(r["sequences"] for r in converged)
        print(f"median time to converge: {median:.0f} s ({median_seqs:.0f} sequences)")
    print(f"converged: {len(converged)}/{len(results)} seeds within {args.budget:.0f} s")
    print(f"median over all seeds: {_median_all(results, args.budget)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"run": run.to_dict(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
