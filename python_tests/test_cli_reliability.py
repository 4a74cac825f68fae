"""The CLI's file handling (BOM CSVs, its temp file, one-line errors with exit 2) and the
GAZEHEAD_CPU_ISA check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gazehead_rt.cli import main


def _csv(path, text, bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return str(path)


GAZE = "gaze_pitch,gaze_yaw\n0.0,0.1\n0.05,0.2\n0.1,0.3\n"


def test_reads_a_csv_with_a_utf8_bom(tmp_path):
    src = _csv(tmp_path / "bom.csv", GAZE, bom=True)
    out = tmp_path / "out.csv"
    assert main(["generate", "--gaze", src, "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("frame,") and len(lines) == 4
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # the usual mode, not mkstemp's 0600


def test_does_not_follow_a_preexisting_temp_path(tmp_path):
    src = _csv(tmp_path / "g.csv", GAZE)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out.csv"
    os.symlink(victim, str(out) + ".tmp")
    assert main(["generate", "--gaze", src, "--out", str(out)]) == 0
    assert victim.read_text() == "keep me"
    assert os.path.islink(str(out) + ".tmp")  # left alone
    assert out.read_text().startswith("frame,")


def test_out_is_a_directory_one_line_error_exit_2_no_temp_left(tmp_path, capsys):
    src = _csv(tmp_path / "g.csv", GAZE)
    outdir = tmp_path / "outdir"
    outdir.mkdir()
    before = set(os.listdir(tmp_path))
    assert main(["generate", "--gaze", src, "--out", str(outdir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gazehead-rt generate: error:")
    assert set(os.listdir(tmp_path)) == before  # no *.tmp left behind
    assert not os.listdir(outdir)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing_col.csv", b"pitch,yaw\n0,0\n"),
        ("not_number.csv", b"gaze_pitch,gaze_yaw\nabc,0\n"),
        ("huge_field.csv", b"gaze_pitch,gaze_yaw\n" + b"1" * 200_000 + b",0\n"),
        ("bad.npz", b"PK\x03\x04 not really a zip"),
        ("not_utf8.csv", b"gaze_pitch,gaze_yaw\n\xff\xfe,0\n"),
        ("degrees.csv", b"gaze_pitch,gaze_yaw\n0,45\n"),
    ],
)
def test_bad_inputs_are_one_line_errors_with_exit_2(tmp_path, capsys, name, content):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / ("out.npz" if name.endswith(".npz") else "out.csv")
    rc = main(["generate", "--gaze", str(src), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("gazehead-rt generate: error:"), err
    assert "Traceback" not in err[0]
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.parametrize("value", ["AVX2", "foo"])
def test_unknown_cpu_isa_is_refused_listing_valid_values(tmp_path, value):
    code = (
        "import gazehead_rt as gh\n"
        "try:\n"
        "    gh.Generator()\n"
        "except ValueError as e:\n"
        "    print('REFUSED', e)\n"
    )
    env = dict(os.environ, GAZEHEAD_CPU_ISA=value)
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("REFUSED"), r.stdout
    for valid in ("baseline", "avx2", "avx512", "avx512bf16"):
        assert valid in r.stdout
    assert value in r.stdout


@pytest.mark.parametrize("value", ["baseline", "avx2", "avx512", "avx512bf16", ""])
def test_valid_cpu_isa_values_run(tmp_path, value):
    code = "import gazehead_rt as gh, numpy as np\nprint(gh.Generator().step(np.zeros(2)).shape)"
    env = dict(os.environ, GAZEHEAD_CPU_ISA=value)
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "(1, 3)" in r.stdout
