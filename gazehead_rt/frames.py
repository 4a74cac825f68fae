"""Engine and robot coordinate frames <-> the body frame B of docs/design.md §2.

The library works in B: x forward, y left, z up, right-handed, metres, radians. Engines do
not, so everything that crosses the boundary goes through one of these frames:

==============  ===========  ===========================  ======  =========================
frame           handedness   axes (engine x, y, z)        unit    rotation sign convention
==============  ===========  ===========================  ======  =========================
``ROS``         right        forward, left, up (REP-103)  m       right-hand rule
``ROS_OPTICAL`` right        right, down, forward         m       right-hand rule
``UNITY``       left         right, up, forward           m       left-hand rule
``UNREAL``      left         forward, right, up           cm      see ``head_to_unreal_*``
==============  ===========  ===========================  ======  =========================

Each frame is a signed permutation ``M`` (engine coordinates = ``M @`` B coordinates) plus a
length unit. A rotation is carried across as ``M R M^T``; that is a proper rotation even
when ``M`` flips handedness (det M = -1), because the two flips cancel. Engines with a
left-handed frame use the usual quaternion and matrix formulas unchanged (a positive angle
just turns clockwise when seen from the tip of the axis), so the same conjugation gives the
quaternion an engine expects in ``Quaternion(x, y, z, w)`` / ``FQuat(X, Y, Z, W)``.

Rotations here are *local* rotations of the head relative to the body (the head bone's
rotation in its parent's space when the parent's axes are the engine's axes). Points and
directions are relative to whatever origin the caller uses; to aim at a world point use
:func:`engine_look_at`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import (
    head_from_rotation_matrix,
    head_rotation_matrix,
    look_at,
    quaternion_from_rotation_matrix,
    rotation_matrix_from_quaternion,
)

__all__ = [
    "EngineFrame",
    "ROS",
    "ROS_OPTICAL",
    "UNITY",
    "UNREAL",
    "points_to_body",
    "points_from_body",
    "directions_to_body",
    "directions_from_body",
    "rotation_to_body",
    "rotation_from_body",
    "head_to_engine_quaternion",
    "head_from_engine_quaternion",
    "head_to_unity_euler_deg",
    "head_from_unity_euler_deg",
    "head_to_unreal_rotator_deg",
    "head_from_unreal_rotator_deg",
    "engine_look_at",
]


@dataclass(frozen=True, eq=False)
class EngineFrame:
    """A coordinate frame: ``engine_xyz = basis @ body_xyz / metres_per_unit``.

    ``basis`` is a 3x3 signed permutation (rows: the engine axes written in B).
    """

    name: str
    basis: np.ndarray  # (3, 3) orthogonal, entries in {-1, 0, 1}
    metres_per_unit: float

    def __post_init__(self) -> None:
        M = np.asarray(self.basis, dtype=np.float64)
        if M.shape != (3, 3) or not np.allclose(M @ M.T, np.eye(3)):
            raise ValueError(f"EngineFrame {self.name}: basis must be an orthogonal 3x3 matrix")
        if not self.metres_per_unit > 0:
            raise ValueError(f"EngineFrame {self.name}: metres_per_unit must be > 0")
        M.setflags(write=False)
        object.__setattr__(self, "basis", M)

    @property
    def right_handed(self) -> bool:
        """True when the engine's axes form a right-handed frame."""
        return bool(np.linalg.det(self.basis) > 0)

    def __repr__(self) -> str:
        return f"EngineFrame({self.name!r})"


#: ROS REP-103 body frame (``base_link``): identical to B.
ROS = EngineFrame("ROS", np.eye(3), 1.0)
#: ROS camera optical frame (REP-103 ``*_optical``): x right, y down, z forward.
ROS_OPTICAL = EngineFrame("ROS_OPTICAL", [[0, -1, 0], [0, 0, -1], [1, 0, 0]], 1.0)
#: Unity: left-handed, x right, y up, z forward, metres.
UNITY = EngineFrame("UNITY", [[0, -1, 0], [0, 0, 1], [1, 0, 0]], 1.0)
#: Unreal Engine: left-handed, x forward, y right, z up, centimetres.
UNREAL = EngineFrame("UNREAL", [[1, 0, 0], [0, -1, 0], [0, 0, 1]], 0.01)


