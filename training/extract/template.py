"""The 3D face template the head pose is fitted to, derived by the project itself.

Derivation (:func:`derive_template`, rerun with ``python -m training.extract.derive_template``):

1. MediaPipe 3D landmarks (pixels, see ``landmarks.py``) from every 3rd frame of the shared
   clips, grouped by clip.
2. Generalised Procrustes analysis (similarity: rotation, translation, scale) to a mean shape.
3. Mirror partners: the mean shape is put in a provisional head frame, reflected (y -> -y)
   and every landmark paired with the nearest reflected landmark; the pairing must be an
   involution (a left point's partner's partner is itself; midline points pair with
   themselves), which the face-mesh topology is, so the derivation checks it.
4. Symmetric mean: the shape averaged with its own reflection, so a frontal face gives yaw 0
   and roll 0 by construction and a mirrored video gives exactly opposite yaw and roll.
5. Head frame: y along the mean of (left point - right partner) over all pairs, z from the
   chin (152) to the top of the forehead (10) made orthogonal to y, x = y × z (out of the
   face). Pitch 0 therefore means "the forehead–chin line is vertical". Origin: the middle
   of the two outer eye corners.
6. Scale: outer eye corners (33, 263) 90 mm apart (adult biocular width, ~87 mm women,
   ~91 mm men). Only distances depend on it, not angles.
7. Stable landmarks for the rigid fit: within each clip, frames are aligned to the clip's own
   mean and each landmark's residual scatter measured (speech, blinks and expressions move
   mouth, lids, brows and jaw); scatter is averaged over clips. Candidates are the mesh
   points at or above the nose tip (the lower face moves with speech), iris and eyelids
   excluded; the steadiest 60 % of them are kept, in mirror pairs.
8. Eyeball centres: the iris centre of the mean shape (subjects in the clips mostly look into
   the lens with the head facing it, so the mean iris is the straight-ahead iris) moved back
   along -x by the eyeball model's iris radius (``gaze.IRIS_SPHERE_RADIUS_MM``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from .landmarks import (
    CHIN,
    EYE_LEFT,
    EYE_RIGHT,
    FOREHEAD,
    IRIS_LEFT_CENTRE,
    IRIS_RIGHT_CENTRE,
    NUM_LANDMARKS,
)

__all__ = ["FaceTemplate", "load_template", "derive_template", "umeyama", "TEMPLATE_PATH"]

TEMPLATE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "face_template.npz")
OUTER_CANTHI_DISTANCE_MM = 90.0
STABLE_FRACTION = 0.60
NOSE_TIP = 1
_IRIS = np.arange(468, 478)
_LIDS = np.array(
    sorted(
        {
            159,
            145,
            160,
            158,
            144,
            153,
            161,
            163,
            157,
            154,
            246,
            7,
            173,
            155,
            386,
            374,
            387,
            385,
            373,
            380,
            388,
            390,
            384,
            381,
            466,
            249,
            398,
            382,
            33,
            133,
            263,
            362,
        }
    )
)  # the lid contour moves with every blink


@dataclass(frozen=True)
class FaceTemplate:
    points_mm: np.ndarray  # (478, 3) head frame H: x forward, y subject's left, z up
    mirror: np.ndarray  # (478,) int: index of each landmark's mirror partner
    stable: np.ndarray  # (K,) int: landmarks used for the rigid fit
    eyeball_centres_mm: np.ndarray  # (2, 3): subject's right eye, left eye, in H

    def save(self, path: str = TEMPLATE_PATH) -> None:
        tmp = path + ".tmp.npz"
        np.savez_compressed(
            tmp,
            points_mm=self.points_mm.astype(np.float32),
            mirror=self.mirror.astype(np.int16),
            stable=self.stable.astype(np.int16),
            eyeball_centres_mm=self.eyeball_centres_mm.astype(np.float32),
        )
        os.replace(tmp, path)


@functools.lru_cache(maxsize=4)
def load_template(path: str = TEMPLATE_PATH) -> FaceTemplate:
    with np.load(path) as z:
        return FaceTemplate(
            z["points_mm"].astype(np.float64),
            z["mirror"].astype(np.int64),
            z["stable"].astype(np.int64),
            z["eyeball_centres_mm"].astype(np.float64),
        )


def umeyama(src: np.ndarray, dst: np.ndarray, with_scale: bool = True):
    """Least-squares (s, R, t) with dst ≈ s R src + t; (N, 3) each; proper rotation only."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    U, S, Vt = np.linalg.svd(xd.T @ xs / len(src))
    D = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[2, 2] = -1.0
    R = U @ D @ Vt
    s = float(np.trace(np.diag(S) @ D) / xs.var(0).sum()) if with_scale else 1.0
    return s, R, mu_d - s * R @ mu_s


