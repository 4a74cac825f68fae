"""RateAdapter: a loop at any rate reproduces the model-rate motion (gazehead_rt.rate).

The adapter is tested against a deterministic step function (a first-order low-pass of
k * gaze), where the deviation from the model-rate run has a closed-form bound, and against
the real Generator when it is importable.
"""

import math
import os

import numpy as np
import pytest

from gazehead_rt.rate import RateAdapter

FPS = 30.0


class LowPass:
    """head_k = head_{k-1} + A * (K * [gaze_p, gaze_y, 0.1 gaze_y] - head_{k-1}).

    A contraction: an error d in one frame's gaze moves the head by at most A*K*|d|, and
    errors never grow (|1 - A| < 1), so any gaze error bound e gives a head bound K*e.
    """

    A, K = 0.3, 0.6

    def __init__(self, n):
        self.head = np.zeros((n, 3))
        self.fed = []

    def __call__(self, gaze):
        g = np.broadcast_to(np.asarray(gaze, dtype=np.float64), self.head.shape[:1] + (2,))
        self.fed.append(g.copy())
        target = self.K * np.stack([g[:, 0], g[:, 1], 0.1 * g[:, 1]], -1)
        self.head = self.head + self.A * (target - self.head)
        return self.head.astype(np.float32)


def run_model_rate(step, gaze_fn, duration_s):
    ts = np.arange(int(math.floor(duration_s * FPS + 1e-9)) + 1) / FPS
    return ts, np.stack([np.array(step(gaze_fn(t)), dtype=np.float64) for t in ts])


def run_adapter(step, gaze_fn, dts):
    ad = RateAdapter(step, FPS, max_steps_per_update=1000)
    t, ts, out = 0.0, [], []
    for i, dt in enumerate(dts):
        t = 0.0 if i == 0 else t + dt
        out.append(ad.update(gaze_fn(t), dt).astype(np.float64).copy())
        ts.append(t)
    return ad, np.array(ts), np.stack(out)


def resample(ts_model, heads, ts):
    """Model trajectory (T, N, 3) linearly interpolated at ts - 1/fps (the adapter latency)."""
    q = np.clip(ts - 1.0 / FPS, 0.0, None)
    flat = heads.reshape(len(ts_model), -1)
    return np.stack([np.interp(q, ts_model, flat[:, c]) for c in range(flat.shape[1])], -1).reshape(
        len(ts), *heads.shape[1:]
    )


def loop_dts(kind, duration_s, rng):
    if kind == "jitter":  # 4-16 ms frame times, uniformly random: 62-250 Hz
        dts = rng.uniform(0.004, 0.016, int(duration_s / 0.004) + 2)
    else:
        dts = np.full(int(duration_s * kind) + 2, 1.0 / kind)
    dts[0] = 0.0
    return dts[: np.searchsorted(np.cumsum(dts), duration_s, side="right")]


N = 3
PURSUIT_AMP_RAD = np.array([0.3, 0.5, -0.4])  # one amplitude per agent
PURSUIT_HZ = 0.5


def smooth_gaze(t):
    w = 2 * math.pi * PURSUIT_HZ
    return np.stack(
        [0.5 * PURSUIT_AMP_RAD * math.sin(w * t + 1.0), PURSUIT_AMP_RAD * math.sin(w * t)], -1
    )


@pytest.mark.parametrize("kind", [60, 90, 144, "jitter"])
def test_smooth_gaze_matches_model_rate_within_interpolation_bound(kind):
    rng = np.random.default_rng(1)
    dts = loop_dts(kind, 4.0, rng)
    ad, ts, out = run_adapter(LowPass(N), smooth_gaze, dts)
    tm, ref = run_model_rate(LowPass(N), smooth_gaze, ts[-1])
    dev = np.abs(out - resample(tm, ref, ts)).max()
    # Gaze is linearly interpolated between updates: error <= h^2 max|g''| / 8 with
    # h the longest update interval; the low-pass maps it to the head with gain <= K.
    h = dts[1:].max()
    g2 = np.abs(PURSUIT_AMP_RAD).max() * (2 * math.pi * PURSUIT_HZ) ** 2
    bound = LowPass.K * h * h * g2 / 8 + 1e-6  # + float32 rounding of the outputs
    assert dev <= bound, (dev, bound)
    assert ad.frames == len(tm)  # every model frame ran exactly once
    assert ad.dropped_time_s == 0.0


