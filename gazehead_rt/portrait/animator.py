"""PortraitAnimator: one photo in; per frame a head pose and an eye direction in; a frame out.

The head pose and eye direction are the product's (docs/design.md §2): radians, head
(pitch, yaw, roll) on the torso, eye (pitch, yaw) in the head; pitch up, yaw to the
subject's left, roll toward the right shoulder. Angles are relative to the photo: a head of
(0, 0, 0) is the photo's own pose.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..geometry import direction_from_pitch_yaw, head_rotation_matrix
from . import landmarks as lm
from .raster import GLRasterizer, GLUnavailableError, OpenCVRasterizer
from .rig import (
    B_TO_C,
    EYE_RADIUS_MM,
    LID_MARGIN,
    FaceRig,
    build_rig,
    doubled_areas,
    opening_polygon,
    polygon_mask,
)

#: Share of the lid gap below the landmark upper-lid line where the lid's shadow on the iris
#: ends (the iris itself is clipped at rig.LID_MARGIN).
LID_SHADOW = 0.35


@dataclass(frozen=True)
class RenderRange:
    """Where the 2.5D warp holds (docs/portrait.md): head angles are passed through up to
    ``knee`` x the limit and softly saturate toward the limit; eye angles are clipped.
    Radians."""

    head_limit: tuple[float, float, float] = (math.radians(20), math.radians(25), math.radians(20))
    knee: float = 0.6
    eye_limit: tuple[float, float] = (math.radians(30), math.radians(35))

    def head(self, head: np.ndarray) -> np.ndarray:
        h = np.asarray(head, np.float64)
        lim = np.asarray(self.head_limit)
        k = self.knee * lim
        a = np.abs(h)
        soft = k + (lim - k) * np.tanh((a - k) / (lim - k))
        return np.sign(h) * np.where(a <= k, a, soft)

    def eye(self, eye: np.ndarray) -> np.ndarray:
        lim = np.asarray(self.eye_limit)
        return np.clip(np.asarray(eye, np.float64), -lim, lim)


def _rotations_c(angles: np.ndarray) -> np.ndarray:
    """(..., 3) head angles -> (..., 3, 3) rotations acting on camera-frame vectors."""
    R = head_rotation_matrix(angles)
    return B_TO_C @ R @ B_TO_C.T


def _turn_c(photo_head: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Camera-frame rotations that take a face at ``photo_head`` to ``photo_head + delta``
    (delta (..., 3)): angles add in the head's own Euler angles, as a pose reader measures."""
    return _rotations_c(photo_head + delta) @ _rotations_c(photo_head).T


