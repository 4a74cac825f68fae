"""Shared arithmetic of the VR eye-head importers (EyeNavGS, the Pico Neo 2 Eye XDF file).

A headset records, per rendered frame, the head's world orientation and a world gaze ray, in
its engine's axes. The importers bring both into the body frame B of docs/design.md §2 (x
forward, y left, z up) through :mod:`gazehead_rt.frames` (one signed permutation per engine,
rotations carried across as ``M^T R M``), then resample them onto an even clock. The torso
is not recorded: the world frame stands in for it (gravity up, the person standing), and each
importer re-centres yaw afterwards.
"""

from __future__ import annotations

import numpy as np

from gazehead_rt.frames import UNITY, EngineFrame, directions_to_body, rotation_to_body
from gazehead_rt.geometry import (
    eye_from_gaze_head,
    head_from_rotation_matrix,
    head_rotation_matrix,
    pitch_yaw_from_direction,
)

__all__ = [
    "OPENXR",
    "UNITY",
    "head_gaze_from_world",
    "resample_on_timestamps",
    "remove_eye_offset",
]

#: OpenXR (and the Quest's native) tracking space: right-handed, x right, y up, forward = -z.
OPENXR = EngineFrame("OPENXR", [[0, -1, 0], [0, 0, 1], [-1, 0, 0]], 1.0)


def head_gaze_from_world(
    frame: EngineFrame, head_rot: np.ndarray, gaze_dir: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Head rotations (T, 3, 3) and gaze directions (T, 3), both world, engine axes ->
    head (T, 3) (pitch, yaw, roll) and gaze (T, 2) (pitch, yaw) in B, radians.

    ``head_rot`` maps head-local engine coordinates to world engine coordinates (what an
    engine's head quaternion describes); gaze directions need not be unit length.
    """
    head = head_from_rotation_matrix(rotation_to_body(frame, head_rot))
    gaze = pitch_yaw_from_direction(directions_to_body(frame, gaze_dir))
    return head, gaze


def _unwrap_cols(a: np.ndarray, cols: tuple[int, ...]) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    for c in cols:
        a[:, c] = np.unwrap(a[:, c])
    return a


def resample_on_timestamps(
    t_s: np.ndarray,
    head: np.ndarray,
    gaze: np.ndarray,
    valid: np.ndarray,
    fps: float,
    *,
    max_gap_s: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Uneven samples -> an even ``fps`` clock from ``t_s[0]``.

    Angles are interpolated linearly after unwrapping yaw and roll (a sample pair ~30 ms
    apart turns far less than pi, so this equals a slerp to well below a degree) and wrapped
    back to [-pi, pi). An output frame is valid when both source samples around it are
    valid and less than ``max_gap_s`` apart. Invalid source samples do not feed the
    interpolation (their neighbours do), so values stay finite. Returns ``(t, head, gaze,
    valid)`` with ``t`` in seconds.
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if t_s.ndim != 1 or len(t_s) < 2 or np.any(np.diff(t_s) <= 0):
        raise ValueError("t_s must be a strictly increasing 1-D array of >= 2 timestamps")
    if not valid.any():
        raise ValueError("no valid sample to resample")
    t = np.arange(t_s[0], t_s[-1] + 1e-9, 1.0 / fps)
    keep = valid
    tk = t_s[keep]
    h = _unwrap_cols(head[keep], (1, 2))
    g = _unwrap_cols(gaze[keep], (1,))
    h_out = np.stack([np.interp(t, tk, h[:, c]) for c in range(3)], 1)
    g_out = np.stack([np.interp(t, tk, g[:, c]) for c in range(2)], 1)
    for a, cols in ((h_out, (1, 2)), (g_out, (1,))):
        for c in cols:
            a[:, c] = (a[:, c] + np.pi) % (2 * np.pi) - np.pi
    # the valid samples bracketing each output frame
    j = np.clip(np.searchsorted(tk, t, side="right"), 1, len(tk) - 1)
    gap = tk[j] - tk[j - 1]
    ok = (gap <= max_gap_s) & (t >= tk[0]) & (t <= tk[-1])
    return t, h_out, g_out, ok


def remove_eye_offset(
    head: np.ndarray, gaze: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Turn the head frame about its own axes so the median eye-in-head angle is ~0.

    A headset's forward axis is not the anatomical line of sight: the resting eye sits
    ~10-16 deg below it (and, on the Quest Pro's gaze output, several degrees to the right).
    The head frame is rotated by the median eye-in-head pitch about its own lateral axis,
    then by the median yaw about its own vertical axis: ``R' = R Rz(y0) Ry(-p0)``. Returns
    the new head (T, 3) and the offset ``(p0, y0)`` in radians (the median eye-in-head
    pitch and yaw before the correction).
    """
    eye = eye_from_gaze_head(gaze[valid], head[valid])
    p0, y0 = np.median(eye[:, 0]), np.median(eye[:, 1])
    cp, sp, cy, sy = np.cos(p0), np.sin(p0), np.cos(y0), np.sin(y0)
    Rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    Ry_neg = np.array([[cp, 0.0, -sp], [0.0, 1.0, 0.0], [sp, 0.0, cp]])  # Ry(-p0)
    R = head_rotation_matrix(head) @ (Rz @ Ry_neg)
    return head_from_rotation_matrix(R), np.array([p0, y0])
