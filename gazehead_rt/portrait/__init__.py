"""Gaze-controlled face video from one photo (docs/portrait.md).

``pip install "gazehead_rt[portrait]"`` brings MediaPipe (the face mesh), OpenCV and moderngl.
"""

from __future__ import annotations

from .animator import PortraitAnimator, RenderRange
from .landmarks import NoFaceError, PortraitDependencyError
from .raster import GLUnavailableError

__all__ = [
    "GLUnavailableError",
    "NoFaceError",
    "PortraitAnimator",
    "PortraitDependencyError",
    "RenderRange",
]
