"""Is this checkout's fused engine faster than an earlier commit's? Both built, in one process.

    python benchmarks/engine_ab.py --rev HEAD~1 --rounds 40

builds the engine's C++ sources as they were at ``--rev`` (``src/ntmkit/fused/csrc``, taken
with ``git show``) under another module name beside this checkout's, then times no-grad
evaluation of ``--batch`` copy sequences of length ``--length`` (the `fast` copy model, one
thread) with the two builds in turn, their order alternating between rounds. Each round's
ratio old/new compares two evaluations a fraction of a second apart, so the machine's drift
(tens of percent between minutes here) mostly cancels; the median ratio and its range are
printed. Above 1: this checkout's engine is faster. ``--train`` times a forward and backward
pass of ``--batch`` sequences instead (training's share of the engine). Spec fields added
since ``--rev`` are left out of the old build's spec (it reads none of them), so a model that
needs one cannot be compared.
"""

import argparse
import ast
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.cpp_extension import load as load_extension

sys.path.insert(0, str(Path(__file__).parent))
import throughput

from ntmkit import engine
from ntmkit.fused import build, sequence
from ntmkit.model import NTM
from ntmkit.run.evaluate import draw_eval_set, evaluate_batches

SOURCES = "src/ntmkit/fused/csrc"


def build_at(rev: str, folder: Path):
    """The engine module built from the sources at ``rev``."""
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{rev}:{SOURCES}"],
                           capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    for name in names:
        text = subprocess.run(["git", "show", f"{rev}:{SOURCES}/{name}"],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
        (folder / name).write_text(text)
    level, arch = build.isa_level()
    libmvec = build._has_libmvec()  # as build.load decides it
    return load_extension(
        name=f"ntmkit_engine_at_{level}",
        sources=[str(folder / "engine.cpp")],
        extra_cflags=[*build.FLAGS, *arch, *(["-DNTMKIT_LIBMVEC"] if libmvec else [])],
        extra_ldflags=["-fopenmp", *(["-lmvec"] if libmvec else [])],
        extra_include_paths=[str(folder)],
        build_directory=str(folder),
    )


def spec_length_at(rev: str) -> int:
    """How many spec fields the engine at ``rev`` reads (its spec.py's SPEC_FIELDS)."""
    text = subprocess.run(["git", "show", f"{rev}:src/ntmkit/fused/spec.py"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SPEC_FIELDS":
            return len(ast.literal_eval(node.value))
    raise SystemExit(f"error: no SPEC_FIELDS in {rev}'s spec.py")


class OlderSpec:
    """An engine module built at an earlier commit, given only the spec fields it knows."""

    def __init__(self, module, fields: int) -> None:
        self.module, self.fields = module, fields

    def forward(self, spec, *rest):
        return self.module.forward(spec[: self.fields], *rest)

    def backward(self, spec, *rest):
        return self.module.backward(spec[: self.fields], *rest)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="the commit whose engine to compare")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=100, help="sequences evaluated")
    parser.add_argument("--length", type=int, default=120, help="payload length")
    parser.add_argument("--train", action="store_true", help="time forward and backward")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    new = build.load()
    with tempfile.TemporaryDirectory() as folder:
        old = OlderSpec(build_at(args.rev, Path(folder)), spec_length_at(args.rev))
        run = throughput.training_run(throughput.parse(["--eval"]), args.batch)
        torch.manual_seed(0)
        model = NTM(run.model).train(args.train)
        batches = draw_eval_set(run.make_task(seed=2), args.batch, length=args.length)
        builds = {"old": old, "new": new}
        seconds: dict[str, list[float]] = {name: [] for name in builds}
        with engine.use("fused"):
            for round_ in range(args.rounds):
                for name in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
                    sequence.load = lambda module=builds[name]: module
                    start = time.perf_counter()
                    if args.train:
                        for batch in batches:
                            model(batch.inputs)[0].square().sum().backward()
                    else:
                        evaluate_batches(model, batches)
                    seconds[name].append(time.perf_counter() - start)
        sequence.load = build.load
    ratios = [a / b for a, b in zip(seconds["old"], seconds["new"], strict=True)]
    what = "forward and backward" if args.train else "evaluation"
    print(
        f"{args.rev}: {statistics.median(seconds['old']) * 1e3:.1f} ms, this checkout: "
        f"{statistics.median(seconds['new']) * 1e3:.1f} ms per {what}; old/new median "
        f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
