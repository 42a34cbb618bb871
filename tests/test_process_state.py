"""training_process sets the process-wide state a loop needs and gives the caller's back."""

import signal

import torch

from ntmkit.training.process_state import (
    RandomState,
    flush_denormal_enabled,
    random_state,
    seeded_state,
    training_process,
)


def test_the_denormal_probe_reads_what_set_flush_denormal_set():
    before = flush_denormal_enabled()
    try:
        assert torch.set_flush_denormal(True)  # x86: supported
        assert flush_denormal_enabled()
        torch.set_flush_denormal(False)
        assert not flush_denormal_enabled()
    finally:
        torch.set_flush_denormal(before)


def test_training_process_restores_the_callers_flush_setting_rng_and_sigint_handler():
    def handler(signum, frame):
        pass

    for flush in (False, True):
        torch.set_flush_denormal(flush)
        previous = signal.signal(signal.SIGINT, handler)
        caller_rng = torch.get_rng_state()
        state = seeded_state(7, "cpu")
        try:
            with training_process(state, "cpu", lambda signum, frame: None):
                assert flush_denormal_enabled()
                assert signal.getsignal(signal.SIGINT) is not handler
                torch.rand(3)  # the run's stream moves on
            assert flush_denormal_enabled() == flush
            assert signal.getsignal(signal.SIGINT) is handler
            assert torch.equal(torch.get_rng_state(), caller_rng)
        finally:
            signal.signal(signal.SIGINT, previous)
            torch.set_flush_denormal(False)


def test_the_runs_random_stream_continues_across_blocks_as_one_stream():
    torch.manual_seed(7)
    expected = torch.rand(4)
    state = seeded_state(7, "cpu")
    with random_state(state, "cpu"):
        first = torch.rand(2)
    torch.rand(5)  # the caller's draws in between do not disturb the run's stream
    with random_state(state, "cpu"):
        second = torch.rand(2)
    assert torch.equal(torch.cat([first, second]), expected)
    assert isinstance(state, RandomState) and state.cuda is None
