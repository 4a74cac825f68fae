"""The demo: script, baseline, renderer and the files it writes (gazehead_rt.demo)."""

import csv
import math
import os
import sys

import numpy as np
import pytest

from gazehead_rt import demo
from gazehead_rt.demo import render
from gazehead_rt.geometry import look_at

FPS = 30.0


class FollowGaze:
    """Deterministic stand-in for the Generator: head = 0.7 * gaze, low-passed."""

    fps = FPS

    def __init__(self):
        self.head = np.zeros((1, 3))

    def step(self, gaze):
        g = np.asarray(gaze, dtype=np.float64).reshape(-1, 2)
        self.head += 0.25 * (np.concatenate([0.7 * g, np.zeros((len(g), 1))], 1) - self.head)
        return self.head.astype(np.float32)


def test_script_hits_its_targets():
    s = demo.default_script(FPS)
    assert len(s.t_s) == int(13.5 * FPS)
    eye0 = render.EYE_MID_REST_M
    # 0.9 s after each fixation starts the saccade is long over: gaze == target direction
    for t_s in (0.9, 1.9, 2.9, 3.9, 4.9, 5.9, 11.9, 13.4):
        i = int(round(t_s * FPS))
        np.testing.assert_allclose(s.gaze[i], look_at(s.target_xyz[i], eye0), atol=1e-12)

    # shift sizes by hand from the targets: 13 deg at 3 s, 91 deg at 4 s; behind: -153 deg
    def shift_deg(t):
        return math.degrees(np.hypot(*(s.gaze[int(t * FPS) + 15] - s.gaze[int(t * FPS) - 1])))

    assert shift_deg(3.0) == pytest.approx(13.3, abs=0.2)
    assert shift_deg(4.0) == pytest.approx(90.6, abs=0.2)
    assert math.degrees(s.gaze[int(11.5 * FPS), 1]) == pytest.approx(-153.1, abs=0.1)
    # the look behind sweeps through the front (yaw never crosses +-180 deg)
    behind = s.gaze[int(10 * FPS) : int(11 * FPS), 1]
    assert np.all(np.diff(behind) <= 1e-12) and behind.min() > -math.pi
    assert [p[2] for p in s.phases] == [
        "fixate ahead",
        "saccades",
        "smooth pursuit",
        "look behind",
        "back to front",
    ]


def test_saccade_follows_main_sequence():
    s = demo.default_script(FPS)
    i0 = int(1.0 * FPS)
    amp = math.degrees(np.hypot(*(s.gaze[i0 + 20] - s.gaze[i0 - 1])))
    moving = np.flatnonzero(np.any(np.diff(s.gaze[i0 - 1 : i0 + 20], axis=0) != 0, axis=1))
    dur_s = len(moving) / FPS
    assert abs(dur_s - (0.021 + 0.0022 * amp)) <= 1 / FPS


def test_pursuit_speed_is_human():
    s = demo.default_script(FPS)
    sl = slice(int(6.2 * FPS), int(9.8 * FPS))
    speed = np.degrees(np.hypot(*np.diff(s.gaze[sl], axis=0).T)) * FPS
    assert 20 < speed.max() < 60  # deg/s: smooth pursuit saturates around 50-100 deg/s


def test_baseline_step_response_hand_computed():
    fps, tau = 100.0, demo.BASELINE_TAU_S
    b = demo.ProportionalBaseline(fps)
    b.step([0.0, 0.0])  # starts at rest on its first gaze
    for _ in range(int(round(tau * fps))):
        h = b.step([0.2, 0.4])
    # after one time constant: k * gaze * (1 - 1/e); roll stays 0
    np.testing.assert_allclose(
        h[0], [0.5 * 0.2 * (1 - math.exp(-1)), 0.5 * 0.4 * (1 - math.exp(-1)), 0.0], rtol=1e-5
    )


def test_ray_caster_projects_a_sphere_where_a_pinhole_says():
    cam = render.Camera(200, 100, position=(2.0, 0.0, 0.0), look_at=(0.0, 0.0, 0.0), vfov_deg=30.0)
    color = np.zeros((100 * 200, 3))
    depth = np.full(100 * 200, np.inf)
    ball = render.Ellipsoid(
        np.array([0.0, -0.1, 0.05]), np.eye(3), np.full(3, 0.05), render._flat(np.ones(3))
    )
    render._cast(cam.rays.reshape(-1, 3), cam.position, [ball], color, depth)
    hit = np.isfinite(depth).reshape(100, 200)
    ys, xs = np.nonzero(hit)
    f = 50 / math.tan(math.radians(15))  # focal length in pixels
    # facing the character (camera looks down -x): its right (world -y) is image left
    assert (xs.mean() + 0.5) == pytest.approx(100 - f * 0.1 / 2.0, abs=0.6)
    assert (ys.mean() + 0.5) == pytest.approx(50 - f * 0.05 / 2.0, abs=0.6)
    assert hit.sum() == pytest.approx(math.pi * (f * 0.05 / 2.0) ** 2, rel=0.08)
    assert depth.min() == pytest.approx(np.sqrt(4 + 0.01 + 0.0025) - 0.05, abs=2e-3)


