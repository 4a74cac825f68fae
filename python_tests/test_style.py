"""estimate_style recovers a known head share and a known idle head speed."""

import numpy as np
import pytest

from gazehead_rt.geometry import gaze_from_head_eye
from gazehead_rt.style import STYLE_NAMES, estimate_style

FPS = 30.0
D2R = np.pi / 180.0


def _shifts(share, rng, n=40, hold_s=1.5, fps=FPS, yaw0=0.0):
    """Gaze steps of 15-60 deg in yaw and pitch; the head takes ``share`` of each at once."""
    k = int(hold_s * fps)
    targets = [np.zeros(2)]
    for _ in range(n):
        a = rng.uniform(15, 60) * D2R
        ang = rng.uniform(-0.6, 0.6) + (np.pi if rng.uniform() < 0.5 else 0.0)
        t = targets[-1] + a * np.array([0.3 * np.sin(ang), np.cos(ang)])
        t = np.clip(t, [-0.5, -1.5], [0.5, 1.5])
        targets.append(t)
    gaze = np.repeat(np.array(targets), k, axis=0)
    gaze[:, 1] += yaw0
    head = np.zeros((len(gaze), 3))
    head[:, :2] = share * (gaze - np.array([0.0, yaw0]))
    head[:, 1] += yaw0
    return gaze, head


@pytest.mark.parametrize("share", [0.3, 0.55, 0.8])
def test_propensity_recovers_known_head_share(share, rng):
    gaze, head = _shifts(share, rng)
    s = estimate_style(gaze, head, FPS)
    assert s.shape == (2,) and s.dtype == np.float64
    assert s[0] == pytest.approx(share, abs=0.05)
    # the head is perfectly still between steps: idle sits at its floor, log10(0.1)
    assert s[1] == pytest.approx(-1.0, abs=1e-9)


def test_propensity_is_invariant_to_a_global_yaw_turn_across_pi(rng):
    gaze, head = _shifts(0.6, np.random.default_rng(7))
    wrap = lambda a: (a + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
    g2, h2 = gaze.copy(), head.copy()
    g2[:, 1] = wrap(g2[:, 1] + 3.0)
    h2[:, 1] = wrap(h2[:, 1] + 3.0)
    np.testing.assert_allclose(
        estimate_style(g2, h2, FPS), estimate_style(gaze, head, FPS), atol=1e-6
    )


@pytest.mark.parametrize("rms_deg_s", [0.5, 2.0, 8.0])
def test_idle_is_log10_of_the_rms_head_speed_during_fixation(rms_deg_s, rng):
    # head sways on a circle of constant angular speed while the gaze holds (VOR); then one
    # fast gaze shift whose frames are excluded from idle
    T = 600
    t = np.arange(T) / FPS
    r = 2.0 * D2R
    w = rms_deg_s * D2R / r  # rad/s of the phase, so the head speed is rms_deg_s
    head = np.zeros((T, 3))
    head[:, 0] = r * np.sin(w * t)
    head[:, 1] = r * np.cos(w * t)
    gaze = np.zeros((T, 2))
    gaze[300:, 1] = 30 * D2R  # one 30-deg step: 900 deg/s for a frame, not a fixation
    s = estimate_style(gaze, head, FPS)
    assert s[1] == pytest.approx(np.log10(rms_deg_s), abs=0.01)


def test_idle_counts_only_frames_with_gaze_below_30_deg_s(rng):
    T = 300
    head = np.zeros((T, 3))
    head[:, 1] = np.arange(T) * (40 * D2R / FPS)  # head turns at 40 deg/s throughout
    eye = np.zeros((T, 2))
    gaze = gaze_from_head_eye(head, eye)  # eye rides on the head: gaze moves at 40 deg/s
    gaze[:150] = gaze[0]  # first half: gaze still (the eye counter-rotates)
    s = estimate_style(gaze, head, FPS)
    # only the first 149 frame pairs are fixation, all with head speed 40 deg/s
    assert s[1] == pytest.approx(np.log10(40.0), abs=1e-6)


def test_style_names():
    assert STYLE_NAMES == ("propensity", "idle")


def test_propensity_is_clipped():
    gaze, head = _shifts(1.0, np.random.default_rng(3))
    head[:, :2] *= 3.0  # head overshoots gaze 3x
    assert estimate_style(gaze, head, FPS)[0] == 1.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gaze=np.zeros((60, 3))), "gaze must have shape"),
        (dict(head=np.zeros((60, 4))), "head must have shape"),
        (dict(head=np.zeros((59, 3))), "head has 59 frames but gaze has 60"),
        (dict(fps=0.0), "fps must be a positive"),
        (dict(fps=float("nan")), "fps must be a positive"),
        (dict(fps="x"), "fps must be a number"),
        (dict(gaze=np.full((60, 2), np.nan)), "gaze holds non-finite"),
        (dict(head=np.full((60, 3), np.inf)), "head holds non-finite"),
        (dict(gaze=np.zeros((20, 2)), head=np.zeros((20, 3))), "at least 31 frames"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = dict(gaze=np.zeros((60, 2)), head=np.zeros((60, 3)), fps=FPS)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        estimate_style(**args)


def test_a_recording_without_shifts_says_why_or_gives_nan():
    gaze = np.zeros((90, 2))
    head = np.zeros((90, 3))
    with pytest.raises(ValueError, match="propensity"):
        estimate_style(gaze, head, FPS)
    s = estimate_style(gaze, head, FPS, allow_missing=True)
    assert np.isnan(s[0]) and s[1] == pytest.approx(-1.0)
