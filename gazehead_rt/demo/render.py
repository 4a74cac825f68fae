"""A tiny numpy ray caster for the demo: a stylized head with eyes on a torso.

Not a public API. Everything is an ellipsoid (skull, nose, ears, eyes, neck, torso, the
gaze target), intersected analytically per pixel, so a frame costs a few milliseconds on
one core with no GPU, no OpenGL context and no display: the demo runs on CI machines.

Coordinates are the body frame B of docs/design.md §2 in metres, origin at the neck pivot (the head
rotates about it). The head's local frame is B rotated by the head pose R(pitch, yaw, roll).
Cost control: the static torso and background are rendered once; per frame each moving
part is ray cast only over the pixels of its own projected bounding sphere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..geometry import direction_from_pitch_yaw, head_rotation_matrix

# Stylized proportions (metres). The eyes are ~1.4x life size so their direction reads at
# the demo's resolution.
SKULL_CENTER = np.array([0.0, 0.0, 0.12])
SKULL_AXES = np.array([0.100, 0.080, 0.118])
EYE_RADIUS_M = 0.0165
EYE_CENTERS = np.array([[0.080, 0.036, 0.138], [0.080, -0.036, 0.138]])  # left, right
EYE_MID = EYE_CENTERS.mean(axis=0)
#: The pivot-to-eye offset used by the demo's look-at (the rest position of the eye midpoint).
EYE_MID_REST_M = EYE_MID.copy()

SKIN = np.array([0.93, 0.76, 0.63])
HAIR = np.array([0.30, 0.20, 0.14])
LIP = np.array([0.72, 0.38, 0.36])
SCLERA = np.array([0.97, 0.97, 0.95])
PUPIL = np.array([0.05, 0.05, 0.06])
TARGET = np.array([0.92, 0.16, 0.10])
LIGHT_DIR = np.array([0.55, -0.35, 0.76]) / np.linalg.norm([0.55, -0.35, 0.76])

Shader = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (unit-sphere point, normal) -> rgb


@dataclass
class Ellipsoid:
    """An ellipsoid in world coordinates with a shader over its unit-sphere point."""

    center: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3) columns = local axes in world
    axes: np.ndarray  # (3,) semi-axes, metres
    shader: Shader
    shininess: float = 0.0  # 0 = matte; specular strength for the eyes' wet look


def _flat(color: np.ndarray) -> Shader:
    return lambda u, n: np.broadcast_to(color, u.shape)


def _skull_shader(u: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Skin with hair, brows and a mouth painted by position on the unit sphere."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    c = np.broadcast_to(SKIN, u.shape).copy()
    hair = (z > 0.62 - 0.1 * x) | ((x < -0.1) & (z > -0.45)) | ((x < 0.3) & (z > 0.3))
    brows = (x > 0.55) & (np.abs(z - 0.40) < 0.05) & (np.abs(np.abs(y) - 0.42) < 0.17)
    mouth = (x > 0.7) & (np.abs(z + 0.45) < 0.05) & (np.abs(y) < 0.28)
    c[hair | brows] = HAIR
    c[mouth] = LIP
    return c


def _eye_shader(iris: np.ndarray) -> Shader:
    def shade(u: np.ndarray, n: np.ndarray) -> np.ndarray:
        c = np.broadcast_to(SCLERA, u.shape).copy()
        ax = u[:, 0]  # cosine of the angle to the eye's line of sight (local +x)
        c[ax > np.cos(np.radians(34))] = iris
        c[ax > np.cos(np.radians(16))] = PUPIL
        return c

    return shade


def _eyes2(eye: np.ndarray) -> np.ndarray:
    """(2,) both eyes alike, or (2, 2) left and right eye (pitch, yaw) -> (2, 2)."""
    return np.broadcast_to(np.asarray(eye, dtype=np.float64), (2, 2))


def head_parts(head: np.ndarray, eye: np.ndarray, iris: np.ndarray) -> list[Ellipsoid]:
    """The moving parts for head (pitch, yaw, roll) and eye-in-head (pitch, yaw) radians,
    (2,) for both eyes or (2, 2) for the left and the right eye."""
    R = head_rotation_matrix(head)
    eyes = _eyes2(eye)
    parts = [
        Ellipsoid(R @ SKULL_CENTER, R, SKULL_AXES, _skull_shader),
        Ellipsoid(
            R @ np.array([0.104, 0.0, 0.102]),
            R,
            np.array([0.026, 0.015, 0.024]),
            _flat(SKIN * 0.97),
        ),
    ]
    for side in (1.0, -1.0):
        parts.append(
            Ellipsoid(
                R @ np.array([0.0, side * 0.079, 0.118]),
                R,
                np.array([0.016, 0.011, 0.03]),
                _flat(SKIN * 0.92),
            )
        )
    for c, e in zip(EYE_CENTERS, eyes):
        R_eye = R @ head_rotation_matrix(np.array([e[0], e[1], 0.0]))
        parts.append(
            Ellipsoid(R @ c, R_eye, np.full(3, EYE_RADIUS_M), _eye_shader(iris), shininess=0.5)
        )
    return parts


def body_parts(shirt: np.ndarray) -> list[Ellipsoid]:
    """The static parts: neck and torso (they do not move with the head)."""
    upright = np.eye(3)
    return [
        Ellipsoid(
            np.array([-0.01, 0.0, -0.03]),
            upright,
            np.array([0.048, 0.045, 0.08]),
            _flat(SKIN * 0.9),
        ),
        Ellipsoid(
            np.array([-0.03, 0.0, -0.29]), upright, np.array([0.12, 0.21, 0.19]), _flat(shirt)
        ),
    ]


class Camera:
    """Pinhole camera: per-pixel unit ray directions (H, W, 3) from ``position``."""

    def __init__(self, width: int, height: int, position, look_at, vfov_deg: float):
        self.width, self.height = int(width), int(height)
        self.position = np.asarray(position, dtype=np.float64)
        fwd = np.asarray(look_at, dtype=np.float64) - self.position
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        self.axes = np.stack([right, up, fwd])  # rows
        self.focal_px = 0.5 * self.height / np.tan(np.radians(vfov_deg) / 2)
        xs = np.arange(self.width) + 0.5 - self.width / 2
        ys = self.height / 2 - (np.arange(self.height) + 0.5)
        d = xs[None, :, None] * right + ys[:, None, None] * up + self.focal_px * fwd
        self.rays = d / np.linalg.norm(d, axis=-1, keepdims=True)

    def project(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) -> pixel (x, y) (..., 2) and depth along the view axis."""
        c = (np.asarray(p) - self.position) @ self.axes.T
        z = c[..., 2]
        px = np.stack(
            [
                self.width / 2 + self.focal_px * c[..., 0] / z,
                self.height / 2 - self.focal_px * c[..., 1] / z,
            ],
            -1,
        )
        return px, z

    def bounds(self, center: np.ndarray, radius: float) -> tuple[slice, slice] | None:
        """Pixel rectangle covering a sphere (conservative), or None if off screen."""
        (x, y), z = self.project(center)
        if z <= radius:
            return None
        r = self.focal_px * radius / np.sqrt(max(z * z - radius * radius, 1e-12)) + 2
        x0, x1 = int(max(0, np.floor(x - r))), int(min(self.width, np.ceil(x + r)))
        y0, y1 = int(max(0, np.floor(y - r))), int(min(self.height, np.ceil(y + r)))
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)


