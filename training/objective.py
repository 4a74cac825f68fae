"""Training objective of motion model v4 over windows of frames (docs/design.md §4).

One window is unrolled frame by frame with exactly the inference step's operations
(``condition_features`` -> encoder([x, z_{t-1}]) -> GRUCell -> prior/posterior -> decoder ->
reach floor -> integrate), so what is trained is what the runtime runs. The decoder's target is the head
angular velocity, the quantity the recordings measure; nothing depends on a torso frame (the
neck limit is explicit run-time structure, not learned). Per frame:

* **ELBO**: the decoder, fed a posterior sample, reconstructs the target head velocity
  (normalized); KL(q || p) against the learned prior, with KL annealing and free bits so
  the latent is neither ignored nor used to memorise the target. The posterior sees the
  state, this frame's target and the mean of the next ``post_horizon`` frames' velocity, so
  z can carry what the gaze does not predict (onset timing, amplitude of the coming head
  movement); because z_t re-enters the encoder at t+1, that choice persists over frames.
* **Scheduled sampling** (Bengio et al., NeurIPS 2015): with probability ``ss_prob`` a frame
  feeds back the head the model generated *with a prior sample*, i.e. the state it will be
  in at inference, instead of the recorded head. The reconstruction target is then the
  corrective velocity ``v_true + k * (head_true - head_fed)`` that brings the rollout back to
  the recording with time constant 1/k, rather than the raw velocity, so the model learns to
  recover from its own drift without being asked for implausibly fast corrections.
* **Free-running rollout loss**: the head the model generated (and fed back) is compared
  with the recording at every frame, in units of ``rollout_scale_deg``; gradients flow
  through the feedback (backpropagation through the rollout). With ``ss_prob = 1`` the
  whole window is generated from the prior, exactly as at inference. Without it the
  one-step target rewards "keep the head's momentum" and the generated head started a
  gaze shift ~10 frames late (v1 model: lag +226 ms); with it, a late start costs position
  error over the whole shift.
* **Eye-range hinge**: squared excess of the generated eye-in-head beyond
  ``eye_limit_deg``; real eyes rarely pass 45-55 deg (docs/design.md §1).
* **Velocity / jerk matching** on the prior-sampled path: the mean |velocity| and mean
  |second difference of velocity| (jerk up to a factor fps^2) of generated motion are
  matched to the recording's. Independent per-frame latent samples would otherwise add
  white noise to the velocity and inflate jerk several-fold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gazehead_rt.model_file import LOGVAR_MAX, LOGVAR_MIN

from .model import (
    GazeHeadModel,
    condition_features,
    eye_from_gaze_head,
    reach_target,
    wrap_angle,
)

__all__ = ["LossConfig", "window_loss"]


@dataclass
class LossConfig:
    beta: float = 1.0  # KL weight once annealed
    free_bits: float = 0.05  # nats per latent dim per frame below which KL is not pushed
    ss_prob: float = 1.0  # probability that a frame feeds back its generated head
    correction_rate_hz: float = 2.0  # k of the corrective target (1/k = 0.5 s)
    vel_weight: float = 0.5  # moment matching of |velocity| on the prior path
    jerk_weight: float = 0.5  # moment matching of |d2 velocity| on the prior path
    prior_mse_weight: float = 0.1  # keeps prior-sampled velocities near the data too
    rollout_weight: float = 3.0  # free-running head position error (BPTT through feedback)
    rollout_scale_deg: float = 5.0  # position error that costs as much as 1 std of velocity
    #: fraction of windows whose fed-back rollout is driven by prior samples (what inference
    #: does); the rest by posterior samples (z then carries onset timing and amplitude)
    prior_path_frac: float = 0.5
    post_horizon: int = 6  # frames of future head velocity the posterior sees (200 ms)
    eye_weight: float = 1.0  # soft hinge on generated eye-in-head beyond eye_limit_deg
    eye_limit_deg: float = 40.0  # real eyes rarely pass ~45 deg (docs/design.md §1)
    no_gru: bool = False  # ablation: the GRU state is reset every frame (Markov-1 model)
    fixed_prior: bool = False  # ablation: N(0, I) prior instead of the learned one
    deterministic: bool = False  # ablation: z = prior mean, no posterior, no KL


def _gauss(h: torch.Tensor, Z: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, logvar) with the runtime's clamp."""
    return h[..., :Z], torch.clamp(h[..., Z:], LOGVAR_MIN, LOGVAR_MAX)


def head_velocity(head: torch.Tensor, fps: float) -> torch.Tensor:
    """(B, T, 3) -> (B, T-1, 3) angular velocity rad/s, yaw differences wrapped."""
    return wrap_angle(head[:, 1:] - head[:, :-1]) * fps


