"""Robot head limits: angle, velocity and acceleration per axis; the eyes take the rest.

A robot neck cannot follow a human head trajectory everywhere: its joints have ranges, and
its motors a top speed and torque (an acceleration limit). :class:`HeadLimiter` sits between
the generator and the motors. Each control tick it moves the commanded head toward the
generated one as fast as the limits allow, recomputes the eye-in-head angles so the gaze is
still reached with the eyes where their range allows, and flags agents whose target cannot
be reached at all.

Guarantees (tested over 10,000 ticks of random targets and random dt): with
``v_k = (head_k - head_{k-1}) / dt_k`` and ``acc_k = (v_k - v_{k-1}) / dt_k``,

* ``angle_min_rad <= head_k <= angle_max_rad``,
* ``|v_k| <= velocity_max_rad_s``, ``|acc_k| <= acceleration_max_rad_s2`` (per axis),

up to float64 rounding (~1e-12 relative), from a start at rest inside the range. The angle
and acceleration limits can both hold only if the head brakes before a joint end: the
velocity toward a limit (and toward the target, so it does not overshoot) is capped at the
speed from which a full-deceleration stop, taken in steps of the current dt, ends exactly
there: ``v <= 2d / (dt + sqrt(dt^2 + 2d/a))`` for a distance d. This cap never conflicts with
the acceleration limit whatever the next dt (see ``_stop_speed``).

Angles are treated as joint angles: no wrapping (a yaw of +3.1 and -3.1 rad are 6.2 rad
apart, as for a real pan joint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from .geometry import angular_distance, eye_from_gaze_head, gaze_from_head_eye

__all__ = ["HeadLimits", "HeadLimiter", "LimitedPose"]


def _deg3(*v: float) -> np.ndarray:
    return np.radians(np.array(v, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class HeadLimits:
    """Per-axis limits, order (pitch, yaw, roll) for the head and (pitch, yaw) for the eyes.

    The defaults describe a human-scale robot neck (tilt -30..+35 deg, pan +-80 deg, roll
    +-20 deg, 180 deg/s, 1,200 deg/s^2; humans reach ~300-400 deg/s in large gaze shifts)
    and the human eye range of docs/design.md §1 (+-50 deg). They are illustrative: take yours from
    the actuator datasheet. ``inf`` disables a velocity or acceleration limit.
    """

    angle_min_rad: np.ndarray = field(default_factory=lambda: _deg3(-30.0, -80.0, -20.0))
    angle_max_rad: np.ndarray = field(default_factory=lambda: _deg3(35.0, 80.0, 20.0))
    velocity_max_rad_s: np.ndarray = field(default_factory=lambda: _deg3(180.0, 180.0, 90.0))
    acceleration_max_rad_s2: np.ndarray = field(
        default_factory=lambda: _deg3(1200.0, 1200.0, 600.0)
    )
    eye_range_rad: np.ndarray = field(default_factory=lambda: _deg3(50.0, 50.0))

    def __post_init__(self) -> None:
        sizes = {
            "angle_min_rad": 3,
            "angle_max_rad": 3,
            "velocity_max_rad_s": 3,
            "acceleration_max_rad_s2": 3,
            "eye_range_rad": 2,
        }
        for name, n in sizes.items():
            a = np.array(np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (n,)))
            if np.isnan(a).any():
                raise ValueError(f"HeadLimits.{name} must not contain NaN, got {a}")
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if not np.all(np.isfinite(self.angle_min_rad) & np.isfinite(self.angle_max_rad)):
            raise ValueError("HeadLimits angles must be finite (use +-pi for a free joint)")
        if np.any(self.angle_min_rad > 0) or np.any(self.angle_max_rad < 0):
            # the neutral pose must be reachable: it is where limiters start and reset
            raise ValueError(
                f"HeadLimits must contain the neutral pose 0: angle_min_rad="
                f"{self.angle_min_rad}, angle_max_rad={self.angle_max_rad}"
            )
        for name in ("velocity_max_rad_s", "acceleration_max_rad_s2", "eye_range_rad"):
            if np.any(getattr(self, name) <= 0):
                raise ValueError(f"HeadLimits.{name} must be > 0, got {getattr(self, name)}")


class LimitedPose(NamedTuple):
    """Result of one :meth:`HeadLimiter.apply` tick, agent-major."""

    head: np.ndarray  # (N, 3) float64 commanded head (pitch, yaw, roll), radians
    eye: np.ndarray  # (N, 2) float64 eye-in-head, clipped to the eye range, radians
    unreachable: np.ndarray  # (N,) bool: the gaze is out of reach even at the joint limits
    eye_saturated: np.ndarray  # (N,) bool: the eyes are at their range this tick
    gaze_error_rad: np.ndarray  # (N,) float64 angle between the wanted and achieved gaze


def _stop_speed(d: np.ndarray, a: np.ndarray, dt: float) -> np.ndarray:
    """Highest speed from which braking at ``a`` in steps of ``dt`` stops within ``d`` >= 0.

    It solves ``v*dt + v^2/(2a) = d``: move one step at v, then brake. A discrete stop from v
    covers at most v^2/(2a) (a right Riemann sum of the continuous ramp), so the cap is safe.
    Written as 2d / (dt + sqrt(dt^2 + 2d/a)) rather than -a*dt + sqrt(a^2 dt^2 + 2ad): the
    same value without cancellation for small d, and d/dt for a = inf.
    Whatever the next dt', a speed v under the cap leaves v - a*dt' under the next cap,
    because (v - a dt')^2/(2a) + (v - a dt') dt' = v^2/(2a) - a dt'^2/2 <= d - v dt.
    """
    return 2.0 * d / (dt + np.sqrt(dt * dt + 2.0 * d / a))


class HeadLimiter:
    """Apply :class:`HeadLimits` to a stream of head poses for N agents (vectorized numpy).

    Args:
        limits: the limits (default :class:`HeadLimits`()).
        on_unreachable: optional ``callback(agents, pose)`` called when agents *become*
            unreachable (rising edge, so a 100 Hz loop is not flooded): ``agents`` is an
            int array of their indices, ``pose`` the :class:`LimitedPose` of that tick.

    The first :meth:`apply` (or one after :meth:`reset` without a head) starts each agent
    at rest at its target clipped into the angle range; call ``reset(head=measured)`` to
    start from the robot's measured pose instead. Not thread-safe.
    """

    def __init__(
        self,
        limits: HeadLimits | None = None,
        *,
        on_unreachable: Callable[[np.ndarray, LimitedPose], Any] | None = None,
    ):
        self.limits = limits if limits is not None else HeadLimits()
        self.on_unreachable = on_unreachable
        self._head: np.ndarray | None = None  # (N, 3)
        self._vel: np.ndarray | None = None  # (N, 3)
        self._fresh: np.ndarray | None = None  # (N,) bool: start at the next target
        self._unreachable: np.ndarray | None = None  # (N,) bool, last tick

    @property
    def head(self) -> np.ndarray | None:
        """(N, 3) commanded head after the last tick (None before the first)."""
        return None if self._head is None else self._head.copy()

    @property
    def velocity_rad_s(self) -> np.ndarray | None:
        """(N, 3) commanded head velocity of the last tick."""
        return None if self._vel is None else self._vel.copy()

    def reset(self, head: np.ndarray | None = None, agents: Any = None) -> None:
        """Start agents over at rest: at ``head`` ((N, 3), (3,), or one row per agent in
        ``agents``; clipped into range) or, with ``head=None``, at their next target."""
        lim = self.limits
        if agents is None:
            if head is None:
                self._head = self._vel = self._fresh = self._unreachable = None
                return
            h = np.array(np.atleast_2d(np.asarray(head, dtype=np.float64)))
            if h.shape[-1] != 3:
                raise ValueError(f"head must have shape (3,) or (N, 3), got {h.shape}")
            self._head = np.clip(h, lim.angle_min_rad, lim.angle_max_rad)
            self._vel = np.zeros_like(self._head)
            self._fresh = np.zeros(len(h), dtype=bool)
            self._unreachable = np.zeros(len(h), dtype=bool)
            return
        if self._head is None:
            raise RuntimeError(
                "HeadLimiter.reset(agents=...) needs the agent count: call "
                "apply() or reset(head=...) for all agents first"
            )
        idx = np.asarray(agents, dtype=np.int64)
        self._vel[idx] = 0.0
        self._unreachable[idx] = False
        if head is None:
            self._fresh[idx] = True
        else:
            self._head[idx] = np.clip(
                np.asarray(head, dtype=np.float64), lim.angle_min_rad, lim.angle_max_rad
            )

    def apply(self, head_target: np.ndarray, gaze: np.ndarray, dt_s: float) -> LimitedPose:
        """One control tick of ``dt_s`` seconds (finite, > 0).

        head_target: (N, 3) wanted head (e.g. ``Generator.step`` output), radians.
        gaze: (2,) or (N, 2) wanted gaze in the body frame, radians.
        Returns the :class:`LimitedPose` to command.
        """
        dt = self._check_dt(dt_s)
        tgt = np.asarray(head_target, dtype=np.float64)
        if tgt.ndim != 2 or tgt.shape[1] != 3:
            raise ValueError(f"head_target must have shape (N, 3), got {tgt.shape}")
        n = tgt.shape[0]
        g = np.asarray(gaze, dtype=np.float64)
        if g.shape not in ((2,), (n, 2)):
            raise ValueError(f"gaze must have shape (2,) or ({n}, 2), got {g.shape}")
        g = np.broadcast_to(g, (n, 2))
        for name, arr in (("head_target", tgt), ("gaze", g)):
            bad = ~np.all(np.isfinite(arr), axis=1)
            if bad.any():
                raise ValueError(f"{name} is not finite for agent {int(np.argmax(bad))}")
        lim = self.limits
        lo, hi = lim.angle_min_rad, lim.angle_max_rad
        if self._head is None:
            self.reset(head=tgt)
        elif self._head.shape[0] != n:
            raise ValueError(
                f"head_target has {n} agents, this limiter tracks "
                f"{self._head.shape[0]} (reset() to change)"
            )
        if self._fresh.any():
            f = self._fresh
            self._head[f] = np.clip(tgt[f], lo, hi)
            self._vel[f] = 0.0
            f[:] = False

        p, v = self._head, self._vel
        a, vmax = lim.acceleration_max_rad_s2, lim.velocity_max_rad_s
        goal = np.clip(tgt, lo, hi)
        e = goal - p
        # toward the goal as fast as possible while still able to stop on it
        v_des = np.sign(e) * _stop_speed(np.abs(e), a, dt)
        v_lo = np.maximum(
            np.maximum(v - a * dt, -vmax), -_stop_speed(np.maximum(p - lo, 0.0), a, dt)
        )
        v_hi = np.minimum(np.minimum(v + a * dt, vmax), _stop_speed(np.maximum(hi - p, 0.0), a, dt))
        # v_lo <= v_hi holds from any state this class produces (see _stop_speed); if rounding
        # ever breaks it, the acceleration bound wins (the joint-range clip below still holds)
        infeasible = v_lo > v_hi
        v_new = np.where(
            infeasible,
            np.clip(v_des, v - a * dt, v + a * dt),
            np.clip(v_des, v_lo, np.maximum(v_lo, v_hi)),
        )
        p_new = np.clip(p + v_new * dt, lo, hi)
        self._vel = (p_new - p) / dt  # the velocity actually commanded
        self._head = p_new

        eye_raw = eye_from_gaze_head(g, p_new)
        r = lim.eye_range_rad
        eye = np.clip(eye_raw, -r, r)
        saturated = np.any(np.abs(eye_raw) > r, axis=1)
        achieved = gaze_from_head_eye(p_new, eye)
        err = np.where(saturated, angular_distance(g, achieved), 0.0)
        unreachable = self._out_of_reach(g)
        pose = LimitedPose(p_new.copy(), eye, unreachable, saturated, err)
        rising = unreachable & ~self._unreachable
        self._unreachable = unreachable
        if self.on_unreachable is not None and rising.any():
            self.on_unreachable(np.flatnonzero(rising), pose)
        return pose

    def _out_of_reach(self, gaze: np.ndarray) -> np.ndarray:
        """(N,) True where no head inside the angle limits brings the gaze into eye range.

        Tested at the head pose closest to facing the gaze: pitch and yaw clipped into
        range, roll clipped 0. For yaw alone this is exact; with pitch too it can err near
        the corner of the ranges by the small pitch-yaw coupling of the eye angles.
        """
        lim = self.limits
        best = np.stack([gaze[:, 0], gaze[:, 1], np.zeros(len(gaze))], axis=1)
        best = np.clip(best, lim.angle_min_rad, lim.angle_max_rad)
        eye = eye_from_gaze_head(gaze, best)
        # 1e-9 rad: a target exactly at the reach boundary counts as reachable
        return np.any(np.abs(eye) > lim.eye_range_rad + 1e-9, axis=1)

    @staticmethod
    def _check_dt(dt_s: Any) -> float:
        if isinstance(dt_s, (str, bytes)) or np.ndim(dt_s) != 0:
            raise TypeError(f"dt_s must be a real number of seconds, got {type(dt_s).__name__}")
        dt = float(dt_s)
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt_s must be finite and > 0 seconds, got {dt_s!r}")
        return dt
