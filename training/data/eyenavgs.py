"""Importer for EyeNavGS (NTHU half; ``../shared/data/eyenavgs_nthu``, see its README).

24 people stood in a Meta Quest Pro and explored 12 photoreal scenes for ~60 s each; one
gzip CSV per person and scene. Rows alternate left eye / right eye (one pair per rendered
frame, ~36 Hz, uneven); both rows of a pair carry the same head quaternion, each its eye's
world gaze quaternion, whose forward ray (-z) is that eye's line of sight.

Pipeline per recording (numbers measured on all files; ``python -m training.data.eyenavgs``
prints them again):

1. **Frames.** Rows are paired (left, right); the frame time is the pair's mean timestamp.
   Gaze is the cyclopean ray: the mean of the two eyes' unit forward rays.
2. **World tilt.** The recorded world is the scene's frame, not gravity's: each scene is
   tilted by the quaternion of ``scene_setting.csv`` (up to 50 deg for ``stump``; ~100 deg
   of roll for ``drjohnson``). Measured: in the recorded frame the head's roll swings with
   its yaw by about the scene's tilt (stump 50-60 deg, alameda ~21 deg, london ~4 deg);
   after ``R_world = Q_scene @ R_recorded`` the swing falls to 0.5-2 deg. Both head and gaze
   are turned by ``Q_scene`` before anything else.
3. **Axes.** OpenXR (x right, y up, forward -z) to the body frame B (x forward, y left,
   z up) through :data:`training.data.vr.OPENXR`; the world stands in for the torso.
4. **Dead eyes.** A recording whose eye-in-head spread (RMS of the pitch and yaw standard
   deviations) is below :data:`DEAD_EYE_SPREAD_DEG` carries no eye signal (the gaze is the
   headset's default ray, fixed in the head): measured 12 files at 1.05-2.9 deg (users 17,
   20, 22, 24), the next lowest at 4.1 deg; typical files 7-12 deg. These files are
   dropped. Frames whose eye-in-head angle repeats exactly for :data:`STUCK_EYE_S` or more
   (a frozen tracker) are marked invalid (none in the live files).
5. **Resting eye offset.** The headset's forward axis is not the line of sight: the median
   eye-in-head angle is (-14.6, -6.1) deg (pitch, yaw; median over recordings, per person
   -4 to -19 deg of pitch), and the dead files sit at (-15, -9.6) deg, so the yaw part is
   the device's gaze frame, not behaviour. The head frame is turned about its own lateral
   then vertical axis by the recording's median eye-in-head angle
   (:func:`training.data.vr.remove_eye_offset`); clips carry the offset in
   ``eye_pitch_offset_deg`` / ``eye_yaw_offset_deg``. Afterwards the median eye-in-head
   angle is 0 per recording.
6. **Scene turns and teleports** (:func:`find_scene_turns`). A controller turn rotates the
   head and the gaze together about the world vertical with the eye fixed in the head; a
   neck turn makes the eye counter-rotate (VOR) or lead. Detected on the raw frames:
   *snap*: one frame turning the head by more than :data:`SNAP_STEP_DEG` (> ~500 deg/s at
   36 Hz, beyond head peak velocities) about the vertical while the eye-in-head angle
   changes by less than a third of it; *smooth*: a run of at least :data:`SMOOTH_MIN_S`
   with a vertical head rate above :data:`SMOOTH_RATE_DEG_S`, the eye-in-head rate under
   a third of it and the rate steady (coefficient of variation < 0.25); *teleport*: a
   frame moving the head by more than :data:`TELEPORT_M` (controller locomotion jumps; a
   jump changes the view, so the gaze re-targets: split even without a turn). Measured on
   the 276 live-eye recordings: 7 snaps, 3 smooth turns and 12 teleports in 13
   recordings. Controller turns are rare: the large yaw changes in this set are the
   people turning their bodies (``docs/data.md``). Recordings are split at each event,
   :data:`TURN_MARGIN_S` dropped on both sides, and pieces shorter than
   :data:`MIN_CLIP_S` dropped.
7. **Resampling** to ``fps`` on the timestamps (:func:`training.data.vr.
   resample_on_timestamps`): yaw and roll unwrapped, linear; frames spanning a source gap
   over :data:`MAX_GAP_S` are invalid.
8. **Yaw centring.** No torso is recorded and the person stands: each clip's yaw (head and
   gaze) is taken relative to its median head yaw.

``trian/user21_trian.csv.gz`` is the same recording as ``stump/user21_stump.csv.gz`` (same
rows, other number formatting) and is skipped. Splits go by person: :data:`TEST_PEOPLE`
(the yardstick, never seen by a training step) and :data:`VAL_PEOPLE` (early stopping).
"""

