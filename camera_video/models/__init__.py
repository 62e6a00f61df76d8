"""The camera-conditioned CogVideoX transformer and its parts."""

from .build import (
    build_camera_transformer,
    load_camera_weights,
    parameter_report,
    read_camera_config,
    save_camera_weights,
)
from .camera_encoder import CameraEncoder
from .config import BASE_5B_I2V, BASE_SMALL, BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig
from .control_branch import ControlBranch
from .rotary import rotary_embedding
from .transformer import CameraVideoTransformer

__all__ = [
    "BASE_5B_I2V", "BASE_SMALL", "BASE_TINY", "SCHEDULER_5B_I2V",
    "CameraControlConfig", "CameraEncoder", "CameraVideoTransformer",
    "ControlBranch", "build_camera_transformer", "load_camera_weights", "parameter_report", "read_camera_config",
    "rotary_embedding", "save_camera_weights",
]
