"""Named training recipes for every task: ``fast`` (the default), ``lasagne`` and ``paper``.

``lasagne`` is the recipe of ntm-lasagne's example script for the task (batch 1, dense
controller of 100 units, memory 128 x 20, one read and one write head, loss over every step,
its optimiser, learning rate, lengths and schedule). ``paper`` follows Graves et al. 2014,
Table 1 (LSTM controller, RMSProp with momentum 0.9, batch 1, gradients clipped elementwise to
[-10, 10]). ``fast`` is the measured fastest reliable recipe on a 2-core CPU; the comparison
that chose it is ``benchmarks/convergence.py`` (see the README).
"""

from typing import Any

from .run_config import RunConfig, TrainConfig
from .schedules import LearningRateDrop, LengthCurriculum, Restart
from .tasks import TASKS

PRESET_NAMES: tuple[str, ...] = ("fast", "lasagne", "paper")

# ntm-lasagne's examples: lasagne semantics, ReLU key and add (its models' activations).
_LASAGNE_MODEL: dict[str, Any] = {"activations": {"key": "relu", "add": "relu"}}
_LASAGNE_TRAIN = dict(batch_size=1, score="all", clip=0.0, max_iter=1_000_000)
_LASAGNE_COPY = {"size": 8, "min_length": 1, "max_length": 5, "end_marker": True}
_GRAVES_RMSPROP_1E3 = dict(optimizer="graves_rmsprop_legacy", lr=1e-3)

_LASAGNE: dict[str, tuple[dict, dict, dict]] = {
    # task: (task fields, model options, train options)
    "copy": (_LASAGNE_COPY, {}, _GRAVES_RMSPROP_1E3),
    "reversed_copy": (_LASAGNE_COPY, {"controller": "rnn"}, _GRAVES_RMSPROP_1E3),
    "upside_down_copy": (_LASAGNE_COPY, {}, _GRAVES_RMSPROP_1E3),
    "sort": (_LASAGNE_COPY, {"controller": "gru"}, _GRAVES_RMSPROP_1E3),
    "repeat_copy": (
        {"size": 8, "min_length": 3, "max_length": 5, "min_repeats": 1, "max_repeats": 5,
         "layout": "lasagne", "repeat_encoding": "unary", "end_marker": True},
        {},
        dict(optimizer="adam", lr=5e-4),
    ),
    "associative_recall": (
        {"size": 8, "min_item_length": 1, "max_item_length": 3, "min_items": 2, "max_items": 6},
        {},
        dict(optimizer="adam", lr=1e-4, lr_drop=LearningRateDrop(0.01, 1e-5, window=500)),
    ),
    "dyck_words": (
        {"min_length": 1, "max_length": 5},
        {},
        dict(optimizer="adam", lr=5e-4, curriculum=LengthCurriculum(1e-4, cap=20, window=500)),
    ),
    # ntm-lasagne had no script for these two; its generator defaults with the paper's rates.
    "ngrams": ({"table": "fixed"}, {}, dict(optimizer="graves_rmsprop_legacy", lr=3e-5)),
    "priority_sort": ({}, {}, dict(optimizer="graves_rmsprop_legacy", lr=3e-5)),
}  # fmt: skip

# Graves et al. 2014, Table 1 (LSTM controller): heads, controller size, learning rate.
_PAPER_MODEL: dict[str, Any] = {
    "controller": "lstm",
    "activations": "paper",
    "step_order": "graves",
    "shift_mode": "circular",
    "hidden_init": "learned",
}
_PAPER_TRAIN = dict(
    batch_size=1, optimizer="graves_rmsprop", clip_mode="value", clip=10.0, max_iter=1_000_000
)
_PAPER: dict[str, tuple[dict, dict, dict]] = {
    "copy": ({"size": 8, "min_length": 1, "max_length": 20}, {}, {"lr": 1e-4}),
    "repeat_copy": (
        {"size": 8, "max_length": 10, "max_repeats": 10, "layout": "paper"},
        {},
        {"lr": 1e-4},
    ),
    "associative_recall": ({"size": 6, "min_items": 2, "max_items": 6}, {}, {"lr": 1e-4}),
    "ngrams": ({"table": "dynamic"}, {}, {"lr": 3e-5}),
    "priority_sort": (
        {},
        {"read_heads": 5, "write_heads": 5, "controller_layers": 2},
        {"lr": 3e-5},
    ),
    # Not in the paper: the copy setting with this task's target.
    "reversed_copy": ({"size": 8, "max_length": 20}, {}, {"lr": 1e-4}),
    "upside_down_copy": ({"size": 8, "max_length": 20}, {}, {"lr": 1e-4}),
    "sort": ({"size": 8, "max_length": 20}, {}, {"lr": 1e-4}),
    "dyck_words": ({"max_length": 5}, {}, {"lr": 1e-4}),
}  # fmt: skip

# Chosen by benchmarks/convergence.py on a 2-core CPU (see README, "Convergence"): an LSTM
# controller in the paper's step order learned copy more reliably than the dense controller,
# Adam at 3e-3 with batches of 64 fastest, and softplus key strength and sharpening avoid the
# dead-ReLU trap in which gamma stays exactly 1 and a head can never focus. Evaluating every
# 100 steps (not 250) notices convergence sooner for under 2% of the time.
_FAST_MODEL: dict[str, Any] = {
    "controller": "lstm",
    "step_order": "graves",
    "shift_mode": "circular",
    "activations": {"beta": "softplus", "gamma": "one_plus_softplus"},
}
_FAST_TRAIN = dict(
    batch_size=64, optimizer="adam", lr=3e-3, clip_mode="norm", clip=10.0, eval_every=100
)
# Per task (model options, train options), measured on copy only (README, "Convergence"):
# without output dropout about half the copy seeds settle on an LSTM that memorises short
# sequences; with it they find the heads' pattern within ~1,200 steps. The restart is a safety
# net: seeds that learn are below 3 bit errors per sequence by step 1,500.
_FAST_TASK: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "copy": ({"output_dropout": 0.5}, {"restart": Restart(after=1500, above=10.0)}),
}


def preset(task: str, name: str = "fast") -> RunConfig:
    """The `RunConfig` of preset ``name`` (one of `PRESET_NAMES`) for ``task``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    if name == "lasagne":
        fields, model, train = _LASAGNE[task]
        model = {**_LASAGNE_MODEL, **model}
        train = {**_LASAGNE_TRAIN, **train}
    elif name == "paper":
        fields, model, train = _PAPER[task]
        model = {**_PAPER_MODEL, **model}
        train = {**_PAPER_TRAIN, **train}
    elif name == "fast":
        model_extra, train_extra = _FAST_TASK.get(task, ({}, {}))
        fields, model = _PAPER[task][0], {**_FAST_MODEL, **model_extra}
        train = {**_FAST_TRAIN, **train_extra}
    else:
        raise ValueError(f"preset must be one of {list(PRESET_NAMES)}, got {name!r}")
    return RunConfig(task, dict(fields), dict(model), TrainConfig(**train), preset=name)


def describe(run: RunConfig) -> str:
    """A one-line summary of a run's recipe, for logs."""
    t, m = run.train, run.model
    restart = ""
    if t.restart is not None:
        restart = f"fresh start if above {t.restart.above:g} errors after {t.restart.after} steps, "
    return (
        f"{run.task} ({run.preset}): {m.get('controller', 'dense')} controller, "
        f"{t.optimizer} lr={t.lr:g}, batch {t.batch_size}, {restart}"
        f"{run.task_fields}"
    )