from __future__ import annotations

import argparse
import csv
import functools
import glob
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from gazehead_rt.geometry import (
    eye_from_gaze_head,
    head_rotation_matrix,
    rotation_matrix_from_quaternion,
)

from ..paths import shared_data_dir
from .dataset import Clip, write_dataset
from .vr import OPENXR, head_gaze_from_world, remove_eye_offset, resample_on_timestamps

__all__ = [
    "TEST_PEOPLE",
    "VAL_PEOPLE",
    "DUPLICATE_FILES",
    "eyenavgs_dir",
    "split_of",
    "read_recording",
    "Recording",
    "find_scene_turns",
    "recording_clips",
    "load_eyenavgs_clips",
    "counter_rotation_gain",
    "main",
]

#: The yardstick: never seen by any training step. Chosen once, spread over the id range,
#: every one with 12 live-eye recordings (the dead-eye files belong to users 17, 20, 22, 24).
TEST_PEOPLE = ("user3", "user7", "user11", "user14", "user19", "user23")
#: Early stopping only.
VAL_PEOPLE = ("user5", "user16")
#: Identical recordings stored twice: the second name is skipped.
DUPLICATE_FILES = ("trian/user21_trian.csv.gz",)

DEAD_EYE_SPREAD_DEG = 3.0
STUCK_EYE_S = 1.0
SNAP_STEP_DEG = 15.0
SMOOTH_RATE_DEG_S = 60.0
SMOOTH_MIN_S = 0.25
TELEPORT_M = 0.3
TURN_MARGIN_S = 0.25
MIN_CLIP_S = 5.0
MAX_GAP_S = 0.1
DATASET_NAME = "EyeNavGS NTHU (Ding et al., arXiv 2506.02380, 2025)"

_COLS = 20  # ViewIndex, FOV1..4, PositionXYZ, QuaternionXYZW, GazeQXYZW, GazePosXYZ, timestep


def eyenavgs_dir(override: str | None = None) -> str:
    return os.path.join(shared_data_dir(override), "eyenavgs_nthu")


def split_of(person: str) -> str:
    if person in TEST_PEOPLE:
        return "test"
    if person in VAL_PEOPLE:
        return "val"
    return "train"


def _scene_tilts(root: str) -> dict[str, np.ndarray]:
    path = os.path.join(root, "scene_setting.csv")
    return _read_tilts(path, os.path.getmtime(path))


@functools.lru_cache(maxsize=8)
def _read_tilts(path: str, mtime: float) -> dict[str, np.ndarray]:
    del mtime  # part of the cache key only
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            q = np.array([float(x) for x in row["Quaternion"].split(",")])
            out[row["Scene_Name"].strip()] = rotation_matrix_from_quaternion(q)
    return out


@dataclass
class Recording:
    """One file's frames in B, before splitting and resampling (angles radians)."""

    person: str
    scene: str
    path: str
    t_s: np.ndarray  # (N,) frame times, strictly increasing
    head: np.ndarray  # (N, 3) world (gravity-aligned), before the eye-offset removal
    gaze: np.ndarray  # (N, 2) cyclopean
    position_m: np.ndarray  # (N, 3) head position (mean of the eye positions), OpenXR axes
    valid: np.ndarray  # (N,) eye data usable

    @property
    def eye(self) -> np.ndarray:
        return eye_from_gaze_head(self.gaze, self.head)


