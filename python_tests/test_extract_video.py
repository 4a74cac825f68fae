"""Known-answer checks of the extraction on the real shared clips (docs/design.md §3 videos).

Needs the 'extract' extra (MediaPipe 0.10.21, OpenCV) and ../shared/data/videos (or
$GAZEHEAD_DATA/videos); skips with the reason otherwise. Sub-ranges keep it quick on 2 cores.
"""

import glob
import json
import os

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe", reason="needs the 'extract' extra: pip install 'gazehead_rt[extract]'"
)
cv2 = pytest.importorskip("cv2", reason="needs OpenCV (the 'extract' extra)")

from gazehead_rt.training.data import load_dataset, read_manifest  # noqa: E402
from gazehead_rt.training.extract import ExtractConfig, extract_dataset, extract_video  # noqa: E402
from gazehead_rt.training.extract.pipeline import RECORD_DIR  # noqa: E402
from gazehead_rt.training.paths import shared_videos_dir  # noqa: E402

VIDEOS = shared_videos_dir()
ALL = sorted(glob.glob(os.path.join(VIDEOS, "*.mp4")))
pytestmark = pytest.mark.skipif(not ALL, reason=f"shared clips not found in {VIDEOS}")
D11 = os.path.join(VIDEOS, "liveportrait_d11.mp4")
KATIE = os.path.join(
    VIDEOS, "sadtalker_WDA_KatieHill_000.mp4"
)  # frontal speech, head yaw -20..+10°


def _deg(x):
    return np.degrees(x)


@pytest.fixture(scope="module")
def d11():
    res = extract_video(D11)
    assert len(res.tracks) == 1 and res.tracks[0].start == 0
    return res.tracks[0]


def test_d11_child_looks_sideways_with_the_eyes(d11):
    """Frames checked by eye (25 fps, eye crops): iris centred until 107; at 108-109 it moves
    to the image right (her left) and stays there to 126; 127-128 half-closed lids mid-way;
    129-145 at the image left (her right); 150-158 eyes shut; 160-193 centred; 194-206 image
    left; 209-216 image right; 218-224 image left."""
    g = _deg(d11.gaze_src[:, 1])  # + = subject's left = image right
    ok = d11.gaze_valid_src

    def span(a, b):
        assert ok[a:b].mean() > 0.9, f"frames {a}-{b} mostly invalid"
        return g[a:b][ok[a:b]]

    assert np.abs(span(60, 105)).max() < 10
    assert span(110, 125).min() > 15
    assert span(131, 146).max() < -15
    assert np.abs(span(165, 192)).max() < 10
    assert span(196, 205).max() < -15
    assert span(211, 216).min() > 15
    assert span(220, 225).max() < -15
    # timing: first frame past half the saccade (> +12°) after 100, and the zero crossing of
    # the left-to-right return, within a frame of what is seen
    assert 107 <= 100 + int(np.argmax(g[100:] > 12)) <= 110
    assert 126 <= 120 + int(np.argmax(g[120:] < 0)) <= 129
    assert 193 <= 185 + int(np.argmax(g[185:] < -12)) <= 196
    # the head stays nearly still: these are eye movements
    assert np.abs(_deg(d11.head_src[100:150, 1])).max() < 8
    # the closed eyes at 150-158 are detected as a blink and masked
    assert d11.blink_src[151:157].all() and not d11.gaze_valid_src[151:157].any()


def _track(path, **kw):
    res = extract_video(path, **kw)
    assert len(res.tracks) == 1
    return res.tracks[0]


def test_mirrored_video_flips_yaw_and_roll_keeps_pitch():
    a = _track(KATIE, stop=100)
    b = _track(KATIE, stop=100, transform=lambda f: cv2.flip(f, 1))
    v = a.head_valid_src & b.head_valid_src
    assert v.mean() > 0.9
    yaw_corr = np.corrcoef(a.head_src[v, 1], b.head_src[v, 1])[0, 1]
    roll_corr = np.corrcoef(a.head_src[v, 2], b.head_src[v, 2])[0, 1]
    assert yaw_corr <= -0.9 and roll_corr <= -0.9, (yaw_corr, roll_corr)
    assert abs(np.mean(_deg(a.head_src[v, 1] + b.head_src[v, 1]))) < 1.0  # symmetric template
    assert np.mean(np.abs(_deg(a.head_src[v, 0] - b.head_src[v, 0]))) < 2.5
    assert np.corrcoef(a.head_src[v, 0], b.head_src[v, 0])[0, 1] > 0.8


def test_mirrored_video_flips_gaze_yaw(d11):
    m = _track(D11, start=100, transform=lambda f: cv2.flip(f, 1))
    a = slice(100, 225)
    v = d11.gaze_valid_src[a] & m.gaze_valid_src
    corr = np.corrcoef(d11.gaze_src[a][v, 1], m.gaze_src[v, 1])[0, 1]
    assert corr <= -0.9, corr


