"""Known answers for the time-series stage: outliers, gaps, zero-lag smoothing, tracks,
resampling, and the whole per-track chain on a synthetic recording. numpy only."""

import numpy as np
import pytest

from gazehead_rt.geometry import direction_from_pitch_yaw, head_rotation_matrix
from gazehead_rt.training.extract.estimate import RawFrames
from gazehead_rt.training.extract.filtering import (
    fill_short_gaps,
    gaussian_cutoff_hz,
    gaussian_smooth,
    hampel_outliers,
    resample_linear,
    runs,
)
from gazehead_rt.training.extract.head_pose import CameraModel, body_from_camera_for_position
from gazehead_rt.training.extract.tracks import ExtractConfig, process_track, split_tracks


def _crossing(x, level):
    """Fractional index where x first crosses ``level`` upward (linear interpolation)."""
    i = int(np.nonzero(x >= level)[0][0])
    return i - 1 + (level - x[i - 1]) / (x[i] - x[i - 1])


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.zeros(3, bool)) == []


def test_hampel_rejects_spikes_keeps_steps():
    x = np.r_[np.zeros(20), np.full(20, 0.5)] + 0.001 * np.sin(np.arange(40))
    x[8] += 0.3  # one-frame spike
    bad = hampel_outliers(x, np.ones(40, bool), half_window=3, n_sigma=3.5, floor=0.05)
    assert bad.tolist() == [i == 8 for i in range(40)]


def test_fill_short_gaps_interior_only():
    x = np.arange(10.0)[:, None]
    valid = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 1], bool)
    y, filled = fill_short_gaps(x, valid, max_gap=2)
    assert filled.tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # ends and long gaps stay
    np.testing.assert_allclose(y[3:5, 0], [3.0, 4.0])


def test_gaussian_smoothing_has_zero_lag_and_ignores_invalid():
    step = np.r_[np.zeros(30), np.ones(30)][:, None]
    y = gaussian_smooth(step, np.ones(60, bool), sigma_frames=2.0)[:, 0]
    assert abs(_crossing(y, 0.5) - 29.5) < 1e-6  # the step's midpoint does not move
    x = np.ones((20, 1))
    valid = np.ones(20, bool)
    x[10], valid[10] = 0.0, False  # an invalid zero must not pull its neighbours down
    np.testing.assert_allclose(gaussian_smooth(x, valid, 2.0)[valid], 1.0)
    # documented cut-off: amplitude 1/sqrt(2) at f = 0.1325 / sigma
    sigma_s = 0.03
    f = gaussian_cutoff_hz(sigma_s)
    assert np.isclose(np.exp(-0.5 * (2 * np.pi * f * sigma_s) ** 2), 1 / np.sqrt(2))


def test_resample_25_to_30_fps():
    t = np.arange(50) / 25.0
    x = np.stack([np.sin(t), t], 1)
    valid = np.ones(50, bool)
    valid[20] = False
    t_out, y, v = resample_linear(t, x, valid, 30.0)
    assert len(t_out) == int(49 / 25 * 30) + 1
    far = np.abs(t_out * 25 - 20) >= 1  # both neighbours valid: linear data reproduced
    np.testing.assert_allclose(y[far, 1], t_out[far], atol=1e-12)
    # invalid exactly where source sample 20 is the nearer neighbour; elsewhere the nearer
    # valid sample holds for at most half a source period
    nearest_is_20 = np.abs(t_out * 25 - 20) < 0.5
    assert not v[nearest_is_20].any() and v[~nearest_is_20].all()
    between = (t_out > 19 / 25) & (t_out < 21 / 25) & ~nearest_is_20
    np.testing.assert_allclose(y[between, 1], np.round(t_out[between] * 25) / 25)


FPS = 25.0


def _raw(head_deg, eye_deg, found=None, openness=None, centre=None, iod=None):
    """RawFrames of a face on the optical axis with the given head and eye-in-head series."""
    n = len(head_deg)
    cam = CameraModel.for_image(512, 512)
    t_c = np.tile([0.0, 0.0, 600.0], (n, 1))
    M = body_from_camera_for_position(t_c[0])
    R_ct = M.T @ head_rotation_matrix(np.radians(head_deg))
    d_h = direction_from_pitch_yaw(np.radians(eye_deg))
    return RawFrames(
        path="synthetic",
        fps=FPS,
        width_px=512,
        height_px=512,
        camera=cam,
        start=0,
        found=np.ones(n, bool) if found is None else found,
        R_ct=R_ct,
        t_c_mm=t_c,
        rms_px=np.full(n, 1.0),
        iod_px=np.full(n, 80.0) if iod is None else iod,
        centre_px=np.tile([256.0, 256.0], (n, 1)) if centre is None else centre,
        in_image=np.ones(n),
        eye_dir_h=np.repeat(d_h[:, None], 2, axis=1),
        eye_hit=np.ones((n, 2), bool),
        openness=np.full((n, 2), 0.3) if openness is None else openness,
        visibility=np.ones((n, 2)),
        scene_cut=np.zeros(n, bool),
        iris_px=np.zeros((n, 2, 2)),
    )


