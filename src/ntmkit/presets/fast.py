"""The ``fast`` preset (the default): the fastest reliable recipe measured on a 2-core CPU.

Chosen by ``benchmarks/convergence.py`` (see the README, "Convergence"): an LSTM controller in
the paper's step order learned copy more reliably than the dense controller, Adam at 3e-3 with
batches of 64 fastest, and softplus key strength and sharpening avoid the dead-ReLU trap in
which gamma stays exactly 1 and a head can never focus. Evaluating every 100 steps (not 250)
notices convergence sooner for under 2% of the time. Each task trains on its paper setting
(sort on ntm-lasagne's lengths 1-5). The per-task entries below say what was measured for
each; RESULTS.md has the seed tables.
"""

import dataclasses
from typing import Any

from ..config import PAPER_ACTIVATIONS, HeadActivations
from ..run.config import RunConfig, model_for
from ..run.schedules import LearningRateDrop, LengthCurriculum, Restart
from ..run.train_config import TrainConfig
from ..vocabulary import TASK_NAMES, TaskName, registry
from .paper import PAPER

FAST_MODEL: dict[str, Any] = {
    "controller": "lstm",
    "step_order": "graves",
    "shift_mode": "circular",
    "activations": HeadActivations(beta="softplus", gamma="one_plus_softplus"),
}
"""The model options every task's fast recipe shares."""

FAST_TRAIN = TrainConfig(
    batch_size=64, optimizer="adam", lr=3e-3, clip_mode="norm", clip=10.0, eval_every=100
)
"""The training options every task's fast recipe shares."""


def _fast(
    task: TaskName, model: dict[str, Any] | None = None, task_config: Any = None, **train: Any
) -> RunConfig:
    task_config = PAPER[task].task_config if task_config is None else task_config
    options = {**FAST_MODEL, **(model or {})}
    train_config = dataclasses.replace(FAST_TRAIN, **train)
    return RunConfig(task, task_config, model_for(task_config, options), train_config, "fast")


def _copy_like(task: TaskName) -> RunConfig:
    """Copy's recipe, for copy and the two tasks that only rearrange what copy writes back."""
    return _fast(
        task,
        {"output_dropout": 0.5},
        batch_size=4,
        eval_every=800,
        restart=Restart(after=6000, above=10.0),
    )


def _copy_batches_with_rate_drop(task: TaskName) -> RunConfig:
    """Copy's batches of 4 and output dropout, with Adam's rate dropping from 3e-3 to 1e-3 once
    the mean loss of 500 steps is below 0.02 (repeat copy)."""
    return _fast(
        task,
        {"output_dropout": 0.5},
        batch_size=4,
        eval_every=800,
        max_iter=1_000_000,
        lr_drop=LearningRateDrop(0.02, 1e-3, window=500),
    )


def _batches_of_16_with_rate_drop(
    task: TaskName, model: dict[str, Any], target: float, loss_below: float, window: int = 1000
) -> RunConfig:
    """Batches of 16 with the paper's head activations, Adam at 1e-3 dropping to 3e-4 once the
    mean loss of ``window`` steps is below ``loss_below``, solved below ``target`` by the task's
    measure (n-grams and priority sort, whose measures are costs in bits per sequence)."""
    return _fast(
        task,
        {"activations": PAPER_ACTIVATIONS, **model},
        batch_size=16,
        lr=1e-3,
        eval_every=200,
        max_iter=1_000_000,
        target_error=target,
        lr_drop=LearningRateDrop(loss_below, 3e-4, window=window),
    )


def _paper_with_restart(task: TaskName, after: int) -> RunConfig:
    """The ``paper`` recipe with a fresh start for an attempt above 1 bit error per sequence
    ``after`` steps in, and Graves' rate dropping from 1e-4 to 1e-5 below a loss of 0.01."""
    paper = PAPER[task]
    train = dataclasses.replace(
        paper.train,
        max_iter=1_000_000,
        restart=Restart(after=after, above=1.0),
        lr_drop=LearningRateDrop(0.01, 1e-5, window=500),
    )
    return dataclasses.replace(paper, train=train, preset="fast")


