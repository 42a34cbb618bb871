"""Sequences from files: a task over a data set the user already has.

``ntmkit train --data train.npz --val val.npz`` (or ``RunConfig`` with task ``data`` and
``{"train": ..., "val": ...}``) trains on the sequences of ``train`` and evaluates on those
of ``val``. A data set is either

* an ``.npz`` file with the arrays ``inputs [N, T, C_in]`` (floats), ``targets`` and
  optionally ``mask [N, T]`` (bool: the steps to score) or ``lengths [N]`` (each sequence's
  real steps; later steps are padding), or
* a folder of ``.npy`` pairs, one sequence each, of any length: ``NAME.inputs.npy [T, C_in]``,
  ``NAME.targets.npy`` and optionally ``NAME.mask.npy [T]``,

where ``targets`` is ``[N, T, C_out]`` of 0/1 values for bits, of any floats for real values,
or ``[N, T]`` integer class indices for a categorical output. ``task.output`` says which
(``auto``: integers are categorical, 0/1 floats bits, other floats real). Without a mask every
real step is scored. Any `torch.utils.data.Dataset` of ``(inputs, targets)`` pairs becomes
such a file with `write_npz`.

Each training batch is ``batch_size`` sequences drawn without replacement from the task's own
seeded stream (so a resumed run draws what it would have drawn), padded to the longest of
them, the padding never scored. Bad files are one-line errors naming the file and the array.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ntmkit.tasks.base import Batch, Task
from ntmkit.validation import check_choice, check_size, fail
from ntmkit.vocabulary import OutputKind

OUTPUT_CHOICES = ("auto", "bits", "categorical", "real")


@dataclass(frozen=True)
class SequenceData:
    """A loaded data set, time-major and padded.

    Attributes:
      inputs: `[T, N, C_in]` float32.
      targets: `[T, N, C_out]` float32, or `[T, N]` int64 class indices.
      mask: `[T, N]` bool, the steps to score.
      lengths: `[N]` int64, each sequence's real steps.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor

    @property
    def count(self) -> int:
        return int(self.lengths.shape[0])

    def batch(self, rows: torch.Tensor) -> Batch:
        """The sequences ``rows`` as a `Batch`, cut to the longest of them."""
        steps = int(self.lengths[rows].max())
        return Batch(
            inputs=self.inputs[:steps, rows],
            targets=self.targets[:steps, rows],
            mask=self.mask[:steps, rows],
            lengths=self.lengths[rows],
        )


@dataclass(frozen=True)
class DataConfig:
    """Where the data lie and what its targets are.

    Attributes:
      train: the training sequences: an ``.npz`` file or a folder of ``.npy`` pairs (a run
        records its absolute path).
      val: the evaluation sequences, in the same form; None scores the training set's first
        sequences instead.
      output: ``auto``, ``bits``, ``categorical`` or ``real``: what the targets are.
      classes: the number of classes of a categorical output; None counts them (the largest
        class index in the data, plus one).
    """

    train: str = ""
    val: str | None = None
    output: str = "auto"
    classes: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.train, str) or not self.train:
            raise fail(
                "task.train", "the path of an .npz file or a folder of .npy pairs", self.train
            )
        if self.val is not None and (not isinstance(self.val, str) or not self.val):
            raise fail("task.val", "null or the path of an .npz file or folder", self.val)
        check_choice("task.output", self.output, OUTPUT_CHOICES)
        if self.classes is not None:
            check_size("task.classes", self.classes, low=2)
        for name in ("train", "val"):
            path = getattr(self, name)
            if path is not None:
                load(path)  # a missing or bad file is this config's error
                # Absolute, so the run works from any folder (and a sweep's workers find it).
                object.__setattr__(self, name, str(Path(path).expanduser().resolve()))

    @property
    def kind(self) -> OutputKind:
        """The output kind, ``auto`` resolved from the training targets."""
        if self.output != "auto":
            return self.output  # type: ignore[return-value]  # checked in __post_init__
        return infer_kind(load(self.train).targets)

    @property
    def input_size(self) -> int:
        return int(load(self.train).inputs.shape[-1])

    @property
    def output_size(self) -> int:
        targets = load(self.train).targets
        if self.kind != "categorical":
            if targets.dim() != 3:
                raise fail("task.output", "categorical for [N, T] class-index targets", self.output)
            return int(targets.shape[-1])
        if self.classes is not None:
            return self.classes
        sets = [load(self.train)] + ([load(self.val)] if self.val else [])
        return max(int(data.targets[data.mask].max()) for data in sets) + 1


