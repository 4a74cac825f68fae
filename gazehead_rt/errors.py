"""Typed exceptions of the public API."""

from __future__ import annotations

__all__ = ["ModelError", "StateError", "BackendError"]


class ModelError(ValueError):
    """A model file is missing, malformed, or does not match the runtime's format."""


class StateError(ValueError):
    """A saved state (``Generator.load_state`` bytes) is damaged, of another version, or does not
    fit this generator (another model file, agent count or sizes); nothing was changed."""


class BackendError(RuntimeError):
    """A compute backend (CUDA, TensorRT) failed or is not available in this build."""
