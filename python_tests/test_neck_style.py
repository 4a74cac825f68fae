"""Motion model v3 at run time: the explicit neck limit, the eye clamp, gaze across +-180 deg,
per-agent style (population draw, set_style) and neck_limits settings, the state round trip
and the refusal of format-version-1 model files."""

import math
import re

import numpy as np
import pytest

import gazehead_rt as gh
from gazehead_rt._native import native
from gazehead_rt.geometry import eye_from_gaze_head
from gazehead_rt.model_file import HEAD_SIZE, INPUT_SIZE, LOGVAR_MAX, LOGVAR_MIN, STYLE_SIZE

from reference import make_model, population_style_np, saccadic_gaze, torch_rollout

FPS = 30.0


@pytest.fixture(scope="module")
def mp(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "model.safetensors"
    make_model(p, seed=2)
    return p


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """A model whose head velocities are large (several rad/s): it drives into the limits."""
    p = tmp_path_factory.mktemp("m") / "fast.safetensors"
    make_model(p, seed=5, y_std=(6.0, 9.0, 4.0))
    return p


def adversarial_gaze(rng, T: int, N: int) -> np.ndarray:
    """+-180 deg yaw jumps, full-range pitch jumps, a target circling the character at
    120 deg/s (crossing +-180 deg), and saccades, mixed per agent and over time."""
    g = np.zeros((T, N, 2))
    t = np.arange(T) / FPS
    for a in range(N):
        kind = a % 3
        if kind == 0:  # jumps between extreme directions every 0.1-1 s
            cur = np.zeros(2)
            for i in range(T):
                if rng.random() < 3 / FPS:
                    cur = rng.uniform([-1.5, -math.pi], [1.5, math.pi])
                    if rng.random() < 0.5:
                        cur[1] = math.pi if rng.random() < 0.5 else -math.pi
                g[i, a] = cur
        elif kind == 1:  # circling the character, alternately both ways
            direction = 1.0 if a % 2 else -1.0
            g[:, a, 1] = (
                np.remainder(direction * 2 * math.pi / 3 * t + math.pi, 2 * math.pi) - math.pi
            )
            g[:, a, 0] = 0.4 * np.sin(0.7 * t)
        else:  # back and forth across +-180 deg every frame
            g[:, a, 1] = np.where(np.arange(T) % 2 == 0, math.pi - 0.01, -math.pi + 0.01)
            g[:, a, 0] = rng.uniform(-0.3, 0.3)
    return g.astype(np.float32)


# -- neck limit and eye clamp ----------------------------------------------------------------
@pytest.mark.parametrize("limits", [None, (0.3, 0.9, 0.15)])
def test_head_never_leaves_the_neck_limits(fast, rng, limits):
    gen = gh.Generator(fast, num_agents=9, seed=1, neck_limits=limits)
    L = np.asarray(gen.neck_limits, np.float32)
    if limits is None:
        np.testing.assert_allclose(L, gen.model.config.neck_limits, rtol=1e-7)
    gaze = adversarial_gaze(rng, 3000, 9)
    heads, eyes = gen.generate(gaze, return_eye=True)
    assert np.all(np.isfinite(heads)) and np.all(np.isfinite(eyes))
    assert np.all(np.abs(heads) <= L), np.abs(heads).max(axis=(0, 1))
    # every limit was pressed deep into its soft zone (the fade makes L itself asymptotic)
    assert np.all(np.abs(heads).max(axis=(0, 1)) >= 0.9 * L)
    # stepping frame by frame (the per-frame path) obeys it as well
    for x in gaze[:300]:
        assert np.all(np.abs(gen.step(x)) <= L)


def test_soft_zone_slows_outward_motion(fast):
    """Inside the soft zone an outward velocity fades to zero at the limit: the head
    approaches the limit over several frames instead of hitting it in one."""
    gen = gh.Generator(fast, num_agents=1, seed=0, temperature=0.0)
    L = np.asarray(gen.neck_limits, np.float32)
    soft = gen.model.config.neck_soft
    heads = gen.generate(adversarial_gaze(np.random.default_rng(3), 600, 1))[:, 0]
    step = np.abs(np.diff(heads, axis=0))
    deep = np.abs(heads[:-1]) > soft * L + 0.9 * (1 - soft) * L  # last 10 % of the soft zone
    outward = np.sign(np.diff(heads, axis=0)) == np.sign(heads[:-1])
    sel = deep & outward
    assert sel.any()
    # 1 - smoothstep(u) <= 3 (1 - u)^2 near u = 1: at most 3 % of the velocity survives
    assert np.all(step[sel] <= 0.03 * 12.0 / FPS + 1e-6)


def test_eye_is_clamped_to_the_eye_limit(fast, rng):
    gen = gh.Generator(fast, num_agents=9, seed=2, neck_limits=(0.2, 0.3, 0.1))
    lim = gen.model.config.eye_limit
    gaze = adversarial_gaze(rng, 600, 9)
    heads, eyes = gen.generate(gaze, return_eye=True)
    assert np.abs(eyes).max() <= np.float32(lim)
    free = eye_from_gaze_head(gaze.astype(np.float64), heads.astype(np.float64))
    assert np.abs(free).max() > lim + 0.5  # the gaze asked for far more than the eyes can
    np.testing.assert_allclose(eyes, np.clip(free, -lim, lim), atol=2e-5)


def test_gaze_across_180_matches_the_reference_and_does_not_spin(fast, rng, tmp_path):
    """Gaze velocity is wrapped: a target crossing +-180 deg (every frame, or circling)
    gives the reference's motion, and jitter across +-180 deg moves the head like the same
    jitter just beside it. The second part runs without the reach floor: the floor reads the
    eye target, a direction with no seam, but on this deliberately stiff model it amplifies
    the 0.006 rad that separates "across" from "beside" over 90 frames."""
    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(fast)
    gaze = adversarial_gaze(rng, 400, 6)
    gen = gh.Generator(fast, num_agents=6, seed=4)
    ref_heads, _, _ = torch_rollout(ref, gaze, seed=4)
    np.testing.assert_allclose(gen.generate(gaze), ref_heads, atol=1e-4)

    # head turned to 0.6 rad first, so the eye target stays away from its own +-pi seam
    T = 90
    hist_gaze = np.tile(np.float32([0.0, 2.8]), (30, 1))
    hist_head = np.tile(np.float32([0.0, 0.6, 0.0]), (30, 1))
    jitter = np.where(np.arange(T) % 2 == 0, 0.005, -0.005).astype(np.float32)
    across = np.stack(
        [np.zeros(T), np.remainder(math.pi + jitter + math.pi, 2 * math.pi) - math.pi], -1
    )
    beside = np.stack([np.zeros(T), math.pi - 0.006 + jitter], -1)
    out = []
    no_floor = tmp_path / "fast_no_floor.safetensors"
    make_model(no_floor, seed=5, y_std=(6.0, 9.0, 4.0), reach_gain=0.0)
    for g in (across, beside):
        gen = gh.Generator(no_floor, num_agents=1, seed=4, temperature=0.0)
        gen.prime(hist_gaze, hist_head)
        out.append(gen.generate(g.astype(np.float32))[:, 0])
    assert np.abs(np.diff(out[0][:, 1])).max() < 0.2  # no frame-to-frame spin
    np.testing.assert_allclose(out[0], out[1], atol=0.02)


# -- style -----------------------------------------------------------------------------------
def test_population_style_is_deterministic_and_batch_size_independent(mp):
    from gazehead_rt.training.model import GazeHeadModel

    ref = GazeHeadModel.load(mp)
    a = gh.Generator(mp, num_agents=7, seed=13).style
    b = gh.Generator(mp, num_agents=3, seed=13).style
    c = gh.Generator(mp, num_agents=7, seed=14).style
    assert a.shape == (7, STYLE_SIZE) and a.dtype == np.float32
    np.testing.assert_array_equal(a[:3], b)
    np.testing.assert_array_equal(a, gh.Generator(mp, num_agents=7, seed=13).style)
    assert np.abs(a - c).min() > 0  # another seed, other characters
    np.testing.assert_allclose(a, population_style_np(ref, 13, np.arange(7)), atol=1e-6)
    np.testing.assert_allclose(
        a, gh.generator.population_style(gh.load_model(mp), 13, range(7)), atol=1e-7
    )
    crowd = gh.Generator(mp, num_agents=1000, seed=0).style  # a crowd differs visibly
    cfg = ref.config
    np.testing.assert_allclose(crowd.mean(0), cfg.style_mean, atol=4 * np.max(cfg.style_std) / 30)
    np.testing.assert_allclose(crowd.std(0), cfg.style_std, rtol=0.1)


def test_style_changes_the_motion_and_reset_keeps_it(mp, rng):
    g = saccadic_gaze(rng, 60, 2)
    a = gh.Generator(mp, num_agents=2, seed=1, style="mean")
    b = gh.Generator(mp, num_agents=2, seed=1, style=[[1.2, -0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(a.style, np.tile(np.float32([0.5, 0.5]), (2, 1)))
    ha, hb = a.generate(g), b.generate(g)
    assert np.abs(ha[:, 0] - hb[:, 0]).max() > 1e-3
    np.testing.assert_array_equal(ha[:, 1], hb[:, 1])  # same style, same motion
    before = b.style
    b.step(g[0])
    b.reset()
    np.testing.assert_array_equal(b.style, before)


def test_set_style_forms(mp):
    gen = gh.Generator(mp, num_agents=4, seed=3)
    drawn = gen.style
    gen.set_style({"propensity": 0.9})
    np.testing.assert_array_equal(gen.style[:, 0], np.float32(0.9))
    np.testing.assert_array_equal(gen.style[:, 1], drawn[:, 1])
    gen.set_style({"idle": [0.0, 0.1, 0.2, 0.3], "propensity": 0.4}, agents=None)
    np.testing.assert_allclose(
        gen.style, [[0.4, 0.0], [0.4, 0.1], [0.4, 0.2], [0.4, 0.3]], atol=1e-7
    )
    gen.set_style([1.0, 2.0], agents=[1, 3])
    np.testing.assert_allclose(gen.style[[1, 3]], [[1.0, 2.0], [1.0, 2.0]])
    gen.set_style(np.array([[5.0, 6.0], [7.0, 8.0]]), agents=[2, 0])
    np.testing.assert_allclose(gen.style[[2, 0]], [[5.0, 6.0], [7.0, 8.0]])
    gen.set_style(None, agents=[0])
    np.testing.assert_array_equal(gen.style[0], drawn[0])
    gen.set_style("mean")
    np.testing.assert_allclose(gen.style, np.tile(gen.model.config.style_mean, (4, 1)))


@pytest.mark.parametrize(
    "style,agents,exc,match",
    [
        (
            [1.0, 2.0, 3.0],
            None,
            ValueError,
            r"style: expected shape \(2,\) or \(4, 2\), got \(3,\)",
        ),
        (
            np.zeros((3, 2)),
            None,
            ValueError,
            r"style: expected shape \(2,\) or \(4, 2\), got \(3, 2\)",
        ),
        (np.zeros((3, 2)), [0, 1], ValueError, r"expected shape \(2,\) or \(2, 2\)"),
        ([np.nan, 0.0], None, ValueError, r"style: the style of agent 0 is not finite"),
        (
            {"propensity": [0.1, np.inf, 0.0, 0.0]},
            None,
            ValueError,
            r"style of agent 1 is not finite",
        ),
        ({"speed": 1.0}, None, ValueError, r"style: unknown knobs \['speed'\]"),
        (
            {"idle": [1.0, 2.0]},
            None,
            ValueError,
            r"style\['idle'\]: expected a number or shape \(4,\)",
        ),
        ("eye mover", None, ValueError, r"style: expected None, 'mean', an array or a dict"),
        (["a", "b"], None, TypeError, r"style: expected numbers"),
        ([0.1, 0.2], [4], ValueError, r"agents: id 4 is out of range for 4 agents"),
    ],
)
def test_set_style_errors_change_nothing(mp, style, agents, exc, match):
    gen = gh.Generator(mp, num_agents=4, seed=3)
    before = gen.style
    with pytest.raises(exc, match=match):
        gen.set_style(style, agents=agents)
    np.testing.assert_array_equal(gen.style, before)
    if agents is None:  # the constructor takes the same forms
        with pytest.raises(exc, match=match):
            gh.Generator(mp, num_agents=4, style=style)


@pytest.mark.parametrize(
    "limits,exc,match",
    [
        ((2.0, 1.0, 0.5), ValueError, r"neck_limits: pitch limit 2 rad is outside \(0, pi/2\]"),
        ((0.5, 3.2, 0.5), ValueError, r"neck_limits: yaw limit 3.2 rad is outside \(0, pi\)"),
        ((0.5, 1.0, 0.0), ValueError, r"neck_limits: roll limit 0 rad is outside"),
        ((0.5, float("nan"), 0.5), ValueError, r"neck_limits: yaw limit nan"),
        (
            (0.5, 1.0),
            ValueError,
            r"neck_limits: expected 3 values \(pitch, yaw, roll\) in radians, got shape \(2,\)",
        ),
        (("a", "b", "c"), TypeError, r"neck_limits: expected numbers"),
    ],
)
def test_neck_limits_errors(mp, limits, exc, match):
    with pytest.raises(exc, match=match):
        gh.Generator(mp, neck_limits=limits)
    gen = gh.Generator(mp, neck_limits=(0.5, 1.0, 0.4))
    with pytest.raises(exc, match=match):
        gen.neck_limits = limits
    np.testing.assert_allclose(gen.neck_limits, (0.5, 1.0, 0.4), rtol=1e-7)


def test_reset_ids_are_deduplicated_in_the_core(mp, rng):
    gen = gh.Generator(mp, num_agents=3, seed=0)
    gen.step(np.zeros(2))
    gen.reset([2, 2, 0, 2])
    assert gen.state_dict()["episode"].tolist() == [1, 0, 1]
    impl = gen._impl  # a C++ caller (no Python dedup) gets the same
    impl.reset(np.array([1, 1, 1], np.int64))
    assert gen.state_dict()["episode"].tolist() == [1, 1, 1]
    with pytest.raises(
        ValueError, match=r"agents: id 5 is out of range for 3 agents \(valid 0..2\)"
    ):
        impl.reset(np.array([0, 5], np.int64))
    assert gen.state_dict()["episode"].tolist() == [1, 1, 1]


# -- state -----------------------------------------------------------------------------------
def test_state_round_trip_carries_style_and_limits(mp, rng):
    g = saccadic_gaze(rng, 60, 3)
    gen = gh.Generator(
        mp,
        num_agents=3,
        seed=8,
        style=[[0.2, 0.9], [1.1, 0.0], [0.6, 0.4]],
        neck_limits=(0.4, 0.8, 0.3),
    )
    for x in g[:30]:
        gen.step(x)
    saved = gen.state_dict()
    assert saved["format"] == "gazehead_rt.state/2"
    for k, shape in (
        ("head_vel", (3, 3)),
        ("z", (3, gen.model.config.latent_size)),
        ("style", (3, 2)),
    ):
        assert saved[k].shape == shape
    cont = np.stack([gen.step(x) for x in g[30:]])
    other = gh.Generator(mp, num_agents=3, seed=0)
    other.load_state_dict(saved)
    np.testing.assert_array_equal(other.style, saved["style"])
    assert other.neck_limits == gen.neck_limits
    np.testing.assert_array_equal(np.stack([other.step(x) for x in g[30:]]), cont)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"style": np.full((3, 2), np.nan, np.float32)}, r"state 'style' holds non-finite values"),
        ({"style": np.zeros((3, 3), np.float32)}, r"state 'style': expected 6 values, got 9"),
        ({"neck_limits": np.float32([0.4, 4.0, 0.3])}, r"neck_limits: yaw limit 4 rad is outside"),
        ({"z": np.zeros((3, 1), np.float32)}, r"state 'z': expected"),
        ({"seed": -3}, r"state: seed must be an integer"),
        ({"temperature": -1.0}, r"temperature: expected a finite number >= 0"),
        ({"format": "gazehead_rt.state/1"}, r"state: format 'gazehead_rt.state/1' is not"),
    ],
)
def test_load_state_dict_is_all_or_nothing(mp, rng, change, match):
    gen = gh.Generator(mp, num_agents=3, seed=8)
    for x in saccadic_gaze(rng, 10, 3):
        gen.step(x)
    good = gen.state_dict()
    target = gh.Generator(mp, num_agents=3, seed=1, temperature=0.5, neck_limits=(0.5, 0.5, 0.5))
    target.step(np.zeros(2))
    before = target.state_dict()
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(dict(good, **change))
    after = target.state_dict()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(after[k], v, err_msg=k)
        elif k != "rate":
            assert after[k] == v, k


