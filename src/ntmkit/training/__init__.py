"""The training loop and its rules, above `ntmkit.run` (what a run is on disk).

``trainer``        `Trainer`: the loop, its checkpoints, resume
``state``          `TrainingState`: everything the loop carries from step to step
``resume``         what a resumed run may change (the library and the CLI ask here)
``decisions``      what the loop does after an evaluation, as a pure function
``guard``          non-finite losses and gradients never reach the weights
``optim``          Graves' RMSProp and the optimisers by name
``process_state``  the process-wide settings the loop sets and restores
``tensorboard``    the optional TensorBoard log
``nan_hunt``       a search for settings that make training non-finite
"""
