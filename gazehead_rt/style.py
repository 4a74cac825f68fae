"""Per-character motion style, estimated from a recording of gaze and head (numpy only).

A style is two numbers, ``(propensity, idle)`` (:data:`STYLE_NAMES`):

* **propensity** -- the head's share of gaze displacement over one second ("head movers"
  vs "eye movers", Fuller 1992; Stahl 1999). Over every 1-s window (hop 0.25 s) whose gaze
  displacement ``|dg|`` -- the angle between the gaze directions at the window's two ends --
  exceeds 10 deg, the head displacement is projected onto the direction of ``dg`` in
  (pitch, yaw) angle space (yaw differences wrapped to (-pi, pi]); propensity is the
  least-squares slope through the origin of that projection on ``|dg|``, i.e.
  ``sum(p_i * a_i) / sum(a_i ** 2)``, clipped to [-0.5, 1.5]. A head mover is ~0.8, an eye
  mover ~0.3. A slope through the origin is used because a share is a ratio: a free
  intercept would absorb the hinge of small shifts that the head ignores.
* **idle** -- how still the head is between gaze shifts: log10 of the median head angular
  speed (deg/s) over the *quiet* frames -- gaze speed below 30 deg/s, and no such gaze
  movement in the second before (the head's catch-up after a shift, while the eye
  counter-rotates, belongs to the shift, not to idling) -- floored at 0.1 deg/s (so
  idle >= -1). The median rather than the RMS keeps a rare late head movement from
  dominating it.

Speeds are frame-to-frame rotation angles times ``fps``: the angle between consecutive gaze
directions, and the angle of the relative rotation between consecutive head orientations
(roll included). Both numbers are invariant to a global yaw turn of gaze and head together.
"""

from __future__ import annotations

import numpy as np

from .geometry import angular_distance, head_rotation_matrix, wrap_angle

__all__ = ["STYLE_NAMES", "estimate_style", "PROPENSITY_RANGE", "IDLE_FLOOR_DEG_S"]

STYLE_NAMES = ("propensity", "idle")

WINDOW_S = 1.0
HOP_S = 0.25
MIN_SHIFT_DEG = 10.0
PROPENSITY_RANGE = (-0.5, 1.5)
FIXATION_SPEED_DEG_S = 30.0
QUIET_AFTER_S = 1.0
IDLE_FLOOR_DEG_S = 0.1

_R2D = 180.0 / np.pi


