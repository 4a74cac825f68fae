"""Where the C ABI library (libgazehead) and its header sit inside the installed package.

The wheel ships ``gazehead_rt/native/lib/libgazehead.so`` (``gazehead.dll`` on Windows,
``libgazehead.dylib`` on macOS) and ``gazehead_rt/native/include/gazehead/gazehead.h``, so a
game-engine plugin or a C/C++ host can use the runtime from a ``pip install`` without
Python at run time. See ``docs/engines.md``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["native_library_path", "native_include_dir", "NATIVE_LIBRARY_NAME"]

if sys.platform == "win32":
    NATIVE_LIBRARY_NAME = "gazehead.dll"
elif sys.platform == "darwin":
    NATIVE_LIBRARY_NAME = "libgazehead.dylib"
else:
    NATIVE_LIBRARY_NAME = "libgazehead.so"

_NATIVE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "native")


def native_library_path() -> str | None:
    """Absolute path of the shipped C library, or None when this install has none (a build
    with ``GAZEHEAD_BUILD_CAPI=OFF``, or a source tree that was never built)."""
    path = os.path.join(_NATIVE_DIR, "lib", NATIVE_LIBRARY_NAME)
    return path if os.path.isfile(path) else None


def native_include_dir() -> str | None:
    """The folder to add to a C compiler's include path (it holds ``gazehead/gazehead.h``),
    or None when the header is not shipped."""
    inc = os.path.join(_NATIVE_DIR, "include")
    return inc if os.path.isfile(os.path.join(inc, "gazehead", "gazehead.h")) else None
