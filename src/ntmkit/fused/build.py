"""Building and loading the fused engine's C++ extension, once per installation.

The sources in ``csrc/`` are compiled on first use with `torch.utils.cpp_extension.load` (g++
and ninja) into a folder of torch's extension cache (``~/.cache/torch_extensions``, or
``$TORCH_EXTENSIONS_DIR``) named for the instruction-set level, Python, torch and the
installation (where the package lives), so two environments never rebuild each other's engine.
ninja is the one the ``ninja`` package (a dependency of ntmkit) installed beside this Python,
found whether or not the environment's ``bin/`` is on ``PATH`` (a Jupyter kernel, pipx, a
Python called by its absolute path). A build says so on stderr when it starts and when it ends
(about 30 s on two cores); later processes load the cached build in well under a second; a
change of the sources, the flags, Python or torch builds again. If building is impossible (no
compiler, say), `load` warns once, in one line naming the reason, and returns None: NTMs then
run on the eager path.

Processes that start at once (a sweep's trials) build once: the first holds an operating-system
lock on the folder while it builds, the others wait for it and load its build. That lock goes
with its holder, so a build killed half-way (Ctrl-C, ``kill -9``) is redone by the next
process, instead of leaving torch's own lock file behind, on which every later one would wait
forever.

``python -m ntmkit.fused`` builds (or loads) it and prints how long that took.
"""

import contextlib
import hashlib
import os
import platform
import re
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TypedDict

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
        [
            "-mavx2",
            "-mfma",
            "-mavx512f",
            "-mavx512vl",
            "-mavx512bw",
            "-mavx512dq",
            "-mprefer-vector-width=512",
        ],
    ),
    "avx2": ({"avx2", "fma"}, ["-mavx2", "-mfma"]),
}
"""x86-64 instruction-set levels, best first: the CPU flags each needs and the compiler flags
it builds with. The build takes the first level this CPU has and names the extension after it,
so machines that share a cache (a cluster's home folder) never load code their CPU cannot run.
512-bit vectors made no-grad evaluation 7% faster than AVX2 on a Xeon with AVX-512 (median of
five alternating runs, 86 ms against 93 ms for 100 copy sequences of length 120)."""


class _Loaded(TypedDict, total=False):
    """What `load` found in this process: the module (None if it could not be built), and
    how long that took."""

    module: ModuleType | None
    seconds: float


_state: _Loaded = {}


def load(verbose: bool = False) -> ModuleType | None:
    """The compiled engine module, built on first use; None (after one warning) if impossible."""
    if "module" in _state:
        return _state["module"]
    module, started = None, time.perf_counter()
    try:
        module = _compile(verbose)
    except Exception as error:  # a missing compiler or header can fail in many ways
        warnings.warn(
            f"ntmkit: the fused engine could not be built ({failure_reason(error)}); running "
            f"the eager path (`python -m ntmkit.fused --verbose` shows the build)",
            RuntimeWarning,
            stacklevel=2,
        )
    _state["module"], _state["seconds"] = module, time.perf_counter() - started
    return module


def load_seconds() -> float | None:
    """How long `load` took in this process (building included), or None before it ran."""
    return _state.get("seconds")


_COMPILER_ERROR = re.compile(r"(?:error|Error|ERROR)\b.*")


def failure_reason(error: Exception) -> str:
    """The line of a failed build that says why: the compiler's first error where torch's
    message carries the build's output, else the message's first line."""
    text = str(error).strip()
    for line in text.splitlines()[1:]:
        found = _COMPILER_ERROR.search(line)
        if found is not None:
            return line.strip()
    return text.splitlines()[0] if text else type(error).__name__


def _compile(verbose: bool) -> ModuleType:
    compiler = os.environ.get("CXX", "c++")
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C++ compiler: {compiler} is not on PATH (install g++, or set CXX)")
    ninja = ninja_folder()
    if ninja is None:
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
    stamp = hashlib.sha256(" ".join([*flags, *link, compiler]).encode()).hexdigest()
    with _build_lock(folder), _on_path(ninja), _announced(folder, stamp):
        module: ModuleType = load_extension(
            name=name,
            sources=[str(SOURCES / "engine.cpp")],
            extra_cflags=flags,
            extra_ldflags=link,
            extra_include_paths=[str(SOURCES)],
            build_directory=str(folder),
            verbose=verbose,
        )
    return module


BUILT_STAMP = ".ntmkit-built"
"""A file in the build folder holding the hash of the sources and flags it was last built
with: where it differs, the next load builds, and says so."""


@contextlib.contextmanager
def _announced(folder: Path, stamp: str) -> Iterator[None]:
    """Say on stderr, in one line each, that a build starts and how long it took, where the
    folder's last build (`BUILT_STAMP`) was not of these sources and flags."""
    marker = folder / BUILT_STAMP
    building = not marker.is_file() or marker.read_text().strip() != stamp
    started = time.perf_counter()
    if building:
        print(
            f"ntmkit: building the fused C++ engine, once per installation (about 30 s) in "
            f"{folder}",
            file=sys.stderr,
            flush=True,
        )
    yield
    if building:
        marker.write_text(stamp + "\n")
        print(
            f"ntmkit: fused engine built in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def ninja_folder() -> Path | None:
    """The folder of the ninja program the build uses: the ``ninja`` package's (beside this
    Python, found without ``PATH``), else one on ``PATH``; None where there is none."""
    candidates = []
    try:
        import ninja

        candidates.append(Path(ninja.BIN_DIR))
    except (ImportError, AttributeError):
        pass
    candidates.append(Path(sys.executable).parent)
    for folder in candidates:
        if (folder / "ninja").is_file() or (folder / "ninja.exe").is_file():
            return folder
    found = shutil.which("ninja")
    return None if found is None else Path(found).parent


@contextlib.contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    """``folder`` first on ``PATH`` while the build runs (torch's builder runs ``ninja``)."""
    previous = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join([str(folder), *([previous] if previous else [])])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = previous


def build_folder(name: str) -> Path:
    """Where the extension ``name`` is built: one folder per Python, torch and installation."""
    import torch
    from torch.utils.cpp_extension import get_default_build_root

    root = Path(os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root())
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    installation = hashlib.sha256(str(SOURCES.resolve()).encode()).hexdigest()[:8]
    version = torch.__version__.replace("+", "_")
    folder = root / f"{name}_{python}_torch{version}_{installation}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


TORCH_LOCK = "lock"
"""The file torch's builder creates in the build folder while it builds, and waits on while it
exists; a builder killed half-way leaves it behind."""


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
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
        libc = os.confstr("CS_GNU_LIBC_VERSION")  # None where the C library does not say
        if libc is None:
            return False
        name, version = libc.split()
        return name == "glibc" and tuple(map(int, version.split(".")[:2])) >= LIBMVEC_GLIBC
    except (ValueError, OSError):
        return False
