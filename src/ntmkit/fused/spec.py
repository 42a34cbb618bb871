"""What the fused engine covers, and the integer spec that tells it a model's shape and modes."""

from ..config import NTMConfig
from ..numerics import COSINE_EPSILON, SHARPEN_EPSILON
from ..vocabulary import ActivationName, ControllerKind, names

SPEC_FIELDS = (
    "steps",
    "batch",
    "num_slots",
    "word_size",
    "read_heads",
    "write_heads",
    "num_shifts",
    "output_size",
    "controller",
    "controller_activation",
    "controller_size",
    "controller_layers",
    "graves",
    "output_sees_controller",
    "output_sees_reads",
    "circular",
    "key",
    "beta",
    "gate",
    "shift",
    "gamma",
    "erase",
    "add",
    "input_size",
    "dnc",
)
"""The spec's fields in the order csrc/engine.cpp reads them (its SpecField enum)."""

EPSILONS = (COSINE_EPSILON, SHARPEN_EPSILON)
"""The epsilons the engine uses, from `ntmkit.numerics` (engine.cpp takes them in this order)."""

_HEAD_FIELDS = ("key", "beta", "gate", "shift", "gamma", "erase", "add")


MAX_HEADS = 64
"""Read plus write heads the engine takes (csrc/head_layout.h's kMaxHeads)."""


def unsupported(config: NTMConfig) -> str | None:
    """Why the fused engine cannot run a model of this config, or None if it can."""
    if config.use_sign or config.use_sign_add:
        return "the sign gates (model.use_sign, model.use_sign_add) have no fused form"
    if config.read_heads + config.write_heads > MAX_HEADS:
        return f"the engine takes at most {MAX_HEADS} heads"
    return None


def spec_values(config: NTMConfig, steps: int, batch: int) -> list[int]:
    """The spec of a forward pass of ``steps`` steps over ``batch`` sequences."""
    activations = names(ActivationName)
    sources = config.output_sources
    values = {
        "steps": steps,
        "batch": batch,
        "num_slots": config.num_slots,
        "word_size": config.word_size,
        "read_heads": config.read_heads,
        "write_heads": config.write_heads,
        "num_shifts": config.num_shifts,
        "output_size": config.output_size,
        "controller": names(ControllerKind).index(config.controller),
        "controller_activation": activations.index(config.controller_activation),
        "controller_size": config.controller_size,
        "controller_layers": config.controller_layers,
        "graves": int(config.step_order == "graves"),
        "output_sees_controller": int("controller" in sources),
        "output_sees_reads": int("reads" in sources),
        "circular": int(config.shift_mode == "circular"),
        "input_size": config.input_size,
        "dnc": int(config.memory == "dnc"),
    }
    for field in _HEAD_FIELDS:
        values[field] = activations.index(getattr(config.activations, field))
    return [values[field] for field in SPEC_FIELDS]
