#include "gazehead/model.h"

#include <cmath>
#include <cstdio>

namespace gazehead {
namespace {

int round_up(int x, int m) { return (x + m - 1) / m * m; }

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
  return p;
}

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

std::vector<PackedLinear> pack_mlp(const std::vector<LinearSpec>& layers, const char* mlp,
                                   int in, int out_last) {
  expect(!layers.empty(), std::string(mlp) + ": needs at least one layer");
  std::vector<PackedLinear> packed;
  for (size_t k = 0; k < layers.size(); ++k) {
    const std::string name = std::string(mlp) + "." + std::to_string(2 * k);
    char msg[160];
    std::snprintf(msg, sizeof msg, "layer %s: input size %d, expected %d", name.c_str(),
                  layers[k].in, in);
    expect(layers[k].in == in, msg);
    packed.push_back(pack(layers[k], name));
    in = layers[k].out;
  }
  if (out_last > 0) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "layer %s.%d: output size %d, expected %d", mlp,
                  static_cast<int>(2 * (layers.size() - 1)), in, out_last);
    expect(in == out_last, msg);
  }
  return packed;
}

}  // namespace

std::shared_ptr<const Model> Model::create(const ModelSpec& spec) {
  expect(spec.hidden > 0 && spec.latent > 0, "hidden and latent sizes must be positive");
  expect(std::isfinite(spec.fps) && spec.fps > 0.0f, "fps must be positive");
  std::shared_ptr<Model> m(new Model());
  m->hidden_ = spec.hidden;
  m->latent_ = spec.latent;
  m->activation_ = spec.activation;
  m->residual_ = spec.residual;
  m->fps_ = spec.fps;
  m->enc_ = pack_mlp(spec.enc, "enc", kInputSize, 0);
  const int H = spec.hidden;
  expect(spec.gru_ih.in == m->embed() && spec.gru_ih.out == 3 * H,
         "gru.weight_ih: expected shape (3*hidden, embed)");
  expect(spec.gru_hh.in == H && spec.gru_hh.out == 3 * H,
         "gru.weight_hh: expected shape (3*hidden, hidden)");
  m->gru_ih_ = pack(spec.gru_ih, "gru.ih");
  m->gru_hh_ = pack(spec.gru_hh, "gru.hh");
  m->prior_ = pack_mlp(spec.prior, "prior", H, 2 * spec.latent);
  m->dec_ = pack_mlp(spec.dec, "dec", H + spec.latent, kHeadSize);
  for (int i = 0; i < kInputSize; ++i) {
    expect(spec.x_std[i] > 0.0f, "normalization x_std must be positive");
    m->x_mean_[i] = spec.x_mean[i];
    m->x_std_[i] = spec.x_std[i];
  }
  for (int i = 0; i < kHeadSize; ++i) {
    expect(spec.y_std[i] > 0.0f, "normalization y_std must be positive");
    m->y_mean_[i] = spec.y_mean[i];
    m->y_std_[i] = spec.y_std[i];
  }
  int w = round_up(kInputSize, kPad);
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
