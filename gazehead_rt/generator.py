"""The public runtime object: :class:`Generator` (docs/design.md §5)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np

from ._native import native
from .errors import BackendError, ModelError
from .model_file import STYLE_SIZE, LoadedModel, load_model, runtime_spec
from .rate import check_dt

#: Largest accepted temperature (noise scale; the model was trained at 1).
MAX_TEMPERATURE = 10.0

__all__ = [
    "Generator",
    "default_model_path",
    "available_backends",
    "build_info",
    "philox_normal",
    "population_style",
]

_F32 = np.dtype(np.float32)
_NAN_POLICIES = ("raise", "hold")
_BACKENDS = ("auto", "cpu", "cuda", "tensorrt")
_WEIGHTS_DTYPES = ("float32", "bfloat16", "float16")  # index = the core's WeightsDtype
# backend="auto" picks cuda from this many agents up (when a device is present). Estimate until
# a GPU run of benchmarks/gpu_step_latency.py replaces it with the measured crossover (it
# prints one): the cpu backend costs ~4.7 us per agent-step on one core
# (benchmarks/results/step_latency_amd_cpu.json), a graph-replayed cuda frame is a fixed
# ~15-40 us round trip at small N. See docs/cuda.md.
CUDA_CROSSOVER_AGENTS = 8
STATE_FORMAT = "gazehead_rt.state/2"
_STATE_ARRAYS = ("s", "head", "head_vel", "z", "gaze", "style", "has_prev", "frame", "episode")
#: style knobs by name, in the order of the style vector (gazehead_rt.style)
STYLE_NAMES = ("propensity", "idle")


def default_model_path() -> str:
    """Path of the model shipped inside the package."""
    return str(resources.files("gazehead_rt").joinpath("models", "default.safetensors"))


def build_info() -> dict[str, Any]:
    """How the native core was built: version, compiler, CPU kernels, CUDA/TensorRT options."""
    info = dict(native().build_config())
    info["backends"] = available_backends()
    info["numpy"] = np.__version__
    return info


def available_backends() -> list[str]:
    """Backends this build can run on this machine, fastest-capable last."""
    cfg = native().build_config()
    out = ["cpu"]
    if cfg["cuda_built"] and native().cuda_device_count() > 0:
        out.append("cuda")
    if cfg["tensorrt_built"]:
        out.append("tensorrt")
    return out


def philox_normal(seed: int, agents, episode, frame, latent: int) -> np.ndarray:
    """The standard-normal eps (N, latent) every backend draws for (seed, agent, episode, frame).

    Exposed so the PyTorch reference and tests use exactly the runtime's noise.
    """
    return native().normal_noise(
        int(seed),
        np.asarray(agents, np.uint32),
        np.asarray(episode, np.uint32),
        np.asarray(frame, np.uint32),
        int(latent),
    )


def _as_float_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == object or not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {a.dtype}")
    return a


def _as_real_array(x: Any, name: str) -> np.ndarray:
    """Numbers (float or integer) as an array; anything else is a TypeError naming ``name``."""
    a = np.asarray(x)
    if (
        a.dtype == object
        or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer))
        or a.dtype == bool
    ):
        raise TypeError(f"{name}: expected numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _shape_str(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _native_model(m: LoadedModel):
    """The core's model; anything the core refuses (a tensor of the wrong length, a value of
    the wrong type in a hand-built LoadedModel) is a ModelError naming the model's file."""
    try:
        return native().Model(runtime_spec(m))
    except ModelError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RuntimeError) as e:
        raise ModelError(f"{m.path}: the core refused the model ({e})") from None


def population_style(model: LoadedModel, seed: int, agents) -> np.ndarray:
    """The default style (k, 2) of ``agents`` under ``seed``: the model's style population,
    ``style_mean + style_std * n`` with n the first two Philox normals of each agent at
    episode = frame = 0xFFFFFFFF, clamped to +-10 (the style range). Independent of the batch
    size. (A lane's value does not depend on the latent size, so this equals
    ``philox_normal(..., latent=Z)[:, :2]``; a model with Z = 1 still draws two lanes.) The
    draw is the core's, as every surface makes it."""
    c = model.config
    return native().population_style(
        np.asarray(c.style_mean, np.float32),
        np.asarray(c.style_std, np.float32),
        int(seed),
        np.asarray(agents, np.int64).reshape(-1).astype(np.uint32),
    )


