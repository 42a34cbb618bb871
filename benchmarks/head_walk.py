"""Where each head of a trained model looks, step by step, on one sequence of a chosen length.

    python benchmarks/head_walk.py runs/copy-lasagne-seed2 --length 80
    ntmkit import-lasagne ../shared/fixtures/ntm-lasagne/copy.npy --task copy --out runs/l-copy
    python benchmarks/head_walk.py runs/l-copy --length 120

prints, for every step of one sequence drawn from the run's task (seed ``--seed``), the slot on
which each write and read head puts most weight, that weight, and the wrong bits the model
emits there (output phase). It is how RESULTS.md tells a copy model whose write head stops at
the delimiter from one whose write head walks on off the end of the memory. ``--only-errors``
prints only the steps with a wrong bit, and those where a head's largest weight is below 0.5.
"""

import argparse

import torch

from ntmkit.run.folder import load_run
from ntmkit.run.metrics import wrong_bits
from ntmkit.tasks.base import score_mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder (ntmkit train, or ntmkit import-lasagne)")
    parser.add_argument("--length", type=int, required=True, help="the sequence length to draw")
    parser.add_argument("--seed", type=int, default=123, help="seeds the drawn sequence")
    parser.add_argument("--only-errors", action="store_true")
    args = parser.parse_args()
    config, model, _ = load_run(args.run)
    batch = config.make_task(args.seed).sample(1, length=args.length)
    with torch.no_grad():
        logits, _, trace = model(batch.inputs, trace=True)
    wrong = wrong_bits(logits, batch.targets).sum(-1)[:, 0]  # (T,)
    wrong = wrong * score_mask(batch, "output")[:, 0]
    heads = [("W", trace.write_weights), ("R", trace.read_weights)]
    print("step  " + "  ".join(f"{k}{h} slot weight" for k, w in heads for h in range(w.shape[2])))
    for t in range(logits.shape[0]):
        cells, blurred = [], False
        for _, weights in heads:
            for h in range(weights.shape[2]):
                top, slot = weights[t, 0, h].max(0)
                blurred |= top.item() < 0.5
                cells.append(f"{slot.item():9d} {top.item():6.3f}")
        if args.only_errors and not (wrong[t] > 0 or blurred):
            continue
        print(f"{t:4d}  " + "  ".join(cells) + f"   wrong bits {int(wrong[t])}")
    print(f"wrong bits in all: {int(wrong.sum())}")


if __name__ == "__main__":
    main()
