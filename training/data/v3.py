"""Training data of motion model v3: every source for a split, and what each source shows.

Sources (``kind`` in each clip's manifest ``extra``; also its ``domain`` for the trainer's
per-domain weights):

* ``sgaze`` -- real VR recordings in ~20-s segments, no torso (:mod:`.sgaze`). Teaches
  natural gaze statistics and head velocity during free viewing; its eye-head timing is
  unreliable (no eye counter-rotation while the head turns: ``timing_reliable: false``).
* ``synthetic`` -- fixed-torso gaze shifts of 5-150 deg from the physiological model of
  :mod:`.synthetic`, one person per clip; its own train/val/test people by seed.
* ``video`` -- gaze and head extracted from the face videos in ``../shared/data/videos`` by
  :mod:`training.extract`. Extraction needs MediaPipe (the ``extract`` extra) and takes
  ~1.5 min for the 12 clips (2.5 minutes of video, 4,574 frames at 30 fps), so it is not
  run by default: the source is read from an extracted dataset folder (``python -m
  training.extract ../shared/data/videos -o data/video``, or ``extract_video=True`` /
  ``--extract-video``) and skipped, with a message, when that folder does not exist.

Every clip carries ``style`` = ``gazehead_rt.style.estimate_style`` of its gaze and head.

``python -m training.data.v3 --out DIR`` writes all splits of all available sources into one
dataset folder and prints per-source statistics (:func:`source_stats`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from gazehead_rt.geometry import angular_distance, eye_from_gaze_head
from gazehead_rt.style import STYLE_NAMES, estimate_style

from .dataset import SPLITS, Clip, load_dataset, read_manifest, write_dataset
from .sgaze import load_sgaze_clips
from .synthetic import synthetic_clips

__all__ = [
    "SOURCES",
    "DEFAULT_SYNTHETIC_MINUTES",
    "load_v3_clips",
    "detect_shifts",
    "source_stats",
    "format_stats",
    "main",
]

SOURCES = ("sgaze", "synthetic", "video")
#: Minutes of synthetic data per split when not given (SGaze has ~21 train minutes).
DEFAULT_SYNTHETIC_MINUTES = {"train": 60.0, "val": 10.0, "test": 10.0}
DEFAULT_VIDEO_DIR = os.path.join("data", "video")
AMPLITUDE_BINS = (5.0, 15.0, 30.0, 45.0, 60.0, 90.0, 180.0)
SHARE_BINS = ((5.0, 15.0), (15.0, 30.0), (30.0, 45.0), (45.0, 60.0), (60.0, 360.0))
R2D = 180.0 / np.pi


def _with_style(c: Clip, kind: str) -> Clip:
    if "style" not in c.extra:
        ok = c.valid
        s = (
            estimate_style(c.gaze[ok], c.head[ok], c.fps, allow_missing=True)
            if ok.sum() > c.fps + 1
            else np.full(2, np.nan)
        )
        c.extra["style"] = [None if not np.isfinite(v) else float(v) for v in s]
    c.extra.setdefault("kind", kind)
    c.extra.setdefault("domain", kind)
    return c


def _video_clips(
    split: str, video_dir: str | None, extract: bool, log: Callable[[str], None]
) -> list[Clip]:
    d = video_dir or DEFAULT_VIDEO_DIR
    if not os.path.isfile(os.path.join(d, "manifest.json")) and extract:
        from ..extract import extract_dataset  # noqa: PLC0415 - needs the extract extra
        from ..extract.pipeline import shared_videos_dir  # noqa: PLC0415

        log(f"video: extracting {shared_videos_dir()} into {d} (MediaPipe, ~1-2 min)")
        extract_dataset([shared_videos_dir()], d, workers=1, progress=False, log=log)
    if not os.path.isfile(os.path.join(d, "manifest.json")):
        log(
            f"video: no extracted dataset at {d} (run `python -m training.extract "
            f"../shared/data/videos -o {d}`, or pass extract_video; needs the extract "
            "extra); skipped"
        )
        return []
    read_manifest(d)
    return [_with_style(c, "video") for c in load_dataset(d, split)]


def load_v3_clips(
    split: str,
    sources: Sequence[str] = SOURCES,
    seed: int = 0,
    synthetic_minutes: float | None = None,
    *,
    fps: float = 30.0,
    sgaze_dir: str | None = None,
    video_dir: str | None = None,
    extract_video: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[Clip]:
    """All clips of ``split`` from ``sources``, each with ``style`` and ``kind`` in ``extra``.

    ``synthetic_minutes`` defaults to :data:`DEFAULT_SYNTHETIC_MINUTES` of the split. SGaze
    keeps its split by recording (test recordings never reach training or normalization);
    synthetic people are drawn per split from ``seed``; video clips keep the split of their
    extracted dataset (by source file), read from ``video_dir`` (default ``data/video``);
    ``extract_video`` runs the extraction there first when it is missing.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise ValueError(f"sources must be among {SOURCES}, got {bad}")
    log = log or (lambda s: print(s, file=sys.stderr))
    out: list[Clip] = []
    if "sgaze" in sources:
        out += [c for c in load_sgaze_clips(sgaze_dir, fps=fps) if c.split == split]
    if "synthetic" in sources:
        minutes = (
            DEFAULT_SYNTHETIC_MINUTES[split] if synthetic_minutes is None else synthetic_minutes
        )
        if minutes > 0:
            out += synthetic_clips(split, minutes, seed=seed, fps=fps)
    if "video" in sources:
        out += _video_clips(split, video_dir, extract_video, log)
    return out


