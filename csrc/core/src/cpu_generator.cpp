#include "gazehead/cpu_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gazehead/philox.h"
#include "gazehead/step_math.h"
#include "kernels.h"
#include "worker_pool.h"

namespace gazehead {
namespace {

// Agents per pass through the layers: small enough that a chunk's activations (32 x 384
// floats per buffer) stay in L1/L2 next to the weights, large enough to amortize each
// weight row over many agents.
constexpr int kChunk = 32;
// Accept a hair over the bounds so values computed as exactly +-pi/2 or +-pi in float64 and
// rounded to float32 are not refused.
constexpr float kRangeSlack = 1e-6f;

// Messages are built with snprintf, not iostreams: the wheel links libstdc++ statically, and
// a second copy of its iostream/locale state beside the process's own one fails silently.
std::string fmt_pair(float a, float b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "(%g, %g)", a, b);
  return buf;
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

void AgentState::resize(int64_t n, int hidden) {
  s.assign(static_cast<size_t>(n) * hidden, 0.0f);
  head.assign(static_cast<size_t>(n) * kHeadSize, 0.0f);
  eye.assign(static_cast<size_t>(n) * kEyeSize, 0.0f);
  gaze.assign(static_cast<size_t>(n) * kGazeSize, 0.0f);
  has_prev.assign(static_cast<size_t>(n), 0);
  frame.assign(static_cast<size_t>(n), 0);
  episode.assign(static_cast<size_t>(n), 0);
}

CpuGenerator::CpuGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                           float temperature, NanPolicy nan_policy, int num_threads)
    : model_(std::move(model)), n_(num_agents), seed_(seed), temperature_(1.0f),
      nan_policy_(nan_policy) {
  if (!model_) throw std::invalid_argument("model is null");
  if (num_agents <= 0) throw std::invalid_argument("num_agents must be positive");
  if (num_threads < 1) throw std::invalid_argument("num_threads must be at least 1");
  set_temperature(temperature);
  state_.resize(n_, model_->hidden());
  const size_t w = static_cast<size_t>(model_->max_width());
  scratch_.resize(static_cast<size_t>(num_threads));
  for (Scratch& sc : scratch_) {
    sc.buf_a.assign(kChunk * w, 0.0f);
    sc.buf_b.assign(kChunk * w, 0.0f);
    sc.gi.assign(kChunk * static_cast<size_t>(model_->gru_ih().out_pad), 0.0f);
    sc.gh.assign(kChunk * static_cast<size_t>(model_->gru_hh().out_pad), 0.0f);
    sc.dec_in.assign(kChunk * w, 0.0f);
    sc.gaze_eff.assign(kChunk * kGazeSize, 0.0f);
  }
  pool_ = std::make_unique<WorkerPool>(num_threads);
}

CpuGenerator::CpuGenerator(const CpuGenerator& o)
    : model_(o.model_), n_(o.n_), seed_(o.seed_), temperature_(o.temperature_),
      nan_policy_(o.nan_policy_), state_(o.state_), scratch_(o.scratch_),
      pool_(std::make_unique<WorkerPool>(o.num_threads())) {}

CpuGenerator::~CpuGenerator() = default;

int CpuGenerator::num_threads() const { return pool_->size(); }

void CpuGenerator::set_temperature(float t) {
  if (!std::isfinite(t) || t < 0.0f) {
    throw std::invalid_argument("temperature must be a finite number >= 0");
  }
  temperature_ = t;
}

const char* CpuGenerator::isa() const { return kernels::table().isa; }

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
      if (!std::isfinite(head[kHeadSize * a + k])) {
        throw InvalidInput("head of " + where(a, frame_index) + " is not finite", a, frame_index);
      }
    }
  }
}

void CpuGenerator::set_state(const AgentState& st) {
  const size_t n = static_cast<size_t>(n_);
  const size_t H = static_cast<size_t>(model_->hidden());
  if (st.s.size() != n * H || st.head.size() != n * kHeadSize || st.eye.size() != n * kEyeSize ||
      st.gaze.size() != n * kGazeSize || st.has_prev.size() != n || st.frame.size() != n ||
      st.episode.size() != n) {
    throw std::invalid_argument("state sizes do not match this generator's agents and model");
  }
  state_ = st;
}

