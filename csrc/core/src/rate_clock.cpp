#include "gazehead/rate_clock.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "json.h"

namespace gazehead {
namespace {

constexpr double kPiD = 3.14159265358979323846;

// numpy's (a + pi) % (2 pi) - pi: a floor modulo (the sign of the divisor), not fmod's.
double wrap_angle(double a) {
  const double t = a + kPiD, m = 2.0 * kPiD;
  double r = std::fmod(t, m);
  if (r != 0.0 && (r < 0.0) != (m < 0.0)) r += m;
  return r - kPiD;
}

// gazehead_rt.geometry.eye_from_gaze_head in double: (R^T d) as pitch/yaw.
void eye_from_gaze_head_d(const double* gaze, const double* head, double* eye) {
  const double cgp = std::cos(gaze[0]);
  const double d[3] = {cgp * std::cos(gaze[1]), cgp * std::sin(gaze[1]), std::sin(gaze[0])};
  const double sp = std::sin(head[0]), cp = std::cos(head[0]);
  const double sy = std::sin(head[1]), cy = std::cos(head[1]);
  const double sr = std::sin(head[2]), cr = std::cos(head[2]);
  const double R[3][3] = {{cy * cp, -cy * sp * sr - sy * cr, -cy * sp * cr + sy * sr},
                          {sy * cp, -sy * sp * sr + cy * cr, -sy * sp * cr - cy * sr},
                          {sp, cp * sr, cp * cr}};
  double v[3];
  for (int i = 0; i < 3; ++i) v[i] = R[0][i] * d[0] + R[1][i] * d[1] + R[2][i] * d[2];
  eye[0] = std::atan2(v[2], std::hypot(v[0], v[1]));
  eye[1] = std::atan2(v[1], v[0]);
}

double checked_fps(double fps) {
  if (!(std::isfinite(fps) && fps > 0)) {
    throw std::invalid_argument("fps must be finite and > 0, got " + json::py_float(fps));
  }
  return fps;
}
}  // namespace

RateClock::RateClock(int64_t num_agents, double fps)
    : RateClock(
          num_agents, fps,
          std::max<int64_t>(1, static_cast<int64_t>(std::ceil(kMaxCatchupS * checked_fps(fps))))) {}

RateClock::RateClock(int64_t num_agents, double fps, int64_t max_steps_per_update)
    : n_(num_agents), fps_(checked_fps(fps)), max_steps_(max_steps_per_update) {
  if (n_ <= 0) throw std::invalid_argument("num_agents must be positive");
  if (max_steps_ < 1) {
    throw std::invalid_argument("max_steps_per_update must be >= 1, got " +
                                std::to_string(max_steps_per_update));
  }
  const size_t n = static_cast<size_t>(n_);
  st_.prev.assign(3 * n, 0.0);
  st_.curr.assign(3 * n, 0.0);
  st_.gaze_last.assign(2 * n, 0.0);
  st_.snap.assign(n, 0);
  dgaze_.assign(2 * n, 0.0);
  g_sub_.assign(2 * n, 0.0);
  head_.assign(3 * n, 0.0);
}

void RateClock::check_dt(double dt_s) {
  if (!std::isfinite(dt_s) || dt_s < 0) {
    throw std::invalid_argument("dt_s must be finite and >= 0 seconds, got " +
                                json::py_float(dt_s));
  }
}

double RateClock::time_s() const {
  if (!st_.started) return 0.0;
  return (static_cast<double>(st_.frames) - 1.0 + st_.phase) / fps_;
}

void RateClock::check_state(const State& s) const {
  const size_t n = static_cast<size_t>(n_);
  auto refuse = [](const char* what) {
    throw std::invalid_argument(std::string("the update() clock ") + what);
  };
  if (s.prev.size() != 3 * n || s.curr.size() != 3 * n || s.gaze_last.size() != 2 * n ||
      s.snap.size() != n) {
    refuse("does not hold this generator's agents");
  }
  if ((s.started != 0 && s.started != 1) || s.frames < 0 || !std::isfinite(s.phase) ||
      s.phase < -1.0 || s.phase >= 1.0 || !std::isfinite(s.dropped_time_s) ||
      s.dropped_time_s < 0) {
    refuse("holds invalid counters (started, frames, phase or dropped time)");
  }
  constexpr double kSlack = 1e-6;  // float32 rounding of +-pi
  for (const std::vector<double>* pose : {&s.prev, &s.curr}) {
    for (double v : *pose) {
      if (!std::isfinite(v) || std::fabs(v) > kPiD + kSlack) refuse("holds a pose beyond +-pi rad");
    }
  }
  for (size_t a = 0; a < n; ++a) {
    const double p = s.gaze_last[2 * a], y = s.gaze_last[2 * a + 1];
    if (!std::isfinite(p) || !std::isfinite(y) || std::fabs(p) > 0.5 * kPiD + kSlack ||
        std::fabs(y) > kPiD + kSlack) {
      refuse("holds a last gaze that is not finite or outside the gaze range");
    }
  }
  for (uint8_t f : s.snap) {
    if (f > 1) refuse("holds snap flags other than 0 and 1");
  }
}

void RateClock::reset_all() {
  std::fill(st_.prev.begin(), st_.prev.end(), 0.0);
  std::fill(st_.curr.begin(), st_.curr.end(), 0.0);
  std::fill(st_.gaze_last.begin(), st_.gaze_last.end(), 0.0);
  std::fill(st_.snap.begin(), st_.snap.end(), 0);
  st_.started = 0;
  st_.frames = 0;
  st_.phase = 0.0;
  st_.dropped_time_s = 0.0;
}

void RateClock::reset_agents(const int64_t* agents, int64_t count) {
  if (!st_.started) return;
  for (int64_t i = 0; i < count; ++i) st_.snap[static_cast<size_t>(agents[i])] = 1;
}

void RateClock::emit(float* head_out, float* eye_out) const {
  const double beta = std::min(std::max(st_.phase, 0.0), 1.0);  // tolerance can leave -1e-6
  for (int64_t a = 0; a < n_; ++a) {
    double head[3];
    for (int k = 0; k < 3; ++k) {
      const double p = st_.prev[3 * a + k], c = st_.curr[3 * a + k];
      head_out[3 * a + k] = static_cast<float>(p + beta * (c - p));
      head[k] = head_out[3 * a + k];  // the eye is seen from the float32 head the caller gets
    }
    if (eye_out) {
      double eye[2];
      eye_from_gaze_head_d(&st_.gaze_last[2 * a], head, eye);
      eye_out[2 * a] = static_cast<float>(eye[0]);
      eye_out[2 * a + 1] = static_cast<float>(eye[1]);
    }
  }
}

void RateClock::start(const double* gaze, const double* head0, float* head_out, float* eye_out) {
  const size_t n = static_cast<size_t>(n_);
  for (size_t i = 0; i < 3 * n; ++i) st_.prev[i] = st_.curr[i] = head0[i];
  for (size_t i = 0; i < 2 * n; ++i) st_.gaze_last[i] = gaze[i];
  std::fill(st_.snap.begin(), st_.snap.end(), 0);
  st_.started = 1;
  st_.frames = 1;
  st_.phase = 0.0;
  emit(head_out, eye_out);
}

void RateClock::update(const double* gaze, double dt_s, const StepFn& step, float* head_out,
                       float* eye_out) {
  const size_t n = static_cast<size_t>(n_);
  if (!st_.started) {  // the first call: frame 0 at clock time 0
    step(gaze, head_.data());
    start(gaze, head_.data(), head_out, eye_out);
    return;
  }
  State& s = st_;
  for (size_t a = 0; a < n; ++a) {
    if (s.snap[a]) {  // agents reset alone: no gaze ramp from their old episode
      s.gaze_last[2 * a] = gaze[2 * a];
      s.gaze_last[2 * a + 1] = gaze[2 * a + 1];
    }
    dgaze_[2 * a] = gaze[2 * a] - s.gaze_last[2 * a];
    dgaze_[2 * a + 1] = wrap_angle(gaze[2 * a + 1] - s.gaze_last[2 * a + 1]);  // the short way
  }
  const double phase0 = s.phase;
  double phase1 = phase0 + dt_s * fps_;  // model frames elapsed since the last frame
  // phase1 is finite (dt_s checked) but may exceed any integer: compare before converting
  const double due = std::floor(phase1 + kDueToleranceFrames);
  int64_t n_due =
      due > static_cast<double>(max_steps_) ? max_steps_ + 1 : static_cast<int64_t>(due);
  if (n_due > max_steps_) {
    s.dropped_time_s += (phase1 - static_cast<double>(max_steps_)) / fps_;
    n_due = max_steps_;
    phase1 = static_cast<double>(max_steps_);  // time dilates for this call
  }
  const double span = phase1 - phase0;
  for (int64_t j = 1; j <= n_due; ++j) {
    const double alpha = span <= 0 ? 1.0 : std::min(1.0, (static_cast<double>(j) - phase0) / span);
    for (size_t a = 0; a < n; ++a) {
      if (alpha >= 1.0) {  // exactly the caller's gaze, not a wrapped copy
        g_sub_[2 * a] = gaze[2 * a];
        g_sub_[2 * a + 1] = gaze[2 * a + 1];
        continue;
      }
      const double p = s.gaze_last[2 * a] + alpha * dgaze_[2 * a];
      double y = s.gaze_last[2 * a + 1] + alpha * dgaze_[2 * a + 1];
      if (std::fabs(y) > kPiD) y = wrap_angle(y);
      g_sub_[2 * a] = p;
      g_sub_[2 * a + 1] = y;
    }
    step(g_sub_.data(), head_.data());
    bool any_snap = false;
    for (size_t a = 0; a < n; ++a) any_snap = any_snap || s.snap[a];
    for (size_t a = 0; a < n; ++a) {
      for (int k = 0; k < 3; ++k) {
        s.prev[3 * a + k] = s.snap[a] ? head_[3 * a + k] : s.curr[3 * a + k];
        s.curr[3 * a + k] = head_[3 * a + k];
      }
    }
    if (any_snap) std::fill(s.snap.begin(), s.snap.end(), 0);
    s.frames += 1;
  }
  s.phase = phase1 - static_cast<double>(n_due);
  for (size_t i = 0; i < 2 * n; ++i) s.gaze_last[i] = gaze[i];
  emit(head_out, eye_out);
}

}  // namespace gazehead