class DataTask(Task):
    """The sequences of a data set (see the module doc)."""

    name = "data"
    config_class = DataConfig

    @property
    def output_kind(self) -> OutputKind:  # type: ignore[override]  # the data decide it
        return self.config.kind

    def pinnable(self) -> dict[str, int]:
        return {}

    def draw_params(self, pinned: dict[str, int]) -> dict[str, int]:
        return {}

    def sample_fixed(self, batch_size: int, **params: int) -> Batch:
        data = load(self.config.train)
        if batch_size > data.count:
            raise ValueError(
                f"train.batch_size must be at most the {data.count} sequences of "
                f"{self.config.train}, got {batch_size}"
            )
        rows = torch.randperm(data.count, generator=self.generator)[:batch_size]
        return data.batch(rows)

    def evaluation_set(self, samples: int) -> list[Batch]:
        """The validation sequences in order (at most ``samples``), in batches of 100."""
        data = load(self.config.val or self.config.train)
        count = min(samples, data.count)
        return [data.batch(torch.arange(i, min(i + 100, count))) for i in range(0, count, 100)]


def infer_kind(targets: torch.Tensor) -> OutputKind:
    """``categorical`` for integer targets, ``bits`` for 0/1 floats, else ``real``."""
    if not targets.dtype.is_floating_point:
        return "categorical"
    return "bits" if bool(((targets == 0) | (targets == 1)).all()) else "real"


def load(path: str) -> SequenceData:
    """The data set at ``path`` (cached per file and modification time)."""
    where = Path(path).expanduser()
    if not where.exists():
        raise ValueError(
            f"no data set at {path}: it must be an .npz file or a folder of .npy pairs"
        )
    stamp = max([where.stat().st_mtime_ns, *(p.stat().st_mtime_ns for p in where.glob("*"))])
    return _load(str(where.resolve()), stamp)


@lru_cache(maxsize=8)
def _load(path: str, stamp: int) -> SequenceData:
    where = Path(path)
    arrays = _folder_arrays(where) if where.is_dir() else _npz_arrays(where)
    return _checked(where, arrays)


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as file:
            arrays = {name: file[name] for name in file.files}
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz file: {error}") from None
    unknown = sorted(set(arrays) - {"inputs", "targets", "mask", "lengths"})
    if unknown:
        raise ValueError(
            f"{path}: unknown arrays {unknown}; expected inputs, targets, mask or lengths"
        )
    return arrays


def _folder_arrays(path: Path) -> dict[str, np.ndarray]:
    names = sorted(p.name[: -len(".inputs.npy")] for p in path.glob("*.inputs.npy"))
    if not names:
        raise ValueError(f"{path} holds no NAME.inputs.npy and NAME.targets.npy pairs")
    sequences = [_pair(path, name) for name in names]
    steps = max(len(inputs) for inputs, _, _ in sequences)
    return {
        "inputs": np.stack([_pad(inputs, steps) for inputs, _, _ in sequences]),
        "targets": np.stack([_pad(targets, steps) for _, targets, _ in sequences]),
        "mask": np.stack([_pad(mask, steps) for _, _, mask in sequences]),
        "lengths": np.array([len(inputs) for inputs, _, _ in sequences]),
    }


