"""Write a model file from a training checkpoint (``best.pt`` / ``ckpt.pt``).

``python -m training.export RUN_DIR [--ckpt best.pt] [--out PATH]``: useful to ship the best
model of a run that was stopped early; metadata comes from the run's ``train_config.json``.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from gazehead_rt.model_file import ModelConfig

from .model import GazeHeadModel
from .paths import code_revision


def export_checkpoint(
    run_dir: str, out_path: str, ckpt: str = "best.pt", provenance: dict | None = None
) -> str:
    with open(os.path.join(run_dir, "train_config.json")) as f:
        tc = json.load(f)
    cfg = ModelConfig.from_dict(tc["model"])
    ck = torch.load(os.path.join(run_dir, ckpt), map_location="cpu", weights_only=False)
    m = GazeHeadModel(cfg)
    m.load_state_dict(ck["model"])
    prov = dict(provenance or {})
    prov.setdefault("train_config", tc)
    prov["steps_done"] = ck["step"]
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    m.save(out_path, provenance=prov, code_revision=code_revision())
    return out_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.export")
    p.add_argument("run_dir")
    p.add_argument("--ckpt", default="best.pt")
    p.add_argument("--out", default=None, help="default RUN_DIR/model.safetensors")
    a = p.parse_args(argv)
    print(
        export_checkpoint(a.run_dir, a.out or os.path.join(a.run_dir, "model.safetensors"), a.ckpt)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
