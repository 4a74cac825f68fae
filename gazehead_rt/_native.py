"""Lazy access to the compiled core, so ``import gazehead_rt`` never fails or touches a GPU."""

from __future__ import annotations

import functools
from types import ModuleType

from .errors import BackendError


@functools.cache
def native() -> ModuleType:
    try:
        from . import _C
    except ImportError as e:  # a source checkout that was never built, or a broken install
        raise BackendError(
            "gazehead_rt's compiled core (gazehead_rt._C) is not available: "
            f"{e}. Install the package with `pip install .` (or `pip install "
            "--no-build-isolation -ve .` for development) so the extension is built."
        ) from None
    return _C
