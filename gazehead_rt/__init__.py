"""gazehead_rt: real-time gaze-driven head motion."""

from .errors import BackendError, ModelError

__all__ = ["BackendError", "ModelError"]
