"""Where a priority-sort model goes wrong: its bit errors by how close each output's priority is
to its nearest neighbour's.

    python benchmarks/priority_sort_gaps.py                      # the shipped model
    python benchmarks/priority_sort_gaps.py runs/priority_sort   # a run folder

draws ``--samples`` sequences from the model's own task (seed ``--seed``) and, for each of the M
output positions, takes the gap between the priority it should write and the nearest priority
among the other inputs ranked next to it (above or below). It prints, per gap bin, how many
outputs fall there, their mean wrong bits and their share of all wrong bits. A model that maps
each priority to a memory slot (the paper's Figure 17) fails where two priorities share a slot;
the last lines say over how many slots the write head spreads the inputs, and how sharply.
"""

import argparse
import itertools

import torch

from ntmkit import pretrained
from ntmkit.run.metrics import wrong_bits

GAP_EDGES = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, float("inf"))
"""Bins of the gap to the nearest-ranked priority (priorities are uniform on [-1, 1])."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="a run folder (default: the shipped model)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=123, help="seeds the drawn sequences")
    args = parser.parse_args()
    try:
        config, model = pretrained.run_or_shipped(args.run, "priority_sort", time_first=True)
    except ValueError as exc:
        parser.error(str(exc))
    n, m = config.task_config.num_inputs, config.task_config.num_outputs
    batch = config.make_task(args.seed).sample(args.samples)
    with torch.no_grad():
        logits, _, trace = model(batch.inputs, trace=True)
    outputs, targets = logits[n + 1 :], batch.targets[n + 1 :]  # (M, B, S)
    wrong = wrong_bits(outputs, targets).sum(-1)  # (M, B)
    ranked, _ = batch.inputs[:n, :, -1].sort(0, descending=True)  # (N, B), highest first
    steps = ranked[:-1] - ranked[1:]  # (N - 1, B): gaps between neighbours in the ranking
    none = torch.full_like(ranked[:1], float("inf"))  # (1, B): no neighbour on that side
    below = torch.cat([steps, none])[:m]  # (M, B): gap to the next lower priority
    above = torch.cat([none, steps])[:m]  # (M, B): gap to the next higher priority
    gap = torch.minimum(above, below)
    total = wrong.sum().item()
    print(f"{args.samples} sequences, {total / args.samples:.2f} wrong bits per sequence")
    print("nearest gap        outputs  wrong bits each  share of wrong bits")
    for low, high in itertools.pairwise(GAP_EDGES):
        inside = (gap >= low) & (gap < high)
        count = int(inside.sum())
        each = wrong[inside].float().mean().item() if count else 0.0
        share = wrong[inside].sum().item() / total if total else 0.0
        print(f"[{low:.3f}, {high:.3f})  {count:8d}  {each:15.3f}  {share:19.2f}")
    _print_write_slots(trace.write_weights[:n, :, 0])


def _print_write_slots(weights: torch.Tensor) -> None:
    """How many slots the first write head spreads the inputs over: the slots on which it puts
    its largest weight for at least 1% of the input steps (weights `[N, B, slots]`)."""
    favourite = weights.argmax(-1).flatten()  # (N * B,)
    counts = torch.bincount(favourite, minlength=weights.shape[-1])
    used = int((counts >= 0.01 * favourite.numel()).sum())
    top = weights.max(-1).values.mean().item()
    print(f"write head: {used} of {weights.shape[-1]} slots hold 1% or more of the writes")
    print(f"write head: mean largest weight while writing {top:.2f}")


if __name__ == "__main__":
    main()
