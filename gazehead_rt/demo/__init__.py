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

Rendering is a numpy ray caster (:mod:`gazehead_rt.demo.render`), headless and on the CPU; the
video is encoded by the ffmpeg binary of ``imageio-ffmpeg`` (GIF via Pillow without it).
``--interactive`` opens a window where the mouse is the gaze target (needs a display).

The red ball marks the current target's direction, drawn 0.33 m from the eyes so it stays
in the picture (the scripted targets are 1-1.6 m away); each eye aims at the point at that
distance along the current gaze, so the two red lines meet on the ball once the gaze has
arrived. Eyes are drawn clipped to their +-50 deg range; an "eyes out of range" tag shows
when the head leaves more than that to them.

One module per job: ``scenario`` (the scripted gaze, the baseline, the simulated motion),
``render`` (the head ray caster), ``video`` (frames, video, contact sheet, CSV),
``interactive`` (the mouse-driven window) and ``cli`` (the command line). The demo uses the
runtime's public API only and needs the ``demo`` extra (matplotlib, Pillow, imageio-ffmpeg).
"""

from .cli import main
from .interactive import MouseGaze, run_interactive
from .scenario import (
    BASELINE_GAIN,
    BASELINE_TAU_S,
    EYE_RANGE_RAD,
    MARKER_DISTANCE_M,
    Motion,
    ProportionalBaseline,
    Script,
    default_script,
    simulate,
    summarize,
)
from .video import DEFAULT_OUT_DIR, run_demo

__all__ = [
    "main",
    "ProportionalBaseline",
    "Script",
    "Motion",
    "default_script",
    "simulate",
    "summarize",
    "run_demo",
    "run_interactive",
    "MouseGaze",
    "BASELINE_GAIN",
    "BASELINE_TAU_S",
    "EYE_RANGE_RAD",
    "MARKER_DISTANCE_M",
    "DEFAULT_OUT_DIR",
]
