"""Synthetic fixed-torso gaze shifts from a physiological eye-head model, one "person" per clip.

The recordings lack large gaze shifts (SGaze has none >= 60 deg) and have no torso, so this
generator supplies what they cannot teach: gaze shifts of 5-150 deg in yaw and pitch with a
fixed torso, the head's growing share of large shifts, the head turning on after gaze lands
while the eye counter-rotates (VOR) and re-centres, the neck range, and stable individual
differences ("head movers" vs "eye movers"). Angles in the model are degrees in the torso
frame, (pitch, yaw) as in ``gazehead_rt.geometry`` (yaw positive to the left); the clips are
radians.

Rules and their sources (see ``../shared`` PHYSIOLOGY notes; numbers in degrees, seconds):

* **Gaze targets.** Fixations last 0.3-2 s (log-normal, median 0.6 s; head-free gaze
  shifts to large targets come with longer fixations than the ~0.3 s of scene viewing,
  Rayner 1998, Psychol. Bull. 124:372). Amplitudes cover 5-150 deg on purpose (a third of
  the shifts >= 40 deg), unlike natural viewing where 83 % of saccades are < 15 deg
  (Malinov et al. 2000, Vision Res 40:2083): this source exists for what recordings lack.
  Directions are mostly horizontal with vertical components; targets stay within
  +-150 deg yaw and +-50 deg pitch of the torso, mostly within +-90 deg yaw, and only a
  few beyond the reach of neck + eye.
* **Gaze saccade (main sequence).** Minimum-jerk gaze trajectory of duration
  ``d0 + d1 * A`` with d0 = 20-30 ms, d1 = 2-3 ms/deg, and peak velocity capped at
  450-700 deg/s (Bahill, Clark & Stark 1975, Math Biosci 24:191; Guitton & Volle 1987,
  J Neurophysiol 58:427 for head-free gaze shifts).
* **Eye range.** Eye-in-head is limited to the oculomotor range, 45-55 deg per person
  (Guitton & Volle 1987: about +-55 deg); beyond it gaze is carried by the head, so a
  gaze shift to a far target completes only as the head arrives, and a target beyond
  neck + eye range is not reached (the eye holds at its limit).
* **Head amplitude: a per-person hinge.** The head's planned displacement along the
  target-re-head error ``e`` is ``k * (|e| - T)`` for ``|e| > T`` and 0 below (Freedman &
  Sparks 1997, J Neurophysiol 77:2328: ~0 below ~20 deg, then linear over 25-90 deg;
  per-person hinge: the eye-head mover spectrum, arXiv 2602.06164; Stahl 1999, Exp Brain
  Res 126:41), with T = 10-25 deg and slope k = 0.25-1.0, plus enough to keep the eye's
  part of the shift <= 28-48 deg (the eye's part saturates, ~35 deg in the monkey,
  Freedman & Sparks 1997). Vertical components recruit the head less: pitch scaled by
  0.4-0.8 (Freedman & Sparks 1997; Freedman 2008, Exp Brain Res 190:369). Head movement
  amplitude follows the initial target-re-head error (Goossens & Van Opstal 1997, Exp Brain
  Res 114:542).
* **Head timing.** The head starts 0-100 ms after the eye: a per-person mean of 10-70 ms
  with a per-shift spread of 35 ms, so ~10-25 % of shifts start with the head first (lab:
  20-40 ms after the saccade; natural tasks: head first in up to 48 %, Vision Res 41:3307,
  2001; "The reaction time of eye-head coordination in man").
* **Head velocity profile.** Minimum jerk (Flash & Hogan 1985, J Neurosci 5:1688), duration
  ``0.15-0.25 s + 4-7 ms/deg * amplitude`` (Zangemeister, Jones & Stark 1981, Exp Neurol
  71:76), so peak head velocity grows with amplitude, to ~200-300 deg/s for 60-90 deg
  (Guitton & Volle 1987; Freedman 2008). Overlapping movements superpose (Flash & Henis
  1991, J Cogn Neurosci 3:220).
* **After gaze lands.** The head keeps turning while the eye counter-rotates (VOR: gaze is
  held on the target, eye = gaze (-) head), and a slower re-centring movement (0.4-1.6 s,
  starting half-way through the main one)
  brings the eye to within ``eye_rest`` = 6-16 deg of centre for shifts beyond the hinge
  (none below it, fully 10 deg above it) (Bizzi et al. 1971/72; Guitton
  & Volle 1987), within the neck range (+-70 deg yaw, +-40 deg pitch here; Guitton & Volle
  report ~ +-80 deg head-on-trunk yaw).
* **Individual differences.** One number per person, ``propensity`` in [0, 1] (eye mover
  -> head mover; large and stable between people, Fuller 1992, Exp Brain Res 92:152; Stahl
  1999), sets the hinge slope and threshold, the eye's saturation, the resting eye
  eccentricity and the re-centring speed, each with its own independent per-person spread.
* **Idle head.** Between shifts the head drifts with small smooth noise (per person RMS
  speed 0.3-3 deg/s, log-uniform), compensated by the eye (VOR); fixational eye noise is
  not modelled.

Gaze = head (+) eye by rotation (``gazehead_rt.geometry``); the simulation runs at 4x the
clip rate and each clip frame is the mean of its 4 sub-frames (what a camera integrates).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from gazehead_rt.geometry import eye_from_gaze_head, gaze_from_head_eye
from gazehead_rt.style import estimate_style

from .dataset import SPLITS, Clip

__all__ = [
    "Person",
    "sample_person",
    "random_targets",
    "simulate",
    "person_clip",
    "synthetic_clips",
    "NECK_LIMIT_DEG",
    "TARGET_RANGE_DEG",
]

D2R = np.pi / 180.0
#: Neck range (pitch, yaw) half-widths in deg; the v3 runtime default (Guitton & Volle 1987
#: report ~80 deg head-on-trunk yaw; 70 keeps clear of the end of range).
NECK_LIMIT_DEG = np.array([40.0, 70.0])
#: Targets stay within this (pitch, yaw) range of the torso.
TARGET_RANGE_DEG = np.array([50.0, 150.0])
_OVERSAMPLE = 4


@dataclass(frozen=True)
class Person:
    """One synthetic person's eye-head parameters (degrees, seconds)."""

    propensity: float = 0.5  # 0 eye mover .. 1 head mover (ground truth of the ordering)
    head_threshold_deg: float = 17.0  # hinge T
    head_slope: float = 0.65  # hinge k
    eye_main_max_deg: float = 38.0  # eye's part of a shift saturates here
    eye_rest_deg: float = 11.0  # after re-centring, |eye| settles to about this
    recentre_s: float = 0.8  # duration of the slower re-centring movement
    pitch_factor: float = 0.6  # vertical components recruit the head less
    eye_range_deg: float = 52.0  # oculomotor range
    head_latency_s: float = 0.04  # mean head start after gaze onset (may be < 0)
    head_latency_sd_s: float = 0.035
    head_d0_s: float = 0.2
    head_d1_s_per_deg: float = 0.0055
    saccade_d0_s: float = 0.025
    saccade_d1_s_per_deg: float = 0.0025
    saccade_vmax_deg_s: float = 550.0
    idle_speed_deg_s: float = 1.0  # RMS head speed of the idle drift
    fixation_median_s: float = 0.6
    fixation_sigma: float = 0.5


