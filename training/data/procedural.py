"""A procedural physiological eye-head model: random saccadic gaze and the head that follows.

Used three ways: as the *procedural baseline* of docs/design.md §6 (:class:`ProceduralHead`
turns any gaze stream into head motion, causally, frame by frame), to make synthetic clips for tests
and optional augmentation (:func:`generate_clip`), and as the random saccadic gaze driving
the one-hour stability rollout (:func:`saccadic_gaze`).

The rules and their sources (numbers in degrees and seconds):

* Saccade main sequence: duration D = 21 ms + 2.2 ms/deg * A (Carpenter, *Movements of the
  Eyes*, 1988; Baloh et al., Neurology 25, 1975). Gaze moves with a minimum-jerk profile,
  whose peak velocity 1.875 A / D gives ~400-500 deg/s at 20-40 deg, in line with the
  saturating main sequence of Baloh et al.
* Fixation durations: log-normal with a median of ~300 ms (Rayner, Psychol. Bull. 124, 1998
  reports 200-350 ms means in scene viewing; gaze shifts with head movements are slower).
* Head contribution: the head barely moves for gaze shifts below ~15-20 deg and takes a
  growing share above, with a slope of ~0.6-0.8 deg/deg (Freedman & Sparks, J Neurophysiol
  77, 1997; Stahl, Exp Brain Res 126, 1999: head amplitude ~ slope * (A - eye-only range)).
  Vertical shifts recruit the head less (Freedman & Sparks 1997; we scale pitch by 0.6).
* Head latency: the head starts 20-200 ms after the eyes (Zangemeister & Stark, Exp Neurol
  75, 1982 "gaze types"; docs/design.md §1); we draw a per-subject mean in 40-140 ms.
* Head movement duration grows with amplitude, ~150 ms + 7 ms/deg (Zangemeister, Jones &
  Stark, Exp Neurol 71, 1981: head main sequence), with a minimum-jerk profile (Flash &
  Hogan, J Neurosci 5, 1985); overlapping movements superpose (Flash & Henis, J Cogn
  Neurosci 3, 1991).
* VOR during fixation: gaze stays on target while the head moves, so eye = gaze (-) head
  counter-rotates; this is implicit because gaze is generated first and eye is derived.
* Eye-in-head range: the oculomotor range is about +-45-55 deg (Guitton & Volle, J
  Neurophysiol 58, 1987); the head always moves enough to keep the eye within
  ``eye_max_deg`` = 40 deg.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .dataset import Clip

__all__ = [
    "ProceduralParams",
    "ProceduralHead",
    "saccadic_gaze",
    "head_from_gaze",
    "generate_clip",
    "random_params",
    "min_jerk",
]

D2R = np.pi / 180.0


def min_jerk(u: np.ndarray | float) -> np.ndarray:
    """Minimum-jerk position profile on u in [0, 1] (clipped outside): 10u^3-15u^4+6u^5."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


@dataclass(frozen=True)
class ProceduralParams:
    # gaze
    fixation_median_s: float = 0.30
    fixation_sigma: float = 0.55  # log-normal shape; gives a long tail of 1-2 s fixations
    shift_mean_deg: float = 15.0  # exponential amplitude distribution, mean
    yaw_range_deg: float = 70.0  # targets stay within this gaze yaw range in the body frame
    pitch_range_deg: float = 30.0
    saccade_d0_s: float = 0.021
    saccade_d1_s_per_deg: float = 0.0022
    fixation_jitter_deg: float = 0.15  # fixational eye movements and tracker noise
    # head
    head_threshold_deg: float = 15.0  # eye-only range: shifts below move the head little
    head_slope: float = 0.65
    pitch_factor: float = 0.6
    head_latency_s: float = 0.08
    head_d0_s: float = 0.15
    head_d1_s_per_deg: float = 0.007
    eye_max_deg: float = 40.0
    saccade_velocity_deg_s: float = 60.0  # detection threshold on the gaze stream
    recheck_s: float = 0.5  # re-plan during slow gaze drifts (pursuit, body turns) ...
    drift_replan_deg: float = 3.0  # ... once gaze has drifted this far since the last plan


