"""The procedural eye-head model follows the physiological rules it cites."""

import numpy as np
import pytest

from gazehead_rt.geometry import eye_from_gaze_head
from gazehead_rt.training.data.procedural import (
    ProceduralParams,
    generate_clip,
    head_from_gaze,
    min_jerk,
    saccadic_gaze,
)

FPS = 30.0
D2R = np.pi / 180.0


def _step_gaze(amp_deg, T=90, t0=15, axis=1):
    g = np.zeros((T, 2))
    g[t0:, axis] = amp_deg * D2R
    return g


def test_min_jerk_profile():
    assert min_jerk(0.0) == 0.0 and min_jerk(1.0) == 1.0 and min_jerk(0.5) == pytest.approx(0.5)
    assert min_jerk(-1.0) == 0.0 and min_jerk(2.0) == 1.0


@pytest.mark.parametrize("amp_deg", [8.0, 30.0, 60.0])
def test_head_contribution_grows_with_amplitude(amp_deg):
    p = ProceduralParams()
    head = head_from_gaze(_step_gaze(amp_deg), FPS, p)
    expect = p.head_slope * max(0.0, amp_deg - p.head_threshold_deg)
    expect = max(expect, amp_deg - p.eye_max_deg)  # eye range limit
    if expect < 0.5:
        expect = 0.0
    assert head[-1, 1] / D2R == pytest.approx(expect, abs=1e-6)
    assert np.all(head[:, 0] == 0.0) and np.all(head[:, 2] == 0.0)


def test_head_latency_and_duration():
    p = ProceduralParams(head_latency_s=0.1)
    head = head_from_gaze(_step_gaze(40.0, t0=15), FPS, p)
    moving = np.nonzero(np.abs(np.diff(head[:, 1])) > 1e-9)[0]
    # gaze moved between frames 14 and 15: onset 14/30 s, head starts 100 ms later
    onset_s = 14 / FPS
    assert (moving[0] + 1) / FPS >= onset_s + 0.1 - 1e-9
    assert (moving[0] + 1) / FPS < onset_s + 0.1 + 2 / FPS
    dur = p.head_d0_s + p.head_d1_s_per_deg * head[-1, 1] / D2R
    assert (moving[-1] - moving[0] + 1) / FPS == pytest.approx(dur, abs=2 / FPS)


def test_vor_keeps_gaze_while_eye_counter_rotates():
    g = _step_gaze(40.0)
    head = head_from_gaze(g, FPS)
    eye = eye_from_gaze_head(g, head)
    # after the shift gaze is fixed; eye yaw + head yaw = gaze yaw (pure yaw rotation)
    np.testing.assert_allclose(eye[20:, 1] + head[20:, 1], g[20:, 1], atol=1e-9)
    assert eye[20, 1] > eye[-1, 1] > 0


def test_saccades_follow_main_sequence():
    p = ProceduralParams(fixation_jitter_deg=0.0)
    g = saccadic_gaze(60.0, 1000.0, np.random.default_rng(3), p)  # 1 kHz resolves saccades
    v = np.hypot(*np.diff(g, axis=0).T) * 1000.0 / D2R
    moving = v > 1.0
    edges = np.flatnonzero(np.diff(moving.astype(int)))
    assert len(edges) > 20
    for a, b in zip(edges[::2], edges[1::2]):
        amp = np.hypot(*(g[b + 1] - g[a]).T) / D2R
        if amp < 5:
            continue
        dur = (b - a) / 1000.0
        assert dur == pytest.approx(p.saccade_d0_s + p.saccade_d1_s_per_deg * amp, abs=0.003)


def test_generated_clip_is_plausible():
    c = generate_clip("p", 120.0, FPS, seed=5)
    assert c.frames == 3600 and c.valid.all()
    eye = eye_from_gaze_head(c.gaze, c.head) / D2R
    assert np.percentile(np.abs(eye), 99) < 40.0
    assert 5.0 < np.degrees(c.head[:, 1].std()) < 60.0
    c2 = generate_clip("p", 120.0, FPS, seed=5)
    np.testing.assert_array_equal(c.head, c2.head)  # seeded
