"""A data set you already have, in ``.npz`` files, trained by ``ntmkit train --data``.

Here the data are made up: sequences of random bits of 5 to 30 steps whose target at every step
is the parity of the bits so far (a running XOR), in the layout `ntmkit.tasks.data` reads:

    inputs   [N, T, 1]  float32, the bits (zeros after a sequence's end)
    targets  [N, T, 1]  float32, the running parity, so the output kind is bits
    lengths  [N]        int, each sequence's real steps (the rest is padding, never scored)

Replace `make_sequences` by your own arrays (or `ntmkit.tasks.data.write_npz` of any PyTorch
`Dataset` of ``(inputs, targets)`` pairs) and the rest stays the same::

    python examples/npz_dataset.py --out runs/parity
    ntmkit eval runs/parity          # scores the validation file
    ntmkit plot runs/parity
"""

import argparse
from pathlib import Path

import numpy as np

from ntmkit.cli import main


def make_sequences(count: int, seed: int, longest: int = 30) -> dict[str, np.ndarray]:
    """``count`` running-parity sequences of 5 to ``longest`` steps."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, longest + 1, size=count)
    bits = rng.integers(0, 2, size=(count, longest, 1)).astype(np.float32)
    bits[np.arange(longest)[None, :] >= lengths[:, None]] = 0.0  # padding after the end
    return {"inputs": bits, "targets": np.cumsum(bits, axis=1) % 2, "lengths": lengths}


def run(out: str, data: str, *train_flags: str) -> int:
    folder = Path(data)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "parity-train.npz", **make_sequences(4000, seed=0))
    np.savez(folder / "parity-val.npz", **make_sequences(500, seed=1))
    argv = ["train", "--data", str(folder / "parity-train.npz"),
            "--val", str(folder / "parity-val.npz"), "--out", out, *train_flags]  # fmt: skip
    return main(argv)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/parity", help="the run folder")
    parser.add_argument("--data", default="data", help="where the .npz files go")
    known, train_flags = parser.parse_known_args()  # the rest go to ntmkit train
    raise SystemExit(run(known.out, known.data, "--overwrite", *train_flags))
