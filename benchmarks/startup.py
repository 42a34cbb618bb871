"""How long from a fresh process to the first fused training step, with a warm and a cold cache?

    python benchmarks/startup.py

Each measurement is a new Python process that imports ntmkit, builds the trainer of the fast
copy preset and trains one step on the fused engine; its wall-clock time from start to exit is
the start-up. Warm: torch's extension cache holds the engine already. Cold: an empty cache
folder (``TORCH_EXTENSIONS_DIR``), so the engine is compiled first, as on a fresh machine.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

FIRST_STEP = """
import tempfile
from ntmkit import fused
from ntmkit.presets import preset
from ntmkit.training.trainer import Trainer
assert fused.load() is not None, "the fused engine is not available"
run = preset("copy").override({"train.eval_every": 10**9})
with tempfile.TemporaryDirectory() as folder:
    Trainer(run, folder).fit(progress=False, stop_after=1)
"""


def start_up(cache: str | None) -> float:
    """Seconds from starting a process to the end of its first fused training step."""
    env = dict(os.environ)
    if cache is not None:
        env["TORCH_EXTENSIONS_DIR"] = cache
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FIRST_STEP], env=env, check=True)
    return time.perf_counter() - started


def main() -> int:
    start_up(None)  # make sure the default cache is warm
    warm = [start_up(None) for _ in range(3)]
    print(f"warm cache: {statistics.median(warm):.1f} s (median of {[round(w, 1) for w in warm]})")
    with tempfile.TemporaryDirectory() as empty:
        cold = start_up(empty)
    print(f"cold cache (the engine is compiled): {cold:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
