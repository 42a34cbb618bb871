"""Turn an ntm-lasagne model file into an ordinary ntmkit run folder.

The folder holds ``config.json`` (the ``lasagne`` preset of the task, whose task settings are
those the shipped model was trained with, and the model options read from the file) and
``checkpoint.pt`` (the weights at step 0, no optimiser state), so ``ntmkit eval``, ``plot``,
``animate`` and ``report`` treat it like any trained run.
"""

import dataclasses
import os
from pathlib import Path

from ..presets import preset
from ..run.checkpoint import save_checkpoint
from ..run.files import write_text_atomically
from ..run.folder import RunFolder
from ..vocabulary import TaskName
from .lasagne import load


def import_lasagne_run(
    model_path: str | os.PathLike[str], task: TaskName, out: str | os.PathLike[str]
) -> Path:
    """Load ``model_path`` safely and write it as a run folder ``out``; returns ``out``."""
    model = load(model_path, task=task)
    # RunConfig checks that the file's input and output sizes are the task's.
    run = dataclasses.replace(preset(task, "lasagne"), model=model.config, preset="lasagne-import")
    folder = RunFolder(Path(out))
    folder.root.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder.config, run.to_json())
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
