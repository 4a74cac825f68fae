#include "gazehead/cpu_generator.h"

#include <algorithm>
#include <cmath>

#include "gazehead/step_contract.h"
#include "kernels.h"
#include "worker_pool.h"

namespace gazehead {
namespace {

// Agents per pass through the layers: small enough that a chunk's activations (32 x 384
// floats per buffer) stay in L1/L2 next to the weights, large enough to amortize each
// weight row over many agents.
constexpr int kChunk = 32;

}  // namespace

CpuGenerator::CpuGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                           float temperature, NanPolicy nan_policy, int num_threads,
                           WeightsDtype weights_dtype)
    : Generator(std::move(model), num_agents, seed, temperature, nan_policy),
      weights_dtype_(weights_dtype) {
  if (num_threads < 1) throw std::invalid_argument("num_threads must be at least 1");
  if (weights_dtype == WeightsDtype::kFloat16) {
    throw std::invalid_argument("the cpu backend runs float32 or bfloat16 weights, not float16");
  }
  kernels::table();  // a bad GAZEHEAD_CPU_ISA is refused here, before anything runs
  const Model& M = this->model();
  state_ = initial_state();
  const size_t w = static_cast<size_t>(M.max_width());
  scratch_.resize(static_cast<size_t>(num_threads));
  for (Scratch& sc : scratch_) {
    sc.buf_a.assign(kChunk * w, 0.0f);
    sc.buf_b.assign(kChunk * w, 0.0f);
    sc.gi.assign(kChunk * static_cast<size_t>(M.gru_ih().out_pad), 0.0f);
    sc.gh.assign(kChunk * static_cast<size_t>(M.gru_hh().out_pad), 0.0f);
    sc.dec_in.assign(kChunk * w, 0.0f);
    sc.gaze_eff.assign(kChunk * kAgentCarry, 0.0f);
    sc.xb.assign(kChunk * w, 0);  // every layer's in2 <= max_width (both multiples of 2)
  }
  async_head_.assign(static_cast<size_t>(num_agents) * kHeadSize, 0.0f);
  async_eye_.assign(static_cast<size_t>(num_agents) * kEyeSize, 0.0f);
  pool_ = std::make_unique<WorkerPool>(num_threads);
}

CpuGenerator::CpuGenerator(const CpuGenerator& o)
    : Generator(o),
      weights_dtype_(o.weights_dtype_),
      state_(o.state_),
      scratch_(o.scratch_),
      async_head_(o.async_head_),
      async_eye_(o.async_eye_),
      pool_(std::make_unique<WorkerPool>(o.num_threads())) {}

CpuGenerator::~CpuGenerator() = default;

std::unique_ptr<Generator> CpuGenerator::clone() const {
  return std::unique_ptr<Generator>(new CpuGenerator(*this));
}

int CpuGenerator::num_threads() const { return pool_->size(); }

const char* CpuGenerator::isa() const { return kernels::table().isa; }

namespace {

// One layer on the generator's weights: fp32, or bf16 through the chunk's bf16 input buffer.
struct Layers {
  const kernels::Table& k;
  bool bf16;
  uint16_t* xb;
  // act >= 0: y = act(x W + b)
  void linear(const float* x, int ldx, int rows, const PackedLinear& L, float* y, int ldy,
              int act = -1) const {
    if (bf16) {
      k.linear_bf16(x, ldx, rows, L, y, ldy, xb, act);
      return;
    }
    k.linear(x, ldx, rows, L, y, ldy);
    if (act >= 0) {
      for (int m = 0; m < rows; ++m)
        k.activate(static_cast<Activation>(act), y + static_cast<size_t>(m) * ldy, L.out_pad);
    }
  }
  void gru_gates(const float* gi, const float* gh, int ldg, float* s, int lds, int H,
                 int rows) const {
    (bf16 ? k.gru_gates_bf16 : k.gru_gates)(gi, gh, ldg, s, lds, H, rows);
  }
};

// Runs an MLP over `rows` agents; returns the buffer holding the output (row stride ld).
const float* run_mlp(const Layers& run, const std::vector<PackedLinear>& layers, Activation act,
                     bool final_activation, const float* x, int ldx, int rows, float* buf0,
                     float* buf1, int ld) {
  float* bufs[2] = {buf0, buf1};
  for (size_t l = 0; l < layers.size(); ++l) {
    float* y = bufs[l % 2];
    const bool activated = l + 1 < layers.size() || final_activation;
    run.linear(x, ldx, rows, layers[l], y, ld, activated ? static_cast<int>(act) : -1);
    x = y;
    ldx = ld;
  }
  return x;
}

}  // namespace

