"""gazehead_rt/_C.pyi is generated from the built module and must not drift from it."""

import importlib.util
import os
import subprocess
import sys

import pytest

import gazehead_rt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "gazehead_rt", "_C.pyi")


def test_type_stubs_match_the_built_module(tmp_path):
    if importlib.util.find_spec("pybind11_stubgen") is None:
        pytest.skip("pybind11-stubgen is not installed (it is part of the test extra)")
    if not gazehead_rt.build_info()["cuda_built"]:
        pytest.skip("the committed stubs come from a CUDA-enabled build (the CI configuration); "
                    "this build has no CUDA backend, so _C lacks CudaGenerator")
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "gazehead_rt._C", "-o", str(tmp_path)], check=True,
                   capture_output=True, cwd=tmp_path)
    generated = (tmp_path / "gazehead_rt" / "_C.pyi").read_text()
    with open(STUB) as f:
        committed = f.read()
    assert generated == committed, (
        "gazehead_rt/_C.pyi is out of date; regenerate it from an installed build with "
        "`pybind11-stubgen gazehead_rt._C -o .` in the repository root")


def test_stubs_and_marker_ship_with_the_package():
    pkg = os.path.dirname(gazehead_rt.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    assert os.path.isfile(os.path.join(pkg, "_C.pyi"))