# --- statistics ----------------------------------------------------------------------------


def detect_shifts(
    gaze: np.ndarray,
    valid: np.ndarray,
    fps: float,
    *,
    speed_deg_s: float = 60.0,
    min_amp_deg: float = 5.0,
    gap_frames: int = 2,
) -> list[tuple[int, int, float]]:
    """Gaze shifts as (onset, end, amplitude deg): runs of gaze speed > ``speed_deg_s``,
    merged across pauses of <= ``gap_frames`` (a shift slowed by the eye's range), widened
    while the speed stays above a quarter of the threshold, with amplitude >=
    ``min_amp_deg`` between the onset frame (gaze before) and the end frame (gaze after)."""
    sp = angular_distance(gaze[:-1], gaze[1:]) * fps * R2D  # speed into frame i + 1
    ok = valid[:-1] & valid[1:]
    fast = (sp > speed_deg_s) & ok
    idx = np.flatnonzero(fast)
    shifts = []
    if idx.size == 0:
        return shifts
    start = prev = int(idx[0])
    for i in list(idx[1:]) + [None]:
        if i is not None and i - prev <= gap_frames + 1:
            prev = int(i)
            continue
        a, b = start, prev + 1  # gaze at frame a (before) to frame b (after the last step)
        # widen to the shift's slow start and end (the minimum-jerk tails)
        while a > 0 and ok[a - 1] and sp[a - 1] > speed_deg_s / 4:
            a -= 1
        while b < len(sp) and ok[b] and sp[b] > speed_deg_s / 4:
            b += 1
        if valid[a : b + 1].all():
            amp = float(angular_distance(gaze[a], gaze[b]) * R2D)
            if amp >= min_amp_deg:
                shifts.append((a, b, amp))
        if i is not None:
            start = prev = int(i)
    return shifts


