#include "gazehead/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "gazehead/philox.h"
#include "gazehead/saved_state.h"
#include "json.h"

namespace gazehead {
namespace {

using json::py_float;

// Accept a hair over the bounds so values computed as exactly +-pi/2 or +-pi in float64 and
// rounded to float32 are not refused.
constexpr float kRangeSlack = 1e-6f;

// Messages are built with snprintf, not iostreams: the wheel links libstdc++ statically, and
// a second copy of its iostream/locale state beside the process's own one fails silently.
std::string fmt_pair(float a, float b) {
  return "(" + json::short_float(a) + ", " + json::short_float(b) + ")";
}

std::string where(int64_t agent, int64_t frame) {
  char buf[64];
  if (frame >= 0) {
    std::snprintf(buf, sizeof buf, "frame %lld, agent %lld", static_cast<long long>(frame),
                  static_cast<long long>(agent));
  } else {
    std::snprintf(buf, sizeof buf, "agent %lld", static_cast<long long>(agent));
  }
  return buf;
}

}  // namespace

void check_styles(const float* style, int64_t n) {
  for (int64_t a = 0; a < n; ++a) {
    const float p = style[kStyleSize * a], i = style[kStyleSize * a + 1];
    if (!std::isfinite(p) || !std::isfinite(i)) {
      throw InvalidInput("style: the style of agent " + std::to_string(a) + " is not finite", a);
    }
    if (std::fabs(p) > kMaxStyle || std::fabs(i) > kMaxStyle) {
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "style: the style of agent %lld is %s, outside [-%g, %g] "
                    "(propensity, idle)",
                    static_cast<long long>(a), fmt_pair(p, i).c_str(), kMaxStyle, kMaxStyle);
      throw InvalidInput(buf, a);
    }
  }
}

void check_temperature(double t) {
  if (!std::isfinite(t) || t < 0.0 || t > kMaxTemperature) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", kMaxTemperature);
    throw std::invalid_argument(std::string("temperature: expected a finite number >= 0 and <= ") +
                                buf + ", got " + py_float(t));
  }
}

void validate_gaze(const float* gaze, int64_t n, int64_t frame_index, bool allow_nonfinite) {
  for (int64_t a = 0; a < n; ++a) {
    const float p = gaze[2 * a], y = gaze[2 * a + 1];
    if (!std::isfinite(p) || !std::isfinite(y)) {
      if (allow_nonfinite) continue;
      throw InvalidInput("gaze of " + where(a, frame_index) + " is not finite " + fmt_pair(p, y) +
                             "; pass nan_policy=\"hold\" to keep the last valid gaze",
                         a, frame_index);
    }
    if (std::fabs(p) > 0.5f * kPi + kRangeSlack) {
      throw InvalidInput("gaze pitch of " + where(a, frame_index) + " is " + std::to_string(p) +
                             " rad, outside [-pi/2, pi/2] (angles are radians; convert degrees "
                             "with numpy.deg2rad)",
                         a, frame_index);
    }
    if (std::fabs(y) > kPi + kRangeSlack) {
      throw InvalidInput("gaze yaw of " + where(a, frame_index) + " is " + std::to_string(y) +
                             " rad, outside [-pi, pi] (angles are radians; wrap yaw or convert "
                             "degrees with numpy.deg2rad)",
                         a, frame_index);
    }
  }
}

void validate_head(const float* head, int64_t n, int64_t frame_index) {
  for (int64_t a = 0; a < n; ++a) {
    for (int k = 0; k < kHeadSize; ++k) {
      const float v = head[kHeadSize * a + k];
      if (!std::isfinite(v)) {
        throw InvalidInput("head of " + where(a, frame_index) + " is not finite", a, frame_index);
      }
      if (std::fabs(v) > kPi + kRangeSlack) {
        throw InvalidInput("head of " + where(a, frame_index) + " is " + std::to_string(v) +
                               " rad, outside [-pi, pi] (angles are radians)",
                           a, frame_index);
      }
    }
  }
}

void check_agent_ids(const int64_t* ids, int64_t count, int64_t n) {
  for (int64_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= n) {
      throw InvalidInput("agents: id " + std::to_string(ids[i]) + " is out of range for " +
                             std::to_string(n) + " agents (valid 0.." + std::to_string(n - 1) + ")",
                         ids[i]);
    }
  }
}

