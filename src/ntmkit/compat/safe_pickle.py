"""Reading a `.npy` object array of numeric arrays without running arbitrary pickled code.

ntm-lasagne saved each model as ``np.save(path, params)``: an object array whose items are the
parameter arrays, pickled (under Python 2, hence ``encoding="latin1"``). ``np.load(...,
allow_pickle=True)`` would rebuild it, but a pickle can call any importable function while it is
being read, so a downloaded model file could run code on the reader's machine.

`load_object_array` reads the same files with a restricted unpickler instead. The `.npy` header
is parsed by `numpy.lib.format`; the pickled payload may name only the few globals NumPy needs to
rebuild plain arrays (`ALLOWED_GLOBALS`). Any other global is refused with `UnsafePickleError`
when the pickle names it, before it can be called. Once unpickled, every item must be an array
of a numeric dtype (bool, integer or float).
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.lib import format as npy_format


def _numpy_internals(name: str) -> ModuleType:
    """NumPy's private module ``name``: NumPy >= 2 keeps the array internals in numpy._core,
    NumPy 1.x in numpy.core (imported by name: the two differ, and the stubs lack some)."""
    try:
        return importlib.import_module(f"numpy._core.{name}")
    except ImportError:  # pragma: no cover - NumPy 1.x
        return importlib.import_module(f"numpy.core.{name}")


_multiarray = _numpy_internals("multiarray")
_numeric = _numpy_internals("numeric")

ALLOWED_GLOBALS = {
    # ndarray.__reduce__ pickles an array as _reconstruct(ndarray, shape, dtype) plus a state;
    # NumPy 1 wrote the function's module as numpy.core.multiarray, NumPy 2 as numpy._core.
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Pickle protocol 5 rebuilds contiguous arrays with frombuffer(bytes, dtype).reshape(shape),
    # which cannot make object arrays.
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
}
"""The only globals a payload may name: ``(module, name)`` as written in the pickle."""

NUMERIC_KINDS = frozenset("biuf")
"""`numpy.dtype.kind` codes accepted for the loaded arrays: bool, signed, unsigned, float."""

_SUPPORTED_VERSIONS = {
    (1, 0): npy_format.read_array_header_1_0,
    (2, 0): npy_format.read_array_header_2_0,
}


class UnsafePickleError(ValueError):
    """A pickled payload asked for something other than plain numeric arrays."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in `ALLOWED_GLOBALS`."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        # latin1 turns Python 2 byte strings (the arrays' raw data) back into bytes unchanged.
        super().__init__(file, encoding="latin1")
        self._source = source

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refused to load global {module}.{name}; only plain NumPy "
                "arrays are allowed (this file may try to run code when unpickled)"
            ) from None


def load_object_array(path: str | os.PathLike) -> list[np.ndarray]:
    """Loads the arrays of a `.npy` object array (ntm-lasagne's model files) safely.

    Args:
      path: a `.npy` file holding a 1-D object array of numeric arrays.
    Returns:
      The items, in order, each as a float64 array of its stored shape.
    Raises:
      UnsafePickleError: the payload names a global other than NumPy's array rebuilders, or
        holds an item that is not a numeric array.
      ValueError: the file is not a `.npy` object array or is truncated.
    """
    source = str(path)
    data = Path(path).read_bytes()
    stream = io.BytesIO(data)
    shape = _read_object_header(stream, source)
    try:
        loaded = _ArrayOnlyUnpickler(stream, source).load()
    except UnsafePickleError:
        raise
    except Exception as error:
        # A cut-off file ends the pickle early (EOFError, UnpicklingError); garbage bytes can
        # fail anywhere inside NumPy's rebuilders. Either way the file is unusable.
        raise ValueError(
            f"{source}: truncated or corrupt pickle payload ({type(error).__name__}: {error})"
        ) from None
    return _numeric_items(loaded, shape, source)


def _read_object_header(stream: io.BytesIO, source: str) -> tuple[int, ...]:
    """Parses the `.npy` magic and header; returns the array's shape (dtype must be object)."""
    try:
        version = npy_format.read_magic(stream)
        read_header = _SUPPORTED_VERSIONS.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, _, dtype = read_header(stream)
    except ValueError as error:
        raise ValueError(f"{source}: not a readable .npy file ({error})") from None
    if dtype != np.dtype(object):
        raise ValueError(
            f"{source}: expected a .npy object array (a list of parameter arrays), "
            f"found a plain {dtype} array of shape {shape}"
        )
    return shape


def _numeric_items(loaded: object, shape: tuple[int, ...], source: str) -> list[np.ndarray]:
    """Checks the unpickled object and returns its items as float64 arrays."""
    if not isinstance(loaded, np.ndarray) or loaded.dtype != np.dtype(object):
        raise UnsafePickleError(
            f"{source}: the payload is a {type(loaded).__name__}, not an object array"
        )
    if loaded.shape != shape:
        raise ValueError(f"{source}: header says shape {shape}, payload has {loaded.shape}")
    items = []
    for index, item in enumerate(loaded.ravel()):
        if not isinstance(item, np.ndarray) or item.dtype.kind not in NUMERIC_KINDS:
            found = item.dtype if isinstance(item, np.ndarray) else type(item).__name__
            raise UnsafePickleError(
                f"{source}: item {index} is {found}; only bool, integer and float arrays "
                "are accepted"
            )
        items.append(item.astype(np.float64))
    return items
