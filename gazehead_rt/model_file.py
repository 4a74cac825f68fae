"""The model file: one ``.safetensors`` file with fixed tensor names and JSON metadata.

This module is the single definition of the format (docs/design.md §4). The training code writes
files with :func:`save_model`; the runtime reads them with :func:`load_model`. It depends on
numpy and safetensors only, so the runtime never needs PyTorch.

Format version 2 holds motion model v3 (docs/design.md §4): the condition is torso-free
(eye-in-head target, gaze and head angular velocity, per-agent style), the decoder drives
head angular velocity, and the previous latent sample re-enters the encoder.

Tensors (fp32, PyTorch ``nn.Linear`` layout ``(out, in)``)::

    enc.{0,2,4..}.weight/.bias    encoder MLP on [x_norm (9), z_{t-1} (Z)], activation after every Linear
    gru.weight_ih (3H, E)  gru.weight_hh (3H, H)  gru.bias_ih (3H,)  gru.bias_hh (3H,)
    prior.{0,2,..}.weight/.bias   prior MLP -> 2Z (mu, logvar), no final activation
    dec.{0,2,..}.weight/.bias     decoder MLP on [s, z] -> 3, no final activation

Linear layers sit at even indices because the PyTorch modules are ``nn.Sequential`` of
Linear, activation, Linear, ...; keeping those names lets ``state_dict()`` be saved as is.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ModelError

__all__ = [
    "FORMAT_VERSION",
    "INPUT_SIZE",
    "HEAD_SIZE",
    "STYLE_SIZE",
    "POST_FEATURES",
    "ACTIVATIONS",
    "LOGVAR_MIN",
    "LOGVAR_MAX",
    "ModelConfig",
    "Normalization",
    "LoadedModel",
    "expected_shapes",
    "runtime_spec",
    "load_model",
    "save_model",
]

FORMAT_VERSION = 3
#: condition x_t = [eye-in-head target(2), gaze velocity(2), head velocity_{t-1}(3),
#: head on the torso_{t-1} (pitch, yaw)(2), style(2)] (docs/design.md §4)
INPUT_SIZE = 11
HEAD_SIZE = 3
#: per-agent style: (propensity, idle), see gazehead_rt.style
STYLE_SIZE = 2
#: training-only posterior features: [head velocity target(3), mean of the next frames'(3)]
POST_FEATURES = 6
_DEG = math.pi / 180.0
ACTIVATIONS = ("silu", "relu", "tanh")
#: The prior's log-variance is clamped before exp so a rare large activation cannot blow the
#: sample up during a long rollout; exp(0.5 * 4) ~ 7.4 std units is far outside trained use.
LOGVAR_MIN = -12.0
LOGVAR_MAX = 4.0


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a model; everything the runtime needs besides the weights."""

    enc_sizes: tuple[int, ...] = (64, 64)  # Linear output sizes; last one feeds the GRU
    hidden_size: int = 128  # GRU state size H
    prior_sizes: tuple[int, ...] = (64,)  # hidden sizes; a final Linear -> 2Z is implied
    latent_size: int = 8  # Z
    dec_sizes: tuple[int, ...] = (128, 64)  # hidden sizes; a final Linear -> 3 is implied
    post_sizes: tuple[int, ...] = (64,)  # training only (posterior); not in the model file
    activation: str = "silu"
    fps: float = 30.0
    #: head-on-torso half-ranges (pitch, yaw, roll) rad: the step's explicit neck limit
    neck_limits: tuple[float, ...] = (40 * _DEG, 70 * _DEG, 30 * _DEG)
    #: the neck's soft zone starts at neck_soft * limit (outward velocity fades to 0 at the limit)
    neck_soft: float = 0.75
    #: the reported eye-in-head is clamped per component to +-eye_limit (oculomotor range)
    eye_limit: float = 55 * _DEG
    #: population of the training data's styles (propensity, idle): runtime default draws
    style_mean: tuple[float, ...] = (0.5, 0.5)
    style_std: tuple[float, ...] = (0.2, 0.3)
    #: the reach guarantee (docs/design.md §4): beyond reach_threshold rad of eye-in-head
    #: error the head turns toward the target at >= reach_gain * (|error| - threshold) rad/s,
    #: a floor that may rise by at most reach_accel rad/s^2 from the last realized velocity
    reach_gain: float = 3.0
    reach_threshold: float = 15 * _DEG
    reach_accel: float = 2000 * _DEG

    def __post_init__(self) -> None:
        for name in ("enc_sizes", "prior_sizes", "dec_sizes", "post_sizes"):
            object.__setattr__(self, name, tuple(int(x) for x in getattr(self, name)))
        for name in ("neck_limits", "style_mean", "style_std"):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
        # every value check is the core's, the one a model file's config goes through
        from ._native import native

        native().check_model_config(self.to_json())

    @property
    def embed_size(self) -> int:
        return self.enc_sizes[-1]

    def mlp_layers(self, name: str) -> list[tuple[int, int]]:
        """(in, out) of each Linear layer of the MLP ``name`` in order."""
        H, Z = self.hidden_size, self.latent_size
        if name == "enc":
            ins, outs = INPUT_SIZE + Z, list(self.enc_sizes)
        elif name == "prior":
            ins, outs = H, list(self.prior_sizes) + [2 * Z]
        elif name == "dec":
            ins, outs = H + Z, list(self.dec_sizes) + [HEAD_SIZE]
        elif name == "post":
            ins, outs = H + POST_FEATURES, list(self.post_sizes) + [2 * Z]
        else:
            raise KeyError(name)
        layers = []
        for o in outs:
            layers.append((ins, o))
            ins = o
        return layers

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in d.items()})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelConfig:
        """A config from its JSON form (a model file's or a training config's ``model``
        entry), typed strictly as a file's JSON is: 128.0 is not a size and "yes" is not a
        number. The checks are the core's, the ones ``load_model`` applies."""
        from ._native import native

        try:
            text = json.dumps(dict(d), allow_nan=True)
        except (TypeError, ValueError) as e:
            raise ModelError(f"config is not JSON data ({e})") from None
        native().check_model_config(text)  # ModelError naming the key
        return cls(**dict(d))


