"""How many training sequences per second does each engine process? Engines alternate in one run.

    python benchmarks/throughput.py --task copy --engine eager,fused --batch 1,8,64 --rounds 5
    python benchmarks/throughput.py --batch 1 --peer ../pytorch-ntm      # and pytorch-ntm's loop
    python benchmarks/throughput.py --batch 64 --threads 1,2             # one and two threads
    python benchmarks/throughput.py --eval --batch 100 --length 120      # no-grad evaluation

Training: for each batch size, one `Trainer` of the preset (batch size replaced, no evaluations
or checkpoints) trains ``--steps`` steps per engine per round, the engines' order alternating
between rounds; a step is what the trainer times (sampling, forward, backward, clipping,
optimiser). Each engine's figure is the median over rounds, and the ratio of the first engine
listed last (fused) to the first (eager) is taken per round: median and range. ``--peer PATH``
adds the batch-1 training loop of loudinthecloud/pytorch-ntm (a checkout the user provides,
never vendored) on copy, with its own defaults (LSTM-100, memory 128 x 20, one head of each
kind, RMSprop 1e-4), to the same rounds. ``--memory`` measures each engine's peak resident
memory in a fresh process. Keep the machine otherwise idle: the figures are wall-clock.
"""

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ntmkit import engine, fused
from ntmkit.cli import parse_assignment
from ntmkit.fused.build import load_seconds
from ntmkit.model import NTM
from ntmkit.presets import PRESET_NAMES, describe, preset
from ntmkit.run.evaluate import draw_eval_set, evaluate_batches
from ntmkit.training.trainer import Trainer

NEVER = 10**9


def training_run(args, batch: int):
    settings = dict(parse_assignment(text) for text in args.set)
    settings.update({"train.batch_size": batch, "train.max_iter": NEVER,
                     "train.eval_every": NEVER, "train.checkpoint_every": NEVER})  # fmt: skip
    return preset(args.task, args.preset).override(settings)


def time_training(trainer: Trainer, name: str, steps: int) -> float:
    """Sequences per second of ``steps`` more steps of ``trainer`` under engine ``name``."""
    before = trainer.seconds
    with engine.use(name):
        trainer.fit(progress=False, stop_after=trainer.step + steps)
    return steps * trainer.run.train.batch_size / (trainer.seconds - before)


class Peer:
    """loudinthecloud/pytorch-ntm's batch-1 copy training loop (its train.py, train_batch)."""

    def __init__(self, path: str, task, seed: int = 0) -> None:
        sys.path.insert(0, str(Path(path).resolve()))
        from ntm.aio import EncapsulatedNTM  # the user's checkout

        torch.manual_seed(seed)
        self.net = EncapsulatedNTM(9, 8, 100, 1, 1, 128, 20)
        self.optimizer = torch.optim.RMSprop(
            self.net.parameters(), lr=1e-4, momentum=0.9, alpha=0.95
        )
        self.criterion = torch.nn.BCELoss()
        self.task = task

    def rate(self, sequences: int) -> float:
        batches = [self.task.sample(1) for _ in range(sequences)]
        start = time.perf_counter()
        for batch in batches:
            length = (batch.inputs.shape[0] - 1) // 2
            x, y = batch.inputs[: length + 1], batch.targets[length + 1 :, :, :8]
            self.optimizer.zero_grad()
            self.net.init_sequence(1)
            for t in range(x.shape[0]):
                self.net(x[t])
            out = torch.stack([self.net()[0] for _ in range(y.shape[0])])
            loss = self.criterion(out, y)
            loss.backward()
            for p in self.net.parameters():
                p.grad.data.clamp_(-10, 10)
            self.optimizer.step()
        return sequences / (time.perf_counter() - start)


def summarize(rates: dict[str, list[float]], first: str, last: str) -> str:
    medians = ", ".join(f"{name} {statistics.median(r):.0f}" for name, r in rates.items())
    ratios = [b / a for a, b in zip(rates[first], rates[last])]
    spread = f"{statistics.median(ratios):.1f}x (range {min(ratios):.1f}-{max(ratios):.1f})"
    text = f"median sequences/s: {medians}; {last}/{first} {spread}"
    if "peer" in rates:
        peer_ratios = [b / p for p, b in zip(rates["peer"], rates[last])]
        text += f"; {last}/pytorch-ntm {statistics.median(peer_ratios):.1f}x"
    return text


