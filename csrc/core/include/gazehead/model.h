// The immutable model: weights packed for the step kernels, plus the config (docs/design.md §4).
// Plain C++: no Python, no torch. Weights arrive as raw fp32 pointers in PyTorch layout.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gazehead {

constexpr int kInputSize = 9;  // [gaze(2), gaze velocity(2), head_{t-1}(3), eye_{t-1}(2)]
constexpr int kHeadSize = 3;
constexpr int kEyeSize = 2;
constexpr int kGazeSize = 2;
constexpr float kLogvarMin = -12.0f;  // must match gazehead_rt/model_file.py
constexpr float kLogvarMax = 4.0f;
constexpr int kPad = 16;  // output widths are padded to this many floats (two AVX vectors)

enum class Activation { kSiLU = 0, kReLU = 1, kTanh = 2 };

// A Linear layer as PyTorch stores it.
struct LinearSpec {
  const float* weight;  // (out, in) row-major
  const float* bias;    // (out,)
  int in;
  int out;
};

// Everything needed to build a Model; pointers are only read during Model::create.
struct ModelSpec {
  std::vector<LinearSpec> enc;    // activation after every layer
  std::vector<LinearSpec> prior;  // activation between layers; last -> 2 * latent
  std::vector<LinearSpec> dec;    // activation between layers; input [s, z]; last -> 3
  LinearSpec gru_ih;              // (3H, E): gates r, z, n (PyTorch order)
  LinearSpec gru_hh;              // (3H, H)
  int hidden = 0;                 // H
  int latent = 0;                 // Z
  Activation activation = Activation::kSiLU;
  bool residual = true;  // head_t = head_{t-1} + y_t / fps, else head_t = y_t
  float fps = 30.0f;
  float x_mean[kInputSize], x_std[kInputSize];
  float y_mean[kHeadSize], y_std[kHeadSize];
};

// A Linear layer repacked as Wt (in, out_pad): the kernels stream one input row at a time and
// accumulate a vector of outputs, which vectorizes without reassociating a dot product.
struct PackedLinear {
  std::vector<float> wt;    // (in, out_pad), zero in the padding columns
  std::vector<float> bias;  // (out_pad,), zero in the padding
  int in = 0;
  int out = 0;
  int out_pad = 0;
};

class Model {
 public:
  // Validates shapes and copies the weights; throws std::invalid_argument naming the layer.
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
  bool residual() const { return residual_; }
  float fps() const { return fps_; }
  const float* x_mean() const { return x_mean_; }
  const float* x_std() const { return x_std_; }
  const float* y_mean() const { return y_mean_; }
  const float* y_std() const { return y_std_; }
  // Widest padded activation any layer reads or writes (sizes the scratch buffers).
  int max_width() const { return max_width_; }
  int64_t num_parameters() const;

 private:
  Model() = default;
  std::vector<PackedLinear> enc_, prior_, dec_;
  PackedLinear gru_ih_, gru_hh_;
  int hidden_ = 0, latent_ = 0, max_width_ = 0;
  Activation activation_ = Activation::kSiLU;
  bool residual_ = true;
  float fps_ = 30.0f;
  float x_mean_[kInputSize], x_std_[kInputSize], y_mean_[kHeadSize], y_std_[kHeadSize];
};

}  // namespace gazehead
