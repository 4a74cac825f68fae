"""Engine frames (gazehead_rt.frames): hand-computed cases from each engine's documented
conventions, and round trips."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazehead_rt import frames as F
from gazehead_rt import geometry as g

ALL = [F.ROS, F.ROS_OPTICAL, F.UNITY, F.UNREAL]
S = math.sqrt(0.5)


def unity_matrix(euler_deg):
    """Unity's Quaternion.Euler(x, y, z) as a matrix: z first, then x, then y, each the
    standard numeric rotation matrix (a left-handed engine uses the same numbers)."""
    x, y, z = np.radians(euler_deg)
    Rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    Ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    Rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    return Ry @ Rx @ Rz


def unreal_matrix(rotator_deg):
    """UE's FRotationMatrix(FRotator(P, Y, R)) (row-vector convention, rows = axes),
    transposed to act on column vectors. Copied from the engine's formula."""
    P, Y, R = np.radians(rotator_deg)
    SP, CP, SY, CY, SR, CR = (
        math.sin(P),
        math.cos(P),
        math.sin(Y),
        math.cos(Y),
        math.sin(R),
        math.cos(R),
    )
    M = np.array(
        [
            [CP * CY, CP * SY, SP],
            [SR * SP * CY - CR * SY, SR * SP * SY + CR * CY, -SR * CP],
            [-(CR * SP * CY + SR * SY), CY * SR - CR * SP * SY, CR * CP],
        ]
    )
    return M.T


@pytest.mark.parametrize(
    "frame, engine_point, body_point_m",
    [
        (F.UNITY, (0, 0, 2), (2, 0, 0)),  # Unity +z is forward
        (F.UNITY, (1, 0, 0), (0, -1, 0)),  # Unity +x is right = B -y
        (F.UNITY, (0, 1, 0), (0, 0, 1)),  # Unity +y is up
        (F.UNREAL, (100, 0, 0), (1, 0, 0)),  # cm, +x forward
        (F.UNREAL, (0, 250, 0), (0, -2.5, 0)),  # +y right
        (F.UNREAL, (0, 0, 50), (0, 0, 0.5)),
        (F.ROS, (1, 2, 3), (1, 2, 3)),
        (F.ROS_OPTICAL, (0, 0, 1), (1, 0, 0)),  # optical z forward
        (F.ROS_OPTICAL, (1, 0, 0), (0, -1, 0)),  # x right
        (F.ROS_OPTICAL, (0, 1, 0), (0, 0, -1)),  # y down
    ],
)
def test_point_hand_cases(frame, engine_point, body_point_m):
    np.testing.assert_allclose(F.points_to_body(frame, engine_point), body_point_m, atol=1e-15)
    np.testing.assert_allclose(F.points_from_body(frame, body_point_m), engine_point, atol=1e-12)


def test_handedness():
    assert F.ROS.right_handed and F.ROS_OPTICAL.right_handed
    assert not F.UNITY.right_handed and not F.UNREAL.right_handed


@pytest.mark.parametrize(
    "head_deg, unity_euler_deg",
    [
        ((0, 30, 0), (0, -30, 0)),  # turn left = Unity negative y
        ((20, 0, 0), (-20, 0, 0)),  # nose up = Unity negative x
        ((0, 0, 15), (0, 0, -15)),  # toward right shoulder = Unity negative z
        ((10, -40, 5), (-10, 40, -5)),
    ],
)
def test_unity_euler_hand_cases(head_deg, unity_euler_deg):
    head = np.radians(head_deg)
    np.testing.assert_allclose(F.head_to_unity_euler_deg(head), unity_euler_deg, atol=1e-12)
    # the Unity rotation built from those Euler angles equals the head rotation carried over
    np.testing.assert_allclose(
        unity_matrix(unity_euler_deg),
        F.rotation_from_body(F.UNITY, g.head_rotation_matrix(head)),
        atol=1e-12,
    )
    np.testing.assert_allclose(F.head_from_unity_euler_deg(unity_euler_deg), head, atol=1e-12)


def test_unity_turn_right_moves_forward_to_plus_x():
    # Quaternion.Euler(0, 90, 0) * Vector3.forward == Vector3.right in Unity
    head = F.head_from_unity_euler_deg([0, 90, 0])
    np.testing.assert_allclose(head, [0, -math.pi / 2, 0], atol=1e-12)
    fwd_unity = F.directions_from_body(F.UNITY, g.head_rotation_matrix(head)[:, 0])
    np.testing.assert_allclose(fwd_unity, [1, 0, 0], atol=1e-12)
    # and the quaternion Unity would hold for it: 90 deg about +y
    np.testing.assert_allclose(F.head_to_engine_quaternion(F.UNITY, head), [0, S, 0, S], atol=1e-12)


