"""Time-series clean-up: outliers, gap filling, zero-phase smoothing, tracks, resampling.

Every function here is plain numpy, works on one track at a time (time-major arrays) and
takes an explicit ``valid`` mask; none of them invents data beyond the documented gap limit.

Filters and their lag (offline extraction, so non-causal filters are allowed):

* outliers: Hampel filter (sliding median ± n·MAD); a spike of one or two frames is
  replaced by nothing (marked invalid, later filled if short) while a step (a saccade, a
  head turn) passes untouched, because half the window agrees with it;
* smoothing: Gaussian kernel, symmetric, so **zero lag** (no phase shift at any
  frequency: the 50 % point of a step stays where it was). Kernel σ in seconds;
  the -3 dB cut-off is ``sqrt(ln 2) / (2 π σ)`` = 0.1325 / σ Hz. Invalid samples get zero
  weight (normalised convolution), so a gap never drags values toward zero.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "hampel_outliers",
    "fill_short_gaps",
    "gaussian_smooth",
    "gaussian_cutoff_hz",
    "runs",
    "resample_linear",
]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a 1-D bool mask."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def hampel_outliers(
    x: np.ndarray, valid: np.ndarray, half_window: int, n_sigma: float, floor: float
) -> np.ndarray:
    """Outlier mask for (T,) ``x``: |x - local median| > max(n_sigma·1.4826·MAD, floor).

    Only valid samples take part. ``floor`` (same unit as x) keeps a quiet stretch with a
    tiny MAD from flagging ordinary landmark jitter.
    """
    x = np.asarray(x, dtype=np.float64)
    T = len(x)
    out = np.zeros(T, dtype=bool)
    idx = np.nonzero(valid)[0]
    if len(idx) < 3:
        return out
    xv = x[idx]
    for k, i in enumerate(idx):
        lo = np.searchsorted(idx, i - half_window)
        hi = np.searchsorted(idx, i + half_window, side="right")
        w = xv[lo:hi]
        med = np.median(w)
        mad = 1.4826 * np.median(np.abs(w - med))
        out[i] = abs(xv[k] - med) > max(n_sigma * mad, floor)
    return out


def fill_short_gaps(
    x: np.ndarray, valid: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate interior invalid runs of at most ``max_gap`` samples.

    Returns ``(x_filled (T, D), filled_mask (T,))``. Gaps at the ends, or longer than
    ``max_gap``, stay invalid: extrapolating would invent motion.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    valid = np.asarray(valid, bool)
    filled = np.zeros(len(valid), dtype=bool)
    for a, b in runs(~valid):
        if a == 0 or b == len(valid) or b - a > max_gap:
            continue
        w = (np.arange(a, b) - (a - 1)) / (b - (a - 1))
        x[a:b] = (
            x[a - 1] * (1 - w)[:, None] + x[b] * w[:, None]
            if x.ndim == 2
            else x[a - 1] * (1 - w) + x[b] * w
        )
        filled[a:b] = True
    return x, filled


def gaussian_cutoff_hz(sigma_s: float) -> float:
    """-3 dB (amplitude 1/√2) frequency of a Gaussian smoothing kernel of σ = sigma_s."""
    return float(np.sqrt(np.log(2.0)) / (2.0 * np.pi * sigma_s))


def gaussian_smooth(x: np.ndarray, valid: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing of (T, D) ``x`` over valid samples only.

    Normalised convolution: each output is the kernel-weighted mean of the valid inputs
    around it. Invalid outputs keep their input value (they are masked anyway).
    """
    x = np.asarray(x, dtype=np.float64)
    valid = np.asarray(valid, bool)
    if sigma_frames <= 0 or len(x) == 0:
        return x.copy()
    r = int(np.ceil(3.0 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    x2 = x.reshape(len(x), -1)
    xv = np.where(valid[:, None], x2, 0.0)
    num = np.stack([np.convolve(xv[:, j], k, mode="same") for j in range(x2.shape[1])], -1)
    den = np.convolve(valid.astype(np.float64), k, mode="same")[:, None]
    out = np.where(valid[:, None] & (den > 0), num / np.maximum(den, 1e-12), x2)
    return out.reshape(x.shape)


def resample_linear(
    t_src_s: np.ndarray, x: np.ndarray, valid: np.ndarray, fps_out: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample (T, D) ``x`` sampled at ``t_src_s`` onto a regular grid at ``fps_out``.

    The grid starts at the first source time and stays inside the source span. An output
    sample between two valid source samples is their linear interpolation. Next to a gap,
    an output sample is valid when its *nearer* source sample is valid, and takes that
    sample's value (a hold of at most half a source period, 20 ms at 25 fps): requiring
    both neighbours would widen every gap by up to a source period, which at 25 -> 30 fps
    throws away ~1 output frame per blink. Returns ``(t_out_s, x_out, valid_out)``.
    """
    t = np.asarray(t_src_s, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n_out = int(np.floor((t[-1] - t[0]) * fps_out + 1e-9)) + 1
    t_out = t[0] + np.arange(n_out) / fps_out
    j = np.clip(np.searchsorted(t, t_out, side="right") - 1, 0, len(t) - 1)
    j1 = np.minimum(j + 1, len(t) - 1)
    span = np.where(j1 > j, t[j1] - t[j], 1.0)
    w = np.clip((t_out - t[j]) / span, 0.0, 1.0)
    x2 = x.reshape(len(x), -1)
    both = valid[j] & valid[j1]
    nearest = np.where(w < 0.5, j, j1)
    w_eff = np.where(both, w, (nearest == j1).astype(np.float64))
    out = x2[j] * (1 - w_eff)[:, None] + x2[j1] * w_eff[:, None]
    v = both | valid[nearest]
    return t_out, out.reshape((n_out,) + x.shape[1:]), v