def sample_person(rng: np.random.Generator, propensity: float | None = None) -> Person:
    """A person from the population; ``propensity`` in [0, 1] drives the head-mover traits."""
    p = float(rng.uniform(0.0, 1.0) if propensity is None else propensity)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"propensity must be in [0, 1], got {propensity}")

    def lerp(lo: float, hi: float, spread: float) -> float:
        # trait = its propensity-driven value plus an independent per-person spread
        return float(lo + (hi - lo) * np.clip(p + rng.normal(0.0, spread), 0.0, 1.0))

    return Person(
        propensity=p,
        head_threshold_deg=lerp(25.0, 10.0, 0.15),  # movers recruit the head earlier
        head_slope=lerp(0.25, 1.0, 0.1),
        eye_main_max_deg=lerp(48.0, 28.0, 0.15),
        eye_rest_deg=lerp(16.0, 6.0, 0.15),
        recentre_s=lerp(1.6, 0.4, 0.2),
        pitch_factor=float(rng.uniform(0.4, 0.8)),
        eye_range_deg=float(rng.uniform(45.0, 55.0)),
        head_latency_s=float(rng.uniform(0.01, 0.07)),
        head_d0_s=float(rng.uniform(0.15, 0.25)),
        head_d1_s_per_deg=float(rng.uniform(0.004, 0.007)),
        saccade_d0_s=float(rng.uniform(0.020, 0.030)),
        saccade_d1_s_per_deg=float(rng.uniform(0.0020, 0.0030)),
        saccade_vmax_deg_s=float(rng.uniform(450.0, 700.0)),
        idle_speed_deg_s=float(np.exp(rng.uniform(np.log(0.3), np.log(3.0)))),
        fixation_median_s=float(rng.uniform(0.45, 0.8)),
    )


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def random_targets(
    rng: np.random.Generator, duration_s: float, person: Person
) -> tuple[np.ndarray, np.ndarray]:
    """Gaze targets (N, 2) deg (pitch, yaw) in the torso frame and their hold times (N,) s.

    Amplitudes: 40 % uniform 5-30 deg, 35 % 30-80 deg, 25 % 80-150 deg; directions mostly
    horizontal (angle from the horizontal ~ N(0, 25 deg), 20 % uniform). A target outside
    the range is redrawn (up to 30 times), else the shift heads back toward the centre.
    """
    targets, holds = [], []
    cur = np.zeros(2)
    t = 0.0
    while t < duration_s:
        u = rng.uniform()
        amp = (
            rng.uniform(5, 30)
            if u < 0.4
            else rng.uniform(30, 80)
            if u < 0.75
            else rng.uniform(80, 150)
        )
        for _ in range(30):
            ang = (
                rng.uniform(-np.pi, np.pi)
                if rng.uniform() < 0.2
                else rng.normal(0.0, 25 * D2R) + (np.pi if rng.uniform() < 0.5 else 0.0)
            )
            tgt = cur + amp * np.array([np.sin(ang), np.cos(ang)])
            # most targets lie in front (|yaw| <= 90 deg: half of those beyond are
            # redrawn); beyond neck + eye range the gaze cannot land (the eye holds at its
            # limit): a quarter of those are kept
            reach = NECK_LIMIT_DEG + person.eye_range_deg
            keep = (1.0 if np.all(np.abs(tgt) <= reach) else 0.25) * (
                1.0 if abs(tgt[1]) <= 90.0 else 0.5
            )
            if np.all(np.abs(tgt) <= TARGET_RANGE_DEG) and rng.uniform() < keep:
                break
        else:
            d = -cur / max(np.linalg.norm(cur), 1e-9)
            tgt = cur + min(amp, np.linalg.norm(cur)) * d
        hold = float(
            np.clip(
                person.fixation_median_s * np.exp(person.fixation_sigma * rng.standard_normal()),
                0.3,
                2.0,
            )
        )
        targets.append(tgt)
        holds.append(hold)
        cur = tgt
        t += hold + 0.2
    return np.array(targets).reshape(-1, 2), np.array(holds)


