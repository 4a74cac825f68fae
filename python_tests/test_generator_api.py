"""Generator behaviour (docs/design.md §5): shapes, dtypes, errors, state, reset, prime,
generate."""

import numpy as np
import pytest

import gazehead_rt as gh

from reference import make_model, saccadic_gaze


@pytest.fixture(scope="module")
def mp(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "model.safetensors"
    make_model(p, seed=2)
    return p


@pytest.fixture
def gen(mp):
    return gh.Generator(mp, num_agents=4, seed=3)


def _state_equal(a, b):
    for k in (
        "s",
        "head",
        "head_vel",
        "z",
        "gaze",
        "style",
        "has_prev",
        "frame",
        "episode",
        "neck_limits",
        "last_head",
        "last_eye",
    ):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# -- accepted input forms --------------------------------------------------------------------
def test_float64_noncontiguous_and_broadcast_inputs_agree(mp, rng):
    g = saccadic_gaze(rng, 20, 4)
    outs = []
    for form in ("f32", "f64", "strided", "list"):
        gen = gh.Generator(mp, num_agents=4, seed=3)
        res = []
        for t in range(20):
            x = g[t]
            if form == "f64":
                x = x.astype(np.float64)
            elif form == "strided":
                x = np.asfortranarray(np.repeat(x, 2, axis=1))[:, ::2]
                assert not x.flags.c_contiguous
            elif form == "list":
                x = x.tolist()
            res.append(gen.step(x))
        outs.append(np.stack(res))
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], atol=1e-6)  # float64 input rounds to float32
    # a (2,) gaze drives every agent
    gen_b = gh.Generator(mp, num_agents=4, seed=3)
    gen_f = gh.Generator(mp, num_agents=4, seed=3)
    np.testing.assert_array_equal(gen_b.step(g[0, 0]), gen_f.step(np.tile(g[0, 0], (4, 1))))


def test_step_out_buffer_and_eye(gen):
    buf = np.empty((4, 3), np.float32)
    r = gen.step(np.zeros((4, 2), np.float32), out=buf)
    assert r is buf
    assert gen.eye.shape == (4, 2) and gen.eye.dtype == np.float32
    np.testing.assert_array_equal(gen.head, buf)
    # eye is the gaze seen from the generated head, within the eye limit
    from gazehead_rt.geometry import eye_from_gaze_head

    lim = gen.model.config.eye_limit
    np.testing.assert_allclose(
        gen.eye, np.clip(eye_from_gaze_head(np.zeros((4, 2)), buf), -lim, lim), atol=1e-6
    )


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "gaze,exc,match",
    [
        (
            np.zeros((4, 3), np.float32),
            ValueError,
            r"gaze: expected shape \(2,\) or \(4, 2\), got \(4, 3\)",
        ),
        (
            np.zeros((3, 2), np.float32),
            ValueError,
            r"gaze: expected shape \(2,\) or \(4, 2\), got \(3, 2\)",
        ),
        (
            np.zeros((4, 2), np.int32),
            TypeError,
            r"gaze: expected a float32 or float64 array, got dtype int32",
        ),
        (np.array(["a", "b"]), TypeError, r"gaze: expected a float32 or float64 array"),
    ],
)
def test_bad_shapes_and_dtypes(gen, gaze, exc, match):
    before = gen.state_dict()
    with pytest.raises(exc, match=match):
        gen.step(gaze)
    _state_equal(before, gen.state_dict())


@pytest.mark.parametrize(
    "value,match",
    [
        ((np.nan, 0.0), r"gaze of agent 2 is not finite \(nan, 0\); pass nan_policy=\"hold\""),
        ((0.0, np.inf), r"gaze of agent 2 is not finite"),
        ((1.7, 0.0), r"gaze pitch of agent 2 is 1.700000 rad, outside \[-pi/2, pi/2\]"),
        ((0.0, -4.0), r"gaze yaw of agent 2 is -4.000000 rad, outside \[-pi, pi\]"),
        ((30.0, 45.0), r"angles are radians; convert degrees with numpy.deg2rad"),
    ],
)
def test_bad_values_name_the_agent_and_change_nothing(gen, value, match):
    gen.step(np.full((4, 2), 0.1, np.float32))
    before = gen.state_dict()
    gaze = np.full((4, 2), 0.2, np.float32)
    gaze[2] = value
    with pytest.raises(ValueError, match=match):
        gen.step(gaze)
    _state_equal(before, gen.state_dict())


