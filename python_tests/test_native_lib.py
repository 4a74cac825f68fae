"""The C library shipped in the wheel (libgazehead): found by ``native_library_path()``,
printed by ``gazehead-rt info``, and equal to the Python API in numbers and messages.

The C ABI's own tests (every call and error path) are csrc/capi/tests/test_capi.c (ctest) and
the Mono test of the C# binding; here it is driven through ctypes from the installed package,
next to the Python API, so the two layers are compared on the same machine and build.
"""

from __future__ import annotations

import ctypes
import json
import os
import re

import numpy as np
import pytest
from safetensors.numpy import save_file

import gazehead_rt as gh
from gazehead_rt import cli
from gazehead_rt.model_file import load_model
from gazehead_rt.native_lib import NATIVE_LIBRARY_NAME, native_include_dir, native_library_path

f32p = ctypes.POINTER(ctypes.c_float)


ABI_VERSION = 2


class Options(ctypes.Structure):  # gazehead_generator_options (layout unchanged since ABI 1)
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("abi_version", ctypes.c_uint32),
        ("num_agents", ctypes.c_int64),
        ("seed", ctypes.c_uint32),
        ("temperature", ctypes.c_float),
        ("nan_policy", ctypes.c_int32),
        ("num_threads", ctypes.c_int32),
        ("backend", ctypes.c_int32),
        ("reserved_i", ctypes.c_int32 * 7),
        ("reserved_f", ctypes.c_float * 8),
    ]


class ModelInfo(ctypes.Structure):  # gazehead_model_info, ABI 2
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("format_version", ctypes.c_int32),
        ("fps", ctypes.c_float),
        ("hidden_size", ctypes.c_int32),
        ("latent_size", ctypes.c_int32),
        ("style_size", ctypes.c_int32),
        ("num_parameters", ctypes.c_int64),
        ("fingerprint", ctypes.c_uint64),
        ("neck_limits", ctypes.c_float * 3),
        ("neck_soft", ctypes.c_float),
        ("eye_limit", ctypes.c_float),
        ("style_mean", ctypes.c_float * 2),
        ("style_std", ctypes.c_float * 2),
    ]


@pytest.fixture(scope="module")
def lib():
    path = native_library_path()
    assert path is not None, (
        "the installed package has no libgazehead (built with GAZEHEAD_BUILD_CAPI=OFF?)"
    )
    L = ctypes.CDLL(path)
    L.gazehead_last_error.restype = ctypes.c_char_p
    L.gazehead_version.restype = ctypes.c_char_p
    L.gazehead_build_info.restype = ctypes.c_char_p
    L.gazehead_model_load_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    L.gazehead_model_free.argtypes = [ctypes.c_void_p]
    L.gazehead_generator_options_init.argtypes = [
        ctypes.POINTER(Options),
        ctypes.c_uint32,
        ctypes.c_uint32,
    ]
    L.gazehead_generator_create.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(Options),
        ctypes.POINTER(ctypes.c_void_p),
    ]
    L.gazehead_generator_free.argtypes = [ctypes.c_void_p]
    L.gazehead_generator_step.argtypes = [
        ctypes.c_void_p,
        f32p,
        ctypes.c_int64,
        f32p,
        ctypes.c_int64,
        f32p,
        ctypes.c_int64,
    ]
    L.gazehead_generator_update.argtypes = [
        ctypes.c_void_p,
        f32p,
        ctypes.c_int64,
        ctypes.c_double,
        f32p,
        ctypes.c_int64,
        f32p,
        ctypes.c_int64,
    ]
    L.gazehead_model_get_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(ModelInfo)]
    for name in ("set_style", "get_style"):
        getattr(L, f"gazehead_generator_{name}").argtypes = [ctypes.c_void_p, f32p, ctypes.c_int64]
    for name in ("set_neck_limits", "get_neck_limits"):
        getattr(L, f"gazehead_generator_{name}").argtypes = [ctypes.c_void_p, f32p]
    return L


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(f32p)


def _load(lib, path) -> ctypes.c_void_p:
    m = ctypes.c_void_p()
    status = lib.gazehead_model_load_file(os.fsencode(path), ctypes.byref(m))
    if status != 0:
        raise gh.ModelError(lib.gazehead_last_error().decode())
    return m


def _generator(lib, model, n, seed, temperature):
    o = Options()
    assert lib.gazehead_generator_options_init(ctypes.byref(o), ctypes.sizeof(o), ABI_VERSION) == 0
    o.num_agents, o.seed, o.temperature = n, seed, temperature
    g = ctypes.c_void_p()
    assert lib.gazehead_generator_create(model, ctypes.byref(o), ctypes.byref(g)) == 0, (
        lib.gazehead_last_error()
    )
    return g


