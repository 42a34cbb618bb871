"""Training: one loop for every task, with evaluation, early stop, checkpoints and resume.

`Trainer.fit` runs the loop. Every step draws a batch from the task's own seeded stream, takes
one optimiser step on the masked BCE loss, appends a `StepRecord` to ``metrics.jsonl`` and
updates the schedules. Every ``eval_every`` steps it scores a fixed evaluation set and acts on
`ntmkit.decisions.after_evaluation`: stop once the task's measure (`Task.measure`: mean bit
errors per sequence; the cost above the Bayes optimum for dynamic n-grams, the cost for
priority sort) falls below
``target_error``, or start a fresh attempt (``train.restart``). With a length curriculum the
evaluation set is drawn up to the curriculum's cap, and the run converges only once the
curriculum has reached it. Checkpoints hold everything the
loop depends on (weights, optimiser, random and schedule states, step), so a resumed run
continues with exactly the losses an uninterrupted run would have had. Ctrl-C finishes the
current step, saves a checkpoint and returns. The process-wide settings the loop needs are
set and restored by `ntmkit.process_state.training_process`.
"""

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import metrics, run_log, tensorboard
from .checkpoint import (
    TRAINING_FIELDS,
    CheckpointError,
    check_fields,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from .decisions import after_evaluation
from .evaluate import (
    DEFAULT_SWEEPS,
    EVAL_SEED_OFFSET,
    Evaluation,
    batch_to,
    draw_eval_set,
    evaluate_batches,
    measure_of,
    scored_logits,
    sweep,
)
from .files import remove_temporaries, write_text_atomically
from .guard import (
    NonFiniteGuard,
    NonFiniteTraining,
    check_finite_weights,
    clip_to_norm,
    finite_update,
    robust_gradient_norm,
)
from .model import NTM
from .optim import make_optimizer
from .process_state import RandomState, random_state, seeded_state, training_process
from .run_config import RunConfig
from .run_lock import RunLock
from .run_log import EvaluationRecord, RestartRecord, StepRecord
from .runs import (
    RunFolder,
    check_new_run_folder,
    config_of,
    move_aside,
    read_run_config,
    write_eval,
)
from .schedules import RestartState, ScheduleState
from .tasks import score_mask
from .validation import check_available, check_int, check_number

FINAL_SWEEP_SAMPLES = 100
"""Sequences per point of the generalisation sweep run when training ends."""

RESUMABLE_TRAIN_FIELDS = ("max_iter", "target_error", "lr", "lr_drop")
"""The settings a resumed run may change (`Trainer`); the rest define the run."""


@dataclass(frozen=True)
class TrainResult:
    """How a call to `Trainer.fit` ended."""

    step: int
    sequences: int
    seconds: float
    converged: bool  # evaluation error fell below target_error
    interrupted: bool  # stopped by Ctrl-C (or stop_after); resume to continue
    timed_out: bool  # used up fit's time_limit; resume (with a new limit) to continue
    last_eval: Evaluation | None


class Trainer:
    """Trains the NTM of ``run`` in the run folder ``out`` (created if needed).

    A new run needs a new or empty folder: one that holds a run (or anything else) is refused
    with a `ValueError`, unless ``overwrite=True``, which moves it aside first
    (`ntmkit.runs.move_aside`; ``trainer.replaced`` says where).

    With ``resume=True`` the folder's config and checkpoint are loaded and training continues
    where it stopped; ``run`` may then be None, or a config differing only in ``train.max_iter``
    and ``train.target_error`` (to extend or tighten a finished run) and in the learning rate's
    schedule, ``train.lr`` and ``train.lr_drop`` (to polish a model at a lower rate), which
    then starts afresh at the resumed step. A changed config is written to ``config.json``, so
    that a later resume continues it.
    """

    def __init__(
        self, run: RunConfig | None, out: str | Path, resume: bool = False, overwrite: bool = False
    ) -> None:
        self.folder = RunFolder(Path(out))
        self.replaced: Path | None = None  # where overwrite moved an old run
        if resume:
            if not self.folder.root.is_dir():
                raise ValueError(f"no run folder at {self.folder.root} to resume")
            saved = read_run_config(self.folder.config)
            run = self._resumed_config(run, saved)
        elif run is None:
            raise ValueError("a RunConfig is needed unless resume=True")
        self.run = run
        train = run.train
        check_available("train.device", train.device)
        if not resume:
            check_new_run_folder(self.folder.root, overwrite)
        self.random = seeded_state(train.seed, train.device)
        with random_state(self.random, train.device):
            self.model = NTM(run.model).to(train.device)
        self.optimizer = self._new_optimizer()
        self.task = run.make_task(seed=train.seed)
        eval_task = run.make_task(seed=train.seed + EVAL_SEED_OFFSET)
        if train.curriculum:  # score the lengths the curriculum is heading for
            _set_max_length(eval_task, train.curriculum.cap)
        self.eval_set = draw_eval_set(eval_task, train.eval_samples)
        self.step, self.sequences, self.seconds = 0, 0, 0.0
        self._reset_schedules()
        self.restart_state = RestartState()
        self.guard = NonFiniteGuard(train.max_skipped_steps)
        self.last_eval: Evaluation | None = None
        self._stop_requested = False
        self._in_fit = False
        # Nothing is written to the folder before this (a model too large to allocate fails
        # above, leaving no trace), and a second writer is refused here, untouched.
        if overwrite and not resume:
            self.replaced = move_aside(self.folder.root)
        self.lock = RunLock(self.folder.root).acquire()
        if resume:
            remove_temporaries(self.folder.root)  # left by a kill during a checkpoint write
            self._load_checkpoint()
            if run != saved:  # recorded before training on, so that a later resume continues it
                write_text_atomically(self.folder.config, run.to_json())
                self.save()
        else:
            self.folder.root.mkdir(parents=True, exist_ok=True)
            write_text_atomically(self.folder.config, run.to_json())
            run_log.rewrite(self.folder.metrics, [])
            self.save()  # step 0: a run killed at any moment has a checkpoint to resume
        self.writer = tensorboard.open_writer(self.folder.root)

    # ---- the loop -----------------------------------------------------------------------

    def fit(
        self,
        progress: bool = True,
        stop_after: int | None = None,
        time_limit: float | None = None,
        on_evaluation: Callable[[EvaluationRecord], None] | None = None,
    ) -> TrainResult:
        """Train until convergence, ``max_iter`` or Ctrl-C.

        ``stop_after`` stops (as Ctrl-C would) once that many steps are done in total; tests
        use it to interrupt a run at a known step. ``time_limit`` ends the call once it has run
        for that many wall-clock seconds (``timed_out`` in the result; benchmarks use it as a
        budget). ``on_evaluation`` is called with each evaluation's record once the trainer
        has acted on it (a sweep reports it to its scheduler); an exception it raises ends
        the call between two steps, where `save` can checkpoint the run. Ctrl-C is caught only
        when called from the main thread. ``train.max_skipped_steps`` non-finite steps in a
        row raise `NonFiniteTraining` (see `ntmkit.guard`) without saving.
        """
        if stop_after is not None:
            check_int("fit.stop_after", stop_after, low=1)
        if time_limit is not None:
            check_number("time limit (seconds)", time_limit, low=0, low_open=True)
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        self._stop_requested = False  # a new call continues after an earlier stop
        bar = _progress_bar(progress, self.run.train.max_iter, self.step)
        try:
            with (
                training_process(self.random, self.run.train.device, self._request_stop),
                run_log.appending(self.folder.metrics) as log,
            ):
                self._in_fit = True
                self.model.train()  # evaluations switch to eval mode and back
                converged, timed_out = self._loop(log, bar, stop_after, deadline, on_evaluation)
        finally:
            self._in_fit = False
            if bar is not None:
                bar.close()
            if self.writer is not None:
                self.writer.flush()
        self.model.eval()  # hand the model back ready to use: no dropout
        self.save()  # not reached after NonFiniteTraining: the last good checkpoint stays
        interrupted = self._stop_requested and not converged
        return TrainResult(
            self.step, self.sequences, self.seconds, converged, interrupted, timed_out,
            self.last_eval,
        )  # fmt: skip

    def _loop(self, log, bar, stop_after, deadline, on_evaluation) -> tuple[bool, bool]:
        """Steps until a stop; returns (converged, timed_out)."""
        train = self.run.train
        while self.step < train.max_iter and not self._stop_requested:
            record = self._train_step()
            log.write(record)
            if self.writer is not None:
                tensorboard.log_step(self.writer, record)
            if self.guard.record(not record.skipped):
                raise NonFiniteTraining(
                    f"training stopped at step {self.step}: {self.guard.in_a_row} steps in a "
                    f"row had a non-finite loss or gradient (none reached the weights); the last "
                    f"good checkpoint is {self.folder.checkpoint} (step {self._saved_step})"
                )
            evaluate = self.step % train.eval_every == 0 or self.step == train.max_iter
            converged = False
            if evaluate:
                evaluation, converged = self._evaluate_and_decide(log, bar)
                if on_evaluation is not None:
                    on_evaluation(evaluation)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    _postfix(record, self.last_eval, self.task.measure, self.guard.total),
                    refresh=False,
                )
            if converged:
                return True, False
            if self.step % train.checkpoint_every == 0:
                log.sync()  # the log on disk reaches the checkpoint's step before it is written
                self.save()
            if stop_after is not None and self.step >= stop_after:
                self._stop_requested = True
            if deadline is not None and time.perf_counter() > deadline:
                return False, True
        return False, False

    def _train_step(self) -> StepRecord:
        train = self.run.train
        start = time.perf_counter()
        if self.length_state is not None:
            _set_max_length(self.task, int(self.length_state.value))
        batch = batch_to(self.task.sample(train.batch_size), train.device)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_state.value
        logits = scored_logits(self.model, batch)
        loss_of = metrics.training_loss(train.loss, train.loss_clip)
        loss = loss_of(logits, batch.targets, score_mask(batch, train.score))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        finite = finite_update(loss, self._clip_gradients())
        if finite:  # a non-finite loss or gradient never reaches the weights (ntmkit.guard)
            self.optimizer.step()
        loss_value = loss.item()
        self.step += 1
        self.sequences += train.batch_size
        elapsed = time.perf_counter() - start
        self.seconds += elapsed
        record = StepRecord(
            step=self.step, sequences=self.sequences, time=self.seconds, loss=loss_value,
            bit_errors=metrics.bit_errors_per_sequence(logits.detach(), batch.targets, batch.mask),
            lr=self.lr_state.value, seq_per_s=train.batch_size / elapsed,
            max_length=None if self.length_state is None else int(self.length_state.value),
            skipped=not finite,
        )  # fmt: skip
        if finite:  # a NaN would stay in the schedules' running means for good
            self._update_schedules(loss_value)
        return record

    def _update_schedules(self, loss: float) -> None:
        train = self.run.train
        if train.lr_drop:
            self.lr_state = train.lr_drop.update(self.lr_state, loss)
        if self.length_state is not None:
            self.length_state = train.curriculum.update(self.length_state, loss)

    def _clip_gradients(self) -> torch.Tensor:
        """Clip as ``train.clip_mode`` says; returns the global gradient norm before clipping."""
        train = self.run.train
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        if train.clip_mode == "norm" and train.clip > 0:
            return clip_to_norm(parameters, train.clip)
        norm = robust_gradient_norm(parameters)
        if train.clip > 0:
            torch.nn.utils.clip_grad_value_(parameters, train.clip)
        return norm

    def _evaluate_and_decide(self, log, bar) -> tuple[EvaluationRecord, bool]:
        """Score the evaluation set, log it and act on the decision: the record, and whether
        the run has converged."""
        self.last_eval = evaluate_batches(
            self.model, self.eval_set, scope="output", optimum=self.task.optimal_cost
        )
        record = EvaluationRecord(self.step, self.sequences, self.seconds, self.last_eval)
        log.write(record)
        if self.writer is not None:
            tensorboard.log_evaluation(self.writer, self.run, self.model, record)
        curriculum = self.run.train.curriculum
        at_cap = curriculum is None or curriculum.at_cap(self.length_state)
        error = measure_of(self.last_eval, self.task)  # the task's own "how far from solved"
        decision = after_evaluation(self.run.train, self.restart_state, self.step, error, at_cap)
        self.restart_state = decision.restart_state
        if decision.fresh_start:
            self._start_fresh_attempt()
            restarts = decision.restart_state.restarts
            log.write(RestartRecord(self.step, self.sequences, self.seconds, restarts))
            if bar is not None:
                bar.write(decision.message)
        return record, decision.converged

    def _start_fresh_attempt(self) -> None:
        """A fresh model (drawn from the run's random stream), optimiser and schedules."""
        fresh = NTM(self.run.model)
        self.model.load_state_dict(fresh.state_dict())
        self.optimizer = self._new_optimizer()
        self._reset_schedules()
        self.last_eval = None  # it described the model just replaced

    def _reset_schedules(self) -> None:
        """Learning rate and length schedules at their start (a new run or a fresh attempt)."""
        train = self.run.train
        self.lr_state = self._initial_lr_state()
        start_length = getattr(self.task.config, "max_length", 0)
        self.length_state = train.curriculum.initial(start_length) if train.curriculum else None

    def _initial_lr_state(self) -> ScheduleState:
        train = self.run.train
        return train.lr_drop.initial(train.lr) if train.lr_drop else ScheduleState(train.lr)

    def _new_optimizer(self) -> torch.optim.Optimizer:
        train = self.run.train
        return make_optimizer(train.optimizer, self.model.parameters(), train.lr, train.momentum)

    def _request_stop(self, signum, frame) -> None:
        if self._stop_requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self._stop_requested = True

    # ---- checkpoints --------------------------------------------------------------------

    def close(self) -> None:
        """Release the run folder's lock (see `ntmkit.run_lock`); the trainer may not train
        after this. Also done when the trainer is garbage-collected or its process ends."""
        self.lock.release()

    def __enter__(self) -> "Trainer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        lock = getattr(self, "lock", None)  # absent if __init__ failed before taking it
        if lock is not None:
            lock.release()

    def save(self) -> None:
        """Write the checkpoint atomically (see `ntmkit.checkpoint`); non-finite weights are
        refused with `NonFiniteTraining`, so the checkpoint on disk is always a good one."""
        check_finite_weights(self.model, f"checkpoint of {self.folder.root} at step {self.step}")
        # Inside fit the global generators hold the run's stream; outside, self.random does.
        random = RandomState.capture(self.run.train.device) if self._in_fit else self.random
        save_checkpoint(
            self.folder.checkpoint,
            {
                "config": self.run.to_json(),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "task_rng": self.task.get_rng_state(),
                "torch_rng": random.cpu,
                "cuda_rng": random.cuda,
                "step": self.step,
                "sequences": self.sequences,
                "seconds": self.seconds,
                "lr_state": [self.lr_state.value, list(self.lr_state.recent)],
                "length_state": None
                if self.length_state is None
                else [self.length_state.value, list(self.length_state.recent)],
                "restart_state": list(self.restart_state),
                "last_eval": None if self.last_eval is None else self.last_eval.to_dict(),
                "guard": [self.guard.in_a_row, self.guard.total],
            },
        )
        self._saved_step = self.step

    def _resumed_config(self, run: RunConfig | None, saved: RunConfig) -> RunConfig:
        if run is None:
            return saved
        changed = _not_resumable(saved.differences(run))
        if changed:
            raise ValueError(
                f"resume continues the saved run: {changed[0]} may not change (only "
                + ", ".join(f"train.{name}" for name in RESUMABLE_TRAIN_FIELDS)
                + f" may; saved config: {self.folder.config})"
            )
        return run

    def _load_checkpoint(self) -> None:
        path = self.folder.checkpoint
        payload = load_checkpoint(path, map_location=self.run.train.device)
        check_fields(path, payload, TRAINING_FIELDS)
        trained = config_of(path, payload)  # what the checkpoint ran with
        changed = _not_resumable(trained.differences(read_run_config(self.folder.config)))
        if changed:
            raise CheckpointError(
                f"{self.folder.config} and {path} disagree on {changed[0]}; a resumed run may "
                f"change only " + ", ".join(f"train.{name}" for name in RESUMABLE_TRAIN_FIELDS)
            )
        load_weights(self.model, payload["model"], path)
        with _field(path, "optimizer"):
            self.optimizer.load_state_dict(payload["optimizer"])
        with _field(path, "task_rng"):
            self.task.set_rng_state(payload["task_rng"])
        self.random = RandomState(payload["torch_rng"].cpu(), payload.get("cuda_rng"))
        self.step, self.sequences = payload["step"], payload["sequences"]
        self.seconds = payload["seconds"]
        value, recent = payload["lr_state"]
        self.lr_state = ScheduleState(value, tuple(recent))
        if (self.run.train.lr, self.run.train.lr_drop) != (trained.train.lr, trained.train.lr_drop):
            self.lr_state = self._initial_lr_state()  # a new rate schedule starts here
        if payload["length_state"] is not None:
            value, recent = payload["length_state"]
            self.length_state = ScheduleState(value, tuple(recent))
        with _field(path, "restart_state"):
            self.restart_state = RestartState(*payload.get("restart_state", ()))
        last_eval = payload["last_eval"]
        with _field(path, "last_eval"):
            self.last_eval = None if last_eval is None else Evaluation(**last_eval)
        with _field(path, "guard"):
            in_a_row, total = payload.get("guard", (0, 0))  # older checkpoints: none skipped
            self.guard = NonFiniteGuard(self.run.train.max_skipped_steps, in_a_row, total)
        self._saved_step = self.step
        # Drop log records written after the checkpoint, so the log matches the resumed run.
        kept = [r for r in run_log.read_log(self.folder.metrics) if r.step <= self.step]
        run_log.rewrite(self.folder.metrics, kept)

    # ---- after training -----------------------------------------------------------------

    def final_sweep(
        self, samples: int = FINAL_SWEEP_SAMPLES, grid: Mapping[str, Sequence[int]] | None = None
    ) -> dict[str, Any]:
        """A generalisation sweep over ``grid`` (default: the task's, `DEFAULT_SWEEPS`),
        written to ``eval.json``."""
        grid = DEFAULT_SWEEPS[self.run.task] if grid is None else grid
        task = self.run.make_task(seed=self.run.train.seed + 2 * EVAL_SEED_OFFSET)
        rows = sweep(self.model, task, grid, samples)
        return write_eval(self.folder.eval, grid, rows, self.step, scope="output")


