"""EyeNavGS importer: axes, tilt, resampling, eye offset and the scene-turn detector on
constructed files; eye-head coupling, splits and the resting pitch on the real files when
present."""

import gzip
import os

import numpy as np
import pytest

from gazehead_rt.geometry import eye_from_gaze_head, quaternion_from_rotation_matrix
from gazehead_rt.training.data import eyenavgs as E

D2R = np.pi / 180.0
HEADER = (
    "ViewIndex,FOV1,FOV2,FOV3,FOV4,PositionX,PositionY,PositionZ,QuaternionX,QuaternionY,"
    "QuaternionZ,QuaternionW,GazeQX,GazeQY,GazeQZ,GazeQW,GazePosX,GazePosY,GazePosZ,timestep"
)


def _rot_y(a):  # OpenXR up axis: +a turns forward (-z) toward -x, the viewer's left
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_x(a):  # OpenXR lateral axis: +a turns forward (-z) up (+y)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _write(root, name, t_ms, R_head, R_eye, pos=None, tilt="0, 0, 0, 1"):
    """A file in the dataset's layout; R_head (N, 3, 3) world, R_eye (N, 3, 3) in the head."""
    person, scene = name.split("_")
    os.makedirs(os.path.join(root, scene), exist_ok=True)
    setting = os.path.join(root, "scene_setting.csv")
    rows = [] if not os.path.exists(setting) else open(setting).read().splitlines()[1:]
    rows.append(f'{scene},"{tilt}",1')
    with open(setting, "w") as f:
        f.write("Scene_Name,Quaternion,Scale\n" + "\n".join(rows) + "\n")
    n = len(t_ms)
    pos = np.zeros((n, 3)) if pos is None else pos
    qh = quaternion_from_rotation_matrix(R_head)
    qg = quaternion_from_rotation_matrix(R_head @ R_eye)
    lines = [HEADER]
    for i in range(n):
        for eye in (0, 1):
            row = [eye, -0.9, 0.7, -0.9, 0.7, *pos[i], *qh[i], *qg[i], *pos[i], t_ms[i] + 7 * eye]
            lines.append(",".join(f"{v:.7g}" for v in row))
    path = os.path.join(root, scene, f"{name}.csv.gz")
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _uneven_ms(seconds, seed=0):
    rng = np.random.default_rng(seed)
    dt = rng.choice(
        [14.0, 27.0, 28.0, 29.0, 42.0], size=int(seconds * 36), p=[0.1, 0.3, 0.3, 0.2, 0.1]
    )
    return np.concatenate([[0.0], np.cumsum(dt)])[: int(seconds * 36)]


