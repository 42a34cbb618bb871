"""Loading ntm-lasagne's pretrained models (github.com/snipsco/ntm-lasagne) as `ntmkit.NTM`.

ntm-lasagne, the Theano library ntmkit succeeds, shipped seven trained models as `.npy`
parameter lists. `load` reads one safely (`safe_pickle`), works out its layout
(`lasagne_layout`) and returns an `NTM` that computes what the Theano model computed:

* ``step_order="lasagne"``: write with the previous weights and h, read, run the controller,
  then address (see `ntmkit.cell`); the output layer sees the controller output only.
* ``shift_mode="zero_pad"``: ntm-lasagne's shift convolution pads with zeros, so a head cannot
  move past the last slot (copy.npy fails from length 127 on, with 128 slots).
* The activations of its example scripts: ReLU keys, betas and add vectors, hard-sigmoid gates
  and erase vectors, softmax shifts, 1 + ReLU gammas, and a ReLU dense or RNN controller.
* The stored ``hid_init``, ``memory_init`` and ``weights_init``, kept as fixed buffers.

One difference: the ntm-lasagne version that trained these models divided the sharpened
weights by their sum over the whole batch (``T.sum`` without an axis); ntmkit, like later
ntm-lasagne, divides each head's weights by their own sum. The two agree at batch size 1, the
size every pretrained model was trained and run with.

How the arrays map onto ntmkit's layers (Lasagne's ``W`` is ``[in, out]``, `torch.nn.Linear`
keeps ``[out, in]``, hence the transposes):

* ``input_layer`` gets ``W_in_to_*`` and the sum of all biases of the same pre-activation
  (``b_in + b_reads (+ b_hid)``): they only ever appear added together.
* ``read_layer`` / ``recurrent_layer`` get ``W_reads_to_*`` (and ``W_hid_to_hid`` after it, as
  the recurrent layer reads ``cat([reads, h])``); a GRU's ``W_hid_to_update`` and
  ``W_hid_to_reset`` go to ``gate_hidden_layer``, ``W_hid_to_hid`` to ``candidate_hidden_layer``.
* Head (W, b) pairs fill the rows of the shared head layers that `ntmkit.heads.field_rows`
  names, write heads first, each kind in file order (the order ntm-lasagne ran them in).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import torch

from ..config import NTMConfig
from ..heads import addressing_fields, field_rows, write_fields
from ..model import NTM
from ..presets.lasagne import LASAGNE_MODEL_ACTIVATIONS, LASAGNE_RECIPES, SHIPPED_TASKS
from ..validation import check_choice
from ..vocabulary import ControllerKind
from .lasagne_layout import (
    CONTROLLER_GATES,
    CONTROLLER_SOURCES,
    LasagneLayout,
    head_labels,
    infer_layout,
    named_arrays,
)
from .safe_pickle import load_object_array

MODEL_FILES: dict[str, str] = {
    task: model_file
    for task in SHIPPED_TASKS
    if (model_file := LASAGNE_RECIPES[task].model_file) is not None  # all of them
}
"""ntm-lasagne's ``models/`` file for each ntmkit task name (from `LASAGNE_RECIPES`)."""

MODEL_CHANNELS: dict[str, int] = {
    task: LASAGNE_RECIPES[task].task_config.input_size for task in SHIPPED_TASKS
}
"""Input and output channels of each pretrained model (the same number both ways)."""


def training_settings(task: str | None = None) -> dict[str, Any]:
    """The task settings ntm-lasagne's pretrained models were trained with.

    Args:
      task: an ntmkit task name (a key of `MODEL_FILES`), or None for all seven.
    Returns:
      A fresh plain dict of every task field for ``task`` (from `LASAGNE_RECIPES`), to pass
      as ``make_task(task, **fields)``; or, with ``task=None``, a dict of those dicts keyed
      by task name.
    """
    if task is None:
        return {name: training_settings(name) for name in SHIPPED_TASKS}
    _check_task(task)
    return dataclasses.asdict(LASAGNE_RECIPES[task].task_config)


def describe(path: str | os.PathLike) -> LasagneLayout:
    """The layout of an ntm-lasagne model file (controller, sizes, heads, every array's name).

    ``print(describe(path).summary())`` shows it; ``layout.sizes`` holds the numbers.
    """
    return infer_layout(load_object_array(path), source=str(path))


def lasagne_config(layout: LasagneLayout) -> NTMConfig:
    """The `NTMConfig` that reproduces an ntm-lasagne model of this layout."""
    s = layout.sizes
    if s.num_shifts % 2 == 0:
        # ntm-lasagne pads an even shift filter unevenly; ntmkit's offsets are symmetric.
        raise ValueError(f"{s.num_shifts} shifts: ntmkit supports odd shift counts only")
    return NTMConfig(
        input_size=s.input_size,
        output_size=s.output_size,
        controller=layout.controller,
        controller_size=s.units,
        controller_activation="relu",
        num_slots=s.num_slots,
        word_size=s.word_size,
        read_heads=layout.read_heads,
        write_heads=layout.write_heads,
        num_shifts=s.num_shifts,
        shift_mode="zero_pad",
        activations=LASAGNE_MODEL_ACTIVATIONS,
        step_order="lasagne",
        learn_weights_init=False,
    )


