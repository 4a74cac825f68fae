// The immutable model: weights packed for the step kernels, plus the config (docs/design.md §4).
// Plain C++: no Python, no torch. Weights arrive as raw fp32 pointers in PyTorch layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gazehead/model_constants.h"
#include "gazehead/step_contract.h"  // StepConstants

namespace gazehead {

constexpr int kPad = 16;  // output widths are padded to this many floats (two AVX vectors)

enum class Activation { kSiLU = 0, kReLU = 1, kTanh = 2 };

// A Linear layer as PyTorch stores it, with the number of floats the caller actually holds at
// each pointer: Model::create checks them against (out, in) instead of trusting the shape, so a
// short array is refused whoever built the spec (the bindings, the model file reader, C++).
struct LinearSpec {
  const float* weight = nullptr;  // (out, in) row-major
  size_t weight_size = 0;         // floats at `weight`; must be out * in
  const float* bias = nullptr;    // (out,)
  size_t bias_size = 0;           // floats at `bias`; must be out
  int in = 0;
  int out = 0;
};

// Everything needed to build a Model; pointers are only read during Model::create.
struct ModelSpec {
  std::vector<LinearSpec> enc;    // activation after every layer; input [x_norm (11), z_{t-1} (Z)]
  std::vector<LinearSpec> prior;  // activation between layers; last -> 2 * latent
  std::vector<LinearSpec> dec;    // activation between layers; input [s, z]; last -> 3
  LinearSpec gru_ih;              // (3H, E): gates r, z, n (PyTorch order)
  LinearSpec gru_hh;              // (3H, H)
  int hidden = 0;                 // H
  int latent = 0;                 // Z
  Activation activation = Activation::kSiLU;
  double fps = 30.0;  // the model's frame rate; the update() clock runs at exactly this
  float x_mean[kInputSize], x_std[kInputSize];
  float y_mean[kHeadSize], y_std[kHeadSize];  // the decoder drives head velocity, rad/s
  // Default head-on-torso half-ranges (pitch, yaw, roll), rad; a generator may override them.
  float neck_limits[kHeadSize] = {0.6981317f, 1.2217305f, 0.5235988f};  // 40, 70, 30 deg
  float neck_soft = 0.75f;       // soft zone starts at neck_soft * limit; in [0, 1)
  float eye_limit = 0.9599311f;  // 55 deg: reported eye clamped per component; in (0, pi/2]
  // The reach guarantee (docs/design.md §4; gazehead_rt/model_file.py ModelConfig).
  float reach_gain = 3.0f;             // 1/s, in [0, 100]
  float reach_threshold = 0.2617994f;  // 15 deg, in [0, pi/2]
  float reach_accel = 34.906586f;      // 2000 deg/s^2, in (0, 1000] rad/s^2
  // Population of styles (propensity, idle) a generator draws its agents' defaults from.
  float style_mean[kStyleSize] = {0.5f, 0.5f};
  float style_std[kStyleSize] = {0.2f, 0.3f};
  // FNV-1a 64 of the model file's bytes (ModelFile::fingerprint); 0 for a model built in
  // memory. Saved states carry it, so a state is only loaded into the model it was taken with.
  uint64_t fingerprint = 0;
};

// Outputs per weight panel of the native bf16 kernels (two 16-float vectors); a layer's last
// panel is kPad wide where out_pad is not a multiple of kPanel.
constexpr int kPanel = 32;

// A Linear layer repacked once at load for the kernels that read it:
//  - Wt (in, out_pad), fp32 and bf16: the kernels stream one input row at a time and
//    accumulate a vector of outputs, which vectorizes without reassociating a dot product;
//  - wp_bf16, for the AVX512-BF16 dot product (vdpbf16ps: lane o accumulates
//    w[o][k] x[k] + w[o][k+1] x[k+1]): panels of kPanel outputs, each panel contiguous as
//    (in2 / 2, width, 2) with the input padded to in2 = in rounded up to even. One panel row
//    is the width x 2 bf16 the kernel multiplies by one broadcast input pair, and a panel is
//    one sequential stream whether one agent or a block of agents reads it.
struct PackedLinear {
  std::vector<float> wt;          // (in, out_pad), zero in the padding columns
  std::vector<uint16_t> wt_bf16;  // wt rounded to bf16 (nearest even), for bf16 weights
  std::vector<uint16_t> wp_bf16;  // the same bf16 values in panels (above); panel at o0 starts
                                  // at o0 * in2
  std::vector<float> bias;        // (out_pad,), zero in the padding
  int in = 0;
  int in2 = 0;  // in rounded up to even
  int out = 0;
  int out_pad = 0;
};

class Model {
 public:
  // Validates shapes (and that every weight and bias holds exactly the floats its shape needs)
  // and copies the weights; throws std::invalid_argument naming the layer.
  static std::shared_ptr<const Model> create(const ModelSpec& spec);

  const std::vector<PackedLinear>& enc() const { return enc_; }
  const std::vector<PackedLinear>& prior() const { return prior_; }
  const std::vector<PackedLinear>& dec() const { return dec_; }
  const PackedLinear& gru_ih() const { return gru_ih_; }
  const PackedLinear& gru_hh() const { return gru_hh_; }
  int hidden() const { return hidden_; }
  int latent() const { return latent_; }
  int embed() const { return enc_.back().out; }
  Activation activation() const { return activation_; }
  double fps() const { return fps_; }
  uint64_t fingerprint() const { return fingerprint_; }
  // fps, normalization, neck_soft and eye_limit as the per-agent step reads them.
  const StepConstants& constants() const { return constants_; }
  const float* neck_limits() const { return neck_limits_; }  // the default (pitch, yaw, roll)
  const float* style_mean() const { return style_mean_; }
  const float* style_std() const { return style_std_; }
  // Widest padded activation any layer reads or writes (sizes the scratch buffers).
  int max_width() const { return max_width_; }
  int64_t num_parameters() const;

 private:
  Model() = default;
  std::vector<PackedLinear> enc_, prior_, dec_;
  PackedLinear gru_ih_, gru_hh_;
  int hidden_ = 0, latent_ = 0, max_width_ = 0;
  Activation activation_ = Activation::kSiLU;
  StepConstants constants_{};
  double fps_ = 30.0;
  uint64_t fingerprint_ = 0;
  float neck_limits_[kHeadSize] = {}, style_mean_[kStyleSize] = {}, style_std_[kStyleSize] = {};
};

// Throws std::invalid_argument unless limits (pitch, yaw, roll) are finite half-ranges in
// (0, pi/2] for pitch and roll and (0, pi) for yaw, rad. `what` starts the message.
void check_neck_limits(const float* limits, const char* what);

}  // namespace gazehead
