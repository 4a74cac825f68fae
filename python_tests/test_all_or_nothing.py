"""Every refused mutating call leaves the whole state unchanged (compared through
state_dict()), and the state a generator accepts is finite and physically possible."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gazehead_rt as gh

N = 3


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb, err_msg=k)
        elif isinstance(va, dict):
            _assert_same_state(va, vb)
        else:
            assert va == vb, k


@pytest.fixture
def gen():
    g = gh.Generator(num_agents=N, seed=4)
    for t in range(5):
        g.step(np.full((N, 2), 0.05 * t, np.float32))
    g.update(np.zeros(2, np.float32), 0.0)  # a rate adapter in the state as well
    g.update(np.full(2, 0.1, np.float32), 0.05)
    return g


def _stepped_state(gen):
    st = gen.state_dict()
    # a different, valid state to load: the refused part is the only bad entry
    other = gh.Generator(num_agents=N, seed=9)
    other.step(np.full((N, 2), 0.2, np.float32))
    return st, other.state_dict()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"temperature": 1e30}, "temperature"),
        ({"s": "nan"}, "non-finite"),
        ({"head": "nan"}, "non-finite"),
        ({"z": "inf"}, "non-finite"),
        ({"head": 30.0}, "head"),
        ({"s": "short"}, "s"),
    ],
)
def test_load_state_dict_refusal_changes_nothing(gen, edit, match):
    before, other = _stepped_state(gen)
    bad = dict(other)
    for k, v in edit.items():
        if v == "nan" or v == "inf":
            a = np.array(bad[k], copy=True)
            a.flat[0] = float(v)
            bad[k] = a
        elif v == "short":
            bad[k] = np.array(bad[k]).reshape(-1)[:-1]
        elif k == "head":
            a = np.array(bad[k], copy=True)
            a.flat[0] = v
            bad[k] = a
        else:
            bad[k] = v
    with pytest.raises((ValueError, TypeError), match=match):
        gen.load_state_dict(bad)
    _assert_same_state(before, gen.state_dict())


def test_prime_refuses_impossible_head_history_and_changes_nothing(gen):
    before = gen.state_dict()
    g = np.zeros((4, N, 2), np.float32)
    h = np.zeros((4, N, 3), np.float32)
    h[2, 1, 0] = 30.0  # 30 rad
    with pytest.raises(ValueError, match=r"head of frame 2, agent 1 is 30"):
        gen.prime(g, h)
    h[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        gen.prime(g, h)
    _assert_same_state(before, gen.state_dict())


def test_update_and_reset_refusals_change_nothing(gen):
    before = gen.state_dict()
    with pytest.raises(ValueError):
        gen.update(np.array([np.nan, 0.0], np.float32), 0.01)
    with pytest.raises(ValueError):
        gen.update(np.array([0.0, 4.0], np.float32), 0.01)  # yaw beyond pi
    with pytest.raises(ValueError, match="out of range"):
        gen.reset([0, N])
    _assert_same_state(before, gen.state_dict())


@pytest.mark.parametrize("t", [10.5, 1e30, -0.1, math.inf])
def test_temperature_is_limited_to_0_10(t):
    with pytest.raises(ValueError, match=r"temperature: expected a finite number >= 0 and <= 10"):
        gh.Generator(temperature=t)
    g = gh.Generator()
    with pytest.raises(ValueError, match="temperature"):
        g.temperature = t
    assert g.temperature == 1.0
    gh.Generator(temperature=10.0)  # the bound itself is accepted


def test_head_and_eye_stay_finite_and_within_limits_at_max_temperature():
    g = gh.Generator(num_agents=8, seed=1, temperature=10.0)
    rng = np.random.default_rng(0)
    lim = np.asarray(g.neck_limits)
    for _ in range(300):
        gaze = np.stack(
            [rng.uniform(-np.pi / 2, np.pi / 2, 8), rng.uniform(-np.pi, np.pi, 8)], -1
        ).astype(np.float32)
        head = g.step(gaze)
        assert np.isfinite(head).all() and np.isfinite(g.eye).all()
        assert (np.abs(head) <= lim + 1e-5).all()


def test_update_never_stores_non_finite_gaze_under_hold():
    g = gh.Generator(num_agents=2, nan_policy="hold")
    g.update(np.array([[0.1, 0.2], [0.0, -0.1]], np.float32), 0.0)
    for dt in (0.001, 0.05):  # no model frame due, then frames due
        head = g.update(np.array([[np.nan, 0.2], [0.05, -0.1]], np.float32), dt)
        assert np.isfinite(head).all() and np.isfinite(g.eye).all()
        st = g.state_dict()
        for k, v in st["rate"].items():
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                assert np.isfinite(v).all(), k
        np.testing.assert_allclose(st["rate"]["gaze_last"][0], [0.1, 0.2], rtol=1e-6)
    with pytest.raises(ValueError):  # the default policy refuses it, state unchanged
        gh.Generator(num_agents=2).update(np.array([np.nan, 0.0]), 0.0)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"s": 3e38}, r"'s' holds values beyond \[-1, 1\]"),
        ({"z": 1e30}, "'z' holds values beyond"),
        ({"style": 3e38}, "'style' holds values beyond"),
    ],
)
def test_load_state_dict_refuses_huge_finite_values(gen, edit, match):
    """Finite values no step produces overflow the network into NaN: refused like NaN."""
    st = gen.state_dict()
    before = gen.state_dict()
    (key, value) = next(iter(edit.items()))
    a = np.array(st[key], copy=True)
    a.flat[0] = value
    with pytest.raises(ValueError, match=match):
        gen.load_state_dict({**st, key: a})
    _assert_same_state(before, gen.state_dict())


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("gaze_last", np.nan, "last gaze"),
        ("curr", 1e30, "pose beyond"),
        ("phase", np.nan, "counters"),
    ],
)
def test_load_state_dict_refuses_a_broken_update_clock(gen, key, value, match):
    """A NaN last gaze made every later update() fail, blaming the caller's valid gaze."""
    st = gen.state_dict()
    before = gen.state_dict()
    rate = dict(st["rate"])
    if isinstance(rate[key], np.ndarray):
        rate[key] = np.array(rate[key], copy=True)
        rate[key].flat[0] = value
    else:
        rate[key] = value
    with pytest.raises(ValueError, match=rf"state: .*update\(\) clock .*{match}"):
        gen.load_state_dict({**st, "rate": rate})
    _assert_same_state(before, gen.state_dict())
    gen.update(np.full(2, 0.1, np.float32), 0.05)  # the clock still runs


@pytest.mark.parametrize("value", [3e38, -11.0, 1e39])
def test_huge_styles_are_refused_and_change_nothing(gen, value):
    """A style of 3e38 put NaN into the recurrent state; styles are limited to +-10."""
    before = gen.state_dict()
    with pytest.raises(ValueError, match=r"style: the style of agent 0 is"):
        gen.set_style([[value, 0.5]] + [[0.5, 0.5]] * (N - 1))
    _assert_same_state(before, gen.state_dict())
    gen.set_style([[10.0, -10.0]] * N)  # the documented range's ends are accepted
    head = gen.step(np.full((N, 2), 0.3, np.float32))
    assert np.isfinite(head).all() and np.isfinite(gen.state_dict()["s"]).all()
