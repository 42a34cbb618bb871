"""Training: one loop for every task, with evaluation, early stop, checkpoints and resume.

`Trainer.fit` runs the loop; `Trainer._iteration` is one turn of it, top to bottom: draw a
batch from the task's own seeded stream, take one optimiser step on the task's loss, log a
`StepRecord` to ``metrics.jsonl``, and every ``eval_every`` steps score the fixed evaluation
set and act on `ntmkit.training.decisions.after_evaluation` (stop once the task's measure,
`Task.measure`, falls below ``target_error``; or start a fresh attempt, ``train.restart``).
Where the run stands is one immutable `TrainingState`, replaced each step.

A checkpoint holds everything the loop depends on: the weights, the optimiser, the random
streams and the `TrainingState` (`Trainer.save` writes it, `Trainer._restore` reads it), so a
resumed run continues with exactly the losses an uninterrupted run would have had. Ctrl-C
finishes the current step, saves a checkpoint and returns. The process-wide settings the loop
needs are set and restored by `ntmkit.training.process_state.training_process`.
"""

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..model import NTM
from ..run import log as run_log
from ..run import metrics
from ..run.checkpoint import (
    RESUME_FIELDS,
    check_fields,
    load_checkpoint,
    load_weights,
    restoring,
    save_checkpoint,
)
from ..run.config import RunConfig
from ..run.evaluate import (
    EVAL_SEED_OFFSET,
    Evaluation,
    batch_to,
    draw_eval_set,
    evaluate_batches,
    measure_of,
    scored_logits,
    sweep,
)
from ..run.files import remove_temporaries, write_text_atomically
from ..run.folder import (
    RunFolder,
    check_new_run_folder,
    config_of,
    move_aside,
    read_run_config,
    stopped_before_first_checkpoint,
    write_eval,
)
from ..run.lock import RunLock
from ..run.log import EvaluationRecord, RestartRecord, StepRecord
from ..tasks import Task, score_mask
from ..validation import check_available, check_int, check_number
from . import resume, tensorboard
from .decisions import after_evaluation
from .guard import (
    NonFiniteTraining,
    check_finite_weights,
    clip_to_norm,
    finite_update,
    robust_gradient_norm,
)
from .optim import make_optimizer
from .process_state import RandomState, random_state, seeded_state, training_process
from .progress import ProgressBar
from .state import TrainingState, schedules_at_start