def test_nan_policy_hold_keeps_last_valid_gaze(mp, rng):
    g = saccadic_gaze(rng, 30, 2)
    hold = gh.Generator(mp, num_agents=2, seed=1, nan_policy="hold")
    ref = gh.Generator(mp, num_agents=2, seed=1)
    for t in range(30):
        x = g[t].copy()
        y = g[t].copy()
        if 10 <= t < 15:  # agent 1 loses tracking for 5 frames: held at frame 9's gaze
            x[1] = np.nan
            y[1] = g[9, 1]
        np.testing.assert_array_equal(hold.step(x), ref.step(y))
    # with no valid gaze yet the agent looks straight ahead
    a = gh.Generator(mp, num_agents=1, seed=1, nan_policy="hold").step([np.nan, np.nan])
    b = gh.Generator(mp, num_agents=1, seed=1).step([0.0, 0.0])
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"pitch"):  # hold is for missing data, not bad data
        gh.Generator(mp, num_agents=1, nan_policy="hold").step([2.0, 0.0])


def test_out_buffer_errors(gen):
    with pytest.raises(
        TypeError,
        match=r"out: expected a writeable C-contiguous float32 array of shape \(4, 3\), got ndarray float64",
    ):
        gen.step(np.zeros((4, 2)), out=np.empty((4, 3)))
    ro = np.empty((4, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="out: expected a writeable"):
        gen.step(np.zeros((4, 2)), out=ro)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"num_agents": 0}, ValueError, r"num_agents: expected a positive integer, got 0"),
        ({"num_agents": 2.5}, ValueError, r"num_agents"),
        ({"seed": -1}, ValueError, r"seed: expected an integer in \[0, 2\*\*32\)"),
        ({"temperature": float("nan")}, ValueError, r"temperature: expected a finite number >= 0"),
        ({"nan_policy": "ignore"}, ValueError, r"nan_policy: expected one of"),
        ({"backend": "metal"}, ValueError, r"backend: expected one of"),
    ],
)
def test_bad_constructor_arguments(mp, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gh.Generator(mp, **kwargs)


def test_unavailable_backend_is_an_error_not_a_fallback(mp):
    for b in ("cuda", "tensorrt"):
        if b in gh.available_backends():
            continue
        with pytest.raises(gh.BackendError, match=rf"backend '{b}' is not available in this build"):
            gh.Generator(mp, backend=b)
    assert gh.Generator(mp).backend in gh.available_backends()


def test_unknown_agent_ids(gen):
    before = gen.state_dict()
    with pytest.raises(ValueError, match=r"agents: id 7 is out of range for 4 agents"):
        gen.reset(agents=[1, 7])
    with pytest.raises(ValueError, match=r"agents: id -1 is out of range"):
        gen.reset(agents=[-1])
    with pytest.raises(TypeError, match=r"agents: expected integer agent ids"):
        gen.reset(agents=[0.5])
    _state_equal(before, gen.state_dict())


# -- behaviour -------------------------------------------------------------------------------
def test_generate_equals_stepping_and_leaves_state(mp, rng):
    g = saccadic_gaze(rng, 50, 3)
    gen = gh.Generator(mp, num_agents=3, seed=4)
    gen.step(g[0])
    before = gen.state_dict()
    seq, eyes = gen.generate(g[1:], return_eye=True)
    _state_equal(before, gen.state_dict())
    stepped = np.stack([gen.step(x) for x in g[1:]])
    np.testing.assert_array_equal(seq, stepped)
    assert eyes.shape == (49, 3, 2)
    samples = gen.generate(g, num_samples=3)
    assert samples.shape == (3, 50, 3, 3)
    assert not np.allclose(samples[0], samples[1])  # different seeds, different motion


def test_generate_accepts_single_agent_sequences(mp, rng):
    g = saccadic_gaze(rng, 40, 1)
    gen = gh.Generator(mp, num_agents=2, seed=0)
    out = gen.generate(g[:, 0])  # (T, 2) drives all agents
    assert out.shape == (40, 2, 3)
    with pytest.raises(
        ValueError, match=r"gaze_seq: expected shape \(T, 2\) or \(T, 2, 2\), got \(40, 3, 2\)"
    ):
        gen.generate(np.zeros((40, 3, 2)))
    with pytest.raises(ValueError, match=r"gaze of frame 5, agent 1 is not finite"):
        bad = np.repeat(g, 2, axis=1)
        bad[5, 1] = np.nan
        gen.generate(bad)


def test_seed_determinism_and_temperature(mp, rng):
    g = saccadic_gaze(rng, 60, 2)
    a = gh.Generator(mp, num_agents=2, seed=21).generate(g)
    b = gh.Generator(mp, num_agents=2, seed=21).generate(g)
    c = gh.Generator(mp, num_agents=2, seed=22).generate(g)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    # temperature 0: the prior mean, so the seed only matters through the drawn styles
    t0 = gh.Generator(mp, num_agents=2, seed=21, temperature=0.0, style="mean").generate(g)
    t0b = gh.Generator(mp, num_agents=2, seed=99, temperature=0.0, style="mean").generate(g)
    np.testing.assert_array_equal(t0, t0b)


def test_reset_starts_a_new_episode(mp, rng):
    g = saccadic_gaze(rng, 40, 3)
    gen = gh.Generator(mp, num_agents=3, seed=5)
    first = np.stack([gen.step(x) for x in g])
    gen.reset(agents=[1])
    again = np.stack([gen.step(x) for x in g])
    # agent 1 starts over from rest but with new noise (episode 1); a temperature-0
    # generator shows the starting point itself is the same as a fresh one
    assert not np.allclose(again[:, 1], first[:, 1])
    assert gen.state_dict()["episode"].tolist() == [0, 1, 0]
    assert gen.state_dict()["frame"].tolist() == [80, 40, 80]
    cold = gh.Generator(mp, num_agents=3, seed=5, temperature=0.0)
    cold_first = np.stack([cold.step(x) for x in g])
    cold.reset([1])
    cold_again = np.stack([cold.step(x) for x in g])
    np.testing.assert_array_equal(cold_again[:, 1], cold_first[:, 1])


def test_state_dict_round_trip_continues_identically(mp, rng):
    g = saccadic_gaze(rng, 80, 5)
    gen = gh.Generator(mp, num_agents=5, seed=8)
    for x in g[:40]:
        gen.step(x)
    saved = gen.state_dict()
    cont = np.stack([gen.step(x) for x in g[40:]])
    other = gh.Generator(mp, num_agents=5, seed=0, temperature=0.3)
    other.load_state_dict(saved)
    np.testing.assert_array_equal(np.stack([other.step(x) for x in g[40:]]), cont)
    assert other.seed == 8 and other.temperature == 1.0


def test_load_state_dict_refuses_mismatches(mp, tmp_path):
    gen = gh.Generator(mp, num_agents=2)
    st = gen.state_dict()
    with pytest.raises(ValueError, match=r"state: it holds 2 agents, this generator has 3"):
        gh.Generator(mp, num_agents=3).load_state_dict(st)
    make_model(tmp_path / "other.safetensors", seed=9)
    with pytest.raises(ValueError, match=r"state: it was taken with a different model file"):
        gh.Generator(tmp_path / "other.safetensors", num_agents=2).load_state_dict(st)
    bad = dict(st, s=np.zeros((2, 5), np.float32))
    before = gen.state_dict()
    with pytest.raises(ValueError, match=r"state 's': expected 256 values, got 10"):
        gen.load_state_dict(bad)
    _state_equal(before, gen.state_dict())


def test_prime_continues_from_observed_motion(mp, rng):
    import torch

    from gazehead_rt.training.model import GazeHeadModel, StepState

    from reference import torch_rollout

    T0, T1, N = 30, 20, 3
    g = saccadic_gaze(rng, T0 + T1, N)
    observed_head = 0.4 * g[:T0, :, :]
    observed_head = np.concatenate([observed_head, np.zeros((T0, N, 1), np.float32)], axis=2)
    gen = gh.Generator(mp, num_agents=N, seed=6)
    gen.prime(g[:T0], observed_head)
    np.testing.assert_array_equal(gen.head, observed_head[-1])
    out = gen.generate(g[T0:])
    ref = GazeHeadModel.load(mp)
    st = ref.prime(
        torch.from_numpy(g[:T0]),
        torch.from_numpy(observed_head),
        StepState.zeros(N, 128, ref.config.latent_size, style=torch.from_numpy(gen.style)),
    )
    ref_out, _, _ = torch_rollout(ref, g[T0:], seed=6, state=st, frame0=np.full(N, T0))
    np.testing.assert_allclose(out, ref_out, atol=1e-4)
    with pytest.raises(ValueError, match=r"head_hist: has 5 frames but gaze_hist has 30"):
        gen.prime(g[:T0], observed_head[:5])
    bad = observed_head.copy()
    bad[3, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"head of frame 3, agent 2 is not finite"):
        gen.prime(g[:T0], bad)


def test_build_info_and_backends():
    info = gh.build_info()
    assert info["cpu_kernels"] in info["cpu_kernels_compiled"]
    assert info["cuda_option"] in ("AUTO", "ON", "OFF")
    assert "cpu" in gh.available_backends()


def test_step_with_out_buffer_does_not_grow_memory(mp):
    """The per-frame path with a caller-owned buffer allocates nothing that survives a step
    (Python/numpy allocations are traced; the native step allocates nothing by design)."""
    import tracemalloc

    gen = gh.Generator(mp, num_agents=64, seed=0)
    gaze = np.zeros((64, 2), np.float32)
    buf = np.empty((64, 3), np.float32)
    for _ in range(50):
        gen.step(gaze, out=buf)
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for _ in range(2000):
        gen.step(gaze, out=buf)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    tracemalloc.stop()
    assert grown < 4096, f"{grown} bytes retained after 2000 steps"


@pytest.mark.parametrize("n", [40, 300])
def test_threads_give_identical_results(mp, rng, n):
    """num_threads splits agents over threads; every number stays the same."""
    g = saccadic_gaze(rng, 30, n)
    one = gh.Generator(mp, num_agents=n, seed=2)
    four = gh.Generator(mp, num_agents=n, seed=2, num_threads=4)
    assert four.backend == "cpu"
    np.testing.assert_array_equal(
        np.stack([four.step(x) for x in g]), np.stack([one.step(x) for x in g])
    )
    np.testing.assert_array_equal(four.generate(g), one.generate(g))
    hist_head = np.zeros((10, n, 3), np.float32)
    one.prime(g[:10], hist_head)
    four.prime(g[:10], hist_head)
    np.testing.assert_array_equal(four.step(g[0]), one.step(g[0]))
    bad = g[0].copy()
    bad[n - 1] = np.nan  # an error raised for an agent of a worker thread's chunk
    before = four.state_dict()
    with pytest.raises(ValueError, match=rf"gaze of agent {n - 1} is not finite"):
        four.step(bad)
    _state_equal(before, four.state_dict())


def test_num_threads_validation(mp):
    with pytest.raises(ValueError, match=r"num_threads: expected an integer in \[1, 256\], got 0"):
        gh.Generator(mp, num_threads=0)
