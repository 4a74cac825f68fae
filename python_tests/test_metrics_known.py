"""Each docs/design.md §6 metric on constructed signals whose answer is known."""

import numpy as np
import pytest

from gazehead_rt.training import metrics as M

FPS = 30.0
D2R = np.pi / 180.0


def _smooth_noise(T, seed, ch=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T + 40, ch))
    k = np.hanning(15)
    k /= k.sum()
    return np.stack([np.convolve(x[:, c], k, "same") for c in range(ch)], 1)[20:-20] * 0.3


@pytest.mark.parametrize("shift_frames", [0, 3, 6])
def test_lag_of_shifted_copy(shift_frames):
    g = _smooth_noise(3000, 0)
    head = np.zeros((3000, 3))
    head[shift_frames:, :2] = 0.6 * g[: 3000 - shift_frames]
    lag = M.gaze_head_lag_s(g, head, FPS)
    assert lag == pytest.approx(shift_frames / FPS, abs=0.2 / FPS)


def test_lag_sub_frame_and_negative():
    t = np.arange(3000) / FPS
    g = _smooth_noise(3000, 1)
    # a half-frame delay by linear interpolation, and a lead of 2 frames
    head = np.zeros((3000, 3))
    for c in range(2):
        head[:, c] = np.interp(t - 0.5 / FPS, t, g[:, c])
    assert M.gaze_head_lag_s(g, head, FPS) == pytest.approx(0.5 / FPS, abs=0.2 / FPS)
    head2 = np.zeros((3000, 3))
    head2[:-2, :2] = g[2:]
    assert M.gaze_head_lag_s(g, head2, FPS) == pytest.approx(-2 / FPS, abs=0.2 / FPS)
    assert np.isnan(M.gaze_head_lag_s(g, np.zeros((3000, 3)), FPS))


def test_jerk_of_cubic_polynomial():
    t = np.arange(300) / FPS
    a_rad_s3 = 0.7
    head = np.stack([a_rad_s3 * t**3, -2 * a_rad_s3 * t**3, np.zeros_like(t)], 1)
    # d3/dt3 (a t^3) = 6a exactly, also for the third finite difference of a cubic
    expect = (6 * a_rad_s3 + 12 * a_rad_s3) / 2 / D2R
    assert M.mean_abs_jerk_deg_s3(head, FPS) == pytest.approx(expect, rel=1e-6)
    assert M.jerk_ratio(2 * head, head, FPS) == pytest.approx(2.0)


def test_mae_pearson_best_of_k_diversity():
    real = np.zeros((600, 3))
    real[:, 1] = np.sin(np.arange(600) / 20)
    gen = real.copy()
    gen[:, 0] += 1.0 * D2R
    gen[:, 1] -= 2.0 * D2R
    np.testing.assert_allclose(M.mae_deg(gen, real), [1.0, 2.0], atol=1e-9)
    assert M.pearson(3 * real[:, 1] + 1, real[:, 1]) == pytest.approx(1.0)
    assert M.pearson(-real[:, 1], real[:, 1]) == pytest.approx(-1.0)
    samples = np.stack([gen, real, gen])
    assert M.best_of_k_mae_deg(samples, real, 300) == pytest.approx(0.0)
    # three samples: two identical, one 1 deg pitch + 2 deg yaw away -> pairwise sqrt(5)
    assert M.diversity_deg(samples) == pytest.approx(2 / 3 * np.sqrt(5.0))


def test_head_contribution_of_half_share_steps():
    T = 600
    gaze = np.zeros((T, 2))
    head = np.zeros((T, 3))
    # alternating 12-deg and 36-deg yaw steps every 2 s; the head takes 1/4 and 1/2 of them,
    # 3 frames later (inside the 0.5-s window)
    pos, hpos = 0.0, 0.0
    for i, t0 in enumerate(range(30, T - 60, 60)):
        amp = (12.0 if i % 2 == 0 else 36.0) * (1 if i % 4 < 2 else -1)
        share = 0.25 if abs(amp) < 20 else 0.5
        pos += amp
        hpos += share * amp
        gaze[t0:, 1] = pos * D2R
        head[t0 + 3 :, 1] = hpos * D2R
    curve, count = M.head_contribution_curve(gaze, head, FPS)
    bins = M.CONTRIBUTION_BINS_DEG
    k12 = np.searchsorted(bins, 12.0, "right") - 1
    k36 = np.searchsorted(bins, 36.0, "right") - 1
    assert curve[k12] == pytest.approx(0.25) and curve[k36] == pytest.approx(0.5)
    assert count.sum() == count[k12] + count[k36] and count[k12] > 3
    assert M.curve_rmse(curve + 0.1, curve, count, min_count=1) == pytest.approx(0.1)


def test_eye_violations_and_speed_distance():
    eye = np.zeros((1000, 2))
    eye[:10, 1] = 51 * D2R
    eye[10:15, 0] = -49 * D2R
    assert M.eye_violations_per_1000(eye) == pytest.approx(10.0)
    t = np.arange(301) / FPS
    real = np.stack([np.zeros_like(t), 20 * D2R * t, np.zeros_like(t)], 1)
    gen = np.stack([np.zeros_like(t), 10 * D2R * t, np.zeros_like(t)], 1)
    assert M.speed_w1_deg_s(gen, real, FPS) == pytest.approx(10.0, rel=1e-6)


def test_classifier_two_sample_test_separates_only_different_data():
    rng = np.random.default_rng(0)
    same_a = rng.standard_normal((400, 30, 6))
    same_b = rng.standard_normal((400, 30, 6))
    acc_same = M.classifier_two_sample_test(same_a, same_b, seed=0, steps=150)
    diff = same_b.copy()
    diff[..., 2:4] *= 3.0  # "head velocity" three times too large
    acc_diff = M.classifier_two_sample_test(same_a, diff, seed=0, steps=150)
    assert abs(acc_same - 0.5) < 0.1
    assert acc_diff > 0.95
