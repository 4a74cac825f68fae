#include "gazehead/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "json.h"

namespace gazehead {
namespace {

int round_up(int x, int m) { return (x + m - 1) / m * m; }

// fp32 -> bf16, round to nearest even (as CUDA's __float2bfloat16_rn); weights are finite.
uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

PackedLinear pack(const LinearSpec& s, const std::string& name) {
  if (s.weight == nullptr || s.bias == nullptr) {
    throw std::invalid_argument("layer " + name + ": weight or bias pointer is null");
  }
  if (s.in <= 0 || s.out <= 0) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "layer %s: sizes must be positive, got in=%d out=%d",
                  name.c_str(), s.in, s.out);
    throw std::invalid_argument(msg);
  }
  // The shape says what pack reads; the sizes say what the caller holds. A mismatch would read
  // past the caller's array (or silently drop its tail), so it is refused before any copy.
  const size_t want_w = static_cast<size_t>(s.out) * static_cast<size_t>(s.in);
  if (s.weight_size != want_w) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "layer %s: weight holds %zu floats, expected %zu (out %d x in %d)", name.c_str(),
                  s.weight_size, want_w, s.out, s.in);
    throw std::invalid_argument(msg);
  }
  if (s.bias_size != static_cast<size_t>(s.out)) {
    char msg[200];
    std::snprintf(msg, sizeof msg, "layer %s: bias holds %zu floats, expected %d (out)",
                  name.c_str(), s.bias_size, s.out);
    throw std::invalid_argument(msg);
  }
  PackedLinear p;
  p.in = s.in;
  p.out = s.out;
  p.out_pad = round_up(s.out, kPad);
  p.wt.assign(static_cast<size_t>(p.in) * p.out_pad, 0.0f);
  p.bias.assign(p.out_pad, 0.0f);
  for (int o = 0; o < s.out; ++o) {
    for (int i = 0; i < s.in; ++i) {
      p.wt[static_cast<size_t>(i) * p.out_pad + o] = s.weight[static_cast<size_t>(o) * s.in + i];
    }
    p.bias[o] = s.bias[o];
  }
  p.wt_bf16.resize(p.wt.size());
  for (size_t i = 0; i < p.wt.size(); ++i) p.wt_bf16[i] = to_bf16(p.wt[i]);
  p.in2 = round_up(p.in, 2);
  p.wp_bf16.assign(static_cast<size_t>(p.in2) * p.out_pad, 0);
  for (int o0 = 0; o0 < p.out_pad; o0 += kPanel) {
    const int width = std::min(kPanel, p.out_pad - o0);
    uint16_t* panel = p.wp_bf16.data() + static_cast<size_t>(o0) * p.in2;
    for (int i = 0; i < p.in; ++i) {
      for (int o = 0; o < width; ++o) {
        panel[(static_cast<size_t>(i / 2) * width + o) * 2 + i % 2] =
            p.wt_bf16[static_cast<size_t>(i) * p.out_pad + o0 + o];
      }
    }
  }
  return p;
}

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

std::vector<PackedLinear> pack_mlp(const std::vector<LinearSpec>& layers, const char* mlp, int in,
                                   int out_last) {
  expect(!layers.empty(), std::string(mlp) + ": needs at least one layer");
  std::vector<PackedLinear> packed;
  for (size_t k = 0; k < layers.size(); ++k) {
    // Layers are named by MLP and position; the file's tensor names are model_file.py's.
    const std::string name = std::string(mlp) + " layer " + std::to_string(k);
    char msg[160];
    std::snprintf(msg, sizeof msg, "layer %s: input size %d, expected %d", name.c_str(),
                  layers[k].in, in);
    expect(layers[k].in == in, msg);
    packed.push_back(pack(layers[k], name));
    in = layers[k].out;
  }
  if (out_last > 0) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s layer %d: output size %d, expected %d", mlp,
                  static_cast<int>(layers.size() - 1), in, out_last);
    expect(in == out_last, msg);
  }
  return packed;
}

}  // namespace

void check_neck_limits(const float* limits, const char* what) {
  static const char* const kAxis[kHeadSize] = {"pitch", "yaw", "roll"};
  for (int k = 0; k < kHeadSize; ++k) {
    const float hi = k == 1 ? kPi : 0.5f * kPi;
    const bool ok =
        std::isfinite(limits[k]) && limits[k] > 0.0f && (k == 1 ? limits[k] < hi : limits[k] <= hi);
    if (!ok) {
      char msg[200];
      std::snprintf(msg, sizeof msg,
                    "%s: %s limit %s rad is outside %s (pitch, yaw, roll "
                    "half-ranges, radians)",
                    what, kAxis[k], json::short_float(limits[k]).c_str(),
                    k == 1 ? "(0, pi)" : "(0, pi/2]");
      throw std::invalid_argument(msg);
    }
  }
}

