#include "model_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "json.h"

namespace gazehead_capi {
namespace {

using Kind = JsonValue::Kind;

[[noreturn]] void refuse(const std::string& name, const std::string& what) {
  throw ModelFileError(name + ": " + what);
}

// ---- safetensors container ------------------------------------------------------------------
// Layout: u64 little-endian header length L, L bytes of JSON header, then the tensor bytes.
// The header maps each tensor name to {dtype, shape, data_offsets [begin, end)} relative to
// the start of the tensor bytes, plus an optional "__metadata__" string -> string map.

struct TensorEntry {
  std::string dtype;  // safetensors code: F32, F16, BF16, I64, ...
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;  // byte range in the data section
};

struct Container {
  std::map<std::string, TensorEntry> tensors;  // sorted by name, as safetensors lists them
  std::map<std::string, std::string> metadata;
  const unsigned char* data = nullptr;  // start of the data section
};

size_t dtype_size(const std::string& d) {
  static const std::pair<const char*, size_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  for (const auto& s : kSizes) {
    if (d == s.first) return s.second;
  }
  return 0;
}

// The dtype as numpy names it (model_file.py reports `a.dtype`).
std::string numpy_dtype(const std::string& d) {
  static const std::pair<const char*, const char*> kNames[] = {{"BOOL", "bool"},
                                                               {"U8", "uint8"},
                                                               {"I8", "int8"},
                                                               {"I16", "int16"},
                                                               {"U16", "uint16"},
                                                               {"F16", "float16"},
                                                               {"BF16", "bfloat16"},
                                                               {"I32", "int32"},
                                                               {"U32", "uint32"},
                                                               {"F32", "float32"},
                                                               {"F64", "float64"},
                                                               {"I64", "int64"},
                                                               {"U64", "uint64"},
                                                               {"F8_E5M2", "float8_e5m2"},
                                                               {"F8_E4M3", "float8_e4m3fn"}};
  for (const auto& s : kNames) {
    if (d == s.first) return s.second;
  }
  return d;
}

Container parse_container(const unsigned char* bytes, size_t size, const std::string& name) {
  auto bad = [&](const std::string& why) {
    refuse(name, "not a readable safetensors file (" + why + ")");
  };
  if (size < 8) bad("file is shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int k = 7; k >= 0; --k) header_len = (header_len << 8) | bytes[k];
  if (header_len > size - 8)
    bad("header length " + std::to_string(header_len) + " runs past the end of the file");
  JsonValue header;
  std::string err;
  if (!parse_json(reinterpret_cast<const char*>(bytes + 8), static_cast<size_t>(header_len), header,
                  err)) {
    bad("header is not valid JSON: " + err);
  }
  if (header.kind != Kind::kObject) bad("header is not a JSON object");
  Container c;
  c.data = bytes + 8 + header_len;
  const size_t data_size = size - 8 - static_cast<size_t>(header_len);
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& m : header.members) {
    const JsonValue& v = m.second;
    if (m.first == "__metadata__") {
      if (v.kind != Kind::kObject) bad("__metadata__ is not an object");
      for (const auto& e : v.members) {
        if (e.second.kind != Kind::kString) bad("metadata value '" + e.first + "' is not a string");
        c.metadata[e.first] = e.second.text;
      }
      continue;
    }
    const JsonValue* dtype = v.find("dtype");
    const JsonValue* shape = v.find("shape");
    const JsonValue* offs = v.find("data_offsets");
    if (v.kind != Kind::kObject || !dtype || !shape || !offs || dtype->kind != Kind::kString ||
        shape->kind != Kind::kArray || offs->kind != Kind::kArray || offs->items.size() != 2) {
      bad("tensor '" + m.first + "' has no valid dtype, shape and data_offsets");
    }
    TensorEntry t;
    t.dtype = dtype->text;
    const size_t esize = dtype_size(t.dtype);
    if (esize == 0) bad("tensor '" + m.first + "' has unknown dtype " + t.dtype);
    uint64_t count = 1;
    for (const JsonValue& d : shape->items) {
      if (d.kind != Kind::kNumber || !d.integral || d.number < 0 || d.number > 9.0e15) {
        bad("tensor '" + m.first + "' has an invalid shape");
      }
      t.shape.push_back(static_cast<int64_t>(d.number));
      count *= static_cast<uint64_t>(d.number);
      if (count > data_size) bad("tensor '" + m.first + "' is larger than the file");
    }
    for (const JsonValue& o : offs->items) {
      if (o.kind != Kind::kNumber || !o.integral || o.number < 0 ||
          o.number > static_cast<double>(data_size)) {
        bad("tensor '" + m.first + "' has data_offsets outside the file");
      }
    }
    t.begin = static_cast<size_t>(offs->items[0].number);
    t.end = static_cast<size_t>(offs->items[1].number);
    if (t.end < t.begin || t.end - t.begin != count * esize) {
      bad("tensor '" + m.first + "': data_offsets do not match its shape and dtype");
    }
    ranges.emplace_back(t.begin, t.end);
    c.tensors[m.first] = std::move(t);
  }
  // The tensors must tile the data section exactly, as the safetensors library requires.
  std::sort(ranges.begin(), ranges.end());
  size_t at = 0;
  for (const auto& r : ranges) {
    if (r.first != at)
      bad("tensor data is not contiguous (overlap or gap at byte " + std::to_string(at) + ")");
    at = r.second;
  }
  if (at != data_size)
    bad("the tensors do not cover the data section (" + std::to_string(data_size - at) +
        " bytes left over)");
  return c;
}

// ---- Python-style formatting for messages ---------------------------------------------------

std::string py_str(const std::string& s) {  // repr of a str, for the common cases
  return (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? "\"" + s + "\""
                                                                                 : "'" + s + "'";
}

std::string py_shape(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ", ";
    s += std::to_string(shape[k]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string py_list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t k = 0; k < v.size(); ++k) {
    if (k) s += ", ";
    s += std::to_string(v[k]);
  }
  return s + "]";
}

std::string py_value(const JsonValue& v) {  // repr of a parsed JSON value, roughly
  switch (v.kind) {
    case Kind::kNull:
      return "None";
    case Kind::kBool:
      return v.boolean ? "True" : "False";
    case Kind::kNumber:
      return v.text == "NaN"         ? "nan"
             : v.text == "Infinity"  ? "inf"
             : v.text == "-Infinity" ? "-inf"
                                     : v.text;
    case Kind::kString:
      return py_str(v.text);
    default:
      return v.kind_name();
  }
}

// ---- config and normalization (model_file.ModelConfig / Normalization) ----------------------

constexpr double kPiD = 3.14159265358979323846;
constexpr double kDegD = kPiD / 180.0;

// ModelConfig's defaults, in double as Python holds them.
struct Config {
  std::vector<int64_t> enc_sizes{64, 64}, prior_sizes{64}, dec_sizes{128, 64}, post_sizes{64};
  int64_t hidden_size = 128, latent_size = 8;
  std::string activation = "silu";
  double fps = 30.0;
  std::vector<double> neck_limits{40 * kDegD, 70 * kDegD, 30 * kDegD};
  double neck_soft = 0.75;
  double eye_limit = 55 * kDegD;
  double reach_gain = 3.0, reach_threshold = 15 * kDegD, reach_accel = 2000 * kDegD;
  std::vector<double> style_mean{0.5, 0.5}, style_std{0.2, 0.3};
};

// Python's repr of a float: the fewest digits that read back to the same double, positional
// for decimal exponents in [-4, 16), scientific otherwise.
std::string py_float(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  int digits = 1;
  for (; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  const int exp10 = std::atoi(std::strchr(buf, 'e') + 1);
  if (exp10 < -4 || exp10 >= 16) return buf;  // "1e-05", "1.5e+20", as Python writes them
  std::snprintf(buf, sizeof buf, "%.*f", std::max(digits - 1 - exp10, 1), x);
  return buf;
}

std::string py_float_list(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + py_float(v[k]);
  return s + "]";
}

const JsonValue& json_field(const std::string& name, const Container& c, const char* key,
                            JsonValue& storage) {
  auto it = c.metadata.find(key);
  if (it == c.metadata.end()) refuse(name, std::string("metadata has no '") + key + "' entry");
  std::string err;
  if (!parse_json(it->second.data(), it->second.size(), storage, err)) {
    refuse(name, std::string("metadata '") + key + "' is not valid JSON (" + err + ")");
  }
  return storage;
}

std::vector<int64_t> size_list(const std::string& name, const char* field, const JsonValue& v) {
  if (v.kind != Kind::kArray)
    refuse(name, std::string("config.") + field + " must be a list of sizes");
  std::vector<int64_t> out;
  for (const JsonValue& x : v.items) {
    if (x.kind != Kind::kNumber || !std::isfinite(x.number) || std::fabs(x.number) > 1e9) {
      refuse(name, std::string("config.") + field + " must be a list of sizes");
    }
    out.push_back(static_cast<int64_t>(x.number));  // int() truncates, as in ModelConfig
  }
  for (int64_t s : out) {
    if (s <= 0)
      refuse(name,
             std::string("config.") + field + " must hold positive sizes, got " + py_list(out));
  }
  return out;
}

int64_t int_field(const std::string& name, const char* field, const JsonValue& v) {
  if (v.kind != Kind::kNumber || !v.integral || std::fabs(v.number) > 1e9) {
    refuse(name, std::string("config.") + field + " must be an integer, got " + py_value(v));
  }
  return static_cast<int64_t>(v.number);
}

Config read_config(const std::string& name, const JsonValue& d) {
  if (d.kind != Kind::kObject) refuse(name, "metadata 'config' must be a JSON object");
  static const char* kKnown[] = {"enc_sizes",   "hidden_size", "prior_sizes",     "latent_size",
                                 "dec_sizes",   "post_sizes",  "activation",      "fps",
                                 "neck_limits", "neck_soft",   "eye_limit",       "style_mean",
                                 "style_std",   "reach_gain",  "reach_threshold", "reach_accel"};
  std::vector<std::string> unknown;
  for (const auto& m : d.members) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return m.first == k; })) {
      unknown.push_back(m.first);
    }
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    std::string list = "[";
    for (size_t k = 0; k < unknown.size(); ++k) list += (k ? ", " : "") + py_str(unknown[k]);
    refuse(name, "config has unknown keys " + list + "]");
  }
  Config c;
  // Same order of checks as ModelConfig.__post_init__.
  if (const JsonValue* v = d.find("enc_sizes")) c.enc_sizes = size_list(name, "enc_sizes", *v);
  if (const JsonValue* v = d.find("prior_sizes"))
    c.prior_sizes = size_list(name, "prior_sizes", *v);
  if (const JsonValue* v = d.find("dec_sizes")) c.dec_sizes = size_list(name, "dec_sizes", *v);
  if (const JsonValue* v = d.find("post_sizes")) c.post_sizes = size_list(name, "post_sizes", *v);
  if (c.enc_sizes.empty()) refuse(name, "config.enc_sizes must name at least one layer");
  if (const JsonValue* v = d.find("activation")) {
    if (v->kind != Kind::kString || (v->text != "silu" && v->text != "relu" && v->text != "tanh")) {
      refuse(name,
             "config.activation must be one of ('silu', 'relu', 'tanh'), got " + py_value(*v));
    }
    c.activation = v->text;
  }
  if (const JsonValue* v = d.find("hidden_size"))
    c.hidden_size = int_field(name, "hidden_size", *v);
  if (const JsonValue* v = d.find("latent_size"))
    c.latent_size = int_field(name, "latent_size", *v);
  if (c.hidden_size <= 0 || c.latent_size <= 0) {
    refuse(name, "config.hidden_size and config.latent_size must be positive");
  }
  if (const JsonValue* v = d.find("fps")) {
    if (v->kind != Kind::kNumber || !std::isfinite(v->number) || v->number <= 0) {
      refuse(name, "config.fps must be a positive number, got " + py_value(*v));
    }
    c.fps = v->number;
  }
  // neck_limits, style_mean, style_std: n finite numbers each
  struct Vec {
    const char* key;
    std::vector<double>* dst;
    size_t n;
  } vecs[] = {{"neck_limits", &c.neck_limits, 3},
              {"style_mean", &c.style_mean, 2},
              {"style_std", &c.style_std, 2}};
  for (const Vec& f : vecs) {
    const JsonValue* v = d.find(f.key);
    if (!v) continue;
    std::vector<double> vals;
    bool numbers = v->kind == Kind::kArray;
    if (numbers) {
      for (const JsonValue& x : v->items) {
        if (x.kind == Kind::kNumber)
          vals.push_back(x.number);
        else if (x.kind == Kind::kBool)
          vals.push_back(x.boolean ? 1.0 : 0.0);
        else
          numbers = false;
      }
    }
    if (!numbers)
      refuse(name, std::string("config.") + f.key + " must hold " + std::to_string(f.n) +
                       " finite numbers");
    bool ok = vals.size() == f.n;
    for (double x : vals) ok = ok && std::isfinite(x);
    if (!ok) {
      refuse(name, std::string("config.") + f.key + " must hold " + std::to_string(f.n) +
                       " finite numbers, got " + py_float_list(vals));
    }
    *f.dst = vals;
  }
  const std::vector<double>& lim = c.neck_limits;
  if (!(0 < lim[0] && lim[0] <= kPiD / 2 && 0 < lim[1] && lim[1] < kPiD && 0 < lim[2] &&
        lim[2] <= kPiD / 2)) {
    refuse(name,
           "config.neck_limits must be in (0, pi/2] (pitch, roll) and (0, pi) (yaw) rad, got " +
               py_float_list(lim));
  }
  // neck_soft and eye_limit: messages show the value as written (repr of an int or a float)
  auto scalar = [&](const char* key, double& dst, const char* range) {
    const JsonValue* v = d.find(key);
    if (!v) return;
    if (v->kind != Kind::kNumber)
      refuse(name, std::string("config.") + key + " must be " + range + ", got " + py_value(*v));
    dst = v->number;
  };
  auto shown = [&](const char* key, double x) {
    const JsonValue* v = d.find(key);
    return (v && v->integral) ? v->text : py_float(x);
  };
  scalar("neck_soft", c.neck_soft, "in [0, 1)");
  if (!(0.0 <= c.neck_soft && c.neck_soft < 1.0)) {
    refuse(name, "config.neck_soft must be in [0, 1), got " + shown("neck_soft", c.neck_soft));
  }
  scalar("eye_limit", c.eye_limit, "in (0, pi/2] rad");
  if (!(0 < c.eye_limit && c.eye_limit <= kPiD / 2)) {
    refuse(name,
           "config.eye_limit must be in (0, pi/2] rad, got " + shown("eye_limit", c.eye_limit));
  }
  for (double x : c.style_std) {
    if (x < 0) refuse(name, "config.style_std must be >= 0, got " + py_float_list(c.style_std));
  }
  scalar("reach_gain", c.reach_gain, "in [0, 100] 1/s");
  if (!(0.0 <= c.reach_gain && c.reach_gain <= 100.0)) {
    refuse(name,
           "config.reach_gain must be in [0, 100] 1/s, got " + shown("reach_gain", c.reach_gain));
  }
  scalar("reach_threshold", c.reach_threshold, "in [0, pi/2] rad");
  if (!(0.0 <= c.reach_threshold && c.reach_threshold <= kPiD / 2)) {
    refuse(name, "config.reach_threshold must be in [0, pi/2] rad, got " +
                     shown("reach_threshold", c.reach_threshold));
  }
  scalar("reach_accel", c.reach_accel, "in (0, 1000] rad/s^2");
  if (!(0.0 < c.reach_accel && c.reach_accel <= 1000.0)) {
    refuse(name, "config.reach_accel must be in (0, 1000] rad/s^2, got " +
                     shown("reach_accel", c.reach_accel));
  }
  return c;
}