#: Caps the core's reader checks before anything is allocated from a file's contents
#: (gazehead/model_file.h; a test holds them against _C.constants()).
MAX_FILE_BYTES = 64 << 20
MAX_HEADER_BYTES = 1 << 20
MAX_JSON_DEPTH = 16
#: Metadata key of the integrity hash save_model writes (see tensors_sha256); required.
HASH_KEY = "tensors_sha256"


def tensors_sha256(tensors: Mapping[str, np.ndarray]) -> str:
    """The integrity hash of a model's tensors: sha256 over each tensor's name, shape and
    float32 little-endian bytes, in name order. save_model stores it as metadata
    ``tensors_sha256``; the reader (the core's, for every surface) requires it to match."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(tensors):
        a = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        h.update(name.encode() + b"\0" + repr(tuple(a.shape)).encode() + b"\0")
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Normalization:
    """x_norm = (x - x_mean) / x_std ; y = y_norm * y_std + y_mean (decoder output)."""

    x_mean: np.ndarray = field(default_factory=lambda: np.zeros(INPUT_SIZE, np.float32))
    x_std: np.ndarray = field(default_factory=lambda: np.ones(INPUT_SIZE, np.float32))
    y_mean: np.ndarray = field(default_factory=lambda: np.zeros(HEAD_SIZE, np.float32))
    y_std: np.ndarray = field(default_factory=lambda: np.ones(HEAD_SIZE, np.float32))

    def __post_init__(self) -> None:
        for name, n in (
            ("x_mean", INPUT_SIZE),
            ("x_std", INPUT_SIZE),
            ("y_mean", HEAD_SIZE),
            ("y_std", HEAD_SIZE),
        ):
            v = np.asarray(getattr(self, name), dtype=np.float32).reshape(-1)
            if v.shape != (n,):
                raise ModelError(f"normalization.{name} must have {n} values, got {v.shape[0]}")
            if not np.all(np.isfinite(v)):
                raise ModelError(f"normalization.{name} holds non-finite values")
            if name.endswith("std") and np.any(v <= 0):
                raise ModelError(f"normalization.{name} must be positive")
            object.__setattr__(self, name, v)

    def to_json(self) -> str:
        return json.dumps(
            {k: getattr(self, k).tolist() for k in ("x_mean", "x_std", "y_mean", "y_std")}
        )


@dataclass(frozen=True)
class LoadedModel:
    path: str
    config: ModelConfig
    normalization: Normalization
    tensors: dict[str, np.ndarray]  # C-contiguous float32, names as in expected_shapes
    metadata: dict[str, Any]  # provenance, metrics, code_revision, ... (parsed JSON)
    sha256: str
    #: FNV-1a 64 of the file's bytes (the core's model fingerprint, which saved states carry);
    #: 0 for a model that was not read from a file
    fingerprint: int = 0


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a model file of this config holds, with its shape, in a stable order."""
    shapes: dict[str, tuple[int, ...]] = {}
    for mlp in ("enc",):
        for i, (fi, fo) in enumerate(config.mlp_layers(mlp)):
            shapes[f"{mlp}.{2 * i}.weight"] = (fo, fi)
            shapes[f"{mlp}.{2 * i}.bias"] = (fo,)
    H, E = config.hidden_size, config.embed_size
    shapes["gru.weight_ih"] = (3 * H, E)
    shapes["gru.weight_hh"] = (3 * H, H)
    shapes["gru.bias_ih"] = (3 * H,)
    shapes["gru.bias_hh"] = (3 * H,)
    for mlp in ("prior", "dec"):
        for i, (fi, fo) in enumerate(config.mlp_layers(mlp)):
            shapes[f"{mlp}.{2 * i}.weight"] = (fo, fi)
            shapes[f"{mlp}.{2 * i}.bias"] = (fo,)
    return shapes


