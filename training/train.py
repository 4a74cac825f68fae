"""Train the gaze -> head cVAE (``gazehead-rt train`` / ``python -m training.train``).

Default data: the EyeNavGS training and validation people from ``../shared/data`` (override
with ``--data-root`` or ``$GAZEHEAD_DATA``; the yardstick's test people are never loaded
here), optionally SGaze (``--sgaze``), synthetic fixed-torso shifts
(``--synthetic-minutes``) and any docs/design.md §3 dataset folders (``--dataset``). Clips
without a measured torso are re-centred on a running torso estimate (training/data/torso.py).
Writes to ``--out`` (default ``runs/train/default``): ``log.csv`` (one row per logged step),
``ckpt.pt`` (latest, for ``--resume``), ``best.pt`` (lowest validation loss),
``model.safetensors`` (best, with metadata) and ``train_config.json``.

Data-parallel under ``torchrun`` (DistributedDataParallel; gloo on CPU, NCCL on GPUs): each
of the W processes draws ``batch_size / W`` windows with its own sampler seed, gradients are
averaged, rank 0 validates, logs and writes checkpoints, and every rank resumes from them::

    torchrun --nproc_per_node 2 -m training.train --out runs/v4 --threads 1
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from gazehead_rt.model_file import STYLE_SIZE, ModelConfig, Normalization

from .data.dataset import Clip, load_dataset
from .data.procedural import generate_clip
from .model import GazeHeadModel
from .objective import LossConfig, window_loss
from .paths import code_revision, sgaze_dir

__all__ = [
    "TrainConfig",
    "train",
    "compute_normalization",
    "WindowSampler",
    "main",
    "load_training_clips",
]


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    steps: int = 3000
    batch_size: int = 32
    window_frames: int = 60  # 2 s at 30 fps: longer than any gaze-head latency and movement
    lr: float = 2e-3
    lr_final_frac: float = 0.05  # cosine decay to this fraction of lr
    weight_decay: float = 1e-5
    grad_clip: float = 1.0
    kl_anneal_steps: int = 600  # KL weight ramps 0 -> 1 (Bowman et al., CoNLL 2016)
    ss_ramp_steps: int = 1000  # scheduled sampling probability ramps 0 -> loss.ss_prob
    mirror: bool = True  # left/right mirror augmentation (yaw, roll sign flip)
    seed: int = 0
    eval_every: int = 100
    ckpt_every: int = 100
    val_windows: int = 128
    #: sampling weight per clip domain (``extra["domain"]``, SGaze = "sgaze"); a domain's
    #: windows are drawn with probability proportional to weight x its valid windows
    domain_weights: dict = field(default_factory=dict)
    #: seconds of the running median that estimates the torso of clips that lack one
    torso_window_s: float = 10.0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["model"] = json.loads(self.model.to_json())
        return d


# -- data ------------------------------------------------------------------------------------
def load_training_clips(
    data_root: str | None,
    datasets: list[str],
    use_sgaze: bool = False,
    procedural_clips: int = 0,
    fps: float = 30.0,
    synthetic_minutes: float = 0.0,
    seed: int = 0,
    use_eyenavgs: bool = True,
    torso_window_s: float = 10.0,
) -> list[Clip]:
    """EyeNavGS (train and val people only), SGaze (all splits), extra dataset folders, and
    synthetic fixed-torso gaze shifts (training/data/synthetic.py: ``synthetic_minutes`` for
    train, a fifth of it for val). Clips of domains without a torso are re-centred."""
    from .data.sgaze import load_sgaze_clips
    from .data.synthetic import synthetic_clips
    from .data.torso import TORSO_KNOWN_DOMAINS, recentre_torso

    clips: list[Clip] = []
    if use_eyenavgs:
        from .data.eyenavgs import eyenavgs_dir, load_eyenavgs_clips

        clips += [
            c for c in load_eyenavgs_clips(eyenavgs_dir(data_root), fps=fps) if c.split != "test"
        ]
    if use_sgaze:
        clips += load_sgaze_clips(sgaze_dir(data_root), fps=fps)
    if synthetic_minutes > 0:
        clips += synthetic_clips("train", synthetic_minutes, seed=seed, fps=fps)
        clips += synthetic_clips("val", max(1.0, synthetic_minutes / 5), seed=seed, fps=fps)
    for d in datasets:
        clips += load_dataset(d)
    for i in range(procedural_clips):
        clips.append(generate_clip(f"proc_{i:03d}", 120.0, fps, seed=1000 + i, split="train"))
    bad = [c.id for c in clips if abs(c.fps - fps) > 1e-6]
    if bad:
        raise ValueError(f"clips {bad} are not at the model rate {fps} fps; resample them")
    return [
        c if clip_domain(c) in TORSO_KNOWN_DOMAINS else recentre_torso(c, torso_window_s)
        for c in clips
    ]


def clip_style(c: Clip) -> np.ndarray:
    """Style (propensity, idle) of a clip: the manifest's ``style`` if the producer stored
    one, else estimated from the clip (gazehead_rt.style.estimate_style)."""
    st = c.extra.get("style")
    if st is None:
        from gazehead_rt.style import estimate_style

        st = estimate_style(c.gaze[c.valid], c.head[c.valid], c.fps)
        c.extra["style"] = [float(v) for v in st]
    return np.asarray(st, np.float32).reshape(STYLE_SIZE)


def assign_person_styles(clips: list[Clip]) -> None:
    """Give every clip without a stored style its person's style: the frame-weighted mean of
    ``estimate_style`` over that person's clips (of one domain) that allow an estimate.

    Style is what differs between people (docs/design.md §4), so one person's clips share
    it; a clip too short or too busy for an estimate of its own (no quiet second) still
    gets its person's. A person none of whose clips allows one gets the mean of all."""
    from gazehead_rt.style import estimate_style

    todo = [c for c in clips if c.extra.get("style") is None]
    per: dict[tuple[str, str], list[tuple[np.ndarray, int]]] = {}
    for c in todo:
        key = (clip_domain(c), c.subject or c.id)
        try:
            st = estimate_style(c.gaze[c.valid], c.head[c.valid], c.fps)
        except ValueError:
            continue
        per.setdefault(key, []).append((np.asarray(st, np.float64), int(c.valid.sum())))
    means = {k: sum(s * n for s, n in v) / sum(n for _, n in v) for k, v in per.items() if v}
    fallback = np.mean(list(means.values()), 0) if means else np.array([0.6, 0.0])
    for c in todo:
        st = means.get((clip_domain(c), c.subject or c.id), fallback)
        c.extra["style"] = [float(v) for v in st]