def test_library_and_header_are_in_the_package():
    path = native_library_path()
    pkg = os.path.dirname(os.path.abspath(gh.__file__))
    assert path == os.path.join(pkg, "native", "lib", NATIVE_LIBRARY_NAME)
    header = os.path.join(native_include_dir(), "gazehead", "gazehead.h")
    assert os.path.isfile(header)
    with open(header) as f:
        assert re.search(r"^#define GAZEHEAD_ABI_VERSION 2$", f.read(), re.M)


def test_versions(lib):
    assert lib.gazehead_abi_version() == ABI_VERSION
    assert lib.gazehead_version().decode() == gh.__version__
    assert lib.gazehead_build_info().decode().startswith(f"gazehead_rt {gh.__version__} (C ABI 2;")


def test_info_prints_the_library_path(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"  C library       : {native_library_path()}\n" in out
    assert os.path.join(native_include_dir(), "gazehead", "gazehead.h") in out


def test_step_and_update_equal_the_python_api(lib):
    n, seed, temperature = 3, 11, 0.9
    model = _load(lib, gh.default_model_path())
    g = _generator(lib, model, n, seed, temperature)
    gen = gh.Generator(num_agents=n, backend="cpu", seed=seed, temperature=temperature)
    rng = np.random.default_rng(0)
    head = np.empty((n, 3), np.float32)
    eye = np.empty((n, 2), np.float32)
    try:
        for _ in range(40):
            gaze = rng.uniform(-0.6, 0.6, (n, 2)).astype(np.float32)
            assert (
                lib.gazehead_generator_step(
                    g, _ptr(gaze), 2 * n, _ptr(head), 3 * n, _ptr(eye), 2 * n
                )
                == 0
            )
            np.testing.assert_array_equal(
                head, gen.step(gaze)
            )  # same core, same machine: bit-equal
            np.testing.assert_array_equal(eye, gen.eye)
        for dt in (0.0, 1 / 60, 1 / 144, 0.3, 0.011):  # update() continues from the stepped state
            gaze = rng.uniform(-0.6, 0.6, (n, 2)).astype(np.float32)
            assert (
                lib.gazehead_generator_update(
                    g, _ptr(gaze), 2 * n, dt, _ptr(head), 3 * n, _ptr(eye), 2 * n
                )
                == 0
            )
            np.testing.assert_allclose(head, gen.update(gaze, dt), rtol=0, atol=1e-6)
            np.testing.assert_allclose(eye, gen.eye, rtol=0, atol=1e-6)
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)


def _style(lib, g, n):
    out = np.empty((n, 2), np.float32)
    assert lib.gazehead_generator_get_style(g, _ptr(out), 2 * n) == 0
    return out


def _neck_limits(lib, g):
    out = np.empty(3, np.float32)
    assert lib.gazehead_generator_get_neck_limits(g, _ptr(out)) == 0
    return out


def test_model_info_is_the_config(lib):
    m = load_model(gh.default_model_path())
    c = m.config
    model = _load(lib, m.path)
    info = ModelInfo(struct_size=ctypes.sizeof(ModelInfo))
    try:
        assert lib.gazehead_model_get_info(model, ctypes.byref(info)) == 0
    finally:
        lib.gazehead_model_free(model)
    assert (info.format_version, info.hidden_size, info.latent_size, info.style_size) == (
        3,
        c.hidden_size,
        c.latent_size,
        2,
    )
    np.testing.assert_array_equal(
        np.asarray(info.neck_limits), np.asarray(c.neck_limits, np.float32)
    )
    np.testing.assert_array_equal(np.asarray(info.style_mean), np.asarray(c.style_mean, np.float32))
    np.testing.assert_array_equal(np.asarray(info.style_std), np.asarray(c.style_std, np.float32))
    assert info.neck_soft == np.float32(c.neck_soft) and info.eye_limit == np.float32(c.eye_limit)


@pytest.mark.parametrize("n, seed", [(1, 0), (5, 3), (70, 123456789)])
def test_default_styles_and_neck_limits_equal_the_python_api(lib, n, seed):
    model = _load(lib, gh.default_model_path())
    g = _generator(lib, model, n, seed, 1.0)
    gen = gh.Generator(num_agents=n, backend="cpu", seed=seed)
    try:
        np.testing.assert_array_equal(_style(lib, g, n), gen.style)  # the population draws
        np.testing.assert_array_equal(_neck_limits(lib, g), np.asarray(gen.neck_limits, np.float32))
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)