std::shared_ptr<const Model> Model::create(const ModelSpec& spec) {
  expect(spec.hidden > 0 && spec.latent > 0, "hidden and latent sizes must be positive");
  expect(std::isfinite(spec.fps) && spec.fps > 0.0, "fps must be positive");
  std::shared_ptr<Model> m(new Model());
  m->hidden_ = spec.hidden;
  m->latent_ = spec.latent;
  m->activation_ = spec.activation;
  m->enc_ = pack_mlp(spec.enc, "enc", kInputSize + spec.latent, 0);
  const int H = spec.hidden;
  expect(spec.gru_ih.in == m->embed() && spec.gru_ih.out == 3 * H,
         "GRU input weights: expected shape (3*hidden, embed)");
  expect(spec.gru_hh.in == H && spec.gru_hh.out == 3 * H,
         "GRU hidden weights: expected shape (3*hidden, hidden)");
  m->gru_ih_ = pack(spec.gru_ih, "GRU input");
  m->gru_hh_ = pack(spec.gru_hh, "GRU hidden");
  m->prior_ = pack_mlp(spec.prior, "prior", H, 2 * spec.latent);
  m->dec_ = pack_mlp(spec.dec, "dec", H + spec.latent, kHeadSize);
  m->fps_ = spec.fps;
  m->fingerprint_ = spec.fingerprint;
  StepConstants& c = m->constants_;
  c.fps = static_cast<float>(spec.fps);
  for (int i = 0; i < kInputSize; ++i) {
    expect(std::isfinite(spec.x_mean[i]) && std::isfinite(spec.x_std[i]) && spec.x_std[i] > 0.0f,
           "normalization x_mean/x_std must be finite, x_std positive");
    c.x_mean[i] = spec.x_mean[i];
    c.x_std[i] = spec.x_std[i];
  }
  for (int i = 0; i < kHeadSize; ++i) {
    expect(std::isfinite(spec.y_mean[i]) && std::isfinite(spec.y_std[i]) && spec.y_std[i] > 0.0f,
           "normalization y_mean/y_std must be finite, y_std positive");
    c.y_mean[i] = spec.y_mean[i];
    c.y_std[i] = spec.y_std[i];
  }
  check_neck_limits(spec.neck_limits, "model neck_limits");
  std::copy_n(spec.neck_limits, kHeadSize, m->neck_limits_);
  expect(spec.neck_soft >= 0.0f && spec.neck_soft < 1.0f, "neck_soft must be in [0, 1)");
  c.neck_soft = spec.neck_soft;
  expect(spec.eye_limit > 0.0f && spec.eye_limit <= 0.5f * kPi, "eye_limit must be in (0, pi/2]");
  c.eye_limit = spec.eye_limit;
  expect(std::isfinite(spec.reach_gain) && spec.reach_gain >= 0.0f && spec.reach_gain <= 100.0f,
         "reach_gain must be in [0, 100] 1/s");
  expect(spec.reach_threshold >= 0.0f && spec.reach_threshold <= 0.5f * kPi,
         "reach_threshold must be in [0, pi/2] rad");
  expect(spec.reach_accel > 0.0f && spec.reach_accel <= 1000.0f,
         "reach_accel must be in (0, 1000] rad/s^2");
  c.reach_gain = spec.reach_gain;
  c.reach_threshold = spec.reach_threshold;
  c.reach_accel = spec.reach_accel;
  for (int i = 0; i < kStyleSize; ++i) {
    expect(std::isfinite(spec.style_mean[i]) && std::isfinite(spec.style_std[i]) &&
               spec.style_std[i] >= 0.0f,
           "style_mean must be finite and style_std finite and >= 0");
    m->style_mean_[i] = spec.style_mean[i];
    m->style_std_[i] = spec.style_std[i];
  }
  int w = round_up(kInputSize + spec.latent, kPad);
  w = std::max(w, round_up(H + spec.latent, kPad));
  for (const auto* mlp : {&m->enc_, &m->prior_, &m->dec_}) {
    for (const auto& l : *mlp) w = std::max(w, l.out_pad);
  }
  w = std::max(w, m->gru_ih_.out_pad);
  m->max_width_ = w;
  return m;
}

int64_t Model::num_parameters() const {
  int64_t n = 0;
  auto add = [&n](const PackedLinear& l) { n += static_cast<int64_t>(l.in) * l.out + l.out; };
  for (const auto* mlp : {&enc_, &prior_, &dec_}) {
    for (const auto& l : *mlp) add(l);
  }
  add(gru_ih_);
  add(gru_hh_);
  return n;
}

}  // namespace gazehead
