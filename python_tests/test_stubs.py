"""gazehead_rt/_C.pyi is generated from the built module and must not drift from it."""

import importlib.util
import os
import subprocess
import sys

import pytest

import gazehead_rt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "gazehead_rt", "_C.pyi")


def _without_cuda(stub: str) -> str:
    """The committed stub as a build without the CUDA backend generates it: no CudaGenerator
    class and no such name in __all__ (everything else, cuda_device_* included, is bound in
    every build)."""
    lines = stub.splitlines(keepends=True)
    start = lines.index("class CudaGenerator:\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\t", "\n"))
    out = "".join(lines[:start] + lines[end:])
    assert "'CudaGenerator', " in out
    return out.replace("'CudaGenerator', ", "", 1)


def test_type_stubs_match_the_built_module(tmp_path):
    """The committed stubs come from a CUDA-enabled build (the release configuration); a build
    without CUDA checks everything but the CUDA class."""
    if importlib.util.find_spec("pybind11_stubgen") is None:
        pytest.skip("pybind11-stubgen is not installed (it is part of the test extra)")
    subprocess.run(
        [sys.executable, "-m", "pybind11_stubgen", "gazehead_rt._C", "-o", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    generated = (tmp_path / "gazehead_rt" / "_C.pyi").read_text()
    with open(STUB) as f:
        committed = f.read()
    expected = committed if gazehead_rt.build_info()["cuda_built"] else _without_cuda(committed)
    assert generated == expected, (
        "gazehead_rt/_C.pyi is out of date; regenerate it from an installed CUDA-enabled build "
        "with `pybind11-stubgen gazehead_rt._C -o .` in the repository root"
    )


def test_cpu_only_view_drops_exactly_the_cuda_class():
    stub = (
        "__all__: list[str] = ['CpuGenerator', 'CudaGenerator', 'cuda_device_count']\n"
        "class CpuGenerator:\n    def step(self) -> None:\n        ...\n"
        "class CudaGenerator:\n    def step(self) -> None:\n        ...\n\n"
        "    def result(self) -> None:\n        ...\n"
        "def cuda_device_count() -> int:\n    ...\n"
    )
    assert _without_cuda(stub) == (
        "__all__: list[str] = ['CpuGenerator', 'cuda_device_count']\n"
        "class CpuGenerator:\n    def step(self) -> None:\n        ...\n"
        "def cuda_device_count() -> int:\n    ...\n"
    )


def test_stubs_and_marker_ship_with_the_package():
    pkg = os.path.dirname(gazehead_rt.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    assert os.path.isfile(os.path.join(pkg, "_C.pyi"))
