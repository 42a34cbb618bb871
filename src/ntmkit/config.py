"""`NTMConfig`: every option of the NTM module, as validated, JSON-friendly data."""

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_size,
    fail,
    from_dict,
)
from .vocabulary import (
    ActivationName,
    ActivationSet,
    ControllerKind,
    HiddenInit,
    LayerInit,
    MemoryInit,
    MemoryKind,
    OutputFrom,
    OutputSource,
    ShiftMode,
    StepOrder,
    registry,
)


@dataclass(frozen=True)
class HeadActivations:
    """The activation applied to each head parameter, by name (see `ntmkit.activations`).

    The defaults are ntm-lasagne's; `PAPER_ACTIVATIONS` is the paper-style set.
    """

    key: ActivationName = "clip01"
    beta: ActivationName = "relu"
    gate: ActivationName = "hard_sigmoid"
    shift: ActivationName = "softmax"
    gamma: ActivationName = "one_plus_relu"
    erase: ActivationName = "hard_sigmoid"
    add: ActivationName = "clip01"
    sign: ActivationName = "clip11"  # alpha, multiplies the key; only with NTMConfig.use_sign
    sign_add: ActivationName = "clip11"  # delta, multiplies the add vector; with use_sign_add

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check_choice(f"model.activations.{f.name}", getattr(self, f.name), ActivationName)


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
            if value is not None:
                check_number(f"model.head_bias.{f.name}", value)


LASAGNE_ACTIVATIONS = HeadActivations()
PAPER_ACTIVATIONS = HeadActivations(
    key="tanh",
    beta="softplus",
    gate="sigmoid",
    gamma="one_plus_softplus",
    erase="sigmoid",
    add="tanh",
)
ACTIVATION_SETS: dict[str, HeadActivations] = registry(
    ActivationSet, {"lasagne": LASAGNE_ACTIVATIONS, "paper": PAPER_ACTIVATIONS}
)
"""The named sets of head activations that ``NTMConfig.activations`` accepts by name."""

OUTPUT_SOURCES: dict[str, tuple[OutputSource, ...] | None] = registry(
    OutputFrom,
    {
        "auto": None,  # by step order: AUTO_OUTPUT_SOURCES
        "controller": ("controller",),
        "controller_and_reads": ("controller", "reads"),
        "reads": ("reads",),
    },
)
"""What the output layer sees for each ``NTMConfig.output_from``, in concatenation order."""

AUTO_OUTPUT_SOURCES: dict[str, tuple[OutputSource, ...]] = registry(
    StepOrder, {"lasagne": ("controller",), "graves": ("controller", "reads")}
)
"""``output_from="auto"``: h_t in the lasagne order (ntm-lasagne), [h_t, r_t] in the graves
order (the paper's figure 1)."""

_CHOICE_FIELDS = {
    "controller": ControllerKind,
    "controller_activation": ActivationName,
    "hidden_init": HiddenInit,
    "memory": MemoryKind,
    "memory_init": MemoryInit,
    "layer_init": LayerInit,
    "shift_mode": ShiftMode,
    "step_order": StepOrder,
    "output_from": OutputFrom,
}
SMALLER_CEILINGS = {
    "controller_size": 2**13,
    "controller_layers": 16,
    "read_heads": 64,
    "write_heads": 64,
}
"""Fields whose cost grows faster than their value, capped below `LARGEST_SIZE`: an LSTM of
8,192 units already has 268 million weights (1 GB), and every head adds a memory-sized
tensor per step."""

LARGEST_MEMORY = 2**24
"""The most memory elements (num_slots x word_size) a model may have: 64 MB per sequence in
float32, 6,500 times the paper's 128 x 20; each field alone is capped by `LARGEST_SIZE`."""

_POSITIVE_INT_FIELDS = (
    "input_size",
    "output_size",
    "controller_size",
    "controller_layers",
    "num_slots",
    "word_size",
    "read_heads",
    "write_heads",
    "num_shifts",
)


