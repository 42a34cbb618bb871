"""Heads: the named interface from the controller output h to head parameters (paper 3.3).

This is the only place where the controller's output is cut into pieces. All heads are
computed together: one linear layer gives every head's addressing parameters and one gives
the write heads' erase and add vectors, reshaped to ``[batch, heads, per_head]`` and split by
field name. Heads are ordered write heads first, then read heads (ntm-lasagne's order), so
``HeadParams`` fields have ``H = write_heads + read_heads`` rows.

C++ twin: ``HeadLayout`` (fused/csrc/head_layout.h) holds the same split as offsets, and
``head_values`` and ``head_field_activations`` (fused/csrc/step.h) apply it.
"""

import dataclasses
from typing import NamedTuple

import torch
from torch import nn

from .activations import get_activation
from .config import NTMConfig
from .controllers import glorot_


class HeadParams(NamedTuple):
    """Addressing parameters of all heads after their activations; write heads first.

    Shapes: key and sign `[B, H, W]`; beta, gate and gamma `[B, H, 1]`; shift `[B, H, S]`.
    ``sign`` (alpha) is None unless ``NTMConfig.use_sign``.
    """

    key: torch.Tensor
    beta: torch.Tensor
    gate: torch.Tensor
    shift: torch.Tensor
    gamma: torch.Tensor
    sign: torch.Tensor | None


class WriteVectors(NamedTuple):
    """What the write heads put into memory: erase `[B, Hw, W]` in [0, 1] and add `[B, Hw, W]`.

    ``add`` already includes the optional sign gate delta (``NTMConfig.use_sign_add``).
    """

    erase: torch.Tensor
    add: torch.Tensor


def addressing_fields(config: NTMConfig) -> dict[str, int]:
    """Per-head widths of the addressing layer's output, in the order they are laid out."""
    fields = {"key": config.word_size, "beta": 1, "gate": 1, "shift": config.num_shifts, "gamma": 1}
    if config.use_sign:
        fields["sign"] = config.word_size
    return fields


def write_fields(config: NTMConfig) -> dict[str, int]:
    """Per-head widths of the write-vector layer's output, in the order they are laid out."""
    fields = {"erase": config.word_size, "add": config.word_size}
    if config.use_sign_add:
        fields["sign_add"] = config.word_size
    return fields


def field_rows(fields: dict[str, int], head: int, name: str) -> slice:
    """Rows of a head layer's weight that produce field ``name`` of head ``head``.

    Used by loaders that fill the layer from per-head, per-field matrices (ntm-lasagne).
    """
    per_head = sum(fields.values())
    offset = 0
    for field_name, width in fields.items():
        if field_name == name:
            start = head * per_head + offset
            return slice(start, start + width)
        offset += width
    raise KeyError(f"no head field {name!r}; fields: {list(fields)}")


class Heads(nn.Module):
    """Maps a controller output ``h [B, U]`` to `HeadParams` and `WriteVectors`."""

    def __init__(self, config: NTMConfig, in_features: int) -> None:
        super().__init__()
        self.num_heads = config.write_heads + config.read_heads
        self.num_write = config.write_heads
        self.address_fields = addressing_fields(config)
        self.vector_fields = write_fields(config)
        self.addressing = nn.Linear(in_features, self.num_heads * sum(self.address_fields.values()))
        self.vectors = nn.Linear(in_features, self.num_write * sum(self.vector_fields.values()))
        if config.layer_init == "lasagne":
            self._init_like_lasagne()
        self._init_bias(config)
        names = config.activations
        self.act = {name: get_activation(getattr(names, name)) for name in self.address_fields}
        self.act.update({name: get_activation(getattr(names, name)) for name in self.vector_fields})

    def _init_like_lasagne(self) -> None:
        """ntm-lasagne gave every field of every head its own dense layer: each block of rows
        Glorot-uniform by its own width (a key's 20 rows: sqrt(6 / (U + 20))), zero biases."""
        layers = (
            (self.addressing, self.address_fields, self.num_heads),
            (self.vectors, self.vector_fields, self.num_write),
        )
        with torch.no_grad():
            for layer, fields, heads in layers:
                layer.bias.zero_()
                for head in range(heads):
                    for name in fields:
                        glorot_(layer.weight[field_rows(fields, head, name)])

    def _init_bias(self, config: NTMConfig) -> None:
        """Sets the addressing biases that ``config.head_bias`` names, for every head."""
        with torch.no_grad():
            for name, value in dataclasses.asdict(config.head_bias).items():
                if value is None:
                    continue
                for head in range(self.num_heads):
                    self.addressing.bias[field_rows(self.address_fields, head, name)] = value

    def params(self, h: torch.Tensor) -> HeadParams:
        """Addressing parameters of every head from the controller output ``h [B, U]``."""
        raw = self.addressing(h).view(h.shape[0], self.num_heads, -1)  # (B, H, P)
        parts = dict(zip(self.address_fields, raw.split(list(self.address_fields.values()), -1)))
        act = self.act
        return HeadParams(
            key=act["key"](parts["key"]),
            beta=act["beta"](parts["beta"]),
            gate=act["gate"](parts["gate"]),
            shift=act["shift"](parts["shift"]),
            gamma=act["gamma"](parts["gamma"]),
            sign=act["sign"](parts["sign"]) if "sign" in parts else None,
        )

    def write_vectors(self, h: torch.Tensor) -> WriteVectors:
        """Erase and add vectors of every write head from the controller output ``h [B, U]``."""
        raw = self.vectors(h).view(h.shape[0], self.num_write, -1)  # (B, Hw, P)
        parts = dict(zip(self.vector_fields, raw.split(list(self.vector_fields.values()), -1)))
        add = self.act["add"](parts["add"])
        if "sign_add" in parts:
            add = add * self.act["sign_add"](parts["sign_add"])
        return WriteVectors(erase=self.act["erase"](parts["erase"]), add=add)
