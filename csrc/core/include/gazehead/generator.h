// The one backend interface (docs/design.md §5): every backend (CpuGenerator, CudaGenerator)
// derives from Generator, which owns the settings and every check of the step contract, so the
// backends raise the same errors and the bindings and C++ callers dispatch once. A backend
// implements only the work: run a frame, a sequence, a reset, and move its state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gazehead/model.h"
#include "gazehead/rate_clock.h"

namespace gazehead {

enum class NanPolicy { kRaise = 0, kHold = 1 };

// Storage type of the weights; accumulation is fp32 for all of them. cpu: float32, bfloat16;
// cuda: all three.
enum class WeightsDtype { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// Bad per-agent input; `agent` is the offending agent (or -1), `frame` its time index in a
// sequence call (or -1).
class InvalidInput : public std::invalid_argument {
 public:
  InvalidInput(const std::string& what, int64_t agent, int64_t frame = -1)
      : std::invalid_argument(what), agent_(agent), frame_(frame) {}
  int64_t agent() const { return agent_; }
  int64_t frame() const { return frame_; }

 private:
  int64_t agent_, frame_;
};

// A second thread called a generator while another thread was inside a call on it. A generator
// is used by one thread at a time; this is detected (not waited on) and nothing changes.
class ConcurrentUse : public std::runtime_error {
 public:
  ConcurrentUse()
      : std::runtime_error(
            "Generator is being used by another thread; a generator is used by one thread at a "
            "time") {}
};

// gaze (n, 2): finite unless allow_nonfinite (the "hold" policy), |pitch| <= pi/2,
// |yaw| <= pi. head (n, 3): finite. frame_index >= 0 names the frame of a sequence in the
// message. Throw InvalidInput.
void validate_gaze(const float* gaze, int64_t n, int64_t frame_index, bool allow_nonfinite);
void validate_head(const float* head, int64_t n, int64_t frame_index);

// The settings checks every surface (Python, the C ABI, saved states) goes through; each
// throws std::invalid_argument (InvalidInput for a style, naming the agent) with the message
// the Python package raises.
//
// Styles (propensity, idle) are finite and within +-kMaxStyle: estimated styles lie in
// [-0.5, 1.5] x [-1, 3.5] (gazehead_rt.style); far beyond, the normalized condition drives the
// network out of any trained range, and values like 3e38 overflow it to inf and NaN.
constexpr float kMaxStyle = 10.0f;
void check_styles(const float* style, int64_t n);
// Noise scale in [0, kMaxTemperature]: the prior was trained at 1; far beyond it the sampled
// latent drives the decoder out of any trained range.
constexpr float kMaxTemperature = 10.0f;
void check_temperature(double t);

// Agent ids (count of them) of a generator of n agents: each in [0, n); InvalidInput naming the
// first one out of range otherwise (every surface's reset and per-agent calls).
void check_agent_ids(const int64_t* ids, int64_t count, int64_t n);

// Per-agent state, agent-major: the whole of what a step depends on besides the model and
// the generator's settings (seed, temperature, neck limits). state_dict() is a copy of it.
struct AgentState {
  std::vector<float> s;           // (N, H) GRU state
  std::vector<float> head;        // (N, 3) head_{t-1} on the torso, rad
  std::vector<float> head_vel;    // (N, 3) realized head velocity of the last frame, rad/s
  std::vector<float> z;           // (N, Z) last latent sample
  std::vector<float> gaze;        // (N, 2) last effective gaze
  std::vector<float> style;       // (N, 2) per-agent style (kept by reset)
  std::vector<uint8_t> has_prev;  // (N,) 0 before an agent's first frame
  std::vector<uint32_t> frame;    // (N,) frames since the agent's episode began
  std::vector<uint32_t> episode;  // (N,) bumped by reset(): a new episode draws new noise

  void resize(int64_t n, int hidden, int latent);
  // Host view of the arrays for the per-agent step functions (step_contract.h).
  StateView view();
};

// The default style of agent `agent`: style_mean + style_std * n, n the first two lanes of
// the Philox normals at (seed, agent, episode = frame = 0xFFFFFFFF), a counter no step uses,
// clamped to +-kMaxStyle (only a model with an absurd population reaches it). Depends on
// nothing else, so an agent's style is the same for any batch size.
void population_style(const Model& model, uint32_t seed, uint32_t agent, float* style);
// The same from a population's style_mean (2,) and style_std (2,) (a model file's config).
void population_style(const float* style_mean, const float* style_std, uint32_t seed,
                      uint32_t agent, float* style);

class Generator {
 public:
  // Marks the generator in use by this thread for the guard's lifetime; throws ConcurrentUse
  // when another thread holds it. Nests on one thread (a call made while holding it). Every
  // public call that reads or changes state takes one; callers (the bindings) may hold one
  // across a call and their own use of its outputs.
  class Exclusive {
   public:
    explicit Exclusive(const Generator& g);
    ~Exclusive();
    Exclusive(const Exclusive&) = delete;
    Exclusive& operator=(const Exclusive&) = delete;

   private:
    const Generator& g_;
    bool owner_;
  };

  virtual ~Generator();
  Generator& operator=(const Generator&) = delete;

