"""Where the shared data and the shipped model live, resolved from the repository root."""

from __future__ import annotations

import os
import subprocess

__all__ = [
    "REPO_ROOT",
    "shared_data_dir",
    "sgaze_dir",
    "shared_videos_dir",
    "default_model_path",
    "code_revision",
]

#: The checkout root when run from the source tree (``python -m training.train``); inside an
#: installed wheel (``gazehead_rt.training``) it is the installed ``gazehead_rt`` folder.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Environment variable that overrides the location of ``../shared/data``.
DATA_ENV = "GAZEHEAD_DATA"


def shared_data_dir(override: str | None = None) -> str:
    """``override``, else ``$GAZEHEAD_DATA``, else ``../shared/data`` beside the source checkout
    (running from the tree) or beside the current directory (an installed package run from a
    checkout's root)."""
    d = override or os.environ.get(DATA_ENV)
    if not d:
        candidates = [
            os.path.join(REPO_ROOT, "..", "shared", "data"),
            os.path.join(os.getcwd(), "..", "shared", "data"),
        ]
        d = next((c for c in candidates if os.path.isdir(c)), candidates[0])
    return os.path.normpath(d)


def sgaze_dir(override: str | None = None) -> str:
    return os.path.join(shared_data_dir(override), "sgaze")


def shared_videos_dir(override: str | None = None) -> str:
    """The ``videos`` folder of the shared data (face videos for ``training.extract``)."""
    return os.path.join(shared_data_dir(override), "videos")


def default_model_path() -> str:
    """The shipped model: the checkout's copy from the source tree, else the installed one."""
    in_tree = os.path.join(REPO_ROOT, "gazehead_rt", "models", "default.safetensors")
    if os.path.isfile(in_tree):
        return in_tree
    from gazehead_rt import default_model_path as installed  # noqa: PLC0415

    return installed()


def code_revision() -> str:
    """Git hash of the working tree, with ``+dirty`` when it has uncommitted changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
