"""ntm-lasagne's recipes, one per task: the one table the ``lasagne`` preset and the importer share.

ntm-lasagne (github.com/snipsco/ntm-lasagne, the Theano library ntmkit succeeds) trained every
model at batch size 1 with a dense controller of 100 units unless said otherwise, memory
128 x 20, one write and one read head, ReLU keys and add vectors, Lasagne's initialisation
(Glorot-uniform weights per layer, zero biases: ``layer_init="lasagne"``), and the loss on
every step.
Each `LasagneRecipe` holds what differs per task: the task settings its shipped model was
trained with (the starting lengths where a curriculum grew them), the controller, the memory's
initialisation, the optimiser and its schedule, and the shipped model's file.

Where they say something, the recipes follow ntm-lasagne's models README (``models/README.rst``,
which lists how each shipped model was trained), except for the memory's initialisation (see
below); where it is silent, the task's example script
(``examples/*-task.py`` at ntm-lasagne's last commit). The two disagree here:

* memory initialisation: the README lists a fixed ``GlorotUniform()`` for copy, repeat copy,
  upside-down copy and reversed copy; every script uses ``Constant(1e-6)``, and the shipped
  ``copy.npy`` and ``reversed-copy.npy`` themselves hold a constant 1e-6 memory. Here the files
  win, by measurement: with the Glorot memory copy (seed 0) learned lengths 1-5 by content
  after 288,250 sequences but made 36 bit errors per sequence at length 10, while with the
  constant memory seed 1 learned it in 2,000 sequences with 0 errors at every length up to 120
  (both with the 1e-6 clip below).
  ``--set model.memory_init=glorot`` gives the README's choice.
* the loss's clip: the README truncates the predictions to [1e-10, 1 - 1e-10], the scripts at
  ntm-lasagne's last commit to [1e-6, 1 - 1e-6]. The README wins where the model was trained
  before the scripts changed (commit 9f7b97b, February 25, 2016: copy, repeat copy, associative
  recall, Dyck words): their scripts then clipped at 1e-10 too, on float64 inputs
  (``T.dtensor3s``). Reversed copy, upside-down copy and sort were trained in 2016's summer by
  float32 scripts clipping at 1e-6, where 1 - 1e-10 would round to 1 and a confidently wrong 1
  would cost an infinite loss; they keep 1e-6 (``LasagneRecipe.loss_clip``; ntmkit clips the
  logits, so 1e-10 works in float32: `ntmkit.run.metrics.masked_clipped_bce`).
* repeat copy: the README trains with Graves' RMSProp at 1e-3, the script with Adam at 5e-4.
* Dyck words: the README uses Adam at 1e-3 and doubles the semilength up to 40, the script
  Adam at 5e-4 up to 20.
* reversed copy: the README says "Recurrent output layer"; the shipped file has a dense one
  (what `ntmkit.compat.lasagne` loads), so the README's line is taken as a slip.

The README has no section for sort (the script's recipe) nor for associative recall's learning
rate drop to 1e-5 (the script's, kept).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import LASAGNE_ACTIVATIONS, NTMConfig
from ..numerics import LASAGNE_PROBABILITY_CLIP, LASAGNE_README_PROBABILITY_CLIP
from ..run.config import RunConfig, model_for
from ..run.schedules import LearningRateDrop, LengthCurriculum
from ..run.train_config import TrainConfig
from ..tasks.associative_recall import AssociativeRecallConfig
from ..tasks.copy import CopyConfig
from ..tasks.dyck_words import DyckWordsConfig
from ..tasks.ngrams import NGramsConfig
from ..tasks.priority_sort import PrioritySortConfig
from ..tasks.repeat_copy import RepeatCopyConfig
from ..vocabulary import (
    TASK_NAMES,
    ControllerKind,
    MemoryInit,
    OptimizerName,
    TaskName,
    registry,
)

LASAGNE_MODEL_ACTIVATIONS = dataclasses.replace(LASAGNE_ACTIVATIONS, key="relu", add="relu")
"""The head activations of all seven shipped models: ntm-lasagne's defaults, except that their
example scripts replace the clipped-linear key and add vectors with ReLU ones."""


@dataclass(frozen=True)
class LasagneRecipe:
    """How ntm-lasagne trained one task (see the module doc for what every task shares)."""

    task_config: Any  # the task as the shipped model was trained (starting lengths)
    controller: ControllerKind = "dense"
    memory_init: MemoryInit = "constant"  # "constant" is 1e-6; "glorot" a fixed Glorot draw
    optimizer: OptimizerName = (
        "graves_rmsprop_legacy"  # its graves_rmsprop (see ntmkit.training.optim)
    )
    lr: float = 1e-3
    # The README's 1e-10, which the scripts of the models trained before February 25, 2016 had
    # too (in float64); the later scripts, in float32, clip at 1e-6 (see the module doc).
    loss_clip: float = LASAGNE_README_PROBABILITY_CLIP
    lr_drop: LearningRateDrop | None = None
    curriculum: LengthCurriculum | None = None
    model_file: str | None = None  # the shipped model in ntm-lasagne's models/ folder


_COPY = CopyConfig(size=8, min_length=1, max_length=5, end_marker=True)

LASAGNE_RECIPES: dict[str, LasagneRecipe] = registry(
    TaskName,
    {
        "copy": LasagneRecipe(_COPY, model_file="copy.npy"),
        "reversed_copy": LasagneRecipe(
            _COPY,
            controller="rnn",
            loss_clip=LASAGNE_PROBABILITY_CLIP,
            model_file="reversed-copy.npy",
        ),
        "upside_down_copy": LasagneRecipe(
            _COPY, loss_clip=LASAGNE_PROBABILITY_CLIP, model_file="upsidedown-copy.npy"
        ),
        "sort": LasagneRecipe(
            _COPY, controller="gru", loss_clip=LASAGNE_PROBABILITY_CLIP, model_file="sort.npy"
        ),
        # No end marker: the shipped repeat-copy model was trained before ntm-lasagne's
        # generators had one (examples/repeat-copy.py at its training commit 90d72d6 sets
        # none), and imported without it, it makes 0 bit errors.
        "repeat_copy": LasagneRecipe(
            RepeatCopyConfig(
                size=8,
                min_length=3,
                max_length=5,
                min_repeats=1,
                max_repeats=5,
                layout="lasagne",
                repeat_encoding="unary",
                end_marker=False,
            ),
            model_file="repeat-copy.npy",
        ),
        "associative_recall": LasagneRecipe(
            AssociativeRecallConfig(
                size=8, min_item_length=1, max_item_length=3, min_items=2, max_items=6
            ),
            optimizer="adam",
            lr=1e-4,
            lr_drop=LearningRateDrop(0.01, 1e-5, window=500),
            model_file="associative-recall.npy",
        ),
        # Semilengths 1 to 5, the maximum doubled each time the mean loss over 500 samples is
        # below 1e-4, up to 40 (the README; the example script stops at 20).
        "dyck_words": LasagneRecipe(
            DyckWordsConfig(min_length=1, max_length=5),
            optimizer="adam",
            lr=1e-3,
            curriculum=LengthCurriculum(1e-4, cap=40, window=500),
            model_file="dyck-words.npy",
        ),
        # ntm-lasagne had no script for these two: its generator defaults, the paper's rate.
        "ngrams": LasagneRecipe(
            NGramsConfig(table="fixed"), lr=3e-5, loss_clip=LASAGNE_PROBABILITY_CLIP
        ),
        "priority_sort": LasagneRecipe(
            PrioritySortConfig(), lr=3e-5, loss_clip=LASAGNE_PROBABILITY_CLIP
        ),
    },
)
"""ntm-lasagne's recipe for every task; ``model_file`` is None where it shipped no model."""