def random_params(rng: np.random.Generator) -> ProceduralParams:
    """Per-subject variation within the ranges reported in the literature above."""
    return replace(
        ProceduralParams(),
        fixation_median_s=rng.uniform(0.22, 0.4),
        shift_mean_deg=rng.uniform(10.0, 20.0),
        head_threshold_deg=rng.uniform(8.0, 20.0),
        head_slope=rng.uniform(0.5, 0.85),
        pitch_factor=rng.uniform(0.4, 0.8),
        head_latency_s=rng.uniform(0.04, 0.14),
        head_d1_s_per_deg=rng.uniform(0.005, 0.009),
    )


def saccadic_gaze(
    duration_s: float,
    fps: float,
    rng: np.random.Generator,
    params: ProceduralParams = ProceduralParams(),
) -> np.ndarray:
    """Random fixations and main-sequence saccades in the body frame; (T, 2) rad."""
    p = params
    T = int(round(duration_s * fps))
    t = np.arange(T) / fps
    gaze = np.zeros((T, 2))
    cur = np.zeros(2)  # deg (pitch, yaw)
    # Where the head will settle (the rule of ProceduralHead._plan): targets are kept within
    # eye_max_deg of it, as people do not look further than their eyes can reach before the
    # head arrives (Guitton & Volle 1987).
    head = np.zeros(2)
    t0 = 0.0
    gaze[:] = cur
    while t0 < duration_s:
        t0 += p.fixation_median_s * np.exp(p.fixation_sigma * rng.standard_normal())
        amp = min(rng.exponential(p.shift_mean_deg), 90.0)
        ang = rng.uniform(0, 2 * np.pi)
        # horizontal shifts dominate natural scene viewing
        step = amp * np.array([0.5 * np.sin(ang), np.cos(ang)])
        tgt = cur + step
        # reflect into the allowed range so targets stay reachable
        lim = np.array([p.pitch_range_deg, p.yaw_range_deg])
        tgt = np.where(np.abs(tgt) > lim, np.sign(tgt) * (2 * lim - np.abs(tgt)), tgt)
        tgt = np.clip(tgt, -lim, lim)
        tgt = np.clip(tgt, head - p.eye_max_deg, head + p.eye_max_deg)
        e = tgt - head
        Ae = float(np.hypot(e[0], e[1]))
        if Ae > 1e-6:
            head = head + e * p.head_slope * max(0.0, Ae - p.head_threshold_deg) / Ae * np.array(
                [p.pitch_factor, 1.0]
            )
        A = float(np.linalg.norm(tgt - cur))
        D = p.saccade_d0_s + p.saccade_d1_s_per_deg * A
        m = t >= t0
        gaze[m] = cur + (tgt - cur) * min_jerk((t[m] - t0) / D)[:, None]
        cur = tgt
        t0 += D
    gaze += rng.normal(0.0, p.fixation_jitter_deg, gaze.shape)
    return gaze * D2R