def _not_resumable(keys: list[str]) -> list[str]:
    """The differing keys (`RunConfig.differences`) that a resumed run may not change."""
    allowed = tuple(f"train.{name}" for name in RESUMABLE_TRAIN_FIELDS)
    return [key for key in keys if not key.startswith(allowed)]


@contextlib.contextmanager
def _field(path: Path, name: str) -> Iterator[None]:
    """Turn a failure to restore checkpoint field ``name`` into a one-line `CheckpointError`."""
    try:
        yield
    except (ValueError, TypeError, KeyError, RuntimeError, IndexError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path} field {name!r} cannot be restored: {first}") from None


def _set_max_length(task, length: int) -> None:
    """Let a length curriculum grow the task's ``max_length`` (task configs are frozen)."""
    if task.config.max_length != length:
        task.config = dataclasses.replace(task.config, max_length=length)


MEASURE_LABELS = {"bit_errors": "eval_err", "excess_bits": "excess", "cost_bits": "eval_cost"}
"""How the progress bar names each task measure (`Task.measure`) of the last evaluation."""


def _postfix(
    record: StepRecord, last_eval: Evaluation | None, measure: str, skipped: int
) -> dict[str, str]:
    postfix = {
        "loss": f"{record.loss:.4f}",
        "err": f"{record.bit_errors:.2f}",
        "seq/s": f"{record.seq_per_s:.0f}",
    }
    if last_eval is not None:
        postfix[MEASURE_LABELS[measure]] = f"{getattr(last_eval, measure):.3f}"
    if skipped:
        postfix["skipped"] = str(skipped)
    return postfix


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)