def runtime_spec(model: LoadedModel) -> dict[str, Any]:
    """The model as the native core takes it (``gazehead_rt._C.Model(spec)``): layers as
    ordered ``(weight, bias)`` pairs, so tensor names stay in this module only."""
    c, n, t = model.config, model.normalization, model.tensors

    def layers(mlp: str) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (t[f"{mlp}.{2 * i}.weight"], t[f"{mlp}.{2 * i}.bias"])
            for i in range(len(c.mlp_layers(mlp)))
        ]

    return {
        "enc": layers("enc"),
        "prior": layers("prior"),
        "dec": layers("dec"),
        "gru_ih": (t["gru.weight_ih"], t["gru.bias_ih"]),
        "gru_hh": (t["gru.weight_hh"], t["gru.bias_hh"]),
        "hidden": c.hidden_size,
        "latent": c.latent_size,
        "activation": c.activation,
        "fps": float(c.fps),
        "x_mean": n.x_mean,
        "x_std": n.x_std,
        "y_mean": n.y_mean,
        "y_std": n.y_std,
        "neck_limits": np.asarray(c.neck_limits, np.float32),
        "neck_soft": float(c.neck_soft),
        "eye_limit": float(c.eye_limit),
        "reach_gain": float(c.reach_gain),
        "reach_threshold": float(c.reach_threshold),
        "reach_accel": float(c.reach_accel),
        "style_mean": np.asarray(c.style_mean, np.float32),
        "style_std": np.asarray(c.style_std, np.float32),
        "fingerprint": int(model.fingerprint),
    }


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read and validate a model file. Any problem raises :class:`ModelError` naming the file.

    The reading and every check are the core's (``gazehead::read_model_file``, the reader of
    the C library too): caps before allocation, strict types, plausible ranges, the integrity
    hash. This wraps what it returns."""
    from ._native import native

    path = os.fspath(path)
    f = native().read_model_file(path)  # ModelError naming the file
    extra = {}
    for key, text in f["metadata"].items():
        try:
            extra[key] = json.loads(text)  # nesting already capped by the reader
        except ValueError:  # plain text (code_revision, ...)
            extra[key] = text
    return LoadedModel(
        path=path,
        config=ModelConfig(**f["config"]),
        normalization=Normalization(**f["normalization"]),
        tensors=dict(f["tensors"]),
        metadata=extra,
        sha256=f["sha256"],
        fingerprint=int(f["fingerprint"]),
    )


def save_model(
    path: str | os.PathLike,
    tensors: Mapping[str, Any],
    config: ModelConfig,
    normalization: Normalization,
    *,
    provenance: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    code_revision: str = "unknown",
) -> None:
    """Write a model file. ``tensors`` may hold extra entries (e.g. the training-only
    posterior ``post.*``); only the runtime's tensors are written. Arrays may be numpy arrays
    or anything with ``.detach().cpu().numpy()``."""
    from safetensors.numpy import save_file

    shapes = expected_shapes(config)
    out: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if name not in tensors:
            raise ModelError(f"cannot save {os.fspath(path)}: tensor '{name}' is missing")
        t = tensors[name]
        if hasattr(t, "detach"):
            t = t.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(t, dtype=np.float32))
        if a.shape != shape:
            raise ModelError(
                f"cannot save {os.fspath(path)}: tensor '{name}' has shape {a.shape}, "
                f"expected {shape}"
            )
        out[name] = a
    meta = {
        "format_version": str(FORMAT_VERSION),
        "config": config.to_json(),
        "normalization": normalization.to_json(),
        "provenance": json.dumps(dict(provenance or {})),
        "metrics": json.dumps(dict(metrics or {})),
        "code_revision": code_revision,
        HASH_KEY: tensors_sha256(out),
    }
    tmp = os.fspath(path) + ".tmp"
    save_file(out, tmp, metadata=meta)
    os.replace(tmp, path)  # never leave a half-written model behind
