"""The structure of an ntm-lasagne parameter list: which array is which, and every size.

An ntm-lasagne model file is a flat list of arrays in Lasagne's parameter order, without names::

    controller   hid_init (1, U), then (W, b) pairs: W_in_to_hid (F, U), b_in_to_hid (U,),
                 W_reads_to_hid (R, U), b_reads_to_hid (U,), and for a recurrent controller
                 W_hid_to_hid (U, U), b_hid_to_hid (U,). A GRU has the three pairs for each
                 of its gates update, reset and hid (the candidate), in that order.
    memory       memory_init (N, W)
    each head    weights_init (1, N), then (W, b) pairs for key (U, W), beta (U, 1),
                 gate (U, 1), shift (U, S), gamma (U, 1); a write head adds erase (U, W)
                 and add (U, W). Heads follow the model's list (usually write, then read).
    output       W (U, out), b (out,): the Dense layer on the controller output.

Here F is the number of input channels, U the controller units, R = read heads * W, N x W the
memory and S the number of shifts. Lasagne's weights are ``[in, out]``.

A later ntm-lasagne (its ``HeadCollection``, which stacks heads along a first axis) stored each
head's weights as ``(1, U, width)`` and biases as ``(1, width)``, and added ``weights_init`` after
gamma instead of first. `LasagneLayout.head_arrays` says which of the two a file uses: ``"2d"``
(the models ntm-lasagne shipped) or ``"3d"``; both are read.

`infer_layout` recovers the controller kind and head order from the array count and shapes,
names every array (e.g. ``"write head W_hid_to_key"``) and checks every shape, so a file that
does not fit fails with a message that says which array is wrong and what was expected.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..vocabulary import ControllerKind

CONTROLLER_GATES: dict[ControllerKind, tuple[str, ...]] = {
    "dense": ("hid",),
    "rnn": ("hid",),
    "gru": ("update", "reset", "hid"),
}
"""The pre-activations each controller computes, by ntm-lasagne's names, in file order."""

CONTROLLER_SOURCES: dict[ControllerKind, tuple[str, ...]] = {
    "dense": ("in", "reads"),
    "rnn": ("in", "reads", "hid"),
    "gru": ("in", "reads", "hid"),
}
"""What feeds each pre-activation: the input x, the read vectors r and the previous h."""

ADDRESSING_PARAMS = ("key", "beta", "gate", "shift", "gamma")
WRITE_PARAMS = ("erase", "add")
READ_HEAD_ARRAYS = 1 + 2 * len(ADDRESSING_PARAMS)  # weights_init and five (W, b) pairs
WRITE_HEAD_ARRAYS = READ_HEAD_ARRAYS + 2 * len(WRITE_PARAMS)
FIXED_ARRAYS = 4  # hid_init, memory_init, and the output layer's W and b


def controller_arrays(kind: ControllerKind) -> int:
    """Arrays a controller of ``kind`` stores after ``hid_init``: a (W, b) pair per input."""
    return 2 * len(CONTROLLER_GATES[kind]) * len(CONTROLLER_SOURCES[kind])


class Sizes(NamedTuple):
    """Every dimension of a model, as most of the arrays that carry it agree."""

    input_size: int  # F
    units: int  # U
    num_slots: int  # N
    word_size: int  # W
    num_shifts: int  # S
    output_size: int  # O


SIZE_LETTERS = {
    "F": "input_size",
    "U": "units",
    "N": "num_slots",
    "W": "word_size",
    "S": "num_shifts",
    "O": "output_size",
}
"""The letter that stands for each `Sizes` field in the shape templates."""


@dataclass(frozen=True)
class LasagneLayout:
    """What an ntm-lasagne parameter list holds, inferred by `infer_layout`.

    ``heads`` gives each head's kind in file order and ``head_arrays`` their layout (``"2d"`` or
    ``"3d"``, see the module doc). ``names``, ``shapes`` and ``stored_shapes`` give, in file order,
    every array's ntm-lasagne name (prefixed by its owner), its shape in the 2-D layout and its
    shape as stored in the file.
    """

    controller: ControllerKind
    sizes: Sizes
    heads: tuple[str, ...]
    head_arrays: str
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    stored_shapes: tuple[tuple[int, ...], ...]

    @property
    def write_heads(self) -> int:
        return self.heads.count("write")

    @property
    def read_heads(self) -> int:
        return self.heads.count("read")

    def summary(self) -> str:
        """A few lines for people: the sizes, then every array's name and shape."""
        s = self.sizes
        lines = [
            f"{self.controller} controller, {s.units} units; input {s.input_size}, "
            f"output {s.output_size}; memory {s.num_slots} x {s.word_size}; "
            f"heads {', '.join(self.heads)} ({self.head_arrays} arrays); {s.num_shifts} shifts; "
            f"{len(self.names)} arrays",
        ]
        rows = enumerate(zip(self.names, self.stored_shapes))
        lines += [f"  {index:3d} {name}: {shape}" for index, (name, shape) in rows]
        return "\n".join(lines)