def _smooth_noise(rng: np.random.Generator, n: int, rate_hz: float, rms_speed: float) -> np.ndarray:
    """(n, 2) smooth drift whose RMS speed (deg/s, 2-D) is ``rms_speed``."""
    # white noise twice low-passed at ~1 Hz: a slow sway, no tremor
    a = 1.0 - np.exp(-2 * np.pi * 1.0 / rate_hz)
    x = rng.standard_normal((n, 2))
    for _ in range(2):
        y = np.empty_like(x)
        acc = np.zeros(2)
        for i in range(n):
            acc = acc + a * (x[i] - acc)
            y[i] = acc
        x = y
    v = np.diff(x, axis=0) * rate_hz
    s = np.sqrt(np.mean(np.sum(v * v, axis=1))) if n > 1 else 1.0
    x = x - x.mean(axis=0)
    return x * (rms_speed / max(s, 1e-12))


@dataclass
class Simulation:
    """Output of :func:`simulate` at the clip rate; angles in radians."""

    gaze: np.ndarray  # (T, 2)
    head: np.ndarray  # (T, 3), roll 0
    eye: np.ndarray  # (T, 2)
    fps: float
    shifts: list[dict] = field(default_factory=list)  # per shift: onset_s, head_start_s, ...


def simulate(
    person: Person,
    targets_deg: np.ndarray,
    holds_s: np.ndarray,
    *,
    fps: float = 30.0,
    rng: np.random.Generator | None = None,
    lead_s: float = 0.5,
    idle: bool = True,
) -> Simulation:
    """Simulate ``person`` looking at each target in turn (starting at gaze 0, head 0).

    Target i's gaze shift starts ``lead_s`` + sum of previous (shift durations + holds);
    after it lands gaze holds for ``holds_s[i]``. ``idle=False`` leaves out the idle drift
    (exact physiology checks).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    p = person
    targets_deg = np.asarray(targets_deg, dtype=np.float64).reshape(-1, 2)
    holds_s = np.asarray(holds_s, dtype=np.float64).reshape(-1)
    if holds_s.shape[0] != targets_deg.shape[0]:
        raise ValueError(
            f"holds_s has {holds_s.shape[0]} entries, targets_deg {targets_deg.shape[0]}"
        )
    shifts = []
    comps = []  # (start_s, duration_s, amplitude (2,) deg)
    head_final = np.zeros(2)
    g_prev = np.zeros(2)
    t = lead_s
    for tgt, hold in zip(targets_deg, holds_s):
        A = float(np.linalg.norm(tgt - g_prev))
        dur = max(
            p.saccade_d0_s + p.saccade_d1_s_per_deg * A, 1.875 * A / p.saccade_vmax_deg_s
        )  # min-jerk peak velocity = 1.875 A / D
        e = tgt - head_final
        Ae = float(np.linalg.norm(e))
        h = np.zeros(2)
        if Ae > 1e-9:
            h = e * (p.head_slope * max(0.0, Ae - p.head_threshold_deg) / Ae)
            h[0] *= p.pitch_factor
            # the eye's part of the shift saturates at eye_main_max_deg per component
            over = np.abs(e - h) - p.eye_main_max_deg
            h = np.where(over > 0, h + np.sign(e) * over, h)
        main_end = np.clip(head_final + h, -NECK_LIMIT_DEG, NECK_LIMIT_DEG)
        h = main_end - head_final
        r_err = tgt - main_end
        Ar = float(np.linalg.norm(r_err))
        r = r_err * (max(0.0, Ar - p.eye_rest_deg) / Ar) if Ar > 1e-9 else np.zeros(2)
        # no re-centring below the hinge (the head ignores small shifts), full re-centring
        # 10 deg above it
        r = r * float(np.clip((Ae - p.head_threshold_deg) / 10.0, 0.0, 1.0))
        rest_end = np.clip(main_end + r, -NECK_LIMIT_DEG, NECK_LIMIT_DEG)
        r = rest_end - main_end
        lat = float(
            np.clip(p.head_latency_s + p.head_latency_sd_s * rng.standard_normal(), -0.1, 0.2)
        )
        Ah = float(np.linalg.norm(h))
        d_h = p.head_d0_s + p.head_d1_s_per_deg * Ah
        start = t + lat
        if Ah > 0.05:
            comps.append((start, d_h, h))
        if np.linalg.norm(r) > 0.05:
            # re-centring blends into the main movement (one continuous head movement that
            # outlasts the gaze shift), starting half-way through it
            comps.append((start + 0.5 * d_h, p.recentre_s, r))
        shifts.append(
            {
                "onset_s": t,
                "duration_s": dur,
                "from_deg": g_prev.tolist(),
                "to_deg": tgt.tolist(),
                "amplitude_deg": A,
                "head_start_s": start if Ah > 0.05 else None,
                "head_amplitude_deg": Ah,
                "head_duration_s": d_h,
                "head_settled_deg": rest_end.tolist(),
            }
        )
        head_final = rest_end
        g_prev = tgt
        t += dur + hold
    total_s = t + 0.1
    rate = fps * _OVERSAMPLE
    n = int(np.ceil(total_s * fps)) * _OVERSAMPLE
    ts = (np.arange(n) + 0.5) / rate
    head = np.zeros((n, 2))
    for s, d, a in comps:
        head += _min_jerk((ts - s) / d)[:, None] * a[None, :]
    if idle and p.idle_speed_deg_s > 0:
        head += _smooth_noise(rng, n, rate, p.idle_speed_deg_s)
    head = np.clip(head, -NECK_LIMIT_DEG, NECK_LIMIT_DEG)
    # gaze plan: minimum-jerk shifts between fixations
    gaze = np.zeros((n, 2))
    g0 = np.zeros(2)
    for sh in shifts:
        m = ts >= sh["onset_s"]
        to = np.array(sh["to_deg"])
        gaze[m] = g0 + (to - g0) * _min_jerk((ts[m] - sh["onset_s"]) / sh["duration_s"])[:, None]
        g0 = to
    head3 = np.concatenate([head, np.zeros((n, 1))], 1) * D2R
    eye = eye_from_gaze_head(gaze * D2R, head3)
    lim = p.eye_range_deg * D2R
    eye = np.clip(eye, -lim, lim)  # beyond its range the eye holds; gaze waits for the head
    gaze_r = gaze_from_head_eye(head3, eye)

    def down(x: np.ndarray) -> np.ndarray:
        return x.reshape(-1, _OVERSAMPLE, x.shape[1]).mean(axis=1)

    # |yaw| < 150 + 55 deg can exceed pi: unwrap before averaging sub-frames, wrap after
    gaze_r[:, 1] = np.unwrap(gaze_r[:, 1])
    g_out = down(gaze_r)
    g_out[:, 1] = (g_out[:, 1] + np.pi) % (2 * np.pi) - np.pi
    return Simulation(gaze=g_out, head=down(head3), eye=down(eye), fps=float(fps), shifts=shifts)


def person_clip(
    clip_id: str,
    person: Person,
    duration_s: float,
    *,
    fps: float = 30.0,
    seed: int = 0,
    split: str = "train",
) -> Clip:
    """A clip of ``person`` making random gaze shifts for about ``duration_s``."""
    rng = np.random.default_rng(seed)
    targets, holds = random_targets(rng, duration_s, person)
    sim = simulate(person, targets, holds, fps=fps, rng=rng)
    style = estimate_style(sim.gaze, sim.head, fps, allow_missing=True)
    return Clip(
        id=clip_id,
        gaze=sim.gaze,
        head=sim.head,
        valid=np.ones(len(sim.gaze), bool),
        fps=fps,
        source="synthetic",
        subject=clip_id,
        split=split,
        extra={
            "kind": "synthetic",
            "domain": "synthetic",
            "style": [float(v) if np.isfinite(v) else None for v in style],
            "person": asdict(person),
            "seed": int(seed),
            "shifts": len(sim.shifts),
        },
    )


_SPLIT_KEY = {s: i for i, s in enumerate(SPLITS)}


def synthetic_clips(
    split: str, minutes: float, *, seed: int = 0, fps: float = 30.0, clip_s: float = 60.0
) -> list[Clip]:
    """``minutes`` of synthetic clips for ``split``, one new person per clip.

    Each split draws its own people from its own seed stream (``SeedSequence([seed,
    split])``), so no person of the test split occurs in training.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not minutes > 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    n = max(1, int(round(minutes * 60.0 / clip_s)))
    ss = np.random.SeedSequence([int(seed), _SPLIT_KEY[split]])
    clips = []
    for i, child in enumerate(ss.spawn(n)):
        rng = np.random.default_rng(child)
        person = sample_person(rng)
        clip_seed = int(rng.integers(0, 2**31 - 1))
        clips.append(
            person_clip(
                f"synthetic_{split}_{seed}_{i:04d}",
                person,
                clip_s,
                fps=fps,
                seed=clip_seed,
                split=split,
            )
        )
    return clips
