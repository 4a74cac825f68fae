"""gazehead_rt/_C.pyi is generated from the built module and must not drift from it."""

import ast
import importlib.util
import os
import subprocess
import sys

import pytest

import gazehead_rt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "gazehead_rt", "_C.pyi")


_CUDA_NAMES = ("CudaGenerator", "cuda_device_count", "cuda_device_name", "cuda_device_status")


def _without_cuda(stub: str) -> str:
    """The committed stub as a build without the CUDA backend generates it: no CudaGenerator
    class, no cuda_device_* functions (bound only where the CUDA backend is compiled), and
    none of those names in __all__."""
    lines = stub.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for ln in lines:
        top = ln[:1] not in (" ", "\t", "\n")
        if top:
            skipping = any(
                ln.startswith((f"class {n}:", f"class {n}(", f"def {n}(")) for n in _CUDA_NAMES
            )
        if not skipping:
            out.append(ln)
    for k, ln in enumerate(out):
        if ln.startswith("__all__: list[str] = "):
            names = ast.literal_eval(ln.split(" = ", 1)[1])
            out[k] = f"__all__: list[str] = {[n for n in names if n not in _CUDA_NAMES]!r}\n"
    return "".join(out)


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


def test_cpu_only_view_drops_exactly_the_cuda_names():
    stub = (
        "__all__: list[str] = ['CpuGenerator', 'CudaGenerator', 'cuda_device_count']\n"
        "class CpuGenerator:\n    def step(self) -> None:\n        ...\n"
        "class CudaGenerator(Generator):\n    def step(self) -> None:\n        ...\n\n"
        "    def result(self) -> None:\n        ...\n"
        "def cuda_device_count() -> int:\n    ...\n"
    )
    assert _without_cuda(stub) == (
        "__all__: list[str] = ['CpuGenerator']\n"
        "class CpuGenerator:\n    def step(self) -> None:\n        ...\n"
    )


def test_stubs_and_marker_ship_with_the_package():
    pkg = os.path.dirname(gazehead_rt.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    assert os.path.isfile(os.path.join(pkg, "_C.pyi"))
