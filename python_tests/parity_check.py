"""The CPU/CUDA-versus-PyTorch parity measurement, shared by test_parity.py (in-process, and
in a subprocess per CPU kernel build: GAZEHEAD_CPU_ISA is read once per process) and
test_cuda_backend.py. The PyTorch side is recorded once (reference_record); comparing a
generator with a record needs numpy only. As a script (no torch imported):

    python parity_check.py MODEL RECORD.npz SEED   ->  JSON {isa, step_err, first_step_err, long_err}
"""

from __future__ import annotations

import json
import sys

import numpy as np

_STATE = ("s", "head", "head_vel", "z", "gaze")


def reference_record(
    ref,
    gaze: np.ndarray,
    *,
    seed: int,
    style: np.ndarray,
    neck_limits=None,
    temperature: float = 1.0,
    t_step: int = 60,
) -> dict:
    """The reference's states and outputs: for t < t_step the state before step t and the
    step's head/eye (teacher forcing replays them), and the free rollout's heads (T, N, 3)."""
    import torch

    from gazehead_rt.training.model import StepState

    from reference import torch_rollout

    T, N, _ = gaze.shape
    cfg = ref.config
    lim = None if neck_limits is None else torch.tensor(neck_limits, dtype=torch.float32)
    st = StepState.zeros(N, cfg.hidden_size, cfg.latent_size, style=torch.from_numpy(style))
    rec = {k: [] for k in _STATE + ("has_prev", "out_head", "out_eye")}
    import gazehead_rt as gh

    for t in range(min(t_step, T)):
        for k in _STATE + ("has_prev",):
            rec[k].append(getattr(st, k).numpy().copy())
        eps = gh.philox_normal(seed, np.arange(N), np.zeros(N), np.full(N, t), cfg.latent_size)
        h, e, st = ref.step(torch.from_numpy(gaze[t]), st, torch.from_numpy(eps), temperature, lim)
        rec["out_head"].append(h.numpy())
        rec["out_eye"].append(e.numpy())
    out = {k: np.stack(v) for k, v in rec.items()}
    out["long_head"], _, _ = torch_rollout(
        ref, gaze, seed=seed, temperature=temperature, style=style, neck_limits=neck_limits
    )
    out["gaze_seq"] = gaze
    return out


def teacher_forced_step_error(gen, rec: dict) -> float:
    """Worst per-step error (head and eye): the generator starts every step from the
    reference's state, so errors cannot accumulate."""
    worst = 0.0
    for t in range(rec["out_head"].shape[0]):
        sd = gen.state_dict()
        sd.update(
            {k: rec[k][t] for k in _STATE},
            has_prev=rec["has_prev"][t].astype(np.uint8),
            frame=np.full(gen.num_agents, t, np.uint32),
        )
        gen.load_state_dict(sd)
        head = gen.step(rec["gaze_seq"][t])
        worst = max(
            worst,
            float(np.abs(head - rec["out_head"][t]).max()),
            float(np.abs(gen.eye - rec["out_eye"][t]).max()),
        )
    return worst


def long_rollout_errors(gen, rec: dict) -> np.ndarray:
    """Max abs head error per step of a free autoregressive rollout, (T,)."""
    return np.abs(gen.generate(rec["gaze_seq"]) - rec["long_head"]).max(axis=(1, 2))


def measure(make_gen, rec: dict) -> dict:
    """make_gen() -> a fresh Generator with the record's seed, style and settings."""
    import gazehead_rt as gh

    long_err = long_rollout_errors(make_gen(), rec)
    return {
        "isa": gh.build_info()["cpu_kernels"],
        "step_err": teacher_forced_step_error(make_gen(), rec),
        "first_step_err": float(long_err[0]),
        "long_err": float(long_err.max()),
    }


if __name__ == "__main__":
    import gazehead_rt as gh

    path, rec_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rec = dict(np.load(rec_path))
    n = rec["gaze_seq"].shape[1]
    print(json.dumps(measure(lambda: gh.Generator(path, num_agents=n, seed=seed), rec)))