struct Norm {
  float x_mean[gazehead::kInputSize], x_std[gazehead::kInputSize];
  float y_mean[gazehead::kHeadSize], y_std[gazehead::kHeadSize];
};

Norm read_normalization(const std::string& name, const JsonValue& d) {
  if (d.kind != Kind::kObject) refuse(name, "metadata 'normalization' must be a JSON object");
  struct Field {
    const char* key;
    float* dst;
    int n;
    float fill;
  };
  Norm nm;
  Field fields[] = {{"x_mean", nm.x_mean, gazehead::kInputSize, 0.0f},
                    {"x_std", nm.x_std, gazehead::kInputSize, 1.0f},
                    {"y_mean", nm.y_mean, gazehead::kHeadSize, 0.0f},
                    {"y_std", nm.y_std, gazehead::kHeadSize, 1.0f}};
  for (const auto& m : d.members) {
    if (std::none_of(std::begin(fields), std::end(fields),
                     [&](const Field& f) { return m.first == f.key; })) {
      refuse(name,
             "Normalization.__init__() got an unexpected keyword argument " + py_str(m.first));
    }
  }
  for (const Field& f : fields) {
    std::fill_n(f.dst, f.n, f.fill);
    const JsonValue* v = d.find(f.key);
    if (!v) continue;
    std::vector<double> vals;
    if (v->kind == Kind::kNumber) {
      vals.push_back(v->number);
    } else if (v->kind == Kind::kArray) {
      for (const JsonValue& x : v->items) {
        if (x.kind != Kind::kNumber)
          refuse(name, std::string("normalization.") + f.key + " must hold numbers");
        vals.push_back(x.number);
      }
    } else {
      refuse(name, std::string("normalization.") + f.key + " must hold numbers");
    }
    if (static_cast<int>(vals.size()) != f.n) {
      refuse(name, std::string("normalization.") + f.key + " must have " + std::to_string(f.n) +
                       " values, got " + std::to_string(vals.size()));
    }
    for (int k = 0; k < f.n; ++k) f.dst[k] = static_cast<float>(vals[k]);
    for (int k = 0; k < f.n; ++k) {
      if (!std::isfinite(f.dst[k]))
        refuse(name, std::string("normalization.") + f.key + " holds non-finite values");
    }
    if (f.fill == 1.0f) {
      for (int k = 0; k < f.n; ++k) {
        if (f.dst[k] <= 0.0f)
          refuse(name, std::string("normalization.") + f.key + " must be positive");
      }
    }
  }
  return nm;
}

