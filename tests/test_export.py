"""What works for taking an NTM out of Python: torch.compile, torch.export and the dynamo ONNX
exporter work (the last two for the sequence length they captured, refusing any other);
tracing, legacy ONNX export and scripting are refused in one line that names what works."""

import warnings

import numpy as np
import pytest
import torch

from ntmkit import NTM, NTMConfig


@pytest.fixture(scope="module")
def model() -> NTM:
    torch.manual_seed(0)
    config = NTMConfig(
        input_size=3, output_size=2, num_slots=5, word_size=3, controller_size=4,
        controller="lstm",
    )  # fmt: skip
    return NTM(config).eval()


def sequences(steps: int, batch: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(steps, batch, 3, generator=torch.Generator().manual_seed(seed))


def test_tracing_is_refused_in_one_line_naming_what_works(model, tmp_path):
    with pytest.raises(RuntimeError, match=r"^ntmkit.NTM cannot be traced: .*torch.compile"):
        torch.jit.trace(model, (sequences(6, 2),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter's own
        with pytest.raises(RuntimeError, match="cannot be traced"):
            torch.onnx.export(model, (sequences(6, 2),), tmp_path / "m.onnx", dynamo=False)


def test_scripting_is_refused_in_one_line_naming_what_works(model):
    with pytest.raises(RuntimeError, match=r"^ntmkit.NTM cannot be scripted .*torch.export"):
        torch.jit.script(model)


def test_torch_export_equals_eager_for_any_batch_and_refuses_another_length(model):
    batch = torch.export.Dim("batch")
    exported = torch.export.export(model, (sequences(6, 2),), dynamic_shapes=({1: batch},))
    for size in (2, 5):
        inputs = sequences(6, size, seed=size)
        torch.testing.assert_close(exported.module()(inputs)[0], model(inputs)[0])
    with pytest.raises(Exception, match=r"inputs.size\(\)\[0\] == 6"):
        exported.module()(sequences(9, 2))


def test_dynamo_onnx_export_runs_in_onnxruntime_and_refuses_another_length(model, tmp_path):
    import onnxruntime  # the onnx extra (ntmkit[onnx], in the dev extra too)

    path = tmp_path / "ntm.onnx"
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (sequences(6, 2),), dynamo=True, dynamic_shapes=({1: batch},)
        )
    program.save(str(path))
    session = onnxruntime.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    inputs = sequences(6, 5, seed=3)
    logits = session.run(None, {name: inputs.numpy()})[0]
    np.testing.assert_allclose(logits, model(inputs)[0].detach().numpy(), atol=1e-5)
    with pytest.raises(Exception, match="Got: 9 Expected: 6"):
        session.run(None, {name: sequences(9, 2).numpy()})


@pytest.mark.slow
def test_torch_compile_gives_the_eager_outputs_for_lengths_and_batches_never_seen(model):
    compiled = torch.compile(model)
    for steps, batch in ((6, 2), (9, 2), (4, 7)):
        inputs = sequences(steps, batch, seed=steps)
        torch.testing.assert_close(compiled(inputs)[0], model(inputs)[0])
