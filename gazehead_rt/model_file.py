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
            v = tuple(int(x) for x in getattr(self, name))
            object.__setattr__(self, name, v)
            if any(x <= 0 for x in v):
                raise ModelError(f"config.{name} must hold positive sizes, got {list(v)}")
        if not self.enc_sizes:
            raise ModelError("config.enc_sizes must name at least one layer")
        if self.activation not in ACTIVATIONS:
            raise ModelError(
                f"config.activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if self.hidden_size <= 0 or self.latent_size <= 0:
            raise ModelError("config.hidden_size and config.latent_size must be positive")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ModelError(f"config.fps must be a positive number, got {self.fps!r}")
        for name, n in (
            ("neck_limits", HEAD_SIZE),
            ("style_mean", STYLE_SIZE),
            ("style_std", STYLE_SIZE),
        ):
            v = tuple(float(x) for x in getattr(self, name))
            object.__setattr__(self, name, v)
            if len(v) != n or not all(math.isfinite(x) for x in v):
                raise ModelError(f"config.{name} must hold {n} finite numbers, got {list(v)}")
        lim = self.neck_limits
        if not (0 < lim[0] <= math.pi / 2 and 0 < lim[1] < math.pi and 0 < lim[2] <= math.pi / 2):
            raise ModelError(
                "config.neck_limits must be in (0, pi/2] (pitch, roll) and "
                f"(0, pi) (yaw) rad, got {list(lim)}"
            )
        if not (0.0 <= self.neck_soft < 1.0):
            raise ModelError(f"config.neck_soft must be in [0, 1), got {self.neck_soft!r}")
        if not (0 < self.eye_limit <= math.pi / 2):
            raise ModelError(f"config.eye_limit must be in (0, pi/2] rad, got {self.eye_limit!r}")
        if any(x < 0 for x in self.style_std):
            raise ModelError(f"config.style_std must be >= 0, got {list(self.style_std)}")
        if not (math.isfinite(self.reach_gain) and 0.0 <= self.reach_gain <= 100.0):
            raise ModelError(f"config.reach_gain must be in [0, 100] 1/s, got {self.reach_gain!r}")
        if not (math.isfinite(self.reach_threshold) and 0.0 <= self.reach_threshold <= math.pi / 2):
            raise ModelError(
                f"config.reach_threshold must be in [0, pi/2] rad, got {self.reach_threshold!r}"
            )
        if not (math.isfinite(self.reach_accel) and 0.0 < self.reach_accel <= 1000.0):
            raise ModelError(
                f"config.reach_accel must be in (0, 1000] rad/s^2, got {self.reach_accel!r}"
            )

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
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelError(f"config has unknown keys {unknown}")
        # A file's JSON is typed strictly: 128.0 is not a size and "yes" is not a number.
        for key, v in d.items():
            if key in _INT_KEYS:
                if not _is_int(v):
                    raise ModelError(f"config.{key} must be an integer, got {v!r}")
            elif key in _INT_LIST_KEYS:
                if not isinstance(v, list) or not all(_is_int(x) for x in v):
                    raise ModelError(f"config.{key} must be a list of integers, got {v!r}")
            elif key in _FLOAT_LIST_KEYS:
                if not isinstance(v, list) or not all(_is_number(x) for x in v):
                    raise ModelError(f"config.{key} must be a list of numbers, got {v!r}")
            elif key == "activation":
                if not isinstance(v, str):
                    raise ModelError(f"config.activation must be a string, got {v!r}")
            elif not _is_number(v):
                raise ModelError(f"config.{key} must be a number, got {v!r}")
        return cls(**dict(d))


#: model-file versions this runtime refuses by name: the model each held, the runtime that ran it
_RETIRED_VERSIONS = {"1": "motion model v2", "2": "motion model v3"}
_RETIRED_RUNTIME = {"1": "gazehead_rt<0.2", "2": "gazehead_rt<0.3"}
_INT_KEYS = ("hidden_size", "latent_size")
_INT_LIST_KEYS = ("enc_sizes", "prior_sizes", "dec_sizes", "post_sizes")
_FLOAT_LIST_KEYS = ("neck_limits", "style_mean", "style_std")
#: Caps checked before anything is allocated from a file's contents.
MAX_FILE_BYTES = 64 << 20
MAX_HEADER_BYTES = 1 << 20
MAX_JSON_DEPTH = 16
MAX_SIZE = 4096  # any one layer width or state size
#: Plausible ranges checked at load (finite but absurd values give absurd poses).
NORM_STD_RANGE = (1e-6, 1e6)
NORM_MEAN_MAX = 1e6
FPS_RANGE = (1.0, 1000.0)
WEIGHT_MAX = 1e4
#: safetensors dtype codes as numpy names (for messages)
_ST_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}
#: Metadata key of the integrity hash save_model writes (see tensors_sha256).
HASH_KEY = "tensors_sha256"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_depth(v: Any, depth: int = 0) -> int:
    if depth > MAX_JSON_DEPTH:
        return depth
    if isinstance(v, dict):
        return max([_json_depth(x, depth + 1) for x in v.values()], default=depth + 1)
    if isinstance(v, list):
        return max([_json_depth(x, depth + 1) for x in v], default=depth + 1)
    return depth