def training_rounds(args, batch: int, threads: int) -> None:
    torch.set_num_threads(threads)
    run = training_run(args, batch)
    print(f"\nbatch {batch}, {threads} thread(s): {describe(run)}")
    names = args.engine.split(",")
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(run, folder)
        peer = Peer(args.peer, run.make_task(seed=1)) if args.peer and batch == 1 else None
        started = time.perf_counter()
        for name in names:  # warm-up, and the engine's build or load
            time_training(trainer, name, 2)
        warm_up, loading = time.perf_counter() - started, load_seconds() or 0.0
        print(f"warm-up {warm_up:.1f} s (engine load {loading:.1f} s)")
        rates: dict[str, list[float]] = {name: [] for name in names}
        if peer is not None:
            rates["peer"] = []
        for round_ in range(args.rounds):
            order = names if round_ % 2 == 0 else names[::-1]
            stream = trainer.task.get_rng_state()
            for name in order:  # every engine trains on the same batches in a round
                trainer.task.set_rng_state(stream)
                rates[name].append(time_training(trainer, name, args.steps))
            if peer is not None:
                rates["peer"].append(peer.rate(max(5, args.steps // 4)))
            print(
                f"round {round_}: " + ", ".join(f"{n} {r[-1]:.0f}" for n, r in rates.items()),
                flush=True,
            )
    print(summarize(rates, names[0], names[-1]))


def eval_rounds(args) -> None:
    """No-grad evaluation of ``--batch`` copy sequences of length ``--length``, per engine."""
    torch.set_num_threads(1)
    run = training_run(args, args.eval_batch)
    torch.manual_seed(0)
    model = NTM(run.model).eval()
    batches = draw_eval_set(run.make_task(seed=2), args.eval_batch, length=args.length)
    names = args.engine.split(",")
    print(f"\nevaluation: {args.eval_batch} sequences of length {args.length}, {describe(run)}")
    for name in names:
        with engine.use(name):
            evaluate_batches(model, batches)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            with engine.use(name):
                start = time.perf_counter()
                evaluate_batches(model, batches)
                rates[name].append(args.eval_batch / (time.perf_counter() - start))
        print(
            f"round {round_}: " + ", ".join(f"{n} {r[-1]:.0f}" for n, r in rates.items()),
            flush=True,
        )
    print(summarize(rates, names[0], names[-1]))


def memory_probe(args, name: str, batch: int) -> float:
    """Peak resident memory (MB) of a fresh process training 3 steps with engine ``name``."""
    code = (
        "import resource, sys, tempfile, torch; sys.argv = sys.argv[:1]\n"
        "sys.path.insert(0, 'benchmarks'); import throughput as t\n"
        f"args = t.parse(['--task', {args.task!r}, '--preset', {args.preset!r}])\n"
        f"run = t.training_run(args, {batch})\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        f"    t.time_training(t.Trainer(run, d), {name!r}, 3)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="copy")
    parser.add_argument("--preset", default="fast", choices=PRESET_NAMES)
    parser.add_argument("--engine", default="eager,fused", help="engines, comma-separated")
    parser.add_argument("--batch", default="1,8,64", help="batch sizes, comma-separated")
    parser.add_argument("--threads", default="1", help="thread counts, comma-separated")
    parser.add_argument("--steps", type=int, default=20, help="training steps per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peer", help="a checkout of loudinthecloud/pytorch-ntm (batch 1)")
    parser.add_argument("--memory", action="store_true", help="peak memory per engine and batch")
    parser.add_argument("--eval", action="store_true", help="time no-grad evaluation instead")
    parser.add_argument("--eval-batch", type=int, default=100, help="sequences evaluated")
    parser.add_argument("--length", type=int, default=120, help="payload length evaluated")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    print(f"torch {torch.__version__}, fused engine {'available' if fused.load() else 'MISSING'}")
    if args.eval:
        eval_rounds(args)
        return 0
    for threads in (int(n) for n in args.threads.split(",")):
        for batch in (int(b) for b in args.batch.split(",")):
            training_rounds(args, batch, threads)
    if args.memory:
        print("\npeak resident memory (MB), fresh process, 3 training steps:")
        for batch in (int(b) for b in args.batch.split(",")):
            cells = [f"{n} {memory_probe(args, n, batch):.0f}" for n in args.engine.split(",")]
            print(f"batch {batch}: " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