FAST: dict[str, RunConfig] = registry(
    TaskName,
    {
        **{task: _fast(task) for task in TASK_NAMES},
        # Measured on copy (README, "Convergence"). Without output dropout about half the
        # copy seeds settled on an LSTM that memorises short sequences; with it they find the
        # heads' pattern. On the fused engine batches of 4 solve copy from 5-10x fewer
        # sequences than batches of 64 and in 4x less time (median 10 s over 10 seeds against
        # 37 s); evaluations every 3,200 sequences. The restart is a safety net: seeds that
        # learn are solved by 24,000 sequences (6,000 steps), the others stay above 10 errors.
        "copy": _copy_like("copy"),
        # Reversed and upside-down copy learn with copy's recipe unchanged (RESULTS.md).
        "reversed_copy": _copy_like("reversed_copy"),
        "upside_down_copy": _copy_like("upside_down_copy"),
        # Copy's batches of 4 and output dropout: seed 0 reached 0.37 bit errors per sequence
        # after 80,000 sequences at Adam's 3e-3, then blew up (98 after 86,000); dropping the
        # rate to 1e-3 once the loss is low, it converged after 92,800 (114 s).
        "repeat_copy": _copy_batches_with_rate_drop("repeat_copy"),
        # The paper's own recipe (batch 1, Graves' RMSProp at 1e-4, paper-style heads), which
        # solved 2-6 items for 3 of 5 seeds within 900 s, each near 50,000 episodes; copy's
        # batches of 4 with dropout and a rate drop solved 1 of 5. An attempt still above 1
        # bit error per episode after 55,000 steps is started afresh, and the rate drops to
        # 1e-5 once the loss is low, which polishes the solved model (RESULTS.md).
        "associative_recall": _paper_with_restart("associative_recall", after=55_000),
        # ntm-lasagne's lengths, 1-5, where answering from memorised vectors is mostly the
        # LSTM's work. Seed 0, no dropout, batches of 16: 0.36 bit errors per sequence after
        # 850,000 sequences with 100 units, 0.11 after 1.1M with 256 (with output dropout,
        # 2 read heads or a length curriculum slower still; batches of 32 no faster per
        # second); dropping Adam's rate to 1e-3 once the loss is low: 0.065 after 940,000.
        # Solved means below 0.1 bit errors per sequence (RESULTS.md).
        "sort": _fast(
            "sort",
            {"controller_size": 256},
            task_config=dataclasses.replace(PAPER["sort"].task_config, max_length=5),
            batch_size=16,
            eval_every=200,
            max_iter=1_000_000,
            target_error=0.1,
            lr_drop=LearningRateDrop(0.01, 1e-3, window=1000),
        ),
        # Solved means at most 1 bit per sequence above the Bayes-optimal predictor of the
        # same sequences (Task.measure). Seed 0 with batches of 16, Adam at 1e-3 and the
        # paper's head activations (tanh keys and add vectors: counts can go both ways) sat
        # near 48 bits above for 48,000 sequences, then learned to count: 3.9 above after
        # 80,000, 1.5 after 229,000 (880 s); the same with a fixed Glorot memory, 1.4. At a
        # constant 3e-4 from there it went on to 1.3 after 310,000. So the rate first dropped
        # to 3e-4 once the mean loss of 1,000 steps was below 0.47 nats per bit, where seed
        # 0's was about 8,000 steps in, 2.4 bits above. Over 5 seeds of 1,800 s it solved 1 (seed 3,
        # 272,000 sequences): every seed learned to count, some late, and seed 0 blew up at
        # the lower rate after reaching 1.5 (RESULTS.md). The slowest of them, seed 4, had
        # learned to count only after 288,000 sequences; with a learned initial memory, whose
        # slots a context's key can tell apart (as for priority sort), it was 5.2 bits above
        # after 70,400. Over 5 seeds of 1,800 s that solved 2 (336,000 and 380,800
        # sequences); two others learned early and then lost it at 1e-3 before the drop.
        # So the rate drops sooner, once the mean loss of 200 steps is below 0.5, which came
        # 700-7,200 sequences after each seed fell below 20 bits above (seed 3: at 76,080):
        # over 5 seeds of 1,800 s that solved 4 (median 409,600 sequences, 1,456 s), none of
        # which lost what it had learned; the fifth learned to count late (RESULTS.md).
        "ngrams": _batches_of_16_with_rate_drop(
            "ngrams", {"memory_init": "learned"}, target=1.0, loss_below=0.5, window=200
        ),
        # Solved means a cost of at most 10 bits per sequence (Task.measure). Seed 0, batches
        # of 16, Adam at 1e-3, the paper's head activations, 900 s each: with the constant
        # memory the cost stalled near 100 bits (88 with a fixed Glorot memory) after 320,000
        # sequences; with a learned initial memory, whose slots the write key can tell apart,
        # it wrote each vector to a slot picked by its priority and read them back in order,
        # jumping by content over the empty slots (as in the paper's Figure 17): 36 after
        # 528,000, 28.7 after 1.09M (860 s).
        # Two heads of each kind (78 after 291,000, where one of each made 48), a dense
        # controller (56 after 512,000) and 256 units (slower per second) did worse. Going on
        # at 3e-4 from there: 22-23 within 20,000 steps. So the rate drops to 3e-4 once the
        # mean loss of 1,000 steps is below 0.18 nats per bit, where seed 0's was about 43,000
        # steps (580 s) in.
        "priority_sort": _batches_of_16_with_rate_drop(
            "priority_sort", {"memory_init": "learned"}, target=10.0, loss_below=0.18
        ),
        # Semilengths from 1-5, doubled (to 80) each time the mean loss of 200 steps is below
        # 1e-3; scored, and stopped, at semilengths 1-80. Seed 0 reached 80 after 20,000
        # sequences and made 0 errors there after 25,600 (35 s); capped at 40 it made 0.04
        # errors per sequence at 40 (RESULTS.md).
        "dyck_words": _fast(
            "dyck_words",
            batch_size=4,
            eval_every=800,
            curriculum=LengthCurriculum(1e-3, cap=80, window=200),
        ),
    },
)
"""The fast recipe for every task."""