def test_renderer_eyes_follow_eye_angles():
    r = render.HeadRenderer(160, 160)
    a = r.render(np.zeros(3), np.zeros(2))
    b = r.render(np.zeros(3), np.array([0.0, 0.6]))
    c = r.render(np.array([0.0, 0.6, 0.0]), np.zeros(2))
    assert a.shape == (160, 160, 3) and a.dtype == np.uint8
    diff_eye = np.any(a != b, axis=-1).sum()
    diff_head = np.any(a != c, axis=-1).sum()
    assert 0 < diff_eye < diff_head  # eyes change a few pixels, a head turn many


def read_mp4_frames(path):
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(path)
    meta = next(gen)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in gen]
    return meta, frames


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_run_demo_writes_video_sheet_and_csv(tmp_path, fmt):
    if fmt == "mp4":
        pytest.importorskip("imageio_ffmpeg", reason="mp4 needs the demo extra (imageio-ffmpeg)")
    paths = demo.run_demo(
        str(tmp_path / "out"),
        generator=FollowGaze(),
        duration_s=2.0,
        scale=0.25,
        fmt=fmt,
        log=lambda *a: None,
    )
    assert set(paths) == {"video", "contact_sheet", "csv"}
    from PIL import Image

    sheet = Image.open(paths["contact_sheet"])
    assert sheet.size[0] == 3 * 256 // 2 and sheet.size[1] > 2 * 192 // 2
    rows = list(csv.DictReader(open(paths["csv"])))
    assert len(rows) == 60
    assert float(rows[59]["t_s"]) == pytest.approx(59 / FPS, abs=1e-6)
    # the CSV holds the stand-in's motion: head yaw tracks 0.7 x gaze yaw after settling
    assert float(rows[59]["model_head_yaw"]) == pytest.approx(
        0.7 * float(rows[59]["gaze_yaw"]), abs=0.02
    )
    if fmt == "mp4":
        meta, frames = read_mp4_frames(paths["video"])
        assert meta["size"] == (256, 192) and len(frames) == 60
        assert meta["fps"] == pytest.approx(30.0)
        # the red target ball is in the picture
        f = frames[30].astype(int)
        assert np.sum((f[..., 0] > 170) & (f[..., 1] < 80) & (f[..., 2] < 80)) > 5
    else:
        assert Image.open(paths["video"]).n_frames == 30  # every other frame


def test_no_video_writes_sheet_only(tmp_path):
    paths = demo.run_demo(
        str(tmp_path),
        generator=FollowGaze(),
        duration_s=1.0,
        scale=0.25,
        video=False,
        log=lambda *a: None,
    )
    assert "video" not in paths and os.path.getsize(paths["contact_sheet"]) > 1000


def test_interactive_without_display_says_so(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert demo.main(["--interactive"]) == 2
    assert "needs a display" in capsys.readouterr().err


def test_bad_arguments():
    assert demo.main(["--scale", "5"]) == 2
    with pytest.raises(SystemExit):
        demo.main(["--format", "avi"])


gh = pytest.importorskip("gazehead_rt")


@pytest.mark.skipif(
    not hasattr(gh, "Generator"),
    reason="gazehead_rt.Generator not on this branch yet (runtime-core issue)",
)
def test_main_runs_the_default_model(tmp_path, monkeypatch, capsys):
    if not os.path.isfile(gh.default_model_path()):
        pytest.skip("the default model file is not bundled in this checkout")
    monkeypatch.chdir(tmp_path)
    assert demo.main(["--duration", "1.5", "--scale", "0.25"]) == 0
    out = capsys.readouterr().out
    for name in ("contact_sheet.png", "motion.csv"):
        assert os.path.join(demo.DEFAULT_OUT_DIR, name) in out
        assert os.path.isfile(tmp_path / demo.DEFAULT_OUT_DIR / name)


def test_summary_head_share_of_the_baseline_is_its_gain():
    # The baseline's head settles at 0.5 x gaze; 0.9 s is 6 time constants after a shift
    # that takes <= 0.25 s, so its share of every shift is 0.5 within 1 %.
    s = demo.default_script(FPS)
    m = demo.simulate(FollowGaze(), s)
    rows = demo.summarize(s, m)
    assert [round(r["t_s"], 2) for r in rows] == [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 12.0]
    for r in rows:
        assert r["baseline_head_share"] == pytest.approx(0.5, abs=0.01)
        assert r["model_head_share"] == pytest.approx(0.7, abs=0.02)  # the stand-in's gain
    assert rows[2]["shift_deg"] == pytest.approx(13.3, abs=0.2)


def test_mouse_gaze_drives_the_head_headless():
    # The interactive mode's logic without a window: mouse at the left of the picture is
    # the character's right (negative yaw); the head follows over time at any redraw rate.
    m = demo.MouseGaze(FollowGaze())
    img = m.tick(0.0)
    assert img.shape == (480, 480, 3)
    m.on_move(0.0, 240.0)  # left edge, mid height
    np.testing.assert_allclose(np.degrees(m.gaze), [0.0, -80.0], atol=1e-9)
    t = 0.0
    for _ in range(60):  # 1 s at 60 Hz redraws
        t += 1 / 60
        m.tick(t)
    assert m.clock.head[0, 1] < np.radians(-50)  # FollowGaze: 0.7 x -80 deg, nearly settled