namespace {

// Runs an MLP over `rows` agents; returns the buffer holding the output (row stride ld).
const float* run_mlp(const kernels::Table& k, const std::vector<PackedLinear>& layers,
                     Activation act, bool final_activation, const float* x, int ldx, int rows,
                     float* buf0, float* buf1, int ld) {
  float* bufs[2] = {buf0, buf1};
  for (size_t l = 0; l < layers.size(); ++l) {
    float* y = bufs[l % 2];
    k.linear(x, ldx, rows, layers[l], y, ld);
    if (l + 1 < layers.size() || final_activation) {
      for (int m = 0; m < rows; ++m) k.activate(act, y + static_cast<size_t>(m) * ld, layers[l].out_pad);
    }
    x = y;
    ldx = ld;
  }
  return x;
}

}  // namespace

void CpuGenerator::run_chunk(Scratch& sc, int64_t a0, int rows, const float* gaze,
                             float* head_out, float* eye_out, const float* observed_head) {
  const Model& M = *model_;
  const kernels::Table& k = kernels::table();
  const int W = M.max_width(), H = M.hidden(), Z = M.latent();
  AgentState& st = state_;

  // 1. effective gaze (hold policy) and normalized condition features
  for (int m = 0; m < rows; ++m) {
    const int64_t a = a0 + m;
    float* g = &sc.gaze_eff[2 * m];
    g[0] = gaze[2 * m];
    g[1] = gaze[2 * m + 1];
    if (!std::isfinite(g[0]) || !std::isfinite(g[1])) {  // only reachable with kHold
      // hold the last valid gaze; before any, look straight ahead
      g[0] = st.has_prev[a] ? st.gaze[2 * a] : 0.0f;
      g[1] = st.has_prev[a] ? st.gaze[2 * a + 1] : 0.0f;
    }
    float x[kInputSize];
    condition_features(g, &st.gaze[2 * a], &st.head[3 * a], &st.eye[2 * a], st.has_prev[a] != 0,
                       M.fps(), x);
    float* xn = &sc.buf_a[static_cast<size_t>(m) * W];
    for (int i = 0; i < kInputSize; ++i) xn[i] = (x[i] - M.x_mean()[i]) / M.x_std()[i];
  }

  // 2. encoder and GRU; s is updated in place in the state array
  const float* e = run_mlp(k, M.enc(), M.activation(), true, sc.buf_a.data(), W, rows,
                           sc.buf_b.data(), sc.buf_a.data(), W);
  float* s = &st.s[static_cast<size_t>(a0) * H];
  const int ldg = M.gru_ih().out_pad;
  k.linear(e, W, rows, M.gru_ih(), sc.gi.data(), ldg);
  k.linear(s, H, rows, M.gru_hh(), sc.gh.data(), ldg);
  k.gru_gates(sc.gi.data(), sc.gh.data(), ldg, s, H, H, rows);

  if (observed_head != nullptr) {  // priming: the observed pose replaces the generated one
    for (int m = 0; m < rows; ++m) {
      const int64_t a = a0 + m;
      for (int i = 0; i < kHeadSize; ++i) st.head[3 * a + i] = observed_head[3 * m + i];
      eye_from_gaze_head(&sc.gaze_eff[2 * m], &st.head[3 * a], &st.eye[2 * a]);
      st.gaze[2 * a] = sc.gaze_eff[2 * m];
      st.gaze[2 * a + 1] = sc.gaze_eff[2 * m + 1];
      st.has_prev[a] = 1;
      st.frame[a] += 1;
    }
    return;
  }

  // 3. learned prior and the latent sample z = mu + T sigma eps
  const float* pr = run_mlp(k, M.prior(), M.activation(), false, s, H, rows, sc.buf_a.data(),
                            sc.buf_b.data(), W);
  for (int m = 0; m < rows; ++m) {
    const int64_t a = a0 + m;
    float* din = &sc.dec_in[static_cast<size_t>(m) * W];
    std::copy(s + static_cast<size_t>(m) * H, s + static_cast<size_t>(m + 1) * H, din);
    float* z = din + H;
    agent_normals(seed_, static_cast<uint32_t>(a), st.episode[a], st.frame[a], Z, z);
    const float* mu = pr + static_cast<size_t>(m) * W;
    for (int j = 0; j < Z; ++j) {
      const float logvar = std::min(std::max(mu[Z + j], kLogvarMin), kLogvarMax);
      z[j] = mu[j] + temperature_ * std::exp(0.5f * logvar) * z[j];
    }
  }

  // 4. decoder, residual integration, eye-in-head
  const float* y = run_mlp(k, M.dec(), M.activation(), false, sc.dec_in.data(), W, rows,
                           sc.buf_a.data(), sc.buf_b.data(), W);
  for (int m = 0; m < rows; ++m) {
    const int64_t a = a0 + m;
    float* head = &st.head[3 * a];
    for (int i = 0; i < kHeadSize; ++i) {
      const float yi = y[static_cast<size_t>(m) * W + i] * M.y_std()[i] + M.y_mean()[i];
      head[i] = M.residual() ? head[i] + yi / M.fps() : yi;
    }
    eye_from_gaze_head(&sc.gaze_eff[2 * m], head, &st.eye[2 * a]);
    st.gaze[2 * a] = sc.gaze_eff[2 * m];
    st.gaze[2 * a + 1] = sc.gaze_eff[2 * m + 1];
    st.has_prev[a] = 1;
    st.frame[a] += 1;
    for (int i = 0; i < kHeadSize; ++i) head_out[3 * m + i] = head[i];
    if (eye_out != nullptr) {
      eye_out[2 * m] = st.eye[2 * a];
      eye_out[2 * m + 1] = st.eye[2 * a + 1];
    }
  }
}

