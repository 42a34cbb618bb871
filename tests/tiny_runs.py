"""A tiny copy run that trains in well under a second, shared by the training tests."""

from ntmkit.presets import preset
from ntmkit.run.config import RunConfig

TINY_SETTINGS = {
    "task.size": 2, "task.min_length": 1, "task.max_length": 3, "model.num_slots": 8,
    "model.word_size": 4, "model.controller_size": 16, "train.batch_size": 8,
    "train.eval_samples": 50, "train.max_iter": 12, "train.eval_every": 4,
    "train.checkpoint_every": 4,
}  # fmt: skip
"""The fast copy preset shrunk: 2-bit vectors of length 1-3, memory 8 x 4, 12 steps of 8."""


def tiny_run(**train) -> RunConfig:
    """The tiny copy run, with ``train`` fields replaced (e.g. ``max_iter=20``)."""
    settings = {**TINY_SETTINGS, **{f"train.{k}": v for k, v in train.items()}}
    return preset("copy", "fast").override(settings)
