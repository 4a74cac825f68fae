"""Where the shared data and the shipped model live, resolved from the repository root."""

from __future__ import annotations

import os
import subprocess

__all__ = ["REPO_ROOT", "shared_data_dir", "sgaze_dir", "default_model_path", "code_revision"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Environment variable that overrides the location of ``../shared/data``.
DATA_ENV = "GAZEHEAD_DATA"


def shared_data_dir(override: str | None = None) -> str:
    """``override``, else ``$GAZEHEAD_DATA``, else ``../shared/data`` beside the source checkout
    (running from the tree) or beside the current directory (an installed package run from a
    checkout's root)."""
    d = override or os.environ.get(DATA_ENV)
    if not d:
        candidates = [os.path.join(REPO_ROOT, "..", "shared", "data"),
                      os.path.join(os.getcwd(), "..", "shared", "data")]
        d = next((c for c in candidates if os.path.isdir(c)), candidates[0])
    return os.path.normpath(d)


def sgaze_dir(override: str | None = None) -> str:
    return os.path.join(shared_data_dir(override), "sgaze")


def default_model_path() -> str:
    return os.path.join(REPO_ROOT, "gazehead_rt", "models", "default.safetensors")


def code_revision() -> str:
    """Git hash of the working tree, with ``+dirty`` when it has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