def test_unity_euler_reads_0_360_range():
    np.testing.assert_allclose(
        F.head_from_unity_euler_deg([350, 330, 0]), np.radians([10, 30, 0]), atol=1e-12
    )


@pytest.mark.parametrize(
    "head_deg, rotator_deg",
    [
        ((0, 30, 0), (0, -30, 0)),  # UE yaw positive = right
        ((20, 0, 0), (20, 0, 0)),  # UE pitch positive = up
        ((0, 0, 15), (0, 0, 15)),  # UE roll positive = right shoulder down
        ((-12, 70, -8), (-12, -70, -8)),
    ],
)
def test_unreal_rotator_hand_cases(head_deg, rotator_deg):
    head = np.radians(head_deg)
    np.testing.assert_allclose(F.head_to_unreal_rotator_deg(head), rotator_deg, atol=1e-12)
    np.testing.assert_allclose(
        unreal_matrix(rotator_deg),
        F.rotation_from_body(F.UNREAL, g.head_rotation_matrix(head)),
        atol=1e-12,
    )
    np.testing.assert_allclose(F.head_from_unreal_rotator_deg(rotator_deg), head, atol=1e-12)


head_st = st.tuples(st.floats(-1.5, 1.5), st.floats(-3.1, 3.1), st.floats(-3.1, 3.1))


@settings(max_examples=150, deadline=None)
@given(head=head_st)
def test_round_trips_all_frames(head):
    head = np.array(head)
    for frame in ALL:
        q = F.head_to_engine_quaternion(frame, head)
        np.testing.assert_allclose(F.head_from_engine_quaternion(frame, q), head, atol=1e-9)
        # rotating a direction in the engine == rotating it in B and carrying it over
        v = np.array([0.3, -0.2, 0.9])
        R_e = g.rotation_matrix_from_quaternion(q)
        np.testing.assert_allclose(
            F.directions_to_body(frame, R_e @ F.directions_from_body(frame, v)),
            g.head_rotation_matrix(head) @ v,
            atol=1e-12,
        )
    np.testing.assert_allclose(
        F.head_from_unity_euler_deg(F.head_to_unity_euler_deg(head)), head, atol=1e-9
    )
    np.testing.assert_allclose(
        F.head_from_unreal_rotator_deg(F.head_to_unreal_rotator_deg(head)), head, atol=1e-9
    )


def test_ros_quaternion_is_geometry_quaternion():
    head = np.array([0.2, -0.5, 0.1])
    np.testing.assert_allclose(
        F.head_to_engine_quaternion(F.ROS, head), g.head_to_quaternion(head), atol=1e-15
    )


def test_engine_look_at_unity_npc():
    # NPC at (5, 0, 5) in Unity, turned 90 deg to the right (Unity y = +90): it faces +x.
    body_q = F.head_to_engine_quaternion(F.UNITY, F.head_from_unity_euler_deg([0, 90, 0]))
    eye = np.array([5.0, 1.6, 5.0])
    # a target 2 m in front of it and 2 m up: pitch +45
    np.testing.assert_allclose(
        np.degrees(F.engine_look_at(F.UNITY, [7, 3.6, 5], eye, body_q)), [45, 0], atol=1e-9
    )
    # a target at world +z of the NPC is on its left (it faces +x, up is +y): yaw +90
    np.testing.assert_allclose(
        np.degrees(F.engine_look_at(F.UNITY, [5, 1.6, 8], eye, body_q)), [0, 90], atol=1e-9
    )
    # without body rotation the NPC faces +z: the same target is straight ahead
    np.testing.assert_allclose(F.engine_look_at(F.UNITY, [5, 1.6, 8], eye), [0, 0], atol=1e-12)


def test_engine_look_at_unreal_cm():
    # 100 cm forward, 100 cm right: yaw -45 deg in B; units cancel
    np.testing.assert_allclose(
        np.degrees(F.engine_look_at(F.UNREAL, [100, 100, 170], [0, 0, 170])), [0, -45], atol=1e-12
    )


def test_bad_shapes_named():
    with pytest.raises(ValueError, match="points"):
        F.points_to_body(F.UNITY, [1.0, 2.0])
