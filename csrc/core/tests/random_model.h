// A random-weight model of the shipped architecture for the core's tests: every LinearSpec
// points into storage owned by RandomModel, so the spec stays valid as long as it does.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "gazehead/model.h"

namespace gazehead_test {

struct RandomModelOptions {
  int embed = 16;            // encoder widths (two layers, as the shipped enc_sizes)
  int hidden = 16;           // H
  int latent = 8;            // Z
  int width = 16;            // prior and decoder hidden widths
  float weight_gain = 1.0f;  // weights ~ N(0, (gain / sqrt(in))^2)
  float bias_std = 0.1f;
  float x_std = 1.0f;       // input normalization std (small = large network inputs)
  float y_mean_abs = 0.0f;  // |decoder mean| in rad/s, sign per axis
  float y_std = 1.0f;       // decoder std, rad/s
  uint32_t seed = 0;
};

class RandomModel {
 public:
  explicit RandomModel(const RandomModelOptions& o) : rng_(o.seed), o_(o) {
    const int Z = o.latent, H = o.hidden;
    spec.enc = {linear(gazehead::kInputSize + Z, o.embed), linear(o.embed, o.embed)};
    spec.gru_ih = linear(o.embed, 3 * H);
    spec.gru_hh = linear(H, 3 * H);
    spec.prior = {linear(H, o.width), linear(o.width, 2 * Z)};
    spec.dec = {linear(H + Z, o.width), linear(o.width, o.width),
                linear(o.width, gazehead::kHeadSize)};
    spec.hidden = H;
    spec.latent = Z;
    for (int i = 0; i < gazehead::kInputSize; ++i) {
      spec.x_mean[i] = 0.0f;
      spec.x_std[i] = o.x_std;
    }
    for (int k = 0; k < gazehead::kHeadSize; ++k) {
      spec.y_mean[k] = (k % 2 ? -1.0f : 1.0f) * o.y_mean_abs;
      spec.y_std[k] = o.y_std;
    }
  }
  RandomModel(const RandomModel&) = delete;
  RandomModel& operator=(const RandomModel&) = delete;

  gazehead::ModelSpec spec;

 private:
  gazehead::LinearSpec linear(int in, int out) {
    std::normal_distribution<float> w(0.0f, o_.weight_gain / std::sqrt(static_cast<float>(in)));
    std::normal_distribution<float> b(0.0f, o_.bias_std);
    store_.emplace_back(static_cast<size_t>(in) * out);  // a deque never moves its elements
    for (float& x : store_.back()) x = w(rng_);
    const std::vector<float>& wv = store_.back();
    store_.emplace_back(static_cast<size_t>(out));
    for (float& x : store_.back()) x = b(rng_);
    const std::vector<float>& bv = store_.back();
    return gazehead::LinearSpec{wv.data(), wv.size(), bv.data(), bv.size(), in, out};
  }

  std::mt19937 rng_;
  RandomModelOptions o_;
  std::deque<std::vector<float>> store_;
};

}  // namespace gazehead_test
