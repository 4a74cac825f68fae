"""Driving a portrait from gaze: the generator's head and eyes per frame, blinks, the face
video, the per-frame CSV, the side-by-side panel and a contact sheet.

The generator turns gaze into head and eyes (gaze in, head and eyes out); the animator draws
them. Where the picture's range is smaller than the motion (docs/portrait.md), the head is
softened and the eyes re-aimed from the drawn head at the same gaze, so the face keeps
looking where the generator looks as long as its eyes can reach.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..files import write_atomically
from ..geometry import eye_from_gaze_head, gaze_from_head_eye
from ..saccade import minimum_jerk, saccade_duration_s
from .animator import PortraitAnimator
from .landmarks import import_cv2


# -- gaze scripts ---------------------------------------------------------------------------
def _saccades(fps: float, fixations: list[tuple[float, float, float]], end_s: float) -> np.ndarray:
    """(T, 2) gaze that holds each (start_s, pitch_deg, yaw_deg) fixation, reached by a
    minimum-jerk saccade whose duration follows the main sequence (21 ms + 2.2 ms/deg)."""
    T = int(round(end_s * fps))
    gaze = np.zeros((T, 2))
    k = 0
    for i in range(T):
        t = i / fps
        while k + 1 < len(fixations) and fixations[k + 1][0] <= t + 1e-9:
            k += 1
        start, target = fixations[k][0], np.radians(fixations[k][1:])
        if k == 0:
            gaze[i] = target
            continue
        prev = np.radians(fixations[k - 1][1:])
        dur = saccade_duration_s(float(np.hypot(*(target - prev))))
        gaze[i] = prev + minimum_jerk(min(1.0, (t - start + 1.0 / fps) / dur)) * (target - prev)
    return gaze


def glance_script(fps: float) -> np.ndarray:
    """12 s of glances a portrait can follow: small and moderate shifts in every direction,
    a slow pursuit, back ahead."""
    fix = [
        (0.0, 0.0, 0.0),
        (1.0, 2.0, 25.0),
        (2.2, -3.0, -30.0),
        (3.4, 12.0, -8.0),
        (4.4, -15.0, 10.0),
        (5.6, 0.0, 40.0),
        (7.0, 0.0, 0.0),
    ]
    gaze = _saccades(fps, fix, 12.0)
    t = np.arange(len(gaze)) / fps
    pursuit = (t >= 8.0) & (t < 11.0)
    u = t[pursuit] - 8.0
    gaze[pursuit, 1] = np.radians(30.0) * np.sin(2 * np.pi * u / 3.0)
    gaze[pursuit, 0] = np.radians(10.0) * np.sin(4 * np.pi * u / 3.0)
    return gaze


def scan_script(fps: float) -> np.ndarray:
    """10 s of looking around a room: a slow sweep left and right (+-35 deg) with glances up
    and down on the way, then back to the viewer."""
    fix = [
        (0.0, 0.0, 0.0),
        (0.8, 5.0, 35.0),
        (2.0, -10.0, 20.0),
        (3.0, 0.0, -15.0),
        (4.2, 8.0, -35.0),
        (5.6, -5.0, -10.0),
        (6.6, 15.0, 5.0),
        (7.8, 0.0, 0.0),
    ]
    return _saccades(fps, fix, 10.0)


SCRIPTS = {"glance": glance_script, "scan": scan_script}


# -- blinks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlinkSchedule:
    """Spontaneous blinks: ``rate_per_min`` on average (adults at rest: about 15-20 per
    minute), intervals gamma-distributed with a 1 s minimum; each blink closes in 75 ms,
    stays shut 50 ms and opens in 150 ms."""

    rate_per_min: float = 17.0
    seed: int = 0

    def closure(self, num_frames: int, fps: float) -> np.ndarray:
        """(T,) lid closure in [0, 1] per frame."""
        if not (math.isfinite(self.rate_per_min) and 0.0 <= self.rate_per_min <= 120.0):
            raise ValueError(f"blink rate must be in [0, 120] per minute, got {self.rate_per_min}")
        out = np.zeros(num_frames)
        if self.rate_per_min == 0.0 or num_frames == 0:
            return out
        rng = np.random.default_rng(self.seed)
        mean = 60.0 / self.rate_per_min
        t = np.arange(num_frames) / fps
        onset = rng.uniform(0.3, mean)
        close_s, shut_s, open_s = 0.075, 0.05, 0.15
        while onset < t[-1]:
            u = t - onset
            c = np.where(
                u < 0,
                0.0,
                np.where(
                    u < close_s,
                    u / close_s,
                    np.where(u < close_s + shut_s, 1.0, 1.0 - (u - close_s - shut_s) / open_s),
                ),
            )
            out = np.maximum(out, np.clip(c, 0.0, 1.0))
            onset += max(1.0, rng.gamma(4.0, mean / 4.0))
        return out


# -- performance ----------------------------------------------------------------------------
@dataclass
class Performance:
    """Per frame: the gaze, the generator's head and eyes, what is drawn, and blinks."""

    fps: float
    gaze: np.ndarray  # (T, 2)
    head: np.ndarray  # (T, 3) the generator's
    eye: np.ndarray  # (T, 2) the generator's
    drawn_head: np.ndarray  # (T, 3)
    drawn_eye: np.ndarray  # (T, 2)
    blink: np.ndarray  # (T,)


