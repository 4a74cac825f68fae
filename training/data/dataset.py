"""The sequence data format of docs/design.md §3: one reader and writer for every producer.

A dataset is a folder holding ``clip_<id>.npz`` files and a ``manifest.json``::

    clip_<id>.npz    gaze float32 (T, 2) rad, head float32 (T, 3) rad, valid bool (T,),
                     fps float64 scalar; optional audio_features float32 (T, F)
    manifest.json    {"format_version": 1, "name": ..., "clips": [{"id", "file", "source",
                      "subject", "fps", "frames", "valid_fraction", "split"}, ...], ...}

Angles follow docs/design.md §2 (radians; gaze (pitch, yaw) in the body frame, head (pitch, yaw,
roll)). Frames where ``valid`` is False carry no usable gaze/head (tracking lost, blink);
their values are kept finite (held or interpolated by the producer) so that arrays can be
sliced without NaN checks, but nothing may be learned from them.

Producers (SGaze importer, video extraction, procedural generator) build :class:`Clip`
objects, call :func:`write_clip` for each and :func:`write_manifest` once. Consumers call
:func:`load_dataset`. Splits are assigned per clip (by subject or source file), never by
frame.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "FORMAT_VERSION",
    "SPLITS",
    "Clip",
    "DatasetError",
    "clip_path",
    "write_clip",
    "read_clip",
    "manifest_entry",
    "write_manifest",
    "read_manifest",
    "load_dataset",
    "write_dataset",
]

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class DatasetError(ValueError):
    """A clip or manifest is malformed; the message names the file and the field."""


@dataclass
class Clip:
    """One continuous recording at a fixed rate."""

    id: str  # file-name safe: letters, digits, '_', '-', '.'
    gaze: np.ndarray  # (T, 2) float32 rad, (pitch, yaw) in the body frame
    head: np.ndarray  # (T, 3) float32 rad, (pitch, yaw, roll)
    valid: np.ndarray  # (T,) bool
    fps: float
    source: str = ""  # original file or dataset name
    subject: str | None = None  # subject id where known
    split: str = "train"
    audio_features: np.ndarray | None = None  # (T, F) float32, optional
    extra: dict[str, Any] = field(default_factory=dict)  # free-form manifest fields

    def __post_init__(self) -> None:
        self.gaze = np.ascontiguousarray(self.gaze, dtype=np.float32)
        self.head = np.ascontiguousarray(self.head, dtype=np.float32)
        self.valid = np.ascontiguousarray(self.valid, dtype=bool)
        self.fps = float(self.fps)
        if self.audio_features is not None:
            self.audio_features = np.ascontiguousarray(self.audio_features, dtype=np.float32)
        self.validate()

    @property
    def frames(self) -> int:
        return int(self.gaze.shape[0])

    @property
    def valid_fraction(self) -> float:
        return float(self.valid.mean()) if self.frames else 0.0

    def validate(self, where: str | None = None) -> None:
        w = where or f"clip {self.id!r}"
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise DatasetError(f"{w}: id {self.id!r} must match {_ID_RE.pattern}")
        T = self.gaze.shape[0] if self.gaze.ndim >= 1 else -1
        if self.gaze.ndim != 2 or self.gaze.shape[1] != 2:
            raise DatasetError(f"{w}: gaze must have shape (T, 2), got {self.gaze.shape}")
        if self.head.shape != (T, 3):
            raise DatasetError(f"{w}: head must have shape ({T}, 3), got {self.head.shape}")
        if self.valid.shape != (T,):
            raise DatasetError(f"{w}: valid must have shape ({T},), got {self.valid.shape}")
        if self.audio_features is not None and (
            self.audio_features.ndim != 2 or self.audio_features.shape[0] != T
        ):
            raise DatasetError(
                f"{w}: audio_features must have shape ({T}, F), got {self.audio_features.shape}"
            )
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise DatasetError(f"{w}: fps must be a positive number, got {self.fps}")
        if not (np.all(np.isfinite(self.gaze)) and np.all(np.isfinite(self.head))):
            raise DatasetError(
                f"{w}: gaze/head hold non-finite values (mark them invalid "
                "and hold the last finite value instead)"
            )
        if self.split not in SPLITS:
            raise DatasetError(f"{w}: split must be one of {SPLITS}, got {self.split!r}")
        # Radians, not degrees: a head or gaze angle beyond 2*pi is almost surely in degrees.
        if T and (np.abs(self.gaze).max() > 2 * np.pi or np.abs(self.head).max() > 2 * np.pi):
            raise DatasetError(f"{w}: angles beyond 2*pi; arrays must be in radians")


def clip_path(folder: str | os.PathLike, clip_id: str) -> str:
    return os.path.join(os.fspath(folder), f"clip_{clip_id}.npz")


def write_clip(folder: str | os.PathLike, clip: Clip) -> str:
    """Write ``clip_<id>.npz`` into ``folder`` (created if needed); returns the path."""
    clip.validate()
    os.makedirs(folder, exist_ok=True)
    path = clip_path(folder, clip.id)
    arrays = {
        "gaze": clip.gaze,
        "head": clip.head,
        "valid": clip.valid,
        "fps": np.float64(clip.fps),
    }
    if clip.audio_features is not None:
        arrays["audio_features"] = clip.audio_features
    tmp = path + ".tmp.npz"  # np.savez appends .npz unless the name already ends with it
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def read_clip(path: str | os.PathLike, *, entry: dict[str, Any] | None = None) -> Clip:
    """Read one clip file; ``entry`` (its manifest entry) supplies id/source/subject/split."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: not a readable clip file ({e})") from None
    for k in ("gaze", "head", "valid", "fps"):
        if k not in arrays:
            raise DatasetError(f"{path}: missing array '{k}'")
    base = os.path.basename(path)
    cid = base[len("clip_") : -len(".npz")] if base.startswith("clip_") else base
    e = dict(entry or {})
    known = {"id", "file", "source", "subject", "fps", "frames", "valid_fraction", "split"}
    try:
        clip = Clip(
            id=e.get("id", cid),
            gaze=arrays["gaze"],
            head=arrays["head"],
            valid=arrays["valid"],
            fps=float(arrays["fps"]),
            source=e.get("source", ""),
            subject=e.get("subject"),
            split=e.get("split", "train"),
            audio_features=arrays.get("audio_features"),
            extra={k: v for k, v in e.items() if k not in known},
        )
    except DatasetError as err:
        raise DatasetError(f"{path}: {err}") from None
    if entry is not None:
        if "frames" in e and int(e["frames"]) != clip.frames:
            raise DatasetError(
                f"{path}: manifest says {e['frames']} frames, file has {clip.frames}"
            )
        if "fps" in e and abs(float(e["fps"]) - clip.fps) > 1e-6 * clip.fps:
            raise DatasetError(f"{path}: manifest says fps {e['fps']}, file has {clip.fps}")
    return clip