def _pair_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) row arrays of complete frames; an unpaired row is skipped."""
    vi = a[:, 0]
    i = np.flatnonzero((vi[:-1] == 0) & (vi[1:] == 1))
    return a[i], a[i + 1]


def _stuck(eye: np.ndarray, t_s: np.ndarray, min_s: float) -> np.ndarray:
    """Frames inside runs of exactly repeated eye-in-head values lasting >= ``min_s``."""
    same = np.r_[False, np.all(eye[1:] == eye[:-1], axis=1)]
    out = np.zeros(len(eye), dtype=bool)
    start = None
    for k in range(len(same) + 1):
        if k < len(same) and same[k]:
            if start is None:
                start = k - 1
        elif start is not None:
            if t_s[k - 1] - t_s[start] >= min_s:
                out[start:k] = True
            start = None
    return out


def read_recording(path: str, root: str | None = None) -> Recording:
    """Parse one ``<scene>/userN_<scene>.csv.gz`` into frames in B (module doc, steps 1-3)."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(path)))
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if a.shape[1] != _COLS:
        raise ValueError(f"{path}: expected {_COLS} columns, got {a.shape[1]}")
    left, right = _pair_rows(a)
    name = os.path.basename(path)[: -len(".csv.gz")]
    person, scene = name.split("_", 1)
    tilt = _scene_tilts(root).get(scene)
    if tilt is None:
        raise ValueError(f"{path}: scene {scene!r} is not in scene_setting.csv")
    t_s = 0.5 * (left[:, 19] + right[:, 19]) / 1000.0
    keep = np.r_[True, np.diff(t_s) > 0]  # repeated timestamps: keep the first
    left, right, t_s = left[keep], right[keep], t_s[keep]
    qn = np.stack([np.linalg.norm(x[:, 12:16], axis=1) for x in (left, right)], 1)
    finite = np.all(np.isfinite(left), axis=1) & np.all(np.isfinite(right), axis=1)
    valid = finite & np.all(np.abs(qn - 1.0) < 0.1, axis=1)
    safe = np.where(valid[:, None], 1.0, 0.0)
    unit_q = np.array([0.0, 0.0, 0.0, 1.0])
    R_head = tilt @ rotation_matrix_from_quaternion(
        np.where(np.isfinite(left[:, 8:12]), left[:, 8:12], unit_q)
    )
    rays = []
    for x in (left, right):
        q = x[:, 12:16] * safe + unit_q * (1.0 - safe)
        rays.append(-(tilt @ rotation_matrix_from_quaternion(q))[:, :, 2])
    head, gaze = head_gaze_from_world(OPENXR, R_head, rays[0] + rays[1])
    rec = Recording(
        person=person,
        scene=scene,
        path=path,
        t_s=t_s,
        head=head,
        gaze=gaze,
        position_m=0.5 * (left[:, 5:8] + right[:, 5:8]),
        valid=valid,
    )
    rec.valid &= ~_stuck(rec.eye, t_s, STUCK_EYE_S)
    return rec


def eye_spread_deg(rec: Recording) -> float:
    """RMS of the eye-in-head pitch and yaw standard deviations, degrees (dead-eye test)."""
    e = np.degrees(rec.eye[rec.valid])
    if len(e) < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.var(e, axis=0))))


