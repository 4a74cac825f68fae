"""Gaze from an eyeball model: iris centre on a sphere fixed in the head, ray-cast per eye.

Model and assumptions (also in ``docs/extraction.md``):

* Each eye is a sphere rigidly attached to the head. Its centre sits at a fixed offset from
  the midpoint of the eye's two corners, in the head frame (offset from the face template,
  ``FaceTemplate.eyeball_centres_mm``); the corners are this face's observed corners,
  back-projected to the depth of the head fit, so a person whose eyes sit a little apart
  from the template's does not read as cross-eyed.
* The visible iris centre lies on a sphere of radius :data:`IRIS_SPHERE_RADIUS_MM` around the
  eyeball centre (the rotation centre is ~13.5 mm behind the corneal apex; the entrance pupil
  seen through the cornea is ~3 mm behind the apex). The optical axis through the iris
  centre is taken as the line of sight: the ~5° angle kappa between optical and visual axes
  differs per person and is not modelled.
* The iris centre pixel (MediaPipe's iris landmark) defines a camera ray; its first
  intersection with the iris sphere is the 3D iris centre, and gaze = (iris - centre)
  normalised. Where noise puts the ray outside the sphere, the closest point on the sphere
  is used and the eye is flagged (such frames read as ~90° eye-in-head and are rejected by
  the eye-range check).
* Straight-ahead eye (eye-in-head (0, 0)) is where the template puts the iris: the mean
  over the derivation clips, whose subjects mostly look into the lens with the head facing
  it. The eye corners and lids enter through the head fit and the openness measure below.
* The two eyes' directions (in the head frame) are averaged, weighted by how visible each
  eye is (an eye turned far from the camera is hidden behind the nose) and masked when
  closed. Vergence is ignored: the target distance is unknown in video, and the average of
  the two eye rays is the cyclopean gaze direction for far targets.
* Gaze amplitude scales with 1/radius: an eye 10 % smaller than modelled (a child's) reads
  ~10 % larger eye-in-head angles for the same pixel displacement, and the assumed face size
  (``template.OUTER_CANTHI_DISTANCE_MM``) enters the same way.

Eye openness is the eye aspect ratio: mean lid gap (two upper/lower landmark pairs) over
the corner-to-corner width, in image pixels.
"""

from __future__ import annotations

import numpy as np

from .head_pose import CameraModel, PoseFit, project_points
from .landmarks import EYE_LEFT, EYE_RIGHT, IRIS_LEFT_CENTRE, IRIS_RIGHT_CENTRE
from .template import FaceTemplate

__all__ = [
    "IRIS_SPHERE_RADIUS_MM",
    "EyeEstimate",
    "estimate_eyes",
    "eye_openness",
    "eye_visibility",
]

IRIS_SPHERE_RADIUS_MM = 10.5
#: Eye-to-camera angle (in the head's horizontal plane, toward the nose side) where an eye
#: starts to be hidden by the nose, and where it is fully hidden (degrees, empirical
#: for adult faces: the far eye's iris reaches the nose bridge at ~40-50° head yaw).
VISIBILITY_FADE_START_DEG = 25.0
VISIBILITY_FADE_END_DEG = 45.0
_EYES = (EYE_RIGHT, EYE_LEFT)
_IRIS = (IRIS_RIGHT_CENTRE, IRIS_LEFT_CENTRE)


class EyeEstimate:
    """Per-frame eye quantities for both eyes, index 0 = subject's right, 1 = left."""

    __slots__ = ("dir_h", "hit", "openness", "visibility")

    def __init__(
        self, dir_h: np.ndarray, hit: np.ndarray, openness: np.ndarray, visibility: np.ndarray
    ) -> None:
        self.dir_h = dir_h  # (2, 3) unit gaze direction of each eye in the head frame
        self.hit = hit  # (2,) bool: the iris ray met the iris sphere
        self.openness = openness  # (2,) eye aspect ratio
        self.visibility = visibility  # (2,) in [0, 1]


