"""Files of the command-line tools: gaze sequences in (.csv, .npz), results out atomically,
errors as one line."""

from __future__ import annotations

import csv
import os
import tempfile
from typing import Callable

import numpy as np


def read_gaze_file(path: str) -> np.ndarray:
    """(T, N, 2) radians from .npz (array 'gaze', (T, 2) or (T, N, 2)) or .csv
    (columns gaze_pitch, gaze_yaw, and optionally agent: rows in frame order per agent)."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            if "gaze" not in z:
                raise ValueError(f"{path}: no array named 'gaze'")
            g = np.asarray(z["gaze"], np.float64)
        if g.ndim == 2:
            g = g[:, None, :]
        if g.ndim != 3 or g.shape[-1] != 2:
            raise ValueError(f"{path}: 'gaze' must be (T, 2) or (T, N, 2), got {g.shape}")
        return g
    # utf-8-sig: a CSV saved by Excel starts with a byte-order mark before the first column name
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    for col in ("gaze_pitch", "gaze_yaw"):
        if col not in rows[0]:
            raise ValueError(f"{path}: missing column '{col}' (have {list(rows[0])})")
    agents = sorted({int(r.get("agent") or 0) for r in rows})
    per = {a: [] for a in agents}
    for i, r in enumerate(rows, start=2):
        try:
            per[int(r.get("agent") or 0)].append((float(r["gaze_pitch"]), float(r["gaze_yaw"])))
        except ValueError as e:
            raise ValueError(f"{path}: line {i}: {e}") from None
    lengths = {len(v) for v in per.values()}
    if len(lengths) != 1:
        raise ValueError(f"{path}: agents have different numbers of frames {sorted(lengths)}")
    return np.stack([np.asarray(per[a]) for a in agents], axis=1)


def one_line(e: BaseException) -> str:
    """An error as one line of at most 500 characters, for command-line messages."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def write_atomically(path: str, write: Callable[[int, str], None], *, suffix: str = "") -> None:
    """Create a fresh temp file beside ``path`` (O_EXCL under a unique name, so a
    pre-existing file or link is never followed), give it the usual mode, call
    ``write(fd, tmp_path)`` (which owns and closes ``fd``), then rename it over ``path``. The
    temp file is removed on every failure (full disk, ``path`` a directory, ...). ``suffix``
    ends the temp name (writers that pick a format by extension need it)."""
    fd, tmp = tempfile.mkstemp(
        dir=os.path.dirname(path) or ".",
        prefix=os.path.basename(path) + ".",
        suffix=".tmp" + suffix,
    )
    try:
        umask = os.umask(0)  # mkstemp makes the file 0600; give it the usual mode
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        write(fd, tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