def test_track_chain_known_answers():
    n = 100
    head = np.zeros((n, 3))
    head[:, 1] = np.interp(np.arange(n), [40, 55], [0.0, 20.0])  # head follows ...
    eye = np.zeros((n, 2))
    eye[38:, 1] = 25.0  # ... a saccade to the left at frame 38
    eye[38:, 1] -= head[38:, 1]  # gaze stays on the target while the head turns (VOR)
    head[20, 0] = 15.0  # a one-frame pitch spike (a bad fit)
    openness = np.full((n, 2), 0.3)
    openness[60:64] = 0.02  # a 4-frame blink (160 ms)
    openness[88:90] = 0.02  # a 2-frame blink (80 ms)
    found = np.ones(n, bool)
    found[80] = False  # a lost frame
    raw = _raw(head, eye, found=found, openness=openness)
    cfg = ExtractConfig(fps_out=30.0)
    assert split_tracks(raw, cfg) == [(0, n)]
    tr = process_track(raw, 0, n, cfg)
    g = np.degrees(tr.gaze_src[:, 1])
    h = np.degrees(tr.head_src)
    # the spike is rejected and filled: pitch stays ~0 around frame 20
    assert tr.stats["head_outlier_frames"] == 1 and abs(h[20, 0]) < 0.5
    # the 160 ms blink masks gaze, not head; the 80 ms one is filled (<= 100 ms)
    assert tr.blink_src[60:64].all() and not tr.blink_src[[59, 64]].any()
    assert not tr.gaze_valid_src[60:64].any() and tr.head_valid_src[60:64].all()
    assert tr.blink_src[88:90].all() and tr.gaze_valid_src[85:95].all()
    # the single lost frame (40 ms) is filled
    assert tr.head_valid_src[80] and tr.gaze_valid_src[80]
    # gaze = head + eye: 25° left after the saccade, and the step midpoint has not moved
    np.testing.assert_allclose(g[45:58], 25.0, atol=0.2)
    assert abs(_crossing(g, 12.5) - 37.5) < 0.05
    np.testing.assert_allclose(h[70:, 1], 20.0, atol=1e-3)
    # output at 30 fps over the same 3.96 s
    assert len(tr.valid) == int(99 / 25 * 30) + 1
    assert tr.head.dtype == np.float32 and np.isfinite(tr.head).all()
    t_step = tr.t_out_s[_crossing(np.degrees(tr.gaze[:, 1]), 12.5).astype(int)]
    assert abs(t_step - 37.5 / 25) < 1 / 30


def test_tracks_split_on_loss_and_jump_and_drop_short():
    n = 150
    found = np.ones(n, bool)
    found[50:60] = False  # 400 ms lost: a new track
    centre = np.tile([256.0, 256.0], (n, 1))
    centre[100:] += [200.0, 0.0]  # the face jumps by 2.5 eye distances: a new track
    raw = _raw(np.zeros((n, 3)), np.zeros((n, 2)), found=found, centre=centre)
    cfg = ExtractConfig()
    assert split_tracks(raw, cfg) == [(0, 50), (60, 100), (100, 150)]
    assert split_tracks(raw, ExtractConfig(min_track_s=1.8)) == [(0, 50), (100, 150)]
    iod = np.full(n, 80.0)
    iod[75:] = 160.0  # the face doubles in size from one frame to the next: a cut
    raw2 = _raw(np.zeros((n, 3)), np.zeros((n, 2)), iod=iod)
    assert split_tracks(raw2, cfg) == [(0, 75), (75, 150)]


@pytest.mark.parametrize("bad_eye_deg", [60.0])
def test_eye_beyond_human_range_is_rejected(bad_eye_deg):
    n = 60
    eye = np.zeros((n, 2))
    eye[30:40, 1] = bad_eye_deg  # 400 ms, too long to fill
    tr = process_track(_raw(np.zeros((n, 3)), eye), 0, n, ExtractConfig())
    assert not tr.gaze_valid_src[30:40].any() and tr.gaze_valid_src[:29].all()