// model_file.expected_shapes, in its order.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_shapes(const Config& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  auto mlp = [&](const char* prefix, int64_t in, std::vector<int64_t> outs) {
    for (size_t i = 0; i < outs.size(); ++i) {
      const std::string p = std::string(prefix) + "." + std::to_string(2 * i);
      out.push_back({p + ".weight", {outs[i], in}});
      out.push_back({p + ".bias", {outs[i]}});
      in = outs[i];
    }
  };
  const int64_t H = c.hidden_size, Z = c.latent_size, E = c.enc_sizes.back();
  mlp("enc", gazehead::kInputSize + Z, c.enc_sizes);  // [x_norm (9), z_{t-1} (Z)]
  out.push_back({"gru.weight_ih", {3 * H, E}});
  out.push_back({"gru.weight_hh", {3 * H, H}});
  out.push_back({"gru.bias_ih", {3 * H}});
  out.push_back({"gru.bias_hh", {3 * H}});
  std::vector<int64_t> prior = c.prior_sizes, dec = c.dec_sizes;
  prior.push_back(2 * Z);
  dec.push_back(gazehead::kHeadSize);
  mlp("prior", H, prior);
  mlp("dec", H + Z, dec);
  return out;
}

}  // namespace

uint64_t fnv1a64(const void* data, size_t size, uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t k = 0; k < size; ++k) {
    h ^= p[k];
    h *= 0x100000001b3ULL;
  }
  return h;
}