def _clip_shift_measures(c: Clip) -> list[dict[str, float]]:
    g = c.gaze.astype(np.float64)
    h = c.head.astype(np.float64)
    shifts = detect_shifts(g, c.valid, c.fps)
    out = []
    for j, (a, b, amp) in enumerate(shifts):
        nxt = shifts[j + 1][0] if j + 1 < len(shifts) else len(g) - 1
        dg = g[b] - g[a]
        dg[1] = (dg[1] + np.pi) % (2 * np.pi) - np.pi
        n = np.linalg.norm(dg)
        if n < 1e-9:
            continue
        u = dg / n
        m = {"amp": amp}
        for t_s in (0.5, 1.0):
            k = a + int(round(t_s * c.fps))
            if k <= nxt and c.valid[a : k + 1].all():
                dh = h[k, :2] - h[a, :2]
                dh[1] = (dh[1] + np.pi) % (2 * np.pi) - np.pi
                m[f"share_{t_s:g}"] = float(np.dot(dh, u) * R2D / amp)
        # settled: the eye at the end of a fixation that lasted >= 1 s after the shift
        if nxt - b >= int(round(1.0 * c.fps)) and c.valid[b : nxt + 1].all():
            eye = eye_from_gaze_head(g[nxt - 1], h[nxt - 1])
            m["settled_eye"] = float(angular_distance(np.zeros(2), eye) * R2D)
        out.append(m)
    return out


def source_stats(clips: Sequence[Clip]) -> dict[str, Any]:
    """Frames, gaze-shift amplitudes, head share vs amplitude at 0.5 s / 1 s, settled eye
    eccentricity (after fixations >= 1 s) and style mean/std of a set of clips."""
    frames = int(sum(c.frames for c in clips))
    minutes = float(sum(c.frames / c.fps for c in clips) / 60.0)
    meas = [m for c in clips for m in _clip_shift_measures(c)]
    amps = np.array([m["amp"] for m in meas])
    hist = (
        np.histogram(amps, bins=AMPLITUDE_BINS)[0].tolist()
        if amps.size
        else [0] * (len(AMPLITUDE_BINS) - 1)
    )
    share = {}
    for lo, hi in SHARE_BINS:
        key = f"{lo:g}-{hi:g}" if hi < 360 else f"{lo:g}+"
        share[key] = {}
        for t in ("0.5", "1"):
            v = np.array(
                [m[f"share_{t}"] for m in meas if lo <= m["amp"] < hi and f"share_{t}" in m]
            )
            share[key][t] = (float(np.median(v)) if v.size else None, int(v.size))
    settled = np.array([m["settled_eye"] for m in meas if "settled_eye" in m])
    settled_big = np.array(
        [m["settled_eye"] for m in meas if "settled_eye" in m and m["amp"] >= 40]
    )
    styles = np.array(
        [c.extra.get("style") for c in clips if c.extra.get("style")], dtype=float
    ).reshape(-1, 2)

    def q(x: np.ndarray, p: float) -> float | None:
        return float(np.percentile(x, p)) if x.size else None

    return {
        "clips": len(clips),
        "frames": frames,
        "minutes": minutes,
        "shifts": int(amps.size),
        "amplitude_bins": list(AMPLITUDE_BINS),
        "amplitude_hist": hist,
        "head_share": share,
        "settled_eye_p50": q(settled, 50),
        "settled_eye_p90": q(settled, 90),
        "settled_eye_ge40_p50": q(settled_big, 50),
        "settled_eye_ge40_p90": q(settled_big, 90),
        "settled_n": int(settled.size),
        "settled_ge40_n": int(settled_big.size),
        "style_mean": np.nanmean(styles, 0).tolist() if len(styles) else None,
        "style_std": np.nanstd(styles, 0).tolist() if len(styles) else None,
    }


