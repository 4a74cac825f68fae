"""SGaze importer: signs, segments and integration on constructed rows; the real files when
present (segments, style, split, and the missing eye counter-rotation it documents)."""

import os

import numpy as np
import pytest

from gazehead_rt.geometry import eye_from_gaze_head
from gazehead_rt.training.data.sgaze import (
    DEFAULT_SPLIT,
    SGAZE_RATE_HZ,
    segment_bounds,
    sgaze_segments,
    vor_diagnostics,
)
from gazehead_rt.training.paths import sgaze_dir

D2R = np.pi / 180.0


def _rows(T=1500, eye_x=0.0, eye_y=0.0, vel_x=0.0, vel_y=0.0):
    r = np.zeros((T, 12))
    r[:, 0], r[:, 1], r[:, 4], r[:, 5] = eye_x, eye_y, vel_x, vel_y
    return r


def test_eye_signs_follow_design_conventions():
    # eye 10 deg to the viewer's right and 5 deg up, head still: gaze yaw -10, pitch +5
    (c,) = sgaze_segments(_rows(eye_x=10.0, eye_y=5.0), "x", fps=30.0)
    assert c.fps == 30.0 and c.frames == 450
    np.testing.assert_allclose(c.head, 0.0, atol=1e-12)
    np.testing.assert_allclose(c.gaze[10:], [[5 * D2R, -10 * D2R]] * (c.frames - 10), atol=1e-5)
    assert c.extra["kind"] == "sgaze" and c.extra["timing_reliable"] is False


def test_head_turn_to_the_right_is_negative_yaw_and_held():
    # a 1-s head turn to the right at 30 deg/s, then rest: yaw goes to -30 deg and stays
    # there (no torso model pulls it back)
    r = _rows(T=1500)
    r[100:200, 4] = 30.0
    (c,) = sgaze_segments(r, "x", fps=30.0)
    yaw = c.head[:, 1] / D2R
    assert yaw[0] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(yaw[int(2.5 * 30) :], -30.0, atol=1e-6)
    # the eye stays centred, so gaze = head
    np.testing.assert_allclose(c.gaze[:, 1], c.head[:, 1], atol=1e-6)


def test_gaze_is_head_composed_with_eye_by_rotation():
    r = _rows(T=1500, eye_x=-20.0, eye_y=15.0)
    r[:, 5] = np.where(np.arange(1500) < 1000, 20.0, -40.0)  # pitch up, then down fast
    r[:, 4] = 25.0
    (c,) = sgaze_segments(r, "x", fps=30.0)
    eye = eye_from_gaze_head(c.gaze.astype(np.float64), c.head.astype(np.float64))
    # the per-recording pitch mean (0) is removed, then the velocity integrated
    np.testing.assert_allclose(eye[5:-5], [[15 * D2R, 20 * D2R]] * (c.frames - 10), atol=1e-4)


def test_pitch_bias_is_removed():
    (c,) = sgaze_segments(_rows(vel_y=-2.0), "x", fps=30.0)  # constant bias only
    assert np.abs(c.head[:, 0]).max() < 1e-6


