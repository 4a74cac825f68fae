"""Read a retired format-2 (motion model v3) file as format 3 with the same motion.

``python -m training.upgrade OLD.safetensors NEW.safetensors`` writes a v4-format file whose
step equals v3's: the encoder gets zero weights for the two inputs v4 added (the head's
pitch and yaw on the torso), their normalization is the identity, and the reach floor is
off (``reach_gain`` 0). Used to score v3 beside v4 with the same runtime and evaluation
(the model card's comparison); ``--reach`` keeps v4's default floor instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np

from gazehead_rt.model_file import ModelConfig, Normalization, save_model

__all__ = ["upgrade_v3", "main"]

#: where v4's two new condition entries sit in x (docs/design.md §4)
_NEW_INPUTS = slice(7, 9)


def upgrade_v3(src: str, dst: str, *, reach: bool = False) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    with safe_open(src, "np") as f:
        meta = f.metadata() or {}
    if meta.get("format_version") != "2":
        raise ValueError(f"{src}: format_version {meta.get('format_version')!r}, expected '2'")
    tensors = load_file(src)
    w = tensors["enc.0.weight"]  # (E, 9 + Z): [x (9), z]
    tensors["enc.0.weight"] = np.concatenate(
        [
            w[:, : _NEW_INPUTS.start],
            np.zeros((w.shape[0], 2), np.float32),
            w[:, _NEW_INPUTS.start :],
        ],
        1,
    )
    norm = json.loads(meta["normalization"])
    for key, fill in (("x_mean", 0.0), ("x_std", 1.0)):
        v = list(norm[key])
        norm[key] = v[: _NEW_INPUTS.start] + [fill, fill] + v[_NEW_INPUTS.start :]
    config = ModelConfig.from_dict(json.loads(meta["config"]))
    if not reach:
        config = dataclasses.replace(config, reach_gain=0.0)
    save_model(
        dst,
        tensors,
        config,
        Normalization(
            *(np.asarray(norm[k], np.float32) for k in ("x_mean", "x_std", "y_mean", "y_std"))
        ),
        provenance={**json.loads(meta.get("provenance", "{}")), "upgraded_from": "format 2"},
        metrics=json.loads(meta.get("metrics", "{}")),
        code_revision=meta.get("code_revision", "unknown"),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.upgrade", description=__doc__)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--reach", action="store_true", help="keep v4's default reach floor")
    a = p.parse_args(argv)
    upgrade_v3(a.src, a.dst, reach=a.reach)
    print(f"wrote {a.dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
