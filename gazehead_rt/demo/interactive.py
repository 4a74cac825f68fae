"""``gazehead-rt demo --interactive``: a window in which the mouse is the gaze target."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np

from ..geometry import direction_from_pitch_yaw
from . import render
from .scenario import EYE_RANGE_RAD, MARKER_DISTANCE_M


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
        from ..rate import RateAdapter  # noqa: PLC0415

        self.clock = RateAdapter(generator.step, generator.fps)  # redraws at any rate
        self.renderer = render.HeadRenderer(
            self.SIZE_PX, self.SIZE_PX, camera_position=(1.9, 0.0, 0.22), look_at=(0.05, 0.0, 0.1)
        )
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
        ball = render.EYE_MID_REST_M + MARKER_DISTANCE_M * direction_from_pitch_yaw(self.gaze)
        return self.renderer.render(head, eyes, ball)


def run_interactive(*, model: str | None = None, seed: int = 0, temperature: float = 1.0) -> int:
    """A window with the model's head; the mouse position is the gaze target."""
    if not _display_available():
        print(
            "gazehead-rt demo --interactive needs a display (no DISPLAY or WAYLAND_DISPLAY "
            "is set); run `gazehead-rt demo` without --interactive to write a video instead.",
            file=sys.stderr,
        )
        return 2
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if plt.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        print(
            f"gazehead-rt demo --interactive: matplotlib backend {plt.get_backend()!r} cannot "
            "open windows; install a GUI toolkit (e.g. tkinter) or set MPLBACKEND.",
            file=sys.stderr,
        )
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