def infer_layout(arrays: list[np.ndarray], source: str = "parameter list") -> LasagneLayout:
    """Names and checks every array of an ntm-lasagne parameter list.

    Args:
      arrays: the arrays in file order (`ntmkit.compat.safe_pickle.load_object_array`).
      source: how to refer to them in error messages (the file name).
    Returns:
      The `LasagneLayout`.
    Raises:
      ValueError: the count fits no layout, or an array's shape disagrees with the others;
        the message names the array (e.g. ``write head W_hid_to_key``) and the expected shape.
    """
    for index, array in enumerate(arrays):
        if not 1 <= array.ndim <= 3:
            raise ValueError(f"{source}: array {index} has shape {array.shape}, not 1 to 3 axes")
    kind, writes, reads = _pick_structure(arrays, source)
    start = 2 + controller_arrays(kind)  # after hid_init, the controller and memory_init
    # The first head array is weights_init (1, N) in the 2-D layout, key W (1, U, W) in the 3-D.
    head_arrays = "3d" if arrays[start].ndim == 3 else "2d"
    heads = _head_kinds(arrays, start, writes, reads, head_arrays)
    names = _array_names(kind, heads, head_arrays)
    template = _shape_template(kind, heads, head_arrays)
    sizes = _vote_sizes(arrays, template, source)
    expected = _resolve(template, sizes, reads)
    for index, (array, name, shape) in enumerate(zip(arrays, names, expected)):
        if array.shape != shape:
            raise ValueError(
                f"{source}: array {index} ({name}) has shape {array.shape}, expected {shape}"
            )
    canonical = _resolve(_shape_template(kind, heads, head_arrays, lead=()), sizes, reads)
    stored = tuple(tuple(a.shape) for a in arrays)
    return LasagneLayout(kind, sizes, heads, head_arrays, tuple(names), tuple(canonical), stored)


def named_arrays(arrays: list[np.ndarray], layout: LasagneLayout) -> dict[str, np.ndarray]:
    """The arrays by name, each in the 2-D layout (the 3-D layout's leading axis dropped)."""
    return {
        name: array.reshape(shape)
        for name, array, shape in zip(layout.names, arrays, layout.shapes, strict=True)
    }


def _pick_structure(arrays: list[np.ndarray], source: str) -> tuple[ControllerKind, int, int]:
    """The controller kind and head counts: the ones the array count allows, then by shapes."""
    candidates = _structures_for_count(len(arrays))
    if not candidates:
        raise ValueError(
            f"{source}: {len(arrays)} arrays fit no ntm-lasagne layout, which has hid_init, "
            "4 (dense), 6 (rnn) or 18 (gru) controller arrays, memory_init, "
            f"{WRITE_HEAD_ARRAYS} arrays per write head, {READ_HEAD_ARRAYS} per read head and 2 "
            "for the output layer (34 for a dense controller with one write and one read head)"
        )
    if len(candidates) == 1:
        return candidates[0]  # the shape checks will say what is wrong, if anything
    fitting = [c for c in candidates if _controller_fits(arrays, c[0])]
    if len(fitting) != 1:
        raise ValueError(
            f"{source}: {len(arrays)} arrays fit several layouts {candidates} and the shapes "
            f"do not single one out (fitting: {fitting})"
        )
    return fitting[0]