SHIPPED_TASKS: tuple[TaskName, ...] = tuple(
    task for task in TASK_NAMES if LASAGNE_RECIPES[task].model_file is not None
)
"""The seven tasks ntm-lasagne shipped a trained model for."""


def lasagne_model(recipe: LasagneRecipe) -> NTMConfig:
    """The `NTMConfig` ntm-lasagne's script built for a recipe (lasagne semantics)."""
    options = {
        "controller": recipe.controller,
        "memory_init": recipe.memory_init,
        "layer_init": "lasagne",
        "activations": LASAGNE_MODEL_ACTIVATIONS,
    }
    return model_for(recipe.task_config, options)


def lasagne_train(recipe: LasagneRecipe) -> TrainConfig:
    """The training options of a recipe: batch 1, the clipped cross-entropy on every step at
    the recipe's clip, no gradient clipping."""
    return TrainConfig(
        batch_size=1,
        score="all",
        loss="clipped_bce",
        loss_clip=recipe.loss_clip,
        clip=0.0,
        max_iter=1_000_000,
        optimizer=recipe.optimizer,
        lr=recipe.lr,
        lr_drop=recipe.lr_drop,
        curriculum=recipe.curriculum,
    )


def lasagne_preset(task: TaskName) -> RunConfig:
    """The ``lasagne`` preset of ``task``: its `LasagneRecipe` as a `RunConfig`."""
    recipe = LASAGNE_RECIPES[task]
    model, train = lasagne_model(recipe), lasagne_train(recipe)
    return RunConfig(task, recipe.task_config, model, train, preset="lasagne")