void CpuGenerator::step(const float* gaze, float* head_out, float* eye_out) {
  validate_gaze(gaze, n_, -1, nan_policy_ == NanPolicy::kHold);
  advance(gaze, head_out, eye_out);
}

struct CpuGenerator::Pass {
  CpuGenerator* self;
  const float* gaze;           // (N, 2)
  float* head_out;             // (N, 3), or null when priming
  float* eye_out;              // (N, 2), may be null
  const float* observed_head;  // (N, 3) when priming, else null
};

void CpuGenerator::run_pass(const Pass& pass) {
  // Worker w takes chunks w, w + W, w + 2W, ...: chunks are equal-sized, and every agent's
  // result depends only on its own row, so the split changes no number.
  auto job = [](void* ctx, int w) {
    const Pass& p = *static_cast<const Pass*>(ctx);
    CpuGenerator& g = *p.self;
    const int64_t stride = static_cast<int64_t>(kChunk) * g.pool_->size();
    for (int64_t a0 = static_cast<int64_t>(kChunk) * w; a0 < g.n_; a0 += stride) {
      const int rows = static_cast<int>(std::min<int64_t>(kChunk, g.n_ - a0));
      g.run_chunk(g.scratch_[w], a0, rows, p.gaze + 2 * a0,
                  p.head_out ? p.head_out + 3 * a0 : nullptr,
                  p.eye_out ? p.eye_out + 2 * a0 : nullptr,
                  p.observed_head ? p.observed_head + 3 * a0 : nullptr);
    }
  };
  // Threads only pay off with at least a chunk per worker; below that the caller does it all.
  if (n_ <= kChunk) {
    job(const_cast<Pass*>(&pass), 0);
    return;
  }
  pool_->run(job, const_cast<Pass*>(&pass));
}

void CpuGenerator::advance(const float* gaze, float* head_out, float* eye_out) {
  run_pass(Pass{this, gaze, head_out, eye_out, nullptr});
}

void CpuGenerator::rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq) {
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_seq + 2 * n_ * t, n_, t, nan_policy_ == NanPolicy::kHold);
  }
  for (int64_t t = 0; t < T; ++t) {
    advance(gaze_seq + 2 * n_ * t, head_seq + 3 * n_ * t, eye_seq ? eye_seq + 2 * n_ * t : nullptr);
  }
}

void CpuGenerator::prime(const float* gaze_hist, const float* head_hist, int64_t T) {
  // Context must be real observations: non-finite values are refused whatever the policy.
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_hist + 2 * n_ * t, n_, t, /*allow_nonfinite=*/false);
    validate_head(head_hist + 3 * n_ * t, n_, t);
  }
  for (int64_t t = 0; t < T; ++t) {
    run_pass(Pass{this, gaze_hist + 2 * n_ * t, nullptr, nullptr, head_hist + 3 * n_ * t});
  }
}

void CpuGenerator::reset(const int64_t* agents, int64_t count) {
  const int H = model_->hidden();
  auto reset_one = [&](int64_t a) {
    std::fill_n(&state_.s[static_cast<size_t>(a) * H], H, 0.0f);
    std::fill_n(&state_.head[3 * a], 3, 0.0f);
    std::fill_n(&state_.eye[2 * a], 2, 0.0f);
    std::fill_n(&state_.gaze[2 * a], 2, 0.0f);
    state_.has_prev[a] = 0;
    state_.frame[a] = 0;
    state_.episode[a] += 1;
  };
  if (agents == nullptr) {
    for (int64_t a = 0; a < n_; ++a) reset_one(a);
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (agents[i] < 0 || agents[i] >= n_) {
      throw InvalidInput("agent id " + std::to_string(agents[i]) + " is out of range for " +
                             std::to_string(n_) + " agents",
                         agents[i]);
    }
  }
  for (int64_t i = 0; i < count; ++i) reset_one(agents[i]);
}

}  // namespace gazehead
