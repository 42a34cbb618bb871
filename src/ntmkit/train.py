"""Training: one loop for every task, with evaluation, early stop, checkpoints and resume.

`Trainer.fit` runs the loop. Every step draws a batch from the task's own seeded stream, takes
one optimiser step on the masked BCE loss, appends a record to ``metrics.jsonl`` and updates the
schedules. Every ``eval_every`` steps it scores a fixed evaluation set; it stops early once the
mean bit errors per sequence fall below ``target_error``. Checkpoints hold everything the loop
depends on (weights, optimiser, RNG and schedule states, step), so a resumed run continues with
exactly the losses an uninterrupted run would have had. Ctrl-C finishes the current step, saves
a checkpoint and returns.
"""

import dataclasses
import json
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import metrics, tensorboard
from .checkpoint import load_checkpoint, save_checkpoint
from .evaluate import (
    DEFAULT_SWEEPS,
    EVAL_SEED_OFFSET,
    batch_to,
    draw_eval_set,
    evaluate_batches,
    scored_logits,
    sweep,
)
from .model import NTM
from .optim import make_optimizer
from .run_config import RunConfig
from .runs import RunFolder, read_metrics
from .schedules import RestartState, ScheduleState
from .tasks import score_mask

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
    last_eval: dict[str, float] | None


