"""The extraction package imports without its optional dependencies and says what to install."""

import subprocess
import sys

# make 'import mediapipe' fail in the child, whether or not it is installed here
_BLOCK = "import sys; sys.modules['mediapipe'] = None; "


def _run(code, cwd):
    # cwd outside the checkout so the installed package is what runs
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code], cwd=cwd, capture_output=True, text=True
    )


def test_package_imports_without_mediapipe(tmp_path):
    r = _run(
        "import gazehead_rt.training.extract, gazehead_rt.training.extract.tracks, "
        "gazehead_rt.training.extract.cli; "
        "import gazehead_rt; assert 'cv2' not in sys.modules; print('ok')",
        tmp_path,
    )
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_missing_mediapipe_gives_install_hint(tmp_path):
    r = _run(
        "from gazehead_rt.training.extract.cli import main; "
        f"sys.exit(main(['video.mp4', '-o', {str(tmp_path)!r}]))",
        tmp_path,
    )
    assert r.returncode == 2
    assert 'pip install "gazehead_rt[extract]"' in r.stderr


def test_cli_rejects_missing_input(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gazehead_rt.training.extract",
            str(tmp_path / "nope.mp4"),
            "-o",
            str(tmp_path / "ds"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2, r.stderr
    assert "nope.mp4" in r.stderr or "pip install" in r.stderr