def eye_openness(landmarks_px: np.ndarray) -> np.ndarray:
    """(..., 478, >=2) pixel landmarks -> (..., 2) eye aspect ratio (right, left)."""
    out = []
    for eye in _EYES:
        up = landmarks_px[..., list(eye["upper"]), :2]
        lo = landmarks_px[..., list(eye["lower"]), :2]
        gap = np.linalg.norm(up - lo, axis=-1).mean(-1)
        width = np.linalg.norm(
            landmarks_px[..., eye["outer"], :2] - landmarks_px[..., eye["inner"], :2], axis=-1
        )
        out.append(gap / np.maximum(width, 1e-6))
    return np.stack(out, axis=-1)


def eye_visibility(R_ct: np.ndarray, eye_centres_c_mm: np.ndarray) -> np.ndarray:
    """(2,) visibility weights from the direction of the camera seen from each eye.

    In the head frame, the right eye (y < 0) is hidden when the camera is far to the
    subject's left (toward +y, across the nose), and vice versa.
    """
    out = np.empty(2)
    for e, side in ((0, 1.0), (1, -1.0)):
        to_cam_h = R_ct.T @ (-eye_centres_c_mm[e])
        across_nose_deg = np.degrees(np.arctan2(side * to_cam_h[1], to_cam_h[0]))
        out[e] = np.clip(
            (VISIBILITY_FADE_END_DEG - across_nose_deg)
            / (VISIBILITY_FADE_END_DEG - VISIBILITY_FADE_START_DEG),
            0.0,
            1.0,
        )
    return out


def _eyeball_centre_c(
    landmarks_px: np.ndarray, pose: PoseFit, template: FaceTemplate, camera: CameraModel, e: int
) -> np.ndarray:
    """Eyeball centre of eye ``e`` in camera millimetres, anchored on the observed corners.

    The template's eye sits a few millimetres away from any real person's eye (faces
    differ), and at 10.5 mm radius 1 mm is 5.5° of gaze; so the template's eyeball centre
    (posed by the head fit) is moved by however far this face's observed eye-corner
    midpoint lies from the fitted template's, taken at the eye's depth.
    """
    eye = _EYES[e]
    corners = [eye["outer"], eye["inner"]]
    corners_c = template.points_mm[corners] @ pose.R_ct.T + pose.t_c_mm  # fitted, (2, 3)
    # image shift of the observed corner midpoint from the fitted one, moved to 3D at the
    # fitted depth (both midpoints taken in the image, so an exact fit shifts nothing)
    shift_px = landmarks_px[corners, :2].mean(0) - project_points(corners_c, camera).mean(0)
    depth_mm = corners_c[:, 2].mean()
    shift_c = np.array([shift_px[0], shift_px[1], 0.0]) * depth_mm / camera.focal_px
    return pose.R_ct @ template.eyeball_centres_mm[e] + pose.t_c_mm + shift_c


def estimate_eyes(
    landmarks_px: np.ndarray,
    pose: PoseFit,
    template: FaceTemplate,
    camera: CameraModel,
    radius_mm: float = IRIS_SPHERE_RADIUS_MM,
) -> EyeEstimate:
    """Ray-cast both iris centres onto their eyeball spheres (see module docstring)."""
    centres_c = np.stack(
        [_eyeball_centre_c(landmarks_px, pose, template, camera, e) for e in range(2)]
    )  # (2, 3)
    rays = camera.ray(landmarks_px[list(_IRIS), :2])  # (2, 3)
    dir_h = np.empty((2, 3))
    hit = np.empty(2, dtype=bool)
    for e in range(2):
        v, c = rays[e], centres_c[e]
        vc = float(v @ c)
        disc = vc * vc - float(c @ c) + radius_mm * radius_mm
        hit[e] = disc >= 0.0
        if hit[e]:
            iris_c = (vc - np.sqrt(disc)) * v  # the near (camera-facing) intersection
        else:
            off = vc * v - c  # closest ray point, pushed out to the sphere's silhouette
            iris_c = c + radius_mm * off / max(np.linalg.norm(off), 1e-9)
        d_c = (iris_c - c) / radius_mm
        dir_h[e] = pose.R_ct.T @ d_c
    return EyeEstimate(dir_h, hit, eye_openness(landmarks_px), eye_visibility(pose.R_ct, centres_c))
