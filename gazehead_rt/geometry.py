"""Angle conventions of docs/design.md §2, in numpy.

Body frame B: x forward, y left, z up. A direction is (pitch, yaw) with
``yaw = atan2(d_y, d_x)`` (left positive) and ``pitch = atan2(d_z, hypot(d_x, d_y))`` (up
positive). Head orientation (pitch, yaw, roll) is ``R = Rz(yaw) @ Ry(-pitch) @ Rx(roll)``;
roll positive tilts the head toward the right shoulder. Eye = gaze in the head frame,
``d_eye = R.T @ d_gaze``. All angles are radians.

Quaternions are ``(x, y, z, w)``, scalar last, as in ROS ``geometry_msgs/Quaternion``,
Unity's ``Quaternion`` and SciPy; they are returned with ``w >= 0``. A quaternion ``q`` and
a matrix ``R`` describe the same rotation when ``R @ v == q v q*`` for every vector ``v``.

Engine coordinate frames (Unity, Unreal, ROS) are converted in :mod:`gazehead_rt.frames`.
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
    "look_at",
    "to_body_frame",
    "angular_distance",
    "head_from_rotation_matrix",
    "quaternion_from_rotation_matrix",
    "rotation_matrix_from_quaternion",
    "quaternion_multiply",
    "head_to_quaternion",
    "head_from_quaternion",
]

#: Below this distance (metres, or whatever unit the caller uses) a look-at target is taken
#: to coincide with the eye origin: the direction is then undefined.
LOOK_AT_MIN_DISTANCE = 1e-9


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    """Wrap angles (any shape, radians) to [-pi, pi)."""
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


def look_at(target_xyz: np.ndarray, eye_origin_xyz: np.ndarray = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Gaze (pitch, yaw) (..., 2) that looks from ``eye_origin_xyz`` at ``target_xyz``.

    Both are points in the body frame B (x forward, y left, z up), shape (..., 3) and
    broadcastable; any length unit, as long as both use the same one. For a character in a
    world, first bring the target into B with :func:`to_body_frame` (or the engine helpers in
    :mod:`gazehead_rt.frames`). The eye origin is usually the midpoint between the eyes at
    the head's rest pose; the parallax from the head's own motion is small beyond ~1 m.

    Raises ``ValueError`` when a target coincides with its eye origin (the direction is
    undefined there; a silent (0, 0) would point the character somewhere arbitrary).
    """
    t = np.asarray(target_xyz, dtype=np.float64)
    o = np.asarray(eye_origin_xyz, dtype=np.float64)
    if t.shape[-1:] != (3,) or o.shape[-1:] != (3,):
        raise ValueError(
            f"look_at: target_xyz and eye_origin_xyz must have shape (..., 3), "
            f"got {t.shape} and {o.shape}"
        )
    d = t - o
    dist = np.linalg.norm(d, axis=-1)
    if not np.all(np.isfinite(d)):
        bad = np.argwhere(~np.all(np.isfinite(d), axis=-1))
        raise ValueError(f"look_at: non-finite target or eye origin at index {bad[0].tolist()}")
    if np.any(dist < LOOK_AT_MIN_DISTANCE):
        bad = np.argwhere(np.atleast_1d(dist < LOOK_AT_MIN_DISTANCE))
        raise ValueError(
            f"look_at: target_xyz coincides with eye_origin_xyz (distance < "
            f"{LOOK_AT_MIN_DISTANCE}) at index {bad[0].tolist()}; the gaze direction is undefined"
        )
    return pitch_yaw_from_direction(d)


def to_body_frame(
    points_xyz: np.ndarray, body_origin_xyz: np.ndarray, body_rotation: np.ndarray
) -> np.ndarray:
    """World points (..., 3) -> body frame B: ``R_body.T @ (p - origin)``.

    ``body_rotation`` (..., 3, 3) holds the body's axes (forward, left, up) as columns, in
    world coordinates; the world must itself be right-handed with the same length unit
    (convert engine frames first with :mod:`gazehead_rt.frames`).
    """
    p = np.asarray(points_xyz, dtype=np.float64) - np.asarray(body_origin_xyz, dtype=np.float64)
    R = np.asarray(body_rotation, dtype=np.float64)
    return np.einsum("...ji,...j->...i", R, p)


