"""The Ray a sweep runs on: an embedded local instance, or a cluster it joins; Ray's own
output goes to a log file, not the terminal.

Without an address `ray_session` starts Ray inside this process, sized to the machine, and
shuts it down at the end. With ``address="auto"`` (or ``HOST:PORT``) it joins a cluster
started with ``ray start`` and only disconnects at the end. Inside a process that has already
called ``ray.init`` (a notebook, the tests) it uses that Ray as it is.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

OBJECT_STORE_BYTES = 256 * 2**20
"""The local instance's shared-memory object store. Trials pass only small configs and
metrics through it; Ray's default (30% of RAM) can exceed a container's /dev/shm."""

INSTALL_HINT = "ntmkit sweep needs Ray Tune: pip install 'ntmkit[sweep]' (or 'ray[tune]')"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
        from ray import tune  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def ray_session(address: str | None, num_cpus: int | None = None) -> Iterator[None]:
    """Ray for the ``with`` block: joined at ``address``, else started locally with
    ``num_cpus`` CPUs (default: every core)."""
    import ray

    if ray.is_initialized():
        yield
        return
    # Trials' own output stays in Ray's worker logs.
    options: dict[str, Any] = {"log_to_driver": False}
    if address is None:
        options.update(
            num_cpus=num_cpus or os.cpu_count(),
            include_dashboard=False,
            object_store_memory=OBJECT_STORE_BYTES,
        )
    try:
        ray.init(address=address, **options)
    except ConnectionError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "no reply"
        raise ValueError(f"--address {address!r}: could not join a Ray cluster ({first})") from None
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def output_to(log_path: Path) -> Iterator[TextIO]:
    """Everything this process writes to its stdout and stderr, Python's and the libraries'
    (file descriptors 1 and 2: Ray's C++ core writes there directly), goes to ``log_path``
    inside the block; the stream it yields still reaches the terminal's stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            terminal.close()
