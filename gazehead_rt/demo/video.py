"""The recorded demo: frames composed from two rendered heads and a timeline, written as an
MP4 (imageio-ffmpeg) or GIF (Pillow), plus a contact sheet and the motion as CSV."""

from __future__ import annotations

import csv
import math
import os
import time
from typing import Any

import numpy as np

from ..geometry import direction_from_pitch_yaw, eye_from_gaze_head, head_rotation_matrix, look_at
from . import render
from .scenario import (
    BASELINE_GAIN,
    BASELINE_TAU_S,
    EYE_RANGE_RAD,
    MARKER_DISTANCE_M,
    Motion,
    Script,
    _summary_lines,
    default_script,
    shift_onsets,
    simulate,
    summarize,
)

DEFAULT_OUT_DIR = "gazehead_demo"
FRAME_W, FRAME_H = 1024, 768  # multiples of 16, so ffmpeg encodes without resizing


# -- drawing --------------------------------------------------------------------------------
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed bitmap font
        return ImageFont.load_default()


def _verge_eyes(head: np.ndarray, gaze: np.ndarray) -> np.ndarray:
    """Per-eye (pitch, yaw) (2, 2) aiming at the gaze point, clipped to the eye range."""
    point = render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(gaze)
    R = head_rotation_matrix(head)
    eye_pos = render.EYE_CENTERS @ R.T
    eyes = eye_from_gaze_head(look_at(point, eye_pos), np.broadcast_to(head, (2, 3)))
    return np.clip(eyes, -EYE_RANGE_RAD, EYE_RANGE_RAD)


#: timeline legend of the two heads: the model and the proportional baseline
BASELINE_LABELS = ("head: gazehead_rt", f"head: baseline k={BASELINE_GAIN}, tau={BASELINE_TAU_S}s")


