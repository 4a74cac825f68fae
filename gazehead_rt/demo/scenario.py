"""What the demo shows: the scripted gaze, the proportional baseline, and the simulated motion
of the model and the baseline (numbers only; drawing is in ``video`` and ``render``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..geometry import eye_from_gaze_head, look_at
from ..saccade import minimum_jerk, saccade_duration_s
from . import render

#: Proportional baseline: head = BASELINE_GAIN * gaze, low-passed with this time constant.
BASELINE_GAIN = 0.5
BASELINE_TAU_S = 0.15
#: Eye range drawn and flagged in the demo (docs/design.md §1: about +-45-55 deg).
EYE_RANGE_RAD = math.radians(50.0)
#: Distance from the eyes at which the target ball and the gaze point are drawn.
MARKER_DISTANCE_M = 0.33


# -- the scripted gaze ------------------------------------------------------------------------
@dataclass
class Script:
    """A gaze script sampled at the model rate: per frame the target point (B, metres) and
    the gaze (pitch, yaw) the eyes actually have (saccades take time, pursuit is smooth)."""

    fps: float
    t_s: np.ndarray  # (T,)
    target_xyz: np.ndarray  # (T, 3) target point in B, metres (pivot origin)
    gaze: np.ndarray  # (T, 2) radians
    phase: list[str]  # (T,) label of the part of the script
    phases: list[tuple[float, float, str]]  # (start_s, end_s, label)


def default_script(fps: float, duration_s: float | None = None) -> Script:
    """The demo's gaze sequence: fixate, five saccades (one of them small, where a head
    barely moves), 4 s of smooth pursuit on a Lissajous path, a look behind and back."""
    eye0 = render.EYE_MID_REST_M
    fixations = [  # (start_s, label, target point in B; metres, pivot origin)
        (0.0, "fixate ahead", (1.6, 0.0, 0.14)),
        # target direction (pitch, yaw) in deg, and the size of the gaze shift to it
        (1.0, "saccades", (1.3, 0.65, 0.40)),  # (11, 28) up-left: a 30 deg shift
        (2.0, "saccades", (1.2, -0.9, 0.05)),  # (-4, -39) right: 68 deg
        (3.0, "saccades", (1.3, -0.62, 0.20)),  # (3, -27): 13 deg, the head should stay
        (4.0, "saccades", (0.7, 1.25, 0.14)),  # (0, 64) far left: 91 deg
        (5.0, "saccades", (1.5, 0.0, -0.25)),  # (-15, 0) ahead and down: 66 deg
    ]
    pursuit_start_s, pursuit_end_s = 6.0, 10.0
    later = [
        (pursuit_end_s, "look behind", (-1.3, -0.7, 0.35)),  # (8, -153) behind-right
        (12.0, "back to front", (1.6, 0.1, 0.14)),  # (0, 4)
    ]
    end_s = 13.5
    if duration_s is not None:
        end_s = min(end_s, float(duration_s))
    T = int(round(end_s * fps))
    t = np.arange(T) / fps

    def pursuit_target(ts: float) -> np.ndarray:
        u = ts - pursuit_start_s
        # 0.2 Hz in yaw (+-33 deg), 0.4 Hz in pitch: peak ~40 deg/s, within human pursuit
        return np.array(
            [
                1.4,
                0.9 * math.sin(2 * math.pi * 0.2 * u),
                0.14 + 0.3 * math.sin(2 * math.pi * 0.4 * u),
            ]
        )

    targets = np.empty((T, 3))
    phase = []
    sched = fixations + [(pursuit_start_s, "smooth pursuit", None)] + later
    for i, ts in enumerate(t):
        k = max(j for j, s in enumerate(sched) if s[0] <= ts + 1e-9)
        _, label, pt = sched[k]
        targets[i] = pursuit_target(ts) if pt is None else pt
        phase.append(label)
    target_dir = look_at(targets, eye0)

    # Gaze: fixations reached by minimum-jerk saccades; pursuit follows the target smoothly.
    gaze = target_dir.copy()
    jumps = [
        i
        for i in range(1, T)
        if phase[i] != "smooth pursuit" and np.any(targets[i] != targets[i - 1])
    ]
    for i in jumps:
        g0, g1 = gaze[i - 1].copy(), target_dir[i]
        # yaw is not wrapped: a gaze shift sweeps through the front, never through the
        # back of the body (eyes + neck reach about +-130 deg, the back is out of reach)
        delta = g1 - g0
        n = max(1, int(math.ceil(saccade_duration_s(float(np.hypot(*delta))) * fps)))
        for j in range(min(n, T - i)):
            gaze[i + j] = g0 + minimum_jerk((j + 1) / n) * delta
    segments, start = [], 0
    for i in range(1, T + 1):
        if i == T or phase[i] != phase[start]:
            segments.append((start / fps, i / fps, phase[start]))
            start = i
    return Script(fps, t, targets, gaze, phase, segments)


# -- the baseline ---------------------------------------------------------------------------
class ProportionalBaseline:
    """What games do today: head (pitch, yaw) = ``gain`` * gaze, first-order low-passed with
    time constant ``tau_s``, roll 0. Stepped at ``fps`` like the model."""

    def __init__(
        self,
        fps: float,
        gain: float = BASELINE_GAIN,
        tau_s: float = BASELINE_TAU_S,
        num_agents: int = 1,
    ):
        self.gain = gain
        self.alpha = 1.0 - math.exp(-1.0 / (fps * tau_s))  # exact discretization
        self._head = np.zeros((num_agents, 3))
        self._started = False

    def step(self, gaze: np.ndarray) -> np.ndarray:
        """One model-rate frame: gaze (2,) or (N, 2) radians -> head (N, 3) float32. The
        first call starts at rest on its target (no swing in from zero)."""
        g = np.broadcast_to(np.asarray(gaze, dtype=np.float64), (len(self._head), 2))
        target = np.concatenate([self.gain * g, np.zeros((len(g), 1))], axis=1)
        if not self._started:
            self._head[:] = target
            self._started = True
        else:
            self._head += self.alpha * (target - self._head)
        return self._head.astype(np.float32)


# -- simulation -----------------------------------------------------------------------------
@dataclass
class Motion:
    """Per-frame head and eye of the model and the baseline for a :class:`Script`."""

    model_head: np.ndarray  # (T, 3)
    model_eye: np.ndarray  # (T, 2)
    base_head: np.ndarray  # (T, 3)
    base_eye: np.ndarray  # (T, 2)


def simulate(generator: Any, script: Script, other: Any = None) -> Motion:
    """Run ``generator`` (anything with ``step(gaze) -> (1, 3)``) and, on the right, ``other``
    (default: the proportional baseline)."""
    base = ProportionalBaseline(script.fps) if other is None else other
    mh, bh = [], []
    for g in script.gaze:
        mh.append(np.array(generator.step(g.astype(np.float32))[0], dtype=np.float64))
        bh.append(np.array(base.step(g)[0], dtype=np.float64))
    mh, bh = np.stack(mh), np.stack(bh)
    # eye = gaze seen from the head (docs/design.md §2); computed here for both, so they compare
    return Motion(mh, eye_from_gaze_head(script.gaze, mh), bh, eye_from_gaze_head(script.gaze, bh))


def shift_onsets(script: Script) -> list[int]:
    """Frames at which a new target appears (smooth pursuit excluded)."""
    return [
        i
        for i in range(1, len(script.t_s))
        if np.any(script.target_xyz[i] != script.target_xyz[i - 1])
        and script.phase[i] != "smooth pursuit"
    ]


def summarize(script: Script, motion: Motion) -> list[dict[str, float]]:
    """Per gaze shift of the script: its size, the head's share of it 0.9 s after onset, and
    the largest eye-in-head angle until the next shift, for the model and the baseline."""
    rows = []
    onsets = shift_onsets(script)
    for n, i in enumerate(onsets):
        j = min(i + int(round(0.9 * script.fps)), len(script.t_s) - 1)
        end = onsets[n + 1] if n + 1 < len(onsets) else len(script.t_s)
        shift = script.gaze[j] - script.gaze[i - 1]
        amp = float(np.hypot(*shift))
        row = {"t_s": float(script.t_s[i]), "shift_deg": math.degrees(amp)}
        for name, head, eye in (
            ("model", motion.model_head, motion.model_eye),
            ("baseline", motion.base_head, motion.base_eye),
        ):
            # head rotation along the gaze shift, as a fraction of it
            dh = head[j, :2] - head[i - 1, :2]
            row[f"{name}_head_share"] = float(dh @ shift) / max(amp * amp, 1e-12)
            row[f"{name}_max_eye_deg"] = float(np.degrees(np.abs(eye[i:end]).max()))
            row[f"{name}_end_eye_deg"] = float(np.degrees(np.hypot(*eye[end - 1])))
        rows.append(row)
    return rows


def _summary_lines(
    script: Script, motion: Motion, names: tuple[str, str] = ("model", "baseline")
) -> list[str]:
    a, b = names
    lines = [
        f"  gaze shift  at t   size   head share: {a:>10} {b:>10}   max |eye| deg: {a:>10} {b:>10}"
    ]
    for r in summarize(script, motion):
        lines.append(
            f"            {r['t_s']:5.2f} s {r['shift_deg']:5.0f} deg        "
            f"{r['model_head_share']:10.2f} {r['baseline_head_share']:10.2f}"
            f"                  {r['model_max_eye_deg']:10.0f} "
            f"{r['baseline_max_eye_deg']:10.0f}"
        )
    for name, eye in ((a, motion.model_eye), (b, motion.base_eye)):
        n = int(np.sum(np.any(np.abs(eye) > EYE_RANGE_RAD, axis=1)))
        lines.append(
            f"  {name}: eyes beyond +-{math.degrees(EYE_RANGE_RAD):.0f} deg in {n} of "
            f"{len(eye)} frames; eye range {np.degrees(np.abs(eye).max()):.0f} deg"
        )
    return lines
