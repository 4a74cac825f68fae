"""Files in and out of the command-line tools: outputs replace regular files only (a FIFO or a
device is refused), through one atomic writer for every output (export-onnx included) that
never follows a planted temp link; inputs are read with bounded memory (streamed and capped
CSV, .npz checked from its header before decompressing, photo size from its header before
decoding); malformed saved states are typed errors."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

import gazehead_rt as gh
from gazehead_rt import files
from gazehead_rt.cli import main

GAZE = "gaze_pitch,gaze_yaw\n0.0,0.1\n0.05,0.2\n0.1,0.3\n"


def _one_line_error(capsys, command):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gazehead-rt {command}: error:"), err
    return err[0]


def test_generate_refuses_to_replace_a_fifo(tmp_path, capsys):
    src = tmp_path / "g.csv"
    src.write_text(GAZE)
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    assert main(["generate", "--gaze", str(src), "--out", str(fifo)]) == 2
    assert "is a FIFO; outputs are written to regular files only" in _one_line_error(
        capsys, "generate"
    )
    assert os.path.exists(fifo) and not os.path.isfile(fifo)  # still the FIFO
    assert sorted(os.listdir(tmp_path)) == ["g.csv", "out.csv"]  # no temp file left


def test_writer_refuses_a_device():
    with pytest.raises(ValueError, match="/dev/null: is a device"):
        files.write_atomically("/dev/null", lambda fd, tmp: os.close(fd))


def test_writer_replaces_a_symlink_without_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out.bin"
    os.symlink(victim, out)

    def write(fd, _tmp):
        with os.fdopen(fd, "wb") as f:
            f.write(b"new")

    files.write_atomically(str(out), write)
    assert victim.read_text() == "keep me"
    assert not os.path.islink(out) and out.read_bytes() == b"new"


def _cli(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "gazehead_rt.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_export_onnx_does_not_follow_a_planted_temp_link(tmp_path):
    pytest.importorskip("onnx")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "step.onnx"
    os.symlink(victim, str(out) + ".tmp")
    r = _cli(["export-onnx", "-o", str(out)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "keep me"
    assert os.path.islink(str(out) + ".tmp")  # left alone, not written through
    assert sorted(os.listdir(tmp_path)) == ["step.onnx", "step.onnx.tmp", "victim.txt"]
    import onnx

    onnx.checker.check_model(onnx.load(str(out)))


@pytest.mark.parametrize("opset", ["1", "10", "99"])
def test_export_onnx_bad_opset_is_a_one_line_error(tmp_path, opset):
    pytest.importorskip("onnx")
    r = _cli(["export-onnx", "-o", str(tmp_path / "s.onnx"), "--opset", opset], cwd=tmp_path)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert err[0].startswith(
        "gazehead-rt export-onnx: error: opset: expected an integer in [11, 23]"
    )
    assert os.listdir(tmp_path) == []


def test_csv_input_is_capped_while_streaming(tmp_path, monkeypatch):
    src = tmp_path / "long.csv"
    src.write_text("gaze_pitch,gaze_yaw\n" + "0.1,0.2\n" * 11)
    monkeypatch.setattr(files, "MAX_GAZE_SAMPLES", 10)
    with pytest.raises(ValueError, match="over 10 gaze samples"):
        files.read_gaze_file(str(src))
    monkeypatch.setattr(files, "MAX_GAZE_SAMPLES", 11)
    g = files.read_gaze_file(str(src))
    assert g.shape == (11, 1, 2) and np.all(g == [0.1, 0.2])


def test_csv_with_agents_reads_per_agent_in_frame_order(tmp_path):
    src = tmp_path / "agents.csv"
    src.write_text("agent,gaze_pitch,gaze_yaw\n1,0.1,0.2\n0,0.3,0.4\n1,0.5,0.6\n0,0.7,0.8\n")
    g = files.read_gaze_file(str(src))
    np.testing.assert_array_equal(g[:, 0], [[0.3, 0.4], [0.7, 0.8]])
    np.testing.assert_array_equal(g[:, 1], [[0.1, 0.2], [0.5, 0.6]])


def test_csv_memory_is_bounded(tmp_path):
    """400,000 rows (about 8 MB): read as two float64 columns, not as a list of dicts."""
    src = tmp_path / "big.csv"
    with open(src, "w") as f:
        f.write("gaze_pitch,gaze_yaw\n")
        f.write("0.0123456789,0.0987654321\n" * 400_000)
    code = (
        "import resource, sys\n"
        "from gazehead_rt.files import read_gaze_file\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "g = read_gaze_file(sys.argv[1])\n"
        "print(g.shape[0], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(src)], capture_output=True, text=True, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    frames, grown_mb = map(int, r.stdout.split())
    assert frames == 400_000
    assert grown_mb < 60  # the arrays are 6.4 MB; a list of dicts took ~250 MB


def _npz_with_header(path, shape, dtype="<f8", payload=b""):
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    text = repr(header).encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("gaze.npy", npy)


def test_npz_size_is_checked_before_decompressing(tmp_path):
    p = tmp_path / "bomb.npz"
    _npz_with_header(p, (1 << 26, 2))
    with pytest.raises(ValueError, match=r"'gaze' \(67108864, 2\) holds over 16777216 samples"):
        files.read_gaze_file(str(p))
    q = tmp_path / "short.npz"
    _npz_with_header(q, (5, 2), payload=b"\0" * 16)
    with pytest.raises(ValueError, match="'gaze' is truncated"):
        files.read_gaze_file(str(q))
    ok = tmp_path / "ok.npz"
    np.savez_compressed(ok, gaze=np.arange(10, dtype=np.float32).reshape(5, 2))
    np.testing.assert_array_equal(files.read_gaze_file(str(ok))[:, 0], np.arange(10).reshape(5, 2))
    obj = tmp_path / "obj.npz"
    _npz_with_header(obj, (1,), dtype="|O")
    with pytest.raises(ValueError, match="must hold numbers"):
        files.read_gaze_file(str(obj))


def test_photo_pixel_count_is_checked_before_decoding(tmp_path):
    from gazehead_rt.portrait import animator

    png = tmp_path / "huge.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
    assert animator._header_size(str(png)) == (20000, 20000)
    with pytest.raises(ValueError, match=r"20000 x 20000 pixels, over the 67108864 pixel cap"):
        animator._read_photo(str(png))
    jpg = tmp_path / "huge.jpg"  # SOI, an APP0 segment, then SOF0 (height, width)
    jpg.write_bytes(
        b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08"
        + struct.pack(">HH", 12000, 9000)
        + b"\x03" * 10
    )
    assert animator._header_size(str(jpg)) == (9000, 12000)


@pytest.mark.parametrize(
    "bad",
    [
        "not a dict",
        {"rate": "x"},
        {"rate": {}},
        {"rate": {"fps": 30.0}},
        {"s": "abc"},
        {"s": [[object()]]},
    ],
)
def test_malformed_state_is_a_typed_error_and_changes_nothing(bad):
    g = gh.Generator(num_agents=2, seed=1)
    g.step(np.full((2, 2), 0.1, np.float32))
    g.update(np.zeros(2, np.float32), 0.0)
    before = g.state_dict()
    state = bad if isinstance(bad, str) else {**before, **bad}
    with pytest.raises((TypeError, ValueError), match="state"):
        g.load_state_dict(state)
    after = g.state_dict()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, after[k])
