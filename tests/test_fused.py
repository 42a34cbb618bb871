"""The fused engine computes what the eager reference computes: logits, final state, loss and
every gradient (parameters, initial state, inputs), for every configuration it covers."""

import subprocess
import sys
import warnings

import pytest
import torch
from engine_agreement import (
    assert_close_relative,
    assert_no_grad_pass_is_the_references,
    ran_fused,
    threads,
)

from ntmkit import NTM, NTMConfig, engine, fused
from ntmkit.vocabulary import ActivationName, names

SMALL = dict(input_size=5, output_size=4, num_slots=9, word_size=4, controller_size=6)


def test_the_engine_builds_here():
    # CI must run the engine, never skip it: a failed build fails this test.
    assert fused.load() is not None


def run(model, inputs, name, lengths=None, state=None, seed=7):
    """Logits, final state, and the gradients of a loss that sees all of them; whether the
    fused engine computed them."""
    torch.manual_seed(seed)  # output dropout draws from the global generator
    model.zero_grad(set_to_none=True)
    inputs = inputs.clone().requires_grad_()
    with engine.use(name):
        logits, final = model(inputs, state=state, lengths=lengths)
    generator = torch.Generator().manual_seed(1)
    parts = [logits, final.memory, final.read_weights, final.write_weights, final.reads,
             final.controller_output, *final.controller_state]  # fmt: skip
    loss = sum(
        (part * torch.randn(part.shape, generator=generator, dtype=part.dtype)).sum()
        for part in parts
    )
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    return (
        [loss.detach(), *(part.detach() for part in parts)],
        grads,
        inputs.grad,
        ran_fused(logits),
    )


def assert_engines_agree(config, steps=6, batch=3, dtype=torch.float64, lengths=None,
                         train=True, state=None):  # fmt: skip
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    torch.manual_seed(0)
    model = NTM(NTMConfig(**config)).to(dtype).train(train)
    inputs = torch.randn(steps, batch, config["input_size"], dtype=dtype)
    got = run(model, inputs, "fused", lengths, state)
    want = run(model, inputs, "reference", lengths, state)
    # Else the comparison would be of the eager path with itself.
    assert got[3] and not want[3], fused.why_not(model.cell, inputs, trace=False)
    for i, (a, b) in enumerate(zip(got[0], want[0], strict=True)):
        assert_close_relative(a, b, tolerance, f"output {i}")
    assert set(got[1]) == set(want[1])
    for name in want[1]:
        assert_close_relative(got[1][name], want[1][name], tolerance, f"gradient of {name}")
    assert_close_relative(got[2], want[2], tolerance, "gradient of the inputs")


@pytest.mark.parametrize("controller", ["dense", "rnn", "gru", "lstm"])
@pytest.mark.parametrize("order", ["lasagne", "graves"])
@pytest.mark.parametrize("shift_mode", ["zero_pad", "circular"])
def test_every_controller_order_and_shift_mode_matches_eager(controller, order, shift_mode):
    assert_engines_agree(
        dict(SMALL, controller=controller, step_order=order, shift_mode=shift_mode)
    )


@pytest.mark.parametrize(("read_heads", "write_heads"), [(1, 1), (2, 1), (1, 2), (3, 2), (4, 4)])
@pytest.mark.parametrize("controller", ["dense", "lstm"])
def test_one_to_four_heads_of_each_kind_match_eager(read_heads, write_heads, controller):
    order = "lasagne" if controller == "dense" else "graves"
    config = dict(SMALL, controller=controller, step_order=order, read_heads=read_heads,
                  write_heads=write_heads, num_shifts=5, shift_mode="circular")  # fmt: skip
    assert_engines_agree(config)


UNIT_INTERVAL = ("sigmoid", "hard_sigmoid", "clip01")
NON_NEGATIVE = (*UNIT_INTERVAL, "relu", "softplus", "one_plus_relu", "one_plus_softplus", "softmax")


@pytest.mark.parametrize("activation", names(ActivationName))
def test_every_activation_matches_eager(activation):
    # Every field takes the activation where the addressing stays defined: the gate must keep
    # the interpolation a mixture, the shift weights must not be negative.
    fields = dict.fromkeys(("key", "beta", "gamma", "erase", "add"), activation)
    fields["gate"] = activation if activation in UNIT_INTERVAL else "sigmoid"
    fields["shift"] = activation if activation in NON_NEGATIVE else "softmax"
    config = dict(SMALL, controller="rnn", controller_activation=activation, activations=fields)
    assert_engines_agree(config)


