"""Expected numbers for the C and C# tests of libgazehead, from the Python API.

After the default model (gazehead_rt/models/default.safetensors) changes, this one command
rewrites expected_default_model.json, to be committed with the model:

    python csrc/capi/tests/make_expected.py

(run with the Python environment where gazehead_rt is installed; the numbers come from that
installed package, and the model is the repository's file, the one the C and C# tests load).

    python csrc/capi/tests/make_expected.py --check    # CI: the committed file still matches

The C test (test_capi.c) and the C# test (bindings/csharp/tests/GazeHeadTest.cs) read the
JSON written here and drive libgazehead with the same gaze, dt and seed; they must return
these heads and eyes. The file names the model it was made from (sha256 and the FNV-1a 64
fingerprint the C library reports), so a test run against another model stops with the
command above instead of a wall of number differences. The scenarios cover step, reset of one
agent, update(dt) with jitter, a hitch longer than the catch-up budget and a yaw crossing
+-pi, prime, the default (population) styles, and set style and neck limits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np

import gazehead_rt as gh

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "expected_default_model.json")
# The repository's default model: what ctest, .ci/run and the C# test pass to libgazehead.
MODEL = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "gazehead_rt", "models", "default.safetensors")
)
REGENERATE = "python csrc/capi/tests/make_expected.py"
SEED, TEMPERATURE, N = 7, 0.8, 2
# The committed numbers are float32 results; recomputation on another CPU (AVX2 instead of
# AVX-512 kernels) may differ in the last bits, well inside the tests' 1e-5 rad.
CHECK_TOL = 1e-5


def f32(a) -> list[float]:
    return [float(x) for x in np.asarray(a, np.float32).reshape(-1)]


def step_gaze(t: int) -> np.ndarray:
    """(N, 2): agent 0 makes a large yaw shift at frame 3, agent 1 drifts in pitch and yaw."""
    g = np.empty((N, 2), np.float32)
    g[0] = (0.05, 0.7 if t >= 3 else -0.2)
    g[1] = (0.2 * math.sin(0.4 * t), 0.5 * math.sin(0.25 * t + 1.0))
    return g


def fnv1a64(data: bytes) -> int:
    """The model fingerprint libgazehead reports (gazehead_model_info.fingerprint)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def model_identity(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    return {
        "model_sha256": hashlib.sha256(raw).hexdigest(),
        "model_fnv1a64": f"{fnv1a64(raw):016x}",
    }


def scenarios() -> dict:
    model = MODEL
    out: dict = {
        "generated_by": REGENERATE,
        "gazehead_rt_version": gh.__version__,
        **model_identity(model),
        "seed": SEED,
        "temperature": TEMPERATURE,
        "num_agents": N,
    }
    # step x10, reset(agent 1), step x4
    gen = gh.Generator(model, num_agents=N, backend="cpu", seed=SEED, temperature=TEMPERATURE)
    gaze, head, eye = [], [], []
    for t in range(10):
        g = step_gaze(t)
        gaze.append(g)
        head.append(gen.step(g))
        eye.append(gen.eye)
    out.update(step_gaze=f32(gaze), step_head=f32(head), step_eye=f32(eye))
    gen.reset([1])
    gaze, head, eye = [], [], []
    for t in range(10, 14):
        g = step_gaze(t)
        gaze.append(g)
        head.append(gen.step(g))
        eye.append(gen.eye)
    out.update(reset_agents=[1], reset_gaze=f32(gaze), reset_head=f32(head), reset_eye=f32(eye))

    # update(dt): jittery frame times, a 0.5 s hitch (over the 0.25 s budget), yaw across pi
    gen = gh.Generator(model, num_agents=N, backend="cpu", seed=SEED, temperature=TEMPERATURE)
    dts = [0.0, 1 / 60, 1 / 60, 1 / 144, 0.05, 0.0, 1 / 30, 0.5, 1 / 90, 1 / 60, 0.02, 1 / 45]
    gaze, head, eye = [], [], []
    for k, dt in enumerate(dts):
        g = np.array(
            [[0.1 * math.sin(0.5 * k), -0.3 + 0.08 * k], [-0.05, 3.0 if k < 6 else -3.05]],
            np.float32,
        )
        gaze.append(g)
        head.append(gen.update(g, dt))
        eye.append(gen.eye)
    out.update(
        update_dt=[float(d) for d in dts],
        update_gaze=f32(gaze),
        update_head=f32(head),
        update_eye=f32(eye),
    )

    # prime on 5 observed frames, then step x4
    gen = gh.Generator(model, num_agents=N, backend="cpu", seed=SEED, temperature=TEMPERATURE)
    T = 5
    gh_hist = np.stack([step_gaze(t) for t in range(T)])
    hh_hist = np.zeros((T, N, 3), np.float32)
    hh_hist[:, 0, 1] = np.linspace(0.0, 0.3, T)
    hh_hist[:, 1, 0] = np.linspace(0.0, -0.1, T)
    gen.prime(gh_hist, hh_hist)
    gaze, head = [], []
    for t in range(T, T + 4):
        g = step_gaze(t)
        gaze.append(g)
        head.append(gen.step(g))
    out.update(
        prime_gaze_hist=f32(gh_hist),
        prime_head_hist=f32(hh_hist),
        prime_gaze=f32(gaze),
        prime_head=f32(head),
    )

    # styles: the default (population) draw of each agent; then set style and narrow neck
    # limits and step x8 (agent 0's 0.9 rad yaw shift runs into the 0.5 rad yaw limit)
    gen = gh.Generator(model, num_agents=N, backend="cpu", seed=SEED, temperature=TEMPERATURE)
    out.update(default_style=f32(gen.style), default_neck_limits=f32(gen.neck_limits))
    style = np.array([[1.1, 0.2], [0.3, 0.9]], np.float32)
    limits = np.array([0.3, 0.5, 0.2], np.float32)
    gen.set_style(style)
    gen.neck_limits = limits
    gaze, head, eye = [], [], []
    for t in range(8):
        g = step_gaze(t)
        gaze.append(g)
        head.append(gen.step(g))
        eye.append(gen.eye)
    out.update(
        style_set=f32(style),
        neck_limits_set=f32(limits),
        style_gaze=f32(gaze),
        style_head=f32(head),
        style_eye=f32(eye),
    )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--check", action="store_true", help="compare with the committed file instead of writing it"
    )
    args = p.parse_args(argv)
    fresh = scenarios()
    if not args.check:
        with open(OUT, "w") as f:
            json.dump(fresh, f, indent=1)
            f.write("\n")
        print(f"wrote {OUT}")
        return 0
    with open(OUT) as f:
        committed = json.load(f)
    for key in ("model_sha256", "model_fnv1a64"):
        if committed.get(key) != fresh[key]:
            print(
                f"{os.path.relpath(OUT)} was made from another model file ({key} "
                f"{committed.get(key)}, the model now is {fresh[key]}); regenerate it with: "
                f"{REGENERATE}",
                file=sys.stderr,
            )
            return 1
    worst = 0.0
    for key, val in fresh.items():
        if key in ("generated_by", "gazehead_rt_version"):
            continue
        ref = committed.get(key)
        if isinstance(val, list):
            if ref is None or len(ref) != len(val):
                print(
                    f"{key}: missing or of another length in the committed file; regenerate "
                    f"it with: {REGENERATE}",
                    file=sys.stderr,
                )
                return 1
            worst = max(worst, float(np.max(np.abs(np.asarray(val) - np.asarray(ref)))))
        elif ref != val:
            print(
                f"{key}: {val!r} != committed {ref!r}; regenerate with: {REGENERATE}",
                file=sys.stderr,
            )
            return 1
    print(
        f"expected values match the Python API (max abs difference {worst:.3g}, tolerance {CHECK_TOL})"
    )
    if worst > CHECK_TOL:
        print(
            f"the committed numbers differ from the installed package's; if the runtime changed "
            f"on purpose, regenerate them with: {REGENERATE}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