def compute_normalization(clips: list[Clip], fps: float) -> Normalization:
    """Statistics of x_t and of the head velocity target over the given (training) clips,
    with the recorded head fed back (teacher forcing)."""
    from .model import condition_features
    from .objective import head_velocity

    xs, ys = [], []
    for c in clips:
        g = torch.from_numpy(c.gaze).double()
        h = torch.from_numpy(c.head).double()
        ok = torch.from_numpy(c.valid[2:] & c.valid[1:-1] & c.valid[:-2])
        v = head_velocity(h[None], fps)[0]  # (T-1, 3)
        st = torch.from_numpy(clip_style(c)).double().expand(len(g) - 2, STYLE_SIZE)
        x = condition_features(
            g[2:], g[1:-1], h[1:-1], v[:-1], st, torch.ones(len(g) - 2, dtype=torch.bool), fps
        )
        xs.append(x[ok])
        ys.append(v[1:][ok])
    x = torch.cat(xs).numpy()
    y = torch.cat(ys).numpy()
    # Floors: a feature that is constant in the data (roll, absent from SGaze) must not be
    # divided by ~0. The output floor is tiny on purpose: a channel never seen moving (roll)
    # then stays ~still in generated motion instead of drifting by integrated decoder bias.
    x_std = np.maximum(x.std(0), 1e-2)
    y_std = np.maximum(y.std(0), 1e-6)
    y_mean = np.where(y.std(0) < 1e-6, 0.0, y.mean(0))
    # velocities are symmetric under the left/right mirror: their mean is kept at 0
    x_mean = x.mean(0)
    x_mean[[1, 3, 5, 6, 8]] = 0.0  # yaw and roll entries: eye, gaze vel, head vel, head
    y_mean = np.asarray(y_mean, np.float64)
    y_mean[[1, 2]] = 0.0
    return Normalization(x_mean, x_std, y_mean, y_std)


