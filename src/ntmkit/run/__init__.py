"""What a run is on disk: its configs, its folder, and what is kept in it.

``config``        `RunConfig`: the task, the `NTMConfig` and the `TrainConfig`, as typed JSON
``train_config``  `TrainConfig`, the optimisation and bookkeeping options
``schedules``     the learning-rate drop, length curriculum and restart rules
``folder``        `RunFolder` and its files; `load_run`; the rule for a new run's folder
``checkpoint``    checkpoints written atomically and read without running code
``log``           ``metrics.jsonl``'s typed records
``lock``          one writer per run folder
``files``         atomic writes, and errors that name the file
``metrics``       bit errors, cost in bits, the training losses
``evaluate``      scoring a model on a task's sequences; generalisation sweeps

Nothing here trains: the loop is `ntmkit.training`.
"""
