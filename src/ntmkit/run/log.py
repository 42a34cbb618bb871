"""The training log, ``metrics.jsonl``: typed records, written and read here only.

One JSON object per line, each with a ``kind``:

``step``        one optimiser step: loss and bit errors of its batch, learning rate, speed,
                training seconds so far, the curriculum's maximum length if there is one, and
                ``skipped: true`` if a non-finite loss or gradient kept it from the weights
``evaluation``  a score of the fixed evaluation set (``eval``: an `Evaluation`)
``restart``     a fresh start of ``train.restart`` (``restart``: its number, from 1)

Every record has the ``step``, ``sequences`` and ``time`` (training seconds) it was logged at.
Logs written by ntmkit 0.1.0 have no ``kind``; it is told from the keys they do have.
"""

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar

from ..validation import from_dict
from .evaluate import Evaluation
from .files import write_error, write_text_atomically


@dataclass(frozen=True)
class _Logged:
    """What every record has: when in the run it was logged."""

    step: int
    sequences: int
    time: float  # training seconds so far


@dataclass(frozen=True)
class StepRecord(_Logged):
    """One optimiser step."""

    kind: ClassVar[str] = "step"
    loss: float
    lr: float
    seq_per_s: float
    # The batch's error by the task's output kind, on the output phase: wrong bits per
    # sequence, wrong classes per sequence, or the mean squared error (one of the three).
    bit_errors: float | None = None
    symbol_errors: float | None = None
    mse: float | None = None
    max_length: int | None = None  # the length curriculum's current maximum, if any
    skipped: bool = False  # its loss or gradient was not finite: no update (training.guard)

    @property
    def errors(self) -> float:
        """The batch's error, whichever of the three the task's output kind logs."""
        value = next(v for v in (self.bit_errors, self.symbol_errors, self.mse) if v is not None)
        return float(value)


@dataclass(frozen=True)
class EvaluationRecord(_Logged):
    """An evaluation on the fixed evaluation set."""

    kind: ClassVar[str] = "evaluation"
    eval: Evaluation


@dataclass(frozen=True)
class RestartRecord(_Logged):
    """A fresh start (``train.restart``): a new model and optimiser from this step on."""

    kind: ClassVar[str] = "restart"
    restart: int  # how many fresh starts so far, this one included


Record = StepRecord | EvaluationRecord | RestartRecord
KINDS: dict[str, type] = {cls.kind: cls for cls in (StepRecord, EvaluationRecord, RestartRecord)}
R = TypeVar("R", StepRecord, EvaluationRecord, RestartRecord)


def encode(record: Record) -> str:
    """One log line (without its newline)."""
    fields = dataclasses.asdict(record)
    if isinstance(record, StepRecord):  # leave out the fields at their usual value
        for name in ("bit_errors", "symbol_errors", "mse", "max_length"):
            if fields[name] is None:
                del fields[name]
        if not record.skipped:
            del fields["skipped"]
    if isinstance(record, EvaluationRecord):
        fields["eval"] = record.eval.to_dict()  # no optimal_bits where the task has none
    return json.dumps({"kind": record.kind, **fields})


def decode(data: dict[str, Any]) -> Record:
    """The record of one parsed log line; a 0.1.0 line's kind is told from its keys."""
    data = dict(data)
    kind = data.pop("kind", None) or _legacy_kind(data)
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "evaluation":
        data["eval"] = from_dict(Evaluation, "evaluation", data.get("eval"))
    return from_dict(KINDS[kind], f"{kind} record", data)


def read_log(path: str | Path) -> list[Record]:
    """Every record of a log, oldest first; an absent log has none.

    A last line cut short (no newline, not a whole record) is what a kill during a write leaves
    behind; it is left out, as that record was never completed. Any other line that is not a
    record raises a `ValueError` naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text = _read_text(path)
    lines = text.split("\n")  # the last item is "" when the file ends with a newline
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(decode(json.loads(line)))
        except (json.JSONDecodeError, ValueError, TypeError) as error:
            if number == len(lines):  # cut short by a kill: never completed
                break
            raise ValueError(f"{path}, line {number}: not a metrics record ({error})") from None
    return records


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not an ntmkit metrics log: it is not UTF-8 text") from None


def of_kind(records: Iterable[Record], cls: type[R]) -> list[R]:
    """The records of one kind, e.g. ``of_kind(records, EvaluationRecord)``."""
    return [record for record in records if isinstance(record, cls)]


@contextmanager
def appending(path: str | Path) -> Iterator["LogWriter"]:
    """A `LogWriter` appending to the log at ``path`` for the ``with`` block."""
    try:
        handle = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 (the with below)
    except OSError as error:
        raise write_error(path, error) from None
    with handle:
        yield LogWriter(handle)


def rewrite(path: str | Path, records: Iterable[Record]) -> None:
    """Replace the log at ``path`` with ``records`` (e.g. those up to a resumed checkpoint)."""
    write_text_atomically(path, "".join(encode(record) + "\n" for record in records))


class LogWriter:
    """Writes records to an open log; evaluations and restarts are flushed at once."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def write(self, record: Record) -> None:
        self._handle.write(encode(record) + "\n")
        if not isinstance(record, StepRecord):
            self._handle.flush()

    def sync(self) -> None:
        """Put every record written so far on disk; the trainer calls this before each
        checkpoint, so a checkpoint never runs ahead of the log it continues."""
        self._handle.flush()
        os.fsync(self._handle.fileno())


def _legacy_kind(data: dict[str, Any]) -> str:
    if "eval" in data:
        return "evaluation"
    if "restart" in data:
        return "restart"
    return "step"