  // gaze (N, 2) -> head_out (N, 3), eye_out (N, 2) (eye_out may be null). Validates every
  // agent before touching state: on InvalidInput the generator is unchanged.
  void step(const float* gaze, float* head_out, float* eye_out);
  // The asynchronous pair: step_async validates and starts the frame; result waits for it and
  // writes head (N, 3) and eye (N, 2) (may be null). One frame may be in flight; every other
  // call refuses (std::logic_error) while one is.
  void step_async(const float* gaze);
  void result(float* head_out, float* eye_out);
  bool pending() const { return pending_; }
  // T steps; gaze_seq (T, N, 2) -> head_seq (T, N, 3), eye_seq (T, N, 2) (may be null).
  void rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq);
  // Teacher-forced context over observed gaze_hist (T, N, 2) and head_hist (T, N, 3); the next
  // step continues from the last observed frame.
  void prime(const float* gaze_hist, const float* head_hist, int64_t T);
  // New episode for the listed agents (all when agents == nullptr). Ids are checked and
  // deduplicated here: an id listed twice resets once. The update() clock restarts (all) or
  // shows the listed agents' next frame without blending from their old pose.
  void reset(const int64_t* agents, int64_t count);

  // Variable-rate loops (rate_clock.h): advance the clock by dt_s seconds with the gaze now at
  // gaze (N, 2); runs every model frame that came due (at most the clock's budget) and writes
  // the pose interpolated one model frame back (head (N, 3)) and the current gaze seen from it
  // (eye (N, 2), may be null). dt_s and the gaze are checked before anything runs, and the
  // generator is held for the whole call: an update is all or nothing. Under the "hold"
  // policy an agent's non-finite gaze is replaced by its last one before the clock sees it.
  void update(const float* gaze, double dt_s, float* head_out, float* eye_out);
  const RateClock& clock() const { return clock_; }
  // A checked assignment of the clock's state (RateClock::check_state; nothing changes else).
  void set_clock_state(const RateClock::State& s);

  // The saved state as bytes (saved_state.h): settings, agent state and the update() clock,
  // versioned and checksummed, tied to the model file's fingerprint. save_state writes exactly
  // saved_state_size() bytes. load_state parses and checks the whole blob (StateError, what()
  // starting "state: ") before anything changes.
  size_t saved_state_size() const;
  void save_state(unsigned char* out) const;
  void load_state(const void* data, size_t size);

  // A copy of the state out; a checked assignment in (check_state: std::invalid_argument and
  // nothing changes otherwise).
  void get_state(AgentState& out) const;
  void set_state(const AgentState& st);
  // Everything set_state checks: sizes match this generator, every value finite and within
  // what a step can produce (GRU state in [-1, 1], head within +-pi, gaze within the gaze
  // range, styles by check_styles), has_prev 0 or 1.
  void check_state(const AgentState& st) const;
  // Styles (N, 2) of all agents; set_style checks every value (check_styles) first.
  void get_style(float* out) const;
  void set_style(const float* style);

  virtual std::unique_ptr<Generator> clone() const = 0;  // deep copy: same settings and state
  virtual const char* backend() const = 0;               // "cpu", "cuda"

  int64_t num_agents() const { return n_; }
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  uint32_t seed() const { return seed_; }
  void set_seed(uint32_t seed) {
    Exclusive use(*this);
    seed_ = seed;
  }
  float temperature() const { return temperature_; }
  void set_temperature(float t);  // checked by check_temperature
  NanPolicy nan_policy() const { return nan_policy_; }
  // Head-on-torso half-ranges (pitch, yaw, roll), rad; default the model's.
  const float* neck_limits() const { return neck_limits_; }
  void set_neck_limits(const float* limits);  // checked by check_neck_limits

 protected:
  // Agents start with their population style (population_style) unless styles are set.
  Generator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
            float temperature, NanPolicy nan_policy);
  Generator(const Generator&) = default;

  // The backend's work; inputs are already validated and no frame is in flight.
  virtual void launch(const float* gaze) = 0;                                 // start one frame
  virtual void collect(float* head_out, float* eye_out) = 0;                  // finish it
  virtual void run_now(const float* gaze, float* head_out, float* eye_out) {  // both
    launch(gaze);
    collect(head_out, eye_out);
  }
  // head_obs null: rollout into head_seq/eye_seq; set: priming (outputs null).
  virtual void run_sequence(const float* gaze_seq, const float* head_obs, int64_t T,
                            float* head_seq, float* eye_seq) = 0;
  virtual void reset_agents(const int64_t* ids, int64_t count) = 0;  // unique, in range; null: all
  virtual void read_state(AgentState& out) const = 0;
  virtual void write_state(const AgentState& st) = 0;  // sizes already checked

  // The initial state: zeros and the population styles.
  AgentState initial_state() const;

 private:
  void refuse_if_pending(const char* what) const;

  // The thread inside a call (default id: none). Copies (clone) start unowned.
  struct UseFlag {
    std::atomic<std::thread::id> owner{};
    UseFlag() = default;
    UseFlag(const UseFlag&) {}
    UseFlag& operator=(const UseFlag&) { return *this; }
  };
  mutable UseFlag use_;

  std::shared_ptr<const Model> model_;
  int64_t n_;
  uint32_t seed_;
  float temperature_ = 1.0f;
  NanPolicy nan_policy_;
  float neck_limits_[kHeadSize];
  bool pending_ = false;
  std::vector<int64_t> reset_ids_;  // reset()'s deduplicated ids, kept to reuse the storage
  RateClock clock_;
  // update()'s scratch, sized once: the held gaze in double, a frame's gaze and head in float
  std::vector<double> update_gaze_;
  std::vector<float> frame_gaze_, frame_head_;
};

}  // namespace gazehead
