"""Angle conventions of DESIGN §2, in numpy.

Body frame B: x forward, y left, z up. A direction is (pitch, yaw) with
``yaw = atan2(d_y, d_x)`` (left positive) and ``pitch = atan2(d_z, hypot(d_x, d_y))`` (up
positive). Head orientation (pitch, yaw, roll) is ``R = Rz(yaw) @ Ry(-pitch) @ Rx(roll)``;
roll positive tilts the head toward the right shoulder. Eye = gaze in the head frame,
``d_eye = R.T @ d_gaze``. All angles are radians.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "wrap_angle",
    "direction_from_pitch_yaw",
    "pitch_yaw_from_direction",
    "head_rotation_matrix",
    "eye_from_gaze_head",
    "gaze_from_head_eye",
]


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    """Wrap to [-pi, pi)."""
    a = np.asarray(angle_rad)
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def direction_from_pitch_yaw(pitch_yaw: np.ndarray) -> np.ndarray:
    """(..., 2) (pitch, yaw) -> (..., 3) unit vectors in B."""
    py = np.asarray(pitch_yaw, dtype=np.float64)
    p, y = py[..., 0], py[..., 1]
    cp = np.cos(p)
    return np.stack([cp * np.cos(y), cp * np.sin(y), np.sin(p)], axis=-1)


def pitch_yaw_from_direction(d: np.ndarray) -> np.ndarray:
    """(..., 3) vectors (any length > 0) -> (..., 2) (pitch, yaw)."""
    d = np.asarray(d, dtype=np.float64)
    return np.stack(
        [np.arctan2(d[..., 2], np.hypot(d[..., 0], d[..., 1])), np.arctan2(d[..., 1], d[..., 0])],
        axis=-1,
    )


def head_rotation_matrix(head: np.ndarray) -> np.ndarray:
    """(..., 3) (pitch, yaw, roll) -> (..., 3, 3) R = Rz(yaw) Ry(-pitch) Rx(roll)."""
    h = np.asarray(head, dtype=np.float64)
    sp, cp = np.sin(h[..., 0]), np.cos(h[..., 0])
    sy, cy = np.sin(h[..., 1]), np.cos(h[..., 1])
    sr, cr = np.sin(h[..., 2]), np.cos(h[..., 2])
    R = np.empty(h.shape[:-1] + (3, 3))
    R[..., 0, 0] = cy * cp
    R[..., 0, 1] = -cy * sp * sr - sy * cr
    R[..., 0, 2] = -cy * sp * cr + sy * sr
    R[..., 1, 0] = sy * cp
    R[..., 1, 1] = -sy * sp * sr + cy * cr
    R[..., 1, 2] = -sy * sp * cr - cy * sr
    R[..., 2, 0] = sp
    R[..., 2, 1] = cp * sr
    R[..., 2, 2] = cp * cr
    return R


def eye_from_gaze_head(gaze: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Eye-in-head (pitch, yaw) of gaze (..., 2) seen from head (..., 3)."""
    R = head_rotation_matrix(head)
    d = direction_from_pitch_yaw(gaze)
    return pitch_yaw_from_direction(np.einsum("...ji,...j->...i", R, d))


def gaze_from_head_eye(head: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Inverse of :func:`eye_from_gaze_head`: gaze in B of eye (..., 2) in head (..., 3)."""
    R = head_rotation_matrix(head)
    d = direction_from_pitch_yaw(eye)
    return pitch_yaw_from_direction(np.einsum("...ij,...j->...i", R, d))