@pytest.mark.parametrize("order", ["lasagne", "graves"])
@pytest.mark.parametrize("controller", ["gru", "lstm"])
def test_variable_lengths_match_eager(order, controller):
    config = dict(SMALL, controller=controller, step_order=order)
    assert_engines_agree(config, steps=7, batch=4, lengths=torch.tensor([7, 3, 1, 5]))


def test_learned_initial_state_and_stacked_layers_get_the_eager_gradients():
    config = dict(SMALL, controller="lstm", controller_layers=3, hidden_init="learned",
                  memory_init="learned", learn_weights_init=True, step_order="graves")  # fmt: skip
    assert_engines_agree(config)


def test_a_given_initial_state_gets_the_eager_gradients():
    torch.manual_seed(3)
    model = NTM(NTMConfig(**SMALL, controller="gru")).double()
    start = model.initial_state(3)
    state = start._replace(
        memory=torch.randn_like(start.memory).requires_grad_(),
        controller_state=tuple(
            torch.randn_like(s).requires_grad_() for s in start.controller_state
        ),
    )
    inputs = torch.randn(5, 3, 5, dtype=torch.float64)

    def gradients(name):
        with engine.use(name):
            logits, final = model(inputs, state=state)
        grads = torch.autograd.grad((logits.sum() + final.memory.sum()),
                                    [state.memory, *state.controller_state])  # fmt: skip
        return grads

    for a, b in zip(gradients("fused"), gradients("reference"), strict=True):
        assert_close_relative(a, b, 1e-10, "initial state gradient")


@pytest.mark.parametrize("order", ["lasagne", "graves"])
def test_output_dropout_draws_the_eager_masks(order):
    config = dict(SMALL, controller="lstm", step_order=order, output_dropout=0.5)
    assert_engines_agree(config)


@pytest.mark.parametrize("batch", [1, 64])
def test_float32_batches_of_1_and_64_of_the_fast_copy_model_match_eager(batch):
    activations = {"beta": "softplus", "gamma": "one_plus_softplus"}
    config = dict(input_size=9, output_size=9, controller="lstm", controller_size=100,
                  num_slots=128, word_size=20, step_order="graves", shift_mode="circular",
                  output_dropout=0.5, activations=activations)  # fmt: skip
    assert_engines_agree(config, steps=21, batch=batch, dtype=torch.float32)


@pytest.mark.parametrize("thread_count", [1, 2])
@pytest.mark.parametrize("order", ["graves", "lasagne"])
def test_no_grad_evaluation_gives_the_same_logits_and_state(order, thread_count):
    # Without a tape the addressing's scratch is shared by a thread's sequences in turn: two
    # heads of each kind and two threads check that no sequence sees another's.
    torch.manual_seed(0)
    config = NTMConfig(**{**SMALL, "read_heads": 2, "write_heads": 2}, controller="lstm",
                       step_order=order)  # fmt: skip
    model = NTM(config).double().eval()
    inputs = torch.randn(8, 4, 5, dtype=torch.float64)
    assert_no_grad_pass_is_the_references(model, inputs, torch.tensor([8, 2, 5, 7]), thread_count)


def test_two_threads_give_what_one_gives():
    torch.manual_seed(0)
    model = NTM(NTMConfig(**SMALL, controller="lstm", step_order="graves")).double()
    inputs = torch.randn(6, 8, 5, dtype=torch.float64)
    one = run(model, inputs, "fused")
    with threads(2):
        two = run(model, inputs, "fused")
    for name in one[1]:
        assert_close_relative(two[1][name], one[1][name], 1e-12, name)


def test_trace_and_batch_first_work_and_trace_runs_the_eager_loop():
    torch.manual_seed(0)
    model = NTM(NTMConfig(**SMALL, controller="lstm", batch_first=True)).double()
    inputs = torch.randn(3, 6, 5, dtype=torch.float64)  # [B, T, F]
    logits, _ = model(inputs)
    traced, _, trace = model(inputs, trace=True)
    assert logits.shape == (3, 6, 4) and trace.memory.shape == (6, 3, 9, 4)
    torch.testing.assert_close(logits, traced, rtol=1e-12, atol=1e-12)
    assert (
        fused.why_not(model.cell, inputs, trace=True) == "trace=True records every step in Python"
    )