def perform(
    animator: PortraitAnimator,
    gaze: np.ndarray,
    *,
    generator=None,
    blinks: BlinkSchedule | None = None,
) -> Performance:
    """Run ``generator`` (default: ``gh.Generator()``, one agent) over ``gaze`` (T, 2) rad
    at the generator's rate and work out what the animator draws per frame."""
    import gazehead_rt as gh  # noqa: PLC0415 - the package is imported by now

    g = np.asarray(gaze, np.float64)
    if g.ndim != 2 or g.shape[1] != 2 or len(g) == 0:
        raise ValueError(f"gaze must be (T, 2) radians with T >= 1, got shape {g.shape}")
    gen = generator if generator is not None else gh.Generator()
    head, eye = gen.generate(g.astype(np.float32)[:, None, :], return_eye=True)
    head, eye = head[:, 0].astype(np.float64), eye[:, 0].astype(np.float64)
    drawn_head = animator.range.head(head)
    # re-aim the eyes from the drawn head at the gaze the generator's head and eyes make
    drawn_eye = animator.range.eye(eye_from_gaze_head(gaze_from_head_eye(head, eye), drawn_head))
    fps = float(gen.fps)
    blink = (blinks or BlinkSchedule(0.0)).closure(len(g), fps)
    return Performance(fps, g, head, eye, drawn_head, drawn_eye, blink)


def frames(animator: PortraitAnimator, perf: Performance) -> Iterator[np.ndarray]:
    """The face frames of a performance, one by one (RGB uint8)."""
    for h, e, b in zip(perf.drawn_head, perf.drawn_eye, perf.blink):
        yield animator.render(h, e, blink=float(b))


# -- side-by-side panel ---------------------------------------------------------------------
def numbers_panel(perf: Performance, i: int, size: int) -> np.ndarray:
    """(size, size, 3) panel with the generator's numbers at frame ``i`` and a yaw trace."""
    cv2 = import_cv2()
    panel = np.full((size, size, 3), 24, np.uint8)
    k = size / 512.0
    font, white, grey = cv2.FONT_HERSHEY_SIMPLEX, (235, 235, 235), (150, 150, 150)

    def text(s, y, color=white, scale=0.55):
        cv2.putText(panel, s, (int(16 * k), int(y * k)), font, scale * k, color, 1, cv2.LINE_AA)

    d = np.degrees
    text(f"frame {i}   t = {i / perf.fps:6.2f} s", 34)
    text("deg            pitch     yaw    roll", 70, grey)
    text(f"gaze        {d(perf.gaze[i, 0]):7.1f} {d(perf.gaze[i, 1]):7.1f}", 100)
    h = d(perf.head[i])
    text(f"head        {h[0]:7.1f} {h[1]:7.1f} {h[2]:7.1f}", 130, (120, 200, 255))
    e = d(perf.eye[i])
    text(f"eye in head {e[0]:7.1f} {e[1]:7.1f}", 160, (255, 190, 120))
    dh = d(perf.drawn_head[i])
    text(f"drawn head  {dh[0]:7.1f} {dh[1]:7.1f} {dh[2]:7.1f}", 190, grey)
    de = d(perf.drawn_eye[i])
    text(f"drawn eye   {de[0]:7.1f} {de[1]:7.1f}", 220, grey)
    # yaw over the last 4 s: gaze (white), head (blue)
    y0, y1 = int(260 * k), int(490 * k)
    x0, x1 = int(16 * k), size - int(16 * k)
    cv2.rectangle(panel, (x0, y0), (x1, y1), (70, 70, 70), 1)
    span = int(4 * perf.fps)
    lo = max(0, i - span + 1)
    ts = np.arange(lo, i + 1)
    lim = np.radians(60.0)

    def trace(v, color):
        xs = x0 + (ts - (i - span + 1)) / max(1, span - 1) * (x1 - x0)
        ys = (y0 + y1) / 2 - np.clip(v[lo : i + 1] / lim, -1, 1) * (y1 - y0) / 2
        pts = np.round(np.stack([xs, ys], 1) * 16).astype(np.int32)
        cv2.polylines(panel, [pts], False, color, 2, cv2.LINE_AA, 4)

    trace(perf.gaze[:, 1], white)
    trace(perf.head[:, 1], (120, 200, 255))
    text("yaw, last 4 s (+-60 deg): gaze, head", 510 - 4, grey, 0.45)
    return panel