def test_set_style_and_neck_limits_step_equal_the_python_api(lib):
    n, seed, temperature = 3, 5, 0.7
    model = _load(lib, gh.default_model_path())
    g = _generator(lib, model, n, seed, temperature)
    gen = gh.Generator(num_agents=n, backend="cpu", seed=seed, temperature=temperature)
    style = np.array([[1.2, 0.1], [0.2, 1.0], [0.5, -0.4]], np.float32)
    limits = np.array([0.25, 0.4, 0.15], np.float32)  # narrow: the gaze below runs into them
    rng = np.random.default_rng(1)
    head = np.empty((n, 3), np.float32)
    eye = np.empty((n, 2), np.float32)
    try:
        assert lib.gazehead_generator_set_style(g, _ptr(style), 2 * n) == 0
        assert lib.gazehead_generator_set_neck_limits(g, _ptr(limits)) == 0
        gen.set_style(style)
        gen.neck_limits = limits
        np.testing.assert_array_equal(_style(lib, g, n), gen.style)
        np.testing.assert_array_equal(_neck_limits(lib, g), np.asarray(gen.neck_limits, np.float32))
        for _ in range(30):
            gaze = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
            assert (
                lib.gazehead_generator_step(
                    g, _ptr(gaze), 2 * n, _ptr(head), 3 * n, _ptr(eye), 2 * n
                )
                == 0
            )
            np.testing.assert_array_equal(head, gen.step(gaze))
            np.testing.assert_array_equal(eye, gen.eye)
        assert np.all(np.abs(head) <= limits)
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)


def test_bad_style_and_neck_limits_give_the_python_message(lib):
    n = 2
    model = _load(lib, gh.default_model_path())
    g = _generator(lib, model, n, 0, 1.0)
    gen = gh.Generator(num_agents=n, backend="cpu")
    try:
        before = _style(lib, g, n)
        bad_style = np.array([[0.5, 0.5], [np.inf, 0.1]], np.float32)
        assert lib.gazehead_generator_set_style(g, _ptr(bad_style), 2 * n) == 1
        with pytest.raises(ValueError) as e:
            gen.set_style(bad_style)
        assert lib.gazehead_last_error().decode() == str(e.value)
        np.testing.assert_array_equal(_style(lib, g, n), before)  # nothing changed
        for bad in (
            [0.0, 1.0, 0.5],
            [0.5, 3.5, 0.5],
            [0.5, 1.0, 1.7],
            [0.5, 1.0, np.nan],
            [-0.1, 1.0, 0.5],
        ):
            limits = np.asarray(bad, np.float32)
            assert lib.gazehead_generator_set_neck_limits(g, _ptr(limits)) == 1
            with pytest.raises(ValueError) as e:
                gen.neck_limits = limits
            assert lib.gazehead_last_error().decode() == str(e.value)
        np.testing.assert_array_equal(_neck_limits(lib, g), np.asarray(gen.neck_limits, np.float32))
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)


def test_bad_gaze_gives_the_python_message(lib):
    model = _load(lib, gh.default_model_path())
    g = _generator(lib, model, 2, 0, 1.0)
    gen = gh.Generator(num_agents=2, backend="cpu")
    head = np.empty((2, 3), np.float32)
    try:
        for bad in (
            [[0.1, 0.2], [np.nan, 0.1]],
            [[2.0, 0.0], [0.0, 0.0]],
            [[0.0, 0.0], [0.0, -3.5]],
        ):
            gaze = np.asarray(bad, np.float32)
            assert lib.gazehead_generator_step(g, _ptr(gaze), 4, _ptr(head), 6, None, 0) == 1
            with pytest.raises(ValueError) as e:
                gen.step(gaze)
            assert lib.gazehead_last_error().decode() == str(e.value)
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)


