"""The camera-conditioned CogVideoX transformer and its parts."""

from .build import build_camera_transformer, load_base, load_camera_into, load_camera_transformer, parameter_report
from .camera_encoder import CameraEncoder
from .camera_model import CameraControlModel
from .config import BASE_5B_I2V, BASE_SMALL, BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig
from .control_branch import ControlBranch
from .pose_stream import CommunicationBlock, PoseStream, PoseStreamConfig, comm_schedule
from .rotary import rotary_embedding
from .transformer import CameraVideoTransformer

__all__ = [
    "BASE_5B_I2V", "BASE_SMALL", "BASE_TINY", "SCHEDULER_5B_I2V",
    "CameraControlConfig", "CameraControlModel", "CommunicationBlock", "PoseStream", "PoseStreamConfig",
    "comm_schedule", "CameraEncoder", "CameraVideoTransformer", "ControlBranch",
    "build_camera_transformer", "load_base", "load_camera_into", "load_camera_transformer", "parameter_report",
    "rotary_embedding",
]
