// Reading a gazehead_rt model file (safetensors + JSON metadata; docs/design.md §4): the one
// reader of every surface (Python's load_model, the C ABI, C++ programs). The format is
// written by gazehead_rt/model_file.py (save_model). Sizes are capped before anything is
// allocated, the config is typed strictly, values must be plausible, the tensors must match
// the integrity hash the writer stores: a file is either loaded whole or refused with one
// ModelFileError naming it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gazehead/model.h"

namespace gazehead {

constexpr int kModelFormatVersion = kFormatVersion;  // model_file.FORMAT_VERSION
// Caps checked before anything is allocated from a file's contents (model_file.py repeats
// them for its messages and tests).
constexpr size_t kMaxModelFileBytes = size_t{64} << 20;
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
constexpr int kMaxJsonDepth = 16;    // nesting of any metadata entry's JSON
constexpr int kMaxLayerSize = 4096;  // any one layer width or state size
constexpr int kMaxLayers = 64;       // per MLP
// Plausible ranges (finite but absurd values give absurd poses).
constexpr double kNormStdMin = 1e-6, kNormStdMax = 1e6, kNormMeanMax = 1e6;
constexpr double kFpsMin = 1.0, kFpsMax = 1000.0;
constexpr double kWeightMax = 1e4;

// A bad model file or buffer; what() starts with the file's name.
class ModelFileError : public std::runtime_error {
 public:
  explicit ModelFileError(const std::string& what) : std::runtime_error(what) {}
};

// The model's config as written (ModelConfig's fields, defaults filled in), in double as
// Python holds them.
constexpr double kPiDouble = 3.14159265358979323846;

struct ModelConfigValues {
  std::vector<int64_t> enc_sizes{64, 64}, prior_sizes{64}, dec_sizes{128, 64}, post_sizes{64};
  int64_t hidden_size = 128, latent_size = 8;
  std::string activation = "silu";
  double fps = 30.0;
  std::vector<double> neck_limits{40 * kPiDouble / 180, 70 * kPiDouble / 180, 30 * kPiDouble / 180};
  double neck_soft = 0.75;
  double eye_limit = 55 * kPiDouble / 180;
  double reach_gain = 3.0;                        // 1/s, in [0, 100]
  double reach_threshold = 15 * kPiDouble / 180;  // rad, in [0, pi/2]
  double reach_accel = 2000 * kPiDouble / 180;    // rad/s^2, in (0, 1000]
  std::vector<double> style_mean{0.5, 0.5}, style_std{0.2, 0.3};
};

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct ModelFile {
  std::shared_ptr<const Model> model;
  ModelConfigValues config;
  float x_mean[kInputSize], x_std[kInputSize], y_mean[kHeadSize], y_std[kHeadSize];
  std::vector<NamedTensor> tensors;  // in model_file.expected_shapes order
  // metadata entries other than format_version, config, normalization and tensors_sha256
  // (provenance, metrics, code_revision, ...), as written
  std::vector<std::pair<std::string, std::string>> extra_metadata;
  std::string sha256;        // hex SHA-256 of the file's bytes (Python's LoadedModel.sha256)
  uint64_t fingerprint = 0;  // FNV-1a 64 of the file's bytes (saved states carry it)
};

// `name` prefixes every message (the path, or a caller's label for a memory buffer).
ModelFile read_model_file(const unsigned char* data, size_t size, const std::string& name);
// The file at `path`: a regular file, at most kMaxModelFileBytes, read whole (the bytes checked
// are the bytes used).
ModelFile read_model_file(const std::string& path);

// The config checks of read_model_file on a config's JSON alone (ModelConfig, the training
// side's constructor, goes through them): ModelFileError without a file name otherwise.
void check_model_config(const std::string& config_json);

// The integrity hash of tensors: SHA-256 over each tensor's name, b"\0", its shape as Python's
// repr of a tuple, b"\0" and its float32 little-endian bytes, in name order (hex). Written by
// save_model as metadata tensors_sha256.
std::string tensors_sha256(const std::vector<NamedTensor>& tensors);

}  // namespace gazehead
