"""`NTMConfig`: every option of the NTM module, as validated, JSON-friendly data."""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .activations import ACTIVATIONS

ControllerKind = Literal["dense", "rnn", "lstm", "gru"]
StepOrder = Literal["lasagne", "graves"]
MemoryInit = Literal["constant", "learned", "random"]
HiddenInit = Literal["random", "learned", "zeros"]
ShiftModeName = Literal["circular", "zero_pad"]
OutputFrom = Literal["auto", "controller", "controller_and_reads", "reads"]


def _check_choice(owner: str, name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{owner}.{name} must be one of {list(allowed)}, got {value!r}")


def _check_positive_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}.{name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class HeadActivations:
    """The activation applied to each head parameter, by name (see `ntmkit.activations`).

    The defaults are ntm-lasagne's; `PAPER_ACTIVATIONS` is the paper-style set.
    """

    key: str = "clip01"
    beta: str = "relu"
    gate: str = "hard_sigmoid"
    shift: str = "softmax"
    gamma: str = "one_plus_relu"
    erase: str = "hard_sigmoid"
    add: str = "clip01"
    sign: str = "clip11"  # alpha, multiplies the key; only with NTMConfig.use_sign
    sign_add: str = "clip11"  # delta, multiplies the add vector; only with use_sign_add

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_choice("activations", f.name, getattr(self, f.name), tuple(ACTIVATIONS))


@dataclass(frozen=True)
class HeadBias:
    """Initial bias of a scalar addressing parameter's pre-activation, the same for every head.

    None keeps the layer's default (PyTorch's uniform) initialisation. The values are taken
    before the activation: with ``gamma="one_plus_softplus"``, ``gamma=1.85`` starts heads at
    a sharpening of about 3; with a sigmoid gate, ``gate=-2`` starts them interpolating about
    12% content into their previous weighting, so they begin by moving by location instead of
    jumping to whatever content the (initially uniform) memory suggests.
    """

    beta: float | None = None
    gate: float | None = None
    gamma: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if value is not None and not (ok and math.isfinite(value)):
                raise ValueError(
                    f"head_bias.{f.name} must be a finite number or None, got {value!r}"
                )


LASAGNE_ACTIVATIONS = HeadActivations()
PAPER_ACTIVATIONS = HeadActivations(
    key="tanh",
    beta="softplus",
    gate="sigmoid",
    gamma="one_plus_softplus",
    erase="sigmoid",
    add="tanh",
)
ACTIVATION_PRESETS = {"lasagne": LASAGNE_ACTIVATIONS, "paper": PAPER_ACTIVATIONS}


@dataclass(frozen=True)
class NTMConfig:
    """All options of an `ntmkit.NTM`. Invalid values raise `ValueError` at construction.

    ``activations`` accepts a `HeadActivations`, a preset name (``"lasagne"``, ``"paper"``) or a
    dict of fields; it is stored as a `HeadActivations`.
    """

    input_size: int
    output_size: int
    controller: ControllerKind = "dense"
    controller_size: int = 100
    controller_layers: int = 1  # stacked layers; LSTM only
    controller_activation: str = "relu"  # dense and RNN controllers (ntm-lasagne: ReLU)
    hidden_init: HiddenInit = "random"  # ntm-lasagne: a fixed Glorot-uniform draw
    num_slots: int = 128  # N
    word_size: int = 20  # W
    memory_init: MemoryInit = "constant"
    memory_init_value: float = 1e-6  # the constant of memory_init="constant" (ntm-lasagne)
    memory_seed: int = 0  # seeds memory_init="random"
    read_heads: int = 1
    write_heads: int = 1
    num_shifts: int = 3  # S, odd: offsets -(S//2)..S//2
    shift_mode: ShiftModeName = "zero_pad"  # ntm-lasagne; "circular" is the paper's
    activations: HeadActivations = field(default_factory=HeadActivations)
    use_sign: bool = False  # alpha gate on the key (ntm-lasagne v0.1)
    use_sign_add: bool = False  # delta gate on the add vector (ntm-lasagne's sign_add)
    step_order: StepOrder = "lasagne"
    learn_weights_init: bool = False  # ntm-lasagne: fixed one-hot on slot 0
    head_bias: HeadBias = field(default_factory=HeadBias)  # None: default init
    # What the output layer sees: "auto" is h_t in the lasagne order (ntm-lasagne) and [h_t, r_t]
    # in the graves order; "reads" (r_t only) leaves the controller no way to answer from its
    # own state, so it must learn to use the memory (see the fast preset).
    output_from: OutputFrom = "auto"
    # Dropout on the controller's part of the output layer's input, in training only: a noisy
    # h makes answering from the controller's own state costly, so the output leans on reads.
    output_dropout: float = 0.0
    batch_first: bool = False  # inputs [B, T, F] instead of [T, B, F]

    def __post_init__(self) -> None:
        object.__setattr__(self, "activations", _as_activations(self.activations))
        object.__setattr__(self, "head_bias", _as_head_bias(self.head_bias))
        for name in ("input_size", "output_size", "controller_size", "controller_layers"):
            _check_positive_int("NTMConfig", name, getattr(self, name))
        for name in ("num_slots", "word_size", "read_heads", "write_heads", "num_shifts"):
            _check_positive_int("NTMConfig", name, getattr(self, name))
        if self.num_shifts % 2 == 0 or self.num_shifts > self.num_slots:
            raise ValueError(
                "NTMConfig.num_shifts must be odd and at most num_slots "
                f"({self.num_slots}), got {self.num_shifts}"
            )
        dropout = self.output_dropout
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"NTMConfig.output_dropout must be in [0, 1), got {dropout!r}")
        for name, kind in _LITERAL_FIELDS.items():
            _check_choice("NTMConfig", name, getattr(self, name), get_args(kind))
        _check_choice(
            "NTMConfig", "controller_activation", self.controller_activation, tuple(ACTIVATIONS)
        )
        if self.controller_layers > 1 and self.controller != "lstm":
            raise ValueError(
                "NTMConfig.controller_layers > 1 needs controller='lstm', "
                f"got controller={self.controller!r} with {self.controller_layers} layers"
            )
        if not math.isfinite(self.memory_init_value):
            raise ValueError(
                f"NTMConfig.memory_init_value must be finite, got {self.memory_init_value}"
            )

    @property
    def output_sources(self) -> tuple[str, ...]:
        """What the output layer reads, ``output_from`` with "auto" resolved by step order."""
        if self.output_from == "auto":
            return ("controller",) if self.step_order == "lasagne" else ("controller", "reads")
        return tuple(self.output_from.split("_and_"))

    @property
    def read_size(self) -> int:
        """Length of the concatenated read vectors, ``read_heads * word_size``."""
        return self.read_heads * self.word_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NTMConfig":
        """Build a config from `to_dict` output; unknown keys are an error, not ignored."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ValueError(f"unknown NTMConfig fields {unknown}; valid: {sorted(valid)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "NTMConfig":
        return cls.from_dict(json.loads(text))


_LITERAL_FIELDS = {
    "controller": ControllerKind,
    "hidden_init": HiddenInit,
    "memory_init": MemoryInit,
    "shift_mode": ShiftModeName,
    "step_order": StepOrder,
    "output_from": OutputFrom,
}


def dataclass_from_dict(cls: type, name: str, value: dict[str, Any]) -> Any:
    """``cls(**value)``, with a `ValueError` naming config field ``name``'s unknown or missing
    keys instead of a `TypeError`."""
    fields = dataclasses.fields(cls)
    valid = {f.name for f in fields}
    unknown = sorted(set(value) - valid)
    if unknown:
        raise ValueError(f"unknown {name} fields {unknown}; valid: {sorted(valid)}")
    missing = [
        f.name
        for f in fields
        if f.name not in value
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"{name} needs the fields {missing} too (got {sorted(value)})")
    return cls(**value)


def _as_head_bias(value: Any) -> HeadBias:
    if isinstance(value, HeadBias):
        return value
    if isinstance(value, dict):
        return dataclass_from_dict(HeadBias, "head_bias", value)
    raise ValueError(
        f"NTMConfig.head_bias must be a HeadBias or a dict, got {type(value).__name__}"
    )


def _as_activations(value: Any) -> HeadActivations:
    if isinstance(value, HeadActivations):
        return value
    if isinstance(value, str):
        _check_choice("NTMConfig", "activations", value, tuple(ACTIVATION_PRESETS))
        return ACTIVATION_PRESETS[value]
    if isinstance(value, dict):
        return dataclass_from_dict(HeadActivations, "activations", value)
    raise ValueError(
        "NTMConfig.activations must be a HeadActivations, a preset name "
        f"{list(ACTIVATION_PRESETS)} or a dict, got {type(value).__name__}"
    )
