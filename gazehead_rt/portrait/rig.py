"""The textured face rig built once from a photo: a 2.5D mesh, its texture and the eyes.

Camera frame C (OpenCV): x right, y down, z away from the camera; millimetres. The output
camera is the one the product's extraction assumes (docs/extraction.md): a pinhole with
focal length = image size, principal point at the centre. The photo, cropped square around
the face and resized, is taken to be that camera's view of the face at rest.

Vertices:

* the 468 face-mesh points, lifted to 3D with MediaPipe's relative depth; they turn with
  the head (weight 1);
* a ring outside the face silhouette (hair, ears, the jaw's underside) that turns with the
  head, less so under the chin, where it becomes the neck;
* a second, wider ring that barely turns (the neck and the shoulders' edge bend into the
  background), and points on the image border that stay put.

The mesh is a Delaunay triangulation of all of them in the photo. The weight scales the
head rotation per vertex, so the layers between head and background stretch smoothly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..geometry import head_from_rotation_matrix
from . import landmarks as lm

#: Outer eye corners of an average adult are about 90 mm apart; this sets the scale.
OUTER_CORNER_DISTANCE_MM = 90.0
#: Eyeball radius (adult axial length ~24 mm).
EYE_RADIUS_MM = 12.0
#: Share of the lid gap between the landmark upper-lid line and the lid's visible margin (the
#: landmark line sits a little above it): the iris is clipped, and painted out, below it.
LID_MARGIN = 0.15
#: Head rotation centre relative to the midpoint between the eyes, C frame (mm): behind the
#: eyes and below them, near the upper cervical joints.
PIVOT_FROM_EYES_MM = (0.0, 45.0, 95.0)

# C <- B: body x forward (toward the camera), y left (image right), z up (image up).
B_TO_C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])


@dataclass
class EyeRig:
    """One eye: lid contour vertices, the iris patch and the eyeball."""

    lower: np.ndarray  # (9,) vertex ids, corner to corner
    upper: np.ndarray  # (9,) vertex ids, same corners, same order
    centre_mm: np.ndarray  # (3,) eyeball centre at rest, C
    iris_radius_mm: float
    patch: np.ndarray  # (P, P, 4) float32 RGBA iris and pupil, centred; alpha is the disc
    patch_radius_px: float  # iris radius in patch pixels
    lid_skin: np.ndarray  # (3,) float32 RGB of the upper lid's skin (for the closed lid)
    lash: np.ndarray  # (3,) float32 RGB of the lash line


@dataclass
class FaceRig:
    size: int  # output and texture are size x size
    texture: np.ndarray  # (size, size, 3) uint8 RGB: the photo crop with the irises painted out
    photo: np.ndarray  # (size, size, 3) uint8 RGB: the photo crop as it was
    uv: np.ndarray  # (V, 2) float32 texture pixel of each vertex
    rest_mm: np.ndarray  # (V, 3) float64 vertex at rest, C
    weight: np.ndarray  # (V,) share of the head rotation each vertex follows
    tris: np.ndarray  # (T, 3) int32, counter-clockwise in the image at rest
    focal_px: float
    pivot_mm: np.ndarray  # (3,)
    mm_per_px: float  # at the face's distance
    eyes: tuple[EyeRig, EyeRig]  # subject's right, left
    photo_head: np.ndarray  # (3,) the photo's own head (pitch, yaw, roll), rad, from the mesh
    landmarks: np.ndarray  # (478, 3) pixel landmarks in the crop

    def project(self, pts_mm: np.ndarray) -> np.ndarray:
        """(..., 3) C points -> (..., 2) pixel coordinates (pixel centres at integers)."""
        c = (self.size - 1) / 2.0
        z = pts_mm[..., 2]
        return np.stack(
            [c + self.focal_px * pts_mm[..., 0] / z, c + self.focal_px * pts_mm[..., 1] / z],
            axis=-1,
        )


def crop_to_face(
    rgb: np.ndarray, pts: np.ndarray, size: int, zoom: float
) -> tuple[np.ndarray, np.ndarray]:
    """Square crop of ``zoom`` x the face's size around it (edges replicated where the photo
    ends), resized to ``size``; returns the crop and the landmarks in it."""
    cv2 = lm.import_cv2()
    oval = pts[list(lm.FACE_OVAL), :2]
    lo, hi = oval.min(0), oval.max(0)
    extent = float(max(hi - lo))
    h, w = rgb.shape[:2]
    # as large as asked, but no larger than the photo (edges are replicated only when even
    # the whole photo is narrower than the face needs), shifted to stay inside it
    side = max(8.0, min(zoom * extent, float(min(h, w))), 1.3 * extent)
    cx, cy = (lo + hi) / 2.0
    cy -= 0.08 * extent  # a little more hair than chin
    s = round(side)
    x0 = round(min(max(cx - side / 2, 0.0), w - s)) if s <= w else round(cx - side / 2)
    y0 = round(min(max(cy - side / 2, 0.0), h - s)) if s <= h else round(cy - side / 2)
    pad = max(0, -x0, -y0, x0 + s - w, y0 + s - h)
    src = rgb
    if pad:
        src = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = src[y0 + pad : y0 + pad + s, x0 + pad : x0 + pad + s]
    k = size / s
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
    out = cv2.resize(crop, (size, size), interpolation=interp)
    p = pts.copy()
    p[:, 0] = (p[:, 0] - x0 + 0.5) * k - 0.5
    p[:, 1] = (p[:, 1] - y0 + 0.5) * k - 0.5
    p[:, 2] *= k
    return out, p


def doubled_areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """(T,) twice the signed image area of each triangle (positive counter-clockwise)."""
    a, b, c = (points[tris[:, k]] for k in range(3))
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def opening_polygon(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The eye opening as one polygon: the lower lid corner to corner, then the upper lid
    back (the two contours share their corners)."""
    return np.concatenate([lower, upper[::-1][1:-1]])


