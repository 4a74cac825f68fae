"""look_at, rotation matrices and quaternions of gazehead_rt.geometry (docs/design.md §2).

Hand-computed cases pin the sign conventions; hypothesis round trips pin the algebra.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gazehead_rt import geometry as g

S = math.sqrt(0.5)
finite = st.floats(-3.0, 3.0, allow_nan=False)


@pytest.mark.parametrize(
    "target, expected_pitch_yaw_deg",
    [
        ((2.0, 0.0, 0.0), (0.0, 0.0)),  # straight ahead
        ((1.0, 1.0, 0.0), (0.0, 45.0)),  # front-left: yaw positive to the left
        ((1.0, -1.0, 0.0), (0.0, -45.0)),  # front-right
        ((1.0, 0.0, 1.0), (45.0, 0.0)),  # up
        ((0.0, 0.0, -3.0), (-90.0, 0.0)),  # straight down
        ((-1.0, 0.0, 0.0), (0.0, 180.0)),  # behind (atan2(0, -1) = pi)
        ((-1.0, -1.0, 0.0), (0.0, -135.0)),  # behind-right
        ((1.0, 1.0, math.sqrt(2.0)), (45.0, 45.0)),
    ],
)
def test_look_at_hand_cases(target, expected_pitch_yaw_deg):
    np.testing.assert_allclose(np.degrees(g.look_at(target)), expected_pitch_yaw_deg, atol=1e-12)


def test_look_at_from_eye_origin_broadcasts():
    eye = np.array([0.0, 0.0, 1.6])  # eye height 1.6 m
    targets = np.array([[1.0, 0.0, 1.6], [1.0, 0.0, 0.6], [0.0, 2.0, 3.6]])
    got = np.degrees(g.look_at(targets, eye))
    np.testing.assert_allclose(got, [[0, 0], [-45, 0], [45, 90]], atol=1e-12)
    assert got.shape == (3, 2)


def test_look_at_rejects_degenerate_and_bad_shapes():
    with pytest.raises(ValueError, match="coincides"):
        g.look_at([[1.0, 0, 0], [0.5, 0.5, 0.5]], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="shape"):
        g.look_at([1.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="non-finite"):
        g.look_at([np.nan, 0.0, 0.0])


def test_to_body_frame_hand_case():
    # body at (10, 0, 0) turned 90 deg to the left: its forward is world +y
    R_body = g.head_rotation_matrix([0.0, math.pi / 2, 0.0])
    p = g.to_body_frame([10.0, 3.0, 1.0], [10.0, 0.0, 0.0], R_body)
    np.testing.assert_allclose(p, [3.0, 0.0, 1.0], atol=1e-12)  # 3 m ahead, 1 m up


def test_head_matrix_columns_are_forward_left_up():
    # A head with roll 0 faces direction (pitch, yaw) (docs/design.md §2); roll tilts to the right.
    R = g.head_rotation_matrix([0.3, -1.1, 0.0])
    np.testing.assert_allclose(R[:, 0], g.direction_from_pitch_yaw([0.3, -1.1]), atol=1e-15)
    R = g.head_rotation_matrix([0.0, 0.0, math.radians(30)])
    assert R[2, 1] > 0  # the head's left axis rises ...
    assert R[2, 2] < 1  # ... so the top of the head tilts toward the right shoulder (-y)
    np.testing.assert_allclose(R[:, 2], [0, -0.5, math.cos(math.radians(30))], atol=1e-15)


@pytest.mark.parametrize(
    "head_deg, quat",
    [
        ((0, 0, 0), (0, 0, 0, 1)),
        ((0, 90, 0), (0, 0, S, S)),  # yaw: about +z
        ((90, 0, 0), (0, -S, 0, S)),  # pitch up = rotation about -y (R uses Ry(-pitch))
        ((0, 0, 90), (S, 0, 0, S)),  # roll: about +x
        ((0, 180, 0), (0, 0, 1, 0)),
    ],
)
def test_quaternion_hand_cases(head_deg, quat):
    q = g.head_to_quaternion(np.radians(head_deg))
    np.testing.assert_allclose(q, quat, atol=1e-15)
    np.testing.assert_allclose(
        g.quaternion_from_rotation_matrix(g.head_rotation_matrix(np.radians(head_deg))),
        quat,
        atol=1e-15,
    )


def test_quaternion_and_matrix_rotate_vectors_the_same_way():
    rng = np.random.default_rng(0)
    heads = rng.uniform(-3, 3, (200, 3))
    q = g.head_to_quaternion(heads)
    v = rng.normal(size=(200, 3))
    qv = np.concatenate([v, np.zeros((200, 1))], -1)
    conj = q * np.array([-1, -1, -1, 1])
    rotated = g.quaternion_multiply(g.quaternion_multiply(q, qv), conj)[:, :3]
    np.testing.assert_allclose(
        rotated, np.einsum("nij,nj->ni", g.head_rotation_matrix(heads), v), atol=1e-12
    )
    np.testing.assert_allclose(
        g.rotation_matrix_from_quaternion(q), g.head_rotation_matrix(heads), atol=1e-12
    )


@settings(max_examples=300, deadline=None)
@given(p=st.floats(-1.55, 1.55), y=finite, r=finite)
def test_head_matrix_round_trip(p, y, r):
    head = np.array([p, y, r])
    back = g.head_from_rotation_matrix(g.head_rotation_matrix(head))
    np.testing.assert_allclose(back, head, atol=1e-9)
    back_q = g.head_from_quaternion(g.head_to_quaternion(head))
    np.testing.assert_allclose(back_q, head, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, (4,), elements=st.floats(-1, 1)).filter(lambda q: np.linalg.norm(q) > 1e-3)
)
def test_quaternion_matrix_round_trip(q):
    q = q / np.linalg.norm(q)
    back = g.quaternion_from_rotation_matrix(g.rotation_matrix_from_quaternion(q))
    q = q if q[3] >= 0 else -q
    # q and -q are the same rotation; at w == 0 either sign may come back
    assert np.allclose(back, q, atol=1e-9) or np.allclose(back, -q, atol=1e-9)


def test_gimbal_lock_gives_same_rotation():
    for head in ([math.pi / 2, 0.4, -0.3], [-math.pi / 2, -2.0, 1.0]):
        back = g.head_from_rotation_matrix(g.head_rotation_matrix(head))
        assert back[2] == 0.0
        np.testing.assert_allclose(
            g.head_rotation_matrix(back), g.head_rotation_matrix(head), atol=1e-12
        )


def test_quaternion_near_180_degrees_keeps_precision():
    # Shepperd's branch choice: the naive w-based formula loses ~8 digits here.
    head = np.array([0.0, math.pi - 1e-9, 0.0])
    q = g.head_to_quaternion(head)
    q2 = g.quaternion_from_rotation_matrix(g.head_rotation_matrix(head))
    np.testing.assert_allclose(q2, q, atol=1e-15)


def test_angular_distance_and_eye_consistency():
    np.testing.assert_allclose(g.angular_distance([0, 0], [0, math.pi / 2]), math.pi / 2)
    np.testing.assert_allclose(
        g.angular_distance([0.2, 0.1], [0.2, 0.1 + 1e-9]), 1e-9 * math.cos(0.2), rtol=1e-6
    )
    # eye = gaze seen from the head; a head pointing at the gaze with no roll has eye (0, 0)
    np.testing.assert_allclose(
        g.eye_from_gaze_head([0.3, -0.7], [0.3, -0.7, 0.0]), [0, 0], atol=1e-12
    )