void AgentState::resize(int64_t n, int hidden, int latent) {
  const size_t N = static_cast<size_t>(n);
  s.assign(N * hidden, 0.0f);
  head.assign(N * kHeadSize, 0.0f);
  head_vel.assign(N * kHeadSize, 0.0f);
  z.assign(N * latent, 0.0f);
  gaze.assign(N * kGazeSize, 0.0f);
  style.assign(N * kStyleSize, 0.0f);
  has_prev.assign(N, 0);
  frame.assign(N, 0);
  episode.assign(N, 0);
}

StateView AgentState::view() {
  return StateView{s.data(),     head.data(),     head_vel.data(), z.data(),      gaze.data(),
                   style.data(), has_prev.data(), frame.data(),    episode.data()};
}

void population_style(const float* style_mean, const float* style_std, uint32_t seed,
                      uint32_t agent, float* style) {
  // Lanes 0 and 1 are the same whatever the latent size, so drawing two lanes equals
  // philox_normal(seed, agent, ~0, ~0, latent=Z)[:2].
  float n[kStyleSize];
  agent_normals(seed, agent, 0xFFFFFFFFu, 0xFFFFFFFFu, kStyleSize, n);
  for (int i = 0; i < kStyleSize; ++i) {
    const float v = style_mean[i] + style_std[i] * n[i];
    style[i] = std::min(std::max(v, -kMaxStyle), kMaxStyle);
  }
}

void population_style(const Model& model, uint32_t seed, uint32_t agent, float* style) {
  population_style(model.style_mean(), model.style_std(), seed, agent, style);
}

Generator::Exclusive::Exclusive(const Generator& g) : g_(g), owner_(false) {
  const std::thread::id me = std::this_thread::get_id();
  std::thread::id expected{};
  if (g_.use_.owner.compare_exchange_strong(expected, me, std::memory_order_acquire)) {
    owner_ = true;
  } else if (expected != me) {
    throw ConcurrentUse();
  }
}

Generator::Exclusive::~Exclusive() {
  if (owner_) g_.use_.owner.store(std::thread::id{}, std::memory_order_release);
}

Generator::Generator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                     float temperature, NanPolicy nan_policy)
    : model_(std::move(model)),
      n_(num_agents),
      seed_(seed),
      nan_policy_(nan_policy),
      // a placeholder size where the checks below are about to refuse the arguments
      clock_(num_agents > 0 ? num_agents : 1, model_ ? model_->fps() : 30.0) {
  if (!model_) throw std::invalid_argument("model is null");
  if (num_agents <= 0) throw std::invalid_argument("num_agents must be positive");
  set_temperature(temperature);
  std::copy_n(model_->neck_limits(), kHeadSize, neck_limits_);
  update_gaze_.assign(static_cast<size_t>(kGazeSize * n_), 0.0);
  frame_gaze_.assign(static_cast<size_t>(kGazeSize * n_), 0.0f);
  frame_head_.assign(static_cast<size_t>(kHeadSize * n_), 0.0f);
}

Generator::~Generator() = default;

AgentState Generator::initial_state() const {
  AgentState st;
  st.resize(n_, model_->hidden(), model_->latent());
  for (int64_t a = 0; a < n_; ++a) {
    population_style(*model_, seed_, static_cast<uint32_t>(a), &st.style[kStyleSize * a]);
  }
  return st;
}

void Generator::refuse_if_pending(const char* what) const {
  if (pending_) {
    throw std::logic_error(std::string(what) +
                           ": a step_async() is in flight; call result() first");
  }
}

void Generator::set_temperature(float t) {
  Exclusive use(*this);
  check_temperature(t);
  temperature_ = t;
}

void Generator::set_neck_limits(const float* limits) {
  Exclusive use(*this);
  check_neck_limits(limits, "neck_limits");
  std::copy_n(limits, kHeadSize, neck_limits_);
}

void Generator::step(const float* gaze, float* head_out, float* eye_out) {
  Exclusive use(*this);
  refuse_if_pending("step");
  validate_gaze(gaze, n_, -1, nan_policy_ == NanPolicy::kHold);
  run_now(gaze, head_out, eye_out);
}

