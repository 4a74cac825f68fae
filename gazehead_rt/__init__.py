"""gazehead_rt: real-time gaze-driven head motion.

>>> import gazehead_rt as gh
>>> gen = gh.Generator()              # default model, one agent
>>> head = gen.step([0.1, 0.3])       # gaze (pitch, yaw) rad -> head (1, 3) rad; gen.eye -> (1, 2)

Angles are radians; body frame x forward, y left, z up (see gazehead_rt.geometry and
gazehead_rt.frames for engine conventions). Importing the package touches no GPU and does
not load the compiled core until it is needed.
"""

from . import frames, geometry
from .errors import BackendError, ModelError, StateError
from .generator import (
    Generator,
    available_backends,
    build_info,
    default_model_path,
    philox_normal,
)
from .geometry import look_at
from .limits import HeadLimiter, HeadLimits, LimitedPose
from .model_file import ModelConfig, load_model
from .rate import RateAdapter
from .style import STYLE_NAMES, estimate_style

__version__ = "0.3.0"


def __getattr__(name: str):
    # the portrait animator needs the optional [portrait] extra (MediaPipe, OpenCV, moderngl):
    # imported on first use, so `import gazehead_rt` stays light
    if name == "PortraitAnimator":
        from .portrait import PortraitAnimator  # noqa: PLC0415

        return PortraitAnimator
    raise AttributeError(f"module 'gazehead_rt' has no attribute {name!r}")


__all__ = [
    "BackendError",
    "Generator",
    "HeadLimiter",
    "HeadLimits",
    "LimitedPose",
    "ModelConfig",
    "ModelError",
    "PortraitAnimator",
    "RateAdapter",
    "StateError",
    "STYLE_NAMES",
    "available_backends",
    "build_info",
    "default_model_path",
    "estimate_style",
    "frames",
    "geometry",
    "load_model",
    "look_at",
    "philox_normal",
]