def _vertical_steps(rec: Recording) -> np.ndarray:
    """Per raw frame step: the head's rotation about the world vertical, radians."""
    R = head_rotation_matrix(rec.head)
    dR = R[1:] @ np.transpose(R[:-1], (0, 2, 1))
    cos_a = np.clip((np.trace(dR, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    ang = np.arccos(cos_a)
    axis = np.stack(
        [dR[:, 2, 1] - dR[:, 1, 2], dR[:, 0, 2] - dR[:, 2, 0], dR[:, 1, 0] - dR[:, 0, 1]], 1
    )
    axis /= np.linalg.norm(axis, axis=1, keepdims=True) + 1e-12
    return ang * axis[:, 2]


def find_scene_turns(rec: Recording) -> list[tuple[int, int, str]]:
    """Controller scene turns and teleports as raw-frame ranges ``[a, b)`` with a kind
    (``"snap"``, ``"smooth"``, ``"teleport"``); see the module doc, step 6."""
    t = rec.t_s
    dt = np.diff(t)
    vert = _vertical_steps(rec)  # (N-1,)
    eye = rec.eye
    d_eye = np.linalg.norm(np.diff(eye, axis=0), axis=1)
    step_deg = np.degrees(np.abs(vert))
    eye_deg = np.degrees(d_eye)
    events: list[tuple[int, int, str]] = []
    snap = (step_deg > SNAP_STEP_DEG) & (eye_deg < step_deg / 3.0)
    for i in np.flatnonzero(snap):
        events.append((int(i), int(i) + 2, "snap"))
    jump = np.linalg.norm(np.diff(rec.position_m, axis=0), axis=1) > TELEPORT_M
    for i in np.flatnonzero(jump & ~snap):
        events.append((int(i), int(i) + 2, "teleport"))
    rate = step_deg / np.maximum(dt, 1e-3)
    cond = (rate > SMOOTH_RATE_DEG_S) & (eye_deg < step_deg / 3.0) & (dt < MAX_GAP_S) & ~snap
    k = 0
    n = len(cond)
    while k < n:
        if not cond[k]:
            k += 1
            continue
        j = k
        while j < n and cond[j]:
            j += 1
        signed = np.degrees(vert[k:j]) / np.maximum(dt[k:j], 1e-3)
        same_sign = abs(signed.sum()) == np.abs(signed).sum()
        steady = np.std(signed) < 0.25 * abs(np.mean(signed))
        if t[j] - t[k] >= SMOOTH_MIN_S and same_sign and steady:
            events.append((k, j + 1, "smooth"))
        k = j
    events.sort()
    return events


def _pieces(rec: Recording, events: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Raw-frame ranges between events, each shrunk by the margin, long enough to keep."""
    cuts = [(rec.t_s[a], rec.t_s[min(b, len(rec.t_s) - 1)]) for a, b, _ in events]
    bounds = []
    lo = rec.t_s[0]
    for c0, c1 in cuts:
        bounds.append((lo, c0 - TURN_MARGIN_S))
        lo = c1 + TURN_MARGIN_S
    bounds.append((lo, rec.t_s[-1]))
    out = []
    for t0, t1 in bounds:
        if t1 - t0 < MIN_CLIP_S:
            continue
        a = int(np.searchsorted(rec.t_s, t0, side="left"))
        b = int(np.searchsorted(rec.t_s, t1, side="right"))
        if b - a >= 2:
            out.append((a, b))
    return out


def recording_clips(
    rec: Recording, fps: float = 30.0
) -> tuple[list[Clip], list[tuple[int, int, str]]]:
    """One live-eye recording -> its clips (module doc, steps 5-8) and the events found."""
    head, offset = remove_eye_offset(rec.head, rec.gaze, rec.valid)
    events = find_scene_turns(rec)
    clips = []
    for k, (a, b) in enumerate(_pieces(rec, events)):
        t, h, g, ok = resample_on_timestamps(
            rec.t_s[a:b], head[a:b], rec.gaze[a:b], rec.valid[a:b], fps, max_gap_s=MAX_GAP_S
        )
        if not ok.any():
            continue
        yaw0 = np.median(np.unwrap(h[ok, 1]))
        h[:, 1] = (h[:, 1] - yaw0 + np.pi) % (2 * np.pi) - np.pi
        g[:, 1] = (g[:, 1] - yaw0 + np.pi) % (2 * np.pi) - np.pi
        suffix = f"_p{k}" if len(events) else ""
        clips.append(
            Clip(
                id=f"eyenavgs_{rec.person}_{rec.scene}{suffix}",
                gaze=g,
                head=h,
                valid=ok,
                fps=fps,
                source=os.path.relpath(rec.path, os.path.dirname(os.path.dirname(rec.path))),
                subject=rec.person,
                split=split_of(rec.person),
                extra={
                    "domain": "eyenavgs",
                    "scene": rec.scene,
                    "eye_pitch_offset_deg": round(float(np.degrees(offset[0])), 3),
                    "eye_yaw_offset_deg": round(float(np.degrees(offset[1])), 3),
                    "start_s": round(float(t[0] - rec.t_s[0]), 3),
                },
            )
        )
    return clips, events


def _files(root: str, people: Iterable[str] | None) -> list[str]:
    want = None if people is None else set(people)
    out = []
    for p in sorted(glob.glob(os.path.join(root, "*", "*.csv.gz"))):
        rel = os.path.relpath(p, root).replace(os.sep, "/")
        if rel in DUPLICATE_FILES:
            continue
        person = os.path.basename(p).split("_", 1)[0]
        if want is None or person in want:
            out.append(p)
    return out


@functools.lru_cache(maxsize=512)
def _cached_recording(path: str, mtime: float) -> Recording:
    del mtime  # part of the cache key only
    return read_recording(path)


def _load(root: str, fps: float, people: Iterable[str] | None) -> tuple[list[Clip], dict]:
    files = _files(root, people)
    if not files:
        raise FileNotFoundError(f"{root}: no <scene>/userN_<scene>.csv.gz files found")
    clips: list[Clip] = []
    stats: dict = {"files": len(files), "dead": [], "events": {}, "offsets_deg": []}
    for p in files:
        rec = _cached_recording(os.path.abspath(p), os.path.getmtime(p))
        rel = os.path.relpath(p, root)
        if eye_spread_deg(rec) < DEAD_EYE_SPREAD_DEG:
            stats["dead"].append(rel)
            continue
        cs, events = recording_clips(rec, fps)
        if events:
            stats["events"][rel] = [(int(a), int(b), k) for a, b, k in events]
        clips.extend(cs)
    return clips, stats


def load_eyenavgs_clips(
    root: str | None = None, fps: float = 30.0, people: Iterable[str] | None = None
) -> list[Clip]:
    """Clips of every live-eye recording (or of ``people``) at ``fps``; see the module doc.

    ``root`` defaults to ``../shared/data/eyenavgs_nthu``. Parsed files are cached per
    process, so a second call (another ``fps`` or group of people) costs resampling only.
    """
    return _load(root or eyenavgs_dir(), fps, None if people is None else tuple(people))[0]


def counter_rotation_gain(
    clips: Iterable[Clip],
    *,
    min_head_rate_deg_s: float = 20.0,
    max_gaze_rate_deg_s: float = 10.0,
    axis: int = 0,
) -> float:
    """Median per-clip gain -d(eye)/d(head) on one axis (0 pitch, 1 yaw) over the frames
    where the head moves (> ``min_head_rate_deg_s``) and the world gaze holds (<
    ``max_gaze_rate_deg_s``): ~1 for a perfect VOR, 0 when the eye is carried along."""
    gains = []
    for c in clips:
        eye = eye_from_gaze_head(c.gaze, c.head)
        d_head = np.diff(np.unwrap(c.head[:, axis])) * c.fps
        d_gaze = np.diff(np.unwrap(c.gaze[:, axis])) * c.fps
        d_eye = np.diff(eye[:, axis]) * c.fps
        ok = c.valid[1:] & c.valid[:-1]
        sel = (
            ok
            & (np.degrees(np.abs(d_head)) > min_head_rate_deg_s)
            & (np.degrees(np.abs(d_gaze)) < max_gaze_rate_deg_s)
        )
        if sel.sum() >= 10:
            gains.append(-np.sum(d_eye[sel] * d_head[sel]) / np.sum(d_head[sel] ** 2))
    return float(np.median(gains)) if gains else float("nan")


def summary(clips: list[Clip], stats: dict) -> str:
    lines = [f"files read: {stats['files']}, dead-eye files dropped: {len(stats['dead'])}"]
    for d in stats["dead"]:
        lines.append(f"  dead: {d}")
    kinds: dict[str, int] = {}
    for ev in stats["events"].values():
        for *_, k in ev:
            kinds[k] = kinds.get(k, 0) + 1
    lines.append(
        f"scene turns / teleports found: {kinds or 'none'} in {len(stats['events'])} recordings"
    )
    for split in ("train", "val", "test"):
        cs = [c for c in clips if c.split == split]
        people = sorted({c.subject for c in cs}, key=lambda s: int(s[4:]))
        minutes = sum(c.frames / c.fps for c in cs) / 60.0
        lines.append(
            f"{split}: {len(people)} people, {len(cs)} clips, {minutes:.1f} min: {', '.join(people)}"
        )
    off = np.array(
        [[c.extra["eye_pitch_offset_deg"], c.extra["eye_yaw_offset_deg"]] for c in clips]
    )
    after = np.array(
        [
            np.degrees(np.median(eye_from_gaze_head(c.gaze[c.valid], c.head[c.valid]), 0))
            for c in clips
        ]
    )
    lines.append(
        "median eye-in-head (pitch, yaw) deg before: "
        f"({np.median(off[:, 0]):.2f}, {np.median(off[:, 1]):.2f}), after: "
        f"({np.median(after[:, 0]):.2f}, {np.median(after[:, 1]):.2f})"
    )
    lines.append(
        "eye-head counter-rotation gain (head moving > 20 deg/s, gaze < 10 deg/s): pitch "
        f"{counter_rotation_gain(clips, axis=0):.2f}, yaw {counter_rotation_gain(clips, axis=1):.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m training.data.eyenavgs",
        description="Import EyeNavGS (NTHU) into a docs/design.md §3 dataset folder.",
    )
    ap.add_argument("--out", required=True, help="output dataset folder")
    ap.add_argument("--root", default=None, help="eyenavgs_nthu folder (default: shared data)")
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args(argv)
    root = args.root or eyenavgs_dir()
    clips, stats = _load(root, args.fps, None)
    write_dataset(
        args.out,
        clips,
        name=DATASET_NAME,
        description="EyeNavGS NTHU, standing Quest Pro; split by person (training.data.eyenavgs)",
        test_people=list(TEST_PEOPLE),
        val_people=list(VAL_PEOPLE),
        dead_files=stats["dead"],
    )
    print(summary(clips, stats))
    print(f"wrote {len(clips)} clips to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