def format_stats(stats: dict[str, dict[str, Any]]) -> str:
    """A plain-text table, one column per source."""
    names = list(stats)

    def f(v: Any, fmt: str = "{:.2f}") -> str:
        return "-" if v is None else fmt.format(v)

    rows = [
        ("clips", [str(stats[n]["clips"]) for n in names]),
        ("frames", [str(stats[n]["frames"]) for n in names]),
        ("minutes", [f(stats[n]["minutes"], "{:.1f}") for n in names]),
        ("gaze shifts >= 5 deg", [str(stats[n]["shifts"]) for n in names]),
    ]
    b = AMPLITUDE_BINS
    for i in range(len(b) - 1):
        rows.append(
            (
                f"  amplitude {b[i]:g}-{b[i + 1]:g}",
                [str(stats[n]["amplitude_hist"][i]) for n in names],
            )
        )
    for key in stats[names[0]]["head_share"]:
        for t in ("0.5", "1"):
            rows.append(
                (
                    f"head share {key} deg @{t}s (n)",
                    [
                        f"{f(stats[n]['head_share'][key][t][0])} "
                        f"({stats[n]['head_share'][key][t][1]})"
                        for n in names
                    ],
                )
            )
    for k, label in (
        ("settled_eye_p50", "settled |eye| p50 deg"),
        ("settled_eye_p90", "settled |eye| p90 deg"),
        ("settled_eye_ge40_p50", "settled |eye| p50, shifts>=40"),
        ("settled_eye_ge40_p90", "settled |eye| p90, shifts>=40"),
    ):
        rows.append((label, [f(stats[n][k], "{:.1f}") for n in names]))
    for i, s in enumerate(STYLE_NAMES):
        rows.append(
            (
                f"style {s} mean +- std",
                [
                    "-"
                    if stats[n]["style_mean"] is None
                    else f"{stats[n]['style_mean'][i]:.2f} +- {stats[n]['style_std'][i]:.2f}"
                    for n in names
                ],
            )
        )
    w0 = max(len(r[0]) for r in rows)
    ws = [max(len(n), *(len(r[1][j]) for r in rows)) for j, n in enumerate(names)]
    lines = ["  ".join([" " * w0] + [n.rjust(w) for n, w in zip(names, ws)])]
    for label, vals in rows:
        lines.append("  ".join([label.ljust(w0)] + [v.rjust(w) for v, w in zip(vals, ws)]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.data.v3",
        description="Write the motion-model-v3 training data (all "
        "splits, all sources) and print per-source statistics.",
    )
    p.add_argument("--out", required=True, help="output dataset folder")
    p.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--synthetic-minutes",
        type=float,
        default=None,
        help="synthetic minutes per split (default: train 60, val 10, test 10)",
    )
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--sgaze-dir", default=None)
    p.add_argument(
        "--video-dir", default=None, help=f"extracted video dataset (default {DEFAULT_VIDEO_DIR})"
    )
    p.add_argument(
        "--extract-video",
        action="store_true",
        help="extract ../shared/data/videos into --video-dir first if missing "
        "(MediaPipe; ~1-2 min for the 2.5 minutes of video)",
    )
    p.add_argument(
        "--stats-split",
        default="train",
        choices=list(SPLITS) + ["all"],
        help="split the statistics are printed for (default train)",
    )
    a = p.parse_args(argv)
    clips: list[Clip] = []
    for split in SPLITS:
        clips += load_v3_clips(
            split,
            a.sources,
            a.seed,
            a.synthetic_minutes,
            fps=a.fps,
            sgaze_dir=a.sgaze_dir,
            video_dir=a.video_dir,
            extract_video=a.extract_video and split == SPLITS[0],
        )
    write_dataset(
        a.out,
        clips,
        name="v3",
        description="motion model v3 training data: SGaze segments (no torso), "
        "synthetic fixed-torso gaze shifts, extracted video; style per clip",
        seed=a.seed,
    )
    print(f"wrote {len(clips)} clips to {a.out}", file=sys.stderr)
    per_split = {
        s: {
            k: sum(c.frames for c in clips if c.split == s and c.extra["kind"] == k)
            for k in a.sources
        }
        for s in SPLITS
    }
    print(
        "frames per split: "
        + "; ".join(
            f"{s}: " + ", ".join(f"{k} {v}" for k, v in d.items()) for s, d in per_split.items()
        )
    )
    sel = [c for c in clips if a.stats_split == "all" or c.split == a.stats_split]
    stats = {
        k: source_stats([c for c in sel if c.extra["kind"] == k])
        for k in a.sources
        if any(c.extra["kind"] == k for c in sel)
    }
    print(f"statistics ({a.stats_split} split):")
    print(format_stats(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
