"""gazehead_rt: real-time gaze-driven head motion.

>>> import gazehead_rt as gh
>>> gen = gh.Generator()              # default model, one agent
>>> head = gen.step([0.1, 0.3])       # gaze (pitch, yaw) rad -> head (1, 3) rad; gen.eye -> (1, 2)

Angles are radians; body frame x forward, y left, z up (see gazehead_rt.geometry).
"""

from .errors import BackendError, ModelError
from .generator import (
    Generator,
    available_backends,
    build_info,
    default_model_path,
    philox_normal,
)
from .model_file import ModelConfig, load_model

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "Generator",
    "ModelConfig",
    "ModelError",
    "available_backends",
    "build_info",
    "default_model_path",
    "load_model",
    "philox_normal",
]
