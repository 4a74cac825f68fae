"""Importer for the Pico Neo 2 Eye LSL recording (``../shared/data/piconeo2eye``).

``test_pico_lsl.xdf`` (read by :mod:`training.data.xdf`) holds ``Unity.VRHeadPose`` (PosX/Y/Z,
RotW/X/Y/Z: the head's world pose in Unity axes, left-handed, x right, y up, z forward) and
``Unity.TobiiGaze`` (a world-space gaze ray per sample, ``GazeRayIsValid``), both ~72 Hz on
one clock. The person first looks at three targets, then holds the gaze on one while turning
the head: a check of the axes and the eye-in-head arithmetic, since the eye must then
counter-rotate with a gain of ~1. Conversion to the body frame goes through the same helper
as the EyeNavGS importer (:func:`training.data.vr.head_gaze_from_world`, frame ``UNITY``).
The world stands in for the torso; yaw is taken relative to the median head yaw. The
headset's eye offset is kept (one short recording, a test fixture rather than training data).
"""

from __future__ import annotations

import os

import numpy as np

from gazehead_rt.geometry import rotation_matrix_from_quaternion

from ..paths import shared_data_dir
from .dataset import Clip
from .vr import UNITY, head_gaze_from_world, resample_on_timestamps
from .xdf import XdfStream, read_xdf

__all__ = ["pico_path", "read_pico_lsl", "load_pico_clip"]

HEAD_STREAM = "Unity.VRHeadPose"
GAZE_STREAM = "Unity.TobiiGaze"


def pico_path(override: str | None = None) -> str:
    return os.path.join(shared_data_dir(override), "piconeo2eye", "test_pico_lsl.xdf")


def _stream(streams: list[XdfStream], name: str, path: str) -> XdfStream:
    for s in streams:
        if s.name == name:
            return s
    raise ValueError(f"{path}: no stream {name!r} (streams: {[s.name for s in streams]})")


def read_pico_lsl(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(t_s, head (N, 3), gaze (N, 2), valid (N,))`` in B on the head stream's clock;
    gaze is interpolated to the head samples (the streams tick together, < 1 ms apart)."""
    streams = read_xdf(path)
    hs, gs = _stream(streams, HEAD_STREAM, path), _stream(streams, GAZE_STREAM, path)
    t = hs.time_stamps
    q = np.stack([hs.channel(c) for c in ("RotX", "RotY", "RotZ", "RotW")], 1).astype(np.float64)
    d = np.stack([gs.channel(f"GazeRayDirection{c}") for c in "XYZ"], 1).astype(np.float64)
    ok = (gs.channel("GazeRayIsValid") > 0.5) & (np.linalg.norm(d, axis=1) > 0.5)
    # nearest gaze sample per head sample (both ~72 Hz from one engine loop)
    j = np.clip(np.searchsorted(gs.time_stamps, t), 1, len(gs.time_stamps) - 1)
    j -= np.abs(gs.time_stamps[j - 1] - t) < np.abs(gs.time_stamps[j] - t)
    close = np.abs(gs.time_stamps[j] - t) < 0.5 / max(hs.nominal_srate, 1.0)
    d_safe = np.where(ok[j, None], d[j], [0.0, 0.0, 1.0])
    head, gaze = head_gaze_from_world(UNITY, rotation_matrix_from_quaternion(q), d_safe)
    return t, head, gaze, ok[j] & close


def load_pico_clip(path: str | None = None, fps: float = 30.0) -> Clip:
    """The recording as one clip at ``fps``; yaw relative to the median head yaw."""
    path = path or pico_path()
    t, head, gaze, valid = read_pico_lsl(path)
    t_out, h, g, ok = resample_on_timestamps(t, head, gaze, valid, fps)
    yaw0 = np.median(np.unwrap(h[ok, 1]))
    h[:, 1] = (h[:, 1] - yaw0 + np.pi) % (2 * np.pi) - np.pi
    g[:, 1] = (g[:, 1] - yaw0 + np.pi) % (2 * np.pi) - np.pi
    return Clip(
        id="piconeo2eye_test",
        gaze=g,
        head=h,
        valid=ok,
        fps=fps,
        source=os.path.basename(path),
        subject="pico1",
        split="test",
        extra={"domain": "piconeo2eye", "start_s": 0.0},
    )