def angular_distance(gaze_a: np.ndarray, gaze_b: np.ndarray) -> np.ndarray:
    """Angle (radians, in [0, pi]) between two directions given as (pitch, yaw) (..., 2).

    Uses atan2(|a x b|, a . b), which stays accurate for nearly equal directions where
    arccos of the dot product loses half its digits.
    """
    a = direction_from_pitch_yaw(gaze_a)
    b = direction_from_pitch_yaw(gaze_b)
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def head_from_rotation_matrix(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> head (pitch, yaw, roll) (..., 3); inverse of
    :func:`head_rotation_matrix`.

    Pitch is returned in [-pi/2, pi/2], yaw and roll in [-pi, pi]. At pitch = +-pi/2 (the
    head facing straight up or down) yaw and roll rotate about the same axis; there roll is
    set to 0 and the whole rotation is given to yaw.
    """
    R = np.asarray(R, dtype=np.float64)
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"head_from_rotation_matrix: R must have shape (..., 3, 3), got {R.shape}")
    cp = np.hypot(R[..., 0, 0], R[..., 1, 0])
    pitch = np.arctan2(R[..., 2, 0], cp)
    # 1e-9 of cos(pitch) is ~1e-9 rad from the pole: below that the float64 entries that
    # separate yaw from roll are rounding noise.
    regular = cp > 1e-9
    yaw = np.where(
        regular, np.arctan2(R[..., 1, 0], R[..., 0, 0]), np.arctan2(-R[..., 0, 1], R[..., 1, 1])
    )
    roll = np.where(regular, np.arctan2(R[..., 2, 1], R[..., 2, 2]), 0.0)
    return np.stack([pitch, yaw, roll], axis=-1)


def rotation_matrix_from_quaternion(quat_xyzw: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w), normalized here, -> (..., 3, 3) rotation matrices."""
    q = np.asarray(quat_xyzw, dtype=np.float64)
    if q.shape[-1:] != (4,):
        raise ValueError(f"quaternion must have shape (..., 4) (x, y, z, w), got {q.shape}")
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(n < 1e-12) or not np.all(np.isfinite(n)):
        raise ValueError("quaternion must be finite and non-zero")
    x, y, z, w = np.moveaxis(q / n, -1, 0)
    R = np.empty(q.shape[:-1] + (3, 3))
    R[..., 0, 0] = 1 - 2 * (y * y + z * z)
    R[..., 0, 1] = 2 * (x * y - z * w)
    R[..., 0, 2] = 2 * (x * z + y * w)
    R[..., 1, 0] = 2 * (x * y + z * w)
    R[..., 1, 1] = 1 - 2 * (x * x + z * z)
    R[..., 1, 2] = 2 * (y * z - x * w)
    R[..., 2, 0] = 2 * (x * z - y * w)
    R[..., 2, 1] = 2 * (y * z + x * w)
    R[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return R


def quaternion_from_rotation_matrix(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (x, y, z, w), w >= 0.

    Shepperd's method: each matrix is converted through its largest of (w, x, y, z), so the
    square root never sees a small argument (no precision loss near 180-degree rotations).
    """
    R = np.asarray(R, dtype=np.float64)
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrix must have shape (..., 3, 3), got {R.shape}")
    m00, m11, m22 = R[..., 0, 0], R[..., 1, 1], R[..., 2, 2]
    tr = m00 + m11 + m22
    # 4*w^2, 4*x^2, 4*y^2, 4*z^2
    cand = np.stack([1 + tr, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    k = np.argmax(cand, axis=-1)
    s = 2.0 * np.sqrt(np.maximum(np.take_along_axis(cand, k[..., None], -1)[..., 0], 1e-300))
    d21, d02, d10 = (
        R[..., 2, 1] - R[..., 1, 2],
        R[..., 0, 2] - R[..., 2, 0],
        R[..., 1, 0] - R[..., 0, 1],
    )
    a01, a02, a12 = (
        R[..., 0, 1] + R[..., 1, 0],
        R[..., 0, 2] + R[..., 2, 0],
        R[..., 1, 2] + R[..., 2, 1],
    )
    q = np.select(
        [k[..., None] == 0, k[..., None] == 1, k[..., None] == 2],
        [
            np.stack([d21 / s, d02 / s, d10 / s, s / 4], -1),
            np.stack([s / 4, a01 / s, a02 / s, d21 / s], -1),
            np.stack([a01 / s, s / 4, a12 / s, d02 / s], -1),
        ],
        np.stack([a02 / s, a12 / s, s / 4, d10 / s], -1),
    )
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., 3:4] < 0, -q, q)


def quaternion_multiply(a_xyzw: np.ndarray, b_xyzw: np.ndarray) -> np.ndarray:
    """Hamilton product a * b (..., 4), (x, y, z, w): rotate by b first, then by a."""
    a = np.asarray(a_xyzw, dtype=np.float64)
    b = np.asarray(b_xyzw, dtype=np.float64)
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def head_to_quaternion(head: np.ndarray) -> np.ndarray:
    """Head (pitch, yaw, roll) (..., 3) -> quaternion (x, y, z, w) (..., 4) in B, w >= 0.

    q = qz(yaw) * qy(-pitch) * qx(roll), the quaternion form of :func:`head_rotation_matrix`.
    """
    h = np.asarray(head, dtype=np.float64)
    p, y, r = h[..., 0], h[..., 1], h[..., 2]
    zero = np.zeros_like(p)
    qz = np.stack([zero, zero, np.sin(y / 2), np.cos(y / 2)], -1)
    qy = np.stack([zero, np.sin(-p / 2), zero, np.cos(-p / 2)], -1)
    qx = np.stack([np.sin(r / 2), zero, zero, np.cos(r / 2)], -1)
    q = quaternion_multiply(quaternion_multiply(qz, qy), qx)
    return np.where(q[..., 3:4] < 0, -q, q)


def head_from_quaternion(quat_xyzw: np.ndarray) -> np.ndarray:
    """Quaternion (x, y, z, w) (..., 4) in B -> head (pitch, yaw, roll) (..., 3)."""
    return head_from_rotation_matrix(rotation_matrix_from_quaternion(quat_xyzw))
