"""Video decoding and MediaPipe face-mesh landmarks (with iris).

MediaPipe is an optional dependency (``pip install "gazehead_rt[extract]"``): it is imported
only when a :class:`FaceMeshDetector` is built, so the rest of ``training.extract`` (and the
runtime package) import without it. ``mediapipe==0.10.21`` is the last release whose wheel
bundles the face-mesh and iris ``.tflite`` models, so extraction runs offline; the newer
Tasks API would need a ``.task`` download and is deliberately not used.

Landmark coordinates are returned in **pixels**: ``(x * W, y * H, z * W)``. MediaPipe's z is
relative depth (smaller = closer to the camera) on roughly the scale of x, so scaling it by
the image width keeps the 3D shape isotropic. The axes are x right, y down, z away from the
camera: right-handed, like the OpenCV camera frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MediaPipeMissingError",
    "VideoReadError",
    "VideoInfo",
    "FaceMeshDetector",
    "open_video",
    "iter_frames",
    "NUM_LANDMARKS",
    "EYE_RIGHT",
    "EYE_LEFT",
    "IRIS_RIGHT_CENTRE",
    "IRIS_LEFT_CENTRE",
    "FOREHEAD",
    "CHIN",
]

#: 468 mesh points plus 10 iris points (``refine_landmarks=True``).
NUM_LANDMARKS = 478

# Indices into the 478-point mesh. "Right"/"left" are the SUBJECT's (anatomical) sides, which
# is also MediaPipe's naming; the subject's right eye appears on the image's left.
#: Subject's right eye: outer corner, inner corner, upper lid (2 points), lower lid (2 points).
EYE_RIGHT = {"outer": 33, "inner": 133, "upper": (160, 158), "lower": (144, 153)}
#: Subject's left eye, same order (mirror partners of EYE_RIGHT).
EYE_LEFT = {"outer": 263, "inner": 362, "upper": (387, 385), "lower": (373, 380)}
IRIS_RIGHT_CENTRE = 468  # 469-472 are its rim
IRIS_LEFT_CENTRE = 473  # 474-477 are its rim
FOREHEAD = 10  # top of the midline (glabella region)
CHIN = 152  # bottom of the midline


class MediaPipeMissingError(ImportError):
    """MediaPipe (the ``extract`` extra) is not installed."""


class VideoReadError(RuntimeError):
    """A video cannot be opened or decoded; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float  # container frame rate (frames per second)
    frame_count: int  # as reported by the container (may be approximate)
    width_px: int
    height_px: int


def _import_mediapipe():
    try:
        import mediapipe as mp  # noqa: PLC0415 - lazy on purpose: optional, heavy, pins numpy<2
    except ImportError as e:
        raise MediaPipeMissingError(
            "video extraction needs MediaPipe 0.10.21 (it bundles the face-mesh and iris "
            'models): pip install "gazehead_rt[extract]" (or: pip install mediapipe==0.10.21 '
            f'"numpy<2" opencv-python-headless). Import failed with: {e}'
        ) from e
    return mp


def _import_cv2():
    try:
        import cv2  # noqa: PLC0415
    except ImportError as e:
        raise MediaPipeMissingError(
            'video extraction needs OpenCV: pip install "gazehead_rt[extract]" '
            f"(import failed with: {e})"
        ) from e
    return cv2


def open_video(path: str | os.PathLike):
    """Open ``path`` with OpenCV; returns ``(capture, VideoInfo)`` or raises VideoReadError."""
    cv2 = _import_cv2()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VideoReadError(f"{path}: no such file")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise VideoReadError(f"{path}: OpenCV cannot open it (not a video, or corrupt)")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    if not (np.isfinite(fps) and 1.0 <= fps <= 1000.0) or w <= 0 or h <= 0:
        cap.release()
        raise VideoReadError(f"{path}: unusable stream (fps={fps}, size={w}x{h})")
    return cap, VideoInfo(path, fps, n, w, h)


def iter_frames(
    path: str | os.PathLike, *, start: int = 0, stop: int | None = None, transform=None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, bgr_uint8 (H, W, 3))`` for frames ``start <= i < stop``.

    ``transform`` (optional) maps each BGR frame to another (tests use it to mirror or rotate
    a real clip). Decoding is sequential from the start: seeking in H.264 lands on key frames
    only, and these clips are short.
    """
    cap, _ = open_video(path)
    try:
        i = 0
        while stop is None or i < stop:
            ok, frame = cap.read()
            if not ok:
                break
            if i >= start:
                yield i, (transform(frame) if transform is not None else frame)
            i += 1
    finally:
        cap.release()


class FaceMeshDetector:
    """MediaPipe face mesh with iris refinement, in tracking (video) mode.

    ``process(bgr)`` returns ``(478, 3)`` float32 pixel landmarks of the most prominent face,
    or None. Video mode re-uses the previous frame's face region (the face detector runs
    only when tracking is lost), which is both faster and steadier than per-image detection;
    call :meth:`reset` between unrelated videos.
    """

    def __init__(
        self, *, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5
    ) -> None:
        mp = _import_mediapipe()
        self._cv2 = _import_cv2()
        self._kw = dict(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._mesh_cls = mp.solutions.face_mesh.FaceMesh
        self._mesh = self._mesh_cls(**self._kw)

    def reset(self) -> None:
        self._mesh.close()
        self._mesh = self._mesh_cls(**self._kw)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceMeshDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def process(self, bgr: np.ndarray) -> np.ndarray | None:
        h, w = bgr.shape[:2]
        rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        res = self._mesh.process(rgb)
        if not res.multi_face_landmarks:
            return None
        lm = res.multi_face_landmarks[0].landmark
        if len(lm) != NUM_LANDMARKS:  # refine_landmarks off or a different model
            return None
        pts = np.array([(p.x, p.y, p.z) for p in lm], dtype=np.float32)
        pts[:, 0] *= w
        pts[:, 1] *= h
        pts[:, 2] *= w
        return pts
