"""SGaze importer: sign conventions on constructed rows, and the real files when present."""

import os

import numpy as np
import pytest

from gazehead_rt.training.data.sgaze import DEFAULT_SPLIT, sgaze_to_clip
from gazehead_rt.training.paths import sgaze_dir

D2R = np.pi / 180.0


def _rows(T=3000, eye_x=0.0, eye_y=0.0, vel_x=0.0, vel_y=0.0):
    r = np.zeros((T, 12))
    r[:, 0], r[:, 1], r[:, 4], r[:, 5] = eye_x, eye_y, vel_x, vel_y
    return r


def test_eye_signs_follow_design_conventions():
    # eye 10 deg to the viewer's right and 5 deg up, head still: gaze yaw -10, pitch +5
    c = sgaze_to_clip(_rows(eye_x=10.0, eye_y=5.0), "x", fps=30.0)
    assert c.fps == 30.0 and c.frames == 900
    np.testing.assert_allclose(c.head, 0.0, atol=1e-12)
    np.testing.assert_allclose(c.gaze[10:], [[5 * D2R, -10 * D2R]] * (c.frames - 10),
                               atol=1e-5)


def test_head_turn_to_the_right_is_negative_yaw_and_high_passed():
    # a 1-s head turn to the right at 30 deg/s, then rest: yaw goes to about -30 deg, then
    # decays toward 0 with the body time constant (the torso follows the head)
    r = _rows(T=3000)
    r[100:200, 4] = 30.0
    c = sgaze_to_clip(r, "x", fps=30.0)
    yaw = c.head[:, 1] / D2R
    k_end = int(2.0 * 30)  # t = 2 s, just after the turn
    assert -30.0 < yaw[k_end] < -22.0  # a little already absorbed by the body
    assert abs(yaw[-1]) < 0.1 * abs(yaw[k_end])
    # the eye stays centred, so gaze = head
    np.testing.assert_allclose(c.gaze[:, 1], c.head[:, 1], atol=1e-6)


def test_pitch_bias_is_removed():
    c = sgaze_to_clip(_rows(vel_y=-2.0), "x", fps=30.0)  # constant bias only
    assert np.abs(c.head[:, 0]).max() < 1e-6


needs_data = pytest.mark.skipif(not os.path.isdir(sgaze_dir()),
                                reason=f"SGaze data not found at {sgaze_dir()}")


@needs_data
def test_real_recording_imports_plausibly():
    from gazehead_rt.training.data.sgaze import read_sgaze_file

    rows = read_sgaze_file(os.path.join(sgaze_dir(), "sgaze_02.txt"))
    c = sgaze_to_clip(rows, "sgaze_02", fps=30.0)
    assert abs(c.frames - len(rows) * 0.3) <= 2
    yaw_deg = np.abs(c.head[:, 1]) / D2R
    pitch_deg = np.abs(c.head[:, 0]) / D2R
    assert np.percentile(yaw_deg, 99) < 80.0 and np.percentile(pitch_deg, 99) < 60.0
    assert set(DEFAULT_SPLIT.values()) == {"test", "val"}
