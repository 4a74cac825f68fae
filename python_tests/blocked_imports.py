"""Run Python in a fresh interpreter where some modules cannot be imported.

A meta-path finder placed first on ``sys.meta_path`` raises ``ModuleNotFoundError`` for the
blocked names and their submodules, as if the package were not installed, whether or not it
is installed here. The child runs outside the checkout so the installed package is what runs.
"""

from __future__ import annotations

import subprocess
import sys

_PRELUDE = """\
import sys

class _Blocked:
    names = {names!r}

    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in self.names):
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None

sys.meta_path.insert(0, _Blocked())
"""


def run_blocked(code: str, blocked: list[str], cwd, args: list[str] | None = None):
    """Run ``code`` with ``blocked`` modules unimportable; returns the CompletedProcess."""
    prelude = _PRELUDE.format(names=tuple(blocked))
    return subprocess.run(
        [sys.executable, "-c", prelude + code, *(args or [])],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
