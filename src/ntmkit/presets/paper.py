"""The ``paper`` preset: Graves et al. 2014, Table 2 (the LSTM-controller NTM) for every task.

An LSTM controller in the paper's step order with circular shifts and the paper-style head
activations, learned initial controller state, batch size 1, Graves' centred RMSProp with
momentum 0.9 and gradients clipped elementwise to [-10, 10]; heads, controller layers and the
learning rate per task as in Table 2 (arXiv v2; its Table 1 is the feedforward controller's).
The tasks the paper does not have (reversed and upside-down copy, sort, Dyck words) use the
copy setting with their own target.
"""

import dataclasses
from typing import Any

from ..config import PAPER_ACTIVATIONS
from ..run.config import RunConfig, model_for
from ..run.train_config import TrainConfig
from ..tasks.associative_recall import AssociativeRecallConfig
from ..tasks.copy import CopyConfig
from ..tasks.dyck_words import DyckWordsConfig
from ..tasks.ngrams import NGramsConfig
from ..tasks.priority_sort import PrioritySortConfig
from ..tasks.repeat_copy import RepeatCopyConfig
from ..vocabulary import TaskName, registry

PAPER_MODEL: dict[str, Any] = {
    "controller": "lstm",
    "activations": PAPER_ACTIVATIONS,
    "step_order": "graves",
    "shift_mode": "circular",
    "hidden_init": "learned",
}
"""The model options every task's paper recipe shares."""

PAPER_TRAIN = TrainConfig(
    batch_size=1, optimizer="graves_rmsprop", clip_mode="value", clip=10.0, max_iter=1_000_000
)
"""The training options every task's paper recipe shares (the learning rate differs)."""


def _paper(task: TaskName, task_config: Any, lr: float, **model: Any) -> RunConfig:
    options = {**PAPER_MODEL, **model}
    train = dataclasses.replace(PAPER_TRAIN, lr=lr)
    return RunConfig(task, task_config, model_for(task_config, options), train, preset="paper")


_COPY = CopyConfig(size=8, min_length=1, max_length=20)

PAPER: dict[str, RunConfig] = registry(
    TaskName,
    {
        "copy": _paper("copy", _COPY, 1e-4),
        "repeat_copy": _paper(
            "repeat_copy",
            RepeatCopyConfig(size=8, max_length=10, max_repeats=10, layout="paper"),
            1e-4,
        ),
        "associative_recall": _paper(
            "associative_recall", AssociativeRecallConfig(size=6, min_items=2, max_items=6), 1e-4
        ),
        # Its measure is the cost above the Bayes optimum (Task.measure): within 1 bit.
        "ngrams": dataclasses.replace(
            _paper("ngrams", NGramsConfig(table="dynamic"), 3e-5),
            train=dataclasses.replace(PAPER_TRAIN, lr=3e-5, target_error=1.0),
        ),
        "priority_sort": _paper(
            "priority_sort",
            PrioritySortConfig(),
            3e-5,
            read_heads=5,
            write_heads=5,
            controller_layers=2,
        ),
        "reversed_copy": _paper("reversed_copy", _COPY, 1e-4),
        "upside_down_copy": _paper("upside_down_copy", _COPY, 1e-4),
        "sort": _paper("sort", _COPY, 1e-4),
        "dyck_words": _paper("dyck_words", DyckWordsConfig(max_length=5), 1e-4),
    },
)
"""The paper's recipe for every task."""