def clip_domain(c: Clip) -> str:
    """Domain tag of a clip: the manifest's ``domain`` (``video`` for training.extract),
    ``sgaze`` for SGaze recordings."""
    return str(
        c.extra.get("domain")
        or c.extra.get("kind")
        or ("sgaze" if c.id.startswith("sgaze") else "other")
    )


class WindowSampler:
    """Random windows of ``frames + 2`` fully valid frames (two of context), with the style
    of each window's clip."""

    def __init__(
        self,
        clips: list[Clip],
        frames: int,
        mirror: bool,
        seed: int,
        domain_weights: dict | None = None,
    ):
        self.frames = frames
        self.mirror = mirror
        self.rng = np.random.default_rng(seed)
        self.gaze = [c.gaze for c in clips]
        self.head = [c.head for c in clips]
        self.style = [clip_style(c) for c in clips]
        self.starts = []
        for c in clips:
            bad = np.concatenate([[0], np.cumsum(~c.valid)])
            n = c.frames - frames - 1
            st = np.arange(max(n, 0))
            st = st[bad[st + frames + 2] - bad[st] == 0] if n > 0 else st
            self.starts.append(st)
        dw = domain_weights or {}
        self.weights = np.array(
            [len(s) * float(dw.get(clip_domain(c), 1.0)) for s, c in zip(self.starts, clips)], float
        )
        if self.weights.sum() == 0:
            raise ValueError(f"no clip holds {frames + 1} consecutive valid frames")
        self.weights /= self.weights.sum()

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ci = self.rng.choice(len(self.starts), size=batch, p=self.weights)
        n = self.frames + 2
        g = np.empty((batch, n, 2), np.float32)
        h = np.empty((batch, n, 3), np.float32)
        st = np.empty((batch, STYLE_SIZE), np.float32)
        for b, c in enumerate(ci):
            s = self.starts[c][self.rng.integers(len(self.starts[c]))]
            g[b] = self.gaze[c][s : s + n]
            h[b] = self.head[c][s : s + n]
            st[b] = self.style[c]
        if self.mirror:
            # mirror left/right: yaw and roll change sign, pitch does not (docs/design.md §2 frame)
            flip = self.rng.random(batch) < 0.5
            g[flip, :, 1] *= -1
            h[flip, :, 1:] *= -1
        return torch.from_numpy(g), torch.from_numpy(h), torch.from_numpy(st)


# -- training --------------------------------------------------------------------------------
def _lr_at(cfg: TrainConfig, step: int) -> float:
    warm = min(1.0, (step + 1) / 100)  # short warm-up keeps the first Adam steps small
    u = min(1.0, step / max(1, cfg.steps))
    return (
        cfg.lr
        * warm
        * (cfg.lr_final_frac + (1 - cfg.lr_final_frac) * 0.5 * (1 + math.cos(math.pi * u)))
    )


def _schedules(cfg: TrainConfig, step: int) -> tuple[float, float]:
    kl_w = min(1.0, step / cfg.kl_anneal_steps) if cfg.kl_anneal_steps > 0 else 1.0
    ss = cfg.loss.ss_prob * (min(1.0, step / cfg.ss_ramp_steps) if cfg.ss_ramp_steps > 0 else 1.0)
    return kl_w, ss


def _seed_all(seed: int) -> None:
    torch.manual_seed(seed)


