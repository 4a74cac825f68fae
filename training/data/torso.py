"""Torso estimate for recordings that do not measure one (docs/design.md §3).

Standing or free-viewing recordings (EyeNavGS, SGaze) give the head in the world; the body
that carries the neck is not tracked. The model's condition includes the head on the torso
(docs/design.md §4), so such clips are expressed relative to an estimated torso: per frame,
the median head yaw of a centred window (10 s by default), the same convention as the
evaluation's windows (torso at the window's median head direction). Pitch is left as
recorded: the people stand upright, so the head's pitch in the world is its pitch on the
torso. A yaw offset is a rotation of the body frame about its vertical axis, so gaze and head
yaw shift by the same angle and every eye-in-head angle is unchanged.
"""

from __future__ import annotations

import numpy as np

from .dataset import Clip

__all__ = ["TORSO_KNOWN_DOMAINS", "torso_yaw", "recentre_torso"]

#: clip domains whose body frame is a real torso (synthetic fixed-torso shifts; video, whose
#: body frame faces the camera). Clips of other domains are re-centred.
TORSO_KNOWN_DOMAINS = ("synthetic", "procedural", "video")


def torso_yaw(head_yaw: np.ndarray, valid: np.ndarray, fps: float, window_s: float) -> np.ndarray:
    """(T,) torso yaw rad: the centred running median of the (unwrapped) valid head yaw."""
    y = np.unwrap(np.asarray(head_yaw, np.float64))
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return np.zeros_like(y)
    half = max(1, int(round(0.5 * window_s * fps)))
    out = np.empty_like(y)
    for t in range(len(y)):
        lo, hi = np.searchsorted(idx, [t - half, t + half + 1])
        out[t] = np.median(y[idx[lo:hi]]) if hi > lo else np.nan
    # frames far from any valid one take the nearest estimate
    bad = ~np.isfinite(out)
    if bad.any():
        good = np.flatnonzero(~bad)
        out[bad] = np.interp(np.flatnonzero(bad), good, out[good])
    return out


def recentre_torso(clip: Clip, window_s: float = 10.0) -> Clip:
    """A copy of ``clip`` with gaze and head yaw relative to its running torso estimate."""
    tor = torso_yaw(clip.head[:, 1], clip.valid, clip.fps, window_s)
    gaze = clip.gaze.astype(np.float64).copy()
    head = clip.head.astype(np.float64).copy()
    gaze[:, 1] = np.angle(np.exp(1j * (gaze[:, 1] - tor)))
    head[:, 1] = np.angle(np.exp(1j * (head[:, 1] - tor)))
    extra = dict(clip.extra, torso=f"running median head yaw, {window_s:g} s")
    return Clip(
        id=clip.id,
        gaze=gaze.astype(np.float32),
        head=head.astype(np.float32),
        valid=clip.valid.copy(),
        fps=clip.fps,
        source=clip.source,
        subject=clip.subject,
        split=clip.split,
        audio_features=clip.audio_features,
        extra=extra,
    )