def _structures_for_count(count: int) -> list[tuple[ControllerKind, int, int]]:
    """Every (controller, write heads, read heads) with exactly ``count`` arrays."""
    found: list[tuple[ControllerKind, int, int]] = []
    for kind in CONTROLLER_GATES:
        rest = count - FIXED_ARRAYS - controller_arrays(kind)
        for writes in range(1, rest // WRITE_HEAD_ARRAYS + 1):
            reads, left = divmod(rest - writes * WRITE_HEAD_ARRAYS, READ_HEAD_ARRAYS)
            if left == 0 and reads >= 1:
                found.append((kind, writes, reads))
    return found


def _controller_fits(arrays: list[np.ndarray], kind: ControllerKind) -> bool:
    """Whether the arrays after hid_init look like a ``kind`` controller then memory_init."""
    units, count = arrays[0].shape[-1], controller_arrays(kind)
    dims = {"in": arrays[1].shape[0], "reads": arrays[3].shape[0], "hid": units}
    pairs = [(s, g) for g in CONTROLLER_GATES[kind] for s in CONTROLLER_SOURCES[kind]]
    for offset, (source, _) in enumerate(pairs):
        weight, bias = arrays[1 + 2 * offset], arrays[2 + 2 * offset]
        if weight.shape != (dims[source], units) or bias.shape != (units,):
            return False
    memory, first_head = arrays[1 + count], arrays[2 + count]
    return memory.ndim == 2 and (first_head.ndim == 3 or first_head.shape[-1] == memory.shape[0])


def _head_kinds(
    arrays: list[np.ndarray], start: int, writes: int, reads: int, head_arrays: str
) -> tuple[str, ...]:
    """Each head's kind, in file order, from what follows a read head's worth of arrays.

    2-D layout: after a read head comes the next weights_init, the shape of this head's first
    array; a write head goes on with erase W. 3-D layout: two arrays later a write head has its
    add W, the shape of its first array (key W), where a read head's successor has beta W.
    """
    kinds = []
    index = start
    while writes or reads:
        if not (writes and reads):  # only one kind left: nothing to look at
            is_write = writes > 0
        elif head_arrays == "2d":
            is_write = arrays[index + READ_HEAD_ARRAYS].shape != arrays[index].shape
        else:
            is_write = arrays[index + READ_HEAD_ARRAYS + 2].shape == arrays[index].shape
        kinds.append("write" if is_write else "read")
        writes, reads = (writes - 1, reads) if is_write else (writes, reads - 1)
        index += WRITE_HEAD_ARRAYS if is_write else READ_HEAD_ARRAYS
    return tuple(kinds)


def head_labels(heads: tuple[str, ...]) -> list[str]:
    """``"write head"``, ``"read head"``, or numbered (``"read head 1"``) when several."""
    labels, seen = [], {"write": 0, "read": 0}
    for kind in heads:
        numbered = heads.count(kind) > 1
        labels.append(f"{kind} head {seen[kind]}" if numbered else f"{kind} head")
        seen[kind] += 1
    return labels


def _head_items(head: str, head_arrays: str) -> list[tuple[str, str]]:
    """``(array name, head parameter)`` for one head, in file order ("" for weights_init)."""
    params = ADDRESSING_PARAMS + (WRITE_PARAMS if head == "write" else ())
    pairs = [(f"{kind}_hid_to_{param}", param) for param in params for kind in ("W", "b")]
    init = ("weights_init", "")
    if head_arrays == "2d":
        return [init, *pairs]
    addressing = 2 * len(ADDRESSING_PARAMS)
    return [*pairs[:addressing], init, *pairs[addressing:]]


def _array_names(kind: ControllerKind, heads: tuple[str, ...], head_arrays: str) -> list[str]:
    names = ["controller hid_init"]
    for gate in CONTROLLER_GATES[kind]:
        for source in CONTROLLER_SOURCES[kind]:
            names += [f"controller W_{source}_to_{gate}", f"controller b_{source}_to_{gate}"]
    names.append("memory_init")
    for head, label in zip(heads, head_labels(heads)):
        names += [f"{label} {name}" for name, _ in _head_items(head, head_arrays)]
    return [*names, "output W", "output b"]


def _shape_template(
    kind: ControllerKind,
    heads: tuple[str, ...],
    head_arrays: str,
    lead: tuple[int, ...] | None = None,
) -> list[tuple[int | str, ...]]:
    """Every array's shape in file order, with sizes as the letters of `SIZE_LETTERS` (and R
    for the read vectors' length). ``lead`` is the extra leading axis of head weights and
    biases: None takes the layout's (``(1,)`` for "3d"), ``()`` gives the 2-D shapes.
    """
    if lead is None:
        lead = (1,) if head_arrays == "3d" else ()
    inputs = {"in": "F", "reads": "R", "hid": "U"}
    shapes: list[tuple[int | str, ...]] = [(1, "U")]
    for _ in CONTROLLER_GATES[kind]:
        for source in CONTROLLER_SOURCES[kind]:
            shapes += [(inputs[source], "U"), ("U",)]
    shapes.append(("N", "W"))
    widths: dict[str, int | str] = {
        "key": "W",
        "beta": 1,
        "gate": 1,
        "shift": "S",
        "gamma": 1,
        "erase": "W",
        "add": "W",
    }
    for head in heads:
        for name, param in _head_items(head, head_arrays):
            if not param:
                shapes.append((1, "N"))
            elif name.startswith("W"):
                shapes.append((*lead, "U", widths[param]))
            else:
                shapes.append((*lead, widths[param]))
    return [*shapes, ("U", "O"), ("O",)]


def _vote_sizes(arrays: list[np.ndarray], template: list[tuple], source: str) -> Sizes:
    """Each size as most arrays that carry it have it, so that one bent array gets the blame
    rather than every array that agrees with the others (ties go to the earlier array)."""
    votes: dict[str, Counter] = {letter: Counter() for letter in SIZE_LETTERS}
    for array, shape in zip(arrays, template):
        if array.ndim == len(shape):
            for dim, letter in zip(array.shape, shape):
                if letter in votes:
                    votes[letter][dim] += 1
    sizes = {}
    for letter, field in SIZE_LETTERS.items():
        if not votes[letter]:
            raise ValueError(f"{source}: no array has the axes that give the {field}")
        sizes[field] = votes[letter].most_common(1)[0][0]
    return Sizes(**sizes)


def _resolve(template: list[tuple], sizes: Sizes, reads: int) -> list[tuple[int, ...]]:
    """The template with its letters replaced by the sizes."""
    values = {letter: getattr(sizes, field) for letter, field in SIZE_LETTERS.items()}
    values["R"] = reads * sizes.word_size
    return [tuple(values[d] if isinstance(d, str) else d for d in shape) for shape in template]
