"""What every trainer shares (DESIGN.md): the trainer/optimizer config keys and their checks, one checkpoint
scheme with `resume=auto`, one run log, one seeded resumable sampler, the learning-rate schedules, and the
training loop itself. A trainer adds only its model, data and loss (`Task`) and calls `fit`.

Imports of accelerate/transformers happen inside the functions that need them, so importing this package
stays cheap.
"""

from .checkpoint import Checkpointer, list_checkpoints, read_state
from .config import OptimConfig, TrainerConfig, build_typed, check_optim, check_renamed, check_trainer
from .loop import FitResult, Task, fit, keep_items, make_accelerator
from .runlog import RunLog, read_log
from .sampler import MixedStream, Shuffled, StepBatchSampler, seeded
from .schedule import build_lr_scheduler, build_optimizer, parameter_groups

__all__ = [
    "Checkpointer", "FitResult", "MixedStream", "OptimConfig", "RunLog", "Shuffled", "StepBatchSampler", "Task",
    "TrainerConfig", "build_lr_scheduler", "build_optimizer", "build_typed", "check_optim", "check_renamed",
    "check_trainer", "fit", "keep_items", "list_checkpoints", "make_accelerator", "parameter_groups", "read_log",
    "read_state", "seeded",
]
