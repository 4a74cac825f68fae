// Sizes and constants of the model-file format (format version 3, motion model v4). They must
// equal the ones in gazehead_rt/model_file.py; python_tests/test_model_file.py holds them
// against each other through gazehead_rt._C.constants().
#pragma once

namespace gazehead {

constexpr int kFormatVersion = 3;
// condition x_t = [eye-in-head target (2), gaze velocity (2), head velocity_{t-1} (3),
//                  head on the torso_{t-1} (pitch, yaw) (2), style (2)]
constexpr int kInputSize = 11;
constexpr int kHeadSize = 3;          // head (pitch, yaw, roll), and the decoder's head velocity
constexpr int kEyeSize = 2;           // eye-in-head (pitch, yaw)
constexpr int kGazeSize = 2;          // gaze (pitch, yaw)
constexpr int kStyleSize = 2;         // per-agent style (propensity, idle)
constexpr float kLogvarMin = -12.0f;  // the prior's log-variance clamp
constexpr float kLogvarMax = 4.0f;

}  // namespace gazehead