def manifest_entry(clip: Clip) -> dict[str, Any]:
    entry = {
        "id": clip.id,
        "file": os.path.basename(clip_path("", clip.id)),
        "source": clip.source,
        "subject": clip.subject,
        "fps": clip.fps,
        "frames": clip.frames,
        "valid_fraction": round(clip.valid_fraction, 6),
        "split": clip.split,
    }
    entry.update(clip.extra)
    return entry


def write_manifest(
    folder: str | os.PathLike,
    clips: Iterable[Clip | dict[str, Any]],
    *,
    name: str = "",
    description: str = "",
    **extra: Any,
) -> str:
    """Write ``manifest.json`` for ``clips`` (Clip objects or ready-made entries)."""
    entries = [manifest_entry(c) if isinstance(c, Clip) else dict(c) for c in clips]
    ids = [e["id"] for e in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise DatasetError(f"{os.fspath(folder)}: duplicate clip ids {dup}")
    for e in entries:
        if e.get("split") not in SPLITS:
            raise DatasetError(
                f"{os.fspath(folder)}: clip {e.get('id')!r} has split "
                f"{e.get('split')!r}, expected one of {SPLITS}"
            )
    man = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        **extra,
        "clips": entries,
    }
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(os.fspath(folder), "manifest.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    path = os.path.join(os.fspath(folder), "manifest.json")
    if not os.path.isfile(path):
        raise DatasetError(f"{path}: no manifest (is {os.fspath(folder)} a dataset folder?)")
    try:
        with open(path) as f:
            man = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from None
    if man.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{path}: format_version {man.get('format_version')!r} is not "
            f"supported (this reader reads {FORMAT_VERSION})"
        )
    if not isinstance(man.get("clips"), list):
        raise DatasetError(f"{path}: 'clips' must be a list")
    return man


def load_dataset(
    folder: str | os.PathLike,
    split: str | Sequence[str] | None = None,
) -> list[Clip]:
    """All clips of a dataset folder, or those of one split / several splits."""
    man = read_manifest(folder)
    want = None if split is None else ({split} if isinstance(split, str) else set(split))
    if want is not None and not want <= set(SPLITS):
        raise ValueError(f"split must be among {SPLITS}, got {sorted(want)}")
    out = []
    for e in man["clips"]:
        if want is not None and e.get("split") not in want:
            continue
        out.append(read_clip(os.path.join(os.fspath(folder), e["file"]), entry=e))
    return out


def write_dataset(folder: str | os.PathLike, clips: Sequence[Clip], **manifest_fields: Any) -> str:
    """Write every clip and the manifest; returns the manifest path."""
    for c in clips:
        write_clip(folder, c)
    return write_manifest(folder, clips, **manifest_fields)
