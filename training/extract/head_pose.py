"""Head pose from 2D landmarks: camera model, rigid PnP fit to the face template, frames.

Camera model (stated, since the clips carry no calibration): an ideal pinhole, no lens
distortion, principal point at the image centre, square pixels, focal length
``focal_px = focal_factor * max(width, height)`` with ``focal_factor = 1.0`` by default
(a 53° field of view across the longer side, typical of phone and webcam footage).
Rotation estimates depend only weakly on this choice: a wrong focal length mostly rescales
the estimated distance; it changes the angles by perspective effects of a few tenths of a
degree at these face sizes.

Frames (all right-handed):

* camera C (OpenCV): x right in the image, y down, z along the optical axis into the scene;
* template / head frame H: x out of the face (forward), y to the subject's left, z up;
* body frame B (docs/design.md §2) faces the camera: x forward (toward the camera), y the subject's
  left, z up. Because the subject faces the lens, the subject's left is the image's right:
  ``B = A @ C`` with ``A`` = :data:`CAMERA_TO_BODY`.

The "faces the camera" direction is taken per track from the median head position, so that
looking into the lens from where the subject usually is reads as gaze (0, 0) even when the
face is off the optical axis (see :func:`body_from_camera_for_position`). It is one fixed
rotation per track: head translation never shows up as head rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CAMERA_TO_BODY",
    "CameraModel",
    "PoseFit",
    "head_from_rotation",
    "rotation_about_axis",
    "body_from_camera_for_position",
    "fit_head_pose",
    "project_points",
]

#: d_B = CAMERA_TO_BODY @ d_C for a body frame looking straight down the optical axis into the
#: lens: x_B = -z_C (toward the camera), y_B = +x_C (image right = subject's left), z_B = -y_C.
CAMERA_TO_BODY = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class CameraModel:
    """Pinhole camera without distortion; all values in pixels."""

    focal_px: float
    cx_px: float
    cy_px: float

    @classmethod
    def for_image(cls, width_px: int, height_px: int, focal_factor: float = 1.0) -> CameraModel:
        return cls(focal_factor * max(width_px, height_px), width_px / 2.0, height_px / 2.0)

    @property
    def matrix(self) -> np.ndarray:
        return np.array(
            [[self.focal_px, 0.0, self.cx_px], [0.0, self.focal_px, self.cy_px], [0.0, 0.0, 1.0]]
        )

    def ray(self, uv_px: np.ndarray) -> np.ndarray:
        """(..., 2) pixel positions -> (..., 3) unit viewing rays in the camera frame."""
        uv = np.asarray(uv_px, dtype=np.float64)
        d = np.stack(
            [
                (uv[..., 0] - self.cx_px) / self.focal_px,
                (uv[..., 1] - self.cy_px) / self.focal_px,
                np.ones(uv.shape[:-1]),
            ],
            -1,
        )
        return d / np.linalg.norm(d, axis=-1, keepdims=True)


def head_from_rotation(R: np.ndarray) -> np.ndarray:
    """Inverse of ``gazehead_rt.geometry.head_rotation_matrix``: (..., 3, 3) -> (..., 3).

    R = Rz(yaw) Ry(-pitch) Rx(roll) has first column (cos p cos y, cos p sin y, sin p) and
    last row (sin p, cos p sin r, cos p cos r).
    """
    R = np.asarray(R, dtype=np.float64)
    pitch = np.arctan2(R[..., 2, 0], np.hypot(R[..., 0, 0], R[..., 1, 0]))
    yaw = np.arctan2(R[..., 1, 0], R[..., 0, 0])
    roll = np.arctan2(R[..., 2, 1], R[..., 2, 2])
    return np.stack([pitch, yaw, roll], axis=-1)


def rotation_about_axis(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues: rotation by ``angle_rad`` about unit-normalised ``axis`` (right hand)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * K + (1 - np.cos(angle_rad)) * K @ K


def body_from_camera_for_position(head_position_c: np.ndarray) -> np.ndarray:
    """Rotation M with d_B = M @ d_C for a body at ``head_position_c`` (3,) facing the lens.

    M = Q.T @ A, where A = CAMERA_TO_BODY and Q is the smallest rotation (no roll about the
    line of sight) taking B's x axis to the direction from the head to the camera. A head at
    the image centre gives M = A.
    """
    A = CAMERA_TO_BODY
    p = np.asarray(head_position_c, dtype=np.float64)
    to_cam_b = A @ (-p / np.linalg.norm(p))  # in the on-axis body frame
    x = np.array([1.0, 0.0, 0.0])
    axis = np.cross(x, to_cam_b)
    s, c = np.linalg.norm(axis), float(np.dot(x, to_cam_b))
    if s < 1e-12:
        return A.copy()
    Q = rotation_about_axis(axis, np.arctan2(s, c))
    return Q.T @ A


def project_points(points_c: np.ndarray, camera: CameraModel) -> np.ndarray:
    """(..., 3) camera-frame points -> (..., 2) pixels."""
    p = np.asarray(points_c, dtype=np.float64)
    return np.stack(
        [
            camera.focal_px * p[..., 0] / p[..., 2] + camera.cx_px,
            camera.focal_px * p[..., 1] / p[..., 2] + camera.cy_px,
        ],
        axis=-1,
    )


@dataclass
class PoseFit:
    """Template-to-camera pose: X_C = R_ct @ X_H + t_c (template millimetres)."""

    R_ct: np.ndarray  # (3, 3)
    t_c_mm: np.ndarray  # (3,)
    reprojection_rms_px: float


def fit_head_pose(
    image_points_px: np.ndarray,
    template_points_mm: np.ndarray,
    camera: CameraModel,
    previous: PoseFit | None = None,
) -> PoseFit | None:
    """Rigid perspective fit (PnP) of template points (N, 3) to image points (N, 2).

    SQPnP gives the global least-squares solution without an initial guess; a short
    Levenberg–Marquardt refinement then minimises the reprojection error. With a previous
    frame's pose the refinement starts there instead, which is what keeps a near-profile
    face from flipping between the two mirror-ambiguous solutions frame to frame; the
    global solve is still used when it reprojects better.
    """
    import cv2  # noqa: PLC0415 - OpenCV comes with the extract extra

    obj = np.ascontiguousarray(template_points_mm, dtype=np.float64).reshape(-1, 1, 3)
    img = np.ascontiguousarray(image_points_px, dtype=np.float64).reshape(-1, 1, 2)
    K = camera.matrix
    dist = np.zeros(4)
    candidates = []
    ok, rvec, tvec = cv2.solvePnP(obj, img, K, dist, flags=cv2.SOLVEPNP_SQPNP)
    if ok:
        candidates.append((rvec, tvec))
    if previous is not None:
        rv0, _ = cv2.Rodrigues(previous.R_ct)
        candidates.append((rv0.copy(), previous.t_c_mm.reshape(3, 1).copy()))
    best = None
    for rvec, tvec in candidates:
        rvec, tvec = cv2.solvePnPRefineLM(obj, img, K, dist, rvec.copy(), tvec.copy())
        if tvec[2, 0] <= 0:  # behind the camera: not a face we can see
            continue
        proj, _ = cv2.projectPoints(obj, rvec, tvec, K, dist)
        rms = float(np.sqrt(np.mean(np.sum((proj - img) ** 2, axis=-1))))
        if best is None or rms < best[2]:
            best = (rvec, tvec, rms)
    if best is None:
        return None
    R, _ = cv2.Rodrigues(best[0])
    return PoseFit(R, best[1].reshape(3), best[2])