FINAL_SWEEP_SAMPLES = 100
"""Sequences per point of the generalisation sweep run when training ends."""


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
    (`ntmkit.run.folder.move_aside`; ``trainer.replaced`` says where). A run killed before
    its first checkpoint trained nothing; a new run may take its folder, and a resume starts
    it afresh from its ``config.json`` (`ntmkit.run.folder.stopped_before_first_checkpoint`).

    With ``resume=True`` the folder's config and checkpoint are loaded and training continues
    where it stopped; ``run`` may then be None, or a config that changes only what
    `ntmkit.training.resume` allows (``train.max_iter``, ``train.target_error``, and the
    learning rate's schedule, which then starts afresh at the resumed step). A changed config
    is written to ``config.json``, so that a later resume continues it.

    ``trainer.state`` is where the run stands (`TrainingState`); ``step``, ``sequences``,
    ``seconds`` and ``last_eval`` read it.
    """

    def __init__(
        self, run: RunConfig | None, out: str | Path, resume: bool = False, overwrite: bool = False
    ) -> None:
        self.folder = RunFolder(Path(out))
        self.replaced: Path | None = None  # where overwrite moved an old run
        saved = self._saved_config(run) if resume else None
        run = saved[1] if saved is not None else run
        if run is None:
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
        self.eval_set = draw_eval_set(_eval_task(run), train.eval_samples)
        self.state = TrainingState.start(train, _max_length(self.task))
        self._stop_requested = False
        # Nothing is written to the folder before this (a model too large to allocate fails
        # above, leaving no trace), and a second writer is refused here, untouched.
        if overwrite and not resume:
            self.replaced = move_aside(self.folder.root)
        self.lock = RunLock(self.folder.root).acquire()
        if saved is not None and not stopped_before_first_checkpoint(self.folder.root):
            self._resume(saved[0])
        else:  # a new run, or one killed before its first checkpoint: nothing was trained
            self._create()
        self.writer = tensorboard.open_writer(self.folder.root)

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def sequences(self) -> int:
        return self.state.sequences

    @property
    def seconds(self) -> float:
        return self.state.seconds

    @property
    def last_eval(self) -> Evaluation | None:
        return self.state.last_eval

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
        row raise `NonFiniteTraining` (see `ntmkit.training.guard`) without saving.
        """
        deadline = _deadline(stop_after, time_limit)
        self._stop_requested = False  # a new call continues after an earlier stop
        bar = ProgressBar(progress, self.run.train.max_iter, self.state.step, self.task.measure)
        converged = timed_out = False
        try:
            with (
                training_process(self.random, self.run.train.device, self._request_stop),
                run_log.appending(self.folder.metrics) as log,
            ):
                self.model.train()  # evaluations switch to eval mode and back
                while not (converged or timed_out or self._done(stop_after)):
                    converged = self._iteration(log, bar, on_evaluation)
                    timed_out = deadline is not None and time.perf_counter() > deadline
        finally:
            bar.close()
            if self.writer is not None:
                self.writer.flush()
        self.model.eval()  # hand the model back ready to use: no dropout
        self.save()  # not reached after NonFiniteTraining: the last good checkpoint stays
        state = self.state
        return TrainResult(
            step=state.step,
            sequences=state.sequences,
            seconds=state.seconds,
            converged=converged,
            interrupted=self._stop_requested and not converged,
            timed_out=timed_out and not converged,
            last_eval=state.last_eval,
        )

    def _iteration(self, log, bar: ProgressBar, on_evaluation) -> bool:
        """One turn of the loop: a training step, then an evaluation, a checkpoint, as due.
        Returns whether the run has converged."""
        train = self.run.train
        batch = self._next_batch()
        record = self._train_step(batch)
        log.write(record)
        if self.writer is not None:
            tensorboard.log_step(self.writer, record)
        if self.state.skipped.in_a_row >= train.max_skipped_steps:
            raise NonFiniteTraining(
                f"training stopped at step {self.state.step}: {self.state.skipped.in_a_row} "
                f"steps in a row had a non-finite loss or gradient (none reached the weights); "
                f"the last good checkpoint is {self.folder.checkpoint} (step {self._saved_step})"
            )
        converged = False
        if self.state.step % train.eval_every == 0 or self.state.step == train.max_iter:
            evaluation, converged = self._evaluate_and_decide(log, bar)
            if on_evaluation is not None:
                on_evaluation(evaluation)
        bar.update(record, self.state)
        if not converged and self.state.step % train.checkpoint_every == 0:
            log.sync()  # the log on disk reaches the checkpoint's step before it is written
            self.random.refresh(train.device)  # the run's stream stands in the globals now
            self.save()
        return converged

    def _done(self, stop_after: int | None) -> bool:
        """Whether the loop stops before another step: max_iter, Ctrl-C or ``stop_after``."""
        step = self.state.step
        if stop_after is not None and step >= stop_after:
            self._stop_requested = True
        return step >= self.run.train.max_iter or self._stop_requested

    def _next_batch(self):
        """The next training batch, at the curriculum's current maximum length if any."""
        if self.state.length is not None:
            _set_max_length(self.task, int(self.state.length.value))
        return batch_to(self.task.sample(self.run.train.batch_size), self.run.train.device)

    def _train_step(self, batch) -> StepRecord:
        """Forward, loss, backward, clip and (if finite) one optimiser step on ``batch``;
        the state moves on by one step and the record says what happened."""
        train, state = self.run.train, self.state
        start = time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = state.lr.value
        logits = scored_logits(self.model, batch)
        loss_of = metrics.training_loss(train.loss, train.loss_clip, self.task.output_kind)
        loss = loss_of(logits, batch.targets, score_mask(batch, train.score))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        finite = finite_update(loss, self._clip_gradients())
        if finite:  # a non-finite loss or gradient never reaches the weights (training.guard)
            self.optimizer.step()
        loss_value, elapsed = loss.item(), time.perf_counter() - start
        self.state = self._advanced(state, loss_value, finite, elapsed)
        kind = self.task.output_kind
        errors = metrics.batch_errors(kind, logits.detach(), batch.targets, batch.mask)
        return StepRecord(
            step=self.state.step,
            sequences=self.state.sequences,
            time=self.state.seconds,
            loss=loss_value,
            **{metrics.ERROR_FIELDS[kind]: errors},
            lr=state.lr.value,
            seq_per_s=train.batch_size / elapsed,
            max_length=None if state.length is None else int(state.length.value),
            skipped=not finite,
        )

    def _advanced(
        self, state: TrainingState, loss: float, finite: bool, elapsed: float
    ) -> TrainingState:
        """The state after one step; a skipped step leaves the schedules as they were (a NaN
        would stay in their running means for good)."""
        train = self.run.train
        lr, length = state.lr, state.length
        if finite and train.lr_drop:
            lr = train.lr_drop.update(lr, loss)
        if finite and length is not None and train.curriculum is not None:
            length = train.curriculum.update(length, loss)
        return state._replace(
            step=state.step + 1,
            sequences=state.sequences + train.batch_size,
            seconds=state.seconds + elapsed,
            lr=lr,
            length=length,
            skipped=state.skipped.after(finite),
        )

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

    def _evaluate_and_decide(self, log, bar: ProgressBar) -> tuple[EvaluationRecord, bool]:
        """Score the evaluation set, log it and act on the decision: the record, and whether
        the run has converged."""
        evaluation = evaluate_batches(
            self.model,
            self.eval_set,
            scope="output",
            optimum=self.task.optimal_cost,
            kind=self.task.output_kind,
        )
        state = self.state = self.state._replace(last_eval=evaluation)
        record = EvaluationRecord(state.step, state.sequences, state.seconds, evaluation)
        log.write(record)
        if self.writer is not None:
            tensorboard.log_evaluation(self.writer, self.run, self.model, record)
        curriculum = self.run.train.curriculum
        at_cap = curriculum is None or state.length is None or curriculum.at_cap(state.length)
        error = measure_of(evaluation, self.task)  # the task's own "how far from solved"
        decision = after_evaluation(self.run.train, state.restarts, state.step, error, at_cap)
        self.state = self.state._replace(restarts=decision.restart_state)
        if decision.fresh_start:
            self._start_fresh_attempt()
            restarts = decision.restart_state.restarts
            log.write(RestartRecord(state.step, state.sequences, state.seconds, restarts))
            bar.write(decision.message)
        return record, decision.converged

    def _start_fresh_attempt(self) -> None:
        """A fresh model (drawn from the run's random stream), optimiser and schedules."""
        fresh = NTM(self.run.model)
        self.model.load_state_dict(fresh.state_dict())
        self.optimizer = self._new_optimizer()
        lr, length = schedules_at_start(self.run.train, _max_length(self.task))
        # The last evaluation described the model just replaced.
        self.state = self.state._replace(lr=lr, length=length, last_eval=None)

    def _new_optimizer(self) -> torch.optim.Optimizer:
        train = self.run.train
        return make_optimizer(train.optimizer, self.model.parameters(), train.lr, train.momentum)

    def _request_stop(self, signum, frame) -> None:
        if self._stop_requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self._stop_requested = True

    # ---- the run folder and its checkpoint ---------------------------------------------

    def close(self) -> None:
        """Release the run folder's lock (see `ntmkit.run.lock`); the trainer may not train
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
        """Write the checkpoint atomically (see `ntmkit.run.checkpoint`); non-finite weights
        are refused with `NonFiniteTraining`, so the checkpoint on disk is always a good one.
        This and `_restore` are the one place a checkpoint's fields are listed."""
        check_finite_weights(self.model, f"checkpoint of {self.folder.root} at step {self.step}")
        save_checkpoint(
            self.folder.checkpoint,
            {
                "config": self.run.to_json(),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "task_rng": self.task.get_rng_state(),
                "torch_rng": self.random.cpu,
                "cuda_rng": self.random.cuda,
                **self.state.to_payload(),
            },
        )
        self._saved_step = self.state.step

    def _restore(self, payload: dict[str, Any], trained: RunConfig) -> None:
        """Load the checkpoint ``payload`` (whose run config is ``trained``) into the trainer."""
        path = self.folder.checkpoint
        state = TrainingState.from_payload(payload, path)
        load_weights(self.model, payload["model"], path)
        with restoring(path, "optimizer"):
            self.optimizer.load_state_dict(payload["optimizer"])
        with restoring(path, "task_rng"):
            self.task.set_rng_state(payload["task_rng"])
        self.random = RandomState(payload["torch_rng"].cpu(), payload.get("cuda_rng"))
        if resume.restarts_lr_schedule(trained, self.run):  # a new rate schedule starts here
            state = state._replace(lr=schedules_at_start(self.run.train, None)[0])
        self.state = state
        self._saved_step = state.step

    def _saved_config(self, run: RunConfig | None) -> tuple[RunConfig, RunConfig]:
        """The saved ``config.json`` and the config to resume with (``run``, if it changes
        only what a resume may)."""
        if not self.folder.root.is_dir():
            raise ValueError(f"no run folder at {self.folder.root} to resume")
        saved = read_run_config(self.folder.config)
        if run is not None:
            resume.check_resumable(saved, run, "resume continues the saved run")
        return saved, run or saved

    def _create(self) -> None:
        """A new run folder: the config, an empty log and the checkpoint of step 0 (a run
        killed after this has a checkpoint to resume; one killed during it has trained
        nothing, and is created again by a new run or a resume)."""
        self.folder.root.mkdir(parents=True, exist_ok=True)
        remove_temporaries(self.folder.root)  # left by a kill during an earlier creation
        write_text_atomically(self.folder.config, self.run.to_json())
        run_log.rewrite(self.folder.metrics, [])
        self.save()

    def _resume(self, saved: RunConfig) -> None:
        """Continue the run in the folder: its checkpoint, checked against ``config.json``;
        the log cut back to the checkpoint's step; a changed config written out."""
        path = self.folder.checkpoint
        remove_temporaries(self.folder.root)  # left by a kill during a checkpoint write
        payload = load_checkpoint(path, map_location=self.run.train.device)
        check_fields(path, payload, RESUME_FIELDS)
        trained = config_of(path, payload)
        resume.check_resumable(trained, saved, f"{self.folder.config} and {path} disagree")
        self._restore(payload, trained)
        # Drop log records written after the checkpoint, so the log matches the resumed run.
        kept = [r for r in run_log.read_log(self.folder.metrics) if r.step <= self.state.step]
        run_log.rewrite(self.folder.metrics, kept)
        if self.run != saved:  # recorded before training on, so that a later resume continues
            write_text_atomically(self.folder.config, self.run.to_json())
            self.save()

    # ---- after training -----------------------------------------------------------------

    def final_sweep(
        self, samples: int = FINAL_SWEEP_SAMPLES, grid: Mapping[str, Sequence[int]] | None = None
    ) -> dict[str, Any]:
        """A generalisation sweep over ``grid`` (default: the task's, `Task.generalisation`),
        written to ``eval.json``."""
        grid = self.task.generalisation if grid is None else grid
        task = self.run.make_task(seed=self.run.train.seed + 2 * EVAL_SEED_OFFSET)
        rows = sweep(self.model, task, grid, samples)
        return write_eval(self.folder.eval, grid, rows, self.step, scope="output")


def _deadline(stop_after: int | None, time_limit: float | None) -> float | None:
    """`Trainer.fit`'s arguments checked; the `time.perf_counter` reading to stop at."""
    if stop_after is not None:
        check_int("fit.stop_after", stop_after, low=1)
    if time_limit is None:
        return None
    check_number("time limit (seconds)", time_limit, low=0, low_open=True)
    return time.perf_counter() + time_limit


def _eval_task(run: RunConfig) -> Task:
    """The task the fixed evaluation set is drawn from: its own seed, and with a length
    curriculum the lengths the curriculum is heading for."""
    task = run.make_task(seed=run.train.seed + EVAL_SEED_OFFSET)
    if run.train.curriculum:
        _set_max_length(task, run.train.curriculum.cap)
    return task


def _max_length(task: Task) -> int | None:
    return getattr(task.config, "max_length", None)


def _set_max_length(task: Task, length: int) -> None:
    """Let a length curriculum grow the task's ``max_length`` (task configs are frozen)."""
    if task.config.max_length != length:
        task.config = dataclasses.replace(task.config, max_length=length)
