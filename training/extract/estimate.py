"""Per-frame estimation: landmarks -> head pose fit -> per-eye gaze, for one video.

This is the only stage that touches pixels; everything after it (``tracks.py``) works on
the arrays of :class:`RawFrames`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .gaze import IRIS_SPHERE_RADIUS_MM, estimate_eyes
from .head_pose import CameraModel, PoseFit, fit_head_pose
from .landmarks import EYE_LEFT, EYE_RIGHT, FaceMeshDetector, open_video
from .template import FaceTemplate, load_template

__all__ = ["RawFrames", "estimate_frames"]

# A scene cut changes the whole picture at once; a moving face changes a small part of it.
# Correlation of consecutive 32-bin grey-level histograms below this marks a cut.
SCENE_CUT_HIST_CORRELATION = 0.6


@dataclass
class RawFrames:
    """Per-frame estimates for frames ``start .. start + T - 1`` of one video."""

    path: str
    fps: float  # source frame rate
    width_px: int
    height_px: int
    camera: CameraModel
    start: int  # index of the first frame in the source video
    found: np.ndarray  # (T,) bool: a face was found and the pose fit succeeded
    R_ct: np.ndarray  # (T, 3, 3) template -> camera rotation (identity where not found)
    t_c_mm: np.ndarray  # (T, 3) template origin in camera coordinates, millimetres
    rms_px: np.ndarray  # (T,) reprojection RMS of the rigid fit, pixels
    iod_px: np.ndarray  # (T,) outer-eye-corner distance in the image, pixels (face scale)
    centre_px: np.ndarray  # (T, 2) image position of the template origin
    in_image: np.ndarray  # (T,) fraction of fitted landmarks inside the image
    eye_dir_h: np.ndarray  # (T, 2, 3) per-eye gaze direction in the head frame
    eye_hit: np.ndarray  # (T, 2) bool: iris ray met the eyeball sphere
    openness: np.ndarray  # (T, 2) eye aspect ratio
    visibility: np.ndarray  # (T, 2) eye visibility weight in [0, 1]
    scene_cut: np.ndarray  # (T,) bool: frame t starts a new shot (t > 0)
    iris_px: np.ndarray  # (T, 2, 2) iris centres in the image (preview, tests)

    @property
    def frames(self) -> int:
        return len(self.found)


def _alloc(T: int) -> dict[str, np.ndarray]:
    return dict(
        found=np.zeros(T, bool),
        R_ct=np.tile(np.eye(3), (T, 1, 1)),
        t_c_mm=np.tile([0.0, 0.0, 1000.0], (T, 1)),
        rms_px=np.full(T, np.inf),
        iod_px=np.zeros(T),
        centre_px=np.zeros((T, 2)),
        in_image=np.zeros(T),
        eye_dir_h=np.tile([1.0, 0.0, 0.0], (T, 2, 1)),
        eye_hit=np.zeros((T, 2), bool),
        openness=np.zeros((T, 2)),
        visibility=np.zeros((T, 2)),
        scene_cut=np.zeros(T, bool),
        iris_px=np.zeros((T, 2, 2)),
    )


def estimate_frames(
    path: str | os.PathLike,
    *,
    focal_factor: float = 1.0,
    start: int = 0,
    stop: int | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    template: FaceTemplate | None = None,
    detector: FaceMeshDetector | None = None,
    progress: Callable[[int], None] | None = None,
) -> RawFrames:
    """Run landmarks, head-pose fit and eye model on frames ``[start, stop)`` of ``path``.

    ``transform`` maps each decoded BGR frame before detection (tests: mirror, rotate); it
    must keep the frame size. ``progress(n)`` is called with the number of frames done.
    Raises ``landmarks.VideoReadError`` when the video cannot be opened or has no frames.
    """
    import cv2  # noqa: PLC0415

    from .landmarks import VideoReadError  # noqa: PLC0415

    path = os.fspath(path)
    template = template or load_template()
    cap, info = open_video(path)
    camera = CameraModel.for_image(info.width_px, info.height_px, focal_factor)
    own_detector = detector is None
    det = detector or FaceMeshDetector()
    stable = template.stable
    obj = template.points_mm[stable]
    cols: dict[str, list] = {k: [] for k in _alloc(0)}
    prev_pose: PoseFit | None = None
    prev_hist = None
    i = n_done = 0
    try:
        while stop is None or i < stop:
            ok, frame = cap.read()
            if not ok:
                break
            if i < start:
                i += 1
                continue
            if transform is not None:
                frame = transform(frame)
            row = _alloc(1)
            grey = cv2.cvtColor(
                cv2.resize(frame, (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
            )
            hist = cv2.calcHist([grey], [0], None, [32], [0, 256])
            if prev_hist is not None:
                corr = cv2.compareHist(prev_hist, hist, cv2.HISTCMP_CORREL)
                row["scene_cut"][0] = corr < SCENE_CUT_HIST_CORRELATION
            prev_hist = hist
            if row["scene_cut"][0]:
                prev_pose = None  # do not seed the fit with another shot's face
            lm = det.process(frame)
            pose = None
            if lm is not None:
                pose = fit_head_pose(lm[stable, :2], obj, camera, prev_pose)
            if pose is not None:
                eyes = estimate_eyes(lm, pose, template, camera, IRIS_SPHERE_RADIUS_MM)
                h, w = frame.shape[:2]
                pts = lm[stable, :2]
                row["found"][0] = True
                row["R_ct"][0] = pose.R_ct
                row["t_c_mm"][0] = pose.t_c_mm
                row["rms_px"][0] = pose.reprojection_rms_px
                row["iod_px"][0] = np.linalg.norm(
                    lm[EYE_LEFT["outer"], :2] - lm[EYE_RIGHT["outer"], :2]
                )
                row["centre_px"][0] = camera.focal_px * pose.t_c_mm[:2] / pose.t_c_mm[2] + [
                    camera.cx_px,
                    camera.cy_px,
                ]
                row["in_image"][0] = np.mean(
                    (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
                )
                row["eye_dir_h"][0] = eyes.dir_h
                row["eye_hit"][0] = eyes.hit
                row["openness"][0] = eyes.openness
                row["visibility"][0] = eyes.visibility
                row["iris_px"][0] = lm[[468, 473], :2]
            prev_pose = pose
            for k, v in row.items():
                cols[k].append(v[0])
            i += 1
            n_done += 1
            if progress is not None:
                progress(1)
    finally:
        cap.release()
        if own_detector:
            det.close()
    if n_done == 0:
        raise VideoReadError(f"{path}: no decodable frames in [{start}, {stop})")
    arrays = {k: np.stack(v) for k, v in cols.items()}
    return RawFrames(
        path=path,
        fps=info.fps,
        width_px=info.width_px,
        height_px=info.height_px,
        camera=camera,
        start=start,
        **arrays,
    )
