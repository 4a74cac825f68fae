"""Known answers for the camera model, head-pose fit and eyeball model on synthetic faces.

A face is the project's own template posed with a chosen (pitch, yaw, roll) in the body
frame and projected through the stated pinhole camera; the fit must give the pose back,
and the signs must match what a viewer sees (the subject's left is the image's right).
"""

import numpy as np
import pytest

from gazehead_rt.geometry import (
    direction_from_pitch_yaw,
    head_rotation_matrix,
    pitch_yaw_from_direction,
)
from gazehead_rt.training.extract.head_pose import (
    CAMERA_TO_BODY,
    CameraModel,
    body_from_camera_for_position,
    head_from_rotation,
    project_points,
)
from gazehead_rt.training.extract.template import load_template

cv2 = pytest.importorskip("cv2", reason="OpenCV (the 'extract' extra) is not installed")

from gazehead_rt.training.extract.gaze import IRIS_SPHERE_RADIUS_MM, estimate_eyes  # noqa: E402
from gazehead_rt.training.extract.head_pose import fit_head_pose  # noqa: E402

CAM = CameraModel.for_image(512, 512)
T_C_MM = np.array([0.0, 0.0, 600.0])  # a face 60 cm in front of the lens, on the axis
TEMPLATE = load_template()


def _landmarks(head_rad, eye_rad=(0.0, 0.0), t_c_mm=T_C_MM):
    """(478, 3) pixel landmarks of the template at ``head_rad`` with the eyes at ``eye_rad``."""
    M = body_from_camera_for_position(t_c_mm)
    R_ct = M.T @ head_rotation_matrix(np.asarray(head_rad))
    pts_c = TEMPLATE.points_mm @ R_ct.T + t_c_mm
    lm = np.zeros((478, 3))
    lm[:, :2] = project_points(pts_c, CAM)
    d_h = direction_from_pitch_yaw(np.asarray(eye_rad))
    for e, idx in enumerate((468, 473)):
        iris_c = R_ct @ (TEMPLATE.eyeball_centres_mm[e] + IRIS_SPHERE_RADIUS_MM * d_h) + t_c_mm
        lm[idx, :2] = project_points(iris_c, CAM)
    return lm, R_ct


def test_head_from_rotation_inverts_the_convention():
    rng = np.random.default_rng(0)
    h = rng.uniform([-1.2, -3.0, -1.2], [1.2, 3.0, 1.2], size=(200, 3))
    np.testing.assert_allclose(head_from_rotation(head_rotation_matrix(h)), h, atol=1e-9)


def test_camera_to_body_mirror():
    # image right (+x_C) is the subject's left (+y_B); toward the lens (-z_C) is forward
    np.testing.assert_allclose(CAMERA_TO_BODY @ [1, 0, 0], [0, 1, 0])
    np.testing.assert_allclose(CAMERA_TO_BODY @ [0, 0, -1], [1, 0, 0])
    np.testing.assert_allclose(CAMERA_TO_BODY @ [0, -1, 0], [0, 0, 1])
    assert np.isclose(np.linalg.det(CAMERA_TO_BODY), 1.0)


def test_off_axis_face_looking_into_lens_is_gaze_zero():
    p = np.array([150.0, -80.0, 700.0])  # face up and right in the image
    M = body_from_camera_for_position(p)
    np.testing.assert_allclose(pitch_yaw_from_direction(M @ (-p)), [0.0, 0.0], atol=1e-12)
    # and it adds no roll: the camera's vertical plane through the face stays vertical
    assert abs((M @ [1.0, 0.0, 0.0])[2]) < 0.2


@pytest.mark.parametrize("head_deg", [(0, 0, 0), (10, 25, -8), (-15, -40, 12), (5, 60, 0)])
def test_pnp_recovers_pose(head_deg):
    head = np.radians(head_deg)
    lm, _ = _landmarks(head)
    fit = fit_head_pose(lm[TEMPLATE.stable, :2], TEMPLATE.points_mm[TEMPLATE.stable], CAM)
    got = head_from_rotation(body_from_camera_for_position(fit.t_c_mm) @ fit.R_ct)
    np.testing.assert_allclose(np.degrees(got), head_deg, atol=1e-3)
    np.testing.assert_allclose(fit.t_c_mm, T_C_MM, atol=1e-2)
    assert fit.reprojection_rms_px < 1e-3


def test_pose_signs_as_seen_in_the_image():
    lm0, _ = _landmarks(np.zeros(3))
    nose, forehead, chin = 1, 10, 152
    yaw_left, _ = _landmarks(np.radians([0, 20, 0]))
    assert yaw_left[nose, 0] > lm0[nose, 0] + 10  # turned to her left: nose to image right
    up, _ = _landmarks(np.radians([15, 0, 0]))
    assert up[nose, 1] < lm0[nose, 1] - 10  # chin up: nose rises in the image
    roll_right, _ = _landmarks(np.radians([0, 0, 10]))
    # tilt toward the right shoulder: the top of the head goes to the image's left
    assert roll_right[forehead, 0] < roll_right[chin, 0] - 10


@pytest.mark.parametrize("eye_deg", [(0, 0), (0, 25), (-10, -30), (15, 10)])
@pytest.mark.parametrize("head_deg", [(0, 0, 0), (8, -20, 5)])
def test_eyeball_model_recovers_eye_in_head(eye_deg, head_deg):
    lm, R_ct = _landmarks(np.radians(head_deg), np.radians(eye_deg))
    fit = fit_head_pose(lm[TEMPLATE.stable, :2], TEMPLATE.points_mm[TEMPLATE.stable], CAM)
    eyes = estimate_eyes(lm, fit, TEMPLATE, CAM)
    assert eyes.hit.all()
    for e in range(2):
        np.testing.assert_allclose(
            np.degrees(pitch_yaw_from_direction(eyes.dir_h[e])), eye_deg, atol=0.05
        )


def test_eye_looking_left_moves_iris_to_image_right():
    lm0, _ = _landmarks(np.zeros(3), (0.0, 0.0))
    lm1, _ = _landmarks(np.zeros(3), np.radians([0.0, 20.0]))
    assert (lm1[[468, 473], 0] > lm0[[468, 473], 0] + 2).all()
