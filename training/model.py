"""Motion model v4: the conditional VAE with a GRU core (docs/design.md §4), in PyTorch.

This module is the reference the C++ runtime is tested against: :meth:`GazeHeadModel.step`
is the per-frame inference step, written once with the same operations in the same order
as ``csrc/core``. Training uses the same submodules (see ``training/train.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from gazehead_rt.model_file import (
    HEAD_SIZE,
    INPUT_SIZE,
    LOGVAR_MAX,
    LOGVAR_MIN,
    STYLE_SIZE,
    LoadedModel,
    ModelConfig,
    Normalization,
    load_model,
    save_model,
)

__all__ = [
    "GazeHeadModel",
    "StepState",
    "condition_features",
    "eye_from_gaze_head",
    "mlp",
    "neck_limit",
    "reach_floor",
    "reach_target",
    "wrap_angle",
]

_ACT = {"silu": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(layers: list[tuple[int, int]], activation: str, final_activation: bool) -> nn.Sequential:
    """Linear, act, Linear, act, ... ; Linear layers land at even indices (file names)."""
    mods: list[nn.Module] = []
    for i, (fi, fo) in enumerate(layers):
        mods.append(nn.Linear(fi, fo))
        if i < len(layers) - 1 or final_activation:
            mods.append(_ACT[activation]())
    return nn.Sequential(*mods)


def wrap_angle(a: torch.Tensor) -> torch.Tensor:
    return torch.remainder(a + math.pi, 2.0 * math.pi) - math.pi


def eye_from_gaze_head(gaze: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
    """Eye-in-head (pitch, yaw) (..., 2) = R(head)^T d(gaze); see gazehead_rt.geometry."""
    gp, gy = gaze[..., 0], gaze[..., 1]
    cgp = torch.cos(gp)
    dx, dy, dz = cgp * torch.cos(gy), cgp * torch.sin(gy), torch.sin(gp)
    sp, cp = torch.sin(head[..., 0]), torch.cos(head[..., 0])
    sy, cy = torch.sin(head[..., 1]), torch.cos(head[..., 1])
    sr, cr = torch.sin(head[..., 2]), torch.cos(head[..., 2])
    # columns of R = Rz(yaw) Ry(-pitch) Rx(roll), dotted with d
    ex = cy * cp * dx + sy * cp * dy + sp * dz
    ey = (-cy * sp * sr - sy * cr) * dx + (-sy * sp * sr + cy * cr) * dy + cp * sr * dz
    ez = (-cy * sp * cr + sy * sr) * dx + (-sy * sp * cr - cy * sr) * dy + cp * cr * dz
    # sqrt rather than hypot: the vector is unit length (no overflow) and ONNX has no hypot
    return torch.stack(
        [torch.atan2(ez, torch.sqrt(ex * ex + ey * ey)), torch.atan2(ey, ex)], dim=-1
    )


def reach_target(gaze: torch.Tensor, head_prev: torch.Tensor) -> torch.Tensor:
    """The error the reach floor reads (..., 2) (docs/design.md §4): the eye-in-head target
    while the gaze is within 60 deg of the head's aim, the gaze minus the head on the torso
    per axis (pitch, yaw the short way) once it is 90 deg or more away, a smoothstep blend
    in between (weight on the cosine of the angle from the aim, 0.5 -> 1 ... 0 -> 0).

    Far from the aim the eye-in-head pitch is coupled to the head's own pitch and roll with
    the wrong sign (for a target behind the head, pitching the head down makes the target
    look higher): a floor on it drove the head to its pitch limit when looking behind. The
    per-axis torso error has no coupling; near the aim, where a reachable gaze settles, the
    floor is the eye-in-head one."""
    eye = eye_from_gaze_head(gaze, head_prev)
    ahead = torch.cos(eye[..., 0]) * torch.cos(eye[..., 1])  # cosine of the angle off the aim
    u = torch.clamp(ahead * 2.0, 0.0, 1.0)
    w = (u * u * (3.0 - 2.0 * u))[..., None]
    d = gaze - head_prev[..., :2]
    torso = torch.stack([d[..., 0], wrap_angle(d[..., 1])], dim=-1)
    return w * eye + (1.0 - w) * torso


def condition_features(
    gaze: torch.Tensor,  # (..., 2) effective gaze g_t
    gaze_prev: torch.Tensor,  # (..., 2) g_{t-1}
    head_prev: torch.Tensor,  # (..., 3) head_{t-1}
    head_vel_prev: torch.Tensor,  # (..., 3) realized head velocity of the last frame, rad/s
    style: torch.Tensor,  # (..., 2) per-agent style
    has_prev: torch.Tensor,  # (...,) bool: False on an agent's first frame -> velocity 0
    fps: float,
) -> torch.Tensor:
    """Un-normalized condition x_t (..., 11) = [eye target, d(gaze)*fps, head vel,
    head on the torso (pitch, yaw), style] (docs/design.md §4).

    The head's pitch and yaw on the torso let the neck's comfort shape the motion (how far
    the head goes, where it returns); everything else is invariant to a global turn.
    """
    eye_tgt = eye_from_gaze_head(gaze, head_prev)
    d = gaze - gaze_prev
    d = torch.stack([d[..., 0], wrap_angle(d[..., 1])], dim=-1) * fps
    d = torch.where(has_prev[..., None], d, torch.zeros_like(d))
    return torch.cat([eye_tgt, d, head_vel_prev, head_prev[..., :2], style], dim=-1)


def reach_floor(
    v: torch.Tensor,  # (..., 3) decoded head velocity, rad/s
    eye_tgt: torch.Tensor,  # (..., 2) eye-in-head target of the condition (from head_{t-1})
    v_prev: torch.Tensor,  # (..., 3) realized head velocity of the last frame, rad/s
    gain: float,
    threshold: float,
    accel: float,
    fps: float,
) -> torch.Tensor:
    """The reach guarantee (docs/design.md §4), pitch and yaw: with s = sign(eye target), the
    velocity toward the target s*v is raised to at least
    floor = min(gain * (|eye target| - threshold), s * v_prev + accel / fps),
    fully beyond ``threshold``, with a weight rising linearly from 0 at half the threshold
    (so the step is continuous in the eye target; s flips at 0 where the weight is 0).

    Beyond ``threshold`` the head cannot stay still or turn away from the target; the floor
    climbs from the last realized velocity at most by ``accel``, so it never jerks the head.
    Below the threshold it only limits how fast the head may move away from the target.
    """
    s = torch.where(eye_tgt >= 0, torch.ones_like(eye_tgt), -torch.ones_like(eye_tgt))
    ae = eye_tgt.abs()
    half = max(0.5 * float(np.float32(threshold)), 1e-6)
    w = torch.where(ae >= threshold, torch.ones_like(ae), torch.clamp((ae - half) / half, min=0.0))
    step = float(np.float32(accel) / np.float32(fps))  # as the core rounds it, in float32
    floor = torch.minimum(gain * (ae - threshold), s * v_prev[..., :2] + step)
    sv = s * v[..., :2]
    return torch.cat([s * (sv + w * torch.clamp(floor - sv, min=0.0)), v[..., 2:]], dim=-1)


def neck_limit(
    head_prev: torch.Tensor, v: torch.Tensor, limits: torch.Tensor, soft: float, fps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate head velocity ``v`` (..., 3) under the soft head-on-torso limit.

    Per axis with limit L and soft start Ls = soft * L: a velocity that moves the head
    outward while |head| > Ls is scaled by 1 - smoothstep((|head| - Ls) / (L - Ls)), then the
    head is clamped to [-L, L]. Returns (head_t, realized velocity (head_t - head_prev) * fps).
    """
    L = limits
    Ls = soft * L
    a = head_prev.abs()
    u = torch.clamp((a - Ls) / (L - Ls), 0.0, 1.0)
    fade = 1.0 - u * u * (3.0 - 2.0 * u)
    outward = (head_prev * v > 0) & (a > Ls)
    v = torch.where(outward, v * fade, v)
    head = torch.maximum(torch.minimum(head_prev + v / fps, L), -L)
    return head, (head - head_prev) * fps


