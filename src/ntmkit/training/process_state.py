"""Process-wide settings a training loop needs, set on entering it and restored on leaving it.

`Trainer.fit` changes three things that belong to the whole process, all inside
`training_process` and nowhere else:

* torch's global random number generators hold the run's own stream (model initialisation
  and output dropout draw from them), and the caller's streams come back afterwards;
* denormal floats are flushed to zero: sharpened weightings underflow into denormals, which
  x86 CPUs process 10-100x more slowly, and no result above 1e-38 changes. PyTorch has no
  getter for this flag, so `flush_denormal_enabled` probes it and the caller's value is
  restored;
* Ctrl-C (SIGINT) calls the loop's handler instead of raising, so the loop can finish its step
  and save a checkpoint; only in the main thread, the one Python delivers signals to.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

DENORMAL_PROBE = 1e-39
"""A float32 denormal (the smallest normal float32 is about 1.2e-38). With flush-to-zero and
denormals-are-zero on, multiplying it by 1 gives 0; with them off, it comes back unchanged."""


def flush_denormal_enabled() -> bool:
    """Whether the CPU currently flushes denormal floats to zero (`torch.set_flush_denormal`)."""
    return torch.tensor([DENORMAL_PROBE], dtype=torch.float32).mul(1.0).item() == 0.0


@dataclass
class RandomState:
    """A run's own state of torch's global generators: the CPU one and, when training on a
    GPU, the CUDA ones (output dropout on a GPU draws from those)."""

    cpu: torch.Tensor
    cuda: list[torch.Tensor] | None = None

    @classmethod
    def capture(cls, device: str) -> "RandomState":
        """The global generators' states now."""
        return cls(torch.get_rng_state(), _cuda_states(device))

    def refresh(self, device: str) -> None:
        """Take the global generators' states now, in place (the loop calls it inside
        `training_process`, where they hold the run's stream, before a checkpoint)."""
        captured = RandomState.capture(device)
        self.cpu, self.cuda = captured.cpu, captured.cuda

    def install(self) -> None:
        """Make the global generators continue from this state."""
        torch.set_rng_state(self.cpu.cpu())
        if self.cuda is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([state.cpu() for state in self.cuda])


@contextmanager
def random_state(state: RandomState, device: str) -> Iterator[None]:
    """Torch's global generators continue from ``state`` inside the ``with`` block; on exit
    ``state`` is updated in place (so it always holds where the run's stream stands) and the
    caller's generators come back."""
    cuda_devices = list(range(torch.cuda.device_count())) if _on_cuda(device) else []
    with torch.random.fork_rng(devices=cuda_devices):
        state.install()
        try:
            yield
        finally:
            state.refresh(device)


@contextmanager
def training_process(
    state: RandomState, device: str, on_interrupt: Callable[[int, object], None]
) -> Iterator[None]:
    """The process settings of a training loop (see the module doc) for the ``with`` block."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    flush = flush_denormal_enabled()
    with random_state(state, device):
        previous_handler = signal.signal(signal.SIGINT, on_interrupt) if in_main_thread else None
        torch.set_flush_denormal(True)
        try:
            yield
        finally:
            torch.set_flush_denormal(flush)
            if in_main_thread:
                signal.signal(signal.SIGINT, previous_handler)


def seeded_state(seed: int, device: str) -> RandomState:
    """The state torch's generators have right after ``torch.manual_seed(seed)``."""
    cuda_devices = list(range(torch.cuda.device_count())) if _on_cuda(device) else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        return RandomState.capture(device)


def _on_cuda(device: str) -> bool:
    return torch.device(device).type == "cuda" and torch.cuda.is_available()


def _cuda_states(device: str) -> list[torch.Tensor] | None:
    return torch.cuda.get_rng_state_all() if _on_cuda(device) else None
