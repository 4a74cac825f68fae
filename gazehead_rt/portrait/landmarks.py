"""Face landmarks of a still photo: MediaPipe's 478-point face mesh (with iris), run once.

MediaPipe and OpenCV are optional (``pip install "gazehead_rt[portrait]"``) and imported
only here, when a photo is opened. ``mediapipe==0.10.21`` is the last release whose wheel
bundles the face-mesh and iris models, so nothing is downloaded.

Coordinates are pixels ``(x * W, y * H, z * W)``: x right, y down, z away from the camera,
MediaPipe's relative depth scaled by the width so the shape is isotropic.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

#: 468 mesh points plus 10 iris points.
NUM_LANDMARKS = 478

# "Right"/"left" are the subject's sides (MediaPipe's naming): the subject's right eye is on
# the image's left. Each eye contour runs corner to corner along the lower lid, then back
# along the upper lid; the two lists share the corners.
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
RIGHT_IRIS = (468, 469, 470, 471, 472)  # centre, then the rim
LEFT_IRIS = (473, 474, 475, 476, 477)
#: The face's silhouette, in order around it (forehead, subject's left, chin, right).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
FOREHEAD = 10  # top of the midline
CHIN = 152  # bottom of the midline
#: Outer eye corners (subject's right, left): 90 mm apart on an average adult.
OUTER_CORNERS = (33, 263)


class PortraitDependencyError(ImportError):
    """MediaPipe or OpenCV (the ``portrait`` extra) is not installed."""


class NoFaceError(ValueError):
    """No face was found in the photo."""


def import_cv2():
    try:
        import cv2  # noqa: PLC0415 - optional dependency
    except ImportError as e:
        raise PortraitDependencyError(
            'the portrait animator needs OpenCV and MediaPipe: pip install "gazehead_rt[portrait]"'
            f" (import failed with: {e})"
        ) from e
    return cv2


def _import_mediapipe():
    try:
        import mediapipe as mp  # noqa: PLC0415 - optional, heavy, pins numpy<2
    except ImportError as e:
        raise PortraitDependencyError(
            'the portrait animator needs MediaPipe 0.10.21: pip install "gazehead_rt[portrait]"'
            f" (import failed with: {e})"
        ) from e
    return mp


@contextlib.contextmanager
def _native_stderr_silenced():
    """MediaPipe's C++ side logs start-up notes (TensorFlow Lite delegates, absl warnings)
    straight to file descriptor 2; a user sees only Python errors. Off with
    ``GAZEHEAD_PORTRAIT_VERBOSE=1``."""
    if os.environ.get("GAZEHEAD_PORTRAIT_VERBOSE") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def detect_landmarks(rgb: np.ndarray) -> np.ndarray:
    """(478, 3) float64 pixel landmarks of the most prominent face in an RGB uint8 image.

    Raises :class:`NoFaceError` when MediaPipe finds no face (or no iris refinement)."""
    mp = _import_mediapipe()
    h, w = rgb.shape[:2]
    with (
        _native_stderr_silenced(),
        mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=0.5,
        ) as mesh,
    ):
        res = mesh.process(np.ascontiguousarray(rgb))
    if not res.multi_face_landmarks or len(res.multi_face_landmarks[0].landmark) != NUM_LANDMARKS:
        raise NoFaceError("no face found in the photo (MediaPipe face mesh)")
    pts = np.array([(p.x, p.y, p.z) for p in res.multi_face_landmarks[0].landmark], np.float64)
    pts[:, 0] *= w
    pts[:, 1] *= h
    pts[:, 2] *= w
    return pts


#: Inner lip contour, corner to corner along the upper lip, and along the lower lip.
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)

_FACE_TRIANGLES: np.ndarray | None = None


def _strip(a, b) -> list[tuple[int, int, int]]:
    """Triangles filling the gap between two contours that share their end points."""
    out = []
    for i in range(len(a) - 1):
        if a[i] != b[i]:
            out.append((a[i], b[i], b[i + 1]))
        if a[i + 1] != b[i + 1]:
            out.append((a[i], b[i + 1], a[i + 1]))
    return out


def face_triangles() -> np.ndarray:
    """(F, 3) triangles of the 468-point face mesh: MediaPipe's tessellation (its triangles
    are the 3-cycles of its edge list), with the eye openings and the mouth filled by strips
    from the upper to the lower contour, so a closing lid or mouth collapses them evenly."""
    global _FACE_TRIANGLES
    if _FACE_TRIANGLES is None:
        edges = _import_mediapipe().solutions.face_mesh_connections.FACEMESH_TESSELATION
        nbr: dict[int, set[int]] = {}
        for a, b in edges:
            nbr.setdefault(a, set()).add(b)
            nbr.setdefault(b, set()).add(a)
        tris = {tuple(sorted((a, b, c))) for a, b in edges for c in nbr[a] & nbr[b]}
        tris.update(_strip(RIGHT_EYE_UPPER, RIGHT_EYE_LOWER))
        tris.update(_strip(LEFT_EYE_UPPER, LEFT_EYE_LOWER))
        tris.update(_strip(LIPS_UPPER_INNER, LIPS_LOWER_INNER))
        _FACE_TRIANGLES = np.array(sorted(tris), np.int32)
    return _FACE_TRIANGLES