def _check(gaze: np.ndarray, head: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray, float]:
    try:
        fps_f = float(fps)
    except (TypeError, ValueError):
        raise TypeError(f"fps must be a number, got {type(fps).__name__}") from None
    if not (np.isfinite(fps_f) and fps_f > 0):
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    g = np.asarray(gaze, dtype=np.float64)
    h = np.asarray(head, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 2:
        raise ValueError(f"gaze must have shape (T, 2) (pitch, yaw) rad, got {g.shape}")
    if h.ndim != 2 or h.shape[1] not in (2, 3):
        raise ValueError(
            f"head must have shape (T, 3) (pitch, yaw, roll) rad or (T, 2), got {h.shape}"
        )
    if h.shape[0] != g.shape[0]:
        raise ValueError(
            f"head has {h.shape[0]} frames but gaze has {g.shape[0]}; they must be sampled together"
        )
    if not np.all(np.isfinite(g)):
        raise ValueError("gaze holds non-finite values (drop or fill those frames first)")
    if not np.all(np.isfinite(h)):
        raise ValueError("head holds non-finite values (drop or fill those frames first)")
    if h.shape[1] == 2:
        h = np.concatenate([h, np.zeros((h.shape[0], 1))], 1)
    n_win = int(round(WINDOW_S * fps_f))
    if g.shape[0] < n_win + 1:
        raise ValueError(
            f"gaze and head need at least {n_win + 1} frames (1 s at fps "
            f"{fps_f:g}) to estimate a style, got {g.shape[0]}"
        )
    return g, h, fps_f


def _head_speed_deg_s(head: np.ndarray, fps: float) -> np.ndarray:
    """(T-1,) angle of the rotation between consecutive head orientations, times fps."""
    R = head_rotation_matrix(head)
    # ||R1 - R2||_F = 2 sqrt(2) sin(theta / 2): accurate for the small per-frame angles
    # where arccos((trace(R1^T R2) - 1) / 2) loses half its digits.
    d = np.linalg.norm(R[1:] - R[:-1], axis=(-2, -1))
    theta = 2.0 * np.arcsin(np.clip(d / (2.0 * np.sqrt(2.0)), 0.0, 1.0))
    return theta * fps * _R2D


def _propensity(g: np.ndarray, h: np.ndarray, fps: float) -> float:
    n_win = int(round(WINDOW_S * fps))
    hop = max(1, int(round(HOP_S * fps)))
    a = np.arange(0, g.shape[0] - n_win, hop)
    b = a + n_win
    amp = angular_distance(g[a], g[b]) * _R2D
    keep = amp > MIN_SHIFT_DEG
    if not np.any(keep):
        return float("nan")
    a, b, amp = a[keep], b[keep], amp[keep]
    dg = g[b] - g[a]
    dg[:, 1] = wrap_angle(dg[:, 1])
    dh = h[b, :2] - h[a, :2]
    dh[:, 1] = wrap_angle(dh[:, 1])
    u = dg / np.linalg.norm(dg, axis=1, keepdims=True)
    proj = np.sum(dh * u, axis=1) * _R2D
    slope = float(np.sum(proj * amp) / np.sum(amp * amp))
    return float(np.clip(slope, *PROPENSITY_RANGE))


def _idle(g: np.ndarray, h: np.ndarray, fps: float) -> float:
    gaze_speed = angular_distance(g[:-1], g[1:]) * fps * _R2D
    moving = gaze_speed >= FIXATION_SPEED_DEG_S
    # frames with no gaze movement in the last QUIET_AFTER_S (a shift's head catch-up excluded)
    n = max(1, int(round(QUIET_AFTER_S * fps)))
    c = np.concatenate([[0], np.cumsum(moving)])
    idx = np.arange(len(moving))
    recent = c[idx + 1] - c[np.maximum(idx + 1 - n, 0)]
    quiet = recent == 0
    if not np.any(quiet):
        return float("nan")
    hs = _head_speed_deg_s(h, fps)[quiet]
    med = float(np.median(hs))
    return float(np.log10(max(med, IDLE_FLOOR_DEG_S)))


def estimate_style(
    gaze: np.ndarray, head: np.ndarray, fps: float, *, allow_missing: bool = False
) -> np.ndarray:
    """Style ``(propensity, idle)`` (2,) float64 of one recording (see the module doc).

    gaze: (T, 2) (pitch, yaw) rad; head: (T, 3) (pitch, yaw, roll) rad (or (T, 2), roll 0),
    sampled together at ``fps``; at least 1 s + 1 frame.

    A recording without any 1-s gaze displacement over 10 deg says nothing about
    propensity, and one without fixation frames nothing about idle: that raises a
    ``ValueError``, unless ``allow_missing`` is set, in which case the missing entry is NaN.
    """
    g, h, fps_f = _check(gaze, head, fps)
    style = np.array([_propensity(g, h, fps_f), _idle(g, h, fps_f)])
    if not allow_missing:
        if np.isnan(style[0]):
            raise ValueError(
                f"gaze: no 1-s window has a gaze displacement over "
                f"{MIN_SHIFT_DEG:g} deg, so the head's share (propensity) "
                "cannot be estimated; record some gaze shifts"
            )
        if np.isnan(style[1]):
            raise ValueError(
                f"gaze: no frame has a gaze speed below "
                f"{FIXATION_SPEED_DEG_S:g} deg/s for {QUIET_AFTER_S:g} s, so head "
                "stillness (idle) "
                "cannot be estimated"
            )
    return style