class Trainer:
    """Trains the NTM of ``run`` in the run folder ``out`` (created if needed).

    With ``resume=True`` the folder's config and checkpoint are loaded and training continues
    where it stopped; ``run`` may then be None, or a config differing only in ``train.max_iter``
    and ``train.target_error`` (to extend or tighten a finished run).
    """

    def __init__(self, run: RunConfig | None, out: str | Path, resume: bool = False) -> None:
        self.folder = RunFolder(Path(out))
        if resume:
            run = self._resumed_config(run)
        elif run is None:
            raise ValueError("a RunConfig is needed unless resume=True")
        self.run = run
        train = run.train
        torch.manual_seed(train.seed)
        self.model = NTM(run.ntm_config()).to(train.device)
        self.optimizer = self._new_optimizer()
        self.task = run.make_task(seed=train.seed)
        eval_task = run.make_task(seed=train.seed + EVAL_SEED_OFFSET)
        self.eval_set = draw_eval_set(eval_task, train.eval_samples)
        self.step, self.sequences, self.seconds = 0, 0, 0.0
        self._reset_schedules()
        self.restart_state = RestartState()
        self.restart_message = ""  # what the last fresh start said, for the progress bar
        self.last_eval: dict[str, float] | None = None
        if resume:
            self._load_checkpoint()
        else:
            self.folder.root.mkdir(parents=True, exist_ok=True)
            self.folder.config.write_text(run.to_json())
            self.folder.metrics.write_text("")
        self._stop_requested = False
        self.writer = tensorboard.open_writer(self.folder.root)

    # ---- the loop -----------------------------------------------------------------------

    def fit(
        self,
        progress: bool = True,
        stop_after: int | None = None,
        time_limit: float | None = None,
    ) -> TrainResult:
        """Train until convergence, ``max_iter`` or Ctrl-C.

        ``stop_after`` stops (as Ctrl-C would) once that many steps are done in total; tests
        use it to interrupt a run at a known step. ``time_limit`` ends the call once it has run
        for that many wall-clock seconds (``timed_out`` in the result; benchmarks use it as a
        budget). Ctrl-C is caught only when called from the main thread.
        """
        started = time.perf_counter()
        self._stop_requested = False  # a new call continues after an earlier stop
        train = self.run.train
        bar = _progress_bar(progress, train.max_iter, self.step)
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread:
            previous_handler = signal.signal(signal.SIGINT, self._request_stop)
        # Sharpened weightings underflow into denormal floats, which x86 CPUs process 10-100x
        # more slowly; flushing them to zero changes no result above 1e-38. PyTorch has no
        # getter for this flag, so it is set back to PyTorch's default (off) afterwards.
        torch.set_flush_denormal(True)
        converged = timed_out = False
        try:
            with self.folder.metrics.open("a") as log:
                while self.step < train.max_iter and not self._stop_requested:
                    record = self._train_step()
                    log.write(json.dumps(record) + "\n")
                    if self.writer is not None:
                        tensorboard.log_step(self.writer, record)
                    if self.step % train.eval_every == 0 or self.step == train.max_iter:
                        restarts = self.restart_state.restarts
                        converged = self._evaluate(log)
                        if bar is not None and self.restart_state.restarts > restarts:
                            bar.write(self.restart_message)  # also in metrics.jsonl
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(_postfix(record, self.last_eval), refresh=False)
                    if converged:
                        break
                    if self.step % train.checkpoint_every == 0:
                        self.save()
                    if stop_after is not None and self.step >= stop_after:
                        self._stop_requested = True
                    if time_limit is not None and time.perf_counter() - started > time_limit:
                        timed_out = True
                        break
        finally:
            torch.set_flush_denormal(False)
            if in_main_thread:
                signal.signal(signal.SIGINT, previous_handler)
            if bar is not None:
                bar.close()
            if self.writer is not None:
                self.writer.flush()
        self.model.eval()  # hand the model back ready to use: no dropout
        self.save()
        return TrainResult(
            step=self.step,
            sequences=self.sequences,
            seconds=self.seconds,
            converged=converged,
            interrupted=self._stop_requested and not converged,
            timed_out=timed_out,
            last_eval=self.last_eval,
        )

    def _train_step(self) -> dict[str, Any]:
        train = self.run.train
        start = time.perf_counter()
        if self.length_state is not None:
            _set_max_length(self.task, int(self.length_state.value))
        batch = batch_to(self.task.sample(train.batch_size), train.device)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_state.value
        self.model.train()
        logits = scored_logits(self.model, batch)
        mask = score_mask(batch, train.score)
        loss = metrics.masked_bce(logits, batch.targets, mask)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._clip_gradients()
        self.optimizer.step()
        loss_value = loss.item()
        self.step += 1
        self.sequences += train.batch_size
        elapsed = time.perf_counter() - start
        self.seconds += elapsed
        record = {
            "step": self.step,
            "sequences": self.sequences,
            "loss": loss_value,
            "bit_errors": metrics.bit_errors_per_sequence(
                logits.detach(), batch.targets, batch.mask
            ),
            "lr": self.lr_state.value,
            "seq_per_s": train.batch_size / elapsed,
            "time": self.seconds,
        }
        if train.lr_drop:
            self.lr_state = train.lr_drop.update(self.lr_state, loss_value)
        if self.length_state is not None:
            record["max_length"] = int(self.length_state.value)
            self.length_state = train.curriculum.update(self.length_state, loss_value)
        return record

    def _clip_gradients(self) -> None:
        train = self.run.train
        if train.clip == 0:
            return
        if train.clip_mode == "norm":
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), train.clip)
        else:
            torch.nn.utils.clip_grad_value_(self.model.parameters(), train.clip)

    def _evaluate(self, log) -> bool:
        result = evaluate_batches(self.model, self.eval_set, scope="output")
        self.last_eval = result
        record = {
            "step": self.step,
            "sequences": self.sequences,
            "time": self.seconds,
            "eval": result,
        }
        log.write(json.dumps(record) + "\n")
        log.flush()
        if self.writer is not None:
            tensorboard.log_evaluation(self.writer, self.run, self.model, record)
        target = self.run.train.target_error
        if target > 0 and result["bit_errors"] < target:
            return True
        if self.run.train.restart is not None:
            self._maybe_restart(log, result["bit_errors"])
        return False

    def _reset_schedules(self) -> None:
        """Learning rate and length schedules at their start (a new run or a fresh attempt)."""
        train = self.run.train
        self.lr_state = (
            train.lr_drop.initial(train.lr) if train.lr_drop else ScheduleState(train.lr)
        )
        start_length = getattr(self.task.config, "max_length", 0)
        self.length_state = train.curriculum.initial(start_length) if train.curriculum else None

    def _maybe_restart(self, log, error: float) -> None:
        """Apply ``train.restart``: a fresh model, optimiser and schedules if this attempt has
        stalled, unless fewer than ``after`` steps are left (the new attempt could not even
        reach its own check, and the run would end on a barely trained model)."""
        rule, previous = self.run.train.restart, self.restart_state
        if self.step + rule.after > self.run.train.max_iter:
            return
        state = rule.update(previous, self.step, error)
        if state.restarts > previous.restarts:
            fresh = NTM(self.run.ntm_config())  # draws from the seeded global RNG
            self.model.load_state_dict(fresh.state_dict())
            self.optimizer = self._new_optimizer()
            self._reset_schedules()
            self.restart_message = (
                f"step {self.step}: evaluation error {error:.2f} > {rule.above:g} after "
                f"{self.step - previous.attempt_start} steps of this attempt; fresh start "
                f"{state.restarts} of at most {rule.limit} (train.restart)"
            )
            self.last_eval = None  # it described the model just replaced
            record = {"step": self.step, "sequences": self.sequences, "time": self.seconds}
            log.write(json.dumps({**record, "restart": state.restarts}) + "\n")
            log.flush()
        self.restart_state = state

    def _new_optimizer(self) -> torch.optim.Optimizer:
        train = self.run.train
        return make_optimizer(train.optimizer, self.model.parameters(), train.lr, train.momentum)

    def _request_stop(self, signum, frame) -> None:
        if self._stop_requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self._stop_requested = True

    # ---- checkpoints --------------------------------------------------------------------

    def save(self) -> None:
        """Write the checkpoint atomically (see `ntmkit.checkpoint`)."""
        save_checkpoint(
            self.folder.checkpoint,
            {
                "config": self.run.to_json(),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "task_rng": self.task.get_rng_state(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": _cuda_rng_states(self.run.train.device),
                "step": self.step,
                "sequences": self.sequences,
                "seconds": self.seconds,
                "lr_state": [self.lr_state.value, list(self.lr_state.recent)],
                "length_state": None
                if self.length_state is None
                else [self.length_state.value, list(self.length_state.recent)],
                "restart_state": list(self.restart_state),
                "last_eval": self.last_eval,
            },
        )

    def _resumed_config(self, run: RunConfig | None) -> RunConfig:
        saved = RunConfig.from_json(self.folder.config.read_text())
        if run is None:
            return saved
        unchanged = dataclasses.replace(
            run.train, max_iter=saved.train.max_iter, target_error=saved.train.target_error
        )
        if dataclasses.replace(run, train=unchanged) != saved:
            raise ValueError(
                "resume continues the saved run: only train.max_iter and train.target_error "
                f"may change (saved config: {self.folder.config})"
            )
        return run

    def _load_checkpoint(self) -> None:
        payload = load_checkpoint(self.folder.checkpoint, map_location=self.run.train.device)
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.task.set_rng_state(payload["task_rng"])
        torch.set_rng_state(payload["torch_rng"].cpu())  # map_location may have moved it
        cuda_rng = payload.get("cuda_rng")  # dropout on a GPU draws from its generators
        if cuda_rng is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([state.cpu() for state in cuda_rng])
        self.step, self.sequences = payload["step"], payload["sequences"]
        self.seconds = payload["seconds"]
        value, recent = payload["lr_state"]
        self.lr_state = ScheduleState(value, tuple(recent))
        if payload["length_state"] is not None:
            value, recent = payload["length_state"]
            self.length_state = ScheduleState(value, tuple(recent))
        self.restart_state = RestartState(*payload.get("restart_state", ()))
        self.last_eval = payload["last_eval"]
        # Drop log records written after the checkpoint, so the log matches the resumed run.
        kept = [r for r in read_metrics(self.folder.metrics) if r["step"] <= self.step]
        self.folder.metrics.write_text("".join(json.dumps(r) + "\n" for r in kept))

    # ---- after training -----------------------------------------------------------------

    def final_sweep(self, samples: int = FINAL_SWEEP_SAMPLES) -> dict[str, Any]:
        """The task's default generalisation sweep, written to ``eval.json``."""
        override, values = DEFAULT_SWEEPS[self.run.task]
        task = self.run.make_task(seed=self.run.train.seed + 2 * EVAL_SEED_OFFSET)
        rows = sweep(self.model, task, override, values, samples)
        result = {"override": override, "rows": rows, "step": self.step}
        self.folder.eval.write_text(json.dumps(result, indent=2))
        return result


def _set_max_length(task, length: int) -> None:
    """Let a length curriculum grow the task's ``max_length`` (task configs are frozen)."""
    if task.config.max_length != length:
        task.config = dataclasses.replace(task.config, max_length=length)


def _postfix(record: dict[str, Any], last_eval: dict[str, float] | None) -> dict[str, str]:
    postfix = {
        "loss": f"{record['loss']:.4f}",
        "err": f"{record['bit_errors']:.2f}",
        "seq/s": f"{record['seq_per_s']:.0f}",
    }
    if last_eval is not None:
        postfix["eval_err"] = f"{last_eval['bit_errors']:.3f}"
    return postfix


def _cuda_rng_states(device: str) -> list[torch.Tensor] | None:
    """The CUDA generators' states when training on a GPU (output dropout draws from them)."""
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_rng_state_all()
    return None


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)
