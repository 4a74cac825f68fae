"""Evaluate a model against the baselines of docs/design.md §6 (``gazehead-rt evaluate``).

With no arguments: the shipped default model on the EyeNavGS test people (``--data
eyenavgs``, the yardstick of :mod:`training.yardstick`: six standing Quest Pro users never
seen in training, 10-s windows, the proportional rule tuned on the training people and per
person, both style rows), plus the held-gaze physiology checks and the stability rollout.
``--data sgaze`` scores the SGaze test split (the gym-scene recordings) as before. Outputs
in ``runs/eval/``: ``metrics.json``, ``table.md`` and PNG plots. Ablation models (trained
with ``gazehead-rt train --ablation ...``) join the table with ``--ablation NAME=PATH``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

from gazehead_rt.geometry import eye_from_gaze_head, wrap_angle

from . import metrics as M
from .baselines import (
    ProportionalBaseline,
    constant_head,
    fit_proportional,
    model_rollout,
    procedural_head,
)
from .data.dataset import Clip, load_dataset
from .model import GazeHeadModel
from .paths import default_model_path, sgaze_dir

__all__ = ["evaluate", "stability_rollout", "main", "TARGETS"]

R2D = 180.0 / math.pi
D2R = math.pi / 180.0
SEGMENT_S = 10.0  # best-of-K and per-segment lag are computed on 10-s segments
WINDOW_FRAMES = 30  # classifier windows: 1 s at 30 fps
#: Targets of the default model (issue 3), checked in the table.
TARGETS = {"c2st_acc": 0.60, "lag_err_ms": 33.0, "jerk_ratio": (0.8, 1.25), "eye_limit_deg": 50.0}


def _method_metrics(
    name: str, samples: list[np.ndarray], clips: list[Clip], fps: float, seed: int
) -> dict:
    """All per-method metrics pooled over the test clips. samples[i]: (K, T, 3)."""
    seg = int(SEGMENT_S * fps)
    n_frames = sum(c.frames for c in clips)
    w = lambda c: c.frames / n_frames  # noqa: E731  frame-weighted mean over clips
    mae = sum(M.mae_deg(s, c.head[None]) * w(c) for s, c in zip(samples, clips))
    bok = sum(M.best_of_k_mae_deg(s, c.head, seg) * w(c) for s, c in zip(samples, clips))
    corr = np.zeros(2)
    for s, c in zip(samples, clips):
        for ax in range(2):
            corr[ax] += np.mean([M.pearson(x[:, ax], c.head[:, ax]) for x in s]) * w(c)
    jerk_gen = sum(
        np.mean([M.mean_abs_jerk_deg_s3(x, fps) for x in s]) * w(c) for s, c in zip(samples, clips)
    )
    jerk_real = sum(M.mean_abs_jerk_deg_s3(c.head, fps) * w(c) for c in clips)
    lags = [M.gaze_head_lag_s(c.gaze, x, fps) for s, c in zip(samples, clips) for x in s]
    seg_lags = [
        M.gaze_head_lag_s(c.gaze[a : a + seg], s[0, a : a + seg], fps)
        for s, c in zip(samples, clips)
        for a in range(0, c.frames - seg + 1, seg)
    ]
    amps, shares = [], []
    for s, c in zip(samples, clips):
        for x in s:
            a, sh = M.head_contribution_pairs(c.gaze, x, fps)
            amps.append(a)
            shares.append(sh)
    curve, count = M.head_contribution_curve(
        None, None, fps, pairs=(np.concatenate(amps), np.concatenate(shares))
    )
    eye = np.concatenate(
        [
            eye_from_gaze_head(np.broadcast_to(c.gaze, s.shape[:2] + (2,)), s).reshape(-1, 2)
            for s, c in zip(samples, clips)
        ]
    )
    w1 = np.mean(
        [
            M.speed_w1_deg_s(np.concatenate(list(s), 0), np.concatenate([c.head] * len(s), 0), fps)
            for s, c in zip(samples, clips)
        ]
    )
    real_w = np.concatenate(
        [M.make_windows(c.gaze, c.head, fps, WINDOW_FRAMES, WINDOW_FRAMES) for c in clips]
    )
    gen_w = np.concatenate(
        [
            M.make_windows(c.gaze, s[0], fps, WINDOW_FRAMES, WINDOW_FRAMES)
            for s, c in zip(samples, clips)
        ]
    )
    return {
        "name": name,
        "k": int(samples[0].shape[0]),
        "mae_pitch_deg": float(mae[0]),
        "mae_yaw_deg": float(mae[1]),
        "best_of_k_mae_deg": float(bok),
        "corr_pitch": float(corr[0]),
        "corr_yaw": float(corr[1]),
        "jerk_ratio": float(jerk_gen / jerk_real) if jerk_gen > 0 else 0.0,
        "lag_s": float(np.mean(lags)) if np.all(np.isfinite(lags)) else float("nan"),
        "segment_lags_s": [float(x) for x in seg_lags],
        "contribution_curve": [None if not np.isfinite(v) else float(v) for v in curve],
        "contribution_count": count.tolist(),
        "diversity_deg": float(np.mean([M.diversity_deg(s) for s in samples])),
        "eye_viol_per_1000": M.eye_violations_per_1000(eye),
        "speed_w1_deg_s": float(w1),
        "c2st_acc": M.classifier_two_sample_test(real_w, gen_w, seed=seed),
    }


def adversarial_gaze(duration_s: float, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Valid but demanding gaze (T, 2) rad for the stability rollout: fixations of 0.2-2 s,
    mostly natural shifts, and in one of eight shifts a jump across the character (yaw
    +-80-100 deg to the other side, shifts of up to 180 deg), some targets behind the neck's
    reach, and short stretches of a target circling the character (gaze crossing +-180 deg)."""
    T = int(round(duration_s * fps))
    g = np.zeros((T, 2))
    cur = np.zeros(2)
    t = 0
    while t < T:
        r = rng.random()
        if r < 0.125:
            tgt = np.array([rng.uniform(-10, 10), -np.sign(cur[1] or 1.0) * rng.uniform(80, 100)])
        elif r < 0.15:  # circle once around the character in 4-8 s
            n = int(rng.uniform(4, 8) * fps)
            yaw = cur[1] + np.sign(rng.standard_normal()) * np.linspace(0, 360, n)
            seg = np.stack([np.full(n, cur[0]), (yaw + 180) % 360 - 180], 1)
            m = min(n, T - t)
            g[t : t + m] = seg[:m] * D2R
            t += m
            cur = seg[-1].copy()
            continue
        else:
            tgt = cur + rng.normal(0, [8, 25])
            tgt = np.clip(tgt, [-35, -130], [35, 130])
        dur = max(1, int((0.03 + 0.0025 * np.abs(tgt - cur).max()) * fps))
        u = np.linspace(0, 1, dur + 1)[1:, None]
        prof = u**3 * (10 - 15 * u + 6 * u**2)
        seg = cur + (tgt - cur) * prof
        hold = int(rng.uniform(0.2, 2.0) * fps)
        seg = np.concatenate([seg, np.repeat(tgt[None], hold, 0)])
        m = min(len(seg), T - t)
        g[t : t + m] = seg[:m] * D2R
        t += m
        cur = tgt
    g[:, 1] = wrap_angle(g[:, 1])
    return g