void Generator::step_async(const float* gaze) {
  Exclusive use(*this);
  refuse_if_pending("step_async");
  validate_gaze(gaze, n_, -1, nan_policy_ == NanPolicy::kHold);
  launch(gaze);
  pending_ = true;
}

void Generator::result(float* head_out, float* eye_out) {
  Exclusive use(*this);
  if (!pending_) throw std::logic_error("result: no step_async() is in flight");
  pending_ = false;  // a failed frame is not retried: the error is the result
  collect(head_out, eye_out);
}

void Generator::rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq) {
  Exclusive use(*this);
  refuse_if_pending("rollout");
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_seq + kGazeSize * n_ * t, n_, t, nan_policy_ == NanPolicy::kHold);
  }
  if (T > 0) run_sequence(gaze_seq, nullptr, T, head_seq, eye_seq);
}

void Generator::prime(const float* gaze_hist, const float* head_hist, int64_t T) {
  Exclusive use(*this);
  refuse_if_pending("prime");
  // Context must be real observations: non-finite values are refused whatever the policy.
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_hist + kGazeSize * n_ * t, n_, t, /*allow_nonfinite=*/false);
    validate_head(head_hist + kHeadSize * n_ * t, n_, t);
  }
  if (T > 0) run_sequence(gaze_hist, head_hist, T, nullptr, nullptr);
  clock_.reset_all();  // the update() clock restarts from the primed pose
}

void Generator::reset(const int64_t* agents, int64_t count) {
  Exclusive use(*this);
  refuse_if_pending("reset");
  if (agents == nullptr) {
    reset_agents(nullptr, n_);
    clock_.reset_all();
    return;
  }
  check_agent_ids(agents, count, n_);
  // Deduplicated here so no backend counts an agent twice or races on its episode counter.
  reset_ids_.assign(agents, agents + count);
  std::sort(reset_ids_.begin(), reset_ids_.end());
  reset_ids_.erase(std::unique(reset_ids_.begin(), reset_ids_.end()), reset_ids_.end());
  if (!reset_ids_.empty()) {
    reset_agents(reset_ids_.data(), static_cast<int64_t>(reset_ids_.size()));
    clock_.reset_agents(reset_ids_.data(), static_cast<int64_t>(reset_ids_.size()));
  }
}

void Generator::update(const float* gaze, double dt_s, float* head_out, float* eye_out) {
  Exclusive use(*this);
  refuse_if_pending("update");
  // step()'s checks, up front: a call that runs no model frame refuses the same input
  validate_gaze(gaze, n_, -1, nan_policy_ == NanPolicy::kHold);
  RateClock::check_dt(dt_s);
  const size_t n = static_cast<size_t>(n_);
  for (size_t i = 0; i < kGazeSize * n; ++i) update_gaze_[i] = gaze[i];
  if (nan_policy_ == NanPolicy::kHold) {
    // the clock never sees a non-finite gaze (it would poison the interpolation and the eye):
    // such an agent keeps the clock's last gaze, or before the first update the step's
    bool any = false;
    for (size_t i = 0; i < kGazeSize * n; ++i) any = any || !std::isfinite(gaze[i]);
    if (any) {
      AgentState st;
      if (!clock_.started()) read_state(st);
      const double* last = clock_.state().gaze_last.data();
      for (size_t a = 0; a < n; ++a) {
        if (std::isfinite(gaze[2 * a]) && std::isfinite(gaze[2 * a + 1])) continue;
        for (size_t k = 0; k < kGazeSize; ++k) {
          update_gaze_[2 * a + k] =
              clock_.started() ? last[2 * a + k] : static_cast<double>(st.gaze[2 * a + k]);
        }
      }
    }
  }
  const RateClock::StepFn frame = [this, n](const double* g, double* h) {
    for (size_t i = 0; i < kGazeSize * n; ++i) frame_gaze_[i] = static_cast<float>(g[i]);
    run_now(frame_gaze_.data(), frame_head_.data(), nullptr);
    for (size_t i = 0; i < kHeadSize * n; ++i) h[i] = frame_head_[i];
  };
  clock_.update(update_gaze_.data(), dt_s, frame, head_out, eye_out);
}

