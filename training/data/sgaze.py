"""Importer for the SGaze recordings (``../shared/data/sgaze``, see its README).

Each file holds ~100 Hz rows of eye-in-head gaze (deg, +X right, +Y up) and head angular
velocity (deg/s, X = yaw to the right, Y = pitch up). The head's orientation is not
recorded, so it is integrated from the velocity, which brings two problems:

* **drift** -- the pitch velocity carries a bias of a few deg/s (integrated pitch reaches
  -300 deg in three minutes, impossible for a neck), and
* **body turns** -- participants turn around while exploring (integrated yaw passes 400 deg).

The body frame B of docs/design.md §2 is the torso, which is not recorded either. We model it as
following the head with a first-order lag: body(t) = low-pass(head, tau), causal. Head in
B is then head - body, a causal high-pass of the integrated head angle. It removes the
drift, keeps every head movement faster than ~tau, and reproduces the slow re-centring of
the head on the torso that follows a turn. tau_yaw = 2.5 s keeps the 99th percentile of
head-on-body yaw at ~60 deg, inside the human range of about +-70-80 deg (e.g. Guitton &
Volle 1987 report ~ +-80 deg head-on-trunk); pitch has no body turns, only the bias, so its
velocity mean is removed first and a slower tau_pitch = 4 s is used.

World gaze in B is head (+) eye, composed as rotations (gazehead_rt.geometry), not by adding
angles. The 100 Hz series is box-filtered over one model frame (what a camera integrates)
and linearly resampled to the model rate.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

from gazehead_rt.geometry import gaze_from_head_eye

from ..paths import sgaze_dir
from .dataset import Clip, write_dataset

__all__ = ["SGAZE_RATE_HZ", "DEFAULT_SPLIT", "read_sgaze_file", "sgaze_to_clip",
           "load_sgaze_clips", "main"]

#: The source does not state its rate; d(HeadVel)/HeadAcc gives 0.00998 s per row on every
#: file, and the README's 10-s rolling column matches ~1,000 rows.
SGAZE_RATE_HZ = 100.0
#: Split by recording and scene: the gym scene (6) is held out for test, one desert
#: recording (scene 1) is validation, the rest train. No frame of a test file is seen by
#: any training step (normalization statistics included).
DEFAULT_SPLIT = {
    "sgaze_01.txt": "test", "sgaze_03.txt": "test", "sgaze_10.txt": "test",
    "sgaze_12.txt": "test", "sgaze_11.txt": "val",
}
TAU_YAW_S = 2.5
TAU_PITCH_S = 4.0


def read_sgaze_file(path: str) -> np.ndarray:
    """Rows (T, 12) as float64; see the column table in the data README."""
    a = np.loadtxt(path, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 12:
        raise ValueError(f"{path}: expected 12 columns, got shape {a.shape}")
    return a


def _causal_lowpass(x: np.ndarray, tau_s: float, rate_hz: float) -> np.ndarray:
    """First-order causal low-pass (exact discretisation of dx/dt = (u - x)/tau)."""
    alpha = 1.0 - np.exp(-1.0 / (tau_s * rate_hz))
    y = np.empty_like(x)
    acc = x[0]
    for i in range(x.shape[0]):  # 18k samples: a Python loop costs ~10 ms here
        acc = acc + alpha * (x[i] - acc)
        y[i] = acc
    return y


def head_in_body_from_velocity(
    vel_yaw_rad_s: np.ndarray, vel_pitch_rad_s: np.ndarray, rate_hz: float,
    tau_yaw_s: float = TAU_YAW_S, tau_pitch_s: float = TAU_PITCH_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate head velocity and subtract the modelled body; returns (pitch, yaw) rad."""
    dt = 1.0 / rate_hz
    yaw_w = np.cumsum(vel_yaw_rad_s) * dt
    pitch_w = np.cumsum(vel_pitch_rad_s - vel_pitch_rad_s.mean()) * dt
    yaw = yaw_w - _causal_lowpass(yaw_w, tau_yaw_s, rate_hz)
    pitch = pitch_w - _causal_lowpass(pitch_w, tau_pitch_s, rate_hz)
    return pitch, yaw


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


def sgaze_to_clip(rows: np.ndarray, clip_id: str, *, fps: float = 30.0,
                  source: str = "", split: str = "train", scene: int | None = None,
                  rate_hz: float = SGAZE_RATE_HZ) -> Clip:
    """Convert SGaze rows to a clip in the body frame at ``fps``."""
    d2r = np.pi / 180.0
    # eye (pitch, yaw): +Y up is +pitch; +X is the viewer's right, our yaw is + left
    eye = np.stack([rows[:, 1] * d2r, -rows[:, 0] * d2r], 1)
    pitch, yaw = head_in_body_from_velocity(-rows[:, 4] * d2r, rows[:, 5] * d2r, rate_hz)
    head = np.stack([pitch, yaw, np.zeros_like(yaw)], 1)
    gaze = gaze_from_head_eye(head, eye)
    # resample gaze and head together (gaze unwrapped is continuous: |yaw| stays < pi here)
    res = _resample(np.concatenate([gaze, head], 1), rate_hz, fps)
    return Clip(id=clip_id, gaze=res[:, :2], head=res[:, 2:], valid=np.ones(len(res), bool),
                fps=fps, source=source, subject=None, split=split,
                extra={"scene": scene, "dataset": "SGaze (Hu et al., TVCG 2019)"})


def _manifest_rows(src_dir: str) -> list[dict[str, str]]:
    with open(os.path.join(src_dir, "MANIFEST.tsv")) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_sgaze_clips(src_dir: str | None = None, *, fps: float = 30.0,
                     split: dict[str, str] | None = None) -> list[Clip]:
    """Every SGaze recording as a clip, with the default (or given) split."""
    src_dir = src_dir or sgaze_dir()
    split = DEFAULT_SPLIT if split is None else split
    clips = []
    for r in _manifest_rows(src_dir):
        name = r["file"]
        rows = read_sgaze_file(os.path.join(src_dir, name))
        clips.append(sgaze_to_clip(rows, os.path.splitext(name)[0], fps=fps,
                                   source=f"sgaze/{name}", split=split.get(name, "train"),
                                   scene=int(r["scene_id"])))
    return clips


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.data.sgaze",
                                description="Import SGaze into the docs/design.md §3 format.")
    p.add_argument("--src", default=None, help="SGaze folder (default ../shared/data/sgaze "
                   "or $GAZEHEAD_DATA/sgaze)")
    p.add_argument("--out", default="data/sgaze", help="output dataset folder")
    p.add_argument("--fps", type=float, default=30.0)
    a = p.parse_args(argv)
    clips = load_sgaze_clips(a.src, fps=a.fps)
    write_dataset(a.out, clips, name="sgaze",
                  description="SGaze eye-head recordings, head-in-body via causal high-pass "
                  f"(tau yaw {TAU_YAW_S} s, pitch {TAU_PITCH_S} s), resampled to {a.fps} fps")
    print(f"wrote {len(clips)} clips to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
