"""Evaluation metrics of docs/design.md §6, in numpy (plus a small torch classifier).

Inputs are time-major arrays in radians at ``fps``: gaze (T, 2) (pitch, yaw), head (T, 3)
(pitch, yaw, roll). Only pitch and yaw of the head are scored (SGaze has no roll). Results
carry their unit in the name (``_deg``, ``_s``, ``_deg_s``).
"""

from __future__ import annotations

import numpy as np

from gazehead_rt.geometry import eye_from_gaze_head

__all__ = [
    "mae_deg",
    "best_of_k_mae_deg",
    "pearson",
    "mean_abs_jerk_deg_s3",
    "jerk_ratio",
    "gaze_head_lag_s",
    "detect_gaze_shifts",
    "head_contribution_pairs",
    "head_contribution_curve",
    "curve_rmse",
    "diversity_deg",
    "eye_violations_per_1000",
    "speed_w1_deg_s",
    "make_windows",
    "classifier_two_sample_test",
    "eye_eccentricity_deg",
    "eye_beyond_pct",
    "eye_after_shift_deg",
    "shift_spread_deg",
    "CONTRIBUTION_BINS_DEG",
    "SHIFT_BINS_DEG",
]

R2D = 180.0 / np.pi
#: Gaze-shift amplitude bins of the head-contribution curve, degrees. The head is expected
#: to contribute little below ~20 deg and more above (docs/design.md §1).
CONTRIBUTION_BINS_DEG = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 90.0)
#: The yardstick's coarse amplitude bins (small shifts the eyes make alone, medium, large).
SHIFT_BINS_DEG = (5.0, 15.0, 40.0, 360.0)