def _timeline(
    script: Script,
    motion: Motion,
    width: int,
    height: int,
    labels: tuple[str, str] = BASELINE_LABELS,
):
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
        ax.plot(t, deg(motion.model_head[:, k]), color="#2f6db5", lw=2.0, label=labels[0])
        ax.plot(
            t,
            deg(motion.base_head[:, k]),
            color="#e07b1f",
            lw=1.6,
            ls="--",
            label=labels[1],
        )
        ax.set_ylabel(f"{name} (deg)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        for i, (s0, s1, _label) in enumerate(script.phases):
            if i % 2:
                ax.axvspan(s0, s1, color="0.5", alpha=0.08, lw=0)
    for s0, s1, label in script.phases:
        ax_y.text(
            0.5 * (s0 + s1),
            1.02,
            label,
            transform=ax_y.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color="0.3",
        )
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

    def __init__(
        self,
        script: Script,
        motion: Motion,
        scale: float = 1.0,
        titles: tuple[str, str] = ("gazehead_rt (learned model)", "proportional baseline"),
        subtitles: tuple[str, str] = (
            "",
            f"head = {BASELINE_GAIN} x gaze, low-pass {BASELINE_TAU_S} s",
        ),
        labels: tuple[str, str] = BASELINE_LABELS,
    ):
        from PIL import Image, ImageDraw

        self.titles, self.subtitles = titles, subtitles
        self.onsets = shift_onsets(script)
        self.shifts = summarize(script, motion)

        self._Image, self._Draw = Image, ImageDraw
        self.script, self.motion = script, motion
        W = int(round(FRAME_W * scale / 16)) * 16
        H = int(round(FRAME_H * scale / 16)) * 16
        self.size = (W, H)
        self.panel = (W // 2, H * 2 // 3)
        pw, ph = self.panel
        self.model_r = render.HeadRenderer(pw, ph)
        self.base_r = render.HeadRenderer(pw, ph, shirt=(0.58, 0.58, 0.58), iris=(0.40, 0.30, 0.20))
        self.timeline, self.x_of, self.y_span = _timeline(script, motion, W, H - ph, labels)
        self.f_title = _font(max(10, int(22 * scale)))
        self.f_small = _font(max(9, int(16 * scale)))
        self.scale = scale

    def frame(self, i: int) -> np.ndarray:
        """(H, W, 3) uint8 frame for model frame i."""
        s, m = self.script, self.motion
        pw, ph = self.panel
        ball = render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(
            look_at(s.target_xyz[i], render.EYE_MID_REST_M)
        )
        left = self.model_r.render(m.model_head[i], _verge_eyes(m.model_head[i], s.gaze[i]), ball)
        right = self.base_r.render(m.base_head[i], _verge_eyes(m.base_head[i], s.gaze[i]), ball)
        tl = self.timeline.copy()
        x = self.x_of(s.t_s[i])
        y0, y1 = self.y_span
        if 0 <= x < tl.shape[1]:
            tl[y0:y1, max(0, x - 1) : x + 1] = (200, 30, 30)
        img = np.concatenate([np.concatenate([left, right], axis=1), tl], axis=0)
        pil = self._Image.fromarray(img)
        d = self._Draw.Draw(pil)
        sc = self.scale
        pad = int(10 * sc) + 2
        halo = {"stroke_width": max(1, int(2 * sc)), "stroke_fill": (255, 255, 255)}
        d.text((pad, pad), self.titles[0], fill=(20, 50, 110), font=self.f_title, **halo)
        d.text((pw + pad, pad), self.titles[1], fill=(130, 70, 10), font=self.f_title, **halo)
        for k, sub in enumerate(self.subtitles):
            if sub:
                d.text(
                    (k * pw + pad, pad + int((56 if k == 0 else 28) * sc)),
                    sub,
                    fill=(90, 90, 90),
                    font=self.f_small,
                    **halo,
                )
        # the last gaze shift whose 0.9-s head share is known: share and eye range so far
        done = [n for n, o in enumerate(self.onsets) if o + int(round(0.9 * s.fps)) <= i]
        if done:
            r = self.shifts[done[-1]]
            for k, name in enumerate(("model", "baseline")):
                txt = (
                    f"last shift {r['shift_deg']:.0f} deg: head share "
                    f"{r[name + '_head_share']:.2f}, max |eye| {r[name + '_max_eye_deg']:.0f}"
                )
                d.text(
                    (k * pw + pad, ph - pad - int(70 * sc)),
                    txt,
                    fill=(20, 90, 40),
                    font=self.f_small,
                    **halo,
                )
        for k, (head, eye) in enumerate(
            ((m.model_head[i], m.model_eye[i]), (m.base_head[i], m.base_eye[i]))
        ):
            x = k * pw + pad
            y = ph - pad - int(46 * sc)
            txt = "head  pitch {:+4.0f}  yaw {:+4.0f}  roll {:+4.0f} deg".format(*np.degrees(head))
            d.text((x, y), txt, fill=(30, 30, 30), font=self.f_small, **halo)
            out = np.any(np.abs(eye) > EYE_RANGE_RAD)
            txt = "eyes  pitch {:+4.0f}  yaw {:+4.0f} deg".format(*np.degrees(eye))
            d.text(
                (x, y + int(22 * sc)),
                txt + ("  OUT OF RANGE" if out else ""),
                fill=(200, 20, 20) if out else (30, 30, 30),
                font=self.f_small,
                **halo,
            )
        d.text(
            (pad, pad + int(28 * sc)),
            f"t = {s.t_s[i]:5.2f} s   {s.phase[i]}",
            fill=(170, 20, 20),
            font=self.f_small,
            **halo,
        )
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
                path,
                size,
                fps=fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=7,
                macro_block_size=16,
                ffmpeg_log_level="error",
            )
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
            self._gif_frames[0].save(
                self.path,
                save_all=True,
                append_images=self._gif_frames[1:],
                duration=int(round(2000 / self.fps)),
                loop=0,
            )


def _have_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
        return True
    except (ImportError, RuntimeError, OSError):  # not installed, or no binary for this platform
        return False


def _write_csv(path: str, script: Script, motion: Motion) -> None:
    cols = [
        "t_s",
        "phase",
        "gaze_pitch",
        "gaze_yaw",
        "target_x_m",
        "target_y_m",
        "target_z_m",
        "model_head_pitch",
        "model_head_yaw",
        "model_head_roll",
        "model_eye_pitch",
        "model_eye_yaw",
        "base_head_pitch",
        "base_head_yaw",
        "base_head_roll",
        "base_eye_pitch",
        "base_eye_yaw",
    ]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(len(script.t_s)):
            row = [
                script.t_s[i],
                script.phase[i],
                *script.gaze[i],
                *script.target_xyz[i],
                *motion.model_head[i],
                *motion.model_eye[i],
                *motion.base_head[i],
                *motion.base_eye[i],
            ]
            w.writerow([f"{v:.6f}" if isinstance(v, float) else v for v in row])


def run_demo(
    out_dir: str = DEFAULT_OUT_DIR,
    *,
    generator: Any = None,
    model: str | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    duration_s: float | None = None,
    scale: float = 1.0,
    fmt: str = "auto",
    video: bool = True,
    styles: tuple[float, float] | None = None,
    log=print,
) -> dict[str, str]:
    """Render the demo into ``out_dir``; returns {"video", "contact_sheet", "csv"} paths.

    generator: anything with ``step(gaze) -> (1, 3)`` and ``fps``; default
    ``gh.Generator(model, seed=seed, temperature=temperature)``.
    fmt: "mp4", "gif" or "auto" (mp4 when imageio-ffmpeg is installed).
    styles: (propensity left, propensity right): the style demo -- two characters driven by
    the same model and gaze, one an eye mover and one a head mover (idle at the population
    mean), instead of the model next to the baseline.
    """
    other = None
    titles = ("gazehead_rt (learned model)", "proportional baseline")
    subtitles = ("", f"head = {BASELINE_GAIN} x gaze, low-pass {BASELINE_TAU_S} s")
    names = ("model", "baseline")
    labels = BASELINE_LABELS
    if styles is not None:
        import gazehead_rt as gh  # late: the demo module must not import the native runtime

        idle = gh.Generator(model).model.config.style_mean[1]
        generator, other = (
            gh.Generator(
                model, seed=seed, temperature=temperature, style={"propensity": p, "idle": idle}
            )
            for p in styles
        )
        kind = lambda p: "head mover" if p >= 0.6 else "eye mover"  # noqa: E731
        titles = tuple(f"{kind(p)} (propensity {p:.2f})" for p in styles)
        subtitles = ("same model, same gaze", "same model, same gaze")
        names = tuple(f"p={p:.2f}" for p in styles)
        labels = tuple(f"head: {t}" for t in titles)
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
    motion = simulate(generator, script, other)
    comp = FrameComposer(script, motion, scale, titles, subtitles, labels)
    paths = {
        "csv": os.path.join(out_dir, "motion.csv"),
        "contact_sheet": os.path.join(out_dir, "contact_sheet.png"),
    }
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
    log(
        f"gazehead-rt demo: {len(script.t_s)} frames at {script.fps:g} fps in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    for line in _summary_lines(script, motion, names):
        log(line)
    for k in ("video", "contact_sheet", "csv"):
        if k in paths:
            log(f"  wrote {paths[k]}")
    return paths