def _pair(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = []
    for part in ("inputs", "targets", "mask"):
        file = folder / f"{name}.{part}.npy"
        if part == "mask" and not file.exists():
            arrays.append(np.ones(len(arrays[0]), dtype=bool))
            continue
        try:
            arrays.append(np.load(file, allow_pickle=False))
        except (OSError, ValueError) as error:
            raise ValueError(f"{file} is not a readable .npy file: {error}") from None
    inputs, targets, mask = arrays
    if inputs.ndim != 2 or len(targets) != len(inputs) or mask.shape != (len(inputs),):
        raise ValueError(
            f"{folder / name}.*.npy: inputs must be [T, C_in], targets [T, C_out] or [T] and mask "
            f"[T], got {inputs.shape}, {targets.shape} and {mask.shape}"
        )
    return inputs, targets, mask


def _pad(array: np.ndarray, steps: int) -> np.ndarray:
    padding = np.zeros((steps - len(array), *array.shape[1:]), dtype=array.dtype)
    return np.concatenate([array, padding])


def _checked(path: Path, arrays: dict[str, np.ndarray]) -> SequenceData:
    """The arrays as time-major tensors, after every check that names ``path`` and the array."""
    for name in ("inputs", "targets"):
        if name not in arrays:
            raise ValueError(f"{path} has no array {name!r}")
    inputs, targets = arrays["inputs"], arrays["targets"]
    _check_numeric(path, "inputs", inputs, (3,))
    _check_numeric(path, "targets", targets, (2, 3))
    count, steps = inputs.shape[:2]
    if count == 0 or steps == 0 or inputs.shape[2] == 0:
        raise ValueError(f"{path}: array 'inputs' is empty, shape {inputs.shape}")
    if targets.shape[:2] != (count, steps):
        raise ValueError(
            f"{path}: array 'targets' must start [N, T] = [{count}, {steps}] as inputs does, "
            f"got {targets.shape}"
        )
    lengths = _lengths(path, arrays, count, steps)
    within = np.arange(steps)[None, :] < lengths[:, None]
    mask = _mask(path, arrays, count, steps) & within
    if targets.ndim == 2 and targets.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: [N, T] targets must be integer class indices, got {targets.dtype}"
        )
    if targets.ndim == 2 and int(targets[mask].min(initial=0)) < 0:
        raise ValueError(f"{path}: array 'targets' holds a negative class index")
    target_tensor = torch.from_numpy(targets.astype(np.int64 if targets.ndim == 2 else np.float32))
    return SequenceData(
        inputs=torch.from_numpy(inputs.astype(np.float32)).transpose(0, 1).contiguous(),
        targets=target_tensor.transpose(0, 1).contiguous(),
        mask=torch.from_numpy(mask).transpose(0, 1).contiguous(),
        lengths=torch.from_numpy(lengths.astype(np.int64)),
    )


def _check_numeric(path: Path, name: str, array: np.ndarray, dims: tuple[int, ...]) -> None:
    if array.ndim not in dims or array.dtype.kind not in "biuf":
        shape = " or ".join({2: "[N, T]", 3: "[N, T, C]"}[d] for d in dims)
        raise ValueError(
            f"{path}: array {name!r} must be {shape} numbers, got {array.dtype} of shape "
            f"{array.shape}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{path}: array {name!r} holds NaN or infinite values")


def _lengths(path: Path, arrays: dict[str, np.ndarray], count: int, steps: int) -> np.ndarray:
    if "lengths" not in arrays:
        return np.full(count, steps)
    lengths = arrays["lengths"]
    if lengths.shape != (count,) or lengths.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: array 'lengths' must be [{count}] integers, got {lengths.dtype} "
            f"{lengths.shape}"
        )
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(
            f"{path}: array 'lengths' must lie in 1..{steps}, got {lengths.min()}..{lengths.max()}"
        )
    return lengths


def _mask(path: Path, arrays: dict[str, np.ndarray], count: int, steps: int) -> np.ndarray:
    if "mask" not in arrays:
        return np.ones((count, steps), dtype=bool)
    mask = arrays["mask"]
    if mask.shape != (count, steps) or mask.dtype.kind not in "biu":
        raise ValueError(
            f"{path}: array 'mask' must be [{count}, {steps}] booleans, got {mask.dtype} "
            f"{mask.shape}"
        )
    return mask.astype(bool)


def write_npz(pairs: Iterable[tuple[Any, Any]], path: str | Path) -> Path:
    """Write ``(inputs [T, C_in], targets [T, C_out] or [T])`` pairs (a
    `torch.utils.data.Dataset`, a list) as one ``.npz`` data set, padded, with ``lengths``."""
    sequences = [(np.asarray(x), np.asarray(y)) for x, y in pairs]
    if not sequences:
        raise ValueError("write_npz needs at least one (inputs, targets) pair")
    steps = max(len(x) for x, _ in sequences)
    path = Path(path)
    np.savez(
        path,
        inputs=np.stack([_pad(x, steps) for x, _ in sequences]),
        targets=np.stack([_pad(y, steps) for _, y in sequences]),
        lengths=np.array([len(x) for x, _ in sequences]),
    )
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


__all__ = ["DataConfig", "DataTask", "SequenceData", "load", "write_npz"]
