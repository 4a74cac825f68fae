"""Smoke tests of examples/: each runs end to end on a small problem and its output is
checked for values, not just exit codes."""

import csv
import os
import runpy
import sys

import numpy as np
import pytest

gh = pytest.importorskip("gazehead_rt")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(scope="module")
def model_args(tmp_path_factory):
    """[] for the bundled model, or ["--model", path] of a small random one."""
    if os.path.isfile(gh.default_model_path()):
        return []
    pytest.importorskip("torch", reason="making a test model needs PyTorch")
    from reference import make_model

    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    make_model(path, seed=0)
    return ["--model", str(path)]


def run_example(name, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [name] + argv)
    ns = runpy.run_path(os.path.join(EXAMPLES, name))
    return ns["main"](argv)


def test_npc_game_loop(model_args, monkeypatch, capsys):
    assert (
        run_example(
            "npc_game_loop.py", ["--npcs", "1000", "--frames", "40"] + model_args, monkeypatch
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1000 NPCs, 40 frames" in out and "p99" in out


def test_npc_game_loop_unreal(model_args, monkeypatch, capsys):
    assert (
        run_example(
            "npc_game_loop.py",
            ["--npcs", "50", "--frames", "20", "--engine", "unreal"] + model_args,
            monkeypatch,
        )
        == 0
    )


def test_robot_head_loop_holds_limits_and_reports_behind(model_args, monkeypatch, capsys):
    assert run_example("robot_head_loop.py", ["--check"] + model_args, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "all limits held" in out
    # the target behind appears at 5.5 s and is reported once on its first tick
    events = [line for line in out.splitlines() if "out of reach" in line]
    assert len(events) == 1 and events[0].startswith("t= 5.50 s")


def write_gaze_csv(path, t, gaze_deg):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "gaze_pitch", "gaze_yaw"])
        for ti, g in zip(t, gaze_deg):
            w.writerow([ti, g[0], g[1]])


def test_csv_convert_irregular_timestamps(tmp_path, model_args, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.005, 0.02, 300))  # ~80 Hz, irregular
    gaze_deg = np.stack([5 * np.sin(t), 30 * np.sign(np.sin(1.3 * t))], -1)
    src, dst = tmp_path / "gaze.csv", tmp_path / "head.csv"
    write_gaze_csv(src, t, gaze_deg)
    assert (
        run_example("csv_convert.py", [str(src), str(dst), "--degrees"] + model_args, monkeypatch)
        == 0
    )
    rows = list(csv.DictReader(open(dst)))
    assert len(rows) == len(t)
    np.testing.assert_allclose([float(r["t_s"]) for r in rows], t, atol=1e-6)
    head = np.array([[float(r[c]) for c in ("head_pitch", "head_yaw", "head_roll")] for r in rows])
    eye = np.array([[float(r[c]) for c in ("eye_pitch", "eye_yaw")] for r in rows])
    assert np.all(np.isfinite(head))
    # eye is the gaze seen from the head: with small pitch and roll, yaw adds up
    from gazehead_rt.geometry import gaze_from_head_eye

    back = np.degrees(gaze_from_head_eye(np.radians(head), np.radians(eye)))
    np.testing.assert_allclose(back, gaze_deg, atol=2e-3)  # CSV rounding at 1e-6 deg


def test_csv_convert_matches_generate_at_model_rate(tmp_path, model_args, monkeypatch):
    # Input already at the model rate: the conversion is exactly Generator.generate.
    t = np.arange(90) / 30.0
    gaze = np.stack([0.1 * np.sin(t), 0.5 * np.sin(0.7 * t)], -1)
    src, dst = tmp_path / "g.csv", tmp_path / "h.csv"
    write_gaze_csv(src, t, gaze)
    assert run_example("csv_convert.py", [str(src), str(dst)] + model_args, monkeypatch) == 0
    rows = list(csv.DictReader(open(dst)))
    head = np.array([[float(r[c]) for c in ("head_pitch", "head_yaw", "head_roll")] for r in rows])
    model = model_args[1] if model_args else None
    ref = gh.Generator(model, seed=0).generate(gaze)[:, 0, :]
    np.testing.assert_allclose(head, ref, atol=2e-6)


def test_csv_convert_bad_input(tmp_path, model_args, monkeypatch, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("time,pitch\n0,0\n")
    assert (
        run_example("csv_convert.py", [str(src), str(tmp_path / "o.csv")] + model_args, monkeypatch)
        == 2
    )
    assert "missing columns" in capsys.readouterr().err