def load(
    path: str | os.PathLike, *, task: str | None = None, dtype: torch.dtype = torch.float32
) -> NTM:
    """Loads an ntm-lasagne model file as an `NTM` with ntm-lasagne's semantics.

    Args:
      path: a `.npy` file from ntm-lasagne's ``models/`` folder (or saved the same way).
      task: optional ntmkit task name; the model's input and output sizes are then checked
        against that task's pretrained model.
      dtype: the parameters' dtype.
    Returns:
      The `NTM`; its logits are the pre-sigmoid outputs of ntm-lasagne's Dense output layer.
    Raises:
      UnsafePickleError: the file's pickle asks for anything but plain numeric arrays.
      ValueError: the file is truncated, or its arrays fit no ntm-lasagne layout.
    """
    arrays = load_object_array(path)
    layout = infer_layout(arrays, source=str(path))
    if task is not None:
        _check_sizes_for_task(layout, task, str(path))
    model = NTM(lasagne_config(layout)).to(dtype)
    state = lasagne_state_dict(named_arrays(arrays, layout), layout)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return model


def lasagne_state_dict(named: dict[str, np.ndarray], layout: LasagneLayout) -> dict[str, Any]:
    """An `NTM` state dict (NumPy arrays) from the arrays of `named_arrays`; see module doc."""
    state = {"cell.controller.hidden_init": named["controller hid_init"]}
    state.update(_controller_state(named, layout.controller))
    labels = head_labels(layout.heads)
    writes = [lab for lab, kind in zip(labels, layout.heads) if kind == "write"]
    reads = [lab for lab, kind in zip(labels, layout.heads) if kind == "read"]
    ordered = writes + reads  # ntmkit's head order
    state["cell.memory_init"] = named["memory_init"]
    state["cell.weights_init"] = np.concatenate([named[f"{h} weights_init"] for h in ordered])
    config = lasagne_config(layout)
    state.update(_head_layer("addressing", named, ordered, addressing_fields(config)))
    state.update(_head_layer("vectors", named, writes, write_fields(config)))
    state["cell.output_layer.weight"] = named["output W"].T
    state["cell.output_layer.bias"] = named["output b"]
    return state


def _controller_state(named: dict[str, np.ndarray], kind: ControllerKind) -> dict[str, np.ndarray]:
    """The controller's layers. Gates stack along the output axis in file order."""
    gates = CONTROLLER_GATES[kind]

    def weights(source: str, of_gates: tuple[str, ...] = gates) -> np.ndarray:
        # (in, G * U) in Lasagne's orientation, transposed to Linear's (G * U, in).
        return np.concatenate([named[f"controller W_{source}_to_{g}"] for g in of_gates], 1).T

    bias = [sum(named[f"controller b_{s}_to_{g}"] for s in CONTROLLER_SOURCES[kind]) for g in gates]
    prefix = "cell.controller."
    state = {
        f"{prefix}input_layer.weight": weights("in"),
        f"{prefix}input_layer.bias": np.concatenate(bias),
    }
    if kind == "rnn":
        # The recurrent layer reads cat([reads, h]): W_reads rows first, then W_hid rows.
        reads, hidden = named["controller W_reads_to_hid"], named["controller W_hid_to_hid"]
        state[f"{prefix}recurrent_layer.weight"] = np.concatenate([reads, hidden]).T
    else:
        state[f"{prefix}read_layer.weight"] = weights("reads")
    if kind == "gru":
        state[f"{prefix}gate_hidden_layer.weight"] = weights("hid", ("update", "reset"))
        state[f"{prefix}candidate_hidden_layer.weight"] = weights("hid", ("hid",))
    return state


def _head_layer(
    layer: str, named: dict[str, np.ndarray], heads: list[str], fields: dict[str, int]
) -> dict[str, np.ndarray]:
    """One shared head layer, filled head by head and field by field from the (W, b) pairs."""
    units = named["controller hid_init"].shape[-1]
    rows = len(heads) * sum(fields.values())
    weight, bias = np.zeros((rows, units)), np.zeros(rows)
    for index, label in enumerate(heads):
        for field in fields:
            part = field_rows(fields, index, field)
            weight[part] = named[f"{label} W_hid_to_{field}"].T
            bias[part] = named[f"{label} b_hid_to_{field}"]
    return {f"cell.heads.{layer}.weight": weight, f"cell.heads.{layer}.bias": bias}


def _check_task(task: str) -> None:
    check_choice("task", task, SHIPPED_TASKS)


def _check_sizes_for_task(layout: LasagneLayout, task: str, source: str) -> None:
    _check_task(task)
    sizes, channels = layout.sizes, MODEL_CHANNELS[task]
    if (sizes.input_size, sizes.output_size) != (channels, channels):
        raise ValueError(
            f"{source}: input {sizes.input_size} and output {sizes.output_size} channels do not "
            f"fit ntm-lasagne's {task} model, which has {channels} of each"
        )


__all__ = [
    "LASAGNE_MODEL_ACTIVATIONS",
    "MODEL_CHANNELS",
    "MODEL_FILES",
    "describe",
    "lasagne_config",
    "lasagne_state_dict",
    "load",
    "training_settings",
]
