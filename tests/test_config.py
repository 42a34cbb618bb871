"""NTMConfig validates every field at construction and round-trips through JSON."""

import pytest

from ntmkit import PAPER_ACTIVATIONS, HeadActivations, NTMConfig


def test_defaults_are_ntm_lasagnes():
    config = NTMConfig(input_size=9, output_size=9)
    assert (config.num_slots, config.word_size, config.controller_size) == (128, 20, 100)
    assert config.shift_mode == "zero_pad" and config.step_order == "lasagne"
    assert config.activations == HeadActivations()
    assert config.activations.gate == "hard_sigmoid" and config.activations.key == "clip01"


def test_json_round_trip_preserves_every_field():
    config = NTMConfig(
        input_size=3, output_size=4, controller="lstm", controller_layers=2, activations="paper",
        use_sign=True, step_order="graves", shift_mode="circular", num_shifts=5,
        head_bias={"gate": -2.0, "gamma": 1.5},
    )  # fmt: skip
    assert NTMConfig.from_json(config.to_json()) == config
    assert config.activations == PAPER_ACTIVATIONS


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("num_shifts", 4, "num_shifts must be odd"),
        ("num_shifts", 0, "num_shifts must be an integer >= 1"),
        ("read_heads", 0, "read_heads must be an integer >= 1"),
        ("write_heads", 0, "write_heads must be an integer >= 1"),
        ("num_slots", -3, "num_slots must be an integer >= 1"),
        ("word_size", 2.5, "word_size must be an integer >= 1"),
        ("controller", "transformer", "controller must be one of"),
        ("shift_mode", "reflect", "shift_mode must be one of"),
        ("step_order", "random", "step_order must be one of"),
        ("controller_layers", 2, "controller_layers > 1 needs controller='lstm'"),
        ("activations", "fancy", "activations must be one of"),
        ("activations", {"gate": "swish"}, "activations.gate must be one of"),
        ("controller_activation", "gelu2", "controller_activation must be one of"),
        ("head_bias", {"gate": float("nan")}, "head_bias.gate must be a finite number"),
        ("head_bias", {"gamma": "3"}, "head_bias.gamma must be a finite number"),
        ("head_bias", {"shift": 1.0}, "unknown head_bias fields \\['shift'\\]"),
        ("head_bias", 2.0, "head_bias must be a HeadBias or a dict"),
    ],
)
def test_invalid_field_raises_value_error_naming_field_and_value(field, value, message):
    with pytest.raises(ValueError, match=message) as info:
        NTMConfig(input_size=3, output_size=3, **{field: value})
    assert repr(value).strip("'") in str(info.value) or field in str(info.value)


def test_shift_count_larger_than_memory_is_rejected():
    with pytest.raises(ValueError, match="at most num_slots"):
        NTMConfig(input_size=3, output_size=3, num_slots=3, num_shifts=5)


def test_from_dict_rejects_unknown_keys_listing_valid_ones():
    with pytest.raises(ValueError, match="unknown NTMConfig fields \\['memory_size'\\]"):
        NTMConfig.from_dict({"input_size": 3, "output_size": 3, "memory_size": 10})