def test_a_configuration_the_engine_does_not_cover_runs_eagerly_and_says_why_once():
    fused._warned.clear()
    model = NTM(NTMConfig(**SMALL, use_sign=True)).double()
    inputs = torch.randn(4, 2, 5, dtype=torch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model(inputs)
        model(inputs)
    said = [w for w in caught if "eager path" in str(w.message)]
    assert len(said) == 1 and "use_sign" in str(said[0].message)
    assert said[0].filename == __file__  # the caller's line, not torch's or ntmkit's
    assert fused.why_not(model.cell, inputs, trace=False) is not None


def test_float16_inputs_run_eagerly_with_a_reason():
    model = NTM(NTMConfig(**SMALL))
    reason = fused.why_not(model.cell, torch.randn(2, 1, 5, dtype=torch.bfloat16), trace=False)
    assert "float32 and float64" in reason


def test_a_failed_build_warns_once_in_one_line_and_models_run_eagerly(monkeypatch):
    from ntmkit.fused import build

    def no_compiler(verbose):
        raise RuntimeError("g++: command not found\nmore detail nobody needs")

    monkeypatch.setattr(build, "_state", {})
    monkeypatch.setattr(build, "_compile", no_compiler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert build.load() is None and build.load() is None
    said = [str(w.message) for w in caught]
    assert said == [
        "ntmkit: the fused engine could not be built (g++: command not found); running the "
        "eager path (`python -m ntmkit.fused --verbose` shows the build)"
    ]
    model = NTM(NTMConfig(**SMALL)).double()
    inputs = torch.randn(3, 2, 5, dtype=torch.float64)
    assert fused.why_not(model.cell, inputs, trace=False) == (
        "the engine's C++ extension is not available"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "running the eager path", said once per process
        with engine.use("reference"):
            expected = model(inputs)[0]
        torch.testing.assert_close(model(inputs)[0], expected)


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ({"sse2", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"}, "avx512"),
        ({"sse2", "avx2", "fma", "avx512f"}, "avx2"),  # AVX-512 without its VL/BW/DQ parts
        ({"sse2", "avx"}, "generic"),
        (set(), "generic"),  # /proc/cpuinfo unreadable
    ],
)
def test_the_build_uses_the_best_instruction_set_the_cpu_has(monkeypatch, flags, level):
    from ntmkit.fused import build

    monkeypatch.setattr(build.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(build, "_cpu_flags", lambda: flags)
    chosen, compiler_flags = build.isa_level()
    assert chosen == level
    assert ("-mavx2" in compiler_flags) == (level != "generic")
    assert ("-mavx512f" in compiler_flags) == (level == "avx512")


def test_other_cpus_build_with_the_compilers_defaults(monkeypatch):
    from ntmkit.fused import build

    monkeypatch.setattr(build.platform, "machine", lambda: "aarch64")
    assert build.isa_level() == ("generic", [])


def test_a_build_killed_half_way_leaves_nothing_that_blocks_the_next():
    from ntmkit.fused import build

    name = f"{build.NAME}_{build.isa_level()[0]}"
    folder = build.build_folder(name)
    assert f"torch{torch.__version__.replace('+', '_')}_" in folder.name
    (folder / build.TORCH_LOCK).touch()  # what torch's builder leaves when it is killed
    loaded = subprocess.run(
        [sys.executable, "-c", "from ntmkit.fused import build; print(build.load() is not None)"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert loaded.stdout.strip() == "True", loaded.stderr[-2000:]
    assert not (folder / build.TORCH_LOCK).exists()


def test_a_failed_build_names_the_compilers_error_not_torchs_summary():
    from ntmkit.fused.build import failure_reason

    output = (
        "Error building extension 'ntmkit_fused_engine_avx2'\n[1/2] c++ -MMD engine.cpp\n"
        "FAILED: engine.o\nengine.cpp:3:10: fatal error: Python.h: No such file or directory\n"
        "compilation terminated.\nninja: build stopped: subcommand failed."
    )
    assert failure_reason(RuntimeError(output)) == (
        "engine.cpp:3:10: fatal error: Python.h: No such file or directory"
    )
    assert failure_reason(RuntimeError("ninja is not installed")) == "ninja is not installed"


def test_a_missing_compiler_is_the_reason_given(monkeypatch):
    from ntmkit.fused import build

    monkeypatch.setenv("CXX", "no-such-compiler-here")
    with pytest.raises(
        RuntimeError, match="no C\\+\\+ compiler: no-such-compiler-here is not on PATH"
    ):
        build._compile(verbose=False)


def test_ninja_is_found_beside_this_python_without_path(monkeypatch):
    from ntmkit.fused import build

    monkeypatch.setenv("PATH", "")
    folder = build.ninja_folder()
    assert folder is not None and (folder / "ninja").is_file()


def test_two_installations_build_in_two_folders(monkeypatch, tmp_path):
    from ntmkit.fused import build

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    here = build.build_folder("engine")
    monkeypatch.setattr(build, "SOURCES", tmp_path / "elsewhere" / "csrc")
    assert build.build_folder("engine") != here
