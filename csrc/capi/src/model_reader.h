// Reads a gazehead_rt model file (safetensors + JSON metadata) without Python. The format is
// defined by gazehead_rt/model_file.py; every check there is made here in the same order, with
// the same messages, so a file is refused identically by both layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "gazehead/model.h"

namespace gazehead_capi {

constexpr int kModelFormatVersion = 3;  // model_file.FORMAT_VERSION (motion model v4)

// A bad model file or buffer; what() starts with the file's name.
class ModelFileError : public std::runtime_error {
 public:
  explicit ModelFileError(const std::string& what) : std::runtime_error(what) {}
};

struct ReadModel {
  std::shared_ptr<const gazehead::Model> core;
  double fps = 30.0;  // the config value as written (the core keeps a float)
  int hidden = 0;
  int latent = 0;
  // The config's head-on-torso limits, soft zone, eye clamp and style population, as float32
  // (what the core holds).
  float neck_limits[3] = {}, neck_soft = 0.0f, eye_limit = 0.0f;
  float style_mean[2] = {}, style_std[2] = {};
  uint64_t fingerprint = 0;  // FNV-1a 64 of the file bytes
};

uint64_t fnv1a64(const void* data, size_t size, uint64_t h = 0xcbf29ce484222325ULL);

// `name` prefixes every message (the path, or a caller's label for a memory buffer).
// Throws ModelFileError.
ReadModel read_model(const unsigned char* data, size_t size, const std::string& name);

}  // namespace gazehead_capi
