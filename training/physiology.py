"""Physiology check of a head-motion policy: held gaze steps with a fixed torso.

The recordings this project can train on rarely hold a large gaze shift with the torso still,
yet that is what a character or a robot neck is asked to do most visibly. This module drives
any policy (the model, or a baseline) with the classic laboratory protocol -- eyes and head
centred, then a gaze step of amplitude A held for several seconds -- and measures what the
eye-head literature reports for it (docs/design.md §6):

* head share of the shift at 0.5 s, 1 s and settled (mean over 5-6 s after the step);
* eye-in-head eccentricity 1 s after the step and settled (the eye re-centres while the head
  keeps turning: Bizzi 1971/72; Guitton & Volle, J Neurophysiol 58:427, 1987);
* head latency (first frame at which the head has moved 1 deg toward the target);
* peak head velocity (grows with amplitude: Guitton & Volle 1987; Freedman, Exp Brain Res
  190:369, 2008);
* drift-back: how far a held head turns back between 2 s and 6 s after the step (people do
  not turn back while the target is held);
* spread across samples: standard deviation of the head yaw 0.5 s after the step over the
  K samples (timing and amplitude differ between real shifts).

Reference bands (:data:`BANDS`) are deliberately coarse and name their source; they are held
against the settled behaviour, where the literature agrees, rather than against one lab's
numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gazehead_rt.geometry import eye_from_gaze_head

__all__ = [
    "AMPLITUDES_DEG",
    "BANDS",
    "StepProtocol",
    "step_gaze",
    "step_response",
    "physiology_table",
    "plot_physiology",
]

R2D = 180.0 / math.pi
D2R = math.pi / 180.0
AMPLITUDES_DEG = (10.0, 20.0, 30.0, 45.0, 60.0, 75.0, 90.0)

#: Literature bands, per amplitude A (deg): (low, high) or None where no figure applies.
BANDS = {
    # the head takes ~no part below ~20 deg and a share growing roughly linearly over
    # 25-90 deg while the eye's part saturates (Freedman & Sparks, J Neurophysiol 77:2328,
    # 1997); with the eyes settling within ~10-20 deg of centre after large shifts
    # (Guitton & Volle 1987), the settled share is at least 1 - 20/A
    "settled_share": lambda A: (max(0.0, 1.0 - 20.0 / A) if A >= 30 else 0.0, 1.02),
    # eyes within ~10-15 deg of centre once a large shift is held (Guitton & Volle 1987)
    "settled_eye_deg": lambda A: (0.0, 20.0),
    # head after eye by ~20-40 ms in the lab, together or before in natural tasks
    # (PHYSIOLOGY: "When"); a real gaze->head lag of 40-70 ms was measured on held-out VR data
    "latency_ms": lambda A: (-50.0, 200.0) if A >= 20 else None,
    # large human head shifts reach a few hundred deg/s (Guitton & Volle 1987)
    "peak_head_vel_deg_s": lambda A: (0.8 * A, 8.0 * A) if A >= 30 else None,
}


@dataclass(frozen=True)
class StepProtocol:
    fps: float = 30.0
    pre_s: float = 2.0  # centred gaze before the step (the policy settles)
    hold_s: float = 6.0  # the step is held this long
    pitch_deg: float = 0.0  # the step's pitch (0: horizontal shifts)


def step_gaze(amplitude_deg: float, proto: StepProtocol) -> tuple[np.ndarray, int]:
    """Gaze (T, 2) rad: centred, then a yaw step of ``amplitude_deg``; returns (gaze, t0)."""
    t0 = int(round(proto.pre_s * proto.fps))
    T = t0 + int(round(proto.hold_s * proto.fps))
    g = np.zeros((T, 2))
    g[t0:, 0] = proto.pitch_deg * D2R
    g[t0:, 1] = amplitude_deg * D2R
    return g, t0


Policy = Callable[[np.ndarray], np.ndarray]  # gaze (T, 2) -> head samples (K, T, 3)


def step_response(
    policy: Policy, proto: StepProtocol = StepProtocol(), amplitudes_deg=AMPLITUDES_DEG
) -> dict:
    """Metrics of ``policy`` per amplitude (lists aligned with ``amplitudes``)."""
    fps = proto.fps
    out: dict[str, list] = {
        k: []
        for k in (
            "share_0.5s",
            "share_1s",
            "share_settled",
            "eye_1s_deg",
            "eye_settled_deg",
            "latency_ms",
            "peak_head_vel_deg_s",
            "drift_back_deg",
            "spread_0.5s_deg",
            "max_eye_deg",
        )
    }
    for A in amplitudes_deg:
        g, t0 = step_gaze(A, proto)
        heads = np.asarray(policy(g), np.float64)  # (K, T, 3)
        yaw = heads[:, :, 1] * R2D
        yaw_rel = yaw - yaw[:, t0 - 1 : t0]
        i05, i1 = t0 + int(0.5 * fps), t0 + int(1.0 * fps)
        i2 = t0 + int(2.0 * fps)
        set_a, set_b = t0 + int((proto.hold_s - 1.0) * fps), len(g)
        eye = np.stack([eye_from_gaze_head(g, h) for h in heads]) * R2D  # unclamped
        ecc = np.hypot(eye[..., 0], eye[..., 1])
        out["share_0.5s"].append(float(np.mean(yaw_rel[:, i05]) / A))
        out["share_1s"].append(float(np.mean(yaw_rel[:, i1]) / A))
        out["share_settled"].append(float(np.mean(yaw_rel[:, set_a:set_b]) / A))
        out["eye_1s_deg"].append(float(np.mean(ecc[:, i1])))
        out["eye_settled_deg"].append(float(np.mean(ecc[:, set_a:set_b])))
        out["max_eye_deg"].append(float(ecc[:, t0 + int(0.5 * fps) :].max()))
        lat = []
        for k in range(len(heads)):
            moved = np.nonzero(yaw_rel[k, t0:] >= 1.0)[0]
            lat.append(moved[0] / fps * 1000.0 if len(moved) else np.nan)
        # the head may start before the gaze step reaches it in a causal policy only at t0
        out["latency_ms"].append(
            float(np.nanmean(lat)) if np.any(np.isfinite(lat)) else float("nan")
        )
        vel = np.abs(np.diff(yaw[:, t0 - 1 :], axis=1)) * fps
        out["peak_head_vel_deg_s"].append(float(np.mean(vel.max(1))))
        out["drift_back_deg"].append(float(np.mean(yaw_rel[:, i2] - yaw_rel[:, -1])))
        out["spread_0.5s_deg"].append(float(np.std(yaw_rel[:, i05])))
    out["amplitudes_deg"] = [float(a) for a in amplitudes_deg]
    out["k"] = int(heads.shape[0])
    return out


def _in_band(key: str, A: float, v: float) -> bool | None:
    f = BANDS.get(key)
    b = f(A) if f else None
    if b is None or not np.isfinite(v):
        return None
    return b[0] <= v <= b[1]


def physiology_table(results: dict[str, dict]) -> str:
    """Markdown: one row per policy and amplitude; a trailing * marks a value outside its band."""
    cols = [
        ("share_0.5s", "share 0.5 s", "{:.2f}", None),
        ("share_1s", "share 1 s", "{:.2f}", None),
        ("share_settled", "share settled", "{:.2f}", "settled_share"),
        ("eye_1s_deg", "|eye| 1 s °", "{:.1f}", None),
        ("eye_settled_deg", "|eye| settled °", "{:.1f}", "settled_eye_deg"),
        ("latency_ms", "head latency ms", "{:.0f}", "latency_ms"),
        ("peak_head_vel_deg_s", "peak head vel °/s", "{:.0f}", "peak_head_vel_deg_s"),
        ("drift_back_deg", "drift-back °", "{:.1f}", None),
        ("spread_0.5s_deg", "spread 0.5 s °", "{:.2f}", None),
    ]
    lines = [
        "| policy | A ° | " + " | ".join(c[1] for c in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for name, r in results.items():
        for i, A in enumerate(r["amplitudes_deg"]):
            cells = []
            for key, _, fmt, band in cols:
                v = r[key][i]
                s = "–" if v is None or not np.isfinite(v) else fmt.format(v)
                if band and _in_band(band, A, v) is False:
                    s += "*"
                cells.append(s)
            lines.append(f"| {name} | {A:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n(* outside the literature band of training/physiology.py)\n"


def plot_physiology(results: dict[str, dict], path: str) -> str:
    """Head share (0.5 s, 1 s, settled), settled eye, latency and peak head velocity versus
    amplitude for every policy, with the literature bands shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 3, figsize=(13, 7))
    A = np.array(next(iter(results.values()))["amplitudes_deg"])
    Af = np.linspace(A.min(), A.max(), 100)

    def band(ax, key):
        lo = np.array([np.nan if BANDS[key](a) is None else BANDS[key](a)[0] for a in Af])
        hi = np.array([np.nan if BANDS[key](a) is None else BANDS[key](a)[1] for a in Af])
        ax.fill_between(Af, lo, hi, color="0.85", label="literature band")

    panels = [
        ("share_0.5s", "head share at 0.5 s", None),
        ("share_1s", "head share at 1 s", None),
        ("share_settled", "head share settled (5-6 s)", "settled_share"),
        ("eye_settled_deg", "|eye-in-head| settled (deg)", "settled_eye_deg"),
        ("latency_ms", "head latency (ms)", "latency_ms"),
        ("peak_head_vel_deg_s", "peak head velocity (deg/s)", "peak_head_vel_deg_s"),
    ]
    for ax, (key, title, bkey) in zip(axs.ravel(), panels):
        if bkey:
            band(ax, bkey)
        for name, r in results.items():
            ax.plot(r["amplitudes_deg"], r[key], "-o", ms=3, label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("gaze step amplitude (deg)")
        ax.grid(alpha=0.3)
    axs[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
