"""An NTM as one layer of your own PyTorch model, trained by your own loop.

The model reads a sequence of tokens and, at every step, names the token it read ``--delay``
steps before (a class of ``--vocabulary``), which needs a memory of the last few tokens:

    tokens -> nn.Embedding -> ntmkit.NTMLayer -> nn.Linear -> a class per step

`NTMLayer` takes and gives `[batch, time, features]` and leaves the NTM's state out, so it sits
in `nn.Sequential` like an LSTM would; on the CPU in float32 the fused C++ engine runs it,
forward and backward. Everything else (the data, the loss, the optimiser, the loop) is plain
PyTorch::

    python examples/layer_in_model.py --steps 2000
"""

import argparse

import torch
from torch import nn

from ntmkit import NTMLayer


def make_model(vocabulary: int) -> nn.Sequential:
    ntm = NTMLayer(
        input_size=16,
        output_size=32,
        controller="lstm",
        controller_size=64,
        num_slots=32,
        word_size=16,
        step_order="graves",
        shift_mode="circular",
    )
    return nn.Sequential(nn.Embedding(vocabulary, 16), ntm, nn.Linear(32, vocabulary))


def batch(size: int, length: int, vocabulary: int, delay: int, generator: torch.Generator):
    """Tokens `[B, T]` and, from step ``delay`` on, the token read ``delay`` steps before."""
    tokens = torch.randint(0, vocabulary, (size, length), generator=generator)
    targets = torch.full_like(tokens, -100)  # not scored before there is an answer
    targets[:, delay:] = tokens[:, :-delay]
    return tokens, targets


def train(steps: int, vocabulary: int = 8, delay: int = 3, seed: int = 0) -> float:
    """Train for ``steps`` batches; returns the accuracy on fresh sequences."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = make_model(vocabulary)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(1, steps + 1):
        tokens, targets = batch(32, 12, vocabulary, delay, generator)
        logits = model(tokens)  # (B, T, vocabulary)
        loss = nn.functional.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 500 == 0:
            print(f"step {step}: loss {loss.item():.4f}")
    with torch.no_grad():
        tokens, targets = batch(500, 12, vocabulary, delay, generator)
        scored = targets != -100
        right = (model(tokens).argmax(-1) == targets)[scored]
    return float(right.float().mean())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"accuracy on fresh sequences: {train(args.steps, seed=args.seed):.1%}")