def polygon_mask(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask (255 inside, anti-aliased edge) of a sub-pixel polygon."""
    cv2 = lm.import_cv2()
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return mask


def _ccw(tris: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Triangles re-ordered counter-clockwise in the image; collapsed ones dropped."""
    tris = tris.copy()
    cross = doubled_areas(points, tris)
    tris[cross < 0] = tris[cross < 0][:, [0, 2, 1]]
    return tris[np.abs(cross) > 1e-6]


def _delaunay(points: np.ndarray, size: int) -> np.ndarray:
    """Delaunay triangles of (N, 2) distinct points."""
    cv2 = lm.import_cv2()
    margin = 4
    sub = cv2.Subdiv2D((-margin, -margin, size + 2 * margin, size + 2 * margin))
    sub.insert([(float(x), float(y)) for x, y in points])
    corners = sub.getTriangleList().reshape(-1, 3, 2).astype(np.float64)
    # back to point ids: Subdiv2D returns coordinates (float32); triangles on its virtual outer
    # vertices match no point and are dropped
    d = np.linalg.norm(corners[:, :, None, :] - points[None, None, :, :], axis=-1)  # (T, 3, N)
    keep = (d.min(-1) < 1e-2).all(1)
    return d.argmin(-1)[keep].astype(np.int32)


def _triangulate(verts_px: np.ndarray, num_face: int, size: int) -> np.ndarray:
    """The face by MediaPipe's own tessellation (a surface, so the side of the face folds
    as a surface does); the layers outside it by a Delaunay triangulation of the face's
    silhouette, the rings and the border, less what falls inside the silhouette."""
    cv2 = lm.import_cv2()
    face = lm.face_triangles()
    oval = np.array(lm.FACE_OVAL)
    outer_ids = np.concatenate([oval, np.arange(num_face, len(verts_px))])
    outer = _delaunay(verts_px[outer_ids, :2], size)
    outer = outer_ids[outer]
    centroid = verts_px[outer, :2].mean(1).astype(np.float32)
    contour = verts_px[oval, :2].astype(np.float32).reshape(-1, 1, 2)
    inside = np.array(
        [cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0 for x, y in centroid]
    )
    return _ccw(np.concatenate([face, outer[~inside]]), verts_px[:, :2])


def _outer_rings(pts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (x, y, z) and rotation weight of the ring points outside the face oval and of the
    image border points."""
    oval = pts[list(lm.FACE_OVAL)]
    centre = oval[:, :2].mean(0)
    width = float(np.ptp(oval[:, 0]))
    zmax = float(oval[:, 2].max())
    out, weight = [], []
    for scale, depth, w_top, w_neck in ((0.22, 0.12, 1.0, 0.8), (0.75, 0.3, 0.15, 0.0)):
        for p in oval:
            d = p[:2] - centre
            down = max(0.0, float(d[1] / (np.linalg.norm(d) + 1e-9)))
            neck = min(1.0, max(0.0, (down - 0.35) / 0.5))  # 0 above/beside, 1 under the chin
            xy = p[:2] + scale * (1.0 + 1.5 * neck) * d  # a wider band where the neck shears
            out.append((xy[0], xy[1], float(p[2]) + depth * width * (1 - 0.6 * neck)))
            weight.append(w_top + (w_neck - w_top) * neck)
    n = 6
    edge = np.linspace(0, size - 1, n + 1)
    for t in edge[:-1]:
        for xy in ((t, 0), (size - 1, t), (size - 1 - t, size - 1), (0, size - 1 - t)):
            out.append((xy[0], xy[1], zmax + width))
            weight.append(0.0)
    ring = np.array(out, np.float64)
    weight = np.array(weight)
    # ring points beyond the picture are left out (a point pinned to the edge would drag the
    # fixed border with it); the border points stand in for them
    border = weight == 0.0
    inside = np.all((ring[:, :2] >= 3.0) & (ring[:, :2] <= size - 4.0), axis=1)
    keep = border | inside
    ring[:, :2] = np.clip(ring[:, :2], 0, size - 1)
    return ring[keep], weight[keep]


def _dedupe(points: np.ndarray, weights: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop points after the first ``keep`` that fall within 3 px of an earlier point."""
    kept = list(range(keep))
    for i in range(keep, len(points)):
        if np.min(np.hypot(*(points[kept, :2] - points[i, :2]).T)) > 3.0:
            kept.append(i)
    return points[kept], weights[kept]


def _lift(
    px: np.ndarray, focal: float, distance_mm: float, mm_per_px: float, size: int
) -> np.ndarray:
    """Pixel (x, y, relative depth px) -> C millimetres, so that it projects back to (x, y)."""
    c = (size - 1) / 2.0
    z = distance_mm + px[:, 2] * mm_per_px
    return np.stack([(px[:, 0] - c) * z / focal, (px[:, 1] - c) * z / focal, z], axis=1)


def _eye(
    img: np.ndarray,
    texture: np.ndarray,
    pts: np.ndarray,
    lower,
    upper,
    iris,
    focal: float,
    distance_mm: float,
    mm_per_px: float,
) -> EyeRig:
    """Measure one eye, paint its iris out of ``texture`` (in place), cut the iris patch."""
    cv2 = lm.import_cv2()
    size = img.shape[0]
    lo, up = pts[list(lower), :2], pts[list(upper), :2]
    up = up + LID_MARGIN * (lo - up)
    opening = polygon_mask(opening_polygon(lo, up), (size, size)) > 127
    c = pts[iris[0], :2]
    r = float(np.mean(np.hypot(*(pts[list(iris[1:]), :2] - c).T)))
    r = max(r, 1.5)
    yy, xx = np.mgrid[0:size, 0:size]
    dist = np.hypot(xx - c[0], yy - c[1])
    disc = dist <= r * 1.12 + 1.0
    # sclera colour: the opening outside the iris, else a light default scaled to the face
    sclera_px = img[opening & ~disc]
    face_mean = img[opening | (dist < 4 * r)].reshape(-1, 3).mean(0)
    sclera = (
        np.median(sclera_px[sclera_px.sum(1) >= np.percentile(sclera_px.sum(1), 60)], axis=0)
        if len(sclera_px) >= 12
        else np.clip(face_mean * 1.6, 120, 235)
    ).astype(np.float32)
    sclera = np.maximum(sclera, 0.9 * sclera.mean())  # no dark shadow as the white's colour
    # paint out: each row of the iris inside the opening bridged between the white on either
    # side (or the white's colour where the iris touches a corner)
    tex = texture.astype(np.float32)
    rows = np.nonzero((opening & disc).any(1))[0]
    for y in rows:
        xs = np.nonzero(opening[y] & disc[y])[0]
        x0, x1 = xs.min(), xs.max()
        left = img[y, max(0, x0 - 3) : x0][opening[y, max(0, x0 - 3) : x0]]
        right = img[y, x1 + 1 : x1 + 4][opening[y, x1 + 1 : x1 + 4]]
        cl = left.mean(0) if len(left) else sclera
        cr = right.mean(0) if len(right) else sclera
        cl = 0.5 * (cl + sclera)
        cr = 0.5 * (cr + sclera)
        t = ((xs - x0) / max(1, x1 - x0))[:, None]
        tex[y, xs] = (1 - t) * cl + t * cr
    fill = opening & disc
    blurred = cv2.GaussianBlur(tex, (0, 0), 1.0)
    tex[fill] = blurred[fill]
    texture[:] = np.clip(tex, 0, 255).astype(np.uint8)

    # iris patch: visible iris pixels, the parts under the lids mirrored from below or above
    R = int(math.ceil(r * 1.15)) + 2
    P = 2 * R + 1
    patch = np.zeros((P, P, 4), np.float32)
    ys, xs = np.mgrid[-R : R + 1, -R : R + 1]
    sx, sy = c[0] + xs, c[1] + ys
    inside = np.hypot(xs, ys) <= r + 0.5

    def sample(x, y):
        return cv2.remap(
            img,
            x.astype(np.float32),
            y.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        ).astype(np.float32)

    def in_opening(x, y):
        """Whether the photo shows the eye opening (not lid) at sample points (x, y)."""
        o = opening.astype(np.float32)
        return cv2.remap(o, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR) > 0.99

    direct = sample(sx, sy)
    mirrored = sample(sx, 2 * c[1] - sy)
    ok = in_opening(sx, sy)
    ok_m = in_opening(sx, 2 * c[1] - sy)
    seen = direct[inside & ok]
    iris_mean = seen.mean(0) if len(seen) else np.array([70.0, 50.0, 35.0], np.float32)
    rgb = np.where(ok[..., None], direct, np.where(ok_m[..., None], mirrored, iris_mean))
    # the outer band comes from inside the disc (the landmark rim can include white), darkened
    # into a limbal ring
    rho = np.hypot(xs, ys)
    band = rho > 0.78 * r
    scale = np.where(band, 0.72 * r / np.maximum(rho, 1e-6), 1.0)
    inner = sample(c[0] + xs * scale, c[1] + ys * scale)
    inner_ok = in_opening(c[0] + xs * scale, c[1] + ys * scale)
    rgb = np.where(
        (band & inner_ok)[..., None], 0.75 * inner, np.where(band[..., None], 0.75 * rgb, rgb)
    )
    rgb[~inside] = iris_mean
    patch[..., :3] = rgb
    patch[..., 3] = np.clip(r + 0.5 - np.hypot(xs, ys), 0.0, 1.0)  # 1 px soft edge
    # the eyeball: centre behind the iris along the photo's own gaze (from the iris offset)
    ids = list(lower)
    mid = 0.5 * (pts[ids[0], :2] + pts[ids[-1], :2])
    r_eye_px = EYE_RADIUS_MM / mm_per_px
    off = np.clip((c - mid) / r_eye_px, -0.6, 0.6)
    d0 = np.array([off[0], off[1], -math.sqrt(max(0.2, 1 - off @ off))])
    d0 /= np.linalg.norm(d0)
    # MediaPipe's iris depth is not on the face mesh's scale: put the iris centre at the
    # depth of its eye's lid contour, 1 mm in front of it (the cornea bulges past the lids)
    iris_px = np.array([c[0], c[1], pts[list(lower) + list(upper), 2].mean() - 1.0 / mm_per_px])
    iris_mm = _lift(iris_px[None], focal, distance_mm, mm_per_px, size)[0]
    centre = iris_mm - EYE_RADIUS_MM * d0
    # closed-lid colours: the skin between the lid and the brow, and the lash line
    lid_up = pts[list(upper), :2]
    gap = float(np.median(np.abs(pts[list(upper), 1] - pts[list(lower), 1])[1:-1]))
    band = (
        polygon_mask(
            np.concatenate([lid_up - (0, 0.5 * gap), (lid_up - (0, 1.3 * gap))[::-1]]),
            (size, size),
        )
        > 127
    )
    skin_px = img[band]
    lid_skin = (np.median(skin_px, 0) if len(skin_px) >= 8 else face_mean).astype(np.float32)
    line = np.zeros((size, size), np.uint8)
    cv2.polylines(line, [np.round(lid_up).astype(np.int32)], False, 1, 2)
    lash_px = img[line > 0].astype(np.float32)
    lum = lash_px.sum(1)
    lash = lash_px[lum <= np.percentile(lum, 30)].mean(0) if len(lash_px) else 0.5 * lid_skin
    return EyeRig(
        lower=np.array(lower, np.int64),
        upper=np.array(upper, np.int64),
        centre_mm=centre,
        iris_radius_mm=r * mm_per_px,
        patch=patch,
        patch_radius_px=r,
        lid_skin=lid_skin,
        lash=lash.astype(np.float32),
    )


def build_rig(rgb: np.ndarray, pts: np.ndarray, size: int = 512, zoom: float = 2.2) -> FaceRig:
    """The rig for photo ``rgb`` (H, W, 3) uint8 with MediaPipe pixel landmarks ``pts``."""
    crop, p = crop_to_face(rgb, pts, size, zoom)
    focal = float(size)
    corners = p[list(lm.OUTER_CORNERS)]
    span_px = float(np.linalg.norm(corners[0, :2] - corners[1, :2]))
    if span_px < 4.0:
        raise lm.NoFaceError(f"the face is too small ({span_px:.1f} px between the eye corners)")
    mm_per_px = OUTER_CORNER_DISTANCE_MM / span_px
    distance = focal * mm_per_px
    face = p[:468]
    ring, ring_w = _outer_rings(p, size)
    verts_px = np.concatenate([face, ring])
    weights = np.concatenate([np.ones(len(face)), ring_w])
    verts_px, weights = _dedupe(verts_px, weights, keep=len(face))
    rest = _lift(verts_px, focal, distance, mm_per_px, size)
    tris = _triangulate(verts_px, len(face), size)
    # the face points come first in the vertices (deduplication keeps them all)
    eyes_mid = rest[list(lm.OUTER_CORNERS)].mean(0)
    # the photo's own head pose, from the lifted mesh: y across the outer eye corners (to the
    # subject's left), z from chin to forehead made square to it, x = y x z out of the face
    y = rest[lm.OUTER_CORNERS[1]] - rest[lm.OUTER_CORNERS[0]]
    y /= np.linalg.norm(y)
    z = rest[lm.FOREHEAD] - rest[lm.CHIN]
    z -= (z @ y) * y
    z /= np.linalg.norm(z)
    R_ch = np.stack([np.cross(y, z), y, z], axis=1)
    photo_head = head_from_rotation_matrix(B_TO_C.T @ R_ch)
    texture = crop.copy()
    eyes = tuple(
        _eye(crop, texture, p, lower, upper, iris, focal, distance, mm_per_px)
        for lower, upper, iris in (
            (lm.RIGHT_EYE_LOWER, lm.RIGHT_EYE_UPPER, lm.RIGHT_IRIS),
            (lm.LEFT_EYE_LOWER, lm.LEFT_EYE_UPPER, lm.LEFT_IRIS),
        )
    )
    return FaceRig(
        size=size,
        texture=texture,
        photo=crop,
        uv=verts_px[:, :2].astype(np.float32),
        rest_mm=rest,
        weight=weights,
        tris=tris,
        focal_px=focal,
        pivot_mm=eyes_mid + np.array(PIVOT_FROM_EYES_MM),
        mm_per_px=mm_per_px,
        eyes=eyes,
        landmarks=p,
        photo_head=photo_head,
    )
