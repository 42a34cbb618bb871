"""How much faster is the fused engine than the eager one for a DNC? Forward and backward of
a copy-sized DNC, milliseconds per iteration, eager against fused.

    python benchmarks/dnc_engine.py --batch 4 16

The model: an LSTM controller of 100 units, 128 slots of 20 words, one read head, 9 inputs
and 8 outputs, sequences of 42 steps (a copy of length 20). One thread; each engine runs a few
warm-up iterations first (the fused engine's build is not timed), then --repeats timed ones,
and the median is printed. Keep the machine otherwise idle while it runs.
"""

import argparse
import statistics
import time

import torch

from ntmkit import NTM, NTMConfig, engine

STEPS = 42


def model() -> NTM:
    torch.manual_seed(0)
    config = NTMConfig(input_size=9, output_size=8, controller="lstm", controller_size=100,
                       num_slots=128, word_size=20, read_heads=1, memory="dnc",
                       step_order="graves", memory_init="random")  # fmt: skip
    return NTM(config)


def milliseconds(net: NTM, batch: int, name: str, repeats: int) -> float:
    """Median milliseconds of one forward and backward pass over a batch."""
    inputs = torch.rand(STEPS, batch, 9, generator=torch.Generator().manual_seed(1))
    times = []
    with engine.use(name):
        for i in range(repeats + 2):  # two warm-up iterations
            started = time.perf_counter()
            logits, _ = net(inputs)
            logits.square().mean().backward()
            if i >= 2:
                times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = model()
    for batch in args.batch:
        eager = milliseconds(net, batch, "eager", args.repeats)
        fused = milliseconds(net, batch, "fused", args.repeats)
        print(f"batch {batch:3d}: eager {eager:8.1f} ms  fused {fused:7.1f} ms  "
              f"({eager / fused:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