def _rewrite(src, dst, *, meta=None, tensors=None):
    """A copy of the model file `src` with metadata entries and tensors replaced (None drops)."""
    m = load_model(src)
    with open(src, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        metadata = json.loads(f.read(n))["__metadata__"]
    arrays = dict(m.tensors)
    for k, v in (meta or {}).items():
        if v is None:
            metadata.pop(k)
        else:
            metadata[k] = v
    for k, v in (tensors or {}).items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    save_file(arrays, dst, metadata=metadata)
    return dst


def _config_with(src, **changes):
    cfg = load_model(src).config.to_json()
    d = json.loads(cfg)
    d.update(changes)
    return json.dumps(d)


@pytest.mark.parametrize(
    "case",
    [
        "version",
        "format1",
        "format2",
        "reach_gain",
        "reach_threshold",
        "reach_accel",
        "no_config",
        "bad_json",
        "unknown_key",
        "v2_residual",
        "activation",
        "norm_count",
        "neck_count",
        "neck_range",
        "neck_soft",
        "eye_limit",
        "style_mean_nan",
        "style_std",
        "missing",
        "unexpected",
        "dtype",
        "shape",
        "enc_input",
        "nan",
    ],
)
def test_bad_model_files_give_the_python_message(lib, tmp_path, case):
    src = gh.default_model_path()
    w = load_model(src).tensors["dec.0.weight"]
    edits = {
        "version": dict(meta={"format_version": "7"}),
        "format1": dict(meta={"format_version": "1"}),
        "format2": dict(meta={"format_version": "2"}),
        "reach_gain": dict(meta={"config": _config_with(src, reach_gain=-1.0)}),
        "reach_threshold": dict(meta={"config": _config_with(src, reach_threshold=2.0)}),
        "reach_accel": dict(meta={"config": _config_with(src, reach_accel=0)}),
        "v2_residual": dict(meta={"config": _config_with(src, residual=True)}),
        "neck_count": dict(meta={"config": _config_with(src, neck_limits=[0.5, 1.0])}),
        "neck_range": dict(meta={"config": _config_with(src, neck_limits=[0.5, 3.2, 0.1])}),
        "neck_soft": dict(meta={"config": _config_with(src, neck_soft=1)}),
        "eye_limit": dict(meta={"config": _config_with(src, eye_limit=1.75)}),
        "style_mean_nan": dict(meta={"config": _config_with(src, style_mean=[0.5, float("nan")])}),
        "style_std": dict(meta={"config": _config_with(src, style_std=[0.2, -1e-05])}),
        "enc_input": dict(
            tensors={
                "enc.0.weight": np.ascontiguousarray(load_model(src).tensors["enc.0.weight"][:, :9])
            }
        ),  # a v2 encoder: no z_{t-1} input
        "no_config": dict(meta={"config": None}),
        "bad_json": dict(meta={"config": '{"hidden_size": }'}),
        "unknown_key": dict(meta={"config": _config_with(src, zeta=1, alpha=2)}),
        "activation": dict(meta={"config": _config_with(src, activation="gelu")}),
        "norm_count": dict(meta={"normalization": json.dumps({"x_std": [1.0, 2.0]})}),
        "missing": dict(tensors={"gru.bias_hh": None}),
        "unexpected": dict(tensors={"post.0.weight": np.zeros((2, 2), np.float32)}),
        "dtype": dict(tensors={"dec.0.weight": w.astype(np.float64)}),
        "shape": dict(tensors={"dec.0.weight": np.ascontiguousarray(w.T)}),
        "nan": dict(
            tensors={
                "dec.0.weight": np.where(np.arange(w.size).reshape(w.shape) == 5, np.nan, w).astype(
                    np.float32
                )
            }
        ),
    }[case]
    path = _rewrite(src, str(tmp_path / "bad.safetensors"), **edits)
    with pytest.raises(gh.ModelError) as py_err:
        load_model(path)
    with pytest.raises(gh.ModelError) as c_err:
        _load(lib, path)
    assert str(c_err.value) == str(py_err.value)


def test_unreadable_files_give_the_python_message(lib, tmp_path):
    with open(gh.default_model_path(), "rb") as f:
        raw = f.read()
    cases = {
        "empty.safetensors": b"",
        "trunc.safetensors": raw[: len(raw) // 2],
        "garbage.safetensors": b"\x07" * 64,
    }
    for name, data in cases.items():
        path = str(tmp_path / name)
        with open(path, "wb") as f:
            f.write(data)
        with pytest.raises(gh.ModelError) as py_err:
            load_model(path)
        with pytest.raises(gh.ModelError) as c_err:
            _load(lib, path)
        # The parenthesized detail of an unreadable container is each reader's own wording.
        assert str(c_err.value).split(" (")[0] == str(py_err.value).split(" (")[0]
    missing = str(tmp_path / "nope.safetensors")
    with pytest.raises(gh.ModelError) as py_err:
        load_model(missing)
    with pytest.raises(gh.ModelError) as c_err:
        _load(lib, missing)
    assert str(c_err.value) == str(py_err.value) == f"{missing}: no such model file"
