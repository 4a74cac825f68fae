#include "gazehead/model_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "gazehead/saved_state.h"  // fnv1a64
#include "json.h"
#include "sha256.h"

namespace gazehead {
static_assert(json::kMaxDepth == kMaxJsonDepth, "one nesting cap");

namespace {

using json::JsonValue;
using json::parse_json;
using json::py_float;
using Kind = JsonValue::Kind;

[[noreturn]] void refuse(const std::string& name, const std::string& what) {
  throw ModelFileError(name.empty() ? what : name + ": " + what);
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
  if (header_len > kMaxHeaderBytes) {
    bad("header is " + std::to_string(header_len) + " bytes, over the " +
        std::to_string(kMaxHeaderBytes) + " byte cap");
  }
  if (header_len > size - 8)
    bad("header length " + std::to_string(header_len) + " runs past the end of the file");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  if (!json::valid_utf8(text, static_cast<size_t>(header_len))) bad("header is not UTF-8");
  JsonValue header;
  std::string err;
  bool deep = false;
  if (!parse_json(text, static_cast<size_t>(header_len), header, err, &deep)) {
    if (deep) bad("header is nested deeper than " + std::to_string(json::kMaxDepth) + " levels");
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
      if (v.kind == Kind::kNull) continue;  // Python: `header.pop("__metadata__") or {}`
      if (v.kind != Kind::kObject) refuse(name, "metadata must map names to strings");
      for (const auto& e : v.members) {
        if (e.second.kind != Kind::kString) refuse(name, "metadata must map names to strings");
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

using Config = ModelConfigValues;

std::string py_float_list(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + py_float(v[k]);
  return s + "]";
}

// Python's repr of a parsed JSON value (lists and dicts included), for messages.
std::string py_repr(const JsonValue& v) {
  switch (v.kind) {
    case Kind::kNumber:
      return v.integral ? v.text : py_float(v.number);
    case Kind::kArray: {
      std::string s = "[";
      for (size_t k = 0; k < v.items.size() && k < 16; ++k)
        s += (k ? ", " : "") + py_repr(v.items[k]);
      return s + (v.items.size() > 16 ? ", ...]" : "]");
    }
    case Kind::kObject: {
      std::string s = "{";
      for (size_t k = 0; k < v.members.size() && k < 16; ++k) {
        s += (k ? ", " : "") + py_str(v.members[k].first) + ": " + py_repr(v.members[k].second);
      }
      return s + (v.members.size() > 16 ? ", ...}" : "}");
    }
    default:
      return py_value(v);
  }
}

bool is_int(const JsonValue& v) { return v.kind == Kind::kNumber && v.integral; }
bool is_number(const JsonValue& v) { return v.kind == Kind::kNumber; }

// json.loads of a metadata entry with the nesting cap; `text_ok`: an entry that is not JSON
// is plain text (code_revision, ...) and returns false instead of refusing.
bool metadata_json(const std::string& name, const std::string& key, const std::string& text,
                   JsonValue& out, bool text_ok) {
  std::string err;
  bool deep = false;
  if (parse_json(text.data(), text.size(), out, err, &deep)) return true;
  if (deep) {
    refuse(name, "metadata '" + key + "' is nested deeper than " + std::to_string(json::kMaxDepth) +
                     " levels");
  }
  if (text_ok) return false;
  refuse(name, "metadata '" + key + "' is not valid JSON (" + err + ")");
}

const JsonValue& json_field(const std::string& name, const Container& c, const char* key,
                            JsonValue& storage) {
  auto it = c.metadata.find(key);
  if (it == c.metadata.end()) refuse(name, std::string("metadata has no '") + key + "' entry");
  metadata_json(name, key, it->second, storage, false);
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
  // A file's JSON is typed strictly (ModelConfig.from_dict): 128.0 is not a size and "yes"
  // is not a number.
  for (const auto& m : d.members) {
    const std::string& key = m.first;
    const JsonValue& v = m.second;
    const std::string field = "config." + key;
    if (key == "hidden_size" || key == "latent_size") {
      if (!is_int(v)) refuse(name, field + " must be an integer, got " + py_repr(v));
    } else if (key == "enc_sizes" || key == "prior_sizes" || key == "dec_sizes" ||
               key == "post_sizes") {
      if (v.kind != Kind::kArray || !std::all_of(v.items.begin(), v.items.end(), is_int)) {
        refuse(name, field + " must be a list of integers, got " + py_repr(v));
      }
    } else if (key == "neck_limits" || key == "style_mean" || key == "style_std") {
      if (v.kind != Kind::kArray || !std::all_of(v.items.begin(), v.items.end(), is_number)) {
        refuse(name, field + " must be a list of numbers, got " + py_repr(v));
      }
    } else if (key == "activation") {
      if (v.kind != Kind::kString) refuse(name, field + " must be a string, got " + py_repr(v));
    } else if (!is_number(v)) {
      refuse(name, field + " must be a number, got " + py_repr(v));
    }
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
  auto numbers = [](const JsonValue& v) {
    return v.kind == Kind::kArray && std::all_of(v.items.begin(), v.items.end(), is_number);
  };
  if (d.kind != Kind::kObject || !std::all_of(d.members.begin(), d.members.end(),
                                              [&](const auto& m) { return numbers(m.second); })) {
    refuse(name, "metadata 'normalization' must map names to lists of numbers");
  }
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

// _check_plausible of model_file.py: sizes within the caps, fps and normalization within
// plausible ranges (finite but absurd values give absurd poses).
void check_plausible(const std::string& name, const Config& c, const Norm& n) {
  char buf[160];
  if (c.hidden_size > kMaxLayerSize) {
    refuse(name, "config.hidden_size is over " + std::to_string(kMaxLayerSize));
  }
  if (c.latent_size > kMaxLayerSize) {
    refuse(name, "config.latent_size is over " + std::to_string(kMaxLayerSize));
  }
  const std::pair<const char*, const std::vector<int64_t>*> lists[] = {
      {"enc_sizes", &c.enc_sizes},
      {"prior_sizes", &c.prior_sizes},
      {"dec_sizes", &c.dec_sizes},
      {"post_sizes", &c.post_sizes}};
  for (const auto& l : lists) {
    const auto& v = *l.second;
    if (v.size() > static_cast<size_t>(kMaxLayers) ||
        std::any_of(v.begin(), v.end(), [](int64_t x) { return x > kMaxLayerSize; })) {
      std::snprintf(buf, sizeof buf, "config.%s holds sizes over %d (or > %d layers)", l.first,
                    kMaxLayerSize, kMaxLayers);
      refuse(name, buf);
    }
  }
  if (!(kFpsMin <= c.fps && c.fps <= kFpsMax)) {
    refuse(name, "config.fps " + py_float(c.fps) + " is outside [" + py_float(kFpsMin) + ", " +
                     py_float(kFpsMax) + "]");
  }
  const std::pair<const char*, std::pair<const float*, int>> stds[] = {
      {"x_std", {n.x_std, kInputSize}}, {"y_std", {n.y_std, kHeadSize}}};
  for (const auto& f : stds) {
    for (int k = 0; k < f.second.second; ++k) {
      // compared in float32, as numpy compares the float32 arrays (1e-6 is a stored value)
      const float v = f.second.first[k];
      if (v < static_cast<float>(kNormStdMin) || v > static_cast<float>(kNormStdMax)) {
        std::snprintf(buf, sizeof buf, "normalization.%s must be in [%g, %g]", f.first, kNormStdMin,
                      kNormStdMax);
        refuse(name, buf);
      }
    }
  }
  const std::pair<const char*, std::pair<const float*, int>> means[] = {
      {"x_mean", {n.x_mean, kInputSize}}, {"y_mean", {n.y_mean, kHeadSize}}};
  for (const auto& f : means) {
    for (int k = 0; k < f.second.second; ++k) {
      if (std::fabs(f.second.first[k]) > static_cast<float>(kNormMeanMax)) {
        std::snprintf(buf, sizeof buf, "normalization.%s must be within +-%g", f.first,
                      kNormMeanMax);
        refuse(name, buf);
      }
    }
  }
}

constexpr const char* kHashKey = "tensors_sha256";

}  // namespace

std::string tensors_sha256(const std::vector<NamedTensor>& tensors) {
  std::vector<const NamedTensor*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const NamedTensor* a, const NamedTensor* b) { return a->name < b->name; });
  Sha256 h;
  for (const NamedTensor* t : order) {
    std::string head = t->name;
    head += '\0';
    head += py_shape(t->shape);
    head += '\0';
    h.update(head.data(), head.size());
    // float32 little-endian: the host's order on every supported platform (x86-64, arm64)
    if (!t->data.empty()) h.update(t->data.data(), t->data.size() * sizeof(float));
  }
  return Sha256::hex(h.digest());
}

ModelFile read_model_file(const unsigned char* data, size_t size, const std::string& name) {
  if (size == 0) refuse(name, "file is empty");
  if (size > kMaxModelFileBytes) {
    refuse(name, "file is over the " + std::to_string(kMaxModelFileBytes) + " byte cap");
  }
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
  check_plausible(name, cfg, norm);

  const auto shapes = expected_shapes(cfg);
  for (const auto& s : shapes) {
    if (!c.tensors.count(s.first)) refuse(name, "tensor '" + s.first + "' is missing");
  }
  for (const auto& t : c.tensors) {
    const bool known = std::any_of(shapes.begin(), shapes.end(),
                                   [&](const auto& s) { return s.first == t.first; });
    if (!known) refuse(name, "unexpected tensor '" + t.first + "' (not part of this config)");
  }
  ModelFile out;
  // Copied out of the file: safetensors offsets need not be 4-byte aligned.
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
  }
  for (const auto& s : shapes) {
    const TensorEntry& t = c.tensors.at(s.first);
    NamedTensor nt{s.first, s.second, std::vector<float>((t.end - t.begin) / sizeof(float))};
    if (!nt.data.empty()) std::memcpy(nt.data.data(), c.data + t.begin, t.end - t.begin);
    for (float x : nt.data) {
      if (!std::isfinite(x)) refuse(name, "tensor '" + s.first + "' holds non-finite values");
    }
    for (float x : nt.data) {
      if (std::fabs(x) > static_cast<float>(kWeightMax)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", kWeightMax);
        refuse(name, "tensor '" + s.first + "' holds values beyond +-" + buf);
      }
    }
    out.tensors.push_back(std::move(nt));
  }
  // The integrity hash is required: a flipped bit in a weight is finite and plausible.
  auto hash = c.metadata.find(kHashKey);
  if (hash == c.metadata.end()) {
    refuse(name, std::string("metadata has no '") + kHashKey +
                     "' entry (the integrity hash save_model writes)");
  }
  if (hash->second != tensors_sha256(out.tensors)) {
    refuse(name, std::string("metadata '") + kHashKey +
                     "' does not match the tensors (the file is corrupted or was edited)");
  }
  for (const auto& m : c.metadata) {
    if (m.first == "format_version" || m.first == "config" || m.first == "normalization" ||
        m.first == kHashKey) {
      continue;
    }
    JsonValue ignored;
    metadata_json(name, m.first, m.second, ignored, true);  // only the nesting cap refuses
    out.extra_metadata.emplace_back(m.first, m.second);
  }

  auto find = [&](const std::string& n) -> const NamedTensor& {
    for (const auto& t : out.tensors) {
      if (t.name == n) return t;
    }
    refuse(name, "tensor '" + n + "' is missing");
  };
  ModelSpec spec;
  auto linear = [&](const std::string& w, const std::string& b) {
    const NamedTensor& wt = find(w);
    const NamedTensor& bt = find(b);
    return LinearSpec{wt.data.data(),
                      wt.data.size(),
                      bt.data.data(),
                      bt.data.size(),
                      static_cast<int>(wt.shape[1]),
                      static_cast<int>(wt.shape[0])};
  };
  auto mlp = [&](const char* prefix, size_t layers, std::vector<LinearSpec>& dst) {
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
  spec.activation = cfg.activation == "relu"   ? Activation::kReLU
                    : cfg.activation == "tanh" ? Activation::kTanh
                                               : Activation::kSiLU;
  spec.fps = cfg.fps;
  for (int k = 0; k < kHeadSize; ++k) spec.neck_limits[k] = static_cast<float>(cfg.neck_limits[k]);
  spec.neck_soft = static_cast<float>(cfg.neck_soft);
  spec.eye_limit = static_cast<float>(cfg.eye_limit);
  spec.reach_gain = static_cast<float>(cfg.reach_gain);
  spec.reach_threshold = static_cast<float>(cfg.reach_threshold);
  spec.reach_accel = static_cast<float>(cfg.reach_accel);
  for (int k = 0; k < kStyleSize; ++k) {
    spec.style_mean[k] = static_cast<float>(cfg.style_mean[k]);
    spec.style_std[k] = static_cast<float>(cfg.style_std[k]);
  }
  std::memcpy(spec.x_mean, norm.x_mean, sizeof spec.x_mean);
  std::memcpy(spec.x_std, norm.x_std, sizeof spec.x_std);
  std::memcpy(spec.y_mean, norm.y_mean, sizeof spec.y_mean);
  std::memcpy(spec.y_std, norm.y_std, sizeof spec.y_std);
  out.fingerprint = fnv1a64(data, size);
  spec.fingerprint = out.fingerprint;
  try {
    out.model = Model::create(spec);
  } catch (const std::invalid_argument& e) {
    refuse(name, e.what());
  }
  out.config = cfg;
  std::memcpy(out.x_mean, norm.x_mean, sizeof out.x_mean);
  std::memcpy(out.x_std, norm.x_std, sizeof out.x_std);
  std::memcpy(out.y_mean, norm.y_mean, sizeof out.y_mean);
  std::memcpy(out.y_std, norm.y_std, sizeof out.y_std);
  Sha256 file_hash;
  file_hash.update(data, size);
  out.sha256 = Sha256::hex(file_hash.digest());
  return out;
}

ModelFile read_model_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    refuse(path, "no such model file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxModelFileBytes) {
    refuse(path, "file is " + std::to_string(st.st_size) + " bytes, over the " +
                     std::to_string(kMaxModelFileBytes) + " byte cap");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) refuse(path, std::string("cannot read the file (") + std::strerror(errno) + ")");
  // Read up to the cap plus one byte: a file that grew since stat is refused, not truncated.
  // The header's length comes first: one over its cap is refused before the rest is read.
  std::vector<unsigned char> bytes(8);
  size_t got = std::fread(bytes.data(), 1, 8, f);
  bytes.resize(got);
  uint64_t header_len = 0;
  for (size_t k = got; k-- > 0;) header_len = (header_len << 8) | bytes[k];
  if (got == 8 && header_len > kMaxHeaderBytes) {
    std::fclose(f);
    return read_model_file(bytes.data(), bytes.size(), path);  // the cap's refusal
  }
  unsigned char chunk[1 << 16];
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (bytes.size() > kMaxModelFileBytes) break;
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) refuse(path, "cannot read the file (read error)");
  return read_model_file(bytes.data(), bytes.size(), path);
}

void check_model_config(const std::string& config_json) {
  JsonValue d;
  std::string err;
  if (!parse_json(config_json.data(), config_json.size(), d, err)) {
    refuse("", "config is not valid JSON (" + err + ")");
  }
  read_config("", d);
}

}  // namespace gazehead