@dataclass
class StepState:
    """Per-agent state of the autoregressive step, agent-major (docs/design.md §5)."""

    s: torch.Tensor  # (N, H) GRU state
    head: torch.Tensor  # (N, 3) head_{t-1} on the torso
    head_vel: torch.Tensor  # (N, 3) realized head velocity of the last frame, rad/s
    z: torch.Tensor  # (N, Z) last latent sample
    gaze: torch.Tensor  # (N, 2) gaze_{t-1}
    has_prev: torch.Tensor  # (N,) bool
    style: torch.Tensor  # (N, 2) per-agent style (kept by reset)

    @classmethod
    def zeros(
        cls, n: int, hidden: int, latent: int, style=None, dtype=torch.float32, device=None
    ) -> StepState:
        z = lambda *s: torch.zeros(*s, dtype=dtype, device=device)  # noqa: E731
        st = (
            z(n, STYLE_SIZE)
            if style is None
            else torch.as_tensor(style, dtype=dtype, device=device).expand(n, STYLE_SIZE).clone()
        )
        return cls(
            z(n, hidden),
            z(n, 3),
            z(n, 3),
            z(n, latent),
            z(n, 2),
            torch.zeros(n, dtype=torch.bool, device=device),
            st,
        )


class GazeHeadModel(nn.Module):
    """p(head velocity_t | gaze_<=t, head_<t, style): encoder -> GRUCell -> prior -> decoder.

    The posterior (training only) sees the state and the coming head velocity; the latent
    sample of frame t re-enters the encoder at t+1, so it shapes the recurrent state and is
    correlated over time (a VRNN-style latent, Chung et al., NeurIPS 2015).
    """

    def __init__(self, config: ModelConfig, normalization: Normalization | None = None):
        super().__init__()
        self.config = config
        act = config.activation
        self.enc = mlp(config.mlp_layers("enc"), act, final_activation=True)
        self.gru = nn.GRUCell(config.embed_size, config.hidden_size)
        self.prior = mlp(config.mlp_layers("prior"), act, final_activation=False)
        self.post = mlp(config.mlp_layers("post"), act, final_activation=False)
        self.dec = mlp(config.mlp_layers("dec"), act, final_activation=False)
        norm = normalization or Normalization()
        self.register_buffer("x_mean", torch.as_tensor(norm.x_mean).clone())
        self.register_buffer("x_std", torch.as_tensor(norm.x_std).clone())
        self.register_buffer("y_mean", torch.as_tensor(norm.y_mean).clone())
        self.register_buffer("y_std", torch.as_tensor(norm.y_std).clone())
        self.register_buffer("neck_limits", torch.tensor(config.neck_limits, dtype=torch.float32))

    # -- pieces shared by training and inference -------------------------------------------
    @property
    def normalization(self) -> Normalization:
        return Normalization(
            *(
                getattr(self, k).detach().cpu().numpy()
                for k in ("x_mean", "x_std", "y_mean", "y_std")
            )
        )

    def set_normalization(self, norm: Normalization) -> None:
        for k in ("x_mean", "x_std", "y_mean", "y_std"):
            getattr(self, k).copy_(torch.as_tensor(getattr(norm, k)))

    def encode(self, x_raw: torch.Tensor, z_prev: torch.Tensor) -> torch.Tensor:
        return self.enc(torch.cat([(x_raw - self.x_mean) / self.x_std, z_prev], dim=-1))

    def split_gaussian(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, sigma) of a 2Z output; logvar clamped as in the runtime."""
        Z = self.config.latent_size
        logvar = torch.clamp(h[..., Z:], LOGVAR_MIN, LOGVAR_MAX)
        return h[..., :Z], torch.exp(0.5 * logvar)

    def decode(self, s: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Decoder output: head angular velocity (pitch, yaw, roll) rad/s."""
        return self.dec(torch.cat([s, z], dim=-1)) * self.y_std + self.y_mean

    def floor(self, v: torch.Tensor, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The reach floor on a decoded velocity ``v`` given the un-normalized condition ``x``
        (its last realized head velocity) and the floor's eye target (``reach_target``)."""
        c = self.config
        return reach_floor(
            v, target, x[..., 4:7], c.reach_gain, c.reach_threshold, c.reach_accel, c.fps
        )

    def velocity(
        self, s: torch.Tensor, z: torch.Tensor, x: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """Head velocity of the step: decoder output under the reach floor."""
        return self.floor(self.decode(s, z), x, target)

    def limit(
        self, head_prev: torch.Tensor, v: torch.Tensor, limits: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lim = self.neck_limits if limits is None else limits
        return neck_limit(head_prev, v, lim, self.config.neck_soft, self.config.fps)

    def eye_out(self, gaze: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        e = eye_from_gaze_head(gaze, head)
        lim = self.config.eye_limit
        return torch.clamp(e, -lim, lim)

    # -- inference reference -------------------------------------------------------------
    def _recur(
        self, gaze: torch.Tensor, state: StepState
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Condition -> encoder([x, z_{t-1}]) -> GRUCell -> prior: (s_t, mu, sigma, x)."""
        x = condition_features(
            gaze,
            state.gaze,
            state.head,
            state.head_vel,
            state.style,
            state.has_prev,
            self.config.fps,
        )
        s = self.gru(self.encode(x, state.z), state.s)
        mu, sigma = self.split_gaussian(self.prior(s))
        return s, mu, sigma, x

    @torch.no_grad()
    def step(
        self,
        gaze: torch.Tensor,  # (N, 2)
        state: StepState,
        eps: torch.Tensor,  # (N, Z) standard normal noise (Philox, from gazehead_rt)
        temperature: float = 1.0,
        neck_limits: torch.Tensor | None = None,  # (3,) rad; default: the config's
    ) -> tuple[torch.Tensor, torch.Tensor, StepState]:
        """One frame for N agents: returns head (N, 3), eye (N, 2), and the next state."""
        s, mu, sigma, x = self._recur(gaze, state)
        z = mu + temperature * sigma * eps
        v = self.velocity(s, z, x, reach_target(gaze, state.head))
        head, vel = self.limit(state.head, v, neck_limits)
        eye = self.eye_out(gaze, head)
        return (
            head,
            eye,
            StepState(s, head, vel, z, gaze.clone(), torch.ones_like(state.has_prev), state.style),
        )

    @torch.no_grad()
    def prime(
        self,
        gaze_hist: torch.Tensor,  # (T, N, 2)
        head_hist: torch.Tensor,  # (T, N, 3)
        state: StepState,
    ) -> StepState:
        """Teacher-forced GRU over observed history (z = prior mean); continues from its end."""
        for t in range(gaze_hist.shape[0]):
            g = gaze_hist[t]
            s, mu, _, _ = self._recur(g, state)
            head = head_hist[t]
            vel = torch.where(
                state.has_prev[:, None],
                (head - state.head) * self.config.fps,
                torch.zeros_like(head),
            )
            state = StepState(
                s, head.clone(), vel, mu, g.clone(), torch.ones_like(state.has_prev), state.style
            )
        return state

    # -- model file ----------------------------------------------------------------------
    def runtime_tensors(self) -> dict[str, torch.Tensor]:
        return {
            k: v
            for k, v in self.state_dict().items()
            if k.split(".")[0] in ("enc", "gru", "prior", "dec")
        }

    def save(
        self,
        path,
        *,
        provenance: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        code_revision: str = "unknown",
    ) -> None:
        save_model(
            path,
            self.runtime_tensors(),
            self.config,
            self.normalization,
            provenance=provenance,
            metrics=metrics,
            code_revision=code_revision,
        )

    @classmethod
    def from_loaded(cls, loaded: LoadedModel) -> GazeHeadModel:
        m = cls(loaded.config, loaded.normalization)
        missing, unexpected = m.load_state_dict(
            {k: torch.from_numpy(v.copy()) for k, v in loaded.tensors.items()}, strict=False
        )
        assert not unexpected, unexpected
        assert all(
            k.startswith("post.") or k in ("x_mean", "x_std", "y_mean", "y_std", "neck_limits")
            for k in missing
        ), missing
        return m

    @classmethod
    def load(cls, path) -> GazeHeadModel:
        return cls.from_loaded(load_model(path))


assert INPUT_SIZE == 11 and HEAD_SIZE == 3