void Generator::set_clock_state(const RateClock::State& s) {
  Exclusive use(*this);
  refuse_if_pending("set_clock_state");
  clock_.set_state(s);
}

size_t Generator::saved_state_size() const {
  return gazehead::saved_state_size(n_, model_->hidden(), model_->latent());
}

void Generator::save_state(unsigned char* out) const {
  Exclusive use(*this);
  refuse_if_pending("save_state");
  SavedState s;
  s.model_fingerprint = model_->fingerprint();
  s.num_agents = n_;
  s.hidden = model_->hidden();
  s.latent = model_->latent();
  s.seed = seed_;
  s.temperature = temperature_;
  std::copy_n(neck_limits_, kHeadSize, s.neck_limits);
  read_state(s.agents);
  s.clock = clock_.state();
  write_saved_state(s, out);
}

void Generator::load_state(const void* data, size_t size) {
  Exclusive use(*this);
  refuse_if_pending("load_state");
  const SavedState s = read_saved_state(data, size);
  check_saved_state(s, *this, clock_, model_->fingerprint());
  // Everything is checked; nothing below can fail.
  write_state(s.agents);
  seed_ = s.seed;
  temperature_ = s.temperature;
  std::copy_n(s.neck_limits, kHeadSize, neck_limits_);
  clock_.set_state(s.clock);
}

void Generator::get_state(AgentState& out) const {
  Exclusive use(*this);
  refuse_if_pending("get_state");
  read_state(out);
}

void Generator::set_state(const AgentState& st) {
  Exclusive use(*this);
  refuse_if_pending("set_state");
  check_state(st);
  write_state(st);
}

void Generator::check_state(const AgentState& st) const {
  const size_t n = static_cast<size_t>(n_);
  const size_t H = static_cast<size_t>(model_->hidden()), Z = static_cast<size_t>(model_->latent());
  if (st.s.size() != n * H || st.head.size() != n * kHeadSize ||
      st.head_vel.size() != n * kHeadSize || st.z.size() != n * Z ||
      st.gaze.size() != n * kGazeSize || st.style.size() != n * kStyleSize ||
      st.has_prev.size() != n || st.frame.size() != n || st.episode.size() != n) {
    throw std::invalid_argument("state sizes do not match this generator's agents and model");
  }
  // Every float must be finite: one NaN in the state would poison every later step. The
  // bounds are what a step can produce (with slack): a GRU state is a convex combination of
  // tanh outputs, the head stays on the torso, the latent's spread is capped by the prior's
  // log-variance clamp and the temperature; beyond them lie values that overflow the network.
  struct Bound {
    const char* name;
    const std::vector<float>* v;
    float max_abs;
    const char* range;
  };
  const Bound bounds[] = {{"s", &st.s, 1.0f + 1e-5f, "[-1, 1]"},
                          {"head", &st.head, kPi + kRangeSlack, "+-pi rad"},
                          {"head_vel", &st.head_vel, 1e4f, "+-1e4 rad/s"},
                          {"z", &st.z, 1e6f, "+-1e6"},
                          {"gaze", &st.gaze, kPi + kRangeSlack, "+-pi rad"},
                          {"style", &st.style, kMaxStyle, "+-10 (check_styles)"}};
  for (const Bound& b : bounds) {
    for (float v : *b.v) {
      if (!std::isfinite(v)) {
        throw std::invalid_argument(std::string("state '") + b.name + "' holds non-finite values");
      }
      if (std::fabs(v) > b.max_abs) {
        throw std::invalid_argument(std::string("state '") + b.name + "' holds values beyond " +
                                    b.range);
      }
    }
  }
  for (uint8_t v : st.has_prev) {
    if (v > 1) throw std::invalid_argument("state 'has_prev' must hold 0 or 1");
  }
}

void Generator::get_style(float* out) const {
  Exclusive use(*this);
  AgentState st;
  get_state(st);
  std::copy(st.style.begin(), st.style.end(), out);
}

void Generator::set_style(const float* style) {
  Exclusive use(*this);
  check_styles(style, n_);
  AgentState st;
  get_state(st);
  std::copy(style, style + kStyleSize * n_, st.style.begin());
  write_state(st);
}

}  // namespace gazehead
