"""The yardstick's metrics and baselines (training/metrics.py, training/baselines.py,
training/yardstick.py) on constructed signals whose answer is known."""

import numpy as np
import pytest

from gazehead_rt.training import metrics as M
from gazehead_rt.training.baselines import (
    ProportionalBaseline,
    fit_proportional,
    fit_proportional_from_stats,
    proportional_stats,
)
from gazehead_rt.training.data.dataset import Clip
from gazehead_rt.training.yardstick import generator_rollout, person_windows

FPS = 30.0
D2R = np.pi / 180.0


def _steps(amps_deg, gap_s=2.0, share=0.75, delay=5, T=None):
    """Yaw gaze steps every ``gap_s``; the head takes ``share`` of each, ``delay`` frames on."""
    gap = int(gap_s * FPS)
    T = T or gap * (len(amps_deg) + 1)
    gaze, head = np.zeros((T, 2)), np.zeros((T, 3))
    pos = hpos = 0.0
    for i, amp in enumerate(amps_deg):
        t0 = 15 + i * gap
        pos += amp
        hpos += share * amp
        gaze[t0:, 1] = pos * D2R
        head[t0 + delay :, 1] = hpos * D2R
    return gaze, head


def test_eye_eccentricity_and_beyond_pct():
    e = np.array([[30.0, 0.0], [0.0, -40.0], [30.0, 40.0]]) * D2R
    expect = [30.0, 40.0, np.degrees(np.arccos(np.cos(30 * D2R) * np.cos(40 * D2R)))]
    np.testing.assert_allclose(M.eye_eccentricity_deg(e), expect, atol=1e-9)
    eye = np.zeros((1000, 2))
    eye[:10, 1] = 51 * D2R  # 10 frames beyond 50 deg
    eye[10:20, :] = 36 * D2R  # 36 deg in both: eccentricity 49.6 deg, not beyond
    assert M.eye_beyond_pct(eye) == pytest.approx(1.0)


def test_eye_after_shift_is_the_share_left_to_the_eye():
    # gaze 0 -> 20 -> 0 -> 20 -> 0 deg, head 0 -> 15 -> 0 -> 15 -> 0 (3/4 of each step): 1 s
    # after each step the eye is 5, 0, 5, 0 deg off-centre
    gaze, head = _steps([20.0, -20.0, 20.0, -20.0])
    np.testing.assert_allclose(M.eye_after_shift_deg(gaze, head, FPS), [5, 0, 5, 0], atol=1e-6)
    # a step followed by another 0.5 s later is not held for 1 s: only the second counts
    g2, h2 = _steps([20.0, 20.0], gap_s=0.5, T=150)
    ea2 = M.eye_after_shift_deg(g2, h2, FPS)
    np.testing.assert_allclose(ea2, [10.0], atol=1e-6)  # 40 deg of gaze, 30 of head
    # shifts under the minimum amplitude are skipped
    g3, h3 = _steps([3.0, -3.0])
    assert len(M.eye_after_shift_deg(g3, h3, FPS)) == 0


def test_shift_spread_counts_only_frames_after_shifts():
    gaze, head = _steps([20.0, -20.0, 20.0])
    a = np.stack([head, head])
    a[0, :, 1] += 3.0 * D2R  # 3 deg apart everywhere ...
    for s, _ in M.detect_gaze_shifts(gaze, FPS):
        a[0, s : s + 30, 1] = head[s : s + 30, 1] + 1.0 * D2R  # ... 1 deg within 1 s of a shift
    # two samples 1 deg apart: each 0.5 deg from their mean
    assert M.shift_spread_deg(a, gaze, FPS) == pytest.approx(0.5, abs=1e-6)
    assert np.isnan(M.shift_spread_deg(a[:1], gaze, FPS))
    assert np.isnan(M.shift_spread_deg(a, np.zeros_like(gaze), FPS))


