"""1,000 NPCs in a game loop: world-space look-at targets, a jittery frame time, head and eye
bone rotations out in the engine's convention.

Every NPC stands somewhere in a Unity scene (left-handed, Y up, Z forward, metres), faces
its own way, and keeps switching its attention between the player (who walks in a circle),
a few points of interest and idle looking ahead. One ``Generator`` steps all NPCs together;
``update(gaze, dt_s)`` lets the loop run at whatever rate the game manages (here a simulated
60-144 Hz with jitter) while the model runs at its own 30 fps. Attention is gated to a
field of view, and a ``HeadLimiter`` with angle limits only keeps the head bone inside a
human neck's range (the eyes take the rest).

    python examples/npc_game_loop.py                 # 1,000 NPCs, 600 frames
    python examples/npc_game_loop.py --engine unreal --npcs 200

In an engine the arrays below come from (and go back to) the scene: NPC root positions and
rotations in, ``head_bone.localRotation`` (Unity) / a bone's relative FQuat (Unreal) out.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import gazehead_rt as gh
from gazehead_rt import frames
from gazehead_rt.limits import HeadLimiter, HeadLimits

#: NPCs only attend to targets within this yaw of their body's forward direction, as game AI
#: usually gates attention. A target behind the body calls for a body turn (locomotion's
#: job), not a head turn.
ATTENTION_FOV_DEG = 100.0
#: Anatomical clamp for the head bone: the model's head is not bounded by construction (v1
#: can swing past +-180 deg yaw after a gaze jump of more than 180 deg relative to the head),
#: so a shipping game keeps the bone inside a human neck's range; the eyes take the rest.
NECK = HeadLimits(
    angle_min_rad=np.radians([-40.0, -100.0, -30.0]),
    angle_max_rad=np.radians([40.0, 100.0, 30.0]),
    velocity_max_rad_s=np.radians(720.0),
    acceleration_max_rad_s2=np.inf,
)


def build_scene(n: int, frame: frames.EngineFrame, rng: np.random.Generator):
    """NPC eye positions (N, 3) and root rotations (N, 4) in engine units/convention, and
    the points of interest (P, 3). Built in B-like world terms, then converted."""
    side = int(np.ceil(np.sqrt(n)))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:n]
    # world in REP-103 terms (x north, y west, z up), 2.5 m apart, eyes at 1.6 m
    pos = np.concatenate([(grid - side / 2) * 2.5, np.full((n, 1), 1.6)], axis=1)
    facing_rad = rng.uniform(-np.pi, np.pi, n)
    body_head = np.stack([np.zeros(n), facing_rad, np.zeros(n)], -1)  # a pure turn about up
    eye_pos = frames.points_from_body(frame, pos)
    body_quat = frames.head_to_engine_quaternion(frame, body_head)
    poi = frames.points_from_body(
        frame, np.array([[10.0, 10.0, 3.0], [-15.0, 5.0, 1.0], [0.0, -20.0, 0.2]])
    )
    return eye_pos, body_quat, poi


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--npcs", type=int, default=1000)
    p.add_argument("--frames", type=int, default=600, help="game frames to simulate")
    p.add_argument("--engine", choices=("unity", "unreal"), default="unity")
    p.add_argument("--model", default=None, help="model file (default: the bundled model)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    frame = frames.UNITY if args.engine == "unity" else frames.UNREAL
    rng = np.random.default_rng(args.seed)
    gen = gh.Generator(args.model, num_agents=args.npcs, seed=args.seed)
    eye_pos, body_quat, poi = build_scene(args.npcs, frame, rng)

    # attention: -1 = the player, 0..P-1 = a point of interest, P = idle (look ahead)
    P = len(poi)
    attend = rng.integers(-1, P + 1, args.npcs)
    switch_at_s = rng.uniform(0.5, 3.0, args.npcs)

    neck = HeadLimiter(NECK)
    neck.reset(head=np.zeros((args.npcs, 3)))
    t_s, timings_ms = 0.0, []
    head = None
    beyond_neck = np.zeros(args.npcs, dtype=bool)  # NPCs whose raw model head left NECK
    for k in range(args.frames):
        # a frame time the way engines report it: 60-144 Hz plus jitter
        dt_s = (
            0.0 if k == 0 else float(rng.choice([1 / 60, 1 / 90, 1 / 144]) * rng.uniform(0.8, 1.25))
        )
        t_s += dt_s
        w = 2 * np.pi * 0.05 * t_s  # the player walks a 12 m circle in 20 s
        player = frames.points_from_body(frame, [12 * np.cos(w), 12 * np.sin(w), 1.7])

        due = t_s >= switch_at_s  # NPCs that change what they look at
        attend[due] = rng.integers(-1, P + 1, due.sum())
        switch_at_s[due] = t_s + rng.uniform(0.8, 3.0, due.sum())

        t0 = time.perf_counter()
        targets = np.where((attend == -1)[:, None], player, poi[np.clip(attend, 0, P - 1)])
        gaze = frames.engine_look_at(frame, targets, eye_pos, body_quat)  # (N, 2) in B
        gaze[attend == P] = 0.0  # idle: straight ahead of the body
        gaze[np.abs(gaze[:, 1]) > np.radians(ATTENTION_FOV_DEG)] = 0.0  # behind: not attended
        raw = gen.update(gaze, dt_s)  # (N, 3) radians, at the game's rate
        beyond_neck |= np.any((raw < NECK.angle_min_rad) | (raw > NECK.angle_max_rad), axis=1)
        pose = neck.apply(raw, gaze, max(dt_s, 1e-6))
        head, eye = pose.head, pose.eye  # head bone, and eye-in-head for the eye bones
        if frame is frames.UNITY:
            head_bone = frames.head_to_engine_quaternion(frame, head)  # localRotation (x,y,z,w)
            eye_bones = frames.head_to_unity_euler_deg(
                np.concatenate([eye, np.zeros((len(eye), 1))], 1)
            )  # localEulerAngles
        else:
            head_bone = frames.head_to_engine_quaternion(frame, head)  # FQuat(X, Y, Z, W)
            eye_bones = frames.head_to_unreal_rotator_deg(
                np.concatenate([eye, np.zeros((len(eye), 1))], 1)
            )  # FRotator(P, Y, R)
        timings_ms.append((time.perf_counter() - t0) * 1e3)

    ms = np.array(timings_ms[1:]) if len(timings_ms) > 1 else np.array(timings_ms)
    print(
        f"{args.npcs} NPCs, {args.frames} frames ({t_s:.1f} s of game time, {args.engine}), "
        f"backend {gen.backend}"
    )
    print(
        f"  per frame (look-at + update + bone conversion): p50 {np.median(ms):.2f} ms, "
        f"p99 {np.percentile(ms, 99):.2f} ms"
    )
    print(
        f"  NPC 0: head (pitch, yaw, roll) {np.degrees(head[0]).round(1)} deg, "
        f"bone quaternion {head_bone[0].round(3)}, eye bone {eye_bones[0, :2].round(1)} deg"
    )
    print(
        f"  model head beyond the neck range (clamped, eyes took the rest): "
        f"{beyond_neck.sum()} of {args.npcs} NPCs"
    )
    if not np.all(np.isfinite(head)):
        print("  non-finite head pose", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