def test_segments_start_at_zero_and_yaw_wraps():
    # 50 s of a steady 20 deg/s body turn: three segments (20, 20, 10 s), each from 0;
    # 20 s * 20 deg/s = 400 deg within a segment, so yaw wraps
    r = _rows(T=5000, vel_x=-20.0)
    clips = sgaze_segments(r, "rec", fps=30.0, source="sgaze/rec.txt", split="val", scene=2)
    assert [c.id for c in clips] == ["rec_s00", "rec_s01", "rec_s02"]
    assert [c.extra["start_s"] for c in clips] == [0.0, 20.0, 40.0]
    for c in clips:
        assert c.split == "val" and c.subject == "rec" and c.extra["scene"] == 2
        # 0 at the segment's first row; the first frame averages ~3 rows of the turn
        assert abs(c.head[0, 1]) < 0.1 * D2R
        assert np.all(np.abs(c.head[:, 1]) <= np.pi) and np.all(np.abs(c.gaze[:, 1]) <= np.pi)
        dyaw = (np.diff(c.head[:, 1]) + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(dyaw[5:-5], 20 * D2R / 30.0, atol=1e-5)
    assert np.min(clips[0].head[:, 1]) < -3.0  # wrapped from +180 to -180
    assert clips[2].frames == pytest.approx(300, abs=2)


def test_segment_bounds():
    assert segment_bounds(1000) == [(0, 1000)]
    assert segment_bounds(5000) == [(0, 2000), (2000, 4000), (4000, 5000)]
    assert segment_bounds(4900) == [(0, 2000), (2000, 4900)]  # 9-s remainder joins


def test_segment_without_shifts_takes_the_recordings_style():
    rng = np.random.default_rng(0)
    r = _rows(T=4000)
    # first 20 s: eye jumps of 15 deg every second; last 20 s: still eye
    r[:2000, 0] = np.repeat(rng.choice([-7.5, 7.5], 20), 100)
    clips = sgaze_segments(r, "x", fps=30.0)
    assert len(clips) == 2
    assert clips[0].extra["style_from_recording"] is False
    assert clips[1].extra["style_from_recording"] is True
    assert clips[1].extra["style"] == clips[0].extra["style"]
    assert clips[0].extra["style"][0] == pytest.approx(0.0, abs=1e-6)  # head never moved


def test_vor_diagnostics_find_a_true_vor_and_its_delay():
    # constructed rows with a perfect VOR whose head column lags the eye by 200 ms:
    # eye velocity = -head velocity(t + 0.2 s) between saccades
    rng = np.random.default_rng(1)
    T = 6000
    t = np.arange(T) / SGAZE_RATE_HZ
    hv = 40 * np.sin(2 * np.pi * 0.3 * t) + 10 * rng.standard_normal(T).cumsum() / 30
    eye = -np.cumsum(hv) / SGAZE_RATE_HZ
    eye = eye - 30 * np.round(eye / 30)  # saccades re-centre the eye (nystagmus)
    rows = np.zeros((T, 12))
    rows[:, 0] = eye
    rows[20:, 4] = hv[:-20]  # head column delayed by 200 ms
    rows[:, 6] = np.gradient(rows[:, 4]) * SGAZE_RATE_HZ
    d = vor_diagnostics(rows)
    assert d["fit_gain"] == pytest.approx(-1.0, abs=0.05)
    assert d["fit_delay_s"] == pytest.approx(-0.2, abs=0.011)
    assert d["fit_r2"] > 0.9
    assert d["acc_r"] == pytest.approx(1.0, abs=1e-6)


needs_data = pytest.mark.skipif(
    not os.path.isdir(sgaze_dir()), reason=f"SGaze data not found at {sgaze_dir()}"
)


@needs_data
def test_real_recording_imports_as_segments_with_style():
    from gazehead_rt.training.data.sgaze import read_sgaze_file

    rows = read_sgaze_file(os.path.join(sgaze_dir(), "sgaze_02.txt"))
    clips = sgaze_segments(rows, "sgaze_02", fps=30.0)
    assert sum(c.frames for c in clips) == pytest.approx(len(rows) * 0.3, abs=2 * len(clips))
    assert all(17.0 <= c.frames / 30.0 <= 30.0 for c in clips)
    styles = np.array([c.extra["style"] for c in clips], dtype=float)
    assert np.all(np.isfinite(styles))
    assert np.all((styles[:, 0] >= -0.5) & (styles[:, 0] <= 1.5))
    assert set(DEFAULT_SPLIT.values()) == {"test", "val"}


@needs_data
def test_real_recording_has_no_eye_counter_rotation():
    # the finding documented in the importer: no lag/filter makes the eye cancel the head
    from gazehead_rt.training.data.sgaze import read_sgaze_file

    d = vor_diagnostics(read_sgaze_file(os.path.join(sgaze_dir(), "sgaze_02.txt")))
    assert -0.6 < d["fit_gain"] < -0.1 and d["fit_r2"] < 0.3
    assert d["pos_r"] > 0.5 and d["pos_lag_s"] < 0  # eye position leads head velocity