def test_head_share_in_the_yardstick_bins():
    gaze, head = _steps([10.0, -10.0, 60.0, -60.0, 10.0], share=0.25)
    # the large steps: the head takes 0.6 of them
    g2, h2 = _steps([60.0, -60.0], share=0.6)
    curve, count = M.head_contribution_curve(
        None,
        None,
        FPS,
        bins_deg=M.SHIFT_BINS_DEG,
        pairs=tuple(
            np.concatenate(x)
            for x in zip(
                M.head_contribution_pairs(gaze[:, :], head, FPS),
                M.head_contribution_pairs(g2, h2, FPS),
            )
        ),
    )
    assert count.tolist() == [3, 0, 4]
    assert curve[0] == pytest.approx(0.25) and np.isnan(curve[1])
    assert curve[2] == pytest.approx((0.25 * 2 + 0.6 * 2) / 4)


def _clip(i, gaze, head, subject="u1", scene="s"):
    return Clip(
        id=f"c{i}",
        gaze=gaze,
        head=head,
        valid=np.ones(len(gaze), bool),
        fps=FPS,
        subject=subject,
        extra={"scene": scene},
    )


def test_proportional_from_stats_equals_direct_fit_and_selects():
    rng = np.random.default_rng(0)
    clips = []
    for i in range(6):
        g = np.cumsum(rng.normal(0, 0.02, (300, 2)), 0)
        k = 0.5 if i < 3 else 0.9  # two groups of people with different gains
        h = np.concatenate([k * g, np.zeros((300, 1))], 1)
        clips.append(_clip(i, g, h))
    direct = fit_proportional(clips, FPS)
    via = fit_proportional_from_stats(proportional_stats(clips, FPS), FPS)
    assert via.tau_s == direct.tau_s == 0.0
    np.testing.assert_allclose(via.k, direct.k, rtol=1e-9)
    st = proportional_stats(clips, FPS, start="first")
    first = fit_proportional_from_stats(st, FPS, start="first", select=np.arange(6) < 3)
    np.testing.assert_allclose(first.k, [0.5, 0.5], rtol=1e-6)
    assert first.start == "first"
    # "first" starts the low-pass at the first gaze sample: a held gaze gives k * gaze at once
    g = np.full((10, 2), 0.3)
    out = ProportionalBaseline(k=(1.0, 0.5), tau_s=0.5, fps=FPS, start="first")(g)
    np.testing.assert_allclose(out[0, :, :2], [[0.3, 0.15]] * 10, rtol=1e-6)
    zero = ProportionalBaseline(k=(1.0, 0.5), tau_s=0.5, fps=FPS)(g)
    assert zero[0, 0, 0] < 0.1


def test_windows_recentre_on_median_yaw_and_rollout_starts_at_the_real_head():
    T = 620
    t = np.arange(T) / FPS
    head = np.zeros((T, 3))
    head[:, 1] = np.radians(170.0) + np.radians(30.0) * np.sin(t)  # crosses +-180
    head[:, 1] = (head[:, 1] + np.pi) % (2 * np.pi) - np.pi
    gaze = np.stack([np.full(T, 0.1), head[:, 1] + np.radians(10.0)], 1)
    gaze[:, 1] = (gaze[:, 1] + np.pi) % (2 * np.pi) - np.pi
    wins = person_windows([_clip(0, gaze, head)])
    assert len(wins) == 2 and all(w.frames == 300 for w in wins)
    for w in wins:
        assert abs(np.median(w.head[:, 1])) < 1e-9
        np.testing.assert_allclose(w.gaze[:, 1] - w.head[:, 1], np.radians(10.0), atol=1e-6)
        assert np.ptp(w.head[:, 1]) < np.radians(61.0)  # continuous across +-180
    # the head swings +-30 deg about its median: a 20-deg cap drops both windows
    assert len(person_windows([_clip(0, gaze, head)], max_yaw_deg=20.0)) == 0
    assert len(person_windows([_clip(0, gaze, head)], max_yaw_deg=40.0)) == 2
    out = generator_rollout(None, wins, k=3, seed=0)
    assert len(out) == 2 and out[0].shape == (3, 300, 3)
    for w, s in zip(wins, out):
        np.testing.assert_allclose(s[:, 0], np.repeat(w.head[:1], 3, 0), atol=1e-6)
    assert np.all(np.isfinite(out[0])) and np.ptp(out[0][:, -1, 1]) > 0  # samples differ
