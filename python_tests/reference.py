"""Independent references used by the tests: a numpy Philox and the PyTorch model rollout."""

from __future__ import annotations

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
MASK = np.uint64(0xFFFFFFFF)


def philox4x32_10_np(ctr: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Vectorized Philox4x32-10: ctr (..., 4), key (..., 2) uint32 -> (..., 4) uint32."""
    c = [np.asarray(ctr[..., i], np.uint64) for i in range(4)]
    k0, k1 = (np.asarray(key[..., i], np.uint64) for i in range(2))
    for _ in range(10):
        p0, p1 = M0 * c[0], M1 * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return np.stack(c, axis=-1).astype(np.uint32)


def normals_np(seed: int, agents, episode, frame, latent: int) -> np.ndarray:
    """eps (N, latent) per docs/design.md §4 from the numpy Philox, Box-Muller in float64."""
    agents = np.asarray(agents, np.uint32)
    n = agents.shape[0]
    blocks = (latent + 3) // 4
    ctr = np.zeros((n, blocks, 4), np.uint32)
    ctr[..., 0] = np.asarray(frame, np.uint32)[:, None]
    ctr[..., 1] = np.arange(blocks, dtype=np.uint32)[None, :]
    ctr[..., 2] = np.asarray(episode, np.uint32)[:, None]
    key = np.zeros((n, blocks, 2), np.uint32)
    key[..., 0] = seed
    key[..., 1] = agents[:, None]
    r = philox4x32_10_np(ctr, key)
    u = ((r >> 8).astype(np.float64) + 0.5) / 16777216.0
    rad = np.sqrt(-2.0 * np.log(u[..., 0::2]))
    th = 2.0 * np.pi * u[..., 1::2]
    out = np.empty(u.shape)
    out[..., 0::2] = rad * np.cos(th)
    out[..., 1::2] = rad * np.sin(th)
    return out.reshape(n, blocks * 4)[:, :latent]


def torch_rollout(
    model,
    gaze_seq: np.ndarray,
    *,
    seed: int,
    temperature: float = 1.0,
    style=None,
    neck_limits=None,
    agent_ids=None,
    state=None,
    frame0=None,
    episode=None,
):
    """Roll the PyTorch reference over gaze_seq (T, N, 2) with the runtime's Philox noise.

    ``style`` (N, 2): the agents' styles (default: the runtime's population draw under
    ``seed``, as a Generator built with style=None has). Returns head (T, N, 3), eye (T, N, 2)
    as float32 numpy, and the final StepState.
    """
    import torch

    import gazehead_rt as gh
    from gazehead_rt.training.model import StepState

    T, N, _ = gaze_seq.shape
    agent_ids = np.arange(N) if agent_ids is None else np.asarray(agent_ids)
    frame = np.zeros(N, np.int64) if frame0 is None else np.asarray(frame0, np.int64).copy()
    episode = np.zeros(N, np.int64) if episode is None else np.asarray(episode)
    if style is None:
        style = population_style_np(model, seed, agent_ids)
    cfg = model.config
    st = state or StepState.zeros(
        N, cfg.hidden_size, cfg.latent_size, style=torch.from_numpy(np.asarray(style, np.float32))
    )
    lim = None if neck_limits is None else torch.tensor(neck_limits, dtype=torch.float32)
    heads = np.empty((T, N, 3), np.float32)
    eyes = np.empty((T, N, 2), np.float32)
    for t in range(T):
        eps = gh.philox_normal(seed, agent_ids, episode, frame, cfg.latent_size)
        h, e, st = model.step(
            torch.from_numpy(np.ascontiguousarray(gaze_seq[t], np.float32)),
            st,
            torch.from_numpy(eps),
            temperature,
            lim,
        )
        heads[t], eyes[t] = h.numpy(), e.numpy()
        frame += 1
    return heads, eyes, st


def population_style_np(model, seed: int, agents) -> np.ndarray:
    """Independent of the runtime: style_mean + style_std * (numpy Philox normals at
    episode = frame = 0xFFFFFFFF)[:, :2], float32 as the runtime stores it."""
    cfg = model.config
    agents = np.asarray(agents, np.int64)
    full = np.full(agents.shape, 0xFFFFFFFF, np.uint64)
    # lanes 0 and 1 (a latent size below 2 still draws both: lanes do not depend on it)
    n = normals_np(seed, agents, full, full, 2).astype(np.float32)
    return np.asarray(cfg.style_mean, np.float32) + np.asarray(cfg.style_std, np.float32) * n


def make_model(
    path,
    *,
    seed: int = 0,
    activation: str = "silu",
    sizes: dict | None = None,
    y_std=(0.8, 1.5, 0.3),
    **config,
):
    """A random v4 model scaled so head motion, the neck limit and the nonlinearities are
    well exercised. ``config``: other ModelConfig fields (neck_limits, eye_limit, ...)."""
    import torch

    from gazehead_rt.model_file import ModelConfig, Normalization
    from gazehead_rt.training.model import GazeHeadModel

    torch.manual_seed(seed)
    cfg = ModelConfig(activation=activation, **(sizes or {}), **config)
    rng = np.random.default_rng(seed)
    # x = [eye target (rad), gaze velocity (rad/s), head velocity (rad/s), head (rad), style]
    norm = Normalization(
        x_mean=np.concatenate([rng.normal(0, 0.05, 9), [0.5, 0.5]]).astype(np.float32),
        x_std=np.array([0.4, 0.6, 2.0, 3.0, 0.5, 1.0, 0.3, 0.3, 0.6, 0.2, 0.3], np.float32)
        * rng.uniform(0.8, 1.2, 11).astype(np.float32),
        y_mean=np.zeros(3, np.float32),
        y_std=np.asarray(y_std, np.float32),  # head velocity, rad/s
    )
    m = GazeHeadModel(cfg, norm)
    with torch.no_grad():
        m.dec[-1].weight.mul_(3.0)  # outputs of order one: a non-trivial test of the decoder
        m.prior[-1].bias[cfg.latent_size :].fill_(-1.0)
    m.save(path, provenance={"purpose": "test"})
    return GazeHeadModel.load(path)


def saccadic_gaze(rng, T: int, N: int, fps: float = 30.0) -> np.ndarray:
    """Random fixations with quick saccades and small drift, radians, (T, N, 2)."""
    g = np.zeros((T, N, 2))
    target = rng.uniform([-0.4, -1.0], [0.4, 1.0], size=(N, 2))
    cur = np.zeros((N, 2))
    for t in range(T):
        jump = rng.random(N) < 1.5 / fps  # ~1.5 saccades per second
        target[jump] = rng.uniform([-0.4, -1.0], [0.4, 1.0], size=(int(jump.sum()), 2))
        cur += 0.6 * (target - cur)
        g[t] = cur + rng.normal(0, 0.002, size=(N, 2))
    return g.astype(np.float32)
