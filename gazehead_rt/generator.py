"""The public runtime object: :class:`Generator` (docs/design.md §5)."""

from __future__ import annotations

import math
import os
from importlib import resources
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ._native import native
from .errors import BackendError, ModelError
from .model_file import LoadedModel, load_model
from .rate import RateAdapter

__all__ = ["Generator", "default_model_path", "available_backends", "build_info", "philox_normal"]

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
STATE_FORMAT = "gazehead_rt.state/1"


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
    return native().normal_noise(int(seed), np.asarray(agents, np.uint32),
                                 np.asarray(episode, np.uint32), np.asarray(frame, np.uint32),
                                 int(latent))


def _as_float_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == object or not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {a.dtype}")
    return a


def _shape_str(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _native_model(m: LoadedModel):
    c = m.config
    n = m.normalization
    return native().Model(
        m.tensors, len(c.enc_sizes), len(c.prior_sizes) + 1, len(c.dec_sizes) + 1,
        c.hidden_size, c.latent_size, c.activation, c.residual, float(c.fps),
        n.x_mean, n.x_std, n.y_mean, n.y_std)


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
        Storage of the weights on the ``cuda`` backend (``"float32"``, ``"bfloat16"``,
        ``"float16"``); arithmetic is float32 either way.
    num_threads:
        ``cpu`` backend: split each call's agents over this many threads (the caller's
        included). Results are identical for any value; it pays off from a few hundred
        agents. With ``backend="auto"``, asking for threads selects ``cpu``.

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
    ) -> None:
        if isinstance(num_agents, bool) or not isinstance(num_agents, (int, np.integer)) or num_agents < 1:
            raise ValueError(f"num_agents: expected a positive integer, got {num_agents!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed!r}")
        temperature = self._check_temperature(temperature)
        if nan_policy not in _NAN_POLICIES:
            raise ValueError(f"nan_policy: expected one of {_NAN_POLICIES}, got {nan_policy!r}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend: expected one of {_BACKENDS}, got {backend!r}")
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) \
                or not 1 <= num_threads <= 256:
            raise ValueError(f"num_threads: expected an integer in [1, 256], got {num_threads!r}")
        if weights_dtype not in _WEIGHTS_DTYPES:
            raise ValueError(f"weights_dtype: expected one of {_WEIGHTS_DTYPES}, got {weights_dtype!r}")

        if model is None:
            path = default_model_path()
            if not os.path.isfile(path):
                raise ModelError(
                    f"{path}: the default model is not bundled with this build; pass the path "
                    "of a model file, e.g. one written by `gazehead-rt train`")
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
        if weights_dtype != "float32" and self._backend != "cuda":
            raise ValueError(f"weights_dtype: {weights_dtype!r} needs backend 'cuda' "
                             f"(backend {self._backend!r} runs float32 weights)")
        self._weights_dtype = weights_dtype
        if num_threads != 1 and self._backend != "cpu":
            raise ValueError(f"num_threads: {num_threads} applies to backend 'cpu' only "
                             f"(this generator runs on {self._backend!r})")
        if self._backend == "cuda":
            self._impl = native().CudaGenerator(
                _native_model(loaded), self._n, int(seed), temperature,
                _NAN_POLICIES.index(nan_policy), _WEIGHTS_DTYPES.index(weights_dtype))
        else:
            self._impl = native().CpuGenerator(
                _native_model(loaded), self._n, int(seed), temperature,
                _NAN_POLICIES.index(nan_policy), int(num_threads))
        self._pending = False  # a step_async() awaits its result()
        self._rate: RateAdapter | None = None  # created by the first update()
        self._last_from_update = False  # head/eye report the adapter's pose after update()
        self._head = np.zeros((self._n, 3), _F32)  # last step's head
        self._eye = np.zeros((self._n, 2), _F32)  # last step's eye-in-head
        self._gaze_shape = (self._n, 2)

    # -- construction helpers ------------------------------------------------------------
    @staticmethod
    def _check_temperature(t: float) -> float:
        if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) \
                or not math.isfinite(t) or t < 0:
            raise ValueError(f"temperature: expected a finite number >= 0, got {t!r}")
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
                    f"{native().cuda_device_status()}")
            note = cfg.get(f"{backend}_note", "")
            raise BackendError(
                f"backend {backend!r} is not available in this build (have {have}): {note}")
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
        """Storage type of the weights ("float32", or "bfloat16"/"float16" on cuda); the
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
    def model(self) -> LoadedModel:
        return self._model

    @property
    def head(self) -> np.ndarray:
        """Head (N, 3) of the last step (or update), radians (pitch, yaw, roll). A copy."""
        if self._last_from_update:
            return np.array(self._rate.head, dtype=_F32)
        return self._head.copy()

    @property
    def eye(self) -> np.ndarray:
        """Eye-in-head (N, 2) of the last step, radians (pitch, yaw). After :meth:`update`,
        the current gaze seen from the interpolated head. A copy."""
        if self._last_from_update:
            return np.array(self._rate.eye, dtype=_F32)
        return self._eye.copy()

    def __repr__(self) -> str:
        return (f"Generator(model={os.path.basename(self._model.path)!r}, num_agents={self._n}, "
                f"backend={self._backend!r}, seed={self.seed}, temperature={self.temperature})")

    # -- input checking ------------------------------------------------------------------
    def _gaze_frame(self, gaze: Any, name: str = "gaze") -> np.ndarray:
        a = _as_float_array(gaze, name)
        if a.shape == (2,):
            a = np.broadcast_to(a, self._gaze_shape)
        elif a.shape != self._gaze_shape:
            raise ValueError(
                f"{name}: expected shape (2,) or {_shape_str(self._gaze_shape)}, "
                f"got {_shape_str(a.shape)}")
        return np.ascontiguousarray(a, dtype=_F32)

    def _sequence(self, x: Any, name: str, width: int) -> np.ndarray:
        """(T, width) or (T, N, width) -> contiguous float32 (T, N, width)."""
        a = _as_float_array(x, name)
        if a.ndim == 2 and a.shape[1] == width:
            a = np.broadcast_to(a[:, None, :], (a.shape[0], self._n, width))
        elif not (a.ndim == 3 and a.shape[1:] == (self._n, width)):
            raise ValueError(
                f"{name}: expected shape (T, {width}) or (T, {self._n}, {width}), "
                f"got {_shape_str(a.shape)}")
        if a.shape[0] == 0:
            raise ValueError(f"{name}: the sequence is empty (T = 0)")
        return np.ascontiguousarray(a, dtype=_F32)

    # -- stepping ------------------------------------------------------------------------
    def step(self, gaze: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Advance one frame (1/fps s): gaze (2,) or (N, 2) radians -> head (N, 3).

        ``out``: a C-contiguous float32 (N, 3) array to write into (no allocation).
        The eye-in-head angles of this frame are then in :attr:`eye`.
        """
        if not (type(gaze) is np.ndarray and gaze.dtype == _F32
                and gaze.shape == self._gaze_shape and gaze.flags.c_contiguous):
            gaze = self._gaze_frame(gaze)
        if out is None:
            out = np.empty((self._n, 3), _F32)
        elif not (type(out) is np.ndarray and out.dtype == _F32 and out.shape == (self._n, 3)
                  and out.flags.c_contiguous and out.flags.writeable):
            raise TypeError(
                f"out: expected a writeable C-contiguous float32 array of shape ({self._n}, 3), "
                f"got {type(out).__name__} "
                + (f"{out.dtype} {_shape_str(out.shape)}" if isinstance(out, np.ndarray) else ""))
        self._refuse_if_pending("step")
        self._impl.step(gaze, self._head, self._eye)
        self._last_from_update = False
        out[...] = self._head
        return out

    def update(self, gaze: Any, dt_s: float, out: np.ndarray | None = None) -> np.ndarray:
        """Variable-rate loops: advance the clock by ``dt_s`` seconds with the gaze now at
        ``gaze`` ((2,) or (N, 2) radians). Runs every fixed-rate model frame that came due
        (gaze interpolated between calls, at most 0.25 s of catch-up per call) and returns
        the model pose interpolated at the current time minus one model frame (N, 3).
        :attr:`eye` is then the current gaze seen from that head. The first call starts the
        clock (its ``dt_s`` is ignored). See :class:`gazehead_rt.rate.RateAdapter`."""
        if self._rate is None:
            self._rate = RateAdapter(self.step, self.fps)
        head = self._rate.update(gaze, dt_s, out)
        self._last_from_update = True
        return head

    def step_async(self, gaze: Any) -> None:
        """Start one frame and return without waiting (cuda: gaze is staged and the frame's
        graph launched; cpu: the frame is computed here). Collect it with :meth:`result`;
        one frame may be in flight. Validation errors are raised here, state unchanged."""
        if not (type(gaze) is np.ndarray and gaze.dtype == _F32
                and gaze.shape == self._gaze_shape and gaze.flags.c_contiguous):
            gaze = self._gaze_frame(gaze)
        self._refuse_if_pending("step_async")
        if self._backend == "cuda":
            self._impl.step_async(gaze)
        else:
            self._impl.step(gaze, self._head, self._eye)
        self._pending = True

    def result(self, out: np.ndarray | None = None) -> np.ndarray:
        """Wait for the frame started by :meth:`step_async`: head (N, 3) (into ``out`` if
        given, as :meth:`step`); the frame's eye-in-head angles are then in :attr:`eye`."""
        if not self._pending:
            raise RuntimeError("result: no step_async() is in flight")
        if out is not None and not (type(out) is np.ndarray and out.dtype == _F32
                                    and out.shape == (self._n, 3) and out.flags.c_contiguous
                                    and out.flags.writeable):
            raise TypeError(f"out: expected a writeable C-contiguous float32 array of shape "
                            f"({self._n}, 3)")
        self._pending = False
        if self._backend == "cuda":
            self._impl.result(self._head, self._eye)
        if out is None:
            out = np.empty((self._n, 3), _F32)
        out[...] = self._head
        return out

    def _refuse_if_pending(self, what: str) -> None:
        if self._pending:
            raise RuntimeError(f"{what}: a step_async() is in flight; call result() first")

    def reset(self, agents: Iterable[int] | None = None) -> None:
        """Start a new episode for some agents (all when ``agents`` is None): zero state and
        history, and fresh noise (the episode counter advances)."""
        self._refuse_if_pending("reset")
        if agents is None:
            self._impl.reset(None)
            self._head[...] = 0
            self._eye[...] = 0
            if self._rate is not None:
                self._rate.reset(None)
            return
        ids = np.asarray(list(agents) if not isinstance(agents, np.ndarray) else agents)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"agents: expected integer agent ids, got dtype {ids.dtype}")
        ids = np.unique(ids.astype(np.int64).reshape(-1))
        bad = ids[(ids < 0) | (ids >= self._n)]
        if bad.size:
            raise ValueError(
                f"agents: id {int(bad[0])} is out of range for {self._n} agents (valid 0..{self._n - 1})")
        self._impl.reset(ids)
        self._head[ids] = 0
        self._eye[ids] = 0
        if self._rate is not None:
            self._rate.reset(ids)

    def prime(self, gaze_hist: Any, head_hist: Any) -> None:
        """Condition on observed motion: run the model over gaze_hist (T, 2)/(T, N, 2) and
        head_hist (T, 3)/(T, N, 3) (radians), so the next step continues from the last
        observed frame. Non-finite values are refused whatever the nan_policy."""
        self._refuse_if_pending("prime")
        g = self._sequence(gaze_hist, "gaze_hist", 2)
        h = self._sequence(head_hist, "head_hist", 3)
        if g.shape[0] != h.shape[0]:
            raise ValueError(
                f"head_hist: has {h.shape[0]} frames but gaze_hist has {g.shape[0]}")
        self._impl.prime(g, h)
        self._head[...] = h[-1]
        from .geometry import eye_from_gaze_head

        self._eye[...] = eye_from_gaze_head(g[-1], h[-1]).astype(_F32)
        if self._rate is not None:  # the variable-rate clock restarts from the primed pose
            self._rate.reset(None)
        self._last_from_update = False

    def generate(self, gaze_seq: Any, num_samples: int = 1, *, return_eye: bool = False):
        """Offline rollout from the current state without changing it.

        gaze_seq (T, 2) or (T, N, 2) -> head (T, N, 3); with ``num_samples`` K > 1, K
        independent samples (K, T, N, 3), sample k drawing its noise with seed ``seed + k``.
        Sample 0 is exactly what calling :meth:`step` T times would return.
        """
        self._refuse_if_pending("generate")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
                or num_samples < 1:
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
        st = dict(self._impl.get_state())
        st.update(
            format=STATE_FORMAT, model_sha256=self._model.sha256, num_agents=self._n,
            seed=self.seed, temperature=self.temperature, nan_policy=self._nan_policy,
            last_head=self._head.copy(), last_eye=self._eye.copy(),
            rate=None if self._rate is None else self._rate.state_dict(),
            last_from_update=self._last_from_update)
        return st

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (from any backend) taken with the same model and
        agent count. Nothing changes if the state is refused."""
        self._refuse_if_pending("load_state_dict")
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"state: format {state.get('format')!r} is not {STATE_FORMAT!r}")
        if state.get("model_sha256") != self._model.sha256:
            raise ValueError("state: it was taken with a different model file "
                             f"(sha256 {str(state.get('model_sha256'))[:12]}..., this generator "
                             f"has {self._model.sha256[:12]}...)")
        if state.get("num_agents") != self._n:
            raise ValueError(
                f"state: it holds {state.get('num_agents')} agents, this generator has {self._n}")
        missing = [k for k in ("s", "head", "eye", "gaze", "has_prev", "frame", "episode",
                               "seed", "temperature", "last_head", "last_eye") if k not in state]
        if missing:
            raise ValueError(f"state: missing entries {missing}")
        temperature = self._check_temperature(state["temperature"])
        last_head = np.asarray(state["last_head"], _F32).reshape(self._head.shape)
        last_eye = np.asarray(state["last_eye"], _F32).reshape(self._eye.shape)
        rate = None
        if state.get("rate") is not None:  # restored into a new adapter before anything changes
            rate = RateAdapter(self.step, self.fps)
            rate.load_state_dict(state["rate"])
        self._impl.set_state({k: state[k] for k in
                              ("s", "head", "eye", "gaze", "has_prev", "frame", "episode")})
        self._impl.seed = int(state["seed"])
        self._impl.temperature = temperature
        self._head[...] = last_head
        self._eye[...] = last_eye
        self._rate = rate
        self._last_from_update = bool(state.get("last_from_update", False)) and rate is not None