def _save_atomic(obj: dict, path: str) -> None:
    """torch.save through a temporary file: a run stopped mid-write keeps the last checkpoint."""
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _distributed(device: str | None) -> tuple[int, int, torch.device]:
    """(rank, world size, device) of this process. Under ``torchrun`` (WORLD_SIZE > 1) the
    process group is initialized here: NCCL with one GPU per local rank, gloo on CPU."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if world <= 1:
        return 0, 1, torch.device(device or ("cuda" if use_cuda else "cpu"))
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), dev


class _WindowLoss(torch.nn.Module):
    """The objective as a module, so DistributedDataParallel can average its gradients
    (window_loss calls the model's submodules directly, not its forward)."""

    def __init__(self, model: GazeHeadModel, loss: LossConfig):
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, g, h, st, kl_w: float, ss: float):
        return window_loss(self.model, g, h, st, self.loss, kl_w, ss)


def train(
    cfg: TrainConfig,
    train_clips: list[Clip],
    val_clips: list[Clip],
    out_dir: str,
    *,
    resume: bool = False,
    device: str | None = None,
    progress: bool = True,
    provenance: dict | None = None,
    export_path: str | None = None,
    time_limit_s: float | None = None,
) -> dict:
    """Train; returns a summary dict. Deterministic for a given seed on one device (and for a
    given seed and world size under torchrun)."""
    import torch.distributed as dist
    from tqdm import tqdm

    rank, world, dev = _distributed(device)
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by {world} processes")
    os.makedirs(out_dir, exist_ok=True)
    _seed_all(cfg.seed)
    assign_person_styles(list(train_clips) + list(val_clips))
    norm = compute_normalization(train_clips, cfg.model.fps)
    styles = np.stack([clip_style(c) for c in train_clips])
    w = np.array([c.frames for c in train_clips], float)
    smean = (styles * w[:, None]).sum(0) / w.sum()
    sstd = np.sqrt(((styles - smean) ** 2 * w[:, None]).sum(0) / w.sum())
    cfg.model = dataclasses.replace(
        cfg.model,
        style_mean=tuple(float(v) for v in smean),
        style_std=tuple(float(v) for v in sstd),
    )
    model = GazeHeadModel(cfg.model, norm).to(dev)
    objective: torch.nn.Module = _WindowLoss(model, cfg.loss)
    if world > 1:
        # rank 0's initial weights are broadcast; the posterior is unused only in the
        # deterministic ablation
        objective = torch.nn.parallel.DistributedDataParallel(
            objective, find_unused_parameters=cfg.loss.deterministic
        )
        torch.manual_seed(cfg.seed + 7919 * rank)  # each rank its own noise from here on
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sampler = WindowSampler(
        train_clips, cfg.window_frames, cfg.mirror, cfg.seed + 1000 * rank, cfg.domain_weights
    )
    val_sampler = WindowSampler(val_clips or train_clips, cfg.window_frames, False, cfg.seed + 1)
    vg, vh, vs = val_sampler.sample(cfg.val_windows)  # fixed validation windows
    vg, vh, vs = vg.to(dev), vh.to(dev), vs.to(dev)

    ckpt_path = os.path.join(out_dir, "ckpt.pt")
    rng_path = os.path.join(out_dir, f"rng_rank{rank}.pt")  # each rank's sampler and noise
    best_path = os.path.join(out_dir, "best.pt")
    log_path = os.path.join(out_dir, "log.csv")
    step, best_val = 0, float("inf")
    if resume and os.path.isfile(ckpt_path):
        ck = torch.load(ckpt_path, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best_val = ck["step"], ck["best_val"]
        rng = torch.load(rng_path, weights_only=False) if os.path.isfile(rng_path) else ck
        sampler.rng.bit_generator.state = rng["sampler_rng"]
        torch.set_rng_state(rng["torch_rng"])
    elif rank == 0 and os.path.exists(log_path):
        os.remove(log_path)
    if rank == 0:
        with open(os.path.join(out_dir, "train_config.json"), "w") as f:
            json.dump(dict(cfg.to_dict(), world_size=world), f, indent=1)
    local_batch = cfg.batch_size // world

    fields = [
        "step",
        "time_s",
        "lr",
        "kl_w",
        "ss",
        "loss",
        "recon",
        "kl",
        "prior_mse",
        "rollout",
        "eye_pen",
        "vel_ratio",
        "jerk_ratio",
        "val_loss",
        "val_recon",
        "val_jerk_ratio",
    ]
    logf = log = None
    if rank == 0:
        new_log = not os.path.exists(log_path)
        logf = open(log_path, "a", newline="")
        log = csv.DictWriter(logf, fieldnames=fields, extrasaction="ignore")
        if new_log:
            log.writeheader()
    t0 = time.time()
    bar = tqdm(
        total=cfg.steps,
        initial=step,
        disable=not progress or rank != 0,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    while step < cfg.steps:
        stop = time_limit_s is not None and time.time() - t0 > time_limit_s
        if world > 1:  # rank 0's clock decides, so every rank stops at the same step
            flag = torch.tensor([float(stop)], device=dev)
            dist.broadcast(flag, 0)
            stop = bool(flag.item())
        if stop:
            break
        model.train()
        lr = _lr_at(cfg, step)
        for gr in opt.param_groups:
            gr["lr"] = lr
        kl_w, ss = _schedules(cfg, step)
        g, h, st = sampler.sample(local_batch)
        loss, parts = objective(g.to(dev), h.to(dev), st.to(dev), kl_w, ss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{parts['loss']:.3f}", kl=f"{parts.get('kl', 0):.2f}")
        row = {
            "step": step,
            "time_s": round(time.time() - t0, 2),
            "lr": lr,
            "kl_w": kl_w,
            "ss": ss,
            **parts,
        }
        if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.steps):
            model.eval()
            cpu_rng = torch.get_rng_state()
            torch.manual_seed(12345)  # same noise every validation: comparable numbers
            with torch.no_grad():
                _, vp = window_loss(model, vg, vh, vs, cfg.loss, 1.0, cfg.loss.ss_prob)
            torch.set_rng_state(cpu_rng)
            row.update(
                val_loss=vp["loss"], val_recon=vp["recon"], val_jerk_ratio=vp.get("jerk_ratio")
            )
            if vp["loss"] < best_val:
                best_val = vp["loss"]
                torch.save({"model": model.state_dict(), "step": step}, best_path)
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            rng = {
                "sampler_rng": sampler.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
            }
            if rank == 0:
                _save_atomic(
                    {
                        "model": model.state_dict(),
                        "opt": opt.state_dict(),
                        "step": step,
                        "best_val": best_val,
                        **rng,
                    },
                    ckpt_path,
                )
            _save_atomic(rng, rng_path)
        if rank == 0 and (step % 10 == 0 or step == 1 or "val_loss" in row):
            log.writerow(row)
            logf.flush()
    bar.close()
    if logf is not None:
        logf.close()
    in_sync = True
    if world > 1:
        # the replicas must hold the same weights after the last averaged step
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double()
        ref = flat.clone()
        dist.broadcast(ref, 0)
        mismatch = torch.tensor([float(not torch.equal(flat, ref))], device=dev)
        dist.all_reduce(mismatch)
        in_sync = mismatch.item() == 0
        dist.barrier()  # rank 0's best.pt is complete before anyone reads it
        if rank != 0:
            dist.destroy_process_group()
            return {"steps": step, "rank": rank, "replicas_in_sync": in_sync}

    if os.path.isfile(best_path):
        model.load_state_dict(torch.load(best_path, map_location=dev)["model"])
    model = model.cpu().eval()
    prov = dict(provenance or {})
    prov.update(
        train_config=cfg.to_dict(),
        best_val_loss=best_val,
        steps_done=step,
        train_clips=[c.id for c in train_clips],
        val_clips=[c.id for c in val_clips],
    )
    model_path = os.path.join(out_dir, "model.safetensors")
    rev = code_revision()
    model.save(model_path, provenance=prov, code_revision=rev)
    if export_path:
        os.makedirs(os.path.dirname(os.path.abspath(export_path)), exist_ok=True)
        model.save(export_path, provenance=prov, code_revision=rev)
    if world > 1:
        dist.destroy_process_group()
    return {
        "steps": step,
        "world_size": world,
        "replicas_in_sync": in_sync,
        "best_val_loss": best_val,
        "model_path": model_path,
        "time_s": time.time() - t0,
        "params_runtime": sum(v.numel() for v in model.runtime_tensors().values()),
    }


# -- CLI -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="gazehead-rt train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="runs/train/default", help="output folder")
    p.add_argument(
        "--data-root",
        default=None,
        help="shared data folder (default ../shared/data or $GAZEHEAD_DATA)",
    )
    p.add_argument(
        "--dataset",
        action="append",
        default=[],
        help="extra docs/design.md §3 dataset folder (repeatable); its splits are used",
    )
    p.add_argument(
        "--no-eyenavgs",
        action="store_true",
        help="do not use EyeNavGS (its train and val people; the test people never are)",
    )
    p.add_argument(
        "--sgaze",
        action="store_true",
        help="also use SGaze (its eye-head coupling is atypical: off by default, docs/data.md)",
    )
    p.add_argument(
        "--torso-window-s",
        type=float,
        default=d.torso_window_s,
        help="running-median window of the torso estimate of clips without a torso",
    )
    p.add_argument(
        "--synthetic-minutes",
        type=float,
        default=0.0,
        help="minutes of synthetic fixed-torso gaze shifts for training (a fifth "
        "as many for validation)",
    )
    p.add_argument(
        "--procedural-clips",
        type=int,
        default=0,
        help="add N two-minute procedural clips to the training split",
    )
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--window-frames", type=int, default=d.window_frames)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--hidden", type=int, default=d.model.hidden_size)
    p.add_argument("--latent", type=int, default=d.model.latent_size)
    p.add_argument("--enc", default=",".join(map(str, d.model.enc_sizes)))
    p.add_argument("--dec", default=",".join(map(str, d.model.dec_sizes)))
    p.add_argument("--prior", default=",".join(map(str, d.model.prior_sizes)))
    p.add_argument("--activation", default=d.model.activation)
    p.add_argument(
        "--reach-gain", type=float, default=d.model.reach_gain, help="reach floor gain, 1/s"
    )
    p.add_argument(
        "--reach-threshold-deg",
        type=float,
        default=math.degrees(d.model.reach_threshold),
        help="eye-in-head error beyond which the reach floor acts",
    )
    p.add_argument(
        "--reach-accel-deg",
        type=float,
        default=math.degrees(d.model.reach_accel),
        help="deg/s^2 the reach floor may rise per second",
    )
    p.add_argument("--beta", type=float, default=d.loss.beta)
    p.add_argument("--free-bits", type=float, default=d.loss.free_bits)
    p.add_argument("--kl-anneal-steps", type=int, default=d.kl_anneal_steps)
    p.add_argument("--ss-prob", type=float, default=d.loss.ss_prob)
    p.add_argument("--ss-ramp-steps", type=int, default=d.ss_ramp_steps)
    p.add_argument("--vel-weight", type=float, default=d.loss.vel_weight)
    p.add_argument("--jerk-weight", type=float, default=d.loss.jerk_weight)
    p.add_argument("--prior-mse-weight", type=float, default=d.loss.prior_mse_weight)
    p.add_argument(
        "--correction-rate",
        type=float,
        default=d.loss.correction_rate_hz,
        help="Hz; rate of the corrective velocity target under scheduled sampling",
    )
    p.add_argument(
        "--rollout-weight",
        type=float,
        default=d.loss.rollout_weight,
        help="weight of the free-running head position loss",
    )
    p.add_argument(
        "--prior-path-frac",
        type=float,
        default=d.loss.prior_path_frac,
        help="fraction of windows whose fed-back rollout is driven by prior samples",
    )
    p.add_argument(
        "--eye-weight",
        type=float,
        default=d.loss.eye_weight,
        help="weight of the eye-in-head range hinge on generated heads",
    )
    p.add_argument("--eye-limit-deg", type=float, default=d.loss.eye_limit_deg)
    p.add_argument(
        "--domain-weight",
        action="append",
        default=[],
        metavar="DOMAIN=W",
        help="window sampling weight of a clip domain (sgaze, video); default 1",
    )
    p.add_argument(
        "--drop-roll",
        action="store_true",
        help="zero the head roll of every clip (SGaze has none; use it when a "
        "--dataset has roll the SGaze-trained outputs should not learn)",
    )
    p.add_argument(
        "--val-domain",
        default=None,
        help="validate (best-model choice) on this domain's val clips only",
    )
    p.add_argument(
        "--ablation", choices=["none", "no_gru", "fixed_prior", "deterministic"], default="none"
    )
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt")
    p.add_argument("--export", default=None, help="also write the model file here")
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if present)")
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    p.add_argument(
        "--time-limit-min",
        type=float,
        default=None,
        help="stop early after this many minutes (the best model is kept)",
    )
    p.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(a: argparse.Namespace) -> TrainConfig:
    sizes = lambda s: tuple(int(x) for x in s.split(",") if x)  # noqa: E731
    mc = ModelConfig(
        enc_sizes=sizes(a.enc),
        hidden_size=a.hidden,
        prior_sizes=sizes(a.prior),
        latent_size=a.latent,
        dec_sizes=sizes(a.dec),
        activation=a.activation,
        reach_gain=a.reach_gain,
        reach_threshold=math.radians(a.reach_threshold_deg),
        reach_accel=math.radians(a.reach_accel_deg),
    )
    lc = LossConfig(
        beta=a.beta,
        free_bits=a.free_bits,
        ss_prob=a.ss_prob,
        vel_weight=a.vel_weight,
        jerk_weight=a.jerk_weight,
        prior_mse_weight=a.prior_mse_weight,
        correction_rate_hz=a.correction_rate,
        rollout_weight=a.rollout_weight,
        prior_path_frac=a.prior_path_frac,
        eye_weight=a.eye_weight,
        eye_limit_deg=a.eye_limit_deg,
        no_gru=a.ablation == "no_gru",
        fixed_prior=a.ablation == "fixed_prior",
        deterministic=a.ablation == "deterministic",
    )
    return TrainConfig(
        model=mc,
        loss=lc,
        steps=a.steps,
        batch_size=a.batch_size,
        window_frames=a.window_frames,
        lr=a.lr,
        seed=a.seed,
        kl_anneal_steps=a.kl_anneal_steps,
        ss_ramp_steps=a.ss_ramp_steps,
        eval_every=a.eval_every,
        ckpt_every=a.eval_every,
        domain_weights={k: float(v) for k, _, v in (x.partition("=") for x in a.domain_weight)},
        torso_window_s=a.torso_window_s,
    )


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = config_from_args(a)
    clips = load_training_clips(
        a.data_root,
        a.dataset,
        a.sgaze,
        a.procedural_clips,
        cfg.model.fps,
        a.synthetic_minutes,
        a.seed,
        use_eyenavgs=not a.no_eyenavgs,
        torso_window_s=cfg.torso_window_s,
    )
    if a.drop_roll:
        for c in clips:
            c.head[:, 2] = 0.0
    tr = [c for c in clips if c.split == "train"]
    va = [
        c
        for c in clips
        if c.split == "val" and (a.val_domain is None or clip_domain(c) == a.val_domain)
    ]
    prov = {
        "data": sorted({c.extra.get("dataset", c.source) for c in clips}),
        "split": {s: [c.id for c in clips if c.split == s] for s in ("train", "val", "test")},
        "train_frames": int(sum(c.frames for c in tr)),
        "command": "gazehead-rt train " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    res = train(
        cfg,
        tr,
        va,
        a.out,
        resume=a.resume,
        device=a.device,
        progress=not a.no_progress,
        provenance=prov,
        export_path=a.export,
        time_limit_s=None if a.time_limit_min is None else a.time_limit_min * 60,
    )
    if "rank" not in res:  # rank 0 (or a single process) reports
        print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