def mae_deg(gen: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Mean absolute error of (pitch, yaw), degrees, shape (2,)."""
    return np.abs(gen[..., :2] - real[..., :2]).mean(axis=tuple(range(gen.ndim - 1))) * R2D


def best_of_k_mae_deg(samples: np.ndarray, real: np.ndarray, segment_frames: int) -> float:
    """samples (K, T, 3): per segment the lowest MAE (pitch+yaw mean) among K, averaged."""
    K, T = samples.shape[:2]
    out = []
    for a in range(0, T - segment_frames + 1, segment_frames):
        err = np.abs(
            samples[:, a : a + segment_frames, :2] - real[None, a : a + segment_frames, :2]
        )
        out.append(err.mean(axis=(1, 2)).min())
    return float(np.mean(out) * R2D)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0


def mean_abs_jerk_deg_s3(head: np.ndarray, fps: float) -> float:
    """Mean |d^3 head / dt^3| over pitch and yaw, deg/s^3 (third finite difference)."""
    j = np.diff(head[..., :2], n=3, axis=-2) * fps**3
    return float(np.abs(j).mean() * R2D)


def jerk_ratio(gen: np.ndarray, real: np.ndarray, fps: float) -> float:
    return mean_abs_jerk_deg_s3(gen, fps) / mean_abs_jerk_deg_s3(real, fps)


def gaze_head_lag_s(
    gaze: np.ndarray, head: np.ndarray, fps: float, max_lag_s: float = 1.0
) -> float:
    """Lag (s, positive = head after gaze) at the peak of the cross-correlation of gaze and
    head velocity, summed over pitch and yaw, refined by a parabola through the peak."""
    gv = np.diff(gaze[:, :2], axis=0)
    hv = np.diff(head[:, :2], axis=0)
    gv = gv - gv.mean(0)
    hv = hv - hv.mean(0)
    if not (np.abs(hv).max() > 1e-9 and np.abs(gv).max() > 1e-9):
        return float("nan")  # a still head (or gaze) has no lag
    n = len(gv)
    m = int(round(max_lag_s * fps))
    lags = np.arange(-m, m + 1)
    cc = np.empty(len(lags))
    for i, k in enumerate(lags):
        if k >= 0:
            cc[i] = (gv[: n - k] * hv[k:]).sum() / (n - k)
        else:
            cc[i] = (gv[-k:] * hv[: n + k]).sum() / (n + k)
    i = int(np.argmax(cc))
    frac = 0.0
    if 0 < i < len(cc) - 1:
        y0, y1, y2 = cc[i - 1], cc[i], cc[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            frac = 0.5 * (y0 - y2) / den
    return float((lags[i] + frac) / fps)


def detect_gaze_shifts(
    gaze: np.ndarray, fps: float, threshold_deg_s: float = 60.0
) -> list[tuple[int, int]]:
    """(start, end) frame pairs of gaze shifts: runs of frames whose gaze speed exceeds the
    threshold; gaze[start] is the last frame before the shift, gaze[end] the first after."""
    v = np.hypot(*np.diff(gaze[:, :2], axis=0).T) * fps * R2D
    fast = v > threshold_deg_s
    out = []
    i = 0
    while i < len(fast):
        if fast[i]:
            j = i
            while j + 1 < len(fast) and fast[j + 1]:
                j += 1
            out.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return out


def head_contribution_pairs(
    gaze: np.ndarray,
    head: np.ndarray,
    fps: float,
    min_amp_deg: float = CONTRIBUTION_BINS_DEG[0],
    window_s: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """(amplitude deg, head share) of every gaze shift: head displacement along the shift
    direction from its start to ``window_s`` later (or the next shift), over the gaze
    amplitude."""
    shifts = detect_gaze_shifts(gaze, fps)
    w = int(round(window_s * fps))
    amps, shares = [], []
    for n, (a, b) in enumerate(shifts):
        nxt = shifts[n + 1][0] if n + 1 < len(shifts) else len(gaze) - 1
        e = min(a + w, nxt, len(gaze) - 1)
        if e <= b:
            continue
        dg = gaze[b, :2] - gaze[a, :2]
        A = float(np.hypot(*dg))
        if A * R2D < min_amp_deg:
            continue
        dh = head[e, :2] - head[a, :2]
        amps.append(A * R2D)
        shares.append(float(dh @ dg) / (A * A))
    return np.array(amps), np.array(shares)


def head_contribution_curve(
    gaze: np.ndarray | None,
    head: np.ndarray | None,
    fps: float,
    bins_deg=CONTRIBUTION_BINS_DEG,
    window_s: float = 0.5,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean head share per gaze-amplitude bin (NaN if empty) and the count per bin, from a
    sequence or from pooled :func:`head_contribution_pairs`."""
    amps, shares = (
        pairs
        if pairs is not None
        else head_contribution_pairs(gaze, head, fps, bins_deg[0], window_s)
    )
    nb = len(bins_deg) - 1
    mean, count = np.full(nb, np.nan), np.zeros(nb, int)
    for k in range(nb):
        m = (amps >= bins_deg[k]) & (amps < bins_deg[k + 1])
        count[k] = m.sum()
        if count[k]:
            mean[k] = shares[m].mean()
    return mean, count


def curve_rmse(
    curve: np.ndarray, ref: np.ndarray, ref_count: np.ndarray, min_count: int = 5
) -> float:
    """RMSE between two contribution curves over bins where the reference has data."""
    m = (ref_count >= min_count) & np.isfinite(ref) & np.isfinite(curve)
    return float(np.sqrt(np.mean((curve[m] - ref[m]) ** 2))) if m.any() else float("nan")


def diversity_deg(samples: np.ndarray) -> float:
    """Mean pairwise (pitch, yaw) distance between K samples (K, T, 3), degrees."""
    K = samples.shape[0]
    if K < 2:
        return 0.0
    d = [
        np.hypot(*(samples[i, :, :2] - samples[j, :, :2]).T).mean()
        for i in range(K)
        for j in range(i + 1, K)
    ]
    return float(np.mean(d) * R2D)


def eye_violations_per_1000(eye: np.ndarray, limit_deg: float = 50.0) -> float:
    """Frames whose eye-in-head pitch or yaw is beyond +-limit, per 1,000 frames."""
    bad = np.any(np.abs(eye[..., :2]) * R2D > limit_deg, axis=-1)
    return float(bad.mean() * 1000.0)


def speed_w1_deg_s(gen: np.ndarray, real: np.ndarray, fps: float) -> float:
    """1-D Wasserstein distance between head angular-speed distributions, deg/s."""
    sg = np.sort(np.hypot(*np.diff(gen[..., :2], axis=-2).reshape(-1, 2).T) * fps * R2D)
    sr = np.sort(np.hypot(*np.diff(real[..., :2], axis=-2).reshape(-1, 2).T) * fps * R2D)
    q = np.linspace(0, 1, 1001)[1:-1]
    return float(np.abs(np.quantile(sg, q) - np.quantile(sr, q)).mean())


def make_windows(
    gaze: np.ndarray, head: np.ndarray, fps: float, frames: int, stride: int
) -> np.ndarray:
    """(n, frames, 6) windows of [gaze velocity (2), head velocity (2), eye offset (2)]
    in deg/s and deg: what an observer sees of (head | gaze), independent of where the body
    points. Eye offset uses gaze - head, enough for a classifier."""
    gv = np.diff(gaze[:, :2], axis=0) * fps
    hv = np.diff(head[:, :2], axis=0) * fps
    off = gaze[1:, :2] - head[1:, :2]
    f = np.concatenate([gv, hv, off], axis=1) * R2D
    starts = range(0, len(f) - frames + 1, stride)
    return (
        np.stack([f[s : s + frames] for s in starts])
        if len(f) >= frames
        else np.zeros((0, frames, 6))
    )


def classifier_two_sample_test(
    real: np.ndarray, gen: np.ndarray, seed: int = 0, steps: int = 400
) -> float:
    """Held-out accuracy of a small classifier telling real from generated windows.

    ``real`` and ``gen`` are (n, frames, C) windows taken at the same times (same gaze).
    Windows are split into train/test halves by *time block*, the same for both classes, so
    the classifier cannot win by recognising a gaze sequence it saw in training. 0.5 means
    indistinguishable. The classifier is a 1-D CNN (two conv layers over time, global
    average pool), trained with Adam on the first half; deterministic for a seed.
    """
    import torch
    from torch import nn

    n = min(len(real), len(gen))
    real, gen = real[:n], gen[:n]
    block = np.arange(n) // 8  # blocks of 8 consecutive windows
    is_test = block % 2 == 1
    mu = real[~is_test].reshape(-1, real.shape[-1]).mean(0)
    sd = real[~is_test].reshape(-1, real.shape[-1]).std(0) + 1e-6
    to_t = lambda a: torch.tensor(((a - mu) / sd).transpose(0, 2, 1), dtype=torch.float32)  # noqa: E731
    Xtr = torch.cat([to_t(real[~is_test]), to_t(gen[~is_test])])
    ytr = torch.cat([torch.ones((~is_test).sum()), torch.zeros((~is_test).sum())])
    Xte = torch.cat([to_t(real[is_test]), to_t(gen[is_test])])
    yte = torch.cat([torch.ones(is_test.sum()), torch.zeros(is_test.sum())])
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    C = real.shape[-1]
    net = nn.Sequential(
        nn.Conv1d(C, 32, 5, padding=2),
        nn.ReLU(),
        nn.Conv1d(32, 32, 5, padding=2, dilation=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(32, 1),
    )
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    for _ in range(steps):
        idx = torch.randint(len(Xtr), (min(256, len(Xtr)),), generator=g)
        loss = nn.functional.binary_cross_entropy_with_logits(net(Xtr[idx])[:, 0], ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = (net(Xte)[:, 0] > 0).float()
    return float((pred == yte).float().mean())


def eye_eccentricity_deg(eye: np.ndarray) -> np.ndarray:
    """Angle between the eye-in-head direction (..., 2) (pitch, yaw) and the head's forward
    axis, degrees: ``arccos(cos(pitch) cos(yaw))``."""
    c = np.cos(eye[..., 0]) * np.cos(eye[..., 1])
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def eye_beyond_pct(eye: np.ndarray, limit_deg: float = 50.0) -> float:
    """Percent of frames whose eye eccentricity (:func:`eye_eccentricity_deg`) exceeds
    ``limit_deg``."""
    return float(np.mean(eye_eccentricity_deg(eye) > limit_deg) * 100.0)


def eye_after_shift_deg(
    gaze: np.ndarray,
    head: np.ndarray,
    fps: float,
    delay_s: float = 1.0,
    min_amp_deg: float = SHIFT_BINS_DEG[0],
) -> np.ndarray:
    """Eye eccentricity (deg) ``delay_s`` after the end of each gaze shift of at least
    ``min_amp_deg`` that is not followed by another shift before then (the gaze held: how
    far the head has left the eye off-centre). One value per qualifying shift."""
    shifts = detect_gaze_shifts(gaze, fps)
    d = int(round(delay_s * fps))
    out = []
    for n, (a, b) in enumerate(shifts):
        e = b + d
        nxt = shifts[n + 1][0] if n + 1 < len(shifts) else len(gaze)
        if e >= len(gaze) or e > nxt:
            continue
        if np.hypot(*(gaze[b, :2] - gaze[a, :2])) * R2D < min_amp_deg:
            continue
        out.append(float(eye_eccentricity_deg(eye_from_gaze_head(gaze[e], head[e, :3]))))
    return np.array(out)


def shift_spread_deg(
    samples: np.ndarray, gaze: np.ndarray, fps: float, window_s: float = 1.0
) -> float:
    """Spread of K samples (K, T, 3) around gaze shifts: over the frames within ``window_s``
    after each shift's start, the RMS distance (pitch, yaw) of the samples from their mean,
    degrees, averaged. NaN with fewer than 2 samples or no shift."""
    if samples.shape[0] < 2:
        return float("nan")
    w = int(round(window_s * fps))
    T = samples.shape[1]
    sel = np.zeros(T, bool)
    for a, _ in detect_gaze_shifts(gaze, fps):
        sel[a : min(a + w, T)] = True
    if not sel.any():
        return float("nan")
    x = samples[:, sel, :2]
    var = ((x - x.mean(0, keepdims=True)) ** 2).sum(-1).mean(0)  # (frames,)
    return float(np.sqrt(var).mean() * R2D)
