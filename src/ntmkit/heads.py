"""Heads: the named interface from the controller output h to head parameters (paper 3.3).

This is the only place where the controller's output is cut into pieces. All heads are
computed together: one linear layer gives every head's addressing parameters and one gives
the write heads' erase and add vectors, reshaped to ``[batch, heads, per_head]`` and split by
field name. Heads are ordered write heads first, then read heads (ntm-lasagne's order), so
``HeadParams`` fields have ``H = write_heads + read_heads`` rows.

C++ twin: ``HeadLayout`` (fused/csrc/head_layout.h) holds the same split as offsets, and
``head_values`` and ``head_field_activations`` (fused/csrc/step.h) apply it.

The Differentiable Neural Computer's interface vector (Graves et al. 2016, Methods, "Interface
parameters") is split here too, by `dnc_interface` into a `DNCInterface`.
"""

import dataclasses
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .activations import get_activation, one_plus_softplus
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


class DNCInterface(NamedTuple):
    """The DNC's interface parameters after their activations (Graves et al. 2016, Methods,
    "Interface parameters"); one write head, R read heads.

    Shapes: read_keys `[B, R, W]`; read_strengths `[B, R, 1]`, >= 1; write_key `[B, 1, W]`;
    write_strength `[B, 1, 1]`, >= 1; erase `[B, 1, W]` in [0, 1]; write_vector `[B, 1, W]`;
    free_gates `[B, R]` in [0, 1]; allocation_gate and write_gate `[B, 1]` in [0, 1];
    read_modes `[B, R, 3]` (backward, content, forward), each row a distribution.
    """

    read_keys: torch.Tensor
    read_strengths: torch.Tensor
    write_key: torch.Tensor
    write_strength: torch.Tensor
    erase: torch.Tensor
    write_vector: torch.Tensor
    free_gates: torch.Tensor
    allocation_gate: torch.Tensor
    write_gate: torch.Tensor
    read_modes: torch.Tensor


def dnc_interface_fields(read_heads: int, word_size: int) -> dict[str, int]:
    """Widths of the interface vector's fields, in the paper's order; they sum to
    ``W R + 3 W + 5 R + 3``."""
    r, w = read_heads, word_size
    return {
        "read_keys": r * w,
        "read_strengths": r,
        "write_key": w,
        "write_strength": 1,
        "erase": w,
        "write_vector": w,
        "free_gates": r,
        "allocation_gate": 1,
        "write_gate": 1,
        "read_modes": 3 * r,
    }


def dnc_interface(xi: torch.Tensor, read_heads: int, word_size: int) -> DNCInterface:
    """Split the interface vector ``xi [B, W R + 3 W + 5 R + 3]`` into named fields, each with
    the paper's activation: ``oneplus`` (1 + softplus) for strengths, sigmoid for gates and
    erase, softmax over the three read modes, none for keys and the write vector."""
    fields = dnc_interface_fields(read_heads, word_size)
    parts = dict(zip(fields, torch.split(xi, list(fields.values()), dim=-1), strict=True))
    batch, r, w = xi.shape[0], read_heads, word_size
    return DNCInterface(
        read_keys=parts["read_keys"].view(batch, r, w),
        read_strengths=one_plus_softplus(parts["read_strengths"]).unsqueeze(-1),
        write_key=parts["write_key"].unsqueeze(1),
        write_strength=one_plus_softplus(parts["write_strength"]).unsqueeze(-1),
        erase=torch.sigmoid(parts["erase"]).unsqueeze(1),
        write_vector=parts["write_vector"].unsqueeze(1),
        free_gates=torch.sigmoid(parts["free_gates"]),
        allocation_gate=torch.sigmoid(parts["allocation_gate"]),
        write_gate=torch.sigmoid(parts["write_gate"]),
        read_modes=F.softmax(parts["read_modes"].view(batch, r, 3), dim=-1),
    )