def tensors_sha256(tensors: Mapping[str, np.ndarray]) -> str:
    """The integrity hash of a model's tensors: sha256 over each tensor's name, shape and
    float32 little-endian bytes, in name order. save_model stores it as metadata
    ``tensors_sha256``; load_model checks it when present."""
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
    }


def _loads(path: str, text: Any, what: str) -> Any:
    """json.loads with the nesting cap; every failure a ModelError naming ``what``."""
    if not isinstance(text, str):
        raise ModelError(f"{path}: {what} must be a string")
    try:
        v = json.loads(text)
    except RecursionError:
        raise ModelError(f"{path}: {what} is nested too deeply") from None
    except (json.JSONDecodeError, ValueError) as e:
        raise ModelError(f"{path}: {what} is not valid JSON ({e})") from None
    if _json_depth(v) > MAX_JSON_DEPTH:
        raise ModelError(f"{path}: {what} is nested deeper than {MAX_JSON_DEPTH} levels")
    return v


def _json_field(path: str, meta: Mapping[str, str], key: str, required: bool = True) -> Any:
    if key not in meta:
        if required:
            raise ModelError(f"{path}: metadata has no '{key}' entry")
        return None
    return _loads(path, meta[key], f"metadata '{key}'")


def _read_header(path: str, raw: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    """The safetensors header of ``raw``: (metadata, tensor entries), size-capped."""
    if len(raw) < 8:
        raise ModelError(f"{path}: not a readable safetensors file (shorter than its header)")
    n = int.from_bytes(raw[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise ModelError(
            f"{path}: not a readable safetensors file (header is {n} bytes, over the "
            f"{MAX_HEADER_BYTES} byte cap)"
        )
    if 8 + n > len(raw):
        raise ModelError(f"{path}: not a readable safetensors file (header runs past the end)")
    try:
        text = raw[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not a readable safetensors file (header is not UTF-8)") from None
    try:
        header = _loads(path, text, "header")
    except ModelError as e:
        detail = str(e)[len(path) + 2 :]
        raise ModelError(f"{path}: not a readable safetensors file ({detail})") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: not a readable safetensors file (header is not an object)")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelError(f"{path}: metadata must map names to strings")
    return meta, header


def _check_plausible(path: str, config: ModelConfig, norm: Normalization) -> None:
    for name in ("hidden_size", "latent_size"):
        if getattr(config, name) > MAX_SIZE:
            raise ModelError(f"{path}: config.{name} is over {MAX_SIZE}")
    for name in ("enc_sizes", "prior_sizes", "dec_sizes", "post_sizes"):
        v = getattr(config, name)
        if len(v) > 64 or any(x > MAX_SIZE for x in v):
            raise ModelError(f"{path}: config.{name} holds sizes over {MAX_SIZE} (or > 64 layers)")
    if not FPS_RANGE[0] <= config.fps <= FPS_RANGE[1]:
        raise ModelError(f"{path}: config.fps {config.fps!r} is outside {list(FPS_RANGE)}")
    lo, hi = NORM_STD_RANGE
    for name in ("x_std", "y_std"):
        v = getattr(norm, name)
        if np.any(v < lo) or np.any(v > hi):
            raise ModelError(f"{path}: normalization.{name} must be in [{lo:g}, {hi:g}]")
    for name in ("x_mean", "y_mean"):
        if np.any(np.abs(getattr(norm, name)) > NORM_MEAN_MAX):
            raise ModelError(f"{path}: normalization.{name} must be within +-{NORM_MEAN_MAX:g}")


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read and validate a model file. Any problem raises :class:`ModelError` naming the file."""
    import hashlib

    path = os.fspath(path)
    try:
        if not os.path.isfile(path):
            raise ModelError(f"{path}: no such model file")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ModelError(f"{path}: file is {size} bytes, over the {MAX_FILE_BYTES} byte cap")
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the bytes checked below are the bytes used
    except OSError as e:
        raise ModelError(f"{path}: cannot read the file ({e})") from None
    if len(raw) == 0:
        raise ModelError(f"{path}: file is empty")
    if len(raw) > MAX_FILE_BYTES:
        raise ModelError(f"{path}: file is over the {MAX_FILE_BYTES} byte cap")
    meta, header = _read_header(path, raw)

    version = meta.get("format_version")
    if version is None:
        raise ModelError(f"{path}: metadata has no 'format_version'; not a gazehead_rt model file")
    if version in _RETIRED_VERSIONS:
        raise ModelError(
            f"{path}: format_version {version} ({_RETIRED_VERSIONS[version]}) is not supported; "
            f"this runtime runs format_version {FORMAT_VERSION} (motion model v4): retrain or "
            f"use {_RETIRED_RUNTIME[version]}"
        )
    if version != str(FORMAT_VERSION):
        raise ModelError(
            f"{path}: format_version {version} is not supported (this runtime reads version "
            f"{FORMAT_VERSION})"
        )
    cfg_d = _json_field(path, meta, "config")
    if not isinstance(cfg_d, dict):
        raise ModelError(f"{path}: metadata 'config' must be a JSON object")
    try:
        config = ModelConfig.from_dict(cfg_d)
    except (ModelError, TypeError, ValueError, OverflowError) as e:
        raise ModelError(f"{path}: {e}") from None
    norm_d = _json_field(path, meta, "normalization")
    if not isinstance(norm_d, dict) or not all(
        isinstance(v, list) and all(_is_number(x) for x in v) for v in norm_d.values()
    ):
        raise ModelError(f"{path}: metadata 'normalization' must map names to lists of numbers")
    try:
        normalization = Normalization(**norm_d)
    except (ModelError, TypeError, ValueError, OverflowError) as e:
        raise ModelError(f"{path}: {e}") from None
    _check_plausible(path, config, normalization)

    # Names, dtypes and shapes from the header, before any tensor is materialized.
    shapes = expected_shapes(config)
    for name in shapes:
        if name not in header:
            raise ModelError(f"{path}: tensor '{name}' is missing")
    for name, entry in header.items():
        if name not in shapes:
            raise ModelError(f"{path}: unexpected tensor '{name}' (not part of this config)")
        if not isinstance(entry, dict):
            raise ModelError(f"{path}: tensor '{name}' has a malformed header entry")
        dtype = _ST_DTYPES.get(entry.get("dtype"), repr(entry.get("dtype")))
        if dtype != "float32":
            raise ModelError(f"{path}: tensor '{name}' has dtype {dtype}, expected float32")
        shape = entry.get("shape")
        if not isinstance(shape, list) or not all(_is_int(x) for x in shape):
            raise ModelError(f"{path}: tensor '{name}' has a malformed shape {shape!r}")
        if tuple(shape) != shapes[name]:
            raise ModelError(
                f"{path}: tensor '{name}' has shape {tuple(shape)}, expected {shapes[name]}"
            )
    try:
        from safetensors.numpy import load as _st_load

        arrays = _st_load(raw)  # parses the bytes read above: no mapping of the file
    except Exception as e:  # noqa: BLE001 - any parser failure is a bad file
        raise ModelError(f"{path}: not a readable safetensors file ({e})") from None

    tensors: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        a = arrays[name]
        if a.dtype != np.float32:
            raise ModelError(f"{path}: tensor '{name}' has dtype {a.dtype}, expected float32")
        if tuple(a.shape) != shape:
            raise ModelError(
                f"{path}: tensor '{name}' has shape {tuple(a.shape)}, expected {shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ModelError(f"{path}: tensor '{name}' holds non-finite values")
        if a.size and float(np.max(np.abs(a))) > WEIGHT_MAX:
            raise ModelError(f"{path}: tensor '{name}' holds values beyond +-{WEIGHT_MAX:g}")
        tensors[name] = np.ascontiguousarray(a, dtype=np.float32)
    if HASH_KEY in meta:
        if meta[HASH_KEY] != tensors_sha256(tensors):
            raise ModelError(
                f"{path}: metadata '{HASH_KEY}' does not match the tensors (the file is "
                "corrupted or was edited)"
            )

    extra = {}
    for key in meta:
        if key in ("format_version", "config", "normalization", HASH_KEY):
            continue
        try:
            extra[key] = json.loads(meta[key])
        except RecursionError:
            raise ModelError(f"{path}: metadata '{key}' is nested too deeply") from None
        except ValueError:  # plain text (code_revision, ...)
            extra[key] = meta[key]
            continue
        if _json_depth(extra[key]) > MAX_JSON_DEPTH:
            raise ModelError(
                f"{path}: metadata '{key}' is nested deeper than {MAX_JSON_DEPTH} levels"
            )
    return LoadedModel(
        path=path,
        config=config,
        normalization=normalization,
        tensors=tensors,
        metadata=extra,
        sha256=hashlib.sha256(raw).hexdigest(),
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
