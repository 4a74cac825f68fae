"""Offline conversion: a CSV of timestamped gaze -> a CSV of head (and eye) motion.

Input columns: ``t_s, gaze_pitch, gaze_yaw`` (radians; ``--degrees`` for degrees), any
sample rate, even irregular. Output: the same timestamps with ``head_pitch, head_yaw,
head_roll, eye_pitch, eye_yaw`` in the input's unit.

Offline the whole gaze track is known, so this does not use the one-frame-latency
``update`` path of live loops: the gaze is resampled to the model rate, rolled out with
``Generator.generate``, and the head is resampled back to the input timestamps. The eye is
then recomputed exactly as the gaze seen from that head (docs/design.md §2).

    python examples/csv_convert.py gaze.csv head.csv [--degrees] [--seed 3] [--temperature 0.8]
"""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np

import gazehead_rt as gh
from gazehead_rt.geometry import eye_from_gaze_head

IN_COLS = ("t_s", "gaze_pitch", "gaze_yaw")
OUT_COLS = ("t_s", "head_pitch", "head_yaw", "head_roll", "eye_pitch", "eye_yaw")


def read_gaze_csv(path: str, degrees: bool) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    missing = [c for c in IN_COLS if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} (need {', '.join(IN_COLS)})")
    t = np.array([float(r["t_s"]) for r in rows])
    g = np.array([[float(r["gaze_pitch"]), float(r["gaze_yaw"])] for r in rows])
    if np.any(np.diff(t) <= 0):
        raise ValueError(
            f"{path}: t_s must increase strictly (row {int(np.argmax(np.diff(t) <= 0)) + 2})"
        )
    if not np.all(np.isfinite(g)):
        raise ValueError(
            f"{path}: non-finite gaze in row {int(np.argmax(~np.isfinite(g).all(1))) + 2}"
        )
    return t, np.radians(g) if degrees else g


def convert(t_s: np.ndarray, gaze: np.ndarray, gen: gh.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Head (T, 3) and eye (T, 2) at the input times t_s (T,) for gaze (T, 2), radians."""
    fps = gen.fps
    n_frames = int(np.floor((t_s[-1] - t_s[0]) * fps + 1e-9)) + 1
    t_model = t_s[0] + np.arange(n_frames) / fps
    yaw = np.unwrap(gaze[:, 1])  # interpolate across +-pi the short way
    g_model = np.stack([np.interp(t_model, t_s, gaze[:, 0]), np.interp(t_model, t_s, yaw)], -1)
    g_model[:, 1] = (g_model[:, 1] + np.pi) % (2 * np.pi) - np.pi
    head_model = gen.generate(g_model)[:, 0, :].astype(np.float64)  # (T_model, 3)
    head = np.stack([np.interp(t_s, t_model, head_model[:, c]) for c in range(3)], -1)
    return head, eye_from_gaze_head(gaze, head)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--degrees", action="store_true", help="angles in degrees, in and out")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    args = p.parse_args(argv)

    try:
        t, gaze = read_gaze_csv(args.input, args.degrees)
    except (OSError, ValueError) as e:
        print(f"csv_convert: {e}", file=sys.stderr)
        return 2
    gen = gh.Generator(args.model, seed=args.seed, temperature=args.temperature)
    head, eye = convert(t, gaze, gen)
    scale = np.degrees if args.degrees else (lambda x: x)
    with open(args.output, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(OUT_COLS)
        for i in range(len(t)):
            w.writerow(
                [
                    f"{t[i]:.6f}",
                    *(f"{v:.6f}" for v in scale(head[i])),
                    *(f"{v:.6f}" for v in scale(eye[i])),
                ]
            )
    print(
        f"wrote {len(t)} rows to {args.output} ({(t[-1] - t[0]):.2f} s, model at {gen.fps:g} fps)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
