"""A retired format-2 (v3) file read as format 3 moves exactly as before: zero weights on the
two inputs v4 added, identity normalization for them, no reach floor."""

import json

import numpy as np
import pytest

import gazehead_rt as gh

pytest.importorskip("torch")

from gazehead_rt.model_file import load_model  # noqa: E402
from gazehead_rt.training.upgrade import upgrade_v3  # noqa: E402

from reference import make_model, saccadic_gaze  # noqa: E402


def _as_format_2(v4_path, out):
    """The v3 file that ``v4_path`` would be without the head inputs (columns 7, 8)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    t = load_file(str(v4_path))
    with safe_open(str(v4_path), "np") as f:
        meta = dict(f.metadata())
    w = t["enc.0.weight"]
    t["enc.0.weight"] = np.ascontiguousarray(np.delete(w, [7, 8], axis=1))
    norm = json.loads(meta["normalization"])
    for k in ("x_mean", "x_std"):
        norm[k] = [v for i, v in enumerate(norm[k]) if i not in (7, 8)]
    cfg = json.loads(meta["config"])
    for k in ("reach_gain", "reach_threshold", "reach_accel"):
        cfg.pop(k)
    meta.update(format_version="2", normalization=json.dumps(norm), config=json.dumps(cfg))
    meta.pop("tensors_sha256", None)
    save_file(t, str(out), metadata=meta)


def test_upgraded_v3_file_moves_as_the_v3_model(tmp_path):
    a = tmp_path / "a.safetensors"
    m = make_model(a, seed=2, reach_gain=0.0)
    import torch

    with torch.no_grad():  # what a v3 model is: no weight on the head inputs
        m.enc[0].weight[:, 7:9] = 0.0
    n = m.normalization
    n.x_mean[7:9], n.x_std[7:9] = 0.0, 1.0
    m.set_normalization(n)
    m.save(a)
    old = tmp_path / "old.safetensors"
    _as_format_2(a, old)
    with pytest.raises(gh.ModelError, match="format_version 2"):
        gh.Generator(old)
    new = tmp_path / "new.safetensors"
    upgrade_v3(str(old), str(new))
    la, ln = load_model(a), load_model(new)
    assert ln.config == la.config
    for k, v in la.tensors.items():
        np.testing.assert_array_equal(ln.tensors[k], v, err_msg=k)
    gaze = saccadic_gaze(np.random.default_rng(0), 200, 3)
    np.testing.assert_array_equal(
        gh.Generator(new, num_agents=3, seed=1).generate(gaze),
        gh.Generator(a, num_agents=3, seed=1).generate(gaze),
    )


def test_only_format_2_is_upgraded(tmp_path):
    a = tmp_path / "a.safetensors"
    make_model(a, seed=2)
    with pytest.raises(ValueError, match="format_version '3', expected '2'"):
        upgrade_v3(str(a), str(tmp_path / "b.safetensors"))
