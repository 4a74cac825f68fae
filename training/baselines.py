"""Baselines of docs/design.md §6 and the model's own generator: gaze (T, 2) -> head (K, T, 3).

* constant: the head stays at (0, 0, 0), facing the body's forward direction;
* proportional: head = k * gaze through a first-order causal low-pass with time constant
  tau, per axis; what games do today. k and tau are fitted on the training split;
* procedural: :class:`training.data.procedural.ProceduralHead` with literature parameters;
* model: autoregressive rollout of :meth:`GazeHeadModel.step`, prior sampling, from a cold
  start (zero state, as ``gazehead_rt.Generator()`` starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data.dataset import Clip
from .data.procedural import ProceduralParams, head_from_gaze
from .model import GazeHeadModel, StepState

__all__ = [
    "constant_head",
    "ProportionalBaseline",
    "fit_proportional",
    "proportional_stats",
    "fit_proportional_from_stats",
    "PROPORTIONAL_STARTS",
    "procedural_head",
    "model_rollout",
    "population_styles",
]


def constant_head(gaze: np.ndarray) -> np.ndarray:
    return np.zeros((1, len(gaze), 3), np.float32)


def _lowpass(x: np.ndarray, tau_s: float, fps: float, init: np.ndarray | None = None) -> np.ndarray:
    """Causal first-order low-pass along axis 0, exact discretisation, starting at ``init``
    (default 0; shape ``x.shape[1:]``)."""
    a = 1.0 - np.exp(-1.0 / (tau_s * fps)) if tau_s > 0 else 1.0
    y = np.empty_like(x, dtype=np.float64)
    acc = np.zeros(x.shape[1:]) if init is None else np.array(init, dtype=np.float64)
    for t in range(len(x)):
        acc = acc + a * (x[t] - acc)
        y[t] = acc
    return y


#: Where the proportional rule's low-pass starts: at 0 (the body's forward, the head
#: centred; a rollout from rest), or at the first gaze sample (as if the gaze had been held
#: there: windows cut from a recording, which start mid-motion).
PROPORTIONAL_STARTS = ("zero", "first")
PROPORTIONAL_TAUS_S = (0.0, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0)


@dataclass
class ProportionalBaseline:
    k: tuple[float, float]  # head/gaze gain per axis (pitch, yaw)
    tau_s: float
    fps: float
    start: str = "zero"  # one of PROPORTIONAL_STARTS

    def __call__(self, gaze: np.ndarray) -> np.ndarray:
        g = np.asarray(gaze[:, :2], dtype=np.float64)
        init = g[0] if self.start == "first" else None
        lp = _lowpass(g, self.tau_s, self.fps, init) * np.asarray(self.k)
        return np.concatenate([lp, np.zeros((len(gaze), 1))], 1)[None].astype(np.float32)


def proportional_stats(
    clips: list[Clip], fps: float, taus_s=PROPORTIONAL_TAUS_S, start: str = "zero"
) -> np.ndarray:
    """Per clip and tau the sufficient statistics of the least-squares fit, (N, n_tau, 3, 2):
    sum(lp * head), sum(lp^2), sum(head^2) per axis over valid frames, lp the low-passed
    gaze. Clips of equal length are filtered together (one pass over time for all)."""
    if start not in PROPORTIONAL_STARTS:
        raise ValueError(f"start: expected one of {PROPORTIONAL_STARTS}, got {start!r}")
    out = np.zeros((len(clips), len(taus_s), 3, 2))
    by_len: dict[int, list[int]] = {}
    for i, c in enumerate(clips):
        by_len.setdefault(c.frames, []).append(i)
    for idx in by_len.values():
        g = np.stack([clips[i].gaze[:, :2] for i in idx], 1).astype(np.float64)  # (T, n, 2)
        h = np.stack([clips[i].head[:, :2] for i in idx], 1).astype(np.float64)
        v = np.stack([clips[i].valid for i in idx], 1)[..., None].astype(np.float64)
        init = g[0] if start == "first" else None
        for j, tau in enumerate(taus_s):
            lp = _lowpass(g, tau, fps, init)
            out[idx, j, 0] = (lp * h * v).sum(0)
            out[idx, j, 1] = (lp * lp * v).sum(0)
            out[idx, j, 2] = (h * h * v).sum(0)
    return out


def fit_proportional_from_stats(
    stats: np.ndarray,
    fps: float,
    taus_s=PROPORTIONAL_TAUS_S,
    start: str = "zero",
    select: np.ndarray | None = None,
) -> ProportionalBaseline:
    """The fit of :func:`fit_proportional` from :func:`proportional_stats` of the clips
    (optionally only those where ``select`` is True): k = num / den per axis and tau, error
    k^2 den - 2 k num + sum(head^2), the tau of lowest error kept."""
    s = stats if select is None else stats[np.asarray(select, bool)]
    num, den, hh = s.sum(0)[:, 0], s.sum(0)[:, 1], s.sum(0)[:, 2]  # (n_tau, 2)
    k = num / np.maximum(den, 1e-300)
    err = (k * k * den - 2 * k * num + hh).sum(1)
    j = int(np.argmin(err))
    return ProportionalBaseline(
        k=(float(k[j, 0]), float(k[j, 1])), tau_s=taus_s[j], fps=fps, start=start
    )


def fit_proportional(
    clips: list[Clip], fps: float, taus_s=PROPORTIONAL_TAUS_S, start: str = "zero"
) -> ProportionalBaseline:
    """Least-squares k per axis for each tau on a grid; keeps the tau of lowest error.
    For a fixed tau the prediction is linear in k, so k has a closed form."""
    stats = proportional_stats(clips, fps, taus_s, start)
    return fit_proportional_from_stats(stats, fps, taus_s, start)


def procedural_head(
    gaze: np.ndarray, fps: float, params: ProceduralParams | None = None
) -> np.ndarray:
    return head_from_gaze(gaze, fps, params or ProceduralParams())[None].astype(np.float32)


def population_styles(model: GazeHeadModel, k: int, seed: int) -> torch.Tensor:
    """K styles drawn from the model's population (its config's style mean and std)."""
    gen = torch.Generator().manual_seed(seed + 7919)
    mean = torch.tensor(model.config.style_mean, dtype=torch.float32)
    std = torch.tensor(model.config.style_std, dtype=torch.float32)
    return mean + std * torch.randn(k, len(mean), generator=gen)


@torch.no_grad()
def model_rollout(
    model: GazeHeadModel,
    gaze: np.ndarray,
    k: int,
    seed: int,
    temperature: float = 1.0,
    return_eye: bool = False,
    style=None,
    head0: np.ndarray | None = None,
    neck_limits=None,
):
    """K independent samples (K, T, 3) (and eye (K, T, 2)) for one gaze sequence (T, 2).

    ``style``: None draws each sample's style from the model's population; "mean" uses the
    population mean; an array (2,) or (K, 2) is used as given. ``head0`` (3,): the head
    before the first frame (default: centred). ``neck_limits`` (3,) rad overrides the model's.
    """
    model = model.eval()
    gen = torch.Generator().manual_seed(seed)
    Z = model.config.latent_size
    if style is None:
        st_v = population_styles(model, k, seed)
    elif isinstance(style, str) and style == "mean":
        st_v = torch.tensor(model.config.style_mean, dtype=torch.float32).expand(k, 2)
    else:
        st_v = torch.as_tensor(np.asarray(style, np.float32)).expand(k, 2)
    st = StepState.zeros(k, model.config.hidden_size, Z, style=st_v)
    if head0 is not None:
        st.head[:] = torch.as_tensor(np.asarray(head0, np.float32))
    lim = None if neck_limits is None else torch.as_tensor(np.asarray(neck_limits, np.float32))
    g = torch.as_tensor(np.asarray(gaze, np.float32))
    heads = torch.empty(len(g), k, 3)
    eyes = torch.empty(len(g), k, 2)
    for t in range(len(g)):
        eps = torch.randn(k, Z, generator=gen)
        h, e, st = model.step(g[t].expand(k, 2), st, eps, temperature, lim)
        heads[t] = h
        eyes[t] = e
    out = heads.transpose(0, 1).numpy()
    return (out, eyes.transpose(0, 1).numpy()) if return_eye else out
