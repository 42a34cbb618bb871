"""How many training sequences per second does a preset process? Prints the median of repeats.

    python benchmarks/throughput.py --task copy --steps 100 --repeats 5

Each repeat builds a fresh model with the same seed and times ``--steps`` training steps (the
task's own length draws, no evaluation, no checkpoints) after ``--warmup`` untimed steps, on
``--threads`` torch threads. Keep the machine otherwise idle while it runs: the figures are
wall-clock.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from ntmkit.cli import parse_assignment
from ntmkit.presets import PRESET_NAMES, describe, preset
from ntmkit.run_log import StepRecord, of_kind, read_log
from ntmkit.train import Trainer


def time_steps(run, steps: int, warmup: int, folder: str) -> float:
    """Seconds of ``steps`` training steps after ``warmup`` untimed ones.

    The time is the trainer's own per-step clock (sampling, forward, backward, optimiser step)
    as logged in ``metrics.jsonl``, so logging and start-up are not counted.
    """
    Trainer(run, folder).fit(progress=False, stop_after=warmup + steps)
    times = [r.time for r in of_kind(read_log(Path(folder) / "metrics.jsonl"), StepRecord)]
    return times[warmup + steps - 1] - times[warmup - 1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="copy")
    parser.add_argument("--preset", default="fast", choices=PRESET_NAMES)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5, help="at least 1")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1 or args.repeats < 1:
        parser.error("--warmup, --steps and --repeats must be at least 1")

    torch.set_num_threads(args.threads)
    settings = dict(parse_assignment(text) for text in args.set)
    never = 10**9
    settings.update(
        {"train.max_iter": never, "train.eval_every": never, "train.checkpoint_every": never}
    )
    run = preset(args.task, args.preset).override(settings)
    print(f"{describe(run)}; {args.steps} steps x {args.repeats}, {args.threads} thread(s)")
    rates = []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            seconds = time_steps(run, args.steps, args.warmup, folder)
        rates.append(args.steps * run.train.batch_size / seconds)
        print(f"repeat {repeat}: {rates[-1]:.0f} sequences/s ({args.steps / seconds:.2f} steps/s)")
    median = statistics.median(rates)
    print(f"median: {median:.0f} sequences/s ({median / run.train.batch_size:.2f} steps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