def _convert_gaze(gaze: Any, n: int) -> np.ndarray:
    """Slow path of step()'s gaze: checked and converted to C-contiguous float32 (n, 2)."""
    a = _as_float_array(gaze, "gaze")
    if a.shape == (2,):
        a = np.broadcast_to(a, (n, 2))
    elif a.shape != (n, 2):
        raise ValueError(
            f"gaze: expected shape (2,) or {_shape_str((n, 2))}, got {_shape_str(a.shape)}"
        )
    return np.ascontiguousarray(a, dtype=_F32)


def _check_out(out: Any, n: int) -> None:
    """Raises the TypeError of a bad ``out=`` (what the fast path did not accept)."""
    if not (
        type(out) is np.ndarray
        and out.dtype == _F32
        and out.shape == (n, 3)
        and out.flags.c_contiguous
        and out.flags.writeable
    ):
        raise TypeError(
            f"out: expected a writeable C-contiguous float32 array of shape ({n}, 3), "
            f"got {type(out).__name__} "
            + (f"{out.dtype} {_shape_str(out.shape)}" if isinstance(out, np.ndarray) else "")
        )


class Generator:
    """Generates head motion (and eye-in-head angles) from gaze, one frame at a time.

    Parameters
    ----------
    model:
        Path of a ``.safetensors`` model file, an already loaded model, or ``None`` for the
        default model shipped with the package.
    num_agents:
        Number of independent characters stepped together (N).
    backend:
        ``"auto"`` (decided once, here; :attr:`backend` says what it chose), ``"cpu"``,
        ``"cuda"`` or ``"tensorrt"``. A requested backend that this build or machine lacks
        raises :class:`BackendError`; there is never a silent fallback.
    seed, temperature:
        Noise is Philox keyed by (seed, agent), so a (seed, agent, frame) gives the same motion
        for any batch size and backend. ``temperature`` scales the prior's spread (0 = mean).
    nan_policy:
        ``"raise"``: non-finite gaze raises ``ValueError`` naming the agent. ``"hold"``: that
        agent keeps its last valid gaze (straight ahead before it had one).
    weights_dtype:
        Storage of the weights: ``"float32"``, ``"bfloat16"`` (cpu and cuda: half the weight
        traffic; see docs/runtime.md for its accuracy) or ``"float16"`` (cuda); arithmetic
        is float32 either way.
    num_threads:
        ``cpu`` backend: split each call's agents over this many threads (the caller's
        included). Results are identical for any value; it pays off from a few hundred
        agents. With ``backend="auto"``, asking for threads selects ``cpu``.
    style:
        Per-agent style (propensity, idle) (see :mod:`gazehead_rt.style`). ``None``: each
        agent drawn from the model's population (deterministic under ``seed``, the same for
        any batch size); ``"mean"``: the population mean; a (2,) or (N, 2) array; or a dict
        ``{"propensity": .., "idle": ..}`` (scalars or (N,) arrays; a missing knob keeps the
        population draw). See :meth:`set_style`.
    neck_limits:
        Head-on-torso half-ranges (pitch, yaw, roll) in radians; default the model's
        (about 40, 70, 30 degrees). Pitch and roll in (0, pi/2], yaw in (0, pi).

    A generator is not thread-safe; the GIL is released during native work, so separate
    generators can run in separate threads.
    """

    def __init__(
        self,
        model: str | os.PathLike | LoadedModel | None = None,
        *,
        num_agents: int = 1,
        backend: str = "auto",
        seed: int = 0,
        temperature: float = 1.0,
        nan_policy: str = "raise",
        weights_dtype: str = "float32",
        num_threads: int = 1,
        style: Any = None,
        neck_limits: Any = None,
    ) -> None:
        if (
            isinstance(num_agents, bool)
            or not isinstance(num_agents, (int, np.integer))
            or num_agents < 1
        ):
            raise ValueError(f"num_agents: expected a positive integer, got {num_agents!r}")
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= seed < 2**32
        ):
            raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed!r}")
        temperature = self._check_temperature(temperature)
        if nan_policy not in _NAN_POLICIES:
            raise ValueError(f"nan_policy: expected one of {_NAN_POLICIES}, got {nan_policy!r}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend: expected one of {_BACKENDS}, got {backend!r}")
        if (
            isinstance(num_threads, bool)
            or not isinstance(num_threads, (int, np.integer))
            or not 1 <= num_threads <= 256
        ):
            raise ValueError(f"num_threads: expected an integer in [1, 256], got {num_threads!r}")
        if weights_dtype not in _WEIGHTS_DTYPES:
            raise ValueError(
                f"weights_dtype: expected one of {_WEIGHTS_DTYPES}, got {weights_dtype!r}"
            )

        if model is None:
            path = default_model_path()
            if not os.path.isfile(path):
                raise ModelError(
                    f"{path}: the default model is not bundled with this build; pass the path "
                    "of a model file, e.g. one written by `gazehead-rt train`"
                )
            loaded = load_model(path)
        elif isinstance(model, LoadedModel):
            loaded = model
        else:
            loaded = load_model(model)

        if backend == "auto" and num_threads != 1:
            backend = "cpu"  # threads are a cpu-backend request
        self._backend = self._choose_backend(backend, int(num_agents))
        self._model = loaded
        self._n = int(num_agents)
        self._nan_policy = nan_policy
        if weights_dtype == "float16" and self._backend != "cuda":
            raise ValueError(
                f"weights_dtype: {weights_dtype!r} needs backend 'cuda' "
                f"(backend {self._backend!r} runs float32 or bfloat16 weights)"
            )
        self._weights_dtype = weights_dtype
        if num_threads != 1 and self._backend != "cpu":
            raise ValueError(
                f"num_threads: {num_threads} applies to backend 'cpu' only "
                f"(this generator runs on {self._backend!r})"
            )
        if self._backend == "cuda":
            self._impl = native().CudaGenerator(
                _native_model(loaded),
                self._n,
                int(seed),
                temperature,
                _NAN_POLICIES.index(nan_policy),
                _WEIGHTS_DTYPES.index(weights_dtype),
            )
        else:
            self._impl = native().CpuGenerator(
                _native_model(loaded),
                self._n,
                int(seed),
                temperature,
                _NAN_POLICIES.index(nan_policy),
                int(num_threads),
                _WEIGHTS_DTYPES.index(weights_dtype),
            )
        if neck_limits is not None:
            self.neck_limits = neck_limits
        if style is not None:
            self.set_style(style)
        self._head = np.zeros((self._n, 3), _F32)  # last step's (or update's) head
        self._eye = np.zeros((self._n, 2), _F32)  # last step's (or update's) eye-in-head
        self._gaze_shape = (self._n, 2)
        # step()'s whole per-frame work, checks included, in one native call
        self._frame = native().FrameCall(
            self._impl, self._head, self._eye, _convert_gaze, _check_out
        )

    # -- construction helpers ------------------------------------------------------------
    @staticmethod
    def _check_temperature(t: float) -> float:
        if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)):
            raise ValueError(
                f"temperature: expected a finite number >= 0 and <= {MAX_TEMPERATURE:g}, got {t!r}"
            )
        native().check_temperature(float(t))  # the range, as every surface checks it
        return float(t)

    @staticmethod
    def _choose_backend(backend: str, num_agents: int) -> str:
        have = available_backends()
        if backend == "auto":
            # Decided here, once, from the agent count; never revisited (no silent fallback).
            if "cuda" in have and num_agents >= CUDA_CROSSOVER_AGENTS:
                return "cuda"
            return "cpu"
        if backend not in have:
            cfg = native().build_config()
            if backend == "cuda" and cfg["cuda_built"]:
                raise BackendError(
                    f"backend 'cuda' is not available in this build on this machine (have {have}): "
                    f"it is compiled ({cfg['cuda_note']}) but no CUDA device is usable: "
                    f"{native().cuda_device_status()}"
                )
            note = cfg.get(f"{backend}_note", "")
            raise BackendError(
                f"backend {backend!r} is not available in this build (have {have}): {note}"
            )
        return backend

    # -- properties ----------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return self._backend

    @property
    def num_agents(self) -> int:
        return self._n

    @property
    def weights_dtype(self) -> str:
        """Storage type of the weights ("float32", "bfloat16", or "float16" on cuda); the
        arithmetic is float32 either way."""
        return self._weights_dtype

    @property
    def fps(self) -> float:
        """The model's fixed rate; one :meth:`step` advances 1/fps seconds."""
        return float(self._model.config.fps)

    @property
    def seed(self) -> int:
        return int(self._impl.seed)

    @property
    def temperature(self) -> float:
        return float(self._impl.temperature)

    @temperature.setter
    def temperature(self, t: float) -> None:
        self._impl.temperature = self._check_temperature(t)

    @property
    def nan_policy(self) -> str:
        return self._nan_policy

    @property
    def neck_limits(self) -> tuple[float, float, float]:
        """Head-on-torso half-ranges (pitch, yaw, roll), radians. Settable: three numbers,
        pitch and roll in (0, pi/2], yaw in (0, pi); the next frame uses them."""
        return tuple(float(x) for x in self._impl.neck_limits)

    @neck_limits.setter
    def neck_limits(self, limits: Any) -> None:
        self._impl.neck_limits = self._check_neck_limits(limits)

    @staticmethod
    def _check_neck_limits(limits: Any) -> np.ndarray:
        a = _as_real_array(limits, "neck_limits")
        if a.shape != (3,):
            raise ValueError(
                f"neck_limits: expected 3 values (pitch, yaw, roll) in radians, "
                f"got shape {_shape_str(a.shape)}"
            )
        a = a.astype(_F32)
        native().check_neck_limits(a)  # ValueError naming the axis and its range
        return a

    @property
    def style(self) -> np.ndarray:
        """Per-agent style (N, 2): (propensity, idle). A copy; change it with :meth:`set_style`."""
        return np.asarray(self._impl.style)

    def set_style(self, style: Any, agents: Iterable[int] | None = None) -> None:
        """Set the style of some agents (all when ``agents`` is None).

        ``style``: ``None`` (each agent's population draw, as at construction), ``"mean"``
        (the population mean), a (2,) array for every listed agent, a (k, 2) array, one row
        per listed agent, or a dict ``{"propensity": .., "idle": ..}`` whose values are
        scalars or (k,) arrays (a knob left out keeps its current value). Every value is
        checked before any agent changes. Takes effect from the next frame; reset() keeps it.
        """
        self._refuse_if_pending("set_style")
        ids = np.arange(self._n) if agents is None else self._agent_ids(agents)
        k = ids.shape[0]
        current = self.style
        if style is None:
            new = population_style(self._model, self.seed, ids)
        elif isinstance(style, str):
            if style != "mean":
                raise ValueError(f"style: expected None, 'mean', an array or a dict, got {style!r}")
            new = np.broadcast_to(np.asarray(self._model.config.style_mean, _F32), (k, STYLE_SIZE))
        elif isinstance(style, Mapping):
            unknown = sorted(set(style) - set(STYLE_NAMES))
            if unknown:
                raise ValueError(f"style: unknown knobs {unknown}; expected {list(STYLE_NAMES)}")
            new = current[ids].copy()
            for i, name in enumerate(STYLE_NAMES):
                if name in style:
                    v = _as_real_array(style[name], f"style[{name!r}]")
                    if v.shape not in ((), (k,)):
                        raise ValueError(
                            f"style[{name!r}]: expected a number or shape ({k},), "
                            f"got {_shape_str(v.shape)}"
                        )
                    new[:, i] = v
        else:
            v = _as_real_array(style, "style")
            if v.shape not in ((STYLE_SIZE,), (k, STYLE_SIZE)):
                raise ValueError(
                    f"style: expected shape (2,) or ({k}, 2), got {_shape_str(v.shape)}"
                )
            new = np.broadcast_to(v, (k, STYLE_SIZE))
        with np.errstate(over="ignore"):  # a float32 overflow is inf, refused just below
            current[ids] = np.asarray(new, dtype=_F32)
        self._impl.style = current  # the core checks every agent first (finite, |x| <= 10)

    @property
    def model(self) -> LoadedModel:
        return self._model

    @property
    def head(self) -> np.ndarray:
        """Head (N, 3) of the last step (or update), radians (pitch, yaw, roll). A copy."""
        return self._head.copy()

    @property
    def eye(self) -> np.ndarray:
        """Eye-in-head (N, 2) of the last step, radians (pitch, yaw). After :meth:`update`,
        the current gaze seen from the interpolated head. A copy."""
        return self._eye.copy()

    def __repr__(self) -> str:
        return (
            f"Generator(model={os.path.basename(self._model.path)!r}, num_agents={self._n}, "
            f"backend={self._backend!r}, seed={self.seed}, temperature={self.temperature})"
        )

    # -- input checking ------------------------------------------------------------------
    def _gaze_frame(self, gaze: Any, name: str = "gaze") -> np.ndarray:
        a = _as_float_array(gaze, name)
        if a.shape == (2,):
            a = np.broadcast_to(a, self._gaze_shape)
        elif a.shape != self._gaze_shape:
            raise ValueError(
                f"{name}: expected shape (2,) or {_shape_str(self._gaze_shape)}, "
                f"got {_shape_str(a.shape)}"
            )
        return np.ascontiguousarray(a, dtype=_F32)

    def _sequence(self, x: Any, name: str, width: int) -> np.ndarray:
        """(T, width) or (T, N, width) -> contiguous float32 (T, N, width)."""
        a = _as_float_array(x, name)
        if a.ndim == 2 and a.shape[1] == width:
            a = np.broadcast_to(a[:, None, :], (a.shape[0], self._n, width))
        elif not (a.ndim == 3 and a.shape[1:] == (self._n, width)):
            raise ValueError(
                f"{name}: expected shape (T, {width}) or (T, {self._n}, {width}), "
                f"got {_shape_str(a.shape)}"
            )
        if a.shape[0] == 0:
            raise ValueError(f"{name}: the sequence is empty (T = 0)")
        return np.ascontiguousarray(a, dtype=_F32)

    # -- stepping ------------------------------------------------------------------------
    def step(self, gaze: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Advance one frame (1/fps s): gaze (2,) or (N, 2) radians -> head (N, 3).

        ``out``: a C-contiguous float32 (N, 3) array to write into (no allocation).
        The eye-in-head angles of this frame are then in :attr:`eye`.
        """
        return self._frame(gaze, out)  # checks, converts and steps (FrameCall)

    def update(self, gaze: Any, dt_s: float, out: np.ndarray | None = None) -> np.ndarray:
        """Variable-rate loops: advance the clock by ``dt_s`` seconds with the gaze now at
        ``gaze`` ((2,) or (N, 2) radians). Runs every fixed-rate model frame that came due
        (gaze interpolated between calls, at most 0.25 s of catch-up per call) and returns
        the model pose interpolated at the current time minus one model frame (N, 3).
        :attr:`eye` is then the current gaze seen from that head. The first call starts the
        clock (its ``dt_s`` is ignored). The clock is the core's (docs/design.md §5), as in
        :class:`gazehead_rt.rate.RateAdapter` and the C library; the generator is held for the
        whole call, so an update is all or nothing, and every input is checked before any
        frame runs."""
        g = _convert_gaze(gaze, self._n)
        dt = check_dt(dt_s)
        if out is not None:
            _check_out(out, self._n)
        self._refuse_if_pending("update")
        self._impl.update(g, dt, self._head, self._eye)
        if out is None:
            return self._head.copy()
        out[...] = self._head
        return out

    def step_async(self, gaze: Any) -> None:
        """Start one frame and return without waiting (cuda: gaze is staged and the frame's
        graph launched; cpu: the frame is computed here). Collect it with :meth:`result`;
        one frame may be in flight. Validation errors are raised here, state unchanged."""
        self._impl.step_async(_convert_gaze(gaze, self._n))

    def result(self, out: np.ndarray | None = None) -> np.ndarray:
        """Wait for the frame started by :meth:`step_async`: head (N, 3) (into ``out`` if
        given, as :meth:`step`); the frame's eye-in-head angles are then in :attr:`eye`."""
        if not self._impl.pending:
            raise RuntimeError("result: no step_async() is in flight")
        if out is not None:
            _check_out(out, self._n)
        self._impl.result(self._head, self._eye)
        if out is None:
            out = np.empty((self._n, 3), _F32)
        out[...] = self._head
        return out

    def _refuse_if_pending(self, what: str) -> None:
        if self._impl.pending:
            raise RuntimeError(f"{what}: a step_async() is in flight; call result() first")

    def _agent_ids(self, agents: Iterable[int]) -> np.ndarray:
        ids = np.asarray(list(agents) if not isinstance(agents, np.ndarray) else agents)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"agents: expected integer agent ids, got dtype {ids.dtype}")
        ids = ids.astype(np.int64).reshape(-1)
        native().check_agent_ids(ids, self._n)  # ValueError naming the first bad id
        return ids

    def reset(self, agents: Iterable[int] | None = None) -> None:
        """Start a new episode for some agents (all when ``agents`` is None): zero state and
        history, and fresh noise (the episode counter advances). Styles are kept."""
        self._refuse_if_pending("reset")
        if agents is None:
            self._impl.reset(None)  # the update() clock restarts too
            self._head[...] = 0
            self._eye[...] = 0
            return
        ids = self._agent_ids(agents)
        self._impl.reset(ids)  # the core deduplicates; the clock snaps these agents
        self._head[ids] = 0
        self._eye[ids] = 0

    def prime(self, gaze_hist: Any, head_hist: Any) -> None:
        """Condition on observed motion: run the model over gaze_hist (T, 2)/(T, N, 2) and
        head_hist (T, 3)/(T, N, 3) (radians), so the next step continues from the last
        observed frame. Non-finite values are refused whatever the nan_policy."""
        self._refuse_if_pending("prime")
        g = self._sequence(gaze_hist, "gaze_hist", 2)
        h = self._sequence(head_hist, "head_hist", 3)
        if g.shape[0] != h.shape[0]:
            raise ValueError(f"head_hist: has {h.shape[0]} frames but gaze_hist has {g.shape[0]}")
        self._impl.prime(g, h)
        self._show_pose(g[-1], h[-1])

    def generate(self, gaze_seq: Any, num_samples: int = 1, *, return_eye: bool = False):
        """Offline rollout from the current state without changing it.

        gaze_seq (T, 2) or (T, N, 2) -> head (T, N, 3); with ``num_samples`` K > 1, K
        independent samples (K, T, N, 3), sample k drawing its noise with seed ``seed + k``.
        Sample 0 is exactly what calling :meth:`step` T times would return.
        """
        self._refuse_if_pending("generate")
        if (
            isinstance(num_samples, bool)
            or not isinstance(num_samples, (int, np.integer))
            or num_samples < 1
        ):
            raise ValueError(f"num_samples: expected a positive integer, got {num_samples!r}")
        g = self._sequence(gaze_seq, "gaze_seq", 2)
        T = g.shape[0]
        heads = np.empty((num_samples, T, self._n, 3), _F32)
        eyes = np.empty((num_samples, T, self._n, 2), _F32)
        for k in range(num_samples):
            impl = self._impl.clone()
            impl.seed = (self.seed + k) % 2**32
            impl.rollout(g, heads[k], eyes[k])
        if num_samples == 1:
            heads, eyes = heads[0], eyes[0]
        return (heads, eyes) if return_eye else heads

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this generator is (a deep copy)."""
        self._refuse_if_pending("state_dict")
        st = dict(self._impl.get_state())
        st.update(
            format=STATE_FORMAT,
            model_sha256=self._model.sha256,
            num_agents=self._n,
            seed=self.seed,
            temperature=self.temperature,
            nan_policy=self._nan_policy,
            neck_limits=np.asarray(self.neck_limits, _F32),
            last_head=self._head.copy(),
            last_eye=self._eye.copy(),
            rate=self._impl.clock_state(),  # the update() clock; None before the first update
        )
        return st

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (from any backend) taken with the same model and
        agent count. Everything is checked first: nothing changes if the state is refused."""
        self._refuse_if_pending("load_state_dict")
        if not isinstance(state, Mapping):
            raise TypeError(
                f"state: expected the dict state_dict() returns, got {type(state).__name__}"
            )
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"state: format {state.get('format')!r} is not {STATE_FORMAT!r}")
        if state.get("model_sha256") != self._model.sha256:
            raise ValueError(
                "state: it was taken with a different model file "
                f"(sha256 {str(state.get('model_sha256'))[:12]}..., this generator "
                f"has {self._model.sha256[:12]}...)"
            )
        if state.get("num_agents") != self._n:
            raise ValueError(
                f"state: it holds {state.get('num_agents')} agents, this generator has {self._n}"
            )
        missing = [
            k
            for k in _STATE_ARRAYS + ("seed", "temperature", "neck_limits", "last_head", "last_eye")
            if k not in state
        ]
        if missing:
            raise ValueError(f"state: missing entries {missing}")
        seed = state["seed"]
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or not 0 <= seed < 2**32
        ):
            raise ValueError(f"state: seed must be an integer in [0, 2**32), got {seed!r}")
        temperature = self._check_temperature(state["temperature"])
        neck_limits = self._check_neck_limits(state["neck_limits"])
        try:
            last_head = np.asarray(state["last_head"], _F32).reshape(self._head.shape)
            last_eye = np.asarray(state["last_eye"], _F32).reshape(self._eye.shape)
        except ValueError as e:
            raise ValueError(
                f"state: last_head/last_eye do not fit {self._n} agents ({e})"
            ) from None
        rate = state.get("rate")
        try:  # the core's check of the update() clock, before anything changes
            self._impl.check_clock_state(rate)
        except (TypeError, ValueError) as e:
            raise ValueError(f"state: the update() clock is malformed ({e})") from None
        arrays = {}
        for k in _STATE_ARRAYS:
            a = np.asarray(state[k])
            if a.dtype == object or not (
                np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_)
            ):
                raise TypeError(f"state: {k!r} must hold numbers, got dtype {a.dtype}")
            arrays[k] = a
        # the core checks every array (sizes, finite style) before it changes anything; the
        # settings below were checked above and cannot fail
        self._impl.set_state(arrays)
        self._impl.seed = int(seed)
        self._impl.temperature = temperature
        self._impl.neck_limits = neck_limits
        self._impl.set_clock_state(rate)
        self._head[...] = last_head
        self._eye[...] = last_eye

    def save_state(self) -> bytes:
        """The whole state as bytes: settings, agent state and the update() clock, in the
        core's versioned, checksummed format that the C library (``gazehead_generator_
        save_state``) and C# (``SaveState``) write too, so a state moves between them. Tied
        to the model file (its fingerprint) and the agent count."""
        self._refuse_if_pending("save_state")
        return self._impl.save_state()

    def load_state(self, blob: bytes) -> None:
        """Restore :meth:`save_state` bytes (from any surface). The core parses and checks the
        whole blob first: a damaged blob, another model file or agent count, or a value a
        setter would refuse raises :class:`gazehead_rt.errors.StateError` and nothing changes."""
        self._refuse_if_pending("load_state")
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError(f"state: expected bytes, got {type(blob).__name__}")
        self._impl.load_state(blob)
        if self._impl.clock_state() is not None:  # the pose the last update() returned
            self._impl.clock_emit(self._head, self._eye)
        else:  # the last frame's head, and the last gaze seen from it
            st = self._impl.get_state()
            self._show_pose(st["gaze"].astype(np.float64), st["head"].astype(np.float64))

    def _show_pose(self, gaze: np.ndarray, head: np.ndarray) -> None:
        """:attr:`head` and :attr:`eye` after a call that ran no step (prime, load_state):
        ``head`` (N, 3), and ``gaze`` (N, 2) seen from it, clamped as the step clamps it."""
        from .geometry import eye_from_gaze_head

        lim = self._model.config.eye_limit
        self._head[...] = head
        self._eye[...] = np.clip(eye_from_gaze_head(gaze, head), -lim, lim).astype(_F32)