# -- model file ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "version, model, runtime", [("1", "v2", "gazehead_rt<0.2"), ("2", "v3", "gazehead_rt<0.3")]
)
def test_retired_format_versions_are_refused_with_a_clear_model_error(
    mp, tmp_path, version, model, runtime
):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(mp), framework="numpy") as f:
        meta = dict(f.metadata())
    meta["format_version"] = version
    old = tmp_path / "old_model.safetensors"
    save_file(load_file(str(mp)), str(old), metadata=meta)
    with pytest.raises(
        gh.ModelError,
        match=rf"old_model.safetensors: format_version {version} \(motion "
        rf"model {model}\) is not supported; this runtime runs "
        rf"format_version 3 \(motion model v4\): retrain or use {re.escape(runtime)}",
    ) as e:
        gh.Generator(old)
    assert isinstance(e.value, ValueError)


def test_core_constants_match_the_model_file_module():
    c = native().constants()
    from gazehead_rt import model_file

    assert c["FORMAT_VERSION"] == model_file.FORMAT_VERSION
    assert c["INPUT_SIZE"] == INPUT_SIZE
    assert c["HEAD_SIZE"] == HEAD_SIZE
    assert c["STYLE_SIZE"] == STYLE_SIZE
    assert c["LOGVAR_MIN"] == LOGVAR_MIN and c["LOGVAR_MAX"] == LOGVAR_MAX
    assert c["GAZE_SIZE"] == 2 and c["EYE_SIZE"] == 2
