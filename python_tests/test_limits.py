"""HeadLimiter: limits never exceeded over long random runs; eyes take up the remainder."""

import math

import numpy as np
import pytest

from gazehead_rt.geometry import gaze_from_head_eye
from gazehead_rt.limits import HeadLimiter, HeadLimits

D = math.radians
# Relative slack for float64 rounding in (p_k - p_{k-1}) / dt and its difference quotient.
REL = 1e-9


def finite_differences(heads, dts):
    """v_k, acc_k as the limiter defines them, from a start at rest."""
    v = np.diff(heads, axis=0) / dts[1:, None, None]
    v = np.concatenate([np.zeros_like(v[:1]), v])
    acc = np.diff(v, axis=0) / dts[1:, None, None]
    return v, acc


def run(limiter, targets, gazes, dts):
    poses = [limiter.apply(t, g, dt) for t, g, dt in zip(targets, gazes, dts)]
    return poses, np.stack([p.head for p in poses])


def test_limits_hold_for_10000_ticks_random_targets_and_dt():
    rng = np.random.default_rng(0)
    T, N = 10_000, 16
    lim = HeadLimits()
    # Targets far outside the range and jumping every 5-60 ticks; dt jitters 5-15 ms.
    jumps = rng.uniform(0, 1, T) < 0.05
    targets = np.cumsum(jumps[:, None, None] * rng.normal(0, 1.2, (T, N, 3)), axis=0)
    targets += rng.normal(0, 0.02, (T, N, 3))  # plus small-scale jitter every tick
    gazes = targets[:, :, :2] + rng.normal(0, 0.3, (T, N, 2))
    dts = rng.uniform(0.005, 0.015, T)
    limiter = HeadLimiter(lim)
    limiter.reset(head=np.zeros((N, 3)))  # at rest at neutral
    poses, heads = run(limiter, targets, gazes, dts)
    heads = np.concatenate([np.zeros((1, N, 3)), heads])
    dts = np.concatenate([[1.0], dts])
    v, acc = finite_differences(heads, dts)
    assert np.all(heads >= lim.angle_min_rad) and np.all(heads <= lim.angle_max_rad)
    assert np.all(np.abs(v) <= lim.velocity_max_rad_s * (1 + REL))
    assert np.all(np.abs(acc) <= lim.acceleration_max_rad_s2 * (1 + REL))
    # and the limits are not trivially slack: every one of them was reached
    assert np.isclose(heads.max(axis=(0, 1)), lim.angle_max_rad).all()
    assert np.isclose(np.abs(v).max(axis=(0, 1)), lim.velocity_max_rad_s).all()
    assert np.isclose(np.abs(acc).max(axis=(0, 1)), lim.acceleration_max_rad_s2).all()
    eyes = np.stack([p.eye for p in poses])
    assert np.all(np.abs(eyes) <= lim.eye_range_rad)


def test_velocity_only_limits_with_infinite_acceleration():
    lim = HeadLimits(acceleration_max_rad_s2=np.inf, velocity_max_rad_s=1.0)
    limiter = HeadLimiter(lim)
    limiter.reset(head=np.zeros(3))
    poses, heads = run(
        limiter, [np.array([[0.0, 1.0, 0.0]])] * 120, [np.zeros(2)] * 120, [0.01] * 120
    )
    # 1 rad/s for 1 s, then it stops on the target exactly (no overshoot)
    np.testing.assert_allclose(heads[:100, 0, 1], np.arange(1, 101) * 0.01, atol=1e-12)
    np.testing.assert_allclose(heads[100:, 0, 1], 1.0, atol=1e-12)


def test_trapezoid_profile_hand_computed():
    # yaw step 0 -> 1 rad with v_max 2 rad/s, a_max 10 rad/s^2: accelerate 0.2 s (0.2 rad),
    # cruise 0.3 s (0.6 rad), brake 0.2 s (0.2 rad) -> arrives at t = 0.7 s.
    lim = HeadLimits(
        angle_min_rad=-2.0, angle_max_rad=2.0, velocity_max_rad_s=2.0, acceleration_max_rad_s2=10.0
    )
    limiter = HeadLimiter(lim)
    limiter.reset(head=np.zeros(3))
    dt = 0.001
    _, heads = run(limiter, [np.array([[0.0, 1.0, 0.0]])] * 1000, [np.zeros(2)] * 1000, [dt] * 1000)
    yaw = heads[:, 0, 1]
    t_arrive = (np.argmax(yaw >= 1.0 - 1e-9) + 1) * dt
    assert 0.69 <= t_arrive <= 0.72, t_arrive
    assert yaw.max() <= 1.0 + 1e-12  # braking toward the target: no overshoot
    assert np.all(np.diff(yaw) >= -1e-12)  # monotone
    t_half = (np.argmax(yaw >= 0.5) + 1) * dt  # midway is reached at 0.35 s by symmetry
    assert abs(t_half - 0.35) <= 0.002


