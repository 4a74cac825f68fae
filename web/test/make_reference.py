"""Reference motion for the browser tests, from the installed gazehead_rt (never committed).

Writes JSON with the demo's scripted gaze for a few agents, the head and eye that
``gazehead_rt.Generator`` (default model, cpu backend) produces for it under one seed (with
one agent reset half way), the agents' default styles, and a sample of ``gh.philox_normal``.

    python web/test/make_reference.py -o web/build/reference.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import gazehead_rt as gh
from gazehead_rt.demo.scenario import default_script

SEED = 7
NUM_AGENTS = 4
FRAMES = 300
RESET_FRAME, RESET_AGENTS = 150, [2]  # a new episode for one agent half way


def gaze_path(fps: float) -> np.ndarray:
    """(FRAMES, NUM_AGENTS, 2): the demo's script (saccades, then smooth pursuit), mirrored,
    scaled and delayed per agent so that no two agents see the same gaze."""
    g = default_script(fps).gaze[:FRAMES].astype(np.float64)
    mirrored = g * np.array([1.0, -1.0])
    delayed = np.concatenate([np.repeat(g[:1], 10, axis=0), g[:-10]])
    return np.stack([g, mirrored, 0.6 * g, delayed], axis=1).astype(np.float32)


def rollout() -> dict:
    gen = gh.Generator(num_agents=NUM_AGENTS, seed=SEED, backend="cpu")
    gaze = gaze_path(gen.fps)
    head = np.empty((FRAMES, NUM_AGENTS, 3), np.float32)
    eye = np.empty((FRAMES, NUM_AGENTS, 2), np.float32)
    for t in range(FRAMES):
        if t == RESET_FRAME:
            gen.reset(agents=RESET_AGENTS)
        head[t] = gen.step(gaze[t])
        eye[t] = gen.eye
    return {
        "seed": SEED,
        "fps": gen.fps,
        "model_sha256": gen.model.sha256,
        "reset": {"frame": RESET_FRAME, "agents": RESET_AGENTS},
        "style": gen.style.tolist(),
        "gaze": gaze.tolist(),
        "head": head.tolist(),
        "eye": eye.tolist(),
    }


def philox_sample(n: int = 4096, latent: int = 8) -> dict:
    rng = np.random.default_rng(1)
    edge = np.array([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF], np.uint64)

    def u32(size):
        v = rng.integers(0, 2**32, size=size, dtype=np.uint64)
        v[: edge.size] = edge
        return rng.permutation(v)

    seed = int(rng.integers(0, 2**32))
    agents, episode, frame = u32(n), u32(n), u32(n)
    normals = gh.philox_normal(seed, agents, episode, frame, latent)
    return {
        "seed": seed,
        "latent": latent,
        "agents": agents.tolist(),
        "episode": episode.tolist(),
        "frame": frame.tolist(),
        "normals": np.asarray(normals, np.float32).tolist(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", required=True)
    out = p.parse_args().out
    data = {"rollout": rollout(), "philox": philox_sample()}
    with open(out, "w") as f:
        json.dump(data, f)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
