"""The layering of docs/design.md §1, checked two ways.

1. The runtime imports and steps with PyTorch, MediaPipe and the training package unimportable.
2. Every import statement of the source tree (also those inside functions) goes one way:
   runtime <- demo <- cli, runtime <- training <- cli (lazily), and tests, benchmarks and
   examples reach the learning side only as ``gazehead_rt.training``.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from blocked_imports import run_blocked

ROOT = Path(__file__).resolve().parent.parent
STDLIB = getattr(sys, "stdlib_module_names", None)

# Third-party packages each layer may import (besides the standard library and the layers
# below it). The runtime needs only its two install requirements.
RUNTIME_DEPS = {"numpy", "safetensors"}
DEMO_DEPS = RUNTIME_DEPS | {"matplotlib", "PIL", "imageio_ffmpeg"}
# The portrait animator (the portrait extra): face mesh, images, OpenGL, video files.
PORTRAIT_DEPS = RUNTIME_DEPS | {"mediapipe", "cv2", "moderngl", "imageio_ffmpeg"}
# What the extras bring; the training package may use any of them (lazily for the heavy ones).
TRAINING_DEPS = RUNTIME_DEPS | {
    "torch",
    "tqdm",
    "matplotlib",
    "mediapipe",
    "cv2",
    "ray",
    "onnx",
    "onnxruntime",
}

HEAVY = [
    "torch",
    "mediapipe",
    "gazehead_rt.training",
    "matplotlib",
    "PIL",
    "cv2",
    "onnx",
    "onnxruntime",
    "ray",
    "tqdm",
]


# ------------------------------------------------------------------ 1. runtime without extras


def test_runtime_steps_with_torch_mediapipe_and_training_blocked(tmp_path):
    code = """
import json
import numpy as np
for probe in ("torch", "mediapipe", "gazehead_rt.training"):
    try:
        __import__(probe)
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit(f"the blocker let {probe} through")
import gazehead_rt as gh
import gazehead_rt.cli, gazehead_rt.frames, gazehead_rt.limits, gazehead_rt.rate  # noqa: F401
gen = gh.Generator(num_agents=2, seed=5)
head = gen.step(np.array([[0.1, 0.4], [0.0, -0.3]]))
seq = gh.Generator(num_agents=2, seed=5).generate(np.tile([[[0.1, 0.4], [0.0, -0.3]]], (3, 1, 1)))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "mediapipe", "cv2",
               "matplotlib", "PIL", "onnxruntime"} or m.startswith("gazehead_rt.training"))
print(json.dumps({"head": head.tolist(), "eye": gen.eye.tolist(), "seq0": seq[0].tolist(),
                  "heavy": heavy}))
