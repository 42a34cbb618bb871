"""What the fused engine's tests of the NTM (tests/test_fused.py) and of the DNC
(tests/test_fused_dnc.py) share: how close two tensors are, whether the fused engine ran, every
tensor of a state, and a no-grad pass against the reference engine on a number of threads."""

from contextlib import contextmanager

import torch

from ntmkit import engine


def assert_close_relative(a, b, tolerance, what):
    """``a`` within ``tolerance`` of ``b``, relative to ``b``'s largest magnitude."""
    scale = b.abs().max().clamp(min=1e-30)
    error = float((a - b).abs().max() / scale)
    assert error <= tolerance, f"{what}: relative error {error:.2e} > {tolerance:.0e}"


def ran_fused(logits: torch.Tensor) -> bool:
    """Whether the fused engine's autograd node made these logits."""
    return type(logits.grad_fn).__name__.startswith("_FusedSequence")


def state_parts(state) -> list[torch.Tensor]:
    """Every tensor of an `NTMState`, the DNC's history included where there is one."""
    parts = [state.memory, state.read_weights, state.write_weights, state.reads]
    return [*parts, state.controller_output, *state.controller_state, *(state.dnc or ())]


@contextmanager
def threads(count: int):
    """Run the block on ``count`` torch threads, and the previous number after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def assert_no_grad_pass_is_the_references(model, inputs, lengths, count: int) -> None:
    """No-grad logits and final state of the default (fused) engine on ``count`` threads equal
    the reference engine's to 1e-12."""
    with threads(count), torch.no_grad():
        logits, final = model(inputs, lengths=lengths)
        with engine.use("reference"):
            want_logits, want_final = model(inputs, lengths=lengths)
    torch.testing.assert_close(logits, want_logits, rtol=1e-12, atol=1e-12)
    for a, b in zip(state_parts(final), state_parts(want_final), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
