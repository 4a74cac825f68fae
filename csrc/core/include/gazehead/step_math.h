// Per-agent geometry of the step (docs/design.md §2), shared by the CPU path and the CUDA kernel.
// Mirrors training/model.py (wrap_angle, eye_from_gaze_head) operation by operation.
#pragma once

#include <math.h>

#include "gazehead/philox.h"  // GH_HD

namespace gazehead {

constexpr float kPi = 3.14159265358979323846f;

// torch.remainder(a + pi, 2 pi) - pi
GH_HD float wrap_pi(float a) {
  const float t = a + kPi;
  return t - 2.0f * kPi * floorf(t / (2.0f * kPi)) - kPi;
}

// Eye-in-head (pitch, yaw) = R(head)^T d(gaze), R = Rz(yaw) Ry(-pitch) Rx(roll).
GH_HD void eye_from_gaze_head(const float* gaze, const float* head, float* eye) {
  const float cgp = cosf(gaze[0]);
  const float dx = cgp * cosf(gaze[1]), dy = cgp * sinf(gaze[1]), dz = sinf(gaze[0]);
  const float sp = sinf(head[0]), cp = cosf(head[0]);
  const float sy = sinf(head[1]), cy = cosf(head[1]);
  const float sr = sinf(head[2]), cr = cosf(head[2]);
  const float ex = cy * cp * dx + sy * cp * dy + sp * dz;
  const float ey = (-cy * sp * sr - sy * cr) * dx + (-sy * sp * sr + cy * cr) * dy + cp * sr * dz;
  const float ez = (-cy * sp * cr + sy * sr) * dx + (-sy * sp * cr - cy * sr) * dy + cp * cr * dz;
  eye[0] = atan2f(ez, sqrtf(ex * ex + ey * ey));  // as training/model.py (unit vector)
  eye[1] = atan2f(ey, ex);
}

}  // namespace gazehead
