"""The training log, ``metrics.jsonl``: typed records, written and read here only.

One JSON object per line, each with a ``kind``:

``step``        one optimiser step: loss and bit errors of its batch, learning rate, speed,
                training seconds so far, and the curriculum's maximum length if there is one
``evaluation``  a score of the fixed evaluation set (``eval``: an `Evaluation`)
``restart``     a fresh start of ``train.restart`` (``restart``: its number, from 1)

Every record has the ``step``, ``sequences`` and ``time`` (training seconds) it was logged at.
Logs written by ntmkit 0.1.0 have no ``kind``; it is told from the keys they do have.
"""

import dataclasses
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar

from .evaluate import Evaluation
from .validation import from_dict


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
    bit_errors: float  # mean over the batch, on the output phase
    lr: float
    seq_per_s: float
    max_length: int | None = None  # the length curriculum's current maximum, if any


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
    if isinstance(record, StepRecord) and record.max_length is None:
        del fields["max_length"]
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
    """Every record of a log, oldest first; an absent log has none. A line that is not a
    record raises a `ValueError` naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(decode(json.loads(line)))
        except (json.JSONDecodeError, ValueError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: not a metrics record ({error})") from None
    return records


def of_kind(records: Iterable[Record], cls: type[R]) -> list[R]:
    """The records of one kind, e.g. ``of_kind(records, EvaluationRecord)``."""
    return [record for record in records if isinstance(record, cls)]


@contextmanager
def appending(path: str | Path) -> Iterator["LogWriter"]:
    """A `LogWriter` appending to the log at ``path`` for the ``with`` block."""
    with Path(path).open("a") as handle:
        yield LogWriter(handle)


def rewrite(path: str | Path, records: Iterable[Record]) -> None:
    """Replace the log at ``path`` with ``records`` (e.g. those up to a resumed checkpoint)."""
    Path(path).write_text("".join(encode(record) + "\n" for record in records))


class LogWriter:
    """Writes records to an open log; evaluations and restarts are flushed at once."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def write(self, record: Record) -> None:
        self._handle.write(encode(record) + "\n")
        if not isinstance(record, StepRecord):
            self._handle.flush()


def _legacy_kind(data: dict[str, Any]) -> str:
    if "eval" in data:
        return "evaluation"
    if "restart" in data:
        return "restart"
    return "step"