void CpuGenerator::run_chunk(Scratch& sc, int64_t a0, int rows, const float* gaze, float* head_out,
                             float* eye_out, const float* observed_head) {
  const Model& M = model();
  const StepConstants& c = M.constants();
  const kernels::Table& k = kernels::table();
  const int W = M.max_width(), H = M.hidden(), Z = M.latent();
  const StateView st = state_.view();
  const Layers run{k, weights_dtype_ == WeightsDtype::kBFloat16, sc.xb.data()};

  // 1. effective gaze and the encoder input [x_norm, z_{t-1}]
  for (int m = 0; m < rows; ++m) {
    begin_agent(c, st, a0 + m, Z, gaze + kGazeSize * m, &sc.gaze_eff[kAgentCarry * m],
                &sc.buf_a[static_cast<size_t>(m) * W]);
  }

  // 2. encoder and GRU; s is updated in place in the state array
  const float* e = run_mlp(run, M.enc(), M.activation(), true, sc.buf_a.data(), W, rows,
                           sc.buf_b.data(), sc.buf_a.data(), W);
  float* s = st.s + static_cast<size_t>(a0) * H;
  const int ldg = M.gru_ih().out_pad;
  run.linear(e, W, rows, M.gru_ih(), sc.gi.data(), ldg);
  run.linear(s, H, rows, M.gru_hh(), sc.gh.data(), ldg);
  run.gru_gates(sc.gi.data(), sc.gh.data(), ldg, s, H, H, rows);

  // 3. learned prior; z_t = mu (priming) or mu + T sigma eps beside s_t as the decoder input
  const float* pr = run_mlp(run, M.prior(), M.activation(), false, s, H, rows, sc.buf_a.data(),
                            sc.buf_b.data(), W);
  if (observed_head != nullptr) {
    for (int m = 0; m < rows; ++m) {
      end_prime(c, st, a0 + m, Z, &sc.gaze_eff[kAgentCarry * m], pr + static_cast<size_t>(m) * W,
                observed_head + kHeadSize * m);
    }
    return;
  }
  for (int m = 0; m < rows; ++m) {
    float* din = &sc.dec_in[static_cast<size_t>(m) * W];
    std::copy(s + static_cast<size_t>(m) * H, s + static_cast<size_t>(m + 1) * H, din);
    sample_latent(st, a0 + m, Z, seed(), temperature(), pr + static_cast<size_t>(m) * W, din + H);
  }

  // 4. decoder, neck limit, eye-in-head
  const float* y = run_mlp(run, M.dec(), M.activation(), false, sc.dec_in.data(), W, rows,
                           sc.buf_a.data(), sc.buf_b.data(), W);
  for (int m = 0; m < rows; ++m) {
    end_step(c, neck_limits(), st, a0 + m, Z, &sc.gaze_eff[kAgentCarry * m],
             y + static_cast<size_t>(m) * W, &sc.dec_in[static_cast<size_t>(m) * W + H],
             head_out + kHeadSize * m, eye_out ? eye_out + kEyeSize * m : nullptr);
  }
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
    for (int64_t a0 = static_cast<int64_t>(kChunk) * w; a0 < g.num_agents(); a0 += stride) {
      const int rows = static_cast<int>(std::min<int64_t>(kChunk, g.num_agents() - a0));
      g.run_chunk(g.scratch_[w], a0, rows, p.gaze + 2 * a0,
                  p.head_out ? p.head_out + 3 * a0 : nullptr,
                  p.eye_out ? p.eye_out + 2 * a0 : nullptr,
                  p.observed_head ? p.observed_head + 3 * a0 : nullptr);
    }
  };
  // Threads only pay off with at least a chunk per worker; below that the caller does it all.
  if (num_agents() <= kChunk) {
    job(const_cast<Pass*>(&pass), 0);
    return;
  }
  pool_->run(job, const_cast<Pass*>(&pass));
}

void CpuGenerator::run_now(const float* gaze, float* head_out, float* eye_out) {
  run_pass(Pass{this, gaze, head_out, eye_out, nullptr});
}

void CpuGenerator::launch(const float* gaze) {
  run_now(gaze, async_head_.data(), async_eye_.data());
}

void CpuGenerator::collect(float* head_out, float* eye_out) {
  std::copy(async_head_.begin(), async_head_.end(), head_out);
  if (eye_out != nullptr) std::copy(async_eye_.begin(), async_eye_.end(), eye_out);
}

void CpuGenerator::run_sequence(const float* gaze_seq, const float* head_obs, int64_t T,
                                float* head_seq, float* eye_seq) {
  const int64_t n = num_agents();
  for (int64_t t = 0; t < T; ++t) {
    if (head_obs != nullptr) {
      run_pass(
          Pass{this, gaze_seq + kGazeSize * n * t, nullptr, nullptr, head_obs + kHeadSize * n * t});
    } else {
      run_pass(Pass{this, gaze_seq + kGazeSize * n * t, head_seq + kHeadSize * n * t,
                    eye_seq ? eye_seq + kEyeSize * n * t : nullptr, nullptr});
    }
  }
}

void CpuGenerator::reset_agents(const int64_t* ids, int64_t count) {
  const StateView st = state_.view();
  const int H = model().hidden(), Z = model().latent();
  for (int64_t i = 0; i < count; ++i) reset_agent(st, ids ? ids[i] : i, H, Z);
}

}  // namespace gazehead
