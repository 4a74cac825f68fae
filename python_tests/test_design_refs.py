"""Every design reference in the tree points at a section that exists in docs/design.md."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
SKIP = {"build", "dist", "wheelhouse", "runs", "__pycache__"}  # and hidden folders (.git, .venv*)
SUFFIXES = {".py", ".md", ".h", ".cpp", ".cu", ".cuh", ".inc", ".txt", ".toml", ".in"}


def _files():
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP]  # not walked
        for name in names:
            if os.path.splitext(name)[1] in SUFFIXES:
                yield Path(folder, name)


@pytest.mark.skipif(not DESIGN.is_file(), reason="needs the source tree")
def test_design_references_resolve():
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", DESIGN.read_text(), re.M)}
    assert sections == set(range(1, len(sections) + 1))
    bad, count = [], 0
    for p in _files():
        text = p.read_text(errors="replace")
        for m in re.finditer(r"docs/design\.md §(\d+)((?:[-–, ]+§?\d+)*)", text):
            nums = [int(n) for n in re.findall(r"\d+", m.group(0).split("§", 1)[1])]
            count += 1
            bad += [f"{p.relative_to(ROOT)}: {m.group(0)}" for n in nums if n not in sections]
        if re.search(r"\bDESIGN §", text):
            bad.append(f"{p.relative_to(ROOT)}: refers to a design file outside the repository")
    assert count > 0
    assert bad == []
