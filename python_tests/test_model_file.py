"""Model file loading: every defect is refused with a ModelError naming the file and tensor."""

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import gazehead_rt as gh
from gazehead_rt.model_file import ModelConfig, expected_shapes

from reference import make_model


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "good.safetensors"
    make_model(p, seed=1)
    return p


def _rewrite(src, dst, *, tensors=None, meta=None):
    from safetensors import safe_open

    with safe_open(str(src), framework="numpy") as f:
        m = dict(f.metadata())
    t = load_file(str(src))
    if tensors:
        tensors(t)
    if meta:
        meta(m)
    save_file(t, str(dst), metadata=m)
    return dst


def test_round_trip_keeps_everything(good):
    m = gh.load_model(good)
    assert set(m.tensors) == set(expected_shapes(m.config))
    assert m.metadata["provenance"] == {"purpose": "test"}
    assert m.config == ModelConfig()
    assert len(m.sha256) == 64


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda t: t.pop("gru.weight_hh"), r"tensor 'gru.weight_hh' is missing"),
        (
            lambda t: t.__setitem__("post.0.weight", np.zeros((2, 2), np.float32)),
            r"unexpected tensor 'post.0.weight'",
        ),
        (
            lambda t: t.__setitem__("dec.0.weight", np.zeros((128, 10), np.float32)),
            r"tensor 'dec.0.weight' has shape \(128, 10\), expected \(128, 136\)",
        ),
        (
            lambda t: t.__setitem__("enc.0.bias", np.zeros(64, np.float64)),
            r"tensor 'enc.0.bias' has dtype float64, expected float32",
        ),
        (
            lambda t: t["prior.0.weight"].__setitem__((0, 0), np.nan),
            r"tensor 'prior.0.weight' holds non-finite values",
        ),
    ],
)
def test_bad_tensors(good, tmp_path, mutate, match):
    bad = _rewrite(good, tmp_path / "bad.safetensors", tensors=mutate)
    with pytest.raises(gh.ModelError, match=match) as e:
        gh.Generator(bad)
    assert "bad.safetensors" in str(e.value)


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda m: m.__setitem__("format_version", "99"), r"format_version 99 is not supported"),
        (lambda m: m.pop("format_version"), r"no 'format_version'"),
        (lambda m: m.pop("config"), r"no 'config' entry"),
        (lambda m: m.__setitem__("config", "{not json"), r"'config' is not valid JSON"),
        (
            lambda m: m.__setitem__("config", json.dumps({"activation": "gelu"})),
            r"config.activation must be one of",
        ),
        (
            lambda m: m.__setitem__("config", json.dumps({"layers": 3})),
            r"unknown keys \['layers'\]",
        ),
        (
            lambda m: m.__setitem__(
                "normalization",
                json.dumps(
                    {"x_mean": [0] * 11, "x_std": [0] * 11, "y_mean": [0] * 3, "y_std": [1] * 3}
                ),
            ),
            r"normalization.x_std must be positive",
        ),
    ],
)
def test_bad_metadata(good, tmp_path, mutate, match):
    bad = _rewrite(good, tmp_path / "meta.safetensors", meta=mutate)
    with pytest.raises(gh.ModelError, match=match):
        gh.load_model(bad)


def test_truncated_empty_and_missing_files(good, tmp_path):
    data = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(gh.ModelError, match=r"trunc.safetensors: not a readable safetensors file"):
        gh.load_model(tmp_path / "trunc.safetensors")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(gh.ModelError, match=r"empty.safetensors: file is empty"):
        gh.load_model(tmp_path / "empty.safetensors")
    with pytest.raises(gh.ModelError, match=r"nope.safetensors: no such model file"):
        gh.Generator(tmp_path / "nope.safetensors")
    (tmp_path / "garbage.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(gh.ModelError, match="garbage.safetensors"):
        gh.load_model(tmp_path / "garbage.safetensors")


def test_model_error_is_a_value_error():
    assert issubclass(gh.ModelError, ValueError)


@pytest.mark.parametrize(
    "config",
    [
        {"hidden_size": 128.0},
        {"latent_size": True},
        {"fps": "30"},
        {"fps": float("nan")},
        {"enc_sizes": [64, "a"]},
        {"neck_limits": [0.5, 1.0]},
        {"style_std": [0.2, -0.1]},
        {"activation": "gelu"},
        {"residual": True},
    ],
)
def test_config_from_dict_is_checked_as_a_file_is(good, tmp_path, config):
    """ModelConfig.from_dict (training's and the upgrader's way in) and load_model refuse a
    config with the same message: both are the core's check."""
    with pytest.raises(gh.ModelError) as from_dict:
        ModelConfig.from_dict(config)
    text = json.dumps(config)
    bad = _rewrite(good, tmp_path / "c.safetensors", meta=lambda m: m.__setitem__("config", text))
    with pytest.raises(gh.ModelError) as from_file:
        gh.load_model(bad)
    assert str(from_file.value) == f"{bad}: {from_dict.value}"


def test_config_from_dict_refuses_what_json_cannot_hold():
    with pytest.raises(gh.ModelError, match=r"config is not JSON data"):
        ModelConfig.from_dict({"fps": np.float32})


def test_config_defaults_are_the_cores():
    """A key a file leaves out gets the core reader's default; ModelConfig's (what save_model
    writes) must be the same values."""
    import dataclasses

    from gazehead_rt._native import native

    core = native().model_config_defaults()
    ours = dataclasses.asdict(ModelConfig())
    assert set(core) == set(ours)
    assert core.pop("activation") == ours.pop("activation")
    for key, value in ours.items():
        np.testing.assert_allclose(
            np.asarray(core[key], float), np.asarray(value, float), err_msg=key
        )
