"""A run folder written by ntmkit before the package was laid out by layer (commit 6adf345:
``ntmkit.train``, ``ntmkit.runs``, ... at the top) resumes with today's code and trains on
with the losses it would have had without the stop.

The fixture (``tests/fixtures/run_0_1``) was made at that commit with the tiny copy run of
``tests/tiny_runs.py`` (``max_iter=12, checkpoint_every=3``, and a learning-rate drop below a
mean loss of 0.72 over 2 steps, which falls due at step 8): one run trained whole, whose losses
are ``uninterrupted_losses.json``, and one stopped after step 6, the folder ``run``. Losses are
compared to float32 rounding, since another CPU may round the same sums differently.
"""

import json
import shutil
from pathlib import Path

import pytest

from ntmkit.run.log import StepRecord, read_log
from ntmkit.training.trainer import Trainer

FIXTURE = Path(__file__).parent / "fixtures" / "run_0_1"


def test_a_run_folder_of_the_old_layout_resumes_with_the_losses_it_would_have_had(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE / "run", run)
    trainer = Trainer(None, run, resume=True)
    assert trainer.step == 6 and trainer.state.lr.value == trainer.run.train.lr
    trainer.fit(progress=False)
    losses = [r.loss for r in read_log(run / "metrics.jsonl") if isinstance(r, StepRecord)]
    expected = json.loads((FIXTURE / "uninterrupted_losses.json").read_text())
    assert losses == pytest.approx(expected, rel=1e-5)
    assert trainer.state.lr.value == trainer.run.train.lr_drop.low_lr  # the drop came at step 8
