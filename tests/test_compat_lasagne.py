"""ntmkit.compat.lasagne: ntm-lasagne's model files load safely and compute what they computed.

Bit errors count every step and every channel of a sequence, with ``logits > 0`` as the
prediction: ntm-lasagne trained and judged its models on the whole sequence, so the zeros
outside the output phase are targets too.

The pretrained models come from ``shared/fixtures/ntm-lasagne`` next to the checkout; their
tests skip when that folder is absent, except under ``CI=true``, where it must exist. Everything
else builds its own small random models and compares them with a NumPy re-statement of
ntm-lasagne's equations.
"""

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib import format as npy_format

from ntmkit.compat import UnsafePickleError, describe, lasagne, load, load_object_array

FIXTURES = Path(__file__).parents[2] / "shared" / "fixtures" / "ntm-lasagne"
BITS = 8  # the pretrained copy models' vector width
SEQUENCES = 20  # sequences per length, as in the fixtures' README measurements
SMALL = {"inputs": 5, "units": 7, "slots": 6, "word": 4, "shifts": 3, "outputs": 3}


# Helpers: the pretrained models and copy-task batches.


@pytest.fixture(scope="module")
def fixtures_dir() -> Path:
    if FIXTURES.is_dir():
        return FIXTURES
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the ntm-lasagne fixtures are missing: {FIXTURES}")
    pytest.skip(
        f"ntm-lasagne fixtures not found at {FIXTURES} (the shared/ folder next to the repo)"
    )


@pytest.fixture(scope="module")
def copy_model(fixtures_dir):
    return load(fixtures_dir / "copy.npy", task="copy")


@pytest.fixture(scope="module")
def reversed_copy_model(fixtures_dir):
    return load(fixtures_dir / "reversed-copy.npy", task="reversed_copy")


