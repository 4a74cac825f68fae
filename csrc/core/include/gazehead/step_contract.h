// The per-agent part of one step of motion model v4, written once for every backend: the CPU
// kernels (cpu_generator.cpp) and the CUDA kernel (csrc/cuda/kernels.cuh) call these
// functions around their own matrix products (encoder, GRU, prior, decoder). Mirrors
// training/model.py (GazeHeadModel.step / prime, condition_features, neck_limit) operation by
// operation, so fp32 results agree to a few ulp.
//
// A step for agent a, in three phases around the batched layers:
//   begin_agent   effective gaze, condition x (11), normalized, and z_{t-1} -> encoder input
//   [encoder, GRUCell, prior]
//   sample_latent z_t = mu + T sigma eps (Philox), written beside s_t as the decoder input
//   [decoder]
//   end_step      head velocity -> reach floor -> neck limit -> head_t, realized velocity,
//                 clamped eye; state
// Priming replaces the last two with end_prime (z_t = mu, observed head).
#pragma once

#include <math.h>
#include <stdint.h>

#include "gazehead/model_constants.h"
#include "gazehead/philox.h"
#include "gazehead/step_math.h"

namespace gazehead {

// Model constants the per-agent math reads. Plain data, copied by value into kernel params.
struct StepConstants {
  float fps;                 // model rate, Hz
  float x_mean[kInputSize];  // condition normalization
  float x_std[kInputSize];
  float y_mean[kHeadSize];  // decoder output de-normalization (rad/s)
  float y_std[kHeadSize];
  float neck_soft;  // the soft zone starts at neck_soft * limit
  float eye_limit;  // reported eye clamped per component to +-eye_limit, rad
  // The reach guarantee (docs/design.md §4): beyond reach_threshold rad of eye-in-head error
  // the head turns toward the target at >= reach_gain * (|error| - threshold) rad/s, a floor
  // that rises by at most reach_accel rad/s^2 from the last realized velocity.
  float reach_gain;       // 1/s
  float reach_threshold;  // rad
  float reach_accel;      // rad/s^2
};

// Per-agent state of N agents, agent-major (host vectors or device buffers). Aliasing: every
// function below reads and then writes the rows of agent `a` only.
struct StateView {
  float* s;           // (N, H) GRU state
  float* head;        // (N, 3) head_{t-1} on the torso, rad
  float* head_vel;    // (N, 3) realized head velocity of the last frame, rad/s
  float* z;           // (N, Z) last latent sample
  float* gaze;        // (N, 2) last effective gaze
  float* style;       // (N, 2) per-agent style (kept by reset)
  uint8_t* has_prev;  // (N,) 0 before an agent's first frame
  uint32_t* frame;    // (N,) frames since the episode began
  uint32_t* episode;  // (N,) bumped by reset: a new episode draws new noise
};

// Un-normalized condition x_t = [eye target (2), d(gaze) * fps (2), head vel (3),
// head on the torso (pitch, yaw) (2), style (2)] (training/model.py condition_features).
GH_HD void condition_features(const float* gaze, const float* gaze_prev, const float* head_prev,
                              const float* head_vel_prev, const float* style, bool has_prev,
                              float fps, float* x) {
  eye_from_gaze_head(gaze, head_prev, x);
  x[2] = has_prev ? (gaze[0] - gaze_prev[0]) * fps : 0.0f;
  x[3] = has_prev ? wrap_pi(gaze[1] - gaze_prev[1]) * fps : 0.0f;
  x[4] = head_vel_prev[0];
  x[5] = head_vel_prev[1];
  x[6] = head_vel_prev[2];
  x[7] = head_prev[0];
  x[8] = head_prev[1];
  x[9] = style[0];
  x[10] = style[1];
}

// What phase 1 hands to phase 3 per agent (kAgentCarry floats): the effective gaze (2) and
// the reach floor's error (2, reach_target), computed once.
constexpr int kAgentCarry = 4;

// The error the reach floor reads (training/model.py reach_target, docs/design.md §4): the
// eye-in-head target eye (2, the condition's) while the gaze is within 60 deg of the head's
// aim, the per-axis torso error gaze - head (yaw the short way) from 90 deg away, a smoothstep
// blend on the cosine of the angle off the aim in between. Far from the aim the eye-in-head
// pitch couples to the head's pitch and roll with the wrong sign (looking behind, it drove the
// head to its pitch limit); the torso error has no coupling.
GH_HD void reach_target(const float* gaze, const float* head_prev, const float* eye, float* out) {
  const float ahead = cosf(eye[0]) * cosf(eye[1]);
  const float u = fminf(fmaxf(ahead * 2.0f, 0.0f), 1.0f);
  const float w = u * u * (3.0f - 2.0f * u);
  const float dp = gaze[0] - head_prev[0];
  const float dy = wrap_pi(gaze[1] - head_prev[1]);
  out[0] = w * eye[0] + (1.0f - w) * dp;
  out[1] = w * eye[1] + (1.0f - w) * dy;
}

// Phase 1. gaze_in (2): this frame's gaze (non-finite only under the hold policy: the last
// valid gaze is kept, straight ahead before any). Writes ge (kAgentCarry): the effective
// gaze and the reach floor's error, and the encoder input row (kInputSize + Z) = [x_norm,
// z_{t-1}].
GH_HD void begin_agent(const StepConstants& c, const StateView& st, int64_t a, int latent,
                       const float* gaze_in, float* ge, float* enc_in) {
  const bool prev = st.has_prev[a] != 0;
  ge[0] = gaze_in[0];
  ge[1] = gaze_in[1];
  if (!isfinite(ge[0]) || !isfinite(ge[1])) {
    ge[0] = prev ? st.gaze[2 * a] : 0.0f;
    ge[1] = prev ? st.gaze[2 * a + 1] : 0.0f;
  }
  float x[kInputSize];
  condition_features(ge, st.gaze + 2 * a, st.head + 3 * a, st.head_vel + 3 * a,
                     st.style + kStyleSize * a, prev, c.fps, x);
  reach_target(ge, st.head + 3 * a, x, ge + 2);
  for (int i = 0; i < kInputSize; ++i) enc_in[i] = (x[i] - c.x_mean[i]) / c.x_std[i];
  const float* z = st.z + static_cast<int64_t>(latent) * a;
  for (int j = 0; j < latent; ++j) enc_in[kInputSize + j] = z[j];
}

// Phase 2. prior_out (2Z) = [mu, logvar]; z_out (Z) = mu + T exp(0.5 clamp(logvar)) eps, eps
// from Philox at (seed, a, episode, frame).
GH_HD void sample_latent(const StateView& st, int64_t a, int latent, uint32_t seed,
                         float temperature, const float* prior_out, float* z_out) {
  agent_normals(seed, static_cast<uint32_t>(a), st.episode[a], st.frame[a], latent, z_out);
  for (int j = 0; j < latent; ++j) {
    const float logvar = fminf(fmaxf(prior_out[latent + j], kLogvarMin), kLogvarMax);
    z_out[j] = prior_out[j] + temperature * expf(0.5f * logvar) * z_out[j];
  }
}

// The soft head-on-torso limit (training/model.py neck_limit), one axis: head_{t-1} h,
// velocity v (rad/s), half-range L. Returns head_t.
GH_HD float neck_limit_axis(float h, float v, float L, float soft, float fps) {
  const float Ls = soft * L;
  const float mag = fabsf(h);
  if (h * v > 0.0f && mag > Ls) {  // moving outward inside the soft zone
    const float u = fminf(fmaxf((mag - Ls) / (L - Ls), 0.0f), 1.0f);
    v = v * (1.0f - u * u * (3.0f - 2.0f * u));
  }
  return fmaxf(fminf(h + v / fps, L), -L);
}

// The reach floor (training/model.py reach_floor), one axis (pitch or yaw): decoded velocity v,
// error e (reach_target, from head_{t-1}), last realized velocity v_prev.
// Returns v, raised toward the target where it falls below the floor. This is what makes
// "the head never settles turned away from a reachable gaze" structural rather than learned.
// The floor's weight fades in from half the threshold, so the step stays continuous in e
// (the sign s flips at e = 0, where the weight is 0).
GH_HD float reach_floor_axis(const StepConstants& c, float v, float e, float v_prev) {
  const float s = e >= 0.0f ? 1.0f : -1.0f;
  const float ae = fabsf(e);
  const float half = fmaxf(0.5f * c.reach_threshold, 1e-6f);
  const float w = ae >= c.reach_threshold ? 1.0f : fmaxf((ae - half) / half, 0.0f);
  const float floor =
      fminf(c.reach_gain * (ae - c.reach_threshold), s * v_prev + c.reach_accel / c.fps);
  const float sv = s * v;
  return s * (sv + w * fmaxf(floor - sv, 0.0f));
}

// Bookkeeping shared by end_step and end_prime.
GH_HD void commit_agent(const StateView& st, int64_t a, const float* ge) {
  st.gaze[2 * a] = ge[0];
  st.gaze[2 * a + 1] = ge[1];
  st.has_prev[a] = 1;
  st.frame[a] += 1;
}

// Phase 3. ge (kAgentCarry): from phase 1; y (3): decoder output (normalized); z (Z): z_t.
// Integrates the head under the reach floor and the neck limit, stores head_t, its realized
// velocity and z_t, and writes head_out (3) and, unless null, eye_out (2) (eye-in-head from
// the effective gaze, clamped to +-eye_limit).
GH_HD void end_step(const StepConstants& c, const float* neck_limits, const StateView& st,
                    int64_t a, int latent, const float* ge, const float* y, const float* z,
                    float* head_out, float* eye_out) {
  float* head = st.head + 3 * a;
  float* vel = st.head_vel + 3 * a;
  const float* e = ge + 2;  // the reach floor's error (begin_agent, reach_target)
  for (int k = 0; k < kHeadSize; ++k) {
    float v = y[k] * c.y_std[k] + c.y_mean[k];
    if (k < kEyeSize) v = reach_floor_axis(c, v, e[k], vel[k]);
    const float h = head[k];
    head[k] = neck_limit_axis(h, v, neck_limits[k], c.neck_soft, c.fps);
    vel[k] = (head[k] - h) * c.fps;
    head_out[k] = head[k];
  }
  float* zs = st.z + static_cast<int64_t>(latent) * a;
  for (int j = 0; j < latent; ++j) zs[j] = z[j];
  if (eye_out != nullptr) {
    eye_from_gaze_head(ge, head, eye_out);
    eye_out[0] = fminf(fmaxf(eye_out[0], -c.eye_limit), c.eye_limit);
    eye_out[1] = fminf(fmaxf(eye_out[1], -c.eye_limit), c.eye_limit);
  }
  commit_agent(st, a, ge);
}

// Phase 3 when priming: the observed head (3) replaces the generated one (not limited), the
// velocity is the observed one, and z_t is the prior mean prior_out[0, Z) (no noise).
GH_HD void end_prime(const StepConstants& c, const StateView& st, int64_t a, int latent,
                     const float* ge, const float* prior_out, const float* observed_head) {
  float* head = st.head + 3 * a;
  float* vel = st.head_vel + 3 * a;
  const bool prev = st.has_prev[a] != 0;
  for (int k = 0; k < kHeadSize; ++k) {
    vel[k] = prev ? (observed_head[k] - head[k]) * c.fps : 0.0f;
    head[k] = observed_head[k];
  }
  float* zs = st.z + static_cast<int64_t>(latent) * a;
  for (int j = 0; j < latent; ++j) zs[j] = prior_out[j];
  commit_agent(st, a, ge);
}

// A new episode for agent a: everything zero but the style; the episode counter advances.
GH_HD void reset_agent(const StateView& st, int64_t a, int hidden, int latent) {
  for (int j = 0; j < hidden; ++j) st.s[static_cast<int64_t>(hidden) * a + j] = 0.0f;
  for (int j = 0; j < latent; ++j) st.z[static_cast<int64_t>(latent) * a + j] = 0.0f;
  for (int k = 0; k < kHeadSize; ++k) st.head[3 * a + k] = st.head_vel[3 * a + k] = 0.0f;
  st.gaze[2 * a] = st.gaze[2 * a + 1] = 0.0f;
  st.has_prev[a] = 0;
  st.frame[a] = 0;
  st.episode[a] += 1;
}

}  // namespace gazehead