@pytest.mark.parametrize("kind", [60, 144, "jitter"])
def test_piecewise_linear_gaze_is_reproduced_exactly(kind):
    # When the gaze is linear between the loop's samples, the adapter feeds the model
    # exactly the model-rate gaze, so the motion matches to float32 rounding.
    rng = np.random.default_rng(2)
    dts = loop_dts(kind, 3.0, rng)
    t_samples = np.cumsum(dts)
    g_samples = rng.uniform(-1, 1, (len(dts), N, 2))

    def gaze_fn(t):
        return np.stack(
            [[np.interp(t, t_samples, g_samples[:, a, c]) for c in range(2)] for a in range(N)]
        )

    _, ts, out = run_adapter(LowPass(N), gaze_fn, dts)
    tm, ref = run_model_rate(LowPass(N), gaze_fn, ts[-1])
    np.testing.assert_allclose(out, resample(tm, ref, ts), atol=2e-6)


def test_saccade_steps_bounded_by_one_frame_of_gaze_error():
    # A gaze step between two updates is seen as a ramp over that interval by the adapter,
    # so at most one model frame gets a gaze off by at most the jump J: head error <= A*K*J.
    jump_rad = 0.6
    step_times = [0.51, 1.237, 2.0049]

    def gaze_fn(t):
        s = sum(t >= ts for ts in step_times)
        return np.tile([0.1 * s, jump_rad * (s % 2)], (N, 1))

    for kind in (60, 90, 144, "jitter"):
        dts = loop_dts(kind, 3.0, np.random.default_rng(3))
        _, ts, out = run_adapter(LowPass(N), gaze_fn, dts)
        tm, ref = run_model_rate(LowPass(N), gaze_fn, ts[-1])
        dev = np.abs(out - resample(tm, ref, ts)).max()
        assert dev <= LowPass.A * LowPass.K * jump_rad + 1e-6, (kind, dev)


def test_frame_count_and_first_call():
    lp = LowPass(1)
    ad = RateAdapter(lp, FPS)
    h0 = ad.update([0.0, 0.2], 123.0)  # first call: dt ignored, frame 0 at t = 0
    assert ad.frames == 1 and ad.time_s == 0.0 and h0.shape == (1, 3) and h0.dtype == np.float32
    for _ in range(144):
        ad.update([0.0, 0.2], 1 / 144)
    assert ad.frames == 31  # frames 0..30 after exactly 1 s
    assert abs(ad.time_s - 1.0) < 1e-9
    assert ad.latency_s == pytest.approx(1 / 30)


