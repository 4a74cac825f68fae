"""load_model reads the bytes it checks, caps sizes before allocating, types every config
field, checks plausible ranges and the tensors' integrity hash: every failure is a ModelError
naming the file (and the field)."""

from __future__ import annotations

import dataclasses
import json
import struct

import numpy as np
import pytest
import safetensors
from safetensors.numpy import save as st_save

import gazehead_rt as gh
from gazehead_rt import model_file as mf
from gazehead_rt.errors import ModelError


@pytest.fixture(scope="module")
def default():
    return mf.load_model(gh.default_model_path())


def _meta_of(path) -> dict:
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n])["__metadata__"]


def _write(path, default, *, meta=None, tensors=None):
    """A model file with the default model's tensors/metadata, edited."""
    m = dict(_meta_of(gh.default_model_path()))
    if meta:
        m.update(meta)
    t = dict(default.tensors)
    if tensors:
        t.update(tensors)
    path.write_bytes(st_save(t, metadata=m))
    return str(path)


def _config(default, **kw):
    d = json.loads(default.config.to_json())
    d.update(kw)
    return json.dumps(d)


def test_default_model_loads_and_carries_the_hash(default):
    assert mf.HASH_KEY in _meta_of(gh.default_model_path())
    assert _meta_of(gh.default_model_path())[mf.HASH_KEY] == mf.tensors_sha256(default.tensors)


def test_load_parses_the_bytes_it_read_not_a_mapping(default, tmp_path, monkeypatch):
    def no_mapping(*a, **k):
        raise AssertionError("load_model must not memory-map the file")

    monkeypatch.setattr(safetensors, "safe_open", no_mapping)
    m = mf.load_model(gh.default_model_path())
    for k, v in default.tensors.items():
        np.testing.assert_array_equal(m.tensors[k], v)


def test_flipped_bit_in_a_weight_fails_the_integrity_hash(default, tmp_path):
    p = tmp_path / "m.safetensors"
    mf.save_model(p, default.tensors, default.config, default.normalization)
    raw = bytearray(p.read_bytes())
    raw[-8] ^= 0x01  # the lowest mantissa bit of the last float: finite, plausible
    p.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match=r"m\.safetensors.*tensors_sha256"):
        mf.load_model(p)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("hidden_size", 128.0, "hidden_size"),
        ("latent_size", "8", "latent_size"),
        ("neck_soft", "yes", "neck_soft"),
        ("fps", True, "fps"),
        ("enc_sizes", [64.0, 64], "enc_sizes"),
        ("activation", 3, "activation"),
    ],
)
def test_wrong_config_types_are_model_errors(default, tmp_path, key, value, field):
    p = _write(
        tmp_path / "c.safetensors", default, meta={"config": _config(default, **{key: value})}
    )
    with pytest.raises(ModelError, match=rf"c\.safetensors.*{field}"):
        mf.load_model(p)


def test_bf16_tensor_is_a_model_error(default, tmp_path):
    p = tmp_path / "b.safetensors"
    _write(p, default)
    raw = p.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    header["gru.bias_ih"]["dtype"] = "BF16"
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    p.write_bytes(struct.pack("<Q", len(h)) + h + raw[8 + n :])
    with pytest.raises(ModelError, match=r"b\.safetensors.*gru\.bias_ih"):
        mf.load_model(p)


def test_deep_nesting_is_a_model_error(default, tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    p = _write(tmp_path / "d.safetensors", default, meta={"provenance": deep})
    with pytest.raises(ModelError, match=r"d\.safetensors.*provenance.*nested"):
        mf.load_model(p)


def test_size_caps_before_allocation(default, tmp_path):
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:
        f.truncate(mf.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(ModelError, match=r"big\.safetensors.*cap"):
        mf.load_model(big)
    p = _write(tmp_path / "h.safetensors", default, meta={"notes": "x" * (mf.MAX_HEADER_BYTES + 1)})
    with pytest.raises(ModelError, match=r"h\.safetensors.*header.*cap"):
        mf.load_model(p)


def test_directory_and_unreadable_paths_are_model_errors(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        mf.load_model(tmp_path)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"x_std": [1e-38] * 11}, "x_std"),
        ({"y_mean": [1e30, 0, 0]}, "y_mean"),
        ({"y_std": [1e7, 1, 1]}, "y_std"),
    ],
)
def test_implausible_normalization_is_refused(default, tmp_path, edit, field):
    norm = json.loads(default.normalization.to_json())
    norm.update(edit)
    p = _write(tmp_path / "n.safetensors", default, meta={"normalization": json.dumps(norm)})
    with pytest.raises(ModelError, match=rf"n\.safetensors.*{field}"):
        mf.load_model(p)


@pytest.mark.parametrize("fps", [1e-30, 0.5, 5000.0])
def test_implausible_fps_is_refused(default, tmp_path, fps):
    p = _write(tmp_path / "f.safetensors", default, meta={"config": _config(default, fps=fps)})
    with pytest.raises(ModelError, match=r"f\.safetensors.*fps"):
        mf.load_model(p)


def test_absurd_weight_is_refused(default, tmp_path):
    w = default.tensors["dec.4.weight"].copy()
    w[0, 0] = 2.5e33
    meta = dict(_meta_of(gh.default_model_path()))
    meta.pop(mf.HASH_KEY)  # no hash: the range check alone must catch it
    p = tmp_path / "w.safetensors"
    t = dict(default.tensors)
    t["dec.4.weight"] = w
    p.write_bytes(st_save(t, metadata=meta))
    with pytest.raises(ModelError, match=r"w\.safetensors.*dec\.4\.weight"):
        mf.load_model(p)


def test_short_gru_bias_in_a_loaded_model_is_a_model_error(default):
    t = dict(default.tensors)
    t["gru.bias_ih"] = t["gru.bias_ih"][:-5].copy()
    bad = dataclasses.replace(default, tensors=t)
    with pytest.raises(ModelError, match="bias"):
        gh.Generator(bad)
