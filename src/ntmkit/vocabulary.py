"""Every set of allowed names in ntmkit, each defined once as a `Literal`.

Validation (`ntmkit.validation.check_choice`), registries (`registry`), the command line's
``choices`` and error messages all take their names from these types through `names`, so a new
mode is added in one place and an unknown one is rejected everywhere with the same list.
"""

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args

ShiftMode = Literal["circular", "zero_pad"]
"""How the convolutional shift treats the ends of memory: wrap around (the paper) or lose the
mass shifted past either end (ntm-lasagne)."""

ControllerKind = Literal["dense", "rnn", "lstm", "gru"]
"""The controller network (`ntmkit.controllers`)."""

StepOrder = Literal["lasagne", "graves"]
"""The order of write, read, controller and addressing within a step (`ntmkit.cell`)."""

OutputFrom = Literal["auto", "controller", "controller_and_reads", "reads"]
"""What the output layer sees (`ntmkit.config.OUTPUT_SOURCES` says which sources each means)."""

OutputSource = Literal["controller", "reads"]
"""One input of the output layer: the controller output h_t or the read vectors r_t."""

MemoryKind = Literal["ntm", "dnc"]
"""The external memory and its addressing: the NTM's (Graves et al. 2014: content, then
location) or the Differentiable Neural Computer's (Graves et al. 2016: content, dynamic
allocation and temporal links; `ntmkit.dnc_access`)."""

MemoryInit = Literal["constant", "learned", "random", "glorot"]
"""How the memory starts: a constant, a learned matrix, or a fixed uniform draw (small, or
Lasagne's Glorot-uniform one that ntm-lasagne's models README lists for four tasks)."""

ActivationSet = Literal["lasagne", "paper"]
"""Named sets of head activations (`ntmkit.config.ACTIVATION_SETS`)."""

LossName = Literal["auto", "bce", "clipped_bce", "cross_entropy", "mse"]
"""The training loss (`ntmkit.run.metrics.TRAINING_LOSSES`): ``auto`` is the task's output
kind's (``bce``, ``cross_entropy`` or ``mse``); ``bce`` is binary cross-entropy on the logits,
``clipped_bce`` ntm-lasagne's on probabilities clipped to [1e-6, 1 - 1e-6], with no gradient
where clipped."""

LayerInit = Literal["torch", "lasagne"]
"""How the head and output layers' weights start: PyTorch's `nn.Linear` default, or as
ntm-lasagne's per-field dense layers did (Glorot-uniform per field, zero biases)."""

HiddenInit = Literal["random", "learned", "zeros"]
"""How the controller's output and state start: ntm-lasagne's fixed draw, learned, or zeros."""

ActivationName = Literal[
    "identity",
    "relu",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "softplus",
    "clip01",
    "clip11",
    "one_plus_relu",
    "one_plus_softplus",
    "softmax",
]
"""Named activations of head parameters and controllers (`ntmkit.activations`)."""

OptimizerName = Literal["graves_rmsprop", "graves_rmsprop_legacy", "adam", "rmsprop"]
"""Optimisers by name (`ntmkit.training.optim`)."""

OutputKind = Literal["bits", "categorical", "real"]
"""What a task's targets are (`ntmkit.tasks.Task.output_kind`): independent bits (a sigmoid per
channel, binary cross-entropy), one of K classes per step (a softmax, cross-entropy; targets are
class indices), or real values (the logits as they are, mean squared error)."""

ClipMode = Literal["norm", "value"]
"""Gradient clipping: the global norm, or each element (the paper's [-10, 10])."""

Scope = Literal["output", "all"]
"""Which steps a loss or score sees: the output phase (the paper) or every step (ntm-lasagne)."""

TaskName = Literal[
    "copy",
    "repeat_copy",
    "associative_recall",
    "ngrams",
    "priority_sort",
    "dyck_words",
    "reversed_copy",
    "upside_down_copy",
    "sort",
]
"""The registered tasks (`ntmkit.tasks`), in the order they are listed."""

PresetName = Literal["fast", "lasagne", "paper", "dnc"]
"""Named training recipes (`ntmkit.presets`)."""

EngineName = Literal["fused", "eager", "reference"]
"""How an NTM runs (`ntmkit.engine`): the fused C++ sequence engine, the eager step loop with
its hand-written autograd Functions, or the eager loop with the plain formulas."""

SchedulerName = Literal["none", "asha"]
"""How a sweep stops trials early (`ntmkit.sweep`): never, or Ray Tune's ASHA on the
evaluation error."""

TrialStatus = Literal["converged", "not_converged", "stopped"]
"""How a sweep's trial ended: below its target error, at its step or time budget without
getting there, or stopped early by the sweep's scheduler."""

V = TypeVar("V")

# `names` types every vocabulary's names as str; these are the ones code iterates over as
# their Literal type (`typing.get_args` returns Any items, which the annotations make precise).
TASK_NAMES: tuple[TaskName, ...] = get_args(TaskName)
PRESET_NAMES: tuple[PresetName, ...] = get_args(PresetName)
CONTROLLER_KINDS: tuple[ControllerKind, ...] = get_args(ControllerKind)


def names(vocabulary: Any) -> tuple[str, ...]:
    """The names a `Literal` vocabulary allows, in their order of definition."""
    return get_args(vocabulary)


def registry(vocabulary: Any, entries: Mapping[str, V]) -> dict[str, V]:
    """``entries`` as a dict in the vocabulary's order, checked to cover it exactly.

    Raises at import time when a registry and its vocabulary disagree, so a name can never be
    accepted by validation but missing from the registry, or the other way round.
    """
    allowed = names(vocabulary)
    if set(entries) != set(allowed):
        missing = sorted(set(allowed) - set(entries))
        extra = sorted(set(entries) - set(allowed))
        raise TypeError(f"registry does not match its vocabulary: missing {missing}, extra {extra}")
    return {name: entries[name] for name in allowed}