def _cast(
    rays: np.ndarray,
    origin: np.ndarray,
    parts: list[Ellipsoid],
    color: np.ndarray,
    depth: np.ndarray,
) -> None:
    """Ray cast ``parts`` for rays (M, 3); z-test and shade into color (M, 3), depth (M,)."""
    for e in parts:
        A = e.rotation.T / e.axes[:, None]  # world -> unit-sphere coordinates
        o = A @ (origin - e.center)
        d = rays @ A.T
        a = np.einsum("ij,ij->i", d, d)
        b = 2.0 * (d @ o)
        c = o @ o - 1.0
        disc = b * b - 4 * a * c
        hit = disc > 0
        if not hit.any():
            continue
        t = np.full(len(rays), np.inf)
        t[hit] = (-b[hit] - np.sqrt(disc[hit])) / (2 * a[hit])
        closer = hit & (t > 0) & (t < depth)
        if not closer.any():
            continue
        u = o + t[closer, None] * d[closer]  # unit-sphere point
        n = (u / e.axes) @ e.rotation.T  # normal: gradient of the implicit form, to world
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        base = e.shader(u, n)
        lam = np.clip(n @ LIGHT_DIR, 0.0, 1.0)
        shade = base * (0.38 + 0.62 * lam[:, None])
        if e.shininess:
            view = -rays[closer]
            h = LIGHT_DIR + view
            h /= np.linalg.norm(h, axis=1, keepdims=True)
            spec = e.shininess * np.clip(np.einsum("ij,ij->i", n, h), 0, 1) ** 60
            shade = shade + spec[:, None]
        color[closer] = shade
        depth[closer] = t[closer]


