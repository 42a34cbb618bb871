"""The examples in ``examples/`` run as their docstrings say, shortened to a small budget, and
print what they promise. (``examples/brackets.py`` is trained, resumed and swept by
``tests/test_own_tasks.py``.)"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _run(script: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=cwd, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_npz_example_writes_its_data_trains_on_it_and_scores_the_validation_file(tmp_path):
    out = _run("npz_dataset.py", "--max-iter", "30", "--eval-every", "10", "--no-progress",
               "--batch-size", "8", "--memory", "16x8", cwd=tmp_path)  # fmt: skip
    assert (tmp_path / "data" / "parity-train.npz").is_file()
    assert "Training data (fast)" in out and "bit errors/seq" in out
    run = tmp_path / "runs" / "parity"
    assert (run / "eval.json").is_file() and (run / "dashboard.png").is_file()


def test_the_layer_example_trains_a_users_model_and_reports_its_accuracy(tmp_path):
    out = _run("layer_in_model.py", "--steps", "40", cwd=tmp_path)
    line = out.strip().splitlines()[-1]
    assert line.startswith("accuracy on fresh sequences: ") and line.endswith("%")