@dataclass(frozen=True)
class NTMConfig:
    """All options of an `ntmkit.NTM`. Invalid values raise `ValueError` at construction.

    Example::

        NTMConfig(input_size=9, output_size=8, controller="lstm", num_slots=128, word_size=20)

    Attributes:
      input_size: features per input step, F (a run takes it from its task).
      output_size: logits per step (a run takes it from its task).
      controller: the controller network: ``dense`` (ntm-lasagne's feed-forward), ``rnn``,
        ``lstm`` or ``gru`` (`ntmkit.controllers`).
      controller_size: the controller's units, U.
      controller_layers: stacked LSTM layers; more than 1 only with ``controller="lstm"``.
      controller_activation: the activation of the dense and RNN controllers (ntm-lasagne:
        ``relu``).
      hidden_init: how the controller's output and state start: ``random`` (ntm-lasagne's
        fixed Glorot-uniform draw), ``learned`` or ``zeros``.
      layer_init: ``torch`` (nn.Linear's default) or ``lasagne``: every head field and the
        output layer Glorot-uniform by its own width with zero biases, as ntm-lasagne's one
        dense layer per field.
      num_slots: memory rows, N (the paper's 128).
      word_size: memory columns, W (the paper's 20).
      memory_init: how memory starts: ``constant`` (``memory_init_value``, ntm-lasagne),
        ``learned``, ``random`` (small uniform) or ``glorot`` (Glorot-uniform).
      memory_init_value: the constant of ``memory_init="constant"`` (ntm-lasagne's 1e-6).
      memory_seed: seeds the fixed draws of ``memory_init="random"`` and ``"glorot"``.
      read_heads: read heads, Hr.
      write_heads: write heads, Hw (written first in every head tensor).
      num_shifts: S, odd: shift offsets -(S // 2)..S // 2 (paper eq. 8).
      shift_mode: ``zero_pad`` (ntm-lasagne: mass shifted past either end is lost) or
        ``circular`` (the paper: it wraps around).
      activations: the activation of each head parameter: a `HeadActivations`, a set name
        (``"lasagne"``, the default, or ``"paper"``) or a dict of its fields.
      use_sign: the gate alpha on the key (ntm-lasagne v0.1); the fused engine lacks it.
      use_sign_add: the gate delta on the add vector (ntm-lasagne's ``sign_add``).
      step_order: ``lasagne`` (write, read, controller, address) or ``graves`` (controller,
        address, write, read; the paper's figure 1); see `ntmkit.cell`.
      learn_weights_init: learn the heads' initial weightings (ntm-lasagne: a fixed one-hot
        on slot 0).
      head_bias: initial biases of the scalar addressing parameters: a `HeadBias` or a dict
        of its fields (None fields keep the default initialisation).
      output_from: what the output layer sees: ``auto`` (h_t in the lasagne order, [h_t, r_t]
        in the graves order), ``controller``, ``controller_and_reads`` or ``reads``. With
        ``reads`` the controller cannot answer from its own state, so it must use memory.
      output_dropout: dropout on the controller's part of the output layer's input, in
        training only, in [0, 1): a noisy h makes answering from the controller's own state
        costly, so the output leans on reads.
      batch_first: inputs and logits `[B, T, F]` instead of `[T, B, F]`.
      memory: ``ntm`` (the default; Graves et al. 2014) or ``dnc``, the Differentiable Neural
        Computer's memory (Graves et al. 2016; `ntmkit.dnc_access`): one write head that
        writes by content or into the least-used slot (dynamic allocation), and read heads
        that read by content or follow the order of writing (temporal links). It needs
        ``write_heads=1`` and ``step_order="graves"`` (the DNC writes, then reads, with the
        interface its controller just computed). The NTM's addressing options do not apply,
        since the DNC's interface has its own fields and activations
        (`ntmkit.heads.dnc_interface`): ``num_shifts``, ``shift_mode`` and ``activations`` are
        left unused, and ``use_sign``, ``use_sign_add``, ``learn_weights_init`` and
        ``head_bias`` must keep their defaults.
    """

    input_size: int
    output_size: int
    controller: ControllerKind = "dense"
    controller_size: int = 100
    controller_layers: int = 1
    controller_activation: ActivationName = "relu"
    hidden_init: HiddenInit = "random"
    layer_init: LayerInit = "torch"
    num_slots: int = 128
    word_size: int = 20
    memory_init: MemoryInit = "constant"
    memory_init_value: float = 1e-6
    memory_seed: int = 0
    read_heads: int = 1
    write_heads: int = 1
    num_shifts: int = 3
    shift_mode: ShiftMode = "zero_pad"
    activations: HeadActivations = field(default_factory=HeadActivations)
    use_sign: bool = False
    use_sign_add: bool = False
    step_order: StepOrder = "lasagne"
    learn_weights_init: bool = False
    head_bias: HeadBias = field(default_factory=HeadBias)
    output_from: OutputFrom = "auto"
    output_dropout: float = 0.0
    batch_first: bool = False
    memory: MemoryKind = "ntm"

    def __post_init__(self) -> None:
        object.__setattr__(self, "activations", _as_activations(self.activations))
        object.__setattr__(self, "head_bias", _as_head_bias(self.head_bias))
        for name in _POSITIVE_INT_FIELDS:
            check_size(f"model.{name}", getattr(self, name), high=SMALLER_CEILINGS.get(name))
        for name, vocabulary in _CHOICE_FIELDS.items():
            check_choice(f"model.{name}", getattr(self, name), vocabulary)
        for name in ("use_sign", "use_sign_add", "learn_weights_init", "batch_first"):
            check_bool(f"model.{name}", getattr(self, name))
        check_int("model.memory_seed", self.memory_seed, low=0)
        check_number("model.memory_init_value", self.memory_init_value)
        check_number("model.output_dropout", self.output_dropout, low=0, high=1, high_open=True)
        if self.num_shifts % 2 == 0 or self.num_shifts > self.num_slots:
            rule = f"odd and at most model.num_slots ({self.num_slots})"
            raise fail("model.num_shifts", rule, self.num_shifts)
        if self.num_slots * self.word_size > LARGEST_MEMORY:
            rule = f"at most {LARGEST_MEMORY:,} // model.num_slots ({self.num_slots})"
            raise fail("model.word_size", rule, self.word_size)
        if self.controller_layers > 1 and self.controller != "lstm":
            rule = f"1 unless model.controller is 'lstm' (it is {self.controller!r})"
            raise fail("model.controller_layers", rule, self.controller_layers)
        if self.memory == "dnc":
            self._check_dnc()

    def _check_dnc(self) -> None:
        """The DNC's memory has one write head and writes before it reads (`memory`)."""
        if self.write_heads != 1:
            raise fail("model.write_heads", "1 with model.memory 'dnc'", self.write_heads)
        if self.step_order != "graves":
            rule = "'graves' with model.memory 'dnc' (it writes, then reads, in one step)"
            raise fail("model.step_order", rule, self.step_order)
        for name in ("use_sign", "use_sign_add", "learn_weights_init"):
            if getattr(self, name):
                raise fail(f"model.{name}", "False with model.memory 'dnc'", True)
        if self.head_bias != HeadBias():
            rule = "unset with model.memory 'dnc' (the DNC's interface has no NTM head fields)"
            raise fail("model.head_bias", rule, dataclasses.asdict(self.head_bias))

    @property
    def output_sources(self) -> tuple[OutputSource, ...]:
        """What the output layer reads: ``OUTPUT_SOURCES[output_from]``, "auto" resolved."""
        return OUTPUT_SOURCES[self.output_from] or AUTO_OUTPUT_SOURCES[self.step_order]

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
        return from_dict(cls, "model", data)

    @classmethod
    def from_json(cls, text: str) -> "NTMConfig":
        return cls.from_dict(json.loads(text))


def _as_head_bias(value: Any) -> HeadBias:
    if isinstance(value, HeadBias):
        return value
    return from_dict(HeadBias, "model.head_bias", value)


def _as_activations(value: Any) -> HeadActivations:
    if isinstance(value, HeadActivations):
        return value
    if isinstance(value, str):
        return ACTIVATION_SETS[check_choice("model.activations", value, ActivationSet)]
    if isinstance(value, dict):
        return from_dict(HeadActivations, "model.activations", value)
    sets = ", ".join(ACTIVATION_SETS)
    raise fail("model.activations", f"a HeadActivations, a set name ({sets}) or an object", value)
