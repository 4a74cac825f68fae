"""The reach guarantee (docs/design.md §4): from any state a gaze history can reach, a held
reachable gaze brings the eye-in-head within 20 deg in 2 s and the head never settles turned
away from the gaze; mirrored gaze gives mirrored motion.

The guarantee is structure (the reach floor in the step), so it is checked on an adversarial
random-weight model as well as on the shipped one: no weights can defeat it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gazehead_rt as gh

torch = pytest.importorskip("torch")

from reference import make_model  # noqa: E402

FPS = 30
D = math.pi / 180.0
HOLD_S = 2.0
#: the reachable gaze the properties hold: the neck's soft zone plus the eye's comfortable
#: 20 deg, with margin for a rolled head (default limits: pitch 40, yaw 75, soft from 75 %)
REACH_YAW_DEG, REACH_PITCH_DEG = 70.0, 25.0


@pytest.fixture(scope="module")
def adversarial_model(tmp_path_factory):
    """Random weights with a decoder scaled to drive the head hard in arbitrary directions."""
    path = tmp_path_factory.mktemp("reach") / "random.safetensors"
    make_model(path, seed=3, y_std=(3.0, 6.0, 0.3), neck_limits=(40 * D, 75 * D, 30 * D))
    return str(path)


def history(draw_list, fps: int = FPS) -> np.ndarray:
    """A gaze history (T, 2) rad of held targets and 30 deg/s sweeps anywhere, behind the
    character included (|yaw| up to 179 deg)."""
    out = [np.zeros((1, 2))]
    for kind, pitch, yaw, dur in draw_list:
        n = max(1, int(dur * fps))
        last = out[-1][-1]
        tgt = np.array([pitch, yaw]) * D
        if kind == "hold":
            seg = np.repeat(tgt[None], n, 0)
        else:  # a sweep at ~30 deg/s toward the target (the gaze need not be reachable)
            steps = max(1, int(np.abs(tgt - last).max() / (30 * D) * fps))
            seg = last + (tgt - last) * (np.arange(1, steps + 1)[:, None] / steps)
        out.append(seg)
    return np.concatenate(out).astype(np.float32)


segment = st.tuples(
    st.sampled_from(["hold", "sweep"]),
    st.floats(-80, 80),
    st.floats(-179, 179),
    st.floats(0.05, 3.0),
)


def _run(gen: gh.Generator, gaze: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    heads, eyes = [], []
    for g in gaze:
        heads.append(gen.step(g).copy())
        eyes.append(gen.eye.copy())
    return np.stack(heads), np.stack(eyes)


def _eye_unclamped(gaze: np.ndarray, head: np.ndarray) -> np.ndarray:
    return gh.geometry.eye_from_gaze_head(np.broadcast_to(gaze, head.shape[:-1] + (2,)), head)


@pytest.mark.parametrize("which", ["default", "adversarial"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    segs=st.lists(segment, min_size=1, max_size=6),
    target=st.tuples(
        st.floats(-REACH_PITCH_DEG, REACH_PITCH_DEG), st.floats(-REACH_YAW_DEG, REACH_YAW_DEG)
    ),
    seed=st.integers(0, 2**31 - 1),
    style_z=st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0)),
    temperature=st.floats(0.0, 3.0),
)
def test_a_held_reachable_gaze_brings_the_eye_within_20_deg_in_2_s(
    which, adversarial_model, segs, target, seed, style_z, temperature
):
    """On the adversarial model over the whole range drawn; on the shipped one within what it
    was trained for: styles within 3 std of its population, temperature <= 1.5 (at 3, with
    styles far outside the population, its heads oscillate about the target with |eye| up to
    ~30 deg: the floor bounds turning away, not overshooting)."""
    from gazehead_rt.model_file import load_model

    model = None if which == "default" else adversarial_model
    cfg = load_model(model or gh.default_model_path()).config
    style = np.asarray(cfg.style_mean) + np.asarray(style_z) * np.asarray(cfg.style_std)
    if which == "default":
        temperature = min(temperature, 1.5)
    gen = gh.Generator(model, num_agents=1, seed=seed, temperature=temperature, style=style)
    hist = history(segs)
    held = np.repeat(np.asarray(target, np.float32)[None] * D, int(HOLD_S * FPS), 0)
    head, _ = _run(gen, np.concatenate([hist, held]))
    eye_end = _eye_unclamped(held[-1], head[-1, 0])
    assert np.all(np.abs(eye_end) <= 20 * D + 1e-4), (
        f"after {HOLD_S} s on gaze {target} deg the eye is at {np.degrees(eye_end)} deg "
        f"(head {np.degrees(head[-1, 0])} deg)"
    )
    # never settled turned away: over the last half second the head yaw moves toward the
    # target or the eye-in-head yaw is within 20 deg of it (the floor bounds the eye-in-head
    # yaw; the yaw difference on the torso is larger by 1/cos of the pitch, and with the
    # head pitched 40 deg it can sit past 20 deg while the eye is within the threshold)
    y_err = held[-1, 1] - head[-16:-1, 0, 1]
    eye_yaw = _eye_unclamped(held[-1], head[-16:-1, 0])[:, 1]
    toward = np.sign(y_err) * np.diff(head[-16:, 0, 1]) >= 0
    assert np.all((np.abs(eye_yaw) <= 20 * D + 1e-4) | toward), (
        np.degrees(y_err),
        np.degrees(eye_yaw),
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", [-1, 1])
def test_held_out_of_reach_then_back_to_centre_recovers(seed, side):
    """The v3 defect of issue "Motion model v4": hold the gaze at 120 deg, then at 0."""
    gen = gh.Generator(num_agents=1, seed=seed)
    ys = [0.0] * 60 + [side * 120.0] * 300 + [0.0] * 300
    gaze = np.array([[0.0, y * D] for y in ys], np.float32)
    head, eye = _run(gen, gaze)
    assert abs(head[-1, 0, 1]) <= 20 * D, np.degrees(head[-1, 0])
    assert np.all(np.abs(np.degrees(eye[-240:, 0])) <= 20.0)  # within 2 s of coming back


@pytest.mark.parametrize("style", [None, "mean"])
@pytest.mark.parametrize("seed", range(6))
def test_a_30_deg_s_sweep_to_120_keeps_the_eye_within_55_deg(seed, style):
    gen = gh.Generator(num_agents=1, seed=seed, style=style)
    leg = lambda a, b: np.linspace(a, b, int(abs(b - a) / 30 * FPS) + 1)[1:]  # noqa: E731
    ys = np.concatenate([[0.0], leg(0, 120), leg(120, -120), leg(-120, 0), np.zeros(90)])
    gaze = np.stack([np.zeros_like(ys), ys * D], 1).astype(np.float32)
    head, _ = _run(gen, gaze)
    eye = np.degrees(_eye_unclamped(gaze[:, None], head))
    assert np.abs(eye).max() <= 55.0, np.abs(eye).max()
    assert np.abs(eye[-1]).max() <= 20.0  # back at the centre, and not stuck on a side


@settings(max_examples=200, deadline=None)
@given(
    v=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
    e=st.lists(st.floats(-3.1, 3.1).filter(lambda x: abs(x) > 1e-6), min_size=2, max_size=2),
    v_prev=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
)
def test_the_reach_floor_is_mirror_symmetric_and_continuous(v, e, v_prev):
    """The structure the network's output passes through is exactly left/right symmetric
    (yaw and roll flip sign, pitch does not), and continuous in the eye target."""
    from gazehead_rt.training.model import reach_floor

    M3, M2 = torch.tensor([1.0, -1.0, -1.0]), torch.tensor([1.0, -1.0])
    args = dict(gain=3.0, threshold=15 * D, accel=2000 * D, fps=30.0)
    tv, te, tp = (torch.tensor(x, dtype=torch.float32) for x in (v, e, v_prev))
    out = reach_floor(tv, te, tp, **args)
    mirrored = reach_floor(tv * M3, te * M2, tp * M3, **args)
    torch.testing.assert_close(mirrored, out * M3, rtol=0, atol=0)
    nudged = reach_floor(tv, te + 1e-4, tp, **args)  # 1e-4 rad moves the output by O(1e-3)
    assert torch.all((nudged - out).abs() <= 3.0 * 1e-4 * 30 * 20 + 1e-5)


@pytest.mark.xfail(
    strict=True,
    reason="motion model v4's network is not mirror-symmetric by construction (mirror "
    "augmentation only): on 48-sample means its head yaw under mirrored gaze differs by up "
    "to ~20 deg on some histories (docs MODEL_CARD.md); an equivariant parameterization is "
    "the fix",
)
@settings(max_examples=15, deadline=None)
@given(
    segs=st.lists(segment, min_size=1, max_size=5),
    seed=st.integers(0, 2**31 - 1),
)
def test_mirrored_gaze_gives_mirrored_motion(segs, seed):
    """The same distribution: mean and spread of head yaw over 48 samples under mirrored
    gaze are the mirror image (the model is trained on mirrored windows; its structure,
    the neck and the reach floor, is symmetric)."""
    gaze = history(segs)
    mirrored = gaze * np.array([1.0, -1.0], np.float32)
    n = 48
    a = gh.Generator(num_agents=n, seed=seed, style="mean").generate(np.repeat(gaze[:, None], n, 1))
    b = gh.Generator(num_agents=n, seed=seed + 1, style="mean").generate(
        np.repeat(mirrored[:, None], n, 1)
    )
    ya, yb = np.degrees(a[..., 1]), -np.degrees(b[..., 1])
    # the standard error of a 48-sample mean is spread / 7; allow for it and a model bias
    tol = 3.0 + 3.0 * np.maximum(ya.std(1), yb.std(1)) / math.sqrt(n)
    diff = np.abs(ya.mean(1) - yb.mean(1))
    assert np.mean(diff <= tol) >= 0.95, (diff.max(), tol.max())
    pa, pb = np.degrees(a[..., 0]).mean(1), np.degrees(b[..., 0]).mean(1)
    assert np.mean(np.abs(pa - pb) <= tol) >= 0.95


@pytest.mark.parametrize("target", [(8, -153), (10, 160), (-15, 175), (15, 140), (0, -179)])
def test_looking_behind_keeps_the_head_pitch_near_the_gazes(target):
    """A gaze held behind the character (out of reach): the head turns to its yaw limit and
    its pitch stays near the gaze's. The floor once read the eye-in-head pitch there, which
    a rolled or pitched head couples to the wrong way for a target behind it: the head ran to
    its pitch limit (39 deg for the demo's look behind, 51 deg off the gaze's pitch for one
    of these). Now the floor reads the per-axis torso error that far from the aim
    (reach_target); the network's own pitch remains (about 26 deg at most here)."""
    gen = gh.Generator(num_agents=16, seed=11)
    gaze = np.array([[0.0, 0.0]] * 30 + [target] * 120, np.float32) * D
    head, _ = _run(gen, gaze)
    off = np.degrees(np.abs(head[30:, :, 0] - target[0] * D))
    assert off.max() <= 30.0, off.max(axis=0)
    # the yaw goes to the side of the target (straight behind, either side will do)
    if abs(target[1]) < 170:
        assert np.all(np.sign(head[-1, :, 1]) == np.sign(target[1]))