class ProceduralHead:
    """Causal gaze -> head controller (the procedural baseline), one frame at a time.

    Gaze shifts are detected on the incoming gaze by a velocity threshold. When a shift ends
    (or every ``recheck_s`` during fixation) the controller plans a head movement toward the
    gaze: amplitude = slope * (eye offset - threshold), scaled down for pitch, enlarged when
    the eye would otherwise leave its range. Movements start ``head_latency_s`` after the
    shift began and superpose as minimum-jerk components. Angles handled per axis (pitch,
    yaw), which is accurate to a few percent within +-40 deg of pitch.
    """

    def __init__(self, fps: float, params: ProceduralParams = ProceduralParams()):
        self.fps = float(fps)
        self.p = params
        self.reset()

    def reset(self, head_rad: np.ndarray | None = None) -> None:
        self.t_s = 0.0
        self.base = np.zeros(2) if head_rad is None else np.degrees(head_rad[:2])
        self.final = self.base.copy()  # where the planned movements will leave the head
        self.comps: list[tuple[float, float, np.ndarray]] = []  # (start_s, duration_s, amp)
        self.prev_gaze: np.ndarray | None = None
        self.onset_s: float | None = None
        self.last_plan_s = -1e9
        self.last_plan_gaze = np.zeros(2)

    def _plan(self, gaze_deg: np.ndarray, onset_s: float) -> None:
        p = self.p
        e = gaze_deg - self.final
        A = float(np.hypot(e[0], e[1]))
        self.last_plan_gaze = gaze_deg
        if A < 1e-6:
            return
        share = p.head_slope * max(0.0, A - p.head_threshold_deg) / A
        h = e * share * np.array([p.pitch_factor, 1.0])
        over = np.abs(e - h) - p.eye_max_deg  # keep the eye inside its range
        h = np.where(over > 0, h + np.sign(e) * over, h)
        Ah = float(np.hypot(h[0], h[1]))
        if Ah < 0.5:  # below ~0.5 deg the head does not bother
            return
        start = max(onset_s + p.head_latency_s, self.t_s)
        self.comps.append((start, p.head_d0_s + p.head_d1_s_per_deg * Ah, h))
        self.final = self.final + h
        self.last_plan_s = self.t_s
        self.last_plan_gaze = gaze_deg

    def step(self, gaze_rad: np.ndarray) -> np.ndarray:
        """gaze (2,) rad -> head (3,) rad (roll 0) at this frame; advances one frame."""
        p = self.p
        g = np.degrees(np.asarray(gaze_rad, dtype=np.float64)[:2])
        if self.prev_gaze is not None:
            v = float(np.hypot(*(g - self.prev_gaze))) * self.fps
            if v > p.saccade_velocity_deg_s:
                if self.onset_s is None:
                    self.onset_s = self.t_s - 1.0 / self.fps
            elif self.onset_s is not None:
                self._plan(g, self.onset_s)
                self.onset_s = None
            elif (
                self.t_s - self.last_plan_s > p.recheck_s
                and np.hypot(*(g - self.last_plan_gaze)) > p.drift_replan_deg
            ):
                self._plan(g, self.t_s)
        self.prev_gaze = g
        head = self.base.copy()
        keep = []
        for s, d, h in self.comps:
            u = (self.t_s - s) / d
            if u >= 1.0:
                self.base = self.base + h
                head += h
            else:
                head += h * float(min_jerk(u))
                keep.append((s, d, h))
        self.comps = keep
        self.t_s += 1.0 / self.fps
        return np.array([head[0] * D2R, head[1] * D2R, 0.0])


def head_from_gaze(
    gaze_rad: np.ndarray, fps: float, params: ProceduralParams = ProceduralParams()
) -> np.ndarray:
    """Run :class:`ProceduralHead` over a whole gaze sequence (T, 2) -> head (T, 3)."""
    c = ProceduralHead(fps, params)
    return np.stack([c.step(g) for g in gaze_rad])


def generate_clip(
    clip_id: str,
    duration_s: float,
    fps: float = 30.0,
    seed: int = 0,
    split: str = "train",
    params: ProceduralParams | None = None,
) -> Clip:
    """A synthetic clip with per-subject random parameters (unless given)."""
    rng = np.random.default_rng(seed)
    p = params or random_params(rng)
    gaze = saccadic_gaze(duration_s, fps, rng, p)
    head = head_from_gaze(gaze, fps, p)
    return Clip(
        id=clip_id,
        gaze=gaze,
        head=head,
        valid=np.ones(len(gaze), bool),
        fps=fps,
        source="procedural",
        subject=f"procedural_{seed}",
        split=split,
        extra={"params": p.__dict__},
    )
