"""Variable frame rate: run the fixed-rate model from a game or robot loop of any rate.

The model is trained at one rate (``fps``, 30 by default) and must be stepped at exactly
that rate: its condition holds the gaze and head velocities (differences times ``fps``) and
the head integrates the decoded head velocity over ``1 / fps``. A loop at 60, 90, 144 Hz or with
jittery frame times therefore cannot call ``step`` once per frame. :class:`RateAdapter`
does the bookkeeping of the classic fixed-timestep loop:

* Model frame k belongs to clock time ``k / fps`` (frame 0 = the first ``update`` call).
  An ``update(gaze, dt_s)`` advances the clock by ``dt_s`` and runs every model frame whose
  time has been reached, feeding each the gaze **linearly interpolated** between the
  previous update's gaze and this one at that frame's time (yaw the short way round, so a
  target crossing behind the character does not swing through the front).
* The pose it returns is the model trajectory linearly interpolated at ``t - 1/fps``: one
  model frame of latency (33 ms at 30 fps), the price of interpolating instead of
  extrapolating. The eyes have no such latency: :attr:`RateAdapter.eye` is the *current*
  gaze seen from the interpolated head, so they stay on target while the head follows
  (as real eyes lead the head by 20-200 ms anyway).
* Result: when the gaze is linear between update calls, a loop at any rate and any jitter
  produces exactly the model-rate motion resampled at its own frame times (up to float32
  rounding). For other gaze signals the only difference is the gaze interpolation error
  between updates, ``<= h^2 * max|gaze''| / 8`` for an update interval h.
* A long hitch (a loading screen, a debugger pause) would need many catch-up steps in one
  call. At most ``max_steps_per_update`` model frames are run per call (default: 0.25 s
  worth, 8 at 30 fps); the remaining time is dropped (the motion slows down for that call
  instead of freezing the loop) and counted in :attr:`RateAdapter.dropped_time_s`.

The adapter knows nothing about the model: any ``step_fn(gaze (N, 2)) -> head (N, 3)``
works (``Generator.step``, a baseline, a test double). The clock is the core's
(``gazehead::RateClock``, the one behind ``Generator.update``, the C library's
``gazehead_generator_update`` and C#'s ``Update``); this class hands it the step function and
learns the agent count from the first frame.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._native import native

__all__ = ["RateAdapter", "DEFAULT_MAX_CATCHUP_S"]

#: Default catch-up budget per ``update`` call, in seconds of model time (the core's
#: ``kMaxCatchupS``). Game engines clamp their frame time to about this (Unity's
#: ``maximumDeltaTime`` defaults to 0.333 s); past it, running every missed frame makes the
#: next frame slower still.
DEFAULT_MAX_CATCHUP_S = 0.25


def check_dt(dt_s: Any) -> float:
    """``dt_s`` as a float: TypeError unless a real number, ValueError (the core's check,
    as every surface makes it) unless finite and >= 0."""
    if isinstance(dt_s, (str, bytes)) or np.ndim(dt_s) != 0:
        raise TypeError(f"dt_s must be a real number of seconds, got {type(dt_s).__name__}")
    try:
        dt = float(dt_s)
    except (TypeError, ValueError):
        raise TypeError(
            f"dt_s must be a real number of seconds, got {type(dt_s).__name__}"
        ) from None
    native().RateClock.check_dt(dt)
    return dt


class RateAdapter:
    """Drive a fixed-rate ``step_fn`` from a loop with arbitrary, varying ``dt_s``.

    Args:
        step_fn: ``step_fn(gaze) -> head``; gaze (N, 2) float64 radians (or the caller's
            first gaze as given, (2,) or (N, 2)), head (N, 3) radians. Called exactly once
            per model frame, in order. Its returned array is copied, so it may reuse a buffer.
        fps: model rate in frames per second (``Generator.fps``).
        max_steps_per_update: catch-up bound per :meth:`update` call (see module notes);
            default ``ceil(DEFAULT_MAX_CATCHUP_S * fps)``.

    Not thread-safe: one adapter per loop, like the Generator it wraps.
    """

    def __init__(
        self,
        step_fn: Callable[[np.ndarray], Any],
        fps: float,
        *,
        max_steps_per_update: int | None = None,
    ) -> None:
        fps = float(fps)
        steps = None if max_steps_per_update is None else int(max_steps_per_update)
        probe = native().RateClock(1, fps, steps)  # the core checks fps and the budget
        self._step_fn = step_fn
        self._fps = fps
        self._max_steps = int(probe.max_steps_per_update)
        self._clock = None  # the core's clock, made by the first update (it learns N there)
        self._out: np.ndarray | None = None
        self._eye: np.ndarray | None = None

    # -- public properties ---------------------------------------------------------------
    @property
    def fps(self) -> float:
        """Model rate (frames per second) the step function is run at."""
        return self._fps

    @property
    def latency_s(self) -> float:
        """Delay of the returned head pose behind the model trajectory: one model frame."""
        return 1.0 / self._fps

    @property
    def max_steps_per_update(self) -> int:
        """Most model frames one :meth:`update` call runs; excess time is dropped."""
        return self._max_steps

    @property
    def frames(self) -> int:
        """Model frames run since construction or the last full :meth:`reset`."""
        return 0 if self._clock is None else int(self._clock.frames)

    @property
    def time_s(self) -> float:
        """Clock time since the first update (dropped catch-up time not included)."""
        return 0.0 if self._clock is None else float(self._clock.time_s)

    @property
    def dropped_time_s(self) -> float:
        """Total time discarded by the catch-up bound (0 in a healthy loop)."""
        return 0.0 if self._clock is None else float(self._clock.dropped_time_s)

    @property
    def num_agents(self) -> int | None:
        """Agent count, known after the first update (None before)."""
        return None if self._clock is None else int(self._clock.num_agents)

    @property
    def head(self) -> np.ndarray:
        """(N, 3) float32 head pose returned by the last :meth:`update`."""
        self._require_started("head")
        return self._out

    @property
    def eye(self) -> np.ndarray:
        """(N, 2) float32 eye-in-head of the *current* gaze seen from :attr:`head`."""
        self._require_started("eye")
        return self._eye

    # -- main entry ------------------------------------------------------------------------
    def update(self, gaze: np.ndarray, dt_s: float, out: np.ndarray | None = None) -> np.ndarray:
        """Advance the clock by ``dt_s`` seconds with the gaze now at ``gaze``.

        gaze: (2,) for every agent or (N, 2), radians. dt_s: seconds since the previous
        call, finite and >= 0; ignored on the first call after construction or a full reset
        (that call starts the clock at frame 0). out: optional (N, 3) float32 to write into.
        Returns the interpolated head pose (N, 3) float32 (``out`` when given).
        """
        dt = check_dt(dt_s)
        g = np.asarray(gaze, dtype=np.float64)
        if g.ndim not in (1, 2) or g.shape[-1] != 2:
            raise ValueError(f"gaze must have shape (2,) or (N, 2), got {g.shape}")
        if self._clock is None:  # first call: frame 0 at clock time 0, which gives N
            head0 = np.array(self._step_fn(gaze), dtype=np.float64)
            if head0.ndim != 2 or head0.shape[1] != 3:
                raise ValueError(f"step_fn must return a (N, 3) head, got shape {head0.shape}")
            n = head0.shape[0]
            g1, out = self._broadcast(g, n), self._out_buffer(out, n)
            clock = native().RateClock(n, self._fps, self._max_steps)
            self._eye = np.empty((n, 2), np.float32)
            clock.start(g1, head0, out, self._eye)
            self._clock, self._out = clock, out
            return out
        n = self._clock.num_agents
        g1, out = self._broadcast(g, n), self._out_buffer(out, n)
        self._clock.update(g1, dt, self._step_fn, out, self._eye)
        self._out = out
        return out

    def reset(self, agents: Any = None) -> None:
        """Forget the motion of all agents (``agents=None``: the clock restarts at the next
        update) or of some (their next model frame is shown without blending from the old
        pose). Call it together with ``Generator.reset`` on the same agents."""
        if agents is None:
            self._clock, self._out, self._eye = None, None, None
        elif self._clock is not None:
            self._clock.reset_agents(np.asarray(agents, dtype=np.int64).reshape(-1))

    # -- reproducibility -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Copy of the adapter's state (clock phase, last two model poses, last gaze)."""
        state = None if self._clock is None else self._clock.state_dict()
        if state is None:
            empty = dict.fromkeys(("prev", "curr", "gaze_last", "snap"))
            return {"fps": self._fps, "frames": 0, "phase": 0.0, "dropped_time_s": 0.0, **empty}
        return dict(state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; restore the step function's own state alongside.
        The core checks it whole first (a NaN last gaze would fail every later update(),
        blaming the caller's gaze; a huge pose would be returned as the head)."""
        if not isinstance(state, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
        if float(state["fps"]) != self._fps:
            raise ValueError(
                f"state_dict is for fps={state['fps']}, this adapter runs at fps={self._fps}"
            )
        if state.get("curr") is None:
            self.reset()
            return
        try:
            n = int(np.shape(state["curr"])[0])
            clock = native().RateClock(n, self._fps, self._max_steps)
            clock.load_state_dict(state)
        except (IndexError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"state_dict is not a valid RateAdapter state ({e})") from None
        out, eye = np.empty((n, 3), np.float32), np.empty((n, 2), np.float32)
        clock.emit(out, eye)
        self._clock, self._out, self._eye = clock, out, eye

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _broadcast(g: np.ndarray, n: int) -> np.ndarray:
        if g.ndim == 2 and g.shape[0] != n:
            raise ValueError(f"gaze must have shape (2,) or ({n}, 2), got {g.shape}")
        return np.array(np.broadcast_to(g, (n, 2)), dtype=np.float64)

    @staticmethod
    def _out_buffer(out: np.ndarray | None, n: int) -> np.ndarray:
        if out is None:
            return np.empty((n, 3), dtype=np.float32)
        if out.shape != (n, 3) or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError(
                f"out must be C-contiguous float32 with shape ({n}, 3), got {out.dtype} {out.shape}"
            )
        return out

    def _require_started(self, name: str) -> None:
        if self._out is None:
            raise RuntimeError(f"RateAdapter.{name} is not available before the first update()")
