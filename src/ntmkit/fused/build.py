"""Building and loading the fused engine's C++ extension, once per machine.

The sources in ``csrc/`` are compiled on first use with `torch.utils.cpp_extension.load` (g++
and ninja; ninja comes with ntmkit's dependencies) into a folder of torch's extension cache
(``~/.cache/torch_extensions``, or ``$TORCH_EXTENSIONS_DIR``) named for the instruction-set
level, Python and torch. Later processes load the cached build in well under a second; a change
of the sources, the flags, Python or torch builds again. If building is impossible (no
compiler, say), `load` warns once, in one line, and returns None: NTMs then run on the eager
path.

Processes that start at once (a sweep's trials) build once: the first holds an operating-system
lock on the folder while it builds, the others wait for it and load its build. That lock goes
with its holder, so a build killed half-way (Ctrl-C, ``kill -9``) is redone by the next
process, instead of leaving torch's own lock file behind, on which every later one would wait
forever.

``python -m ntmkit.fused`` builds (or loads) it and prints how long that took.
"""

import contextlib
import hashlib
import importlib.util
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType

SOURCES = Path(__file__).parent / "csrc"
NAME = "ntmkit_fused_engine"
FLAGS = ["-O3", "-g1", "-fopenmp", "-fno-math-errno", "-std=c++17"]
"""Compiler flags: full optimisation; OpenMP, which `#pragma omp simd` loops and ATen's inline
`at::parallel_for` (torch's OpenMP thread pool) need; math functions need not set errno, so
they vectorise."""

LIBMVEC_GLIBC = (2, 35)
"""The first glibc whose libmvec has every vector function the engine declares (tanh, log1p)."""

ISA_LEVELS = {
    "avx512": (
        {"avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"},
        ["-mavx2", "-mfma", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq",
         "-mprefer-vector-width=512"],
    ),
    "avx2": ({"avx2", "fma"}, ["-mavx2", "-mfma"]),
}  # fmt: skip
"""x86-64 instruction-set levels, best first: the CPU flags each needs and the compiler flags
it builds with. The build takes the first level this CPU has and names the extension after it,
so machines that share a cache (a cluster's home folder) never load code their CPU cannot run.
512-bit vectors made no-grad evaluation 7% faster than AVX2 on a Xeon with AVX-512 (median of
five alternating runs, 86 ms against 93 ms for 100 copy sequences of length 120)."""

_state: dict[str, object] = {}


def load(verbose: bool = False) -> ModuleType | None:
    """The compiled engine module, built on first use; None (after one warning) if impossible."""
    if "module" in _state:
        return _state["module"]  # type: ignore[return-value]
    module, started = None, time.perf_counter()
    try:
        module = _compile(verbose)
    except Exception as error:  # a missing compiler or header can fail in many ways
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        warnings.warn(
            f"ntmkit: the fused engine could not be built ({first}); running the eager path",
            RuntimeWarning,
            stacklevel=2,
        )
    _state["module"], _state["seconds"] = module, time.perf_counter() - started
    return module


def load_seconds() -> float | None:
    """How long `load` took in this process (building included), or None before it ran."""
    return _state.get("seconds")  # type: ignore[return-value]


def _compile(verbose: bool) -> ModuleType:
    if importlib.util.find_spec("ninja") is None and not _has_ninja_binary():
        raise RuntimeError("ninja is not installed (pip install ninja)")
    from torch.utils.cpp_extension import load as load_extension

    # torch rebuilds when the listed source or the flags change; the headers' hash in a flag
    # makes a change to any file of csrc/ count too.
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(SOURCES.iterdir()))).hexdigest()
    level, arch = isa_level()
    flags = [*FLAGS, *arch, f"-DNTMKIT_SOURCES={digest[:16]}"]
    link = ["-fopenmp"]
    if _has_libmvec():
        flags.append("-DNTMKIT_LIBMVEC")
        link.append("-lmvec")
    name = f"{NAME}_{level}"
    folder = build_folder(name)
    with _build_lock(folder):
        return load_extension(
            name=name,
            sources=[str(SOURCES / "engine.cpp")],
            extra_cflags=flags,
            extra_ldflags=link,
            extra_include_paths=[str(SOURCES)],
            build_directory=str(folder),
            verbose=verbose,
        )


def build_folder(name: str) -> Path:
    """Where the extension ``name`` is built: one folder per Python and torch version."""
    import torch
    from torch.utils.cpp_extension import get_default_build_root

    root = Path(os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root())
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    folder = root / f"{name}_{python}_torch{torch.__version__.replace('+', '_')}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


TORCH_LOCK = "lock"
"""The file torch's builder creates in the build folder while it builds, and waits on while it
exists; a builder killed half-way leaves it behind."""


@contextlib.contextmanager
def _build_lock(folder: Path):
    """Hold an advisory lock on ``folder`` (released by the kernel if the holder dies). Every
    build of the folder happens under it, so a torch lock file found while holding it was left
    by a killed build, and is removed."""
    try:
        import fcntl
    except ImportError:  # not POSIX: torch's own lock file alone
        yield
        return
    with open(folder / ".ntmkit-build-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            (folder / TORCH_LOCK).unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def isa_level() -> tuple[str, list[str]]:
    """This CPU's best level in `ISA_LEVELS` and its compiler flags; ("generic", []) if none."""
    if platform.machine() in ("x86_64", "AMD64"):
        cpu = _cpu_flags()
        for level, (needs, flags) in ISA_LEVELS.items():
            if needs <= cpu:
                return level, flags
    return "generic", []


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where it cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def _has_libmvec() -> bool:
    """Whether this is x86-64 Linux with a glibc whose libmvec the engine can use."""
    if platform.machine() not in ("x86_64", "AMD64") or not hasattr(os, "confstr"):
        return False
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        return name == "glibc" and tuple(map(int, version.split(".")[:2])) >= LIBMVEC_GLIBC
    except (ValueError, OSError):
        return False


def _has_ninja_binary() -> bool:
    return any(
        (Path(folder) / "ninja").is_file() for folder in os.environ.get("PATH", "").split(":")
    )