def stability_rollout(
    model: GazeHeadModel,
    hours: float,
    fps: float,
    seed: int,
    agents: int = 4,
    temperature: float = 1.0,
) -> dict:
    """Autoregressive rollout on :func:`adversarial_gaze` with population styles.

    Eye figures use the unclamped eye-in-head (the rotation the eye would need), so a head
    that lags or stops short shows up even where the runtime clamps the reported eye. Two
    sets of frames are scored, both only where the target is within neck + eye reach (more
    than ~125 deg to the side no head posture reaches with the torso still): *all* of them,
    which includes the head's transit after each jump (a 180-deg jump costs about a second
    during which no eye can be on target) and the pursuit of circling targets, and the
    *settled* ones, where the target has been held (moved less than 5 deg) for a second --
    the head has had time to arrive.
    """
    from .baselines import population_styles
    from .model import StepState

    rng = np.random.default_rng(seed)
    T = int(round(hours * 3600 * fps))
    gaze = np.stack([adversarial_gaze(hours * 3600, fps, rng)[:T] for _ in range(agents)], 1)
    gspeed = np.zeros((T, agents))
    d = np.diff(gaze, axis=0)
    d[..., 1] = wrap_angle(d[..., 1])
    gspeed[1:] = np.hypot(d[..., 0], d[..., 1]) * fps * R2D
    # settled: the target has been held (moved < 5 deg in all) for the last second
    w = int(round(fps))
    moved = np.concatenate([np.zeros((1, agents)), np.cumsum(gspeed / fps, 0)], 0)
    settled = np.zeros((T, agents), bool)
    settled[w:] = (moved[w + 1 :] - moved[1:-w]) < 5.0
    st = StepState.zeros(
        agents,
        model.config.hidden_size,
        model.config.latent_size,
        style=population_styles(model, agents, seed),
    )
    g = torch.as_tensor(gaze, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    lim = np.asarray(model.config.neck_limits) * R2D
    reach = lim[1] + model.config.eye_limit * R2D
    max_head, max_eye_out = np.zeros(3), 0.0
    finite = True
    cnt = {"all": [0, 0], "settled": [0, 0]}  # [violations, frames]
    eyes = []
    with torch.no_grad():
        for t in range(T):
            h, e_out, st = model.step(
                g[t], st, torch.randn(agents, model.config.latent_size, generator=gen), temperature
            )
            finite &= bool(torch.isfinite(h).all())
            hn = h.numpy()
            max_head = np.maximum(max_head, np.abs(hn).max(0) * R2D)
            max_eye_out = max(max_eye_out, float(e_out.abs().max()) * R2D)
            ecc = np.abs(eye_from_gaze_head(gaze[t], hn) * R2D).max(-1)
            ok = np.abs(gaze[t, :, 1]) * R2D <= reach
            bad = ecc > TARGETS["eye_limit_deg"]
            for key, m in (("all", ok), ("settled", ok & settled[t])):
                cnt[key][0] += int((bad & m).sum())
                cnt[key][1] += int(m.sum())
            if t % 10 == 0:
                eyes.append(ecc[ok & settled[t]])
    eyes = np.concatenate(eyes) if eyes else np.zeros(0)
    frac = lambda k: 1.0 - cnt[k][0] / max(cnt[k][1], 1)  # noqa: E731
    return {
        "hours": hours,
        "frames": T,
        "agents": agents,
        "finite": finite,
        "max_abs_head_deg": [float(v) for v in max_head],
        "neck_limits_deg": [float(v) for v in lim],
        "max_abs_reported_eye_deg": max_eye_out,
        "eye_le_50_frac": frac("all"),
        "eye_le_50_settled_frac": frac("settled"),
        "settled_frames_frac": cnt["settled"][1] / max(cnt["all"][1], 1),
        "eye_p99_settled_deg": float(np.percentile(eyes, 99)) if len(eyes) else float("nan"),
        "eye_viol_per_1000": (1.0 - frac("all")) * 1000.0,
    }


def eval_windows(clips: list[Clip], seconds: float = SEGMENT_S) -> list[Clip]:
    """Non-overlapping windows of the clips, each turned about the vertical so that its head
    starts at yaw 0: recordings without a torso (SGaze) give head and gaze in a frame of
    their own, and a window is as long as a body can be assumed still."""
    out = []
    for c in clips:
        n = int(round(seconds * c.fps))
        for a in range(0, c.frames - n + 1, n):
            if not c.valid[a : a + n].all():
                continue
            g, h = c.gaze[a : a + n].astype(np.float64), c.head[a : a + n].astype(np.float64)
            y0 = h[0, 1]
            g[:, 1] = wrap_angle(g[:, 1] - y0)
            h[:, 1] = wrap_angle(h[:, 1] - y0)
            # unwrap so a window's yaw is continuous (turns past 180 deg stay continuous)
            g[:, 1] = np.unwrap(g[:, 1])
            h[:, 1] = np.unwrap(h[:, 1])
            if np.abs(g).max() > 2 * math.pi or np.abs(h).max() > 2 * math.pi:
                continue
            out.append(
                Clip(
                    id=f"{c.id}.w{a // n:03d}",
                    gaze=g,
                    head=h,
                    valid=np.ones(n, bool),
                    fps=c.fps,
                    source=c.source,
                    split=c.split,
                    extra=dict(c.extra),
                )
            )
    return out


def physiology(
    models: dict[str, GazeHeadModel], prop, fps: float, k: int, seed: int, temperature: float = 1.0
) -> dict[str, dict]:
    """Held gaze steps (training/physiology.py) for every model and baseline."""
    from .physiology import StepProtocol, step_response

    proto = StepProtocol(fps=fps)
    res = {}
    for n, m in models.items():
        res[n] = step_response(lambda g, m=m: model_rollout(m, g, k, seed, temperature), proto)
    res["proportional"] = step_response(prop, proto)
    res["procedural"] = step_response(lambda g: procedural_head(g, fps), proto)
    return res


def evaluate(
    model_paths: dict[str, str],
    train_clips: list[Clip],
    test_clips: list[Clip],
    *,
    k: int = 8,
    seed: int = 0,
    temperature: float = 1.0,
    rollout_hours: float = 1.0,
    baselines: bool = True,
    log=print,
    neck_limits=None,
) -> dict:
    """``neck_limits`` (3,) rad: the models' neck limits on the test windows (recordings with
    a moving body, like SGaze, turn the head on the torso beyond a person's neck range);
    the held gaze steps and the stability rollout keep each model's own (fixed torso)."""
    fps = test_clips[0].fps
    t0 = time.time()
    prop = fit_proportional(train_clips, fps)
    log(f"proportional baseline: k={prop.k}, tau={prop.tau_s} s (fit on train split)")
    methods: dict[str, list[np.ndarray]] = {}
    models = {n: GazeHeadModel.load(p) for n, p in model_paths.items()}
    for n, m in models.items():
        if abs(m.config.fps - fps) > 1e-6:
            raise ValueError(f"{model_paths[n]}: model fps {m.config.fps} != data fps {fps}")
        kk = k
        temp = 0.0 if n.endswith("deterministic") else temperature
        methods[n] = [
            model_rollout(m, c.gaze, kk, seed + i, temp, head0=c.head[0], neck_limits=neck_limits)
            for i, c in enumerate(test_clips)
        ]
        log(f"{n}: generated ({time.time() - t0:.0f} s)")
    if baselines:
        methods["constant"] = [constant_head(c.gaze) for c in test_clips]
        methods["proportional"] = [prop(c.gaze) for c in test_clips]
        methods["procedural"] = [procedural_head(c.gaze, fps) for c in test_clips]
    real = {"lag_s": float(np.mean([M.gaze_head_lag_s(c.gaze, c.head, fps) for c in test_clips]))}
    seg = int(SEGMENT_S * fps)
    real["segment_lags_s"] = [
        M.gaze_head_lag_s(c.gaze[a : a + seg], c.head[a : a + seg], fps)
        for c in test_clips
        for a in range(0, c.frames - seg + 1, seg)
    ]
    amps, shares = zip(*[M.head_contribution_pairs(c.gaze, c.head, fps) for c in test_clips])
    rc, rn = M.head_contribution_curve(
        None, None, fps, pairs=(np.concatenate(amps), np.concatenate(shares))
    )
    real["contribution_curve"] = [None if not np.isfinite(v) else float(v) for v in rc]
    real["contribution_count"] = rn.tolist()
    real["jerk_deg_s3"] = float(np.mean([M.mean_abs_jerk_deg_s3(c.head, fps) for c in test_clips]))
    real["eye_viol_per_1000"] = M.eye_violations_per_1000(
        np.concatenate([eye_from_gaze_head(c.gaze, c.head) for c in test_clips])
    )
    # the real-vs-real classifier score is the floor of this test (two disjoint real sets)
    res = {}
    for n, s in methods.items():
        r = _method_metrics(n, s, test_clips, fps, seed)
        r["lag_err_ms"] = (r["lag_s"] - real["lag_s"]) * 1000.0
        curve = np.array([np.nan if v is None else v for v in r["contribution_curve"]])
        r["contribution_rmse"] = M.curve_rmse(curve, rc, rn)
        res[n] = r
        log(f"{n}: metrics ({time.time() - t0:.0f} s)")
    out = {
        "real": real,
        "methods": res,
        "proportional_fit": {"k": list(prop.k), "tau_s": prop.tau_s},
        "test_clips": [c.id for c in test_clips],
        "test_frames": int(sum(c.frames for c in test_clips)),
        "fps": fps,
        "k": k,
        "seed": seed,
        "temperature": temperature,
        "models": model_paths,
        "window_neck_limits_deg": None
        if neck_limits is None
        else [float(np.degrees(v)) for v in neck_limits],
    }
    if models:
        out["physiology"] = physiology(models, prop, fps, k, seed, temperature)
        log(f"physiology ({time.time() - t0:.0f} s)")
    if rollout_hours > 0 and models:
        name = next(iter(models))
        out["stability"] = stability_rollout(
            models[name], rollout_hours, fps, seed, temperature=temperature
        )
        out["stability"]["model"] = name
        log(f"stability rollout ({time.time() - t0:.0f} s): {out['stability']}")
    return out


# -- reporting -------------------------------------------------------------------------------
COLUMNS = [
    ("c2st_acc", "C2ST acc ↓", "{:.1%}"),
    ("lag_err_ms", "lag err ms", "{:+.0f}"),
    ("jerk_ratio", "jerk ratio", "{:.2f}"),
    ("corr_yaw", "corr yaw ↑", "{:.3f}"),
    ("corr_pitch", "corr pitch ↑", "{:.3f}"),
    ("mae_yaw_deg", "MAE yaw °", "{:.2f}"),
    ("mae_pitch_deg", "MAE pitch °", "{:.2f}"),
    ("best_of_k_mae_deg", "best-of-K MAE °", "{:.2f}"),
    ("speed_w1_deg_s", "speed W1 °/s ↓", "{:.2f}"),
    ("contribution_rmse", "contrib. RMSE ↓", "{:.3f}"),
    ("diversity_deg", "diversity °", "{:.2f}"),
    ("eye_viol_per_1000", "eye>50° /1k", "{:.2f}"),
]


def markdown_table(res: dict) -> str:
    lines = [
        "| method | " + " | ".join(c[1] for c in COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for n, r in res["methods"].items():
        cells = [
            fmt.format(r[key])
            if r.get(key) is not None and not (isinstance(r[key], float) and math.isnan(r[key]))
            else "–"
            for key, _, fmt in COLUMNS
        ]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    real = res["real"]
    lines += [
        "",
        f"Real data: gaze→head lag {real['lag_s'] * 1000:.0f} ms, mean |jerk| "
        f"{real['jerk_deg_s3']:.0f} °/s³, eye>50° {real['eye_viol_per_1000']:.2f} /1k "
        f"frames; test split {', '.join(res['test_clips'])} ({res['test_frames']} "
        f"frames at {res['fps']:g} fps); K = {res['k']} samples, temperature "
        f"{res['temperature']}, seed {res['seed']}; proportional fit k = "
        f"({res['proportional_fit']['k'][0]:.2f}, {res['proportional_fit']['k'][1]:.2f}),"
        f" tau = {res['proportional_fit']['tau_s']} s.",
    ]
    if "stability" in res:
        s = res["stability"]
        mh = ", ".join(f"{v:.1f}" for v in s["max_abs_head_deg"])
        lines.append(
            f"Stability ({s['model']}): {s['hours']:g} h rollout x {s['agents']} "
            f"agents on adversarial gaze (180° jumps, circling targets): "
            f"finite={s['finite']}, max |head| (pitch, yaw, roll) ({mh})° within "
            f"the neck limits; reported |eye| ≤ {s['max_abs_reported_eye_deg']:.1f}°; "
            f"unclamped |eye| ≤ 50° in {s['eye_le_50_settled_frac']:.3%} of settled "
            f"frames (p99 {s['eye_p99_settled_deg']:.1f}°) and in "
            f"{s['eye_le_50_frac']:.2%} of all frames with a reachable target "
            f"(head transit after jumps included)."
        )
    return "\n".join(lines) + "\n"


def plots(
    res: dict, methods_samples: dict | None, test_clips: list[Clip], out_dir: str
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    real = res["real"]
    bins = M.CONTRIBUTION_BINS_DEG
    centers = [(a + b) / 2 for a, b in zip(bins[:-1], bins[1:])]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(
        centers,
        [np.nan if v is None else v for v in real["contribution_curve"]],
        "k-o",
        lw=2,
        label="real",
    )
    for n, r in res["methods"].items():
        if n == "constant":
            continue
        ax.plot(
            centers,
            [np.nan if v is None else v for v in r["contribution_curve"]],
            "-o",
            ms=3,
            label=n,
        )
    ax.set_xlabel("gaze shift amplitude (deg)")
    ax.set_ylabel("head share within 0.5 s")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    paths.append(os.path.join(out_dir, "head_contribution.png"))
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    edges = np.linspace(-0.5, 1.0, 31)
    ax.hist(real["segment_lags_s"], edges, histtype="step", color="k", lw=2, label="real")
    for n, r in res["methods"].items():
        if n in ("constant",):
            continue
        ax.hist(r["segment_lags_s"], edges, histtype="step", label=n)
    ax.set_xlabel("gaze→head lag per 10-s segment (s)")
    ax.legend(fontsize=7)
    paths.append(os.path.join(out_dir, "lag_histogram.png"))
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    if methods_samples:
        fps = res["fps"]
        fig, ax = plt.subplots(figsize=(6, 4))
        edges = np.linspace(0, 200, 41)
        sp = lambda h: np.hypot(*np.diff(h[:, :2], axis=0).T) * fps * R2D  # noqa: E731
        ax.hist(
            np.concatenate([sp(c.head) for c in test_clips]),
            edges,
            histtype="step",
            color="k",
            lw=2,
            density=True,
            label="real",
        )
        for n, s in methods_samples.items():
            if n == "constant":
                continue
            ax.hist(
                np.concatenate([sp(x[0]) for x in s]), edges, histtype="step", density=True, label=n
            )
        ax.set_yscale("log")
        ax.set_xlabel("head angular speed (deg/s)")
        ax.legend(fontsize=7)
        paths.append(os.path.join(out_dir, "velocity_distribution.png"))
        fig.tight_layout()
        fig.savefig(paths[-1], dpi=90)
        plt.close(fig)

        # the test window whose gaze yaw moves most: shows the shifts best
        ci = int(np.argmax([np.ptp(c.gaze[:, 1]) for c in test_clips]))
        c = test_clips[ci]
        a, b = 0, c.frames
        t = np.arange(b - a) / fps
        fig, axs = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
        for ax_i, (ax, lab) in enumerate(zip(axs, ("pitch", "yaw"))):
            ax.plot(t, c.gaze[a:b, ax_i] * R2D, color="0.7", label="gaze")
            ax.plot(t, c.head[a:b, ax_i] * R2D, "k", lw=2, label="real head")
            for n, s in methods_samples.items():
                if n in ("constant",) or "ablation" in n:
                    continue
                ax.plot(t, s[ci][0, a:b, ax_i] * R2D, lw=1, label=n)
            ax.set_ylabel(f"{lab} (deg)")
        axs[0].legend(fontsize=7, ncol=3)
        axs[1].set_xlabel(f"time (s), test window {c.id}")
        paths.append(os.path.join(out_dir, "traces.png"))
        fig.tight_layout()
        fig.savefig(paths[-1], dpi=90)
        plt.close(fig)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="gazehead-rt evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        default="eyenavgs",
        choices=["eyenavgs", "sgaze"],
        help="held-out real data: EyeNavGS test people (default) or the SGaze test split",
    )
    p.add_argument("--model", default=None, help="model file (default: the shipped model)")
    p.add_argument("--name", default="model", help="table name of --model")
    p.add_argument(
        "--ablation",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="more model files for the table (repeatable)",
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="shared data folder (default ../shared/data or $GAZEHEAD_DATA)",
    )
    p.add_argument(
        "--dataset",
        action="append",
        default=[],
        help="extra dataset folder (docs/design.md §3); its test split is scored too",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["test", "val"],
        help="held-out split to score (val: for model development)",
    )
    p.add_argument("--no-baselines", action="store_true", help="score the models only")
    p.add_argument("--out", default="runs/eval")
    p.add_argument(
        "--k", type=int, default=None, help="samples per test window (default 4 eyenavgs, 8 sgaze)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument(
        "--rollout-hours",
        type=float,
        default=1.0,
        help="length of the stability rollout (0 to skip)",
    )
    p.add_argument("--no-plots", action="store_true")
    p.add_argument(
        "--window-neck-limits-deg",
        default=None,
        metavar="P,Y,R",
        help="neck limits of the models on the test windows (default: each model's "
        "own); SGaze's bodies turn, so e.g. 89,179,89 scores the head in the world",
    )
    p.add_argument(
        "--max-window-yaw-deg",
        type=float,
        default=120.0,
        help="eyenavgs: score only windows whose real head stays within this yaw of the "
        "window's median (leaves out body turns; default 120; inf: all windows)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (eyenavgs default: 1)")
    p.add_argument(
        "--write-metrics-to-model",
        action="store_true",
        help="store the metrics summary in --model's metadata",
    )
    a = p.parse_args(argv)
    if a.threads or a.data == "eyenavgs":
        # one thread: the small classifier and step loops run ~8x slower with two threads
        # contending on a busy machine
        torch.set_num_threads(a.threads or 1)
    if a.k is None:
        a.k = 4 if a.data == "eyenavgs" else 8
    if a.data == "eyenavgs":
        return _main_eyenavgs(a, p)
    from .data.sgaze import load_sgaze_clips

    sdir = sgaze_dir(a.data_root)
    if _data_missing(sdir, "SGaze"):
        return 2
    clips = load_sgaze_clips(sdir)
    for d in a.dataset:
        clips += load_dataset(d)
    train_clips = eval_windows([c for c in clips if c.split == "train"])
    test_clips = eval_windows([c for c in clips if c.split == a.split])
    paths = _model_paths(a, p)
    model_path = paths[a.name]
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    wl = _window_neck_limits(a, p)
    res = evaluate(
        paths,
        train_clips,
        test_clips,
        k=a.k,
        seed=a.seed,
        temperature=a.temperature,
        rollout_hours=a.rollout_hours,
        baselines=not a.no_baselines,
        log=log,
        neck_limits=wl,
    )
    table = markdown_table(res)
    if "physiology" in res:
        from .physiology import physiology_table

        table += "\n### Held gaze steps, fixed torso\n\n" + physiology_table(res["physiology"])
    _write_results(a.out, res, table)
    if "physiology" in res and not a.no_plots:
        from .physiology import plot_physiology

        plot_physiology(res["physiology"], os.path.join(a.out, "physiology.png"))
    if not a.no_plots:
        # regenerate first-sample traces cheaply for the plots (K = 1, same seeds)
        samples = {}
        fps = test_clips[0].fps
        from .baselines import fit_proportional as fp

        for n, pth in paths.items():
            m = GazeHeadModel.load(pth)
            temp = 0.0 if n.endswith("deterministic") else a.temperature
            samples[n] = [
                model_rollout(m, c.gaze, 1, a.seed + i, temp, head0=c.head[0], neck_limits=wl)
                for i, c in enumerate(test_clips)
            ]
        if not a.no_baselines:
            prop = fp(train_clips, fps)
            samples["proportional"] = [prop(c.gaze) for c in test_clips]
            samples["procedural"] = [procedural_head(c.gaze, fps) for c in test_clips]
        plots(res, samples, test_clips, a.out)
    if a.write_metrics_to_model:
        _write_metrics(model_path, res, a.name)
    print(table)
    return 0


def _window_neck_limits(a, p) -> np.ndarray | None:
    """--window-neck-limits-deg as (3,) rad, or None."""
    if not a.window_neck_limits_deg:
        return None
    wl = np.radians([float(v) for v in a.window_neck_limits_deg.split(",")])
    if wl.shape != (3,):
        p.error("--window-neck-limits-deg expects three numbers P,Y,R")
    return wl


def _data_missing(path: str, name: str) -> bool:
    """True (after saying so on stderr) when the data folder ``path`` is absent."""
    if os.path.isdir(path):
        return False
    print(
        f"error: {name} data not found at {path}; pass --data-root or set GAZEHEAD_DATA",
        file=sys.stderr,
    )
    return True


def _write_results(out: str, res: dict, table: str) -> None:
    """metrics.json and table.md in ``out``."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)


def _model_paths(a, p) -> dict[str, str]:
    paths = {a.name: a.model or default_model_path()}
    for s in a.ablation:
        n, _, pth = s.partition("=")
        if not pth:
            p.error(f"--ablation expects NAME=PATH, got {s!r}")
        paths[n] = pth
    return paths


def _main_eyenavgs(a, p) -> int:
    from .data.eyenavgs import eyenavgs_dir, load_eyenavgs_clips
    from .yardstick import evaluate_people, plot_yardstick, yardstick_table

    root = eyenavgs_dir(a.data_root)
    if _data_missing(root, "EyeNavGS"):
        return 2
    if a.dataset or a.write_metrics_to_model:
        p.error("--dataset and --write-metrics-to-model apply to --data sgaze")
    wl = _window_neck_limits(a, p)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    clips = load_eyenavgs_clips(root)
    train = [c for c in clips if c.split == "train"]
    test = [c for c in clips if c.split == a.split]
    paths = _model_paths(a, p)
    res = evaluate_people(
        paths,
        train,
        test,
        k=a.k,
        seed=a.seed,
        temperature=a.temperature,
        baselines=not a.no_baselines,
        log=log,
        neck_limits=wl,
        max_window_yaw_deg=a.max_window_yaw_deg,
    )
    res["split"] = a.split
    fps = res["fps"]
    models = {n: GazeHeadModel.load(pth) for n, pth in paths.items()}
    t0 = time.time()
    tp = res["proportional_fits"].get("train_people")
    prop = (
        ProportionalBaseline(k=tuple(tp["k"]), tau_s=tp["tau_s"], fps=fps, start="first")
        if tp
        else fit_proportional(train, fps)
    )
    res["physiology"] = physiology(models, prop, fps, a.k, a.seed, a.temperature)
    log(f"physiology ({time.time() - t0:.0f} s)")
    if a.rollout_hours > 0:
        name = next(iter(models))
        res["stability"] = stability_rollout(
            models[name], a.rollout_hours, fps, a.seed, temperature=a.temperature
        )
        res["stability"]["model"] = name
        log(f"stability rollout ({time.time() - t0:.0f} s)")
    from .physiology import physiology_table, plot_physiology

    table = f"### EyeNavGS {a.split} people\n\n" + yardstick_table(res)
    table += "\n### Held gaze steps, fixed torso\n\n" + physiology_table(res["physiology"])
    if "stability" in res:
        st = res["stability"]
        table += (
            f"\nStability ({st['model']}): {st['hours']:g} h x {st['agents']} agents on "
            f"adversarial gaze: finite={st['finite']}, unclamped |eye| <= 50 deg in "
            f"{st['eye_le_50_settled_frac']:.3%} of settled frames.\n"
        )
    _write_results(a.out, res, table)
    if not a.no_plots:
        plot_physiology(res["physiology"], os.path.join(a.out, "physiology.png"))
        plot_yardstick(res, os.path.join(a.out, "head_share.png"))
    print(table)
    return 0


def _write_metrics(model_path: str, res: dict, name: str) -> None:
    """Re-save the model file with a metrics summary (tensors unchanged)."""
    from gazehead_rt.model_file import load_model, save_model

    lm = load_model(model_path)
    r = res["methods"][name]
    keys = [k for k, _, _ in COLUMNS] + ["lag_s"]
    summary = {k: r[k] for k in keys}
    summary.update(
        real_lag_s=res["real"]["lag_s"],
        test_clips=res["test_clips"],
        stability=res.get("stability"),
        baselines={
            n: {k: v[k] for k in ("c2st_acc", "lag_err_ms", "corr_yaw", "speed_w1_deg_s")}
            for n, v in res["methods"].items()
            if n != name
        },
    )
    save_model(
        model_path,
        lm.tensors,
        lm.config,
        lm.normalization,
        provenance=lm.metadata.get("provenance"),
        metrics=summary,
        code_revision=str(lm.metadata.get("code_revision", "unknown")),
    )


if __name__ == "__main__":
    raise SystemExit(main())