@pytest.mark.parametrize("angle_deg", [10.0, -15.0])
def test_rotated_image_shifts_roll_by_the_angle(angle_deg):
    def rotate(f):
        h, w = f.shape[:2]
        M = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)  # + = counter-clockwise
        return cv2.warpAffine(f, M, (w, h), borderMode=cv2.BORDER_REPLICATE)

    a = _track(KATIE, stop=75)
    b = _track(KATIE, stop=75, transform=rotate)
    v = a.head_valid_src & b.head_valid_src
    # counter-clockwise on screen moves the top of the head to the image left = her right
    # shoulder, which is positive roll
    shift = np.median(_deg(b.head_src[v, 2] - a.head_src[v, 2]))
    assert abs(shift - angle_deg) <= 2.0, shift


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("extract")
    bad_dir = root / "bad"
    bad_dir.mkdir()
    (bad_dir / "corrupt.mp4").write_bytes(os.urandom(20000))
    (bad_dir / "empty.mp4").write_bytes(b"")
    out = root / "ds"
    s = extract_dataset(
        [VIDEOS, str(bad_dir)],
        str(out),
        ExtractConfig(),
        workers=2,
        progress=False,
        log=lambda m: None,
    )
    return out, s


# liveportrait_d3: the actress keeps her eyes shut for ~29 % of the clip (checked on eye crops:
# frames 48-50, 57-62, 101-134, 140-160, 217-256 closed or lids down; open at 165, 258).
# Gaze does not exist there, so those frames are rightly invalid; the check for this clip is
# that the head is tracked throughout and every invalid frame is an eyes-closed frame.
EYES_SHUT_CLIPS = {"liveportrait_d3"}


def test_every_shared_clip_is_at_least_80_percent_valid(batch):
    out, s = batch
    done = {r["video_id"]: r for r in s["results"] if r["status"] == "done"}
    assert len(done) == len(ALL)
    low = {
        k: round(r["valid_fraction"], 3)
        for k, r in done.items()
        if r["valid_fraction"] < 0.8 and k not in EYES_SHUT_CLIPS
    }
    assert not low, f"valid fraction below 80 %: {low}"
    for vid in EYES_SHUT_CLIPS & set(done):
        with open(os.path.join(out, RECORD_DIR, f"{vid}.json")) as f:
            (t,) = json.load(f)["tracks"]
        assert t["head_valid_fraction_raw"] >= 0.99
        assert t["valid_fraction_src"] + t["blink_fraction"] >= 0.97, t
    clips = load_dataset(str(out))
    assert {c.source for c in clips} == {os.path.basename(p) for p in ALL}
    for c in clips:
        assert c.fps == 30.0 and c.extra["domain"] == "video"
        assert np.abs(c.gaze[c.valid]).max() < np.radians(80)


def test_corrupt_videos_are_reported_and_leave_nothing(batch):
    out, s = batch
    failed = {r["video_id"]: r["error"] for r in s["results"] if r["status"] == "failed"}
    assert set(failed) == {"corrupt", "empty"} and s["failed"] == 2
    assert "corrupt.mp4" in failed["corrupt"]
    names = os.listdir(out)
    assert not [n for n in names if "corrupt" in n or "empty" in n or ".tmp" in n]


def test_rerun_skips_finished_videos_and_redoes_unfinished(batch):
    out, _ = batch
    before = read_manifest(str(out))["clips"]
    os.remove(os.path.join(out, RECORD_DIR, "liveportrait_d18.json"))  # as if interrupted
    s = extract_dataset(
        [VIDEOS], str(out), ExtractConfig(), workers=1, progress=False, log=lambda m: None
    )
    status = {r["video_id"]: r["status"] for r in s["results"]}
    assert status.pop("liveportrait_d18") == "done"
    assert set(status.values()) == {"skipped"}
    after = read_manifest(str(out))["clips"]
    assert sorted(e["id"] for e in after) == sorted(e["id"] for e in before)


def test_ray_executor_matches_process_pool(batch, tmp_path):
    pytest.importorskip("ray", reason="Ray (the 'ray' extra) is not installed")
    out, _ = batch
    clip = os.path.join(VIDEOS, "liveportrait_d19.mp4")
    s = extract_dataset(
        [clip],
        str(tmp_path),
        ExtractConfig(),
        executor="ray",
        workers=1,
        progress=False,
        log=lambda m: None,
    )
    assert s["failed"] == 0 and s["clips"] == 1
    a = np.load(os.path.join(out, "clip_liveportrait_d19_t0.npz"))
    b = np.load(os.path.join(tmp_path, "clip_liveportrait_d19_t0.npz"))
    for k in ("gaze", "head", "valid"):
        np.testing.assert_array_equal(a[k], b[k])


def test_preview_png(d11, tmp_path):
    from gazehead_rt.training.extract.preview import write_preview

    res = extract_video(D11, stop=60)
    path = write_preview(res, str(tmp_path / "p.png"))
    img = cv2.imread(path)
    assert img is not None and img.shape[0] > 400 and img.shape[1] > 1000


def test_cli_json_summary(tmp_path):
    import subprocess
    import sys

    clip = os.path.join(VIDEOS, "liveportrait_d18.mp4")
    # the installed console script, run outside the checkout
    exe = os.path.join(os.path.dirname(sys.executable), "gazehead-rt")
    r = subprocess.run(
        [exe, "extract", clip, "-o", str(tmp_path / "ds"), "--no-progress", "--json", "--preview"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads(r.stdout)
    assert s["clips"] == 1 and s["failed"] == 0 and s["valid_fraction"] > 0.8
    assert os.path.isfile(tmp_path / "ds" / "previews" / "liveportrait_d18.png")
