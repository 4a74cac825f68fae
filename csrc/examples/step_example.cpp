// Using the core from C++ without Python: a tiny random-weight model, 4 agents, 90 frames.
// A real program fills ModelSpec from the model file's tensors (see gazehead_rt/model_file.py
// for the names and shapes).
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "gazehead/cpu_generator.h"

int main() {
  using namespace gazehead;
  const int H = 32, Z = 4, E = 16;
  std::mt19937 rng(0);
  std::normal_distribution<float> nd(0.0f, 0.1f);
  std::vector<std::vector<float>> store;
  auto linear = [&](int in, int out) {
    store.emplace_back(static_cast<size_t>(in) * out);
    for (auto& w : store.back()) w = nd(rng);
    const std::vector<float>& w = store.back();
    store.emplace_back(out, 0.0f);
    return LinearSpec{w.data(), w.size(), store.back().data(), store.back().size(), in, out};
  };
  store.reserve(32);
  ModelSpec spec;
  spec.enc = {linear(kInputSize + Z, E)};  // [x_norm, z_{t-1}]
  spec.gru_ih = linear(E, 3 * H);
  spec.gru_hh = linear(H, 3 * H);
  spec.prior = {linear(H, 2 * Z)};
  spec.dec = {linear(H + Z, kHeadSize)};
  spec.hidden = H;
  spec.latent = Z;
  for (int i = 0; i < kInputSize; ++i) {
    spec.x_mean[i] = 0.0f;
    spec.x_std[i] = 1.0f;
  }
  for (int i = 0; i < kHeadSize; ++i) {
    spec.y_mean[i] = 0.0f;
    spec.y_std[i] = 1.0f;
  }
  CpuGenerator gen(Model::create(spec), 4, /*seed=*/7, /*temperature=*/1.0f, NanPolicy::kRaise);
  std::vector<float> gaze(8), head(12), eye(8);
  for (int t = 0; t < 90; ++t) {
    for (int a = 0; a < 4; ++a) {
      gaze[2 * a] = 0.1f * std::sin(0.05f * t + a);
      gaze[2 * a + 1] = 0.4f * std::sin(0.03f * t);
    }
    gen.step(gaze.data(), head.data(), eye.data());
  }
  std::printf("agent 0 head after 90 frames: pitch %.4f yaw %.4f roll %.4f rad (kernels: %s)\n",
              head[0], head[1], head[2], gen.isa());
  return 0;
}