class PortraitAnimator:
    """A still face photo made to move: ``render(head, eye)`` -> RGB frame.

    >>> anim = PortraitAnimator("photo.jpg")            # doctest: +SKIP
    >>> frame = anim.render(head=(0.0, 0.2, 0.0), eye=(0.0, 0.3))

    photo: a path or an (H, W, 3) uint8 RGB array with one face, ideally frontal.
    size: output frames are size x size.
    backend: "opengl" (moderngl, headless), "opencv", or "auto" (OpenGL where a context can
        be created, else OpenCV; ``GAZEHEAD_PORTRAIT_BACKEND`` overrides "auto").
    zoom: crop side as a multiple of the face's size.
    """

    def __init__(
        self,
        photo: str | os.PathLike | np.ndarray,
        *,
        size: int = 512,
        backend: str = "auto",
        zoom: float = 2.2,
        render_range: RenderRange | None = None,
    ):
        if not isinstance(size, (int, np.integer)) or not 64 <= int(size) <= 4096:
            raise ValueError(f"size must be an integer in [64, 4096], got {size!r}")
        if backend not in ("auto", "opengl", "opencv"):
            raise ValueError(f"backend must be 'auto', 'opengl' or 'opencv', got {backend!r}")
        if not (isinstance(zoom, (int, float)) and 1.2 <= zoom <= 6.0):
            raise ValueError(f"zoom must be a number in [1.2, 6], got {zoom!r}")
        rgb = _read_photo(photo)
        pts = lm.detect_landmarks(rgb)
        self.rig: FaceRig = build_rig(rgb, pts, int(size), float(zoom))
        self.range = render_range or RenderRange()
        self.size = int(size)
        self._rasterizer = _make_rasterizer(backend, self.rig)
        self.backend = self._rasterizer.name
        self._cv2 = lm.import_cv2()

    # -- the picture ------------------------------------------------------------------------
    def render(self, head=(0.0, 0.0, 0.0), eye=(0.0, 0.0), blink: float = 0.0) -> np.ndarray:
        """(size, size, 3) uint8 RGB frame of the face at ``head`` (pitch, yaw, roll) with the
        eyes at ``eye`` (pitch, yaw) in the head, lids ``blink`` closed (0 open, 1 shut).
        Angles beyond :attr:`range` are softened (head) or clipped (eyes)."""
        head_r, eye_r = self.rendered_pose(head, eye)
        blink = float(blink)
        if not 0.0 <= blink <= 1.0:
            raise ValueError(f"blink must be in [0, 1], got {blink!r}")
        verts = self._deform(eye_r, blink)
        xy, depth = self._pose(verts, head_r)
        visible = self._visible(xy)
        frame = self._rasterizer.render(xy, depth, visible)
        frame = np.array(frame)  # writable
        R = _turn_c(self.rig.photo_head, head_r)
        for eye_rig in self.rig.eyes:
            self._draw_iris(frame, eye_rig, xy, R, eye_r)
            self._draw_lid(frame, eye_rig, xy, R)
        return frame

    def rendered_pose(self, head, eye) -> tuple[np.ndarray, np.ndarray]:
        """The head (3,) and eye (2,) actually drawn for a commanded head and eye (rad)."""
        h = np.asarray(head, np.float64).reshape(-1)
        e = np.asarray(eye, np.float64).reshape(-1)
        if h.shape != (3,) or not np.all(np.isfinite(h)):
            raise ValueError(
                f"head must be 3 finite angles (pitch, yaw, roll) in rad, got {head!r}"
            )
        if e.shape != (2,) or not np.all(np.isfinite(e)):
            raise ValueError(f"eye must be 2 finite angles (pitch, yaw) in rad, got {eye!r}")
        return self.range.head(h), self.range.eye(e)

    def close(self) -> None:
        self._rasterizer.close()

    def __enter__(self) -> PortraitAnimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- geometry ---------------------------------------------------------------------------
    def _deform(self, eye: np.ndarray, blink: float) -> np.ndarray:
        """Rest vertices with the lids moved: the upper lid follows the eye's pitch (and the
        lower lid a little, looking down), and closes onto the lower lid in a blink."""
        v = self.rig.rest_mm.copy()
        s = math.sin(float(eye[0]))
        for e in self.rig.eyes:
            n = len(e.upper)
            profile = np.sin(np.pi * np.arange(n) / (n - 1))  # corners stay
            up, lo = e.upper, e.lower
            dy_up = -0.85 * EYE_RADIUS_MM * s * profile  # camera y is down
            dy_lo = -0.3 * EYE_RADIUS_MM * min(s, 0.0) * profile
            v[up, 1] += dy_up
            v[lo, 1] += dy_lo
            if blink > 0.0:
                target = v[lo, 1] - 0.04 * (v[lo, 1] - v[up, 1])
                v[up, 1] += blink * (target - v[up, 1])
        return v

    def _pose(self, verts: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertices turned about the head pivot by their share of the head rotation, projected."""
        rig = self.rig
        R = _turn_c(rig.photo_head, rig.weight[:, None] * head[None, :])  # (V, 3, 3)
        p = np.einsum("vij,vj->vi", R, verts - rig.pivot_mm) + rig.pivot_mm
        return rig.project(p), p[:, 2]

    def _visible(self, xy: np.ndarray) -> np.ndarray:
        """Triangles to draw: all but the collapsed ones. A triangle that turns its back (the
        band beside the far cheek) is still drawn, behind the face: culling it would show the
        photo's own face edge through the gap."""
        return np.abs(doubled_areas(xy, self.rig.tris)) > 1e-3

    def _box(self, pts: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
        """Pixel box (x0, y0, x1, y1) around points, padded, inside the frame; None if empty."""
        x0, y0 = np.floor(pts.min(0)).astype(int) - pad
        x1, y1 = np.ceil(pts.max(0)).astype(int) + pad + 1
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(x1), self.size), min(int(y1), self.size)
        return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)

    def _draw_lid(self, frame, e, xy, R) -> None:
        """Where the upper lid has come down over the eye (a blink, or looking down), the
        stretched photo there is replaced by lid skin with the lash line at its margin."""
        cv2 = self._cv2
        rig = self.rig
        rest = (R @ (rig.rest_mm[e.upper] - rig.pivot_mm).T).T + rig.pivot_mm
        top = rig.project(rest)
        now = xy[e.upper]
        drop = now[:, 1] - top[:, 1]
        if drop.max() < 0.5:
            return
        sheet = np.concatenate([top, now[::-1]])
        box = self._box(sheet, 3)
        if box is None:
            return
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        mask = polygon_mask(sheet - (x0, y0), (h, w))
        lash = np.zeros((h, w), np.uint8)
        cv2.polylines(
            lash, [np.round((now - (x0, y0)) * 16).astype(np.int32)], False, 255, 2, cv2.LINE_AA, 4
        )
        # fade in over the first pixel of drop so a resting lid is left as the photo has it
        strength = float(np.clip(drop.max() - 0.5, 0.0, 1.0))
        a = cv2.GaussianBlur(mask, (0, 0), 0.8).astype(np.float32) / 255.0 * strength
        al = cv2.GaussianBlur(lash, (0, 0), 0.7).astype(np.float32) / 255.0 * strength
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        roi += a[..., None] * (e.lid_skin - roi)
        roi += al[..., None] * (e.lash - roi)
        frame[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)

    def _draw_iris(self, frame, e, xy, R, eye) -> None:
        """Iris and pupil at the eye's direction, turned with the head, clipped by the lids."""
        cv2 = self._cv2
        rig = self.rig
        d_b = direction_from_pitch_yaw(eye)
        d = B_TO_C @ head_rotation_matrix(rig.photo_head) @ d_b  # eye-in-head -> camera, at rest
        a = np.cross((0.0, -1.0, 0.0), d)
        a /= np.linalg.norm(a)
        b = np.cross(a, d)
        # an iris surface a little in front of the lid plane: the pupil never sinks behind
        # the lids, and the disc is seen foreshortened as it turns
        centre = e.centre_mm + EYE_RADIUS_MM * d
        ri = e.iris_radius_mm
        pts3 = np.stack([centre, centre + ri * a, centre + ri * b])
        pts3 = (R @ (pts3 - rig.pivot_mm).T).T + rig.pivot_mm
        p = rig.project(pts3)
        r = e.patch_radius_px
        P = e.patch.shape[0]
        c0 = (P - 1) / 2.0
        src = np.float32([[c0, c0], [c0 + r, c0], [c0, c0 + r]])
        A = cv2.getAffineTransform(src, p.astype(np.float32))
        lo, up = xy[e.lower], xy[e.upper]
        # the landmark lid line sits above the lid's visible margin: clip a little lower
        up_clip = up + LID_MARGIN * (lo - up)
        lid = opening_polygon(lo, up_clip)
        box = self._box(lid, 2)
        if box is None:
            return
        x0, y0, x1, y1 = box
        A[:, 2] -= (x0, y0)
        w, h = x1 - x0, y1 - y0
        iris = cv2.warpAffine(e.patch, A, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
        mask = polygon_mask(lid - (x0, y0), (h, w))
        # the upper lid's shadow on the iris: darker just under the lid margin
        up_lit = up + LID_SHADOW * (lo - up)
        lit = polygon_mask(opening_polygon(lo, up_lit) - (x0, y0), (h, w))
        lit = cv2.GaussianBlur(lit, (0, 0), 1.0).astype(np.float32) / 255.0
        iris[..., :3] *= (0.6 + 0.4 * lit)[..., None]
        alpha = iris[..., 3] * (mask.astype(np.float32) / 255.0)
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        roi += alpha[..., None] * (iris[..., :3] - roi)
        frame[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)


#: Largest photo decoded (pixels): 64 MP (8192 x 8192) is ~200 MB as RGB; the face mesh runs
#: on a downscaled copy anyway. Checked from the file's header before decoding.
MAX_PHOTO_PIXELS = 1 << 26


def _header_size(path: str) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR or a JPEG's SOF marker, read without decoding; None
    for other formats (OpenCV's own pixel cap applies to them)."""
    with open(path, "rb") as f:
        head = f.read(32)
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if head[:2] != b"\xff\xd8":
            return None
        f.seek(2)
        while True:  # JPEG segments up to the first start-of-frame
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return None
            if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
                continue  # standalone markers have no length
            seg = f.read(2)
            if len(seg) < 2:
                return None
            n = int.from_bytes(seg, "big")
            if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
                sof = f.read(5)
                if len(sof) < 5:
                    return None
                return int.from_bytes(sof[3:5], "big"), int.from_bytes(sof[1:3], "big")
            f.seek(n - 2, os.SEEK_CUR)


def _read_photo(photo) -> np.ndarray:
    if isinstance(photo, np.ndarray):
        a = photo
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"photo array must be (H, W, 3) uint8 RGB, got {a.dtype} {a.shape}")
        return np.ascontiguousarray(a)
    cv2 = lm.import_cv2()
    path = os.fspath(photo)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such photo")
    size = _header_size(path)
    if size is not None and size[0] * size[1] > MAX_PHOTO_PIXELS:
        raise ValueError(
            f"{path}: the photo is {size[0]} x {size[1]} pixels, over the {MAX_PHOTO_PIXELS} "
            "pixel cap (downscale it first)"
        )
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: not an image OpenCV can read")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _make_rasterizer(backend: str, rig: FaceRig):
    if backend == "auto":
        backend = os.environ.get("GAZEHEAD_PORTRAIT_BACKEND", "auto") or "auto"
        if backend not in ("auto", "opengl", "opencv"):
            raise ValueError(
                f"GAZEHEAD_PORTRAIT_BACKEND={backend!r}: expected 'auto', 'opengl' or 'opencv'"
            )
    if backend in ("auto", "opengl"):
        try:
            return GLRasterizer(rig.texture, rig.uv, rig.tris)
        except GLUnavailableError:
            if backend == "opengl":
                raise
    return OpenCVRasterizer(rig.texture, rig.uv, rig.tris)
