"""Bounded fuzzing (hypothesis): mutated model files load or raise ModelError, nothing else
(each batch loaded in a subprocess, so a crash fails the test); random API call sequences
either work or raise a typed error, and a refused call leaves the state unchanged."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gazehead_rt as gh

_LOADER = """
import json, sys
from gazehead_rt import load_model, ModelError
out = []
for p in sys.argv[1:]:
    try:
        load_model(p)
        out.append("ok")
    except ModelError:
        out.append("ModelError")
    except BaseException as e:
        out.append(type(e).__name__ + ": " + str(e)[:200])
print(json.dumps(out))
"""

_mutation = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "insert", "header"]),
    st.integers(0, 2**31 - 1),
    st.integers(0, 255),
)


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(_mutation, min_size=25, max_size=25))
def test_mutated_model_files_only_raise_model_error(tmp_path_factory, mutations):
    raw = open(gh.default_model_path(), "rb").read()
    header_end = 8 + int.from_bytes(raw[:8], "little")
    d = tmp_path_factory.mktemp("fuzz")
    paths = []
    for i, (kind, pos, byte) in enumerate(mutations):
        b = bytearray(raw)
        if kind == "flip":
            p = pos % len(b)
            b[p] ^= 1 << (byte % 8)
        elif kind == "set":
            b[pos % len(b)] = byte
        elif kind == "truncate":
            b = b[: pos % len(b)]
        elif kind == "insert":
            p = pos % len(b)
            b[p:p] = bytes([byte]) * (1 + byte % 7)
        else:  # a byte inside the JSON header
            b[pos % header_end] = byte
        path = d / f"m{i}.safetensors"
        path.write_bytes(bytes(b))
        paths.append(str(path))
    r = subprocess.run(
        [sys.executable, "-c", _LOADER, *paths],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=d,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    results = json.loads(r.stdout)
    assert len(results) == len(paths)
    bad = [x for x in results if x not in ("ok", "ModelError")]
    assert not bad, bad[:5]
    print("fuzz batch:", results.count("ok"), "loaded,", results.count("ModelError"), "ModelError")


N = 4


def _num(lo, hi):
    return st.one_of(st.floats(lo, hi), st.sampled_from([np.nan, np.inf, -np.inf]))


_call = st.one_of(
    st.tuples(st.just("step"), _num(-4, 4)),
    st.tuples(st.just("reset"), st.integers(-2, N + 1)),
    st.tuples(st.just("temperature"), _num(-1, 20)),
    st.tuples(st.just("seed"), st.integers(-2, 2**33)),
    st.tuples(st.just("prime"), _num(-40, 40)),
    st.tuples(st.just("update"), _num(-0.1, 0.3)),
    st.tuples(st.just("load_nan"), st.integers(0, 5)),
)


def _same(a, b):
    for k, v in a.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, b[k], err_msg=k)
        elif isinstance(v, dict):
            _same(v, b[k])
        else:
            assert v == b[k], k


def _do(g, kind, x):
    if kind == "step":
        g.step(np.array([[x, 0.5 * x]] * N, np.float32))
    elif kind == "reset":
        g.reset([x])
    elif kind == "temperature":
        g.temperature = x
    elif kind == "seed":
        g.load_state_dict({**g.state_dict(), "seed": x})
    elif kind == "prime":
        g.prime(np.zeros((2, N, 2), np.float32), np.full((2, N, 3), x, np.float32))
    elif kind == "update":
        g.update(np.array([0.1, x], np.float32), abs(x))
    else:
        st_ = g.state_dict()
        key = ("s", "head", "head_vel", "z", "gaze", "style")[x]
        a = np.array(st_[key], copy=True)
        a.flat[0] = np.nan
        g.load_state_dict({**st_, key: a})


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_call, min_size=1, max_size=30))
def test_random_call_sequences_raise_typed_errors_and_keep_state(calls):
    g = gh.Generator(num_agents=N, seed=2)
    for kind, x in calls:
        before = g.state_dict()
        try:
            _do(g, kind, x)
        except (ValueError, TypeError) as e:
            assert str(e)
            _same(before, g.state_dict())
        after = g.state_dict()
        for key in ("s", "head", "head_vel", "z", "gaze"):
            assert np.isfinite(after[key]).all(), (kind, x, key)
        assert (np.abs(after["head"]) <= np.asarray(g.neck_limits) + 1e-5).all() or kind == "prime"


@pytest.mark.parametrize("seed", [0, 1])
def test_adversarial_gaze_keeps_head_within_neck_limits(seed):
    """Circling targets, +-180 deg yaw jumps and the gaze limits, at temperature 10."""
    n = 64
    g = gh.Generator(num_agents=n, seed=seed, temperature=10.0)
    lim = np.asarray(g.neck_limits) + 1e-5
    rng = np.random.default_rng(seed)
    for t in range(400):
        phase = 0.2 * t + np.arange(n)
        gaze = np.stack([0.5 * np.pi * np.sin(phase), np.pi * np.cos(phase)], -1)
        gaze[::4, 1] = np.pi if t % 2 else -np.pi
        gaze[1::4] = rng.uniform([-np.pi / 2, -np.pi], [np.pi / 2, np.pi], (len(gaze[1::4]), 2))
        head = g.step(gaze.astype(np.float32))
        assert np.isfinite(head).all() and np.isfinite(g.eye).all()
        assert (np.abs(head) <= lim).all()
