"""A 100 Hz robot head controller with joint limits.

Perception gives gaze targets as points in ``base_link`` (ROS REP-103: x forward, y left,
z up, metres). The model proposes a natural head motion, :class:`HeadLimiter` keeps it
inside the neck's angle, velocity and acceleration limits, and the eyes (cameras or eye
servos) take up the rest of the gaze. A target the robot cannot reach even with its eyes
(here: one behind it) is reported once through the callback, with the gaze error.

    python examples/robot_head_loop.py               # 8 s of control, summary table
    python examples/robot_head_loop.py --check       # exit 1 if any limit was exceeded

In a ROS node the loop body is a timer callback: publish ``cmd.head`` as the pan/tilt/roll
joint command, ``cmd.eye`` to the eye servos, and the head quaternion for tf.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

import gazehead_rt as gh
from gazehead_rt import frames
from gazehead_rt.geometry import look_at
from gazehead_rt.limits import HeadLimiter, HeadLimits

RATE_HZ = 100.0
EYE_ORIGIN_M = np.array([0.05, 0.0, 0.45])  # between the eyes, in base_link

# (start time s, target point in base_link, what it is)
TARGETS = [
    (0.0, (2.0, 0.0, 0.45), "person ahead"),
    (1.0, (1.5, 1.2, 0.9), "door, up-left"),
    (2.5, (1.0, -1.6, 0.2), "table, right"),
    (4.0, (0.3, 2.5, 0.45), "far left, at the pan limit"),
    (5.5, (-2.0, -0.5, 0.5), "behind: out of reach"),
    (7.0, (2.0, 0.2, 0.45), "back to the person"),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check", action="store_true", help="exit 1 if a limit was exceeded")
    args = p.parse_args(argv)

    limits = HeadLimits(  # a small humanoid neck; take yours from the datasheet
        angle_min_rad=np.radians([-25.0, -70.0, -15.0]),
        angle_max_rad=np.radians([30.0, 70.0, 15.0]),
        velocity_max_rad_s=np.radians([150.0, 200.0, 60.0]),
        acceleration_max_rad_s2=np.radians([900.0, 1200.0, 400.0]),
        eye_range_rad=np.radians([35.0, 45.0]),
    )
    events: list[str] = []
    clock = {"t": 0.0}

    def on_unreachable(agents, pose):
        events.append(
            f"t={clock['t']:5.2f} s: target out of reach, gaze error "
            f"{math.degrees(pose.gaze_error_rad[agents[0]]):.0f} deg"
        )

    gen = gh.Generator(args.model, seed=args.seed)
    limiter = HeadLimiter(limits, on_unreachable=on_unreachable)
    limiter.reset(head=np.zeros(3))  # the robot starts at rest, looking ahead
    dt_s = 1.0 / RATE_HZ
    heads = [np.zeros(3)]
    for k in range(int(round(args.seconds * RATE_HZ))):
        clock["t"] = k * dt_s
        target = next(pt for t0, pt, _ in reversed(TARGETS) if t0 <= clock["t"] + 1e-9)
        gaze = look_at(np.asarray(target), EYE_ORIGIN_M)
        proposed = gen.update(gaze, 0.0 if k == 0 else dt_s)  # (1, 3) natural head motion
        cmd = limiter.apply(proposed, gaze, dt_s)  # what the motors may do
        tf_quat = frames.head_to_engine_quaternion(frames.ROS, cmd.head[0])  # for tf
        heads.append(cmd.head[0])
        if k % int(RATE_HZ) == 0:
            print(
                f"t={clock['t']:4.1f} s  head p/y/r {np.degrees(cmd.head[0]).round(1)} deg  "
                f"eye p/y {np.degrees(cmd.eye[0]).round(1)} deg  quat {tf_quat.round(3)}"
            )
    for e in events:
        print(e)

    heads = np.array(heads)
    v = np.diff(heads, axis=0) / dt_s
    a = np.diff(np.concatenate([np.zeros((1, 3)), v]), axis=0) / dt_s
    ok = True
    print("axis   |angle| max / limit     |vel| max / limit       |acc| max / limit (deg, s)")
    for i, name in enumerate(("pitch", "yaw", "roll")):
        ang_lim = max(-limits.angle_min_rad[i], limits.angle_max_rad[i])
        row = [
            (np.abs(heads[:, i]).max(), ang_lim),
            (np.abs(v[:, i]).max(), limits.velocity_max_rad_s[i]),
            (np.abs(a[:, i]).max(), limits.acceleration_max_rad_s2[i]),
        ]
        ok &= all(x <= lim * (1 + 1e-9) for x, lim in row)
        print(
            f"{name:6s} "
            + "   ".join(f"{math.degrees(x):7.1f} / {math.degrees(lim):7.1f}" for x, lim in row)
        )
    print("all limits held" if ok else "LIMIT EXCEEDED")
    if args.check and (not ok or not events):
        return 1  # the behind target must have been reported too
    return 0


if __name__ == "__main__":
    sys.exit(main())