def test_zero_dt_keeps_pose_and_moves_eyes():
    ad = RateAdapter(LowPass(1), FPS)
    ad.update([0.0, 0.0], 0.0)
    ad.update([0.0, 0.0], 0.05)
    h = ad.head.copy()
    ad.update([0.0, 0.5], 0.0)
    np.testing.assert_array_equal(ad.head, h)
    # eyes follow the new gaze at once: eye yaw = gaze yaw - head yaw (pitch, roll ~ 0)
    assert ad.eye[0, 1] == pytest.approx(0.5 - h[0, 1], abs=2e-3)


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), -float("inf")])
def test_bad_dt_rejected(bad):
    ad = RateAdapter(LowPass(1), FPS)
    ad.update([0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="dt_s"):
        ad.update([0.0, 0.0], bad)
    with pytest.raises(TypeError, match="dt_s"):
        ad.update([0.0, 0.0], "0.1")  # a string, not a number
    assert ad.frames == 1  # nothing advanced


def test_huge_dt_is_bounded_and_dropped():
    lp = LowPass(1)
    ad = RateAdapter(lp, FPS)
    assert ad.max_steps_per_update == 8  # ceil(0.25 s * 30 fps)
    ad.update([0.0, 0.0], 0.0)
    ad.update([0.0, 1.0], 10.0)  # a 10 s hitch
    assert ad.frames == 1 + 8
    assert ad.dropped_time_s == pytest.approx(10.0 - 8 / 30)
    # the 8 frames saw the gaze ramp the whole way, ending at the new gaze
    np.testing.assert_allclose(lp.fed[-1], [[0.0, 1.0]])
    np.testing.assert_allclose([f[0, 1] for f in lp.fed[1:]], np.arange(1, 9) / 8)
    # the clock continues from the last frame: 1/30 s later exactly one more frame runs
    ad.update([0.0, 1.0], 1 / 30)
    assert ad.frames == 10


def test_yaw_interpolates_the_short_way_behind():
    lp = LowPass(1)
    ad = RateAdapter(lp, FPS)
    ad.update([0.0, 3.0], 0.0)
    ad.update([0.0, -3.0], 2 / 30)  # crosses +-pi behind the character
    yaws = [f[0, 1] for f in lp.fed[1:]]
    # midpoint is at +-pi (behind), not 0 (in front)
    assert abs(abs(yaws[0]) - math.pi) < 1e-9 and yaws[1] == -3.0


def test_agent_reset_snaps_without_blend():
    lp = LowPass(2)
    ad = RateAdapter(lp, FPS)
    ad.update([0.0, 0.0], 0.0)
    for _ in range(30):
        ad.update([[0.0, 1.0], [0.0, 1.0]], 1 / 30)
    lp.head[1] = 0.0  # what Generator.reset(agents=[1]) does to the model
    ad.reset(agents=[1])
    ad.update([[0.0, 0.0], [0.0, -1.0]], 0.5 / 30)  # no frame due yet
    before = lp.head.copy()
    ad.update([[0.0, 0.0], [0.0, -1.0]], 0.75 / 30)  # one frame due, phase 0.25
    # agent 1: its first new frame is shown as is, not blended with its old pose, and its
    # gaze did not ramp from the old episode's gaze (fed exactly -1)
    assert lp.fed[-1][1, 1] == -1.0
    np.testing.assert_allclose(ad.head[1], lp.head[1], atol=1e-6)
    # agent 0 still interpolates: a quarter of the way from its previous frame to its new one
    np.testing.assert_allclose(ad.head[0], before[0] + 0.25 * (lp.head[0] - before[0]), atol=1e-6)
    assert not np.allclose(ad.head[0], lp.head[0], atol=1e-3)


def test_state_dict_round_trip():
    lp = LowPass(2)
    ad = RateAdapter(lp, FPS)
    rng = np.random.default_rng(4)
    ad.update(rng.uniform(-1, 1, (2, 2)), 0)
    for _ in range(20):
        ad.update(rng.uniform(-1, 1, (2, 2)), rng.uniform(0.005, 0.02))
    s, lp_head = ad.state_dict(), lp.head.copy()
    tail = [(rng.uniform(-1, 1, (2, 2)), rng.uniform(0.005, 0.02)) for _ in range(20)]
    a = [ad.update(g, dt).copy() for g, dt in tail]
    lp2 = LowPass(2)
    lp2.head = lp_head
    ad2 = RateAdapter(lp2, FPS)
    ad2.load_state_dict(s)
    b = [ad2.update(g, dt).copy() for g, dt in tail]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))


def test_out_buffer_and_shape_errors():
    ad = RateAdapter(LowPass(2), FPS)
    buf = np.empty((2, 3), np.float32)
    assert ad.update([0.1, 0.2], 0.0, out=buf) is buf
    with pytest.raises(ValueError, match="gaze"):
        ad.update(np.zeros((3, 2)), 0.01)
    with pytest.raises(ValueError, match="out"):
        ad.update([0.0, 0.0], 0.01, out=np.empty((2, 3), np.float64))
    with pytest.raises(RuntimeError, match="first update"):
        _ = RateAdapter(LowPass(1), FPS).eye


