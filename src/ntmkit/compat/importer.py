"""Turn an ntm-lasagne model file into an ordinary ntmkit run folder.

The folder holds ``config.json`` (the ``lasagne`` preset of the task, with the task settings
the model was trained with and the model options read from the file) and ``checkpoint.pt``
(the weights at step 0, no optimiser state), so ``ntmkit eval``, ``plot``, ``animate`` and
``report`` treat it like any trained run.
"""

import dataclasses
import os
from pathlib import Path

from ..checkpoint import save_checkpoint
from ..presets import preset
from ..runs import RunFolder
from .lasagne import load, training_settings


def import_lasagne_run(model_path: str | os.PathLike, task: str, out: str | os.PathLike) -> Path:
    """Load ``model_path`` safely and write it as a run folder ``out``; returns ``out``."""
    model = load(model_path, task=task)
    model_options = {
        k: v for k, v in model.config.to_dict().items() if k not in ("input_size", "output_size")
    }
    run = dataclasses.replace(
        preset(task, "lasagne"),
        task_fields=training_settings(task),
        model=model_options,
        preset="lasagne-import",
    )
    if run.ntm_config() != model.config:
        raise ValueError(f"{model_path}: its model does not fit task {task!r} as configured")
    folder = RunFolder(Path(out))
    folder.root.mkdir(parents=True, exist_ok=True)
    folder.config.write_text(run.to_json())
    save_checkpoint(
        folder.checkpoint,
        {
            "config": run.to_json(),
            "model": model.state_dict(),
            "step": 0,
            "sequences": 0,
            "source": str(model_path),
        },
    )
    return folder.root