def _align_all(shapes: np.ndarray, ref: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.empty_like(shapes)
    for i, x in enumerate(shapes):
        s, R, t = umeyama(x[idx], ref[idx])
        out[i] = s * x @ R.T + t
    return out


def _gpa(shapes: np.ndarray, idx: np.ndarray, iters: int = 5) -> np.ndarray:
    """Generalised Procrustes mean of (F, N, 3) shapes, aligned on landmarks ``idx``."""
    ref = shapes[0]
    for _ in range(iters):
        aligned = _align_all(shapes, ref, idx)
        ref = aligned.mean(0)
        ref = (ref - ref[idx].mean(0)) / np.sqrt(((ref[idx] - ref[idx].mean(0)) ** 2).sum())
    return ref


def _head_frame(shape: np.ndarray, mirror: np.ndarray | None) -> np.ndarray:
    """Rows = H axes (x forward, y left, z up) expressed in the shape's coordinates."""
    if mirror is None:
        y = shape[EYE_LEFT["outer"]] - shape[EYE_RIGHT["outer"]]
    else:
        left = np.array([i for i in range(len(shape)) if mirror[i] != i])
        d = shape[left] - shape[mirror[left]]
        # a pair counted from its left member and from its right member: orient both leftward
        sign = np.sign(d @ (shape[EYE_LEFT["outer"]] - shape[EYE_RIGHT["outer"]]))
        y = (d * sign[:, None]).sum(0)
    y /= np.linalg.norm(y)
    z = shape[FOREHEAD] - shape[CHIN]
    z -= y * (z @ y)
    z /= np.linalg.norm(z)
    x = np.cross(y, z)
    return np.stack([x, y, z])


def _nearest_reflected(shape_h: np.ndarray) -> np.ndarray:
    refl = shape_h * np.array([1.0, -1.0, 1.0])
    return np.linalg.norm(shape_h[:, None, :] - refl[None, :, :], axis=-1).argmin(axis=1)


def _mirror_partners(shape_h: np.ndarray) -> np.ndarray:
    """Pair landmarks across the symmetry plane of ``shape_h`` (roughly in the head frame).

    A first nearest-neighbour pairing fixes the symmetry plane (normal and offset from the
    pairs' differences and midpoints); the pairing is then redone about that plane.
    """
    partner = _nearest_reflected(shape_h)
    for _ in range(2):
        frame = _head_frame(shape_h, partner)
        shape_h = shape_h @ frame.T
        shape_h[:, 1] -= np.median(0.5 * (shape_h[:, 1] + shape_h[partner, 1]))
        partner = _nearest_reflected(shape_h)
    bad = np.nonzero(partner[partner] != np.arange(len(partner)))[0]
    if len(bad):
        raise RuntimeError(f"mirror pairing is not an involution at landmarks {bad[:10]}")
    return partner


def derive_template(clips: list[np.ndarray], iris_radius_mm: float) -> FaceTemplate:
    """``clips``: list of (F_i, 478, 3) pixel landmark arrays, one per video."""
    core = np.setdiff1d(np.arange(468), _LIDS)  # align on everything but irises and lids
    all_shapes = np.concatenate(clips, axis=0).astype(np.float64)
    mean = _gpa(all_shapes, core)
    # provisional frame and pairing, then exact symmetrisation in the final frame
    mean_h = (mean - mean.mean(0)) @ _head_frame(mean, None).T
    mirror = _mirror_partners(mean_h)
    refl = mean_h[mirror] * np.array([1.0, -1.0, 1.0])
    s, R, t = umeyama(refl[core], mean_h[core], with_scale=False)
    sym = 0.5 * (mean_h + refl @ R.T + t)
    sym = (sym - sym.mean(0)) @ _head_frame(sym, mirror).T
    sym = 0.5 * (sym + sym[mirror] * np.array([1.0, -1.0, 1.0]))  # exact in the final frame
    origin = 0.5 * (sym[EYE_RIGHT["outer"]] + sym[EYE_LEFT["outer"]])
    scale = OUTER_CANTHI_DISTANCE_MM / np.linalg.norm(
        sym[EYE_LEFT["outer"]] - sym[EYE_RIGHT["outer"]]
    )
    points = (sym - origin) * scale

    # per-landmark non-rigid scatter within each clip (identity shape differences excluded)
    scatter = np.zeros(NUM_LANDMARKS)
    for c in clips:
        c = c.astype(np.float64)
        ref = _gpa(c, core, iters=2)
        a = _align_all(c, ref, core)
        face_size = np.sqrt(((ref[core] - ref[core].mean(0)) ** 2).sum(1).mean())
        scatter += np.sqrt(((a - a.mean(0)) ** 2).sum(-1).mean(0)) / face_size
    scatter /= len(clips)
    scatter = 0.5 * (scatter + scatter[mirror])  # pairs share one score, so they stay pairs
    # the jaw, lips and cheeks below the nose tip move with speech, which reads as pitch
    upper = np.nonzero(points[:468, 2] >= points[NOSE_TIP, 2])[0]
    cand = np.setdiff1d(upper, _LIDS)
    keep = cand[np.argsort(scatter[cand], kind="stable")[: int(STABLE_FRACTION * len(cand))]]
    keep = np.union1d(keep, mirror[keep])

    iris = points[[IRIS_RIGHT_CENTRE, IRIS_LEFT_CENTRE]]
    eyeballs = iris - np.array([iris_radius_mm, 0.0, 0.0])
    return FaceTemplate(points, mirror, keep.astype(np.int64), eyeballs)