def window_loss(
    model: GazeHeadModel,
    gaze: torch.Tensor,  # (B, L+2, 2) rad; frames 0 and 1 are context only
    head: torch.Tensor,  # (B, L+2, 3) rad
    style: torch.Tensor,  # (B, 2) style of each window's recording
    cfg: LossConfig,
    kl_weight: float,
    ss_prob: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of a batch of windows; returns (loss, named scalar parts)."""
    B, L2, _ = gaze.shape
    mc = model.config
    Z, fps = mc.latent_size, mc.fps
    dev = gaze.device
    vel = head_velocity(head, fps)  # vel[:, t-1] = velocity from frame t-1 to t
    # posterior look-ahead: mean of the next post_horizon target velocities (normalized)
    vn = (vel - model.y_mean) / model.y_std
    Hh = max(1, cfg.post_horizon)
    vn_pad = torch.cat([vn, vn[:, -1:].expand(B, Hh, 3)], 1)
    csum = torch.cat([torch.zeros_like(vn_pad[:, :1]), torch.cumsum(vn_pad, 1)], 1)
    ahead = (csum[:, 1 + Hh : 1 + Hh + vn.shape[1]] - csum[:, 1 : 1 + vn.shape[1]]) / Hh

    s = torch.zeros(B, mc.hidden_size, device=dev)
    z_prev = torch.zeros(B, Z, device=dev)
    head_fed = head[:, 1]
    hv_fed = vel[:, 0]
    has_prev = torch.ones(B, dtype=torch.bool, device=dev)
    use_prior = torch.rand(B, 1, device=dev) < cfg.prior_path_frac
    recon, kl_dims, prior_mse, pos_err, eye_pen = [], [], [], [], []
    pos_scale = cfg.rollout_scale_deg * math.pi / 180.0
    eye_lim = cfg.eye_limit_deg * math.pi / 180.0
    y_prior_seq, y_true_seq = [], []
    k = cfg.correction_rate_hz
    for t in range(2, L2):
        x = condition_features(gaze[:, t], gaze[:, t - 1], head_fed, hv_fed, style, has_prev, fps)
        e = model.encode(x, z_prev)
        s = model.gru(e, torch.zeros_like(s) if cfg.no_gru else s)
        v_true = vel[:, t - 1]
        target = v_true + k * wrap_angle(head[:, t - 1] - head_fed)
        tn = (target - model.y_mean) / model.y_std
        if cfg.fixed_prior:
            mu_p = torch.zeros(B, Z, device=dev)
            lv_p = torch.zeros(B, Z, device=dev)
        else:
            mu_p, lv_p = _gauss(model.prior(s), Z)
        if cfg.deterministic:
            z_q = z_p = mu_p
        else:
            mu_q, lv_q = _gauss(model.post(torch.cat([s, tn, ahead[:, t - 1]], -1)), Z)
            z_q = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            z_p = mu_p + torch.exp(0.5 * lv_p) * torch.randn_like(mu_p)
            kl = 0.5 * (
                lv_p - lv_q + (torch.exp(lv_q) + (mu_q - mu_p) ** 2) * torch.exp(-lv_p) - 1.0
            )
            kl_dims.append(kl.mean(0))  # (Z,) averaged over the batch
        # the reach floor is part of the model's output (docs/design.md §4): both paths pass it
        tgt = reach_target(gaze[:, t], head_fed)
        y_q = model.velocity(s, z_q, x, tgt)
        yn_q = (y_q - model.y_mean) / model.y_std
        recon.append(((yn_q - tn) ** 2).mean())
        y_p = y_q if cfg.deterministic else model.velocity(s, z_p, x, tgt)
        yn_p = (y_p - model.y_mean) / model.y_std
        prior_mse.append(((yn_p - tn) ** 2).mean())
        y_prior_seq.append(y_p)
        y_true_seq.append(v_true)
        y_fb = torch.where(use_prior, y_p, y_q)
        z_fb = torch.where(use_prior, z_p, z_q)
        head_gen = head_fed + y_fb / fps
        if cfg.rollout_weight > 0:
            pos_err.append(((wrap_angle(head_gen - head[:, t])[:, :2] / pos_scale) ** 2).mean())
        if cfg.eye_weight > 0:
            eye_gen = eye_from_gaze_head(gaze[:, t], head_gen)
            eye_pen.append((torch.relu(eye_gen.abs() - eye_lim) / pos_scale).pow(2).mean())
        if ss_prob > 0:
            use_gen = torch.rand(B, 1, device=dev) < ss_prob
            head_fed = torch.where(use_gen, head_gen, head[:, t])
            hv_fed = torch.where(use_gen, y_fb, v_true)
        else:
            head_fed, hv_fed = head[:, t], v_true
        z_prev = z_fb

    recon_l = torch.stack(recon).mean()
    prior_l = torch.stack(prior_mse).mean()
    parts = {"recon": recon_l.item(), "prior_mse": prior_l.item()}
    loss = recon_l + cfg.prior_mse_weight * prior_l
    if pos_err:
        pos_l = torch.stack(pos_err).mean()
        loss = loss + cfg.rollout_weight * pos_l
        parts["rollout"] = pos_l.item()
    if eye_pen:
        eye_l = torch.stack(eye_pen).mean()
        loss = loss + cfg.eye_weight * eye_l
        parts["eye_pen"] = eye_l.item()
    if kl_dims:
        kl_d = torch.stack(kl_dims).mean(0)  # (Z,) nats per frame
        kl_fb = torch.clamp(kl_d, min=cfg.free_bits).sum()
        loss = loss + kl_weight * cfg.beta * kl_fb
        parts["kl"] = kl_d.sum().item()
    if cfg.vel_weight > 0 or cfg.jerk_weight > 0:
        yp = torch.stack(y_prior_seq, 1)[..., :2]  # (B, L, 2) pitch/yaw rad/s
        yt = torch.stack(y_true_seq, 1)[..., :2]
        v_gen, v_real = yp.abs().mean(), yt.abs().mean()
        j_gen = (yp[:, 2:] - 2 * yp[:, 1:-1] + yp[:, :-2]).abs().mean()
        j_real = (yt[:, 2:] - 2 * yt[:, 1:-1] + yt[:, :-2]).abs().mean()
        vel_l = (torch.log(v_gen + 1e-3) - torch.log(v_real + 1e-3)) ** 2
        jerk_l = (torch.log(j_gen + 1e-3) - torch.log(j_real + 1e-3)) ** 2
        loss = loss + cfg.vel_weight * vel_l + cfg.jerk_weight * jerk_l
        parts["jerk_ratio"] = (j_gen / (j_real + 1e-9)).item()
        parts["vel_ratio"] = (v_gen / (v_real + 1e-9)).item()
    parts["loss"] = loss.item()
    return loss, parts
