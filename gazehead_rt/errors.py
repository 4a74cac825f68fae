"""Typed exceptions of the public API."""

from __future__ import annotations

__all__ = ["ModelError", "BackendError"]


class ModelError(ValueError):
    """A model file is missing, malformed, or does not match the runtime's format."""


class BackendError(RuntimeError):
    """A compute backend (CUDA, TensorRT) failed or is not available in this build."""