ReadModel read_model(const unsigned char* data, size_t size, const std::string& name) {
  if (size == 0) refuse(name, "file is empty");
  const Container c = parse_container(data, size, name);

  auto version = c.metadata.find("format_version");
  if (version == c.metadata.end()) {
    refuse(name, "metadata has no 'format_version'; not a gazehead_rt model file");
  }
  if (version->second == "1" || version->second == "2") {
    const bool v1 = version->second == "1";
    refuse(name, "format_version " + version->second +
                     (v1 ? " (motion model v2)" : " (motion model v3)") +
                     " is not supported; this runtime runs format_version " +
                     std::to_string(kModelFormatVersion) + " (motion model v4): retrain or use " +
                     (v1 ? "gazehead_rt<0.2" : "gazehead_rt<0.3"));
  }
  if (version->second != std::to_string(kModelFormatVersion)) {
    refuse(name, "format_version " + version->second +
                     " is not supported (this runtime reads version " +
                     std::to_string(kModelFormatVersion) + ")");
  }
  JsonValue cfg_json, norm_json;
  const Config cfg = read_config(name, json_field(name, c, "config", cfg_json));
  const Norm norm = read_normalization(name, json_field(name, c, "normalization", norm_json));

  const auto shapes = expected_shapes(cfg);
  for (const auto& s : shapes) {
    if (!c.tensors.count(s.first)) refuse(name, "tensor '" + s.first + "' is missing");
  }
  for (const auto& t : c.tensors) {
    const bool known = std::any_of(shapes.begin(), shapes.end(),
                                   [&](const auto& s) { return s.first == t.first; });
    if (!known) refuse(name, "unexpected tensor '" + t.first + "' (not part of this config)");
  }
  // Copied out of the file: safetensors offsets need not be 4-byte aligned.
  std::map<std::string, std::vector<float>> arrays;
  for (const auto& s : shapes) {
    const TensorEntry& t = c.tensors.at(s.first);
    if (t.dtype != "F32") {
      refuse(name,
             "tensor '" + s.first + "' has dtype " + numpy_dtype(t.dtype) + ", expected float32");
    }
    if (t.shape != s.second) {
      refuse(name, "tensor '" + s.first + "' has shape " + py_shape(t.shape) + ", expected " +
                       py_shape(s.second));
    }
    std::vector<float> a((t.end - t.begin) / sizeof(float));
    if (!a.empty()) std::memcpy(a.data(), c.data + t.begin, t.end - t.begin);
    for (float x : a) {
      if (!std::isfinite(x)) refuse(name, "tensor '" + s.first + "' holds non-finite values");
    }
    arrays[s.first] = std::move(a);
  }

  gazehead::ModelSpec spec;
  auto linear = [&](const std::string& w, const std::string& b) {
    const auto& shape = c.tensors.at(w).shape;
    const std::vector<float>& wa = arrays.at(w);
    const std::vector<float>& ba = arrays.at(b);
    return gazehead::LinearSpec{wa.data(),
                                wa.size(),
                                ba.data(),
                                ba.size(),
                                static_cast<int>(shape[1]),
                                static_cast<int>(shape[0])};
  };
  auto mlp = [&](const char* prefix, size_t layers, std::vector<gazehead::LinearSpec>& dst) {
    for (size_t i = 0; i < layers; ++i) {
      const std::string p = std::string(prefix) + "." + std::to_string(2 * i);
      dst.push_back(linear(p + ".weight", p + ".bias"));
    }
  };
  mlp("enc", cfg.enc_sizes.size(), spec.enc);
  mlp("prior", cfg.prior_sizes.size() + 1, spec.prior);
  mlp("dec", cfg.dec_sizes.size() + 1, spec.dec);
  spec.gru_ih = linear("gru.weight_ih", "gru.bias_ih");
  spec.gru_hh = linear("gru.weight_hh", "gru.bias_hh");
  spec.hidden = static_cast<int>(cfg.hidden_size);
  spec.latent = static_cast<int>(cfg.latent_size);
  spec.activation = cfg.activation == "relu"   ? gazehead::Activation::kReLU
                    : cfg.activation == "tanh" ? gazehead::Activation::kTanh
                                               : gazehead::Activation::kSiLU;
  spec.fps = static_cast<float>(cfg.fps);
  for (int k = 0; k < gazehead::kHeadSize; ++k)
    spec.neck_limits[k] = static_cast<float>(cfg.neck_limits[k]);
  spec.neck_soft = static_cast<float>(cfg.neck_soft);
  spec.eye_limit = static_cast<float>(cfg.eye_limit);
  spec.reach_gain = static_cast<float>(cfg.reach_gain);
  spec.reach_threshold = static_cast<float>(cfg.reach_threshold);
  spec.reach_accel = static_cast<float>(cfg.reach_accel);
  for (int k = 0; k < gazehead::kStyleSize; ++k) {
    spec.style_mean[k] = static_cast<float>(cfg.style_mean[k]);
    spec.style_std[k] = static_cast<float>(cfg.style_std[k]);
  }
  std::memcpy(spec.x_mean, norm.x_mean, sizeof spec.x_mean);
  std::memcpy(spec.x_std, norm.x_std, sizeof spec.x_std);
  std::memcpy(spec.y_mean, norm.y_mean, sizeof spec.y_mean);
  std::memcpy(spec.y_std, norm.y_std, sizeof spec.y_std);

  ReadModel out;
  try {
    out.core = gazehead::Model::create(spec);
  } catch (const std::invalid_argument& e) {
    refuse(name, e.what());
  }
  out.fps = cfg.fps;
  out.hidden = spec.hidden;
  out.latent = spec.latent;
  std::copy_n(spec.neck_limits, 3, out.neck_limits);
  out.neck_soft = spec.neck_soft;
  out.eye_limit = spec.eye_limit;
  std::copy_n(spec.style_mean, 2, out.style_mean);
  std::copy_n(spec.style_std, 2, out.style_std);
  out.fingerprint = fnv1a64(data, size);
  return out;
}

}  // namespace gazehead_capi
