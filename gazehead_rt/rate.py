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
works (``Generator.step``, a baseline, a test double). ``Generator.update`` is a thin call
into it.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ._native import native
from .geometry import eye_from_gaze_head, wrap_angle

__all__ = ["RateAdapter", "DEFAULT_MAX_CATCHUP_S"]

#: Default catch-up budget per ``update`` call, in seconds of model time. Game engines clamp
#: their frame time to about this (Unity's ``maximumDeltaTime`` defaults to 0.333 s); past
#: it, running every missed frame makes the next frame slower still.
DEFAULT_MAX_CATCHUP_S = 0.25

# A model frame counts as due when the clock is within this many frames of its time. It
# absorbs float rounding of summed dt (e.g. 4.8 updates of 1/144 s per 30 fps frame) without
# making any frame measurably early (1e-6 frames = 33 ns at 30 fps).
_DUE_TOLERANCE_FRAMES = 1e-6


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
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be finite and > 0, got {fps}")
        if max_steps_per_update is None:
            max_steps_per_update = max(1, math.ceil(DEFAULT_MAX_CATCHUP_S * fps))
        if int(max_steps_per_update) < 1:
            raise ValueError(f"max_steps_per_update must be >= 1, got {max_steps_per_update}")
        self._step_fn = step_fn
        self._fps = fps
        self._max_steps = int(max_steps_per_update)
        self.reset()

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
        return self._frames

    @property
    def time_s(self) -> float:
        """Clock time since the first update (dropped catch-up time not included)."""
        if self._frames == 0:
            return 0.0
        return (self._frames - 1 + self._phase) / self._fps

    @property
    def dropped_time_s(self) -> float:
        """Total time discarded by the catch-up bound (0 in a healthy loop)."""
        return self._dropped_time_s

    @property
    def num_agents(self) -> int | None:
        """Agent count, known after the first update (None before)."""
        return None if self._curr is None else self._curr.shape[0]

    @property
    def head(self) -> np.ndarray:
        """(N, 3) float32 head pose returned by the last :meth:`update`."""
        self._require_started("head")
        return self._out

    @property
    def eye(self) -> np.ndarray:
        """(N, 2) float32 eye-in-head of the *current* gaze seen from :attr:`head`."""
        self._require_started("eye")
        if self._eye is None:
            self._eye = eye_from_gaze_head(self._gaze_last, self._out).astype(np.float32)
        return self._eye

    # -- main entry ------------------------------------------------------------------------
    def update(self, gaze: np.ndarray, dt_s: float, out: np.ndarray | None = None) -> np.ndarray:
        """Advance the clock by ``dt_s`` seconds with the gaze now at ``gaze``.

        gaze: (2,) for every agent or (N, 2), radians. dt_s: seconds since the previous
        call, finite and >= 0; ignored on the first call after construction or a full reset
        (that call starts the clock at frame 0). out: optional (N, 3) float32 to write into.
        Returns the interpolated head pose (N, 3) float32 (``out`` when given).
        """
        dt_s = self._check_dt(dt_s)
        g = np.asarray(gaze, dtype=np.float64)
        if g.ndim not in (1, 2) or g.shape[-1] != 2:
            raise ValueError(f"gaze must have shape (2,) or (N, 2), got {g.shape}")
        if self._curr is None:  # first call: frame 0 at clock time 0
            head0 = np.array(self._step_fn(gaze), dtype=np.float64)
            if head0.ndim != 2 or head0.shape[1] != 3:
                raise ValueError(f"step_fn must return a (N, 3) head, got shape {head0.shape}")
            n = head0.shape[0]
            self._prev, self._curr = head0.copy(), head0
            self._gaze_last = self._broadcast(g, n)
            self._snap = np.zeros(n, dtype=bool)
            self._frames, self._phase = 1, 0.0
            return self._emit(out)

        n = self._curr.shape[0]
        g1 = self._broadcast(g, n)
        if self._snap.any():  # agents reset alone: no gaze ramp from their old episode
            self._gaze_last[self._snap] = g1[self._snap]
        g0 = self._gaze_last
        dyaw = wrap_angle(g1[:, 1] - g0[:, 1])  # the short way round
        dgaze = np.stack([g1[:, 0] - g0[:, 0], dyaw], axis=-1)

        phase0 = self._phase
        phase1 = phase0 + dt_s * self._fps  # model frames elapsed since the last frame
        n_due = int(math.floor(phase1 + _DUE_TOLERANCE_FRAMES))
        if n_due > self._max_steps:
            self._dropped_time_s += (phase1 - self._max_steps) / self._fps
            n_due = phase1 = self._max_steps  # time dilates for this call
        span = phase1 - phase0
        for j in range(1, n_due + 1):
            alpha = 1.0 if span <= 0 else min(1.0, (j - phase0) / span)
            if alpha >= 1.0:
                g_sub = g1  # exactly the caller's gaze, not a wrapped copy
            else:
                g_sub = g0 + alpha * dgaze
                yaw = g_sub[:, 1]
                g_sub[:, 1] = np.where(np.abs(yaw) > math.pi, wrap_angle(yaw), yaw)
            head = np.array(self._step_fn(g_sub), dtype=np.float64)
            if head.shape != (n, 3):
                raise ValueError(f"step_fn must return a ({n}, 3) head, got shape {head.shape}")
            self._prev, self._curr = self._curr, head
            if self._snap.any():
                self._prev[self._snap] = head[self._snap]
                self._snap[:] = False
            self._frames += 1
        self._phase = phase1 - n_due
        self._gaze_last = g1.copy()
        return self._emit(out)

    def reset(self, agents: Any = None) -> None:
        """Forget the motion of all agents (``agents=None``: the clock restarts at the next
        update) or of some (their next model frame is shown without blending from the old
        pose). Call it together with ``Generator.reset`` on the same agents."""
        if agents is None:
            self._prev = self._curr = None
            self._gaze_last = None
            self._out = None
            self._eye = None
            self._snap = None
            self._frames = 0
            self._phase = 0.0
            self._dropped_time_s = 0.0
            return
        if self._snap is not None:
            self._snap[np.asarray(agents, dtype=np.int64)] = True

    # -- reproducibility -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Copy of the adapter's state (clock phase, last two model poses, last gaze)."""
        c = lambda a: None if a is None else np.array(a, copy=True)  # noqa: E731
        return {
            "fps": self._fps,
            "frames": self._frames,
            "phase": self._phase,
            "dropped_time_s": self._dropped_time_s,
            "prev": c(self._prev),
            "curr": c(self._curr),
            "gaze_last": c(self._gaze_last),
            "snap": c(self._snap),
            "out": c(self._out),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; restore the step function's own state alongside."""
        if not isinstance(state, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
        if float(state["fps"]) != self._fps:
            raise ValueError(
                f"state_dict is for fps={state['fps']}, this adapter runs at fps={self._fps}"
            )
        c = lambda a: None if a is None else np.array(a, copy=True)  # noqa: E731
        frames, phase = int(state["frames"]), float(state["phase"])
        dropped = float(state["dropped_time_s"])
        prev, curr = c(state["prev"]), c(state["curr"])
        gaze_last, snap, out = c(state["gaze_last"]), c(state["snap"]), c(state["out"])
        if curr is not None:
            # checked whole before anything changes, by the check every surface's saved clock
            # goes through: a NaN last gaze would fail every later update() (blaming the
            # caller's gaze), a huge pose would be returned as the head
            try:
                n = np.shape(curr)[0]
                native().check_rate_state(
                    frames,
                    phase,
                    dropped,
                    np.asarray(prev, np.float64).reshape(n, 3),
                    np.asarray(curr, np.float64).reshape(n, 3),
                    np.asarray(gaze_last, np.float64).reshape(n, 2),
                    np.asarray(snap, np.uint8).reshape(n),
                )
            except (IndexError, TypeError, ValueError) as e:
                raise ValueError(f"state_dict is not a valid RateAdapter state ({e})") from None
        self._frames, self._phase, self._dropped_time_s = frames, phase, dropped
        self._prev, self._curr = prev, curr
        self._gaze_last, self._snap = gaze_last, None if snap is None else snap.astype(bool)
        self._out = out
        self._eye = None

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _check_dt(dt_s: Any) -> float:
        if isinstance(dt_s, (str, bytes)) or np.ndim(dt_s) != 0:
            raise TypeError(f"dt_s must be a real number of seconds, got {type(dt_s).__name__}")
        try:
            dt = float(dt_s)
        except (TypeError, ValueError):
            raise TypeError(
                f"dt_s must be a real number of seconds, got {type(dt_s).__name__}"
            ) from None
        if not math.isfinite(dt) or dt < 0:
            raise ValueError(f"dt_s must be finite and >= 0 seconds, got {dt_s!r}")
        return dt

    @staticmethod
    def _broadcast(g: np.ndarray, n: int) -> np.ndarray:
        if g.ndim == 2 and g.shape[0] != n:
            raise ValueError(f"gaze must have shape (2,) or ({n}, 2), got {g.shape}")
        return np.array(np.broadcast_to(g, (n, 2)), dtype=np.float64)

    def _emit(self, out: np.ndarray | None) -> np.ndarray:
        beta = min(max(self._phase, 0.0), 1.0)  # tolerance can leave phase at -1e-6
        head = self._prev + beta * (self._curr - self._prev)
        if out is None:
            out = np.empty(head.shape, dtype=np.float32)
        elif out.shape != head.shape or out.dtype != np.float32:
            raise ValueError(
                f"out must be float32 with shape {head.shape}, got {out.dtype} {out.shape}"
            )
        out[...] = head
        self._out = out
        self._eye = None
        return out

    def _require_started(self, name: str) -> None:
        if self._out is None:
            raise RuntimeError(f"RateAdapter.{name} is not available before the first update()")