def test_braking_at_joint_end_from_full_speed():
    # Heading for a target beyond +80 deg at full speed: it must brake, never exceed 80 deg,
    # and arrive at rest.
    lim = HeadLimits()
    limiter = HeadLimiter(lim)
    limiter.reset(head=np.zeros(3))
    _, heads = run(limiter, [np.array([[0.0, 3.0, 0.0]])] * 300, [np.zeros(2)] * 300, [0.01] * 300)
    yaw = heads[:, 0, 1]
    assert yaw.max() <= D(80) and yaw[-1] == pytest.approx(D(80), abs=1e-12)
    assert yaw[-1] == yaw[-2]  # at rest


def test_eyes_take_up_the_remainder_hand_cases():
    lim = HeadLimits(
        angle_min_rad=-D(30),
        angle_max_rad=D(30),
        velocity_max_rad_s=np.inf,
        acceleration_max_rad_s2=np.inf,
    )
    events = []
    limiter = HeadLimiter(lim, on_unreachable=lambda agents, pose: events.append(agents.tolist()))
    gaze = np.array([[0.0, D(70)], [0.0, D(100)], [D(20), D(10)]])
    head_target = np.array([[0.0, D(70), 0.0], [0.0, D(100), 0.0], [D(10), D(5), 0.0]])
    limiter.reset(head=np.zeros((3, 3)))
    pose = limiter.apply(head_target, gaze, 0.01)  # no rate limits: one tick settles
    np.testing.assert_allclose(pose.head[:, 1], [D(30), D(30), D(5)], atol=1e-12)
    # agent 0: head 30 + eye 40 = 70, reachable; agent 1: eye needs 70 > 50, clipped, 20 deg
    # short; agent 2: eye = what is left of the gaze after the head
    np.testing.assert_allclose(pose.eye[0], [0.0, D(40)], atol=1e-12)
    np.testing.assert_allclose(pose.eye[1], [0.0, D(50)], atol=1e-12)
    assert pose.unreachable.tolist() == [False, True, False]
    assert pose.eye_saturated.tolist() == [False, True, False]
    np.testing.assert_allclose(pose.gaze_error_rad, [0.0, D(20), 0.0], atol=1e-12)
    np.testing.assert_allclose(gaze_from_head_eye(pose.head[2], pose.eye[2]), gaze[2], atol=1e-12)
    assert events == [[1]]
    limiter.apply(head_target, gaze, 0.01)
    assert events == [[1]]  # rising edge only: no repeat while it stays unreachable
    gaze[1, 1] = D(60)
    limiter.apply(head_target, gaze, 0.01)
    gaze[1, 1] = D(100)
    limiter.apply(head_target, gaze, 0.01)
    assert events == [[1], [1]]


def test_look_behind_is_unreachable_for_default_robot():
    limiter = HeadLimiter()
    pose = limiter.apply(np.array([[0.0, D(150), 0.0]]), np.array([0.0, D(160)]), 0.01)
    assert pose.unreachable[0] and pose.eye_saturated[0]
    assert pose.head[0, 1] == pytest.approx(D(80))  # first tick starts at the clipped target
    # eye at its limit, gaze error = 160 - 80 - 50 = 30 deg
    assert pose.gaze_error_rad[0] == pytest.approx(D(30))


def test_transient_saturation_is_not_unreachable():
    # A big but reachable shift: the eyes saturate while the slow head turns, then recover.
    limiter = HeadLimiter(HeadLimits(velocity_max_rad_s=D(60)))
    limiter.reset(head=np.zeros(3))
    tgt, gaze = np.array([[0.0, D(60), 0.0]]), np.array([0.0, D(70)])
    poses = [limiter.apply(tgt, gaze, 0.01) for _ in range(150)]
    sat = [p.eye_saturated[0] for p in poses]
    assert sat[0] and not sat[-1] and not any(p.unreachable[0] for p in poses)


def test_agent_reset_and_errors():
    limiter = HeadLimiter()
    limiter.reset(head=np.zeros((2, 3)))
    limiter.apply(np.full((2, 3), 0.3), np.zeros(2), 0.01)
    limiter.reset(head=[0.0, 0.1, 0.0], agents=[1])
    np.testing.assert_allclose(limiter.head[1], [0.0, 0.1, 0.0])
    np.testing.assert_allclose(limiter.velocity_rad_s[1], 0.0)
    with pytest.raises(ValueError, match="dt_s"):
        limiter.apply(np.zeros((2, 3)), np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="dt_s"):
        limiter.apply(np.zeros((2, 3)), np.zeros(2), float("nan"))
    with pytest.raises(ValueError, match="agent 1"):
        limiter.apply(np.array([[0, 0, 0], [0, np.nan, 0]]), np.zeros(2), 0.01)
    with pytest.raises(ValueError, match="head_target"):
        limiter.apply(np.zeros(3), np.zeros(2), 0.01)
    with pytest.raises(ValueError, match="neutral"):
        HeadLimits(angle_min_rad=0.1)
    with pytest.raises(ValueError, match="velocity_max_rad_s"):
        HeadLimits(velocity_max_rad_s=0.0)
