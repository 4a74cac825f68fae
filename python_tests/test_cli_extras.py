"""A command whose extra is not installed says which extra to install and exits 2, no traceback.

Each case runs ``gazehead-rt`` in a fresh interpreter where the extra's packages cannot be
imported (a blocking meta-path finder), whether or not they are installed here.
"""

from __future__ import annotations

import pytest

from blocked_imports import run_blocked

CLI = "import sys\nfrom gazehead_rt.cli import main\nsys.exit(main(sys.argv[1:]))\n"
TRAIN_EXTRA = ["torch", "tqdm"]


@pytest.mark.parametrize(
    ("argv", "blocked", "extra", "named"),
    [
        (["demo"], ["matplotlib", "PIL"], "demo", "matplotlib"),
        (["demo", "--format", "gif"], ["PIL"], "demo", "PIL"),
        (["demo", "--format", "mp4"], ["imageio_ffmpeg"], "demo", "imageio-ffmpeg"),
        (["demo", "--interactive"], ["matplotlib"], "demo", "matplotlib"),
        (["train", "--steps", "1"], TRAIN_EXTRA, "train", "torch"),
        (["train", "--help"], TRAIN_EXTRA, "train", "torch"),
        (["evaluate"], TRAIN_EXTRA, "train", "torch"),
        (["extract", "video.mp4", "-o", "ds"], ["mediapipe"], "extract", "MediaPipe"),
        (["extract", "video.mp4", "-o", "ds"], ["cv2"], "extract", "cv2"),
    ],
)
def test_missing_extra_names_it_and_exits_2(tmp_path, argv, blocked, extra, named):
    r = run_blocked(CLI, blocked, tmp_path, argv)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f'pip install "gazehead_rt[{extra}]"' in lines[0]
    assert named in lines[0]
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert not any(tmp_path.iterdir()), "nothing is written when the extra is missing"


def test_a_missing_module_outside_the_extra_is_not_disguised(tmp_path):
    """Only the extra's own packages turn into an install hint; a broken install keeps its
    traceback (here the package's own model module is missing)."""
    r = run_blocked(CLI, ["gazehead_rt.training.model"], tmp_path, ["train", "--steps", "1"])
    assert r.returncode == 1
    assert "Traceback" in r.stderr and "gazehead_rt.training.model" in r.stderr
    assert "pip install" not in r.stderr


def test_commands_of_the_runtime_need_no_extra(tmp_path):
    """info, generate and bench run on the runtime's own dependencies (numpy, safetensors)."""
    blocked = [
        "torch",
        "onnx",
        "onnxruntime",
        "mediapipe",
        "cv2",
        "matplotlib",
        "PIL",
        "tqdm",
        "gazehead_rt.training",
        "gazehead_rt.demo",
    ]
    r = run_blocked(CLI, blocked, tmp_path, ["bench", "--agents", "1", "4", "--seconds", "0.1"])
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.split()[:1] in (["1"], ["4"])]
    assert [row[0] for row in rows] == ["1", "4"]
    assert all(float(row[1]) > 0 for row in rows)
    (tmp_path / "gaze.csv").write_text("gaze_pitch,gaze_yaw\n0.0,0.3\n0.1,0.2\n")
    r = run_blocked(CLI, blocked, tmp_path, ["generate", "--gaze", "gaze.csv", "--out", "o.csv"])
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "o.csv").read_text().splitlines()) == 3
    r = run_blocked(CLI, blocked, tmp_path, ["info"])
    assert r.returncode == 0 and "backends" in r.stdout, r.stderr
