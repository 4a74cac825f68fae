"""``gazehead-rt demo``: watch the model move a head, next to what games do today.

With no arguments it runs the default model (``gh.Generator()``) on a scripted gaze
sequence -- fixation, saccades between targets, smooth pursuit, a look behind and back --
and writes, into ``./gazehead_demo/``:

* ``demo.mp4`` (or ``demo.gif``): two heads side by side, the model on the left and the
  proportional baseline on the right, with a timeline of gaze and head yaw/pitch below;
* ``contact_sheet.png``: twelve moments of the clip in one picture;
* ``motion.csv``: the per-frame numbers behind the pictures.

The baseline is the usual game-engine rule, head = k * gaze through a first-order low-pass
(k = 0.5, time constant 0.15 s, no roll), stepped at the model rate.

Rendering is a numpy ray caster (:mod:`gazehead_rt._render`), headless and on the CPU; the
video is encoded by the ffmpeg binary of ``imageio-ffmpeg`` (GIF via Pillow without it).
``--interactive`` opens a window where the mouse is the gaze target (needs a display).

The red ball marks the current target's direction, drawn 0.33 m from the eyes so it stays
in the picture (the scripted targets are 1-1.6 m away); each eye aims at the point at that
distance along the current gaze, so the two red lines meet on the ball once the gaze has
arrived. Eyes are drawn clipped to their +-50 deg range; an "eyes out of range" tag shows
when the head leaves more than that to them.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _render
from .geometry import (
    direction_from_pitch_yaw,
    eye_from_gaze_head,
    head_rotation_matrix,
    look_at,
)

__all__ = ["main", "ProportionalBaseline", "Script", "Motion", "default_script", "simulate",
           "summarize", "run_demo", "run_interactive", "MouseGaze"]

#: Proportional baseline: head = BASELINE_GAIN * gaze, low-passed with this time constant.
BASELINE_GAIN = 0.5
BASELINE_TAU_S = 0.15
#: Eye range drawn and flagged in the demo (DESIGN §1: about +-45-55 deg).
EYE_RANGE_RAD = math.radians(50.0)
#: Distance from the eyes at which the target ball and the gaze point are drawn.
MARKER_DISTANCE_M = 0.33
DEFAULT_OUT_DIR = "gazehead_demo"
FRAME_W, FRAME_H = 1024, 768  # multiples of 16, so ffmpeg encodes without resizing


# -- the scripted gaze ------------------------------------------------------------------------
@dataclass
class Script:
    """A gaze script sampled at the model rate: per frame the target point (B, metres) and
    the gaze (pitch, yaw) the eyes actually have (saccades take time, pursuit is smooth)."""

    fps: float
    t_s: np.ndarray  # (T,)
    target_xyz: np.ndarray  # (T, 3) target point in B, metres (pivot origin)
    gaze: np.ndarray  # (T, 2) radians
    phase: list[str]  # (T,) label of the part of the script
    phases: list[tuple[float, float, str]]  # (start_s, end_s, label)


def _saccade_duration_s(amplitude_rad: float) -> float:
    """Main sequence of human saccades, D ~ 21 ms + 2.2 ms/deg (Carpenter 1988); for the
    largest shifts this also stands in for the head-limited gaze shift."""
    return 0.021 + 0.0022 * math.degrees(amplitude_rad)


def default_script(fps: float, duration_s: float | None = None) -> Script:
    """The demo's gaze sequence: fixate, five saccades (one of them small, where a head
    barely moves), 4 s of smooth pursuit on a Lissajous path, a look behind and back."""
    eye0 = _render.EYE_MID_REST_M
    fixations = [  # (start_s, label, target point in B; metres, pivot origin)
        (0.0, "fixate ahead", (1.6, 0.0, 0.14)),
        # target direction (pitch, yaw) in deg, and the size of the gaze shift to it
        (1.0, "saccades", (1.3, 0.65, 0.40)),  # (11, 28) up-left: a 30 deg shift
        (2.0, "saccades", (1.2, -0.9, 0.05)),  # (-4, -39) right: 68 deg
        (3.0, "saccades", (1.3, -0.62, 0.20)),  # (3, -27): 13 deg, the head should stay
        (4.0, "saccades", (0.7, 1.25, 0.14)),  # (0, 64) far left: 91 deg
        (5.0, "saccades", (1.5, 0.0, -0.25)),  # (-15, 0) ahead and down: 66 deg
    ]
    pursuit_start_s, pursuit_end_s = 6.0, 10.0
    later = [
        (pursuit_end_s, "look behind", (-1.3, -0.7, 0.35)),  # (8, -153) behind-right
        (12.0, "back to front", (1.6, 0.1, 0.14)),  # (0, 4)
    ]
    end_s = 13.5
    if duration_s is not None:
        end_s = min(end_s, float(duration_s))
    T = int(round(end_s * fps))
    t = np.arange(T) / fps

    def pursuit_target(ts: float) -> np.ndarray:
        u = ts - pursuit_start_s
        # 0.2 Hz in yaw (+-33 deg), 0.4 Hz in pitch: peak ~40 deg/s, within human pursuit
        return np.array([1.4, 0.9 * math.sin(2 * math.pi * 0.2 * u),
                         0.14 + 0.3 * math.sin(2 * math.pi * 0.4 * u)])

    targets = np.empty((T, 3))
    phase = []
    sched = fixations + [(pursuit_start_s, "smooth pursuit", None)] + later
    for i, ts in enumerate(t):
        k = max(j for j, s in enumerate(sched) if s[0] <= ts + 1e-9)
        _, label, pt = sched[k]
        targets[i] = pursuit_target(ts) if pt is None else pt
        phase.append(label)
    target_dir = look_at(targets, eye0)

    # Gaze: fixations reached by minimum-jerk saccades; pursuit follows the target smoothly.
    gaze = target_dir.copy()
    jumps = [i for i in range(1, T) if phase[i] != "smooth pursuit"
             and np.any(targets[i] != targets[i - 1])]
    for i in jumps:
        g0, g1 = gaze[i - 1].copy(), target_dir[i]
        # yaw is not wrapped: a gaze shift sweeps through the front, never through the
        # back of the body (eyes + neck reach about +-130 deg, the back is out of reach)
        delta = g1 - g0
        n = max(1, int(math.ceil(_saccade_duration_s(float(np.hypot(*delta))) * fps)))
        for j in range(min(n, T - i)):
            s = (j + 1) / n
            s = s * s * s * (10 - 15 * s + 6 * s * s)  # minimum-jerk profile
            gaze[i + j] = g0 + s * delta
    segments, start = [], 0
    for i in range(1, T + 1):
        if i == T or phase[i] != phase[start]:
            segments.append((start / fps, i / fps, phase[start]))
            start = i
    return Script(fps, t, targets, gaze, phase, segments)


# -- the baseline ---------------------------------------------------------------------------
class ProportionalBaseline:
    """What games do today: head (pitch, yaw) = ``gain`` * gaze, first-order low-passed with
    time constant ``tau_s``, roll 0. Stepped at ``fps`` like the model."""

    def __init__(self, fps: float, gain: float = BASELINE_GAIN, tau_s: float = BASELINE_TAU_S,
                 num_agents: int = 1):
        self.gain = gain
        self.alpha = 1.0 - math.exp(-1.0 / (fps * tau_s))  # exact discretization
        self._head = np.zeros((num_agents, 3))
        self._started = False

    def step(self, gaze: np.ndarray) -> np.ndarray:
        """One model-rate frame: gaze (2,) or (N, 2) radians -> head (N, 3) float32. The
        first call starts at rest on its target (no swing in from zero)."""
        g = np.broadcast_to(np.asarray(gaze, dtype=np.float64), (len(self._head), 2))
        target = np.concatenate([self.gain * g, np.zeros((len(g), 1))], axis=1)
        if not self._started:
            self._head[:] = target
            self._started = True
        else:
            self._head += self.alpha * (target - self._head)
        return self._head.astype(np.float32)


# -- simulation -----------------------------------------------------------------------------
@dataclass
class Motion:
    """Per-frame head and eye of the model and the baseline for a :class:`Script`."""

    model_head: np.ndarray  # (T, 3)
    model_eye: np.ndarray  # (T, 2)
    base_head: np.ndarray  # (T, 3)
    base_eye: np.ndarray  # (T, 2)


def simulate(generator: Any, script: Script) -> Motion:
    """Run ``generator`` (anything with ``step(gaze) -> (1, 3)``) and the baseline."""
    base = ProportionalBaseline(script.fps)
    mh, bh = [], []
    for g in script.gaze:
        mh.append(np.array(generator.step(g.astype(np.float32))[0], dtype=np.float64))
        bh.append(np.array(base.step(g)[0], dtype=np.float64))
    mh, bh = np.stack(mh), np.stack(bh)
    # eye = gaze seen from the head (DESIGN §2); computed here for both, so they compare
    return Motion(mh, eye_from_gaze_head(script.gaze, mh), bh,
                  eye_from_gaze_head(script.gaze, bh))


def summarize(script: Script, motion: Motion) -> list[dict[str, float]]:
    """Per gaze shift of the script: its size and the head's share of it, 0.9 s after onset,
    for the model and the baseline, and the frames with eyes beyond their range."""
    rows = []
    onsets = [i for i in range(1, len(script.t_s))
              if np.any(script.target_xyz[i] != script.target_xyz[i - 1])
              and script.phase[i] != "smooth pursuit"]
    for i in onsets:
        j = min(i + int(round(0.9 * script.fps)), len(script.t_s) - 1)
        shift = script.gaze[j] - script.gaze[i - 1]
        amp = float(np.hypot(*shift))
        row = {"t_s": float(script.t_s[i]), "shift_deg": math.degrees(amp)}
        for name, head in (("model", motion.model_head), ("baseline", motion.base_head)):
            # head rotation along the gaze shift, as a fraction of it
            dh = head[j, :2] - head[i - 1, :2]
            row[f"{name}_head_share"] = float(dh @ shift) / max(amp * amp, 1e-12)
        rows.append(row)
    return rows


def _summary_lines(script: Script, motion: Motion) -> list[str]:
    lines = ["  gaze shift  at t   size   head share: model  baseline"]
    for r in summarize(script, motion):
        lines.append(f"            {r['t_s']:5.2f} s {r['shift_deg']:5.0f} deg        "
                     f"{r['model_head_share']:5.2f}     {r['baseline_head_share']:5.2f}")
    for name, eye in (("model", motion.model_eye), ("baseline", motion.base_eye)):
        n = int(np.sum(np.any(np.abs(eye) > EYE_RANGE_RAD, axis=1)))
        lines.append(f"  {name}: eyes beyond +-{math.degrees(EYE_RANGE_RAD):.0f} deg in {n} of "
                     f"{len(eye)} frames")
    return lines


# -- drawing --------------------------------------------------------------------------------
def _font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed bitmap font
        return ImageFont.load_default()


def _verge_eyes(head: np.ndarray, gaze: np.ndarray) -> np.ndarray:
    """Per-eye (pitch, yaw) (2, 2) aiming at the gaze point, clipped to the eye range."""
    point = _render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(gaze)
    R = head_rotation_matrix(head)
    eye_pos = _render.EYE_CENTERS @ R.T
    eyes = eye_from_gaze_head(look_at(point, eye_pos), np.broadcast_to(head, (2, 3)))
    return np.clip(eyes, -EYE_RANGE_RAD, EYE_RANGE_RAD)


def _timeline(script: Script, motion: Motion, width: int, height: int):
    """Static timeline image (H, W, 3) uint8 and a function t_s -> x pixel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax_y = fig.add_axes((0.06, 0.42, 0.92, 0.48))
    ax_p = fig.add_axes((0.06, 0.13, 0.92, 0.25), sharex=ax_y)
    t = script.t_s
    deg = np.degrees
    for ax, k, name in ((ax_y, 1, "yaw"), (ax_p, 0, "pitch")):
        ax.plot(t, deg(script.gaze[:, k]), color="0.1", lw=1.2, label="gaze")
        ax.plot(t, deg(motion.model_head[:, k]), color="#2f6db5", lw=2.0,
                label="head: gazehead_rt")
        ax.plot(t, deg(motion.base_head[:, k]), color="#e07b1f", lw=1.6, ls="--",
                label=f"head: baseline k={BASELINE_GAIN}, tau={BASELINE_TAU_S}s")
        ax.set_ylabel(f"{name} (deg)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        for i, (s0, s1, label) in enumerate(script.phases):
            if i % 2:
                ax.axvspan(s0, s1, color="0.5", alpha=0.08, lw=0)
    for s0, s1, label in script.phases:
        ax_y.text(0.5 * (s0 + s1), 1.02, label, transform=ax_y.get_xaxis_transform(),
                  ha="center", va="bottom", fontsize=7, color="0.3")
    ax_y.legend(loc="upper left", fontsize=7, ncol=3, framealpha=0.8)
    ax_p.set_xlabel("time (s)", fontsize=8, labelpad=1)
    ax_y.set_xlim(t[0], t[-1] + 1.0 / script.fps)
    ax_y.tick_params(labelbottom=False)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    x0 = ax_y.transData.transform((t[0], 0))[0]
    x1 = ax_y.transData.transform((t[-1], 0))[0]
    y_top = height - ax_y.bbox.y1
    y_bot = height - ax_p.bbox.y0

    def x_of(ts: float) -> int:
        return int(round(x0 + (x1 - x0) * (ts - t[0]) / max(t[-1] - t[0], 1e-9)))

    return img, x_of, (int(y_top), int(y_bot))


class FrameComposer:
    """Builds the demo frames: model panel, baseline panel, timeline with a cursor."""

    def __init__(self, script: Script, motion: Motion, scale: float = 1.0):
        from PIL import Image, ImageDraw

        self._Image, self._Draw = Image, ImageDraw
        self.script, self.motion = script, motion
        W = int(round(FRAME_W * scale / 16)) * 16
        H = int(round(FRAME_H * scale / 16)) * 16
        self.size = (W, H)
        self.panel = (W // 2, H * 2 // 3)
        pw, ph = self.panel
        self.model_r = _render.HeadRenderer(pw, ph)
        self.base_r = _render.HeadRenderer(pw, ph, shirt=(0.58, 0.58, 0.58),
                                           iris=(0.40, 0.30, 0.20))
        self.timeline, self.x_of, self.y_span = _timeline(script, motion, W, H - ph)
        self.f_title = _font(max(10, int(22 * scale)))
        self.f_small = _font(max(9, int(16 * scale)))
        self.scale = scale

    def frame(self, i: int) -> np.ndarray:
        """(H, W, 3) uint8 frame for model frame i."""
        s, m = self.script, self.motion
        pw, ph = self.panel
        ball = _render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(
            look_at(s.target_xyz[i], _render.EYE_MID_REST_M))
        left = self.model_r.render(m.model_head[i], _verge_eyes(m.model_head[i], s.gaze[i]), ball)
        right = self.base_r.render(m.base_head[i], _verge_eyes(m.base_head[i], s.gaze[i]), ball)
        tl = self.timeline.copy()
        x = self.x_of(s.t_s[i])
        y0, y1 = self.y_span
        if 0 <= x < tl.shape[1]:
            tl[y0:y1, max(0, x - 1):x + 1] = (200, 30, 30)
        img = np.concatenate([np.concatenate([left, right], axis=1), tl], axis=0)
        pil = self._Image.fromarray(img)
        d = self._Draw.Draw(pil)
        sc = self.scale
        pad = int(10 * sc) + 2
        halo = {"stroke_width": max(1, int(2 * sc)), "stroke_fill": (255, 255, 255)}
        d.text((pad, pad), "gazehead_rt (learned model)", fill=(20, 50, 110), font=self.f_title,
               **halo)
        d.text((pw + pad, pad), "proportional baseline", fill=(130, 70, 10), font=self.f_title,
               **halo)
        sub = f"head = {BASELINE_GAIN} x gaze, low-pass {BASELINE_TAU_S} s"
        d.text((pw + pad, pad + int(28 * sc)), sub, fill=(90, 90, 90), font=self.f_small, **halo)
        for k, (head, eye) in enumerate(((m.model_head[i], m.model_eye[i]),
                                         (m.base_head[i], m.base_eye[i]))):
            x = k * pw + pad
            y = ph - pad - int(46 * sc)
            txt = "head  pitch {:+4.0f}  yaw {:+4.0f}  roll {:+4.0f} deg".format(*np.degrees(head))
            d.text((x, y), txt, fill=(30, 30, 30), font=self.f_small, **halo)
            out = np.any(np.abs(eye) > EYE_RANGE_RAD)
            txt = "eyes  pitch {:+4.0f}  yaw {:+4.0f} deg".format(*np.degrees(eye))
            d.text((x, y + int(22 * sc)), txt + ("  OUT OF RANGE" if out else ""),
                   fill=(200, 20, 20) if out else (30, 30, 30), font=self.f_small, **halo)
        d.text((pad, pad + int(28 * sc)), f"t = {s.t_s[i]:5.2f} s   {s.phase[i]}",
               fill=(170, 20, 20), font=self.f_small, **halo)
        d.line([(pw, 0), (pw, ph)], fill=(170, 170, 170), width=1)
        return np.asarray(pil)


def _contact_sheet(frames: list[tuple[float, str, np.ndarray]], path: str) -> None:
    """A 4 x 3 grid of frames with their time and phase, written as PNG."""
    from PIL import Image, ImageDraw

    cols = 3
    rows = int(math.ceil(len(frames) / cols))
    h, w = frames[0][2].shape[:2]
    tw, th = w // 2, h // 2
    label_h = 26
    sheet = Image.new("RGB", (cols * tw, rows * (th + label_h)), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    f = _font(16)
    for k, (ts, label, img) in enumerate(frames):
        r, c = divmod(k, cols)
        x, y = c * tw, r * (th + label_h)
        sheet.paste(Image.fromarray(img).resize((tw, th), Image.LANCZOS), (x, y + label_h))
        d.text((x + 6, y + 4), f"t = {ts:.2f} s  {label}", fill=(0, 0, 0), font=f)
    sheet.save(path)


def _contact_times(script: Script, count: int = 12) -> list[int]:
    """Frame indices for the sheet: fixed story moments, else evenly spaced."""
    wanted_s = [0.5, 1.10, 1.6, 2.12, 4.10, 4.45, 4.9, 7.2, 8.7, 10.25, 11.3, 13.0]
    T = len(script.t_s)
    if script.t_s[-1] >= wanted_s[-1]:
        idx = [int(round(ts * script.fps)) for ts in wanted_s[:count]]
    else:
        idx = list(np.linspace(0, T - 1, min(count, T)).round().astype(int))
    return [min(i, T - 1) for i in idx]


# -- video ----------------------------------------------------------------------------------
class _Writer:
    def __init__(self, path: str, size: tuple[int, int], fps: float, fmt: str):
        self.path, self.fmt, self.fps = path, fmt, fps
        self._gif_frames: list = []
        self._count = 0
        if fmt == "mp4":
            import imageio_ffmpeg

            self._gen = imageio_ffmpeg.write_frames(
                path, size, fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=7,
                macro_block_size=16, ffmpeg_log_level="error")
            self._gen.send(None)

    def add(self, frame: np.ndarray) -> None:
        if self.fmt == "mp4":
            self._gen.send(np.ascontiguousarray(frame))
        else:
            from PIL import Image
            # GIF: every other frame at half size keeps the file a few MB
            if self._count % 2 == 0:
                im = Image.fromarray(frame)
                self._gif_frames.append(im.resize((im.width // 2, im.height // 2)))
        self._count += 1

    def close(self) -> None:
        if self.fmt == "mp4":
            self._gen.close()
        else:
            self._gif_frames[0].save(self.path, save_all=True, append_images=self._gif_frames[1:],
                                     duration=int(round(2000 / self.fps)), loop=0)


def _have_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg
        imageio_ffmpeg.get_ffmpeg_exe()
        return True
    except Exception:  # not installed, or no binary for this platform
        return False


def _write_csv(path: str, script: Script, motion: Motion) -> None:
    cols = ["t_s", "phase", "gaze_pitch", "gaze_yaw", "target_x_m", "target_y_m", "target_z_m",
            "model_head_pitch", "model_head_yaw", "model_head_roll", "model_eye_pitch",
            "model_eye_yaw", "base_head_pitch", "base_head_yaw", "base_head_roll",
            "base_eye_pitch", "base_eye_yaw"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(len(script.t_s)):
            row = [script.t_s[i], script.phase[i], *script.gaze[i], *script.target_xyz[i],
                   *motion.model_head[i], *motion.model_eye[i], *motion.base_head[i],
                   *motion.base_eye[i]]
            w.writerow([f"{v:.6f}" if isinstance(v, float) else v for v in row])


def run_demo(out_dir: str = DEFAULT_OUT_DIR, *, generator: Any = None, model: str | None = None,
             seed: int = 0, temperature: float = 1.0, duration_s: float | None = None,
             scale: float = 1.0, fmt: str = "auto", video: bool = True,
             log=print) -> dict[str, str]:
    """Render the demo into ``out_dir``; returns {"video", "contact_sheet", "csv"} paths.

    generator: anything with ``step(gaze) -> (1, 3)`` and ``fps``; default
    ``gh.Generator(model, seed=seed, temperature=temperature)``.
    fmt: "mp4", "gif" or "auto" (mp4 when imageio-ffmpeg is installed).
    """
    if generator is None:
        import gazehead_rt as gh  # late: the demo module must not import the native runtime

        generator = gh.Generator(model, seed=seed, temperature=temperature)
    if fmt == "auto":
        fmt = "mp4" if _have_ffmpeg() else "gif"
    if fmt not in ("mp4", "gif"):
        raise ValueError(f"fmt must be 'mp4', 'gif' or 'auto', got {fmt!r}")
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.perf_counter()
    script = default_script(float(generator.fps), duration_s)
    motion = simulate(generator, script)
    comp = FrameComposer(script, motion, scale)
    paths = {"csv": os.path.join(out_dir, "motion.csv"),
             "contact_sheet": os.path.join(out_dir, "contact_sheet.png")}
    _write_csv(paths["csv"], script, motion)
    sheet_idx = set(_contact_times(script))
    sheet: list = []
    writer = None
    if video:
        paths["video"] = os.path.join(out_dir, f"demo.{fmt}")
        writer = _Writer(paths["video"], comp.size, script.fps, fmt)
    try:
        for i in range(len(script.t_s)):
            if writer is None and i not in sheet_idx:
                continue
            img = comp.frame(i)
            if writer is not None:
                writer.add(img)
            if i in sheet_idx:
                sheet.append((float(script.t_s[i]), script.phase[i], img))
    finally:
        if writer is not None:
            writer.close()
    _contact_sheet(sheet, paths["contact_sheet"])
    log(f"gazehead-rt demo: {len(script.t_s)} frames at {script.fps:g} fps in "
        f"{time.perf_counter() - t0:.1f} s")
    for line in _summary_lines(script, motion):
        log(line)
    for k in ("video", "contact_sheet", "csv"):
        if k in paths:
            log(f"  wrote {paths[k]}")
    return paths


# -- interactive ----------------------------------------------------------------------------
def _display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True  # macOS and Windows always have a window system


class MouseGaze:
    """The interactive demo without the window: mouse position in, rendered frame out.

    The camera faces the character, so the left of the picture is its right (negative
    yaw); the picture spans +-80 deg of yaw and +-40 deg of pitch.
    """

    SIZE_PX = 480

    def __init__(self, generator: Any):
        from .rate import RateAdapter

        self.clock = RateAdapter(generator.step, generator.fps)  # redraws at any rate
        self.renderer = _render.HeadRenderer(self.SIZE_PX, self.SIZE_PX,
                                             camera_position=(1.9, 0.0, 0.22),
                                             look_at=(0.05, 0.0, 0.1))
        self.gaze = np.zeros(2)
        self._last_s: float | None = None

    def on_move(self, x_px: float, y_px: float) -> None:
        """Mouse at picture pixel (x, y), origin top-left -> the gaze target."""
        u = x_px / self.SIZE_PX - 0.5
        v = 0.5 - y_px / self.SIZE_PX
        self.gaze = np.array([math.radians(80) * v, math.radians(160) * u])

    def tick(self, now_s: float) -> np.ndarray:
        """Advance to wall-clock time ``now_s`` and render: (H, W, 3) uint8."""
        dt_s = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        head = self.clock.update(self.gaze, dt_s)[0].astype(np.float64)
        eyes = np.clip(self.clock.eye[0].astype(np.float64), -EYE_RANGE_RAD, EYE_RANGE_RAD)
        ball = _render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(self.gaze)
        return self.renderer.render(head, eyes, ball)


def run_interactive(*, model: str | None = None, seed: int = 0, temperature: float = 1.0) -> int:
    """A window with the model's head; the mouse position is the gaze target."""
    if not _display_available():
        print("gazehead-rt demo --interactive needs a display (no DISPLAY or WAYLAND_DISPLAY "
              "is set); run `gazehead-rt demo` without --interactive to write a video instead.",
              file=sys.stderr)
        return 2
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if plt.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        print(f"gazehead-rt demo --interactive: matplotlib backend {plt.get_backend()!r} cannot "
              "open windows; install a GUI toolkit (e.g. tkinter) or set MPLBACKEND.",
              file=sys.stderr)
        return 2
    import gazehead_rt as gh

    demo = MouseGaze(gh.Generator(model, seed=seed, temperature=temperature))
    fig, ax = plt.subplots(figsize=(6, 6))
    fig.canvas.manager.set_window_title("gazehead_rt: move the mouse")
    ax.set_axis_off()
    ax.set_title("move the mouse: it is the gaze target", fontsize=10)
    im = ax.imshow(demo.tick(time.perf_counter()))

    def on_move(event):
        if event.inaxes is ax and event.xdata is not None:
            demo.on_move(event.xdata, event.ydata)

    def tick(_):
        im.set_data(demo.tick(time.perf_counter()))
        return (im,)

    fig.canvas.mpl_connect("motion_notify_event", on_move)
    anim = FuncAnimation(fig, tick, interval=1000 / 60, blit=True, cache_frame_data=False)
    plt.show()
    del anim
    return 0


# -- command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazehead-rt demo",
        description="Render the learned head motion next to the proportional baseline "
                    "(video + contact sheet), or follow the mouse with --interactive.")
    p.add_argument("--out", default=DEFAULT_OUT_DIR, help="output folder (default: %(default)s)")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="prior temperature, 0 = mean motion (default: %(default)s)")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="cut the script after S seconds (default: all of it, 13.5 s)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="frame size factor of 1024x768 (default: %(default)s)")
    p.add_argument("--format", choices=("auto", "mp4", "gif"), default="auto",
                   help="video format; auto = mp4 when imageio-ffmpeg is installed")
    p.add_argument("--no-video", action="store_true", help="write only the sheet and the CSV")
    p.add_argument("--interactive", action="store_true",
                   help="open a window; the mouse is the gaze target")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gazehead-rt demo``; returns the process exit code."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    # the demo extra, imported up front so that a missing package stops the command before it
    # renders anything (`gazehead-rt demo` turns the error into an install hint)
    import matplotlib  # noqa: F401, PLC0415
    import PIL  # noqa: F401, PLC0415

    if args.interactive:
        return run_interactive(model=args.model, seed=args.seed, temperature=args.temperature)
    if not 0.2 <= args.scale <= 2.0:
        print(f"gazehead-rt demo: --scale must be in [0.2, 2], got {args.scale}", file=sys.stderr)
        return 2
    if args.format == "mp4" and not _have_ffmpeg():
        print("gazehead-rt demo: --format mp4 needs imageio-ffmpeg "
              '(pip install "gazehead_rt[demo]"); use --format gif', file=sys.stderr)
        return 2
    run_demo(args.out, model=args.model, seed=args.seed, temperature=args.temperature,
             duration_s=args.duration, scale=args.scale, fmt=args.format,
             video=not args.no_video)
    return 0


if __name__ == "__main__":  # python -m gazehead_rt.demo
    sys.exit(main())
