"""Files of the command-line tools: gaze sequences in (.csv, .npz), results out atomically,
errors as one line."""

from __future__ import annotations

import csv
import os
import stat
import tempfile
from typing import Callable

import numpy as np

#: Most gaze samples (frames x agents) an input file may hold: 2**24 is 155 hours of one
#: agent at 30 fps, 256 MB as float64. Checked while reading, so memory stays bounded.
MAX_GAZE_SAMPLES = 1 << 24


def _npz_gaze(path: str) -> np.ndarray:
    """The array 'gaze' of an .npz, its shape and dtype checked from the .npy header before
    anything is decompressed (a small archive can expand without bound)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        if "gaze.npy" not in z.namelist():
            raise ValueError(f"{path}: no array named 'gaze'")
        with z.open("gaze.npy") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"{path}: 'gaze' has an unsupported .npy version {version}")
            if dtype.hasobject or dtype.kind not in "fiu":
                raise ValueError(f"{path}: 'gaze' must hold numbers, got dtype {dtype}")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if count > 2 * MAX_GAZE_SAMPLES:
                raise ValueError(
                    f"{path}: 'gaze' {tuple(shape)} holds over {MAX_GAZE_SAMPLES} samples"
                )
            data = f.read(count * dtype.itemsize)  # exactly the array's bytes, no more
            if len(data) != count * dtype.itemsize:
                raise ValueError(f"{path}: 'gaze' is truncated")
    a = np.frombuffer(data, dtype=dtype)
    return a.reshape(shape, order="F" if fortran else "C").astype(np.float64)


def read_gaze_file(path: str) -> np.ndarray:
    """(T, N, 2) radians from .npz (array 'gaze', (T, 2) or (T, N, 2)) or .csv
    (columns gaze_pitch, gaze_yaw, and optionally agent: rows in frame order per agent).
    Read in a stream with at most :data:`MAX_GAZE_SAMPLES` samples."""
    if path.endswith(".npz"):
        g = _npz_gaze(path)
        if g.ndim == 2:
            g = g[:, None, :]
        if g.ndim != 3 or g.shape[-1] != 2:
            raise ValueError(f"{path}: 'gaze' must be (T, 2) or (T, N, 2), got {g.shape}")
        return g
    from array import array

    per: dict[int, array] = {}
    samples = 0
    # utf-8-sig: a CSV saved by Excel starts with a byte-order mark before the first column name
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for col in ("gaze_pitch", "gaze_yaw"):
            if col not in (reader.fieldnames or []):
                if reader.fieldnames is None:
                    raise ValueError(f"{path}: no rows")
                raise ValueError(f"{path}: missing column '{col}' (have {reader.fieldnames})")
        for i, r in enumerate(reader, start=2):
            try:
                agent = int(r.get("agent") or 0)
                pitch, yaw = float(r["gaze_pitch"]), float(r["gaze_yaw"])
            except (TypeError, ValueError) as e:
                raise ValueError(f"{path}: line {i}: {e}") from None
            samples += 1
            if samples > MAX_GAZE_SAMPLES:
                raise ValueError(f"{path}: over {MAX_GAZE_SAMPLES} gaze samples")
            per.setdefault(agent, array("d")).extend((pitch, yaw))
    if not per:
        raise ValueError(f"{path}: no rows")
    agents = sorted(per)
    lengths = {len(per[a]) // 2 for a in agents}
    if len(lengths) != 1:
        raise ValueError(f"{path}: agents have different numbers of frames {sorted(lengths)}")
    return np.stack([np.frombuffer(per[a], np.float64).reshape(-1, 2) for a in agents], axis=1)


def one_line(e: BaseException) -> str:
    """An error as one line of at most 500 characters, for command-line messages."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def write_atomically(path: str, write: Callable[[int, str], None], *, suffix: str = "") -> None:
    """Create a fresh temp file beside ``path`` (O_EXCL under a unique name, so a
    pre-existing file or link is never followed), give it the usual mode, call
    ``write(fd, tmp_path)`` (which owns and closes ``fd``), then rename it over ``path``. The
    temp file is removed on every failure (full disk, ``path`` a directory, ...). ``suffix``
    ends the temp name (writers that pick a format by extension need it).

    ``path`` must be a regular file or not exist (a symlink is replaced, not followed): a
    FIFO, a device or a directory is refused with a ValueError before anything is written,
    since renaming over it would silently replace it with a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        raise ValueError(f"{path}: is {kind}; outputs are written to regular files only")
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