def _eye_wander(n, seed=1, down_deg=16.0):
    """Eye-in-head rotations: fixations wandering +-10 deg around ``down_deg`` below forward."""
    rng = np.random.default_rng(seed)
    yaw = np.repeat(rng.uniform(-10, 10, n // 20 + 1), 20)[:n] * D2R
    pitch = (-down_deg + np.repeat(rng.uniform(-8, 8, n // 20 + 1), 20)[:n]) * D2R
    return np.stack([_rot_y(y) @ _rot_x(p) for y, p in zip(yaw, pitch)])


def test_identity_frame_is_zero_and_left_turn_is_positive_yaw(tmp_path):
    n = 40
    t = np.arange(n) * 28.0
    R_head = np.stack([_rot_y(30 * D2R * (i >= 20)) for i in range(n)])
    R_eye = np.stack([np.eye(3)] * n)
    rec = E.read_recording(_write(str(tmp_path), "user1_scene", t, R_head, R_eye))
    np.testing.assert_allclose(rec.head[:20], 0.0, atol=1e-6)
    np.testing.assert_allclose(rec.gaze[:20], 0.0, atol=1e-6)
    # turned 30 deg to the left (about OpenXR +y): yaw +30, pitch and roll 0, gaze with it
    np.testing.assert_allclose(rec.head[20:], [[0.0, 30 * D2R, 0.0]] * 20, atol=1e-6)
    np.testing.assert_allclose(rec.gaze[20:], [[0.0, 30 * D2R]] * 20, atol=1e-6)
    np.testing.assert_allclose(rec.t_s, (t + 3.5) / 1000.0)  # the pair's mean time


def test_eye_up_and_left_signs_and_cyclopean_mean(tmp_path):
    n = 10
    t = np.arange(n) * 28.0
    R_eye = np.stack([_rot_y(10 * D2R) @ _rot_x(5 * D2R)] * n)  # 10 left, 5 up
    rec = E.read_recording(
        _write(str(tmp_path), "user1_scene", t, np.stack([np.eye(3)] * n), R_eye)
    )
    np.testing.assert_allclose(rec.eye, [[5 * D2R, 10 * D2R]] * n, atol=1e-6)


def test_scene_tilt_is_undone(tmp_path):
    # the recorded world is the scene's, tilted by q_scene: a level head reads as R = Q^T
    tilt = np.array([-0.4226, 0.0, 0.0, 0.9063])  # stump: ~50 deg about x
    from gazehead_rt.geometry import rotation_matrix_from_quaternion

    Q = rotation_matrix_from_quaternion(tilt)
    n = 10
    R_head = np.stack([Q.T @ _rot_y(20 * D2R)] * n)
    rec = E.read_recording(
        _write(
            str(tmp_path),
            "user1_stump",
            np.arange(n) * 28.0,
            R_head,
            np.stack([np.eye(3)] * n),
            tilt=", ".join(map(str, tilt)),
        )
    )
    np.testing.assert_allclose(rec.head, [[0.0, 20 * D2R, 0.0]] * n, atol=1e-4)


def test_resampled_to_fps_on_uneven_timestamps_with_gaps_invalid(tmp_path):
    t = _uneven_ms(20.0)
    t[400:] += 300.0  # a 300-ms hole in the recording
    n = len(t)
    yaw = 20 * D2R * np.sin(2 * np.pi * 0.25 * t / 1000.0)  # a slow head sweep
    R_head = np.stack([_rot_y(a) for a in yaw])
    path = _write(str(tmp_path), "user1_scene", t, R_head, _eye_wander(n))
    (clip,) = E.load_eyenavgs_clips(str(tmp_path), fps=30.0)
    assert clip.fps == 30.0
    assert clip.frames == int(np.floor((t[-1] - t[0]) / 1000.0 * 30.0 + 1e-6)) + 1
    t_out = (t[0] + 3.5) / 1000.0 + np.arange(clip.frames) / 30.0
    hole = (t_out > (t[399] + 3.5) / 1000.0) & (t_out < (t[400] + 3.5) / 1000.0)
    assert hole.sum() >= 8 and not clip.valid[hole].any() and clip.valid[~hole].all()
    # the head follows the sweep (median yaw removed; eye offset turns the frame only)
    expect = 20 * np.sin(2 * np.pi * 0.25 * (t_out - 3.5e-3))
    got = np.degrees(clip.head[:, 1])
    off = np.median(got[~hole] - expect[~hole])
    np.testing.assert_allclose(got[~hole], expect[~hole] + off, atol=0.6)
    assert clip.subject == "user1" and clip.extra["domain"] == "eyenavgs"
    assert clip.extra["scene"] == "scene" and os.path.basename(path) in clip.source


def test_resting_eye_pitch_is_removed(tmp_path):
    t = _uneven_ms(12.0)
    n = len(t)
    _write(str(tmp_path), "user1_scene", t, np.stack([np.eye(3)] * n), _eye_wander(n, down_deg=16))
    (clip,) = E.load_eyenavgs_clips(str(tmp_path))
    eye = eye_from_gaze_head(clip.gaze[clip.valid], clip.head[clip.valid])
    assert np.degrees(np.median(eye[:, 0])) == pytest.approx(0.0, abs=0.3)
    assert clip.extra["eye_pitch_offset_deg"] == pytest.approx(-16.0, abs=3.0)
    # the head frame turned down with the eye's rest: world gaze is unchanged
    assert np.degrees(np.median(clip.head[:, 0])) == pytest.approx(-16.0, abs=3.0)


def test_dead_eye_file_is_dropped(tmp_path):
    t = _uneven_ms(12.0)
    n = len(t)
    yaw = 30 * D2R * np.sin(np.arange(n) / 40.0)
    R_head = np.stack([_rot_y(a) for a in yaw])
    _write(str(tmp_path), "user1_scene", t, R_head, _eye_wander(n))
    _write(str(tmp_path), "user2_scene", t, R_head, np.stack([_rot_x(-15 * D2R)] * n))
    clips = E.load_eyenavgs_clips(str(tmp_path))
    assert [c.subject for c in clips] == ["user1"]


def test_injected_snap_turn_is_found_and_split(tmp_path):
    t = _uneven_ms(30.0)
    n = len(t)
    k = n // 2 + 7  # not on a fixation change of the eye wander (every 20 frames)
    rng = np.random.default_rng(3)
    # neck motion: slow yaw wander with a VOR-like eye; a 30-deg scene snap at frame k turns
    # head and gaze together
    yaw = np.cumsum(rng.normal(0, 0.3, n)) * D2R
    snap = np.where(np.arange(n) >= k, 30 * D2R, 0.0)
    R_head = np.stack([_rot_y(a + s) for a, s in zip(yaw, snap)])
    path = _write(str(tmp_path), "user1_scene", t, R_head, _eye_wander(n))
    rec = E.read_recording(path)
    events = E.find_scene_turns(rec)
    assert [(a, kind) for a, _, kind in events] == [(k - 1, "snap")]
    clips, _ = E.recording_clips(rec, 30.0)
    assert len(clips) == 2
    t_snap = (t[k] - t[0]) / 1000.0
    assert clips[0].extra["start_s"] == 0.0
    assert clips[0].frames / 30.0 <= t_snap - E.TURN_MARGIN_S + 0.05
    assert clips[1].extra["start_s"] >= t_snap + E.TURN_MARGIN_S - 0.05
    # without the snap, nothing is found
    R_plain = np.stack([_rot_y(a) for a in yaw])
    rec2 = E.read_recording(_write(str(tmp_path), "user2_scene", t, R_plain, _eye_wander(n)))
    assert E.find_scene_turns(rec2) == []


def test_splits_are_disjoint_fixed_and_sized():
    assert len(E.TEST_PEOPLE) == 6 and len(E.VAL_PEOPLE) == 2
    assert not set(E.TEST_PEOPLE) & set(E.VAL_PEOPLE)
    assert E.split_of("user3") == "test" and E.split_of("user5") == "val"
    assert E.split_of("user1") == "train"


REAL = E.eyenavgs_dir()
needs_real = pytest.mark.skipif(
    not os.path.isdir(REAL), reason=f"EyeNavGS data not found at {REAL} (../shared/data)"
)


@needs_real
def test_real_files_coupling_resting_pitch_and_splits():
    people = ("user1", "user3", "user5")
    clips = E.load_eyenavgs_clips(REAL, people=people)
    assert {c.subject for c in clips} == set(people)
    split = {c.subject: c.split for c in clips}
    assert split == {"user1": "train", "user3": "test", "user5": "val"}
    # the resting line of sight sat below the headset's axis (per person -4 to -19 deg,
    # median -15 over all people; these three are among the smaller ones); now ~0
    off = np.array([c.extra["eye_pitch_offset_deg"] for c in clips])
    assert -20.0 < np.median(off) < -3.0
    for c in clips:
        eye = eye_from_gaze_head(c.gaze[c.valid], c.head[c.valid])
        assert abs(np.degrees(np.median(eye[:, 0]))) < 2.0
        assert c.fps == 30.0 and c.valid.mean() > 0.9
    # head pitch movements with the gaze held: the eye counter-rotates (README: ~0.8)
    gain = E.counter_rotation_gain(clips, axis=0)
    assert 0.7 < gain < 1.05