def _vec3(name: str, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape[-1:] != (3,):
        raise ValueError(f"{name} must have shape (..., 3), got {a.shape}")
    return a


def points_to_body(frame: EngineFrame, points: np.ndarray) -> np.ndarray:
    """Engine coordinates (..., 3), engine units -> B coordinates (..., 3), metres."""
    return _vec3("points", points) @ frame.basis * frame.metres_per_unit


def points_from_body(frame: EngineFrame, points_m: np.ndarray) -> np.ndarray:
    """B coordinates (..., 3), metres -> engine coordinates (..., 3), engine units."""
    return _vec3("points_m", points_m) @ frame.basis.T / frame.metres_per_unit


def directions_to_body(frame: EngineFrame, dirs: np.ndarray) -> np.ndarray:
    """Engine direction vectors (..., 3) -> B (..., 3); lengths kept (no unit scaling)."""
    return _vec3("dirs", dirs) @ frame.basis


def directions_from_body(frame: EngineFrame, dirs: np.ndarray) -> np.ndarray:
    """B direction vectors (..., 3) -> engine (..., 3); lengths kept (no unit scaling)."""
    return _vec3("dirs", dirs) @ frame.basis.T


def rotation_to_body(frame: EngineFrame, R_engine: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) in engine coordinates -> the same rotations in B."""
    M = frame.basis
    return M.T @ np.asarray(R_engine, dtype=np.float64) @ M


def rotation_from_body(frame: EngineFrame, R_body: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) in B -> the same rotations in engine coordinates."""
    M = frame.basis
    return M @ np.asarray(R_body, dtype=np.float64) @ M.T


def head_to_engine_quaternion(frame: EngineFrame, head: np.ndarray) -> np.ndarray:
    """Head (pitch, yaw, roll) (..., 3) -> engine quaternion (x, y, z, w) (..., 4), w >= 0.

    Unity: ``new Quaternion(x, y, z, w)`` for the head bone's ``localRotation`` (parent =
    body with forward +Z). Unreal: ``FQuat(X, Y, Z, W)`` relative to the body component.
    ROS: ``geometry_msgs/Quaternion`` of the head link in ``base_link``.
    """
    return quaternion_from_rotation_matrix(rotation_from_body(frame, head_rotation_matrix(head)))


def head_from_engine_quaternion(frame: EngineFrame, quat_xyzw: np.ndarray) -> np.ndarray:
    """Engine quaternion (x, y, z, w) (..., 4) -> head (pitch, yaw, roll) (..., 3)."""
    return head_from_rotation_matrix(
        rotation_to_body(frame, rotation_matrix_from_quaternion(quat_xyzw))
    )


def head_to_unity_euler_deg(head: np.ndarray) -> np.ndarray:
    """Head (pitch, yaw, roll) radians (..., 3) -> Unity Euler angles (x, y, z) degrees.

    Unity applies Euler angles z, then x, then y (``Quaternion.Euler``); that is exactly our
    roll, pitch, yaw order, so the conversion is a sign flip per axis: Unity +x tilts the
    nose down, +y turns to the right, +z raises the right ear (tilts toward the left
    shoulder). Returned in [-180, 180), which Unity accepts as is (its own ``eulerAngles``
    reads back in [0, 360)).
    """
    h = np.degrees(np.asarray(head, dtype=np.float64))
    return (-h + 180.0) % 360.0 - 180.0


def head_from_unity_euler_deg(euler_deg: np.ndarray) -> np.ndarray:
    """Unity Euler angles (x, y, z) degrees (..., 3) -> head (pitch, yaw, roll) radians.

    Any Unity triple is accepted (e.g. ``eulerAngles`` in [0, 360)); the result is the
    canonical head angles of the same rotation (pitch in [-pi/2, pi/2]).
    """
    e = np.radians(np.asarray(euler_deg, dtype=np.float64))
    return head_from_rotation_matrix(head_rotation_matrix(-e))


def head_to_unreal_rotator_deg(head: np.ndarray) -> np.ndarray:
    """Head (pitch, yaw, roll) radians (..., 3) -> Unreal ``FRotator(Pitch, Yaw, Roll)`` deg.

    Unreal: +Pitch nose up, +Yaw turns right (toward +Y), +Roll tilts toward the right
    shoulder, applied roll, then pitch, then yaw -- our order -- so only yaw flips sign.
    Mind the argument order of the C++ constructor, ``FRotator(Pitch, Yaw, Roll)``.
    """
    h = np.degrees(np.asarray(head, dtype=np.float64)) * np.array([1.0, -1.0, 1.0])
    return (h + 180.0) % 360.0 - 180.0


def head_from_unreal_rotator_deg(rotator_deg: np.ndarray) -> np.ndarray:
    """Unreal ``FRotator`` (Pitch, Yaw, Roll) degrees (..., 3) -> head radians (..., 3)."""
    r = np.radians(np.asarray(rotator_deg, dtype=np.float64)) * np.array([1.0, -1.0, 1.0])
    return head_from_rotation_matrix(head_rotation_matrix(r))


def engine_look_at(
    frame: EngineFrame,
    target_xyz: np.ndarray,
    eye_origin_xyz: np.ndarray,
    body_quat_xyzw: np.ndarray | None = None,
) -> np.ndarray:
    """Gaze (pitch, yaw) (..., 2) in B toward world points given in engine coordinates.

    target_xyz, eye_origin_xyz: (..., 3) engine world coordinates (engine units).
    body_quat_xyzw: (..., 4) the body's world rotation in the engine's quaternion
    convention (e.g. ``transform.rotation`` of the NPC's root in Unity), or None when the
    body is aligned with the engine's axes. The body's own axes are the engine's axes
    (Unity: forward +Z), which is how engines attach characters.
    """
    offset = _vec3("target_xyz", target_xyz) - _vec3("eye_origin_xyz", eye_origin_xyz)
    if body_quat_xyzw is not None:
        R = rotation_matrix_from_quaternion(body_quat_xyzw)
        offset = np.einsum("...ji,...j->...i", R, offset)  # world -> body, engine axes
    return look_at(points_to_body(frame, offset), np.zeros(3))
