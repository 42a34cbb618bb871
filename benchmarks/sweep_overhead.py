"""What Ray costs a sweep: start-up, and per-trial scheduling, against a plain process pool.

    python benchmarks/sweep_overhead.py --trials 16 --jobs 2 --rounds 2

Runs the same short trials (the tiny copy run: 2-bit vectors, lengths 1-3, --steps steps of
8, then a small generalisation test) three ways, alternating, --rounds times:

* ``ray``: `ntmkit.sweep.run_sweep` with a local Ray of --jobs CPUs (start-up included);
* ``pool``: a spawn `concurrent.futures.ProcessPoolExecutor` of --jobs workers training the
  same run folders (what `benchmarks/convergence.py` used before it called the sweep);
* ``serial``: the same trainings one after another in this process (the work itself).

It prints the wall-clock of each, Ray's own start and stop (``ray.init`` to
``ray.shutdown``, no trials), the sweep's own summary, figure and report (a rerun of the
finished sweep), and the overhead per trial of Ray over the pool with those two taken out.
Use at most one job per core and keep the machine otherwise idle.
"""

import argparse
import concurrent.futures
import io
import multiprocessing
import statistics
import sys
import tempfile
import time

import torch

from ntmkit.sweep import SweepSpec, TrialSpec, run_sweep
from ntmkit.sweep.ray_session import ray_session
from ntmkit.training.trainer import Trainer

TINY = {
    "task.size": 2, "task.min_length": 1, "task.max_length": 3, "model.num_slots": 8,
    "model.word_size": 4, "model.controller_size": 16, "train.batch_size": 8,
    "train.eval_samples": 50, "train.eval_every": 10, "train.checkpoint_every": 10,
}  # fmt: skip
TEST = (("length", (3, 6)),)


def _spec(trials: int, steps: int) -> SweepSpec:
    overrides = (*TINY.items(), ("train.target_error", 0.0))  # every trial runs all its steps
    return SweepSpec("copy", seeds=trials, overrides=overrides, max_iter=steps,
                     generalisation=TEST, trial_reports=False)  # fmt: skip


def _train(trial: dict) -> None:
    """One trial's work, as a sweep's trial does it, without Ray."""
    torch.set_num_threads(1)
    spec = TrialSpec.from_dict(trial)
    trainer = Trainer(spec.run, spec.folder)
    trainer.fit(progress=False)
    trainer.final_sweep(grid=dict(TEST))


def _timed(way: str, spec: SweepSpec, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        trials = [t.to_dict() for t in spec.trials(tmp)]
        start = time.perf_counter()
        if way == "ray":
            run_sweep(spec, tmp, num_cpus=jobs, stream=io.StringIO())
        elif way == "summary":  # a rerun of a finished sweep: no Ray, no training
            run_sweep(spec, tmp, num_cpus=jobs, stream=io.StringIO())
            start = time.perf_counter()
            run_sweep(spec, tmp, num_cpus=jobs, stream=io.StringIO())
        elif way == "pool":
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
                list(pool.map(_train, trials))
        else:
            for trial in trials:
                _train(trial)
        return time.perf_counter() - start


def _ray_start_and_stop(jobs: int) -> float:
    start = time.perf_counter()
    with ray_session(None, jobs):
        pass
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--steps", type=int, default=40, help="training steps per trial")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    spec = _spec(args.trials, args.steps)
    ways = ["ray", "pool", "serial", "summary"]
    seconds: dict[str, list[float]] = {way: [] for way in (*ways, "ray start")}
    for round_ in range(args.rounds):
        for way in ways if round_ % 2 == 0 else ways[::-1]:
            seconds[way].append(_timed(way, spec, args.jobs))
        seconds["ray start"].append(_ray_start_and_stop(args.jobs))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in seconds.items()))
    median = {way: statistics.median(values) for way, values in seconds.items()}
    print(f"{args.trials} trials of {args.steps} steps, {args.jobs} at once; medians of "
          f"{args.rounds} rounds:")  # fmt: skip
    for way, value in median.items():
        per = f"  ({value / args.trials:.2f} s per trial)" if way in ways[:3] else ""
        print(f"  {way:<9} {value:6.1f} s{per}")
    fixed = median["ray start"] + median["summary"]
    per_trial = (median["ray"] - fixed - median["pool"]) / args.trials
    print(f"Ray over the pool: {per_trial:+.2f} s per trial, plus {median['ray start']:.1f} s "
          f"to start and stop Ray and {median['summary']:.1f} s for the summary, figure and "
          "report once per sweep")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