class HeadRenderer:
    """Renders the head panel: background and torso cached, head and target per frame."""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        shirt=(0.30, 0.45, 0.66),
        iris=(0.25, 0.45, 0.70),
        camera_position=(1.95, -1.05, 0.32),
        look_at=(0.05, 0.0, 0.07),
        vfov_deg: float = 19.0,
    ):
        self.camera = Camera(width, height, camera_position, look_at, vfov_deg)
        self.iris = np.asarray(iris, dtype=np.float64)
        H, W = self.camera.height, self.camera.width
        # soft vertical gradient background
        g = np.linspace(0.0, 1.0, H)[:, None, None]
        self._bg = np.array([0.94, 0.95, 0.97]) * (1 - g) + np.array([0.80, 0.83, 0.88]) * g
        self._bg = np.broadcast_to(self._bg, (H, W, 3)).copy()
        self._bg_depth = np.full((H, W), np.inf)
        flat_rays = self.camera.rays.reshape(-1, 3)
        col = self._bg.reshape(-1, 3)
        dep = self._bg_depth.reshape(-1)
        _cast(flat_rays, self.camera.position, body_parts(np.asarray(shirt)), col, dep)

    def render(
        self,
        head: np.ndarray,
        eye: np.ndarray,
        target_xyz: np.ndarray | None = None,
        *,
        target_radius_m: float = 0.014,
    ) -> np.ndarray:
        """(H, W, 3) uint8 image of head pose ``head`` (3,) with eyes at ``eye`` ((2,) or
        (2, 2) per eye) and a
        gaze target ball at ``target_xyz`` (3,) in B (None: no target)."""
        cam = self.camera
        color = self._bg.copy()
        depth = self._bg_depth.copy()
        R = head_rotation_matrix(head)
        parts = head_parts(head, eye, self.iris)
        if target_xyz is not None:
            t = np.asarray(target_xyz, dtype=np.float64)
            parts.append(
                Ellipsoid(t, np.eye(3), np.full(3, target_radius_m), _flat(TARGET), shininess=0.4)
            )
        for part in parts:  # each part only over its own screen rectangle
            box = cam.bounds(part.center, float(part.axes.max()))
            if box is None:
                continue
            shape = color[box].shape
            c = color[box].reshape(-1, 3)
            d = depth[box].reshape(-1)
            _cast(cam.rays[box].reshape(-1, 3), cam.position, [part], c, d)
            color[box] = c.reshape(shape)
            depth[box] = d.reshape(shape[:2])
        if target_xyz is not None:
            self._gaze_lines(color, depth, R, eye, np.asarray(target_xyz, dtype=np.float64))
        return (np.clip(color, 0, 1) * 255 + 0.5).astype(np.uint8)

    def _gaze_lines(self, color, depth, R, eye, target) -> None:
        """Thin lines from each pupil along the eye's line of sight, z-tested, so the
        viewer sees where the eyes point (their length reaches the target's distance)."""
        cam = self.camera
        for c, e in zip(EYE_CENTERS, _eyes2(eye)):
            d_eye = R @ direction_from_pitch_yaw(e)
            start = R @ c + d_eye * EYE_RADIUS_M
            length = np.linalg.norm(target - start)
            s = np.linspace(0.0, length, 400)[:, None]
            pts = start + s * d_eye
            px, _ = cam.project(pts)
            dist = np.linalg.norm(pts - cam.position, axis=1)
            xi, yi = np.round(px[:, 0]).astype(int), np.round(px[:, 1]).astype(int)
            ok = (xi >= 0) & (xi < cam.width) & (yi >= 0) & (yi < cam.height)
            xi, yi, dist = xi[ok], yi[ok], dist[ok]
            visible = dist <= depth[yi, xi] + 1e-4
            xi, yi = xi[visible], yi[visible]
            color[yi, xi] = 0.55 * color[yi, xi] + 0.45 * TARGET
