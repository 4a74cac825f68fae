"""Importer for the SGaze recordings (``../shared/data/sgaze``, see its README).

Each file holds ~100 Hz rows of eye-in-head gaze (deg, +X right, +Y up) and head angular
velocity (deg/s, X = yaw to the right, Y = pitch up). The head's orientation and the torso
are not recorded, and no torso is invented here: the motion model v3 learns from inputs
that do not depend on one (eye-in-head, gaze velocity, head velocity), all invariant to a
global yaw turn. So each recording is cut into segments of ~20 s; within a segment the head
is integrated from the measured velocity, starting at 0 (the per-recording mean pitch
velocity, a bias of a few deg/s, removed first), and gaze = head (+) eye as rotations
(``gazehead_rt.geometry.gaze_from_head_eye``). Body turns during navigation make the head
yaw leave +-70 deg within a segment; that is fine for those inputs. Yaw (head and gaze) is
wrapped to [-pi, pi), so consumers wrap yaw differences. The 100 Hz series is box-filtered
over one model frame (what a camera integrates) and linearly resampled to the model rate.
Each clip's manifest ``extra`` holds ``kind: "sgaze"``, its ``style`` (``estimate_style``)
and the recording/segment it came from.

What SGaze cannot teach: the eye does not counter-rotate while the head turns
-----------------------------------------------------------------------------
In people the vestibulo-ocular reflex holds gaze on a target while the head moves: between
saccades, eye velocity ~ -head velocity (gain ~1). :func:`vor_diagnostics` measures this on
the raw 100 Hz rows of all 12 recordings (numbers: ``docs/data.md``):

* between saccades (eye speed < 100 deg/s, +-50 ms margin) with |head yaw velocity| >
  20 deg/s (3,150-5,220 samples per recording), the least-squares gain of horizontal eye
  velocity on head velocity is -0.12 to -0.31 at zero lag (a VOR gives -1);
* the correlation of eye velocity with -head velocity over lags -500..+500 ms peaks at
  only r = 0.22-0.45, with the head 0.26-0.50 s *after* the eye (at the edge of the range
  in 5 of 12 recordings); low-passing the eye velocity (first order, tau 50/100/200 ms)
  leaves it at r = 0.27-0.46;
* the best cancelling first-order low-pass (tau 0-400 ms) and delay (-1..+1 s) of the head
  velocity reaches a gain of only -0.24 to -0.48 and explains 5-20 % of the eye
  velocity's variance (head advanced by 0.25-0.9 s; broad optimum, not the sharp peak of a
  clock offset); between saccades while the head turns > 30 deg/s, world gaze moves at a
  median 39-49 deg/s (head 39-48 deg/s), and 34-43 deg/s with the head advanced by 0.5 s
  (head 39-44 deg/s): the eye cancels a tenth of the head's motion at best;
* eye *position* instead follows head *velocity* (r = 0.52-0.63; the eye leads by
  0.20-0.35 s, looking where the head is turning), the relation SGaze's authors built
  their predictor on; the half-second eye-velocity correlation above is probably its
  echo rather than a delayed reflex.

A lag, a filter, a scale or a sign error would leave a clear cancelling alignment with a
gain near -1; none exists. The head-velocity columns agree with their own acceleration
columns (r = 0.77-0.96, scale 1.00-1.14), so they are not in another unit. Screen-space
gaze positions would not explain it either: on an HMD screen, too, a fixating eye moves
against the head. The eye columns carry saccades (99th-percentile speed > 1,000 deg/s: not
low-passed) but repeat the previous row 14-17 % of the time (a slower tracker resampled).
This cannot be corrected in the importer: world gaze in SGaze keeps moving while the head
turns. Its eye-head *timing* (head latency, eye counter-rotation during and after shifts)
must therefore be down-weighted; the clips carry ``timing_reliable: false`` in ``extra``
for the trainer, and the synthetic source
(``training.data.synthetic``) teaches the VOR and the eye-head timing.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

from gazehead_rt.geometry import gaze_from_head_eye
from gazehead_rt.style import estimate_style

from ..paths import sgaze_dir
from .dataset import Clip, write_dataset

__all__ = [
    "SGAZE_RATE_HZ",
    "DEFAULT_SPLIT",
    "SEGMENT_S",
    "read_sgaze_file",
    "sgaze_segments",
    "load_sgaze_clips",
    "vor_diagnostics",
    "main",
]

#: The source does not state its rate; d(HeadVel)/HeadAcc gives 0.00998 s per row on every
#: file, and the README's 10-s rolling column matches ~1,000 rows.
SGAZE_RATE_HZ = 100.0
#: Split by recording and scene: the gym scene (6) is held out for test, one desert
#: recording (scene 1) is validation, the rest train. No frame of a test file is seen by
#: any training step (normalization statistics included).
DEFAULT_SPLIT = {
    "sgaze_01.txt": "test",
    "sgaze_03.txt": "test",
    "sgaze_10.txt": "test",
    "sgaze_12.txt": "test",
    "sgaze_11.txt": "val",
}
#: Segment length; a remainder shorter than half of it joins the last segment.
SEGMENT_S = 20.0
#: SGaze eye-tracker noise reaches several thousand deg/s; positions are kept within the
#: oculomotor range (~+-55 deg, Guitton & Volle 1987).
EYE_CLIP_DEG = 55.0
DATASET_NAME = "SGaze (Hu et al., TVCG 2019)"


def read_sgaze_file(path: str) -> np.ndarray:
    """Rows (T, 12) as float64; see the column table in the data README."""
    a = np.loadtxt(path, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 12:
        raise ValueError(f"{path}: expected 12 columns, got shape {a.shape}")
    return a


def _resample(x: np.ndarray, src_hz: float, dst_hz: float) -> np.ndarray:
    """Box filter over one destination period, then linear interpolation; x (T, C)."""
    w = max(1, int(round(src_hz / dst_hz)))
    if w > 1:
        k = np.ones(w) / w
        pad = np.concatenate([np.repeat(x[:1], w - 1, 0), x], 0)  # causal box, no look-ahead
        x = np.stack([np.convolve(pad[:, c], k, mode="valid") for c in range(x.shape[1])], 1)
        # a causal box delays by (w-1)/2 samples; shift the time base to undo it
        t_src = (np.arange(x.shape[0]) - (w - 1) / 2.0) / src_hz
    else:
        t_src = np.arange(x.shape[0]) / src_hz
    t_dst = np.arange(0.0, t_src[-1], 1.0 / dst_hz)
    t_dst = t_dst[t_dst >= t_src[0]]
    return np.stack([np.interp(t_dst, t_src, x[:, c]) for c in range(x.shape[1])], 1)


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def segment_bounds(
    n_rows: int, rate_hz: float = SGAZE_RATE_HZ, segment_s: float = SEGMENT_S
) -> list[tuple[int, int]]:
    """Row ranges [a, b) of ~``segment_s`` segments covering ``n_rows``."""
    L = int(round(segment_s * rate_hz))
    if n_rows <= L:
        return [(0, n_rows)]
    starts = list(range(0, n_rows, L))
    bounds = [(s, min(s + L, n_rows)) for s in starts]
    if bounds[-1][1] - bounds[-1][0] < L // 2:  # short remainder joins the last segment
        bounds[-2] = (bounds[-2][0], n_rows)
        bounds.pop()
    return bounds


def _segment_arrays(
    rows: np.ndarray, pitch_vel_mean_deg_s: float, fps: float, rate_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """gaze (T, 2), head (T, 3) rad at ``fps`` for one segment of rows; head starts at 0."""
    d2r = np.pi / 180.0
    dt = 1.0 / rate_hz
    # eye (pitch, yaw): +Y up is +pitch; +X is the viewer's right, our yaw is + left
    eye = np.clip(np.stack([rows[:, 1], -rows[:, 0]], 1), -EYE_CLIP_DEG, EYE_CLIP_DEG) * d2r
    vel = np.stack([rows[:, 5] - pitch_vel_mean_deg_s, -rows[:, 4]], 1) * d2r
    # head angle at row i = integral of the velocity up to row i, 0 at the segment start
    ang = np.concatenate([np.zeros((1, 2)), np.cumsum(vel[:-1], 0) * dt], 0)
    head = np.concatenate([ang, np.zeros((len(ang), 1))], 1)
    gaze = gaze_from_head_eye(head, eye)
    gaze[:, 1] = np.unwrap(gaze[:, 1])  # continuous for resampling, wrapped after
    res = _resample(np.concatenate([gaze, head], 1), rate_hz, fps)
    g, h = res[:, :2], res[:, 2:]
    g[:, 1] = _wrap(g[:, 1])
    h[:, 1] = _wrap(h[:, 1])
    return g, h


def sgaze_segments(
    rows: np.ndarray,
    name: str,
    *,
    fps: float = 30.0,
    source: str = "",
    split: str = "train",
    scene: int | None = None,
    rate_hz: float = SGAZE_RATE_HZ,
    segment_s: float = SEGMENT_S,
) -> list[Clip]:
    """One recording's rows -> clips of ~``segment_s`` each at ``fps`` (see module doc)."""
    pitch_mean = float(rows[:, 5].mean())
    parts = []
    for i, (a, b) in enumerate(segment_bounds(len(rows), rate_hz, segment_s)):
        g, h = _segment_arrays(rows[a:b], pitch_mean, fps, rate_hz)
        style = (
            estimate_style(g, h, fps, allow_missing=True)
            if len(g) > fps + 1
            else np.full(2, np.nan)
        )
        parts.append((i, a, g, h, style))
    styles = np.array([p[4] for p in parts])
    # a segment without a qualifying window takes its recording's mean style
    fill = np.array(
        [np.mean(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in styles.T]
    )
    clips = []
    for i, a, g, h, style in parts:
        missing = ~np.isfinite(style)
        style = np.where(missing, fill, style)
        clips.append(
            Clip(
                id=f"{name}_s{i:02d}",
                gaze=g,
                head=h,
                valid=np.ones(len(g), bool),
                fps=fps,
                source=source,
                subject=name,
                split=split,
                extra={
                    "kind": "sgaze",
                    "domain": "sgaze",
                    "dataset": DATASET_NAME,
                    "recording": name,
                    "segment": i,
                    "start_s": a / rate_hz,
                    "scene": scene,
                    "style": [None if not np.isfinite(v) else float(v) for v in style],
                    "style_from_recording": bool(missing.any()),
                    "timing_reliable": False,
                },
            )
        )
    return clips


def _manifest_rows(src_dir: str) -> list[dict[str, str]]:
    with open(os.path.join(src_dir, "MANIFEST.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_sgaze_clips(
    src_dir: str | None = None,
    *,
    fps: float = 30.0,
    split: dict[str, str] | None = None,
    segment_s: float = SEGMENT_S,
) -> list[Clip]:
    """Every SGaze recording as ~20-s segment clips, with the default (or given) split."""
    src_dir = src_dir or sgaze_dir()
    split = DEFAULT_SPLIT if split is None else split
    clips = []
    for r in _manifest_rows(src_dir):
        name = r["file"]
        rows = read_sgaze_file(os.path.join(src_dir, name))
        clips += sgaze_segments(
            rows,
            os.path.splitext(name)[0],
            fps=fps,
            source=f"sgaze/{name}",
            split=split.get(name, "train"),
            scene=int(r["scene_id"]),
            segment_s=segment_s,
        )
    return clips


# --- the VOR investigation -----------------------------------------------------------------


def _lowpass(x: np.ndarray, tau_s: float, rate_hz: float) -> np.ndarray:
    """First-order causal low-pass (exact discretisation of dx/dt = (u - x) / tau)."""
    if tau_s <= 0:
        return x
    alpha = 1.0 - np.exp(-1.0 / (tau_s * rate_hz))
    y = np.empty_like(x)
    acc = x[0]
    for i in range(x.shape[0]):
        acc = acc + alpha * (x[i] - acc)
        y[i] = acc
    return y


def _delay(x: np.ndarray, k: int) -> np.ndarray:
    """y[t] = x[t - k], edges held."""
    if k == 0:
        return x
    y = np.roll(x, k)
    if k > 0:
        y[:k] = x[0]
    else:
        y[k:] = x[-1]
    return y


def _central_velocity(x: np.ndarray, rate_hz: float, half: int = 5) -> np.ndarray:
    """Velocity by a central difference over 2 * half samples (100 ms at 100 Hz)."""
    hi = np.concatenate([x[half:], np.repeat(x[-1:], half)])
    lo = np.concatenate([np.repeat(x[:1], half), x[:-half]])
    return (hi - lo) * rate_hz / (2 * half)


def vor_diagnostics(
    rows: np.ndarray,
    rate_hz: float = SGAZE_RATE_HZ,
    *,
    saccade_deg_s: float = 100.0,
    head_deg_s: float = 20.0,
    max_lag_s: float = 0.5,
) -> dict[str, float]:
    """Measure whether the eye counter-rotates against the head (horizontal axis).

    Uses samples between saccades (eye speed below ``saccade_deg_s`` with a +-50 ms margin)
    while |head yaw velocity| > ``head_deg_s``. Returns, in deg/s units and seconds:

    * ``gain_lag0``: least-squares slope of eye velocity on head velocity (VOR: -1);
    * ``xcorr_r``, ``xcorr_lag_s``: peak correlation of eye velocity with -head velocity
      over lags -max_lag..+max_lag (positive lag: the eye follows the head), and the same
      with the eye velocity low-passed at 50/100/200 ms (``xcorr_r_eye_lp{ms}``);
    * ``fit_tau_s``, ``fit_delay_s``, ``fit_gain``, ``fit_r2``: the first-order low-pass
      (tau 0-400 ms) and delay (-1..+1 s, positive: head shifted later) of the head velocity
      that best cancels the eye velocity, its gain and the fraction of eye-velocity variance
      it explains;
    * ``world_speed_p50``, ``head_speed_p50``: median world-gaze speed |eye vel + head vel|
      and head speed between saccades while the head turns > 30 deg/s (2-D), and the same
      with the head advanced by 0.5 s (``..._head_adv500``);
    * ``pos_r``, ``pos_lag_s``: peak correlation of eye *position* with head velocity
      (negative lag: the eye leads);
    * ``acc_r``, ``acc_scale``: consistency of the head velocity with its own acceleration
      column (correlation and slope of d(vel)/dt on acc);
    * ``eye_held_fraction``: fraction of rows whose eye position repeats the previous row.
    """
    ex, ey, hx = rows[:, 0], rows[:, 1], rows[:, 4]
    evx = _central_velocity(ex, rate_hz)
    evy = _central_velocity(ey, rate_hz)
    sac = np.hypot(evx, evy) > saccade_deg_s
    margin = int(round(0.05 * rate_hz))
    fix = np.convolve(sac, np.ones(2 * margin + 1), "same") == 0
    out: dict[str, float] = {}

    def gain_r2(e: np.ndarray, h: np.ndarray) -> tuple[float, float]:
        g = float(np.dot(h, e) / np.dot(h, h))
        return g, float(1.0 - np.sum((e - g * h) ** 2) / np.sum(e * e))

    mov = fix & (np.abs(hx) > head_deg_s)
    out["samples"] = float(mov.sum())
    out["gain_lag0"] = gain_r2(evx[mov], hx[mov])[0]
    lags = np.arange(-int(max_lag_s * rate_hz), int(max_lag_s * rate_hz) + 1, 2)

    def xcorr(e: np.ndarray, h: np.ndarray) -> tuple[float, float]:
        best = (-2.0, 0.0)
        for k in lags:  # corr(e[t], h[t - k]) on the moving, between-saccade samples
            hk = _delay(h, int(k))
            m = fix & (np.abs(hk) > head_deg_s)
            r = float(np.corrcoef(e[m], hk[m])[0, 1])
            if r > best[0]:
                best = (r, k / rate_hz)
        return best

    out["xcorr_r"], out["xcorr_lag_s"] = xcorr(evx, -hx)
    for tau_ms in (50, 100, 200):
        r, _ = xcorr(_lowpass(evx, tau_ms / 1000.0, rate_hz), -hx)
        out[f"xcorr_r_eye_lp{tau_ms}"] = r
    best = (0.0, 0.0, 0.0, -np.inf)
    for tau in (0.0, 0.05, 0.1, 0.2, 0.4):
        hf = _lowpass(hx, tau, rate_hz)
        for k in range(-int(rate_hz), int(rate_hz) + 1, 5):
            hk = _delay(hf, k)
            m = fix & (np.abs(hk) > head_deg_s)
            g, r2 = gain_r2(evx[m], hk[m])
            if r2 > best[3]:
                best = (tau, k / rate_hz, g, r2)
    out["fit_tau_s"], out["fit_delay_s"], out["fit_gain"], out["fit_r2"] = best
    hy = rows[:, 5]
    for name, k in (("", 0), ("_head_adv500", -int(round(0.5 * rate_hz)))):
        hxk, hyk = _delay(hx, k), _delay(hy, k)
        m = fix & (np.hypot(hxk, hyk) > 30.0)
        out[f"world_speed_p50{name}"] = float(np.median(np.hypot(evx + hxk, evy + hyk)[m]))
        out[f"head_speed_p50{name}"] = float(np.median(np.hypot(hxk, hyk)[m]))
    pos = (-2.0, 0.0)
    for k in range(-int(rate_hz), int(rate_hz) + 1, 5):
        r = float(np.corrcoef(ex, _delay(hx, k))[0, 1])
        if r > pos[0]:
            pos = (r, k / rate_hz)
    out["pos_r"], out["pos_lag_s"] = pos
    dv = np.gradient(hx) * rate_hz
    out["acc_r"] = float(np.corrcoef(dv, rows[:, 6])[0, 1])
    out["acc_scale"] = float(np.polyfit(rows[:, 6], dv, 1)[0])
    out["eye_held_fraction"] = float(np.mean(np.diff(ex) == 0))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.data.sgaze",
        description="Import SGaze into the docs/design.md §3 format.",
    )
    p.add_argument(
        "--src",
        default=None,
        help="SGaze folder (default ../shared/data/sgaze or $GAZEHEAD_DATA/sgaze)",
    )
    p.add_argument("--out", default="data/sgaze", help="output dataset folder")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument(
        "--vor",
        action="store_true",
        help="print the VOR diagnostics of every recording instead of importing",
    )
    a = p.parse_args(argv)
    if a.vor:
        src = a.src or sgaze_dir()
        keys = None
        for r in _manifest_rows(src):
            d = vor_diagnostics(read_sgaze_file(os.path.join(src, r["file"])))
            if keys is None:
                keys = list(d)
                print("file\t" + "\t".join(keys))
            print(r["file"] + "\t" + "\t".join(f"{d[k]:.3f}" for k in keys))
        return 0
    clips = load_sgaze_clips(a.src, fps=a.fps)
    write_dataset(
        a.out,
        clips,
        name="sgaze",
        description=f"SGaze eye-head recordings in {SEGMENT_S:g}-s segments, head "
        f"integrated from 0 per segment, resampled to {a.fps} fps",
    )
    print(f"wrote {len(clips)} clips to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
