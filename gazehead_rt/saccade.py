"""Timing and shape of a scripted gaze shift, shared by the demo's and the portrait's gaze
scripts (docs/design.md §1 physiology)."""

from __future__ import annotations

import math


def saccade_duration_s(amplitude_rad: float) -> float:
    """Main sequence of human saccades, D ~ 21 ms + 2.2 ms/deg (Carpenter 1988); for the
    largest shifts this also stands in for the head-limited gaze shift."""
    return 0.021 + 0.0022 * math.degrees(amplitude_rad)


def minimum_jerk(s: float) -> float:
    """Share of a minimum-jerk movement done at normalised time ``s`` in [0, 1] (Flash &
    Hogan 1985): 0 at 0, 1 at 1, zero velocity and acceleration at both ends."""
    return s * s * s * (10 - 15 * s + 6 * s * s)
