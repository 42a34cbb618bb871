"""Compatibility with other NTM implementations: ntm-lasagne's pretrained models.

Example::

    from ntmkit.compat import lasagne
    ntm = lasagne.load("models/copy.npy", task="copy")
    print(lasagne.describe("models/copy.npy").summary())
    fields = lasagne.training_settings("copy")  # {"size": 8, ..., "end_marker": True}
"""

from . import lasagne
from .lasagne import describe, load, training_settings
from .lasagne_layout import LasagneLayout
from .safe_pickle import UnsafePickleError, load_object_array

__all__ = [
    "LasagneLayout",
    "UnsafePickleError",
    "describe",
    "lasagne",
    "load",
    "load_object_array",
    "training_settings",
]