# -- files ----------------------------------------------------------------------------------
CSV_COLUMNS = [
    "frame",
    "time_s",
    "gaze_pitch",
    "gaze_yaw",
    "head_pitch",
    "head_yaw",
    "head_roll",
    "eye_pitch",
    "eye_yaw",
    "drawn_head_pitch",
    "drawn_head_yaw",
    "drawn_head_roll",
    "drawn_eye_pitch",
    "drawn_eye_yaw",
    "blink",
]


def write_csv(path: str, perf: Performance) -> None:
    """Per frame: gaze, the generator's head and eye, the drawn head and eye (rad), blink."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for i in range(len(perf.gaze)):
            vals = [*perf.gaze[i], *perf.head[i], *perf.eye[i], *perf.drawn_head[i]]
            vals += [*perf.drawn_eye[i], perf.blink[i]]
            w.writerow([i, f"{i / perf.fps:.6f}", *(f"{v:.7g}" for v in vals)])


class _VideoWriter:
    """MP4: H.264 through imageio-ffmpeg when installed, else OpenCV's MPEG-4 writer."""

    def __init__(self, path: str, width: int, height: int, fps: float):
        self._ff = None
        try:
            import imageio_ffmpeg  # noqa: PLC0415

            imageio_ffmpeg.get_ffmpeg_exe()  # raises where the package has no binary here
        except (ImportError, RuntimeError, OSError):
            cv2 = import_cv2()
            self._cv = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
            if not self._cv.isOpened():
                raise OSError(f"{path}: OpenCV cannot write an MP4 here") from None
            return
        self._ff = imageio_ffmpeg.write_frames(
            path,
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            quality=8,
            macro_block_size=16,
            ffmpeg_log_level="error",
        )
        self._ff.send(None)

    def add(self, rgb: np.ndarray) -> None:
        if self._ff is not None:
            self._ff.send(np.ascontiguousarray(rgb))
        else:
            self._cv.write(np.ascontiguousarray(rgb[..., ::-1]))

    def close(self) -> None:
        if self._ff is not None:
            self._ff.close()
        else:
            self._cv.release()


def _replace_atomically(path: str, write: Callable[[str], None]) -> None:
    """``write(tmp_path)`` through :func:`gazehead_rt.files.write_atomically` (the temp name
    keeps the extension: the video and image writers pick the format by it)."""

    def by_path(fd: int, tmp: str) -> None:
        os.close(fd)
        write(tmp)

    write_atomically(path, by_path, suffix=os.path.splitext(path)[1])


def contact_sheet(images: list[np.ndarray], path: str, columns: int = 4) -> None:
    """Write RGB tiles (same size) as one PNG, ``columns`` per row."""
    cv2 = import_cv2()
    h, w = images[0].shape[:2]
    rows = math.ceil(len(images) / columns)
    sheet = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = im
    if not cv2.imwrite(path, sheet[..., ::-1]):
        raise OSError(f"{path}: could not write the PNG")


def write_animation(
    animator: PortraitAnimator,
    perf: Performance,
    out_path: str,
    *,
    side_by_side: bool = False,
    preview: bool = False,
) -> dict[str, str]:
    """Write the video to ``out_path`` (.mp4), the per-frame CSV beside it (same name,
    .csv) and, with ``preview``, a contact sheet (.png) of 8 moments. Returns the paths."""
    if not out_path.lower().endswith(".mp4"):
        raise ValueError(f"{out_path}: the output video must be an .mp4 file")
    stem = out_path[:-4]
    s = animator.size
    width = 2 * s if side_by_side else s
    picks = set(np.linspace(0, len(perf.gaze) - 1, min(8, len(perf.gaze))).round().astype(int))
    shots: list[np.ndarray] = []

    def write_video(tmp: str) -> None:
        writer = _VideoWriter(tmp, width, s, perf.fps)
        try:
            for i, frame in enumerate(frames(animator, perf)):
                if side_by_side:
                    frame = np.concatenate([frame, numbers_panel(perf, i, s)], axis=1)
                writer.add(frame)
                if preview and i in picks:
                    shots.append(frame if not side_by_side else frame[:, :s].copy())
        finally:
            writer.close()

    _replace_atomically(out_path, write_video)
    paths = {"video": out_path, "csv": stem + ".csv"}
    _replace_atomically(paths["csv"], lambda tmp: write_csv(tmp, perf))
    if preview:
        paths["preview"] = stem + ".png"
        _replace_atomically(paths["preview"], lambda tmp: contact_sheet(shots, tmp))
    return paths