"""
    r = run_blocked(code, HEAVY, tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    head, eye = np.asarray(out["head"]), np.asarray(out["eye"])
    assert head.shape == (2, 3) and eye.shape == (2, 2)
    assert np.isfinite(head).all() and np.abs(head).max() < np.pi
    # the same seed gives the same first frame through step() and generate()
    np.testing.assert_allclose(out["seq0"], head, atol=1e-6)
    assert out["heavy"] == []


# ------------------------------------------------------------------ 2. static import layering


def _module_name(path: Path) -> str:
    """Dotted name the file has once installed (training/ installs as gazehead_rt.training)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "training":
        parts.insert(0, "gazehead_rt")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files(*folders: str) -> list[Path]:
    return sorted(
        p
        for f in folders
        for p in (ROOT / f).rglob("*.py")
        if ".venv" not in p.parts and "build" not in p.parts
    )


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, at module level) for every import in the file; relative
    imports are resolved, and ``from pkg import name`` yields ``pkg.name``."""
    tree = ast.parse(path.read_text(), str(path))
    name = _module_name(path) if path.parts[len(ROOT.parts)] in ("gazehead_rt", "training") else ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(n) for n in tree.body}
    for n in tree.body:  # imports under a module-level `if`/`try` still run at import time
        if isinstance(n, (ast.If, ast.Try)):
            top_level |= {id(c) for c in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            if mod == "__future__":
                continue
            out += [(node.lineno, f"{mod}.{a.name}", id(node) in top_level) for a in node.names]
    return out


def _top(mod: str) -> str:
    return mod.split(".")[0]


def _is(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


DEMO = ("gazehead_rt.demo",)
PORTRAIT = ("gazehead_rt.portrait",)
CLI = ("gazehead_rt.cli", "gazehead_rt.__main__")


def _layer(mod: str) -> str:
    if _is(mod, "gazehead_rt.training"):
        return "training"
    if any(_is(mod, d) for d in DEMO):
        return "demo"
    if any(_is(mod, d) for d in PORTRAIT):
        return "portrait"
    if any(_is(mod, c) for c in CLI):
        return "cli"
    if _is(mod, "gazehead_rt"):
        return "runtime"
    return "outside"


def _third_party_ok(mod: str, allowed: set[str]) -> bool:
    top = _top(mod)
    return top in allowed or (STDLIB is not None and top in STDLIB)


def _violations() -> list[str]:
    bad = []
    for path in _source_files("gazehead_rt", "training"):
        me = _module_name(path)
        layer = _layer(me)
        for line, mod, module_level in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {mod}"
            target = _layer(mod) if _top(mod) == "gazehead_rt" else None
            if _top(mod) == "training":
                bad.append(
                    f"{where}: the learning side is gazehead_rt.training once installed; "
                    "import it relatively inside training/"
                )
            elif layer == "runtime":
                if target == "portrait" and not module_level and me == "gazehead_rt":
                    pass  # gh.PortraitAnimator: the package attribute loads it on first use
                elif target in ("training", "demo", "portrait", "cli"):
                    bad.append(f"{where}: the runtime must not import the {target} layer")
                elif target is None and not _third_party_ok(mod, RUNTIME_DEPS):
                    bad.append(f"{where}: the runtime depends only on numpy and safetensors")
            elif layer == "demo":
                if target in ("training", "cli"):
                    bad.append(f"{where}: the demo must not import the {target} layer")
                elif target is None and not _third_party_ok(mod, DEMO_DEPS):
                    bad.append(f"{where}: not a dependency of the demo extra")
            elif layer == "portrait":
                if target in ("training", "demo", "cli"):
                    bad.append(f"{where}: the portrait animator must not import the {target} layer")
                elif target is None and not _third_party_ok(mod, PORTRAIT_DEPS):
                    bad.append(f"{where}: not a dependency of the portrait extra")
            elif layer == "cli":
                if target is None and not _third_party_ok(mod, RUNTIME_DEPS):
                    bad.append(f"{where}: the CLI imports only the runtime at module level")
                elif target in ("training", "demo", "portrait") and module_level:
                    bad.append(
                        f"{where}: the CLI loads the {target} layer only inside the "
                        "command that needs it"
                    )
            elif layer == "training":
                if target in ("demo", "portrait", "cli"):
                    bad.append(f"{where}: training must not import the {target} layer")
                elif target == "training" and not _imports_relative(path, line):
                    bad.append(
                        f"{where}: inside training/ use relative imports, so "
                        "`python -m training.X` (checkout) and the wheel both work"
                    )
                elif target is None and not _third_party_ok(mod, TRAINING_DEPS):
                    bad.append(f"{where}: not a dependency of any extra")
    for path in _source_files("python_tests", "benchmarks", "examples"):
        for line, mod, _ in _imports(path):
            if _top(mod) == "training":
                bad.append(
                    f"{path.relative_to(ROOT)}:{line} imports {mod}: use "
                    "gazehead_rt.training (what the wheel installs)"
                )
            if path.parts[len(ROOT.parts)] == "examples" and _layer(mod) not in (
                "runtime",
                "outside",
            ):
                bad.append(
                    f"{path.relative_to(ROOT)}:{line} imports {mod}: examples show the "
                    "runtime API only"
                )
    return bad


def _imports_relative(path: Path, line: int) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        isinstance(n, ast.ImportFrom) and n.lineno == line and n.level > 0 for n in ast.walk(tree)
    )


@pytest.mark.skipif(not (ROOT / "training").is_dir(), reason="needs the source tree")
@pytest.mark.skipif(STDLIB is None, reason="sys.stdlib_module_names needs Python >= 3.10")
def test_imports_follow_the_layering():
    assert _violations() == []


def test_layer_checker_catches_crossings(tmp_path, monkeypatch):
    """The checker itself: a runtime module that imports torch or the training package fails."""
    if STDLIB is None:
        pytest.skip("sys.stdlib_module_names needs Python >= 3.10")
    fake_root = tmp_path
    (fake_root / "gazehead_rt").mkdir()
    (fake_root / "training").mkdir()
    (fake_root / "gazehead_rt" / "geometry.py").write_text(
        "import numpy as np\n\ndef f():\n    import torch\n    from .training import model\n"
    )
    (fake_root / "gazehead_rt" / "cli.py").write_text("from gazehead_rt.training import train\n")
    (fake_root / "training" / "model.py").write_text("from training.data import Clip\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    found = "\n".join(_violations())
    assert "gazehead_rt/geometry.py:4 imports torch" in found
    assert "gazehead_rt/geometry.py:5 imports gazehead_rt.training.model" in found
    assert "gazehead_rt/cli.py:1 imports gazehead_rt.training.train" in found
    assert "training/model.py:1 imports training.data.Clip" in found
    assert len(_violations()) == 4


def _cycles(folder: Path) -> list[list[str]]:
    """Import cycles among the modules of one source folder (all imports, lazy ones too)."""
    files = {_module_name(p): p for p in folder.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        deps = set()
        for _, mod, _ in _imports(path):
            # `from pkg import sub` names the submodule; otherwise the module itself
            deps.add(mod if mod in files else mod.rpartition(".")[0])
        # a submodule naming its own package (`from . import _C`) is no cycle: the package is
        # initialised before any of its submodules
        graph[name] = {d for d in deps if d in files and d != name and not _is(name, d)}
    # Tarjan's strongly connected components
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return comps


@pytest.mark.skipif(not (ROOT / "training").is_dir(), reason="needs the source tree")
@pytest.mark.parametrize("folder", ["training/extract", "training/data", "gazehead_rt"])
def test_no_import_cycles(folder):
    assert _cycles(ROOT / folder) == []


def test_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "training" / "extract"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from . import a\n")
    (pkg / "c.py").write_text("from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _cycles(pkg) == [["gazehead_rt.training.extract.a", "gazehead_rt.training.extract.b"]]