# -- the real Generator ---------------------------------------------------------------------
gh = pytest.importorskip("gazehead_rt")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """The bundled model, or a small random one when this checkout has none yet."""
    if os.path.isfile(gh.default_model_path()):
        return gh.default_model_path()
    pytest.importorskip("torch", reason="making a test model needs PyTorch")
    from reference import make_model

    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    make_model(path, seed=0)
    return str(path)


@pytest.mark.parametrize("kind", [60, 144, "jitter"])
def test_real_generator_matches_model_rate(kind, model_file):
    # Same seed, same per-frame noise (counter-based RNG keyed by frame), and a gaze that is
    # linear between the loop's samples: the model sees the same inputs as at its own rate
    # up to float32 rounding of the interpolated gaze, so the motions agree closely.
    rng = np.random.default_rng(5)
    dts = loop_dts(kind, 3.0, rng)
    t_samples = np.cumsum(dts)
    g_samples = np.stack([smooth_gaze(t) for t in t_samples])

    def gaze_fn(t):
        return np.stack(
            [[np.interp(t, t_samples, g_samples[:, a, c]) for c in range(2)] for a in range(N)]
        ).astype(np.float64)

    gen_a = gh.Generator(model_file, num_agents=N, seed=3)
    gen_b = gh.Generator(model_file, num_agents=N, seed=3)
    _, ts, out = run_adapter(gen_a.step, gaze_fn, dts)
    tm, ref = run_model_rate(gen_b.step, gaze_fn, ts[-1])
    dev = np.abs(out - resample(tm, ref, ts)).max()
    assert dev <= 1e-4, dev  # rad (0.006 deg)


def test_generator_update_matches_adapter(model_file):
    gen_a = gh.Generator(model_file, num_agents=2, seed=1)
    gen_b = gh.Generator(model_file, num_agents=2, seed=1)
    ad = RateAdapter(gen_b.step, gen_b.fps)
    rng = np.random.default_rng(6)
    for i in range(200):
        # float32 gaze: the generator takes its gaze as float32 (as step() does), and the
        # adapter interpolates what it is given; the clock is the same core code in both
        g = rng.uniform(-0.5, 0.5, (2, 2)).astype(np.float32)
        dt = 0.0 if i == 0 else rng.uniform(0.004, 0.03)
        np.testing.assert_array_equal(gen_a.update(g, dt), ad.update(g, dt))
        np.testing.assert_array_equal(gen_a.eye, ad.eye)


def test_generator_update_state_reset_and_eye(model_file):
    """update() state survives state_dict round trips; reset/prime restart the clock; eye is
    the current gaze seen from the interpolated head."""
    from gazehead_rt.geometry import eye_from_gaze_head

    rng = np.random.default_rng(8)
    gaze = rng.uniform(-0.5, 0.5, (60, 2, 2))
    dts = rng.uniform(0.004, 0.03, 60)
    gen = gh.Generator(model_file, num_agents=2, seed=4)
    for i in range(30):
        gen.update(gaze[i], dts[i])
    np.testing.assert_allclose(gen.eye, eye_from_gaze_head(gaze[29], gen.head), atol=1e-6)
    saved = gen.state_dict()
    rest = [gen.update(gaze[i], dts[i]) for i in range(30, 60)]
    other = gh.Generator(model_file, num_agents=2, seed=0)
    other.load_state_dict(saved)
    np.testing.assert_array_equal(
        np.stack([other.update(gaze[i], dts[i]) for i in range(30, 60)]), np.stack(rest)
    )
    gen.reset()
    first = gen.update(gaze[0], 0.5)  # after a full reset the clock restarts: dt ignored
    fresh = gh.Generator(model_file, num_agents=2, seed=4)
    fresh.reset()  # same episode counter as gen
    np.testing.assert_array_equal(first, fresh.update(gaze[0], 0.0))
    with pytest.raises(ValueError, match="dt_s"):
        gen.update(gaze[1], -0.01)
