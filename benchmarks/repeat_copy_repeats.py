"""Where a repeat-copy model goes wrong: its wrong bits in each repeat, and at the end marker.

    python benchmarks/repeat_copy_repeats.py --length 10 --repeats 20       # the shipped model
    python benchmarks/repeat_copy_repeats.py runs/repeat_copy --length 20 --repeats 10

draws ``--samples`` sequences of one length and repeat count from the model's own task (seed
``--seed``; the paper's layout) and prints the mean wrong bits per sequence in each of the R
copies it writes back (the vector bits, and how often it raised the end marker inside that copy),
then on the final step, where only the end marker should be on. A model that lost count goes
wrong at the end; one that cannot take the count at all goes wrong from the first copies.
"""

import argparse

import torch

from ntmkit import pretrained
from ntmkit.run.metrics import wrong_bits
from ntmkit.tasks.base import first_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="a run folder (default: the shipped model)")
    parser.add_argument("--length", type=int, required=True)
    parser.add_argument("--repeats", type=int, required=True)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=123, help="seeds the drawn sequences")
    args = parser.parse_args()
    try:
        config, model = pretrained.run_or_shipped(args.run, "repeat_copy", time_first=True)
    except ValueError as exc:
        parser.error(str(exc))
    if config.task_config.layout != "paper":
        parser.error("run: a repeat_copy model in the paper's layout is needed")
    size = config.task_config.size
    task = config.make_task(args.seed)
    batch = task.sample(args.samples, length=args.length, repeats=args.repeats)
    with torch.no_grad():
        logits, _ = model(batch.inputs)
    wrong = wrong_bits(logits, batch.targets).float()  # (T, B, size + 1)
    start = first_step(batch.mask[:, 0])  # the first output step: every sequence has one length
    copies = wrong[start:-1].reshape(args.repeats, args.length, -1, size + 1)  # (R, L, B, C)
    data = copies[..., :size].sum((1, 3)).mean(-1)  # (R,): wrong bits of each copy
    early_end = copies[..., size].sum(1).mean(-1)  # (R,): end marker raised too soon
    print(f"length {args.length}, {args.repeats} repeats, {args.samples} sequences")
    print(f"wrong bits per sequence (output phase): {wrong[start:].sum((0, 2)).mean().item():.2f}")
    print(f"repeat  wrong bits (of {args.length * size})  end marker raised")
    for index, (bits, end) in enumerate(zip(data.tolist(), early_end.tolist()), start=1):
        print(f"{index:6d}  {bits:21.2f}  {end:17.2f}")
    print(f"last step: end marker wrong {wrong[-1, :, size].mean().item():.2f}, "
          f"bits wrong {wrong[-1, :, :size].sum(-1).mean().item():.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