def copy_batch(length: int, reverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy episodes with the end marker, ``[2L + 2, SEQUENCES, 9]`` inputs and targets.

    Bits at t < L, the delimiter (channel 8) at t = L; the targets hold the bits (reversed in
    time for the reversed copy) at L < t <= 2L and the end marker on channel 8 at t = 2L + 1.
    """
    generator = torch.Generator().manual_seed(length)
    bits = torch.randint(0, 2, (length, SEQUENCES, BITS), generator=generator).float()
    steps = 2 * length + 2
    inputs = torch.zeros(steps, SEQUENCES, BITS + 1)
    targets = torch.zeros(steps, SEQUENCES, BITS + 1)
    inputs[:length, :, :BITS] = bits
    inputs[length, :, BITS] = 1.0
    targets[length + 1 : 2 * length + 1, :, :BITS] = bits.flip(0) if reverse else bits
    targets[2 * length + 1, :, BITS] = 1.0
    return inputs, targets


def bit_errors(model, inputs: torch.Tensor, targets: torch.Tensor) -> list[int]:
    """Wrong bits of each sequence, over every step and channel.

    Runs on one thread: the tensors are tiny, and on a busy machine a second intra-op thread
    only waits for a core (a 250-step pass went from 0.4 s to 27 s that way).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            logits, _ = model(inputs)
    finally:
        torch.set_num_threads(threads)
    return ((logits > 0).float() != targets).sum(dim=(0, 2)).tolist()


# The pretrained models.


@pytest.mark.parametrize("length", [1, 5, 10, 20, 40, 80, 120, 126])
def test_copy_model_makes_no_bit_errors_up_to_length_126(copy_model, length):
    assert bit_errors(copy_model, *copy_batch(length)) == [0] * SEQUENCES


@pytest.mark.parametrize("length", [127, 128, 130])
def test_copy_model_fails_once_the_sequence_outgrows_the_memory(copy_model, length):
    # The write head moves one slot per vector and the zero-padded shift cannot take it past
    # the last of the 128 slots, so from length 127 on every sequence loses vectors.
    errors = bit_errors(copy_model, *copy_batch(length))
    assert min(errors) > 0, errors


@pytest.mark.parametrize("length", [5, 10])
def test_reversed_copy_model_makes_no_bit_errors(reversed_copy_model, length):
    errors = bit_errors(reversed_copy_model, *copy_batch(length, reverse=True))
    assert errors == [0] * SEQUENCES


@pytest.mark.parametrize(
    ("name", "controller", "count"), [("copy.npy", "dense", 34), ("reversed-copy.npy", "rnn", 36)]
)
def test_describe_reads_the_pretrained_layouts(fixtures_dir, name, controller, count):
    layout = describe(fixtures_dir / name)
    assert layout.controller == controller and len(layout.names) == count
    assert layout.heads == ("write", "read") and layout.head_arrays == "2d"
    assert tuple(layout.sizes) == (9, 100, 128, 20, 3, 9)
    assert ("controller W_hid_to_hid" in layout.names) == (controller == "rnn")
    assert layout.names[-3:] == ("read head b_hid_to_gamma", "output W", "output b")


def test_load_rejects_a_task_whose_channels_differ(fixtures_dir):
    with pytest.raises(ValueError, match="repeat_copy model, which has 10"):
        load(fixtures_dir / "copy.npy", task="repeat_copy")
    with pytest.raises(ValueError, match=r"task must be one of copy, .*, got 'copies'"):
        load(fixtures_dir / "copy.npy", task="copies")


# Small random models against a NumPy re-statement of ntm-lasagne's step.


def random_model(kind: str, heads: tuple[str, ...], seed: int = 0) -> dict:
    """Random parameters of an ntm-lasagne model, structured, with SMALL sizes."""
    rng = np.random.default_rng(seed)
    units, word = SMALL["units"], SMALL["word"]
    gates = ("update", "reset", "hid") if kind == "gru" else ("hid",)
    sources = ("in", "reads") if kind == "dense" else ("in", "reads", "hid")
    fan_in = {"in": SMALL["inputs"], "reads": heads.count("read") * word, "hid": units}
    widths = {"key": word, "beta": 1, "gate": 1, "shift": SMALL["shifts"], "gamma": 1}
    widths.update(erase=word, add=word)

    def pair(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.normal(0.0, 0.6, (rows, cols)), rng.normal(0.0, 0.3, cols)

    def head(head_kind: str) -> dict:
        names = list(widths)[:5] + (["erase", "add"] if head_kind == "write" else [])
        start = rng.dirichlet(np.ones(SMALL["slots"]))[None]  # (1, N)
        return {
            "kind": head_kind,
            "init": start,
            "params": {n: pair(units, widths[n]) for n in names},
        }

    return {
        "kind": kind,
        "hid_init": rng.uniform(-0.5, 0.5, (1, units)),
        "controller": {(s, g): pair(fan_in[s], units) for g in gates for s in sources},
        "memory_init": rng.uniform(-0.2, 0.2, (SMALL["slots"], word)),
        "heads": [head(h) for h in heads],
        "output": pair(units, SMALL["outputs"]),
    }


def file_arrays(model: dict, head_arrays: str = "2d") -> list[np.ndarray]:
    """The model as ntm-lasagne's flat parameter list; "3d" is the later HeadCollection layout."""
    arrays = [model["hid_init"]]
    for weight, bias in model["controller"].values():  # gate by gate, then in, reads, hid
        arrays += [weight, bias]
    arrays.append(model["memory_init"])
    for head in model["heads"]:
        pairs = [a for w, b in head["params"].values() for a in (w, b)]
        if head_arrays == "2d":
            arrays += [head["init"], *pairs]
        else:  # weights and biases gain a leading axis; weights_init follows gamma
            pairs = [a[None] for a in pairs]
            arrays += [*pairs[:10], head["init"], *pairs[10:]]
    return [*arrays, *model["output"]]


def save_arrays(path: Path, arrays: list) -> Path:
    """Saves a list as np.save saves ntm-lasagne's models: a pickled 1-D object array."""
    items = np.empty(len(arrays), dtype=object)
    for index, array in enumerate(arrays):
        items[index] = array
    np.save(path, items, allow_pickle=True)
    return path


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def linear(head: dict, name: str, h):
    """``h W + b`` for one of a head's (W, b) pairs, in Lasagne's ``[in, out]`` orientation."""
    weight, bias = head["params"][name]
    return h @ weight + bias


def reference_address(head: dict, h, memory, w_prev):
    """One head's new weighting (paper 3.3), zero-padded shift, per-sequence normalisation."""
    key, beta = np.maximum(linear(head, "key", h), 0), np.maximum(linear(head, "beta", h), 0)
    gate, shift = hard_sigmoid(linear(head, "gate", h)), softmax(linear(head, "shift", h))
    gamma = 1.0 + np.maximum(linear(head, "gamma", h), 0)
    dot = np.einsum("bw,bnw->bn", key, memory)
    norms = np.sqrt((key**2).sum(-1, keepdims=True) * (memory**2).sum(-1) + 1e-6)
    w_g = gate * softmax(beta * dot / norms) + (1 - gate) * w_prev
    radius, slots = shift.shape[-1] // 2, w_g.shape[-1]
    w_tilde = np.zeros_like(w_g)
    for j in range(shift.shape[-1]):  # s_j moves the focus by j - radius slots, nothing wraps
        offset, moved = j - radius, np.zeros_like(w_g)
        if offset >= 0:
            moved[:, offset:] = w_g[:, : slots - offset]
        else:
            moved[:, :offset] = w_g[:, -offset:]
        w_tilde += shift[:, j : j + 1] * moved
    w = (w_tilde + 1e-6) ** gamma
    return w / w.sum(-1, keepdims=True)


def reference_controller(model: dict, x, reads, h):
    """Dense and RNN: ReLU of the summed products; GRU: update, reset, candidate as documented."""
    c = model["controller"]

    def pre(gate, hidden):
        total = x @ c["in", gate][0] + c["in", gate][1] + reads @ c["reads", gate][0]
        total = total + c["reads", gate][1]
        if ("hid", gate) in c:
            total = total + hidden @ c["hid", gate][0] + c["hid", gate][1]
        return total

    if model["kind"] != "gru":
        return np.maximum(pre("hid", h), 0)
    update, reset = 1 / (1 + np.exp(-pre("update", h))), 1 / (1 + np.exp(-pre("reset", h)))
    return (1 - update) * np.tanh(pre("hid", reset * h)) + update * h


def reference_forward(model: dict, inputs: np.ndarray) -> np.ndarray:
    """ntm-lasagne's step order: write (previous weights and h), read, controller, address."""
    batch, heads = inputs.shape[1], model["heads"]
    memory = np.repeat(model["memory_init"][None], batch, 0)
    weights = [np.repeat(head["init"], batch, 0) for head in heads]
    h = np.repeat(model["hid_init"], batch, 0)
    writers = [i for i, head in enumerate(heads) if head["kind"] == "write"]
    readers = [i for i, head in enumerate(heads) if head["kind"] == "read"]
    outputs = []
    for x in inputs:
        for i in writers:  # every erase first, then every add
            erase = hard_sigmoid(linear(heads[i], "erase", h))
            memory = memory * (1 - weights[i][:, :, None] * erase[:, None, :])
        for i in writers:
            add = np.maximum(linear(heads[i], "add", h), 0)
            memory = memory + weights[i][:, :, None] * add[:, None, :]
        reads = np.concatenate([np.einsum("bn,bnw->bw", weights[i], memory) for i in readers], -1)
        h = reference_controller(model, x, reads, h)
        weights = [reference_address(hd, h, memory, w) for hd, w in zip(heads, weights)]
        outputs.append(h @ model["output"][0] + model["output"][1])
    return np.stack(outputs)


@pytest.mark.parametrize(
    ("kind", "heads"),
    [
        ("dense", ("write", "read")),
        ("rnn", ("write", "read")),
        ("gru", ("write", "read")),
        ("dense", ("read", "write", "write", "read")),
        ("rnn", ("read", "read", "write")),
    ],
)
def test_loaded_model_matches_numpy_reference(tmp_path, kind, heads):
    model = random_model(kind, heads)
    path = save_arrays(tmp_path / "model.npy", file_arrays(model))
    ntm = load(path, dtype=torch.float64)
    inputs = np.random.default_rng(1).integers(0, 2, (6, 3, SMALL["inputs"])).astype(float)
    with torch.no_grad():
        logits, _ = ntm(torch.from_numpy(inputs))
    np.testing.assert_allclose(logits.numpy(), reference_forward(model, inputs), atol=1e-10)


@pytest.mark.parametrize("heads", [("write", "read"), ("read", "write", "read")])
def test_2d_and_3d_head_layouts_load_identical_models(tmp_path, heads):
    model = random_model("gru", heads)
    flat = save_arrays(tmp_path / "flat.npy", file_arrays(model, "2d"))
    stacked = save_arrays(tmp_path / "stacked.npy", file_arrays(model, "3d"))
    assert describe(stacked).head_arrays == "3d"
    assert describe(stacked).heads == heads
    flat_state, stacked_state = load(flat).state_dict(), load(stacked).state_dict()
    assert flat_state.keys() == stacked_state.keys()
    for name, value in flat_state.items():
        assert torch.equal(value, stacked_state[name]), name


def test_config_has_ntm_lasagne_semantics(tmp_path):
    path = save_arrays(tmp_path / "rnn.npy", file_arrays(random_model("rnn", ("write", "read"))))
    config = load(path).config
    assert (config.step_order, config.shift_mode, config.controller) == (
        "lasagne",
        "zero_pad",
        "rnn",
    )
    assert (config.activations.key, config.activations.add, config.activations.gate) == (
        "relu",
        "relu",
        "hard_sigmoid",
    )
    assert (config.num_slots, config.word_size, config.num_shifts) == (6, 4, 3)


def test_describe_names_every_array_of_a_gru_model(tmp_path):
    path = save_arrays(tmp_path / "gru.npy", file_arrays(random_model("gru", ("write", "read"))))
    layout = describe(path)
    assert layout.controller == "gru" and len(layout.names) == 48
    assert layout.names[1:4] == (
        "controller W_in_to_update",
        "controller b_in_to_update",
        "controller W_reads_to_update",
    )
    assert layout.names[-3:] == ("read head b_hid_to_gamma", "output W", "output b")
    assert "write head W_hid_to_erase" in layout.summary()


# Files that must be refused.


def npy_with_payload(path: Path, payload: bytes) -> Path:
    """A .npy file whose header promises an object array and whose pickle is ``payload``."""
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        f.write(payload)
    return path


def attack(module: str, name: str, argument: str) -> bytes:
    """A protocol-0 pickle that calls ``module.name(argument)`` when it is loaded."""
    return f"c{module}\n{name}\n(S{argument!r}\ntR.".encode()


@pytest.mark.parametrize(
    ("module", "name", "command"),
    [
        ("os", "system", "touch {marker}"),
        ("builtins", "eval", "open({marker!r}, 'w').close()"),
        ("__builtin__", "exec", "open({marker!r}, 'w').close()"),  # as Python 2 spelt it
    ],
)
def test_malicious_pickle_is_refused_before_it_runs(tmp_path, module, name, command):
    marker = tmp_path / "payload_ran"
    path = npy_with_payload(
        tmp_path / "evil.npy", attack(module, name, command.format(marker=str(marker)))
    )
    with pytest.raises(UnsafePickleError, match=re.escape(f"global {module}.{name}")):
        load(path)
    assert not marker.exists()
    # The same file does run its payload under a plain np.load, so the check above is meaningful.
    np.load(path, allow_pickle=True, encoding="latin1")
    assert marker.exists()


def test_non_numeric_items_are_refused(tmp_path):
    path = save_arrays(tmp_path / "strings.npy", [np.zeros(3), "not an array"])
    with pytest.raises(UnsafePickleError, match="item 1 is str"):
        load_object_array(path)
    nested = np.empty(1, dtype=object)
    path = save_arrays(tmp_path / "nested.npy", [nested])
    with pytest.raises(UnsafePickleError, match="item 0 is object"):
        load_object_array(path)


def test_loaded_arrays_are_float64_copies_of_the_stored_ones(tmp_path):
    stored = [
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.array([True, False]),
        np.ones(2, np.float32),
    ]
    loaded = load_object_array(save_arrays(tmp_path / "mixed.npy", stored))
    assert [a.dtype for a in loaded] == [np.float64] * 3
    for original, copy in zip(stored, loaded):
        np.testing.assert_array_equal(copy, original)


@pytest.mark.parametrize(
    ("keep", "message"), [(0.5, "truncated or corrupt pickle"), (20, "not a readable .npy")]
)
def test_truncated_file_is_reported_with_its_name(tmp_path, keep, message):
    whole = save_arrays(
        tmp_path / "whole.npy", file_arrays(random_model("dense", ("write", "read")))
    )
    data = whole.read_bytes()
    cut = tmp_path / "cut.npy"
    cut.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(ValueError, match=re.escape(f"cut.npy: {message}")):
        load(cut)


def test_files_that_are_not_object_arrays_are_refused(tmp_path):
    text = tmp_path / "notes.npy"
    text.write_text("these are not parameters\n")
    with pytest.raises(ValueError, match=re.escape("notes.npy: not a readable .npy file")):
        load(text)
    plain = tmp_path / "plain.npy"
    np.save(plain, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape("plain.npy: expected a .npy object array")):
        load(plain)


@pytest.mark.parametrize(
    ("index", "shape", "name"),
    [
        (3, (5, 7), "controller W_reads_to_hid"),  # R = 4: one read head of 4-wide words
        (5, (7, 4), "memory_init"),
        (7, (7, 5), "write head W_hid_to_key"),
        (29, (4,), "read head b_hid_to_shift"),
        (33, (4,), "output b"),
    ],
)
def test_an_array_of_the_wrong_shape_is_named(tmp_path, index, shape, name):
    arrays = file_arrays(random_model("dense", ("write", "read")))
    expected = arrays[index].shape
    arrays[index] = np.zeros(shape)
    path = save_arrays(tmp_path / "bent.npy", arrays)
    message = f"array {index} ({name}) has shape {shape}, expected {expected}"
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path)


def test_a_wrong_array_count_is_reported(tmp_path):
    arrays = file_arrays(random_model("dense", ("write", "read")))[:-1]
    with pytest.raises(ValueError, match="33 arrays fit no ntm-lasagne layout"):
        load(save_arrays(tmp_path / "short.npy", arrays))


# Task settings.


def test_training_settings_cover_the_seven_models():
    settings = lasagne.training_settings()
    assert set(settings) == set(lasagne.MODEL_FILES) and len(settings) == 7
    assert settings["copy"] == {
        "size": 8, "min_length": 1, "max_length": 5, "end_marker": True,
        "per_sequence_lengths": False,
    }  # fmt: skip
    assert settings["repeat_copy"]["repeat_encoding"] == "unary"
    assert settings["repeat_copy"]["end_marker"] is False
    settings["copy"]["size"] = 3  # callers get copies, never the module's own dicts
    assert settings["sort"]["size"] == 8
    assert lasagne.training_settings("copy")["size"] == 8


@pytest.mark.parametrize("task", sorted(lasagne.MODEL_FILES))
def test_training_settings_make_tasks_with_the_models_channels(task):
    tasks = pytest.importorskip("ntmkit.tasks")
    made = tasks.make_task(task, **lasagne.training_settings(task))
    assert made.input_size == made.output_size == lasagne.MODEL_CHANNELS[task]


def test_object_arrays_pickled_with_protocols_3_to_5_are_readable(tmp_path):
    # NumPy 1 saves with protocol 3, NumPy 2 with 4; 5 rebuilds arrays another way. Python 2's
    # protocol 2 (the pretrained models) is covered above; Python 3's needs _codecs, refused.
    items = np.empty(2, dtype=object)
    items[0], items[1] = np.ones((2, 2)), np.arange(3.0)
    for protocol in range(3, pickle.HIGHEST_PROTOCOL + 1):
        path = tmp_path / f"p{protocol}.npy"
        with open(path, "wb") as f:
            npy_format.write_array_header_1_0(
                f, {"descr": "|O", "fortran_order": False, "shape": (2,)}
            )
            pickle.dump(items, f, protocol=protocol)
        loaded = load_object_array(path)
        np.testing.assert_array_equal(loaded[1], np.arange(3.0))


def test_import_lasagne_command_writes_a_run_folder_that_eval_accepts(tmp_path, fixtures_dir):
    from ntmkit.cli import main

    out = tmp_path / "copy-run"
    model = fixtures_dir / "copy.npy"
    assert main(["import-lasagne", str(model), "--task", "copy", "--out", str(out)]) == 0
    argv = ["eval", str(out), "--lengths", "5,20", "--samples", "10", "--scope", "all"]
    assert main(argv) == 0
    rows = json.loads((out / "eval.json").read_text())["rows"]
    assert [row["bit_errors"] for row in rows] == [0.0, 0.0]
