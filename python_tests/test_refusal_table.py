"""One refusal table, every surface: the model files, state blobs and settings of
csrc/capi/tests/make_refusals.py are refused by the Python API and by libgazehead (through
ctypes, from the installed package) with the same status and the same message, and the
generator's saved state is byte for byte unchanged after each refusal. The C test and the C#
test read the same table in .ci/run.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys

import numpy as np
import pytest
from test_native_lib import _generator, _load, _ptr, lib  # noqa: F401  (lib: a fixture)

import gazehead_rt as gh
from gazehead_rt.errors import ModelError, StateError

HERE = os.path.dirname(os.path.abspath(__file__))
CAPI_TESTS = os.path.join(HERE, "..", "csrc", "capi", "tests")
sys.path.insert(0, CAPI_TESTS)  # make_refusals imports make_expected beside it
_spec = importlib.util.spec_from_file_location(
    "make_refusals", os.path.join(CAPI_TESTS, "make_refusals.py")
)
mr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mr)

# status name -> (the Python exception, the C status value of gazehead.h)
STATUS = {"INVALID_ARGUMENT": (ValueError, 1), "MODEL": (ModelError, 2), "STATE": (StateError, 6)}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    if not os.path.isfile(mr.MODEL):
        pytest.skip("the table is made from the default model, absent from this checkout")
    out = str(tmp_path_factory.mktemp("refusals"))
    mr.write(out)
    return out, mr.read(out)


def test_table_covers_every_kind_and_operation(table):
    _, cases = table
    ops = {c["op"] for c in cases}
    assert ops == {
        "model_file",
        "state_blob",
        "temperature",
        "style",
        "neck_limits",
        "update_dt",
        "step_gaze",
        "reset_agent",
    }
    assert len({c["name"] + c["op"] for c in cases}) == len(cases)
    assert sum(c["op"] == "model_file" for c in cases) >= 10
    assert sum(c["op"] == "state_blob" for c in cases) >= 10


def _floats(arg: str) -> list[float]:
    return [float(x) for x in arg.split()]


def _python_call(gen, case, out_dir):
    op, arg = case["op"], case["arg"]
    if op == "model_file":
        gh.load_model(os.path.join(out_dir, arg))
    elif op == "state_blob":
        with open(os.path.join(out_dir, arg), "rb") as f:
            gen.load_state(f.read())
    elif op == "temperature":
        gen.temperature = _floats(arg)[0]
    elif op == "style":
        gen.set_style(np.array(_floats(arg), np.float32).reshape(2, 2))
    elif op == "neck_limits":
        gen.neck_limits = _floats(arg)
    elif op == "update_dt":
        gen.update(np.zeros((2, 2), np.float32), _floats(arg)[0])
    elif op == "step_gaze":
        gen.step(np.array(_floats(arg), np.float32).reshape(2, 2))
    elif op == "reset_agent":
        gen.reset([int(arg)])
    else:
        raise AssertionError(f"unknown op {op!r}")


def _expected_message(case, out_dir):
    if case["op"] == "model_file":
        return os.path.join(out_dir, case["arg"]) + ": " + case["message"]
    return case["message"]


def test_python_refuses_every_case(table):
    out_dir, cases = table
    for case in cases:
        gen = mr.warm_generator()
        before = gen.save_state()
        exc = STATUS[case["status"]][0]
        with pytest.raises(exc) as info:
            _python_call(gen, case, out_dir)
        assert str(info.value) == _expected_message(case, out_dir), case["name"]
        if case["status"] == "INVALID_ARGUMENT":  # a setting, not a file: never a Model/State error
            assert not isinstance(info.value, (ModelError, StateError)), case["name"]
        assert gen.save_state() == before, f"{case['name']}: the state changed"


def _c_setup(L):
    L.gazehead_generator_set_temperature.argtypes = [ctypes.c_void_p, ctypes.c_float]
    L.gazehead_generator_reset.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int64),
        ctypes.c_int64,
    ]
    L.gazehead_generator_state_size.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    L.gazehead_generator_save_state.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    L.gazehead_generator_load_state.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]


def _c_warm(L, model):
    g = _generator(L, model, mr.NUM_AGENTS, mr.SEED, mr.TEMPERATURE)
    gaze = np.asarray(mr.WARMUP_GAZE, np.float32)
    head, eye = np.zeros(6, np.float32), np.zeros(4, np.float32)
    assert L.gazehead_generator_step(g, _ptr(gaze), 4, _ptr(head), 6, _ptr(eye), 4) == 0
    for dt in (0.0, 1 / 60):
        assert L.gazehead_generator_update(g, _ptr(gaze), 4, dt, _ptr(head), 6, _ptr(eye), 4) == 0
    return g


def _c_save(L, g) -> bytes:
    size = ctypes.c_size_t()
    assert L.gazehead_generator_state_size(g, ctypes.byref(size)) == 0
    buf = ctypes.create_string_buffer(size.value)
    assert L.gazehead_generator_save_state(g, buf, size.value) == 0
    return buf.raw


def _c_call(L, g, case, out_dir) -> int:
    op, arg = case["op"], case["arg"]
    head, eye = np.zeros(6, np.float32), np.zeros(4, np.float32)
    if op == "model_file":
        m = ctypes.c_void_p()
        status = L.gazehead_model_load_file(
            os.fsencode(os.path.join(out_dir, arg)), ctypes.byref(m)
        )
        assert m.value is None, "a refused load must leave *out_model NULL"
        return status
    if op == "state_blob":
        with open(os.path.join(out_dir, arg), "rb") as f:
            blob = f.read()
        return L.gazehead_generator_load_state(g, blob, len(blob))
    v = np.array(_floats(arg), np.float32)
    if op == "temperature":
        return L.gazehead_generator_set_temperature(g, float(v[0]))
    if op == "style":
        return L.gazehead_generator_set_style(g, _ptr(v), 4)
    if op == "neck_limits":
        return L.gazehead_generator_set_neck_limits(g, _ptr(v))
    if op == "update_dt":
        gaze = np.zeros(4, np.float32)
        return L.gazehead_generator_update(
            g, _ptr(gaze), 4, float(_floats(arg)[0]), _ptr(head), 6, _ptr(eye), 4
        )
    if op == "step_gaze":
        return L.gazehead_generator_step(g, _ptr(v), 4, _ptr(head), 6, _ptr(eye), 4)
    if op == "reset_agent":
        ids = (ctypes.c_int64 * 1)(int(arg))
        return L.gazehead_generator_reset(g, ids, 1)
    raise AssertionError(f"unknown op {op!r}")


def test_c_library_refuses_every_case(table, lib):  # noqa: F811
    out_dir, cases = table
    _c_setup(lib)
    model = _load(lib, mr.MODEL)
    try:
        for case in cases:
            g = _c_warm(lib, model)
            try:
                before = _c_save(lib, g)
                status = _c_call(lib, g, case, out_dir)
                assert status == STATUS[case["status"]][1], (case["name"], status)
                message = lib.gazehead_last_error().decode()
                assert message == _expected_message(case, out_dir), case["name"]
                assert _c_save(lib, g) == before, f"{case['name']}: the state changed"
            finally:
                lib.gazehead_generator_free(g)
    finally:
        lib.gazehead_model_free(model)


def test_python_and_c_states_are_one_format(table, lib):  # noqa: F811
    """A state saved by one surface loads in the other and continues identically."""
    _c_setup(lib)
    model = _load(lib, mr.MODEL)
    g = _c_warm(lib, model)
    try:
        py = mr.warm_generator()
        assert _c_save(lib, g) == py.save_state()  # same numbers, same bytes
        gaze = np.array([[0.2, -0.4], [0.0, 1.0]], np.float32)
        for dt in (1 / 90, 1 / 45, 0.3):
            py.update(gaze, dt)
        blob = py.save_state()
        assert lib.gazehead_generator_load_state(g, blob, len(blob)) == 0
        head, eye = np.zeros(6, np.float32), np.zeros(4, np.float32)
        gz = gaze.reshape(-1)
        for dt in (1 / 60, 0.05):
            assert (
                lib.gazehead_generator_update(g, _ptr(gz), 4, dt, _ptr(head), 6, _ptr(eye), 4) == 0
            )
            np.testing.assert_array_equal(head.reshape(2, 3), py.update(gaze, dt))
            np.testing.assert_array_equal(eye.reshape(2, 2), py.eye)
    finally:
        lib.gazehead_generator_free(g)
        lib.gazehead_model_free(model)
