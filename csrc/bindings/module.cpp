// gazehead_rt._C: pybind11 bindings only. Shapes and dtypes are checked in gazehead_rt/ before
// calls reach here; this layer re-checks sizes cheaply (a wrong size here would be a memory
// error, not a user error), converts, releases the GIL around core work and maps exceptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "../core/src/kernels.h"
#include "build_config.h"
#include "gazehead/cpu_generator.h"
#include "gazehead/model.h"
#include "gazehead/model_file.h"
#include "gazehead/philox.h"
#include "gazehead/saved_state.h"
#include "generator_bindings.h"

namespace py = pybind11;

#if GAZEHEAD_CUDA_BUILT
void register_cuda(py::module_& m);  // cuda_bindings.cpp
#endif
using namespace gazehead;
using namespace gazehead_bindings;
using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;

namespace {

// The model as one structure: the dict gazehead_rt.model_file.runtime_spec() builds. Tensor
// names are not known here; layers arrive as ordered (weight (out, in), bias (out,)) pairs.
std::shared_ptr<const Model> make_model(const py::dict& d) {
  auto item = [&](const char* key) -> py::object {
    if (!d.contains(key)) throw py::key_error(std::string("model spec: missing '") + key + "'");
    return d[key];
  };
  ModelSpec spec;
  std::vector<F32> keep;  // owners of the arrays the spec points into, alive until create()
  auto linear = [&](const py::handle& pair, const std::string& what) {
    auto t = pair.cast<py::tuple>();
    if (t.size() != 2) throw py::value_error(what + ": expected a (weight, bias) pair");
    F32 w = t[0].cast<F32>(), b = t[1].cast<F32>();
    if (w.ndim() != 2 || b.ndim() != 1 || b.shape(0) != w.shape(0)) {
      throw py::value_error(what + ": weight must be (out, in), bias (out,)");
    }
    keep.push_back(w);
    keep.push_back(b);
    return LinearSpec{w.data(),
                      static_cast<size_t>(w.size()),
                      b.data(),
                      static_cast<size_t>(b.size()),
                      static_cast<int>(w.shape(1)),
                      static_cast<int>(w.shape(0))};
  };
  auto layers = [&](const char* key) {
    std::vector<LinearSpec> out;
    int i = 0;
    for (const py::handle& pair : item(key).cast<py::list>()) {
      out.push_back(linear(pair, std::string(key) + " layer " + std::to_string(i++)));
    }
    return out;
  };
  auto floats = [&](const char* key, float* dst, py::ssize_t n) {
    auto a = item(key).cast<py::array_t<float, py::array::c_style | py::array::forcecast>>();
    check_size(a, n, key);
    std::memcpy(dst, a.data(), sizeof(float) * n);
  };
  spec.enc = layers("enc");
  spec.prior = layers("prior");
  spec.dec = layers("dec");
  spec.gru_ih = linear(item("gru_ih"), "gru_ih");
  spec.gru_hh = linear(item("gru_hh"), "gru_hh");
  spec.hidden = item("hidden").cast<int>();
  spec.latent = item("latent").cast<int>();
  const std::string act = item("activation").cast<std::string>();
  if (act == "silu")
    spec.activation = Activation::kSiLU;
  else if (act == "relu")
    spec.activation = Activation::kReLU;
  else if (act == "tanh")
    spec.activation = Activation::kTanh;
  else
    throw py::value_error("unknown activation '" + act + "'");
  spec.fps = item("fps").cast<double>();
  if (d.contains("fingerprint")) spec.fingerprint = d["fingerprint"].cast<uint64_t>();
  floats("x_mean", spec.x_mean, kInputSize);
  floats("x_std", spec.x_std, kInputSize);
  floats("y_mean", spec.y_mean, kHeadSize);
  floats("y_std", spec.y_std, kHeadSize);
  floats("neck_limits", spec.neck_limits, kHeadSize);
  floats("style_mean", spec.style_mean, kStyleSize);
  floats("style_std", spec.style_std, kStyleSize);
  spec.neck_soft = item("neck_soft").cast<float>();
  spec.eye_limit = item("eye_limit").cast<float>();
  spec.reach_gain = item("reach_gain").cast<float>();
  spec.reach_threshold = item("reach_threshold").cast<float>();
  spec.reach_accel = item("reach_accel").cast<float>();
  return Model::create(spec);
}

// A model config as ModelConfig's fields (gazehead_rt.model_file).
py::dict config_dict(const ModelConfigValues& c) {
  py::dict config;
  config["enc_sizes"] = c.enc_sizes;
  config["hidden_size"] = c.hidden_size;
  config["prior_sizes"] = c.prior_sizes;
  config["latent_size"] = c.latent_size;
  config["dec_sizes"] = c.dec_sizes;
  config["post_sizes"] = c.post_sizes;
  config["activation"] = c.activation;
  config["fps"] = c.fps;
  config["neck_limits"] = c.neck_limits;
  config["neck_soft"] = c.neck_soft;
  config["eye_limit"] = c.eye_limit;
  config["reach_gain"] = c.reach_gain;
  config["reach_threshold"] = c.reach_threshold;
  config["reach_accel"] = c.reach_accel;
  config["style_mean"] = c.style_mean;
  config["style_std"] = c.style_std;
  return config;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "gazehead_rt native core (private; use the gazehead_rt package)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidInput& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const StateError& e) {
      py::object state_error = py::module_::import("gazehead_rt.errors").attr("StateError");
      PyErr_SetString(state_error.ptr(), e.what());
    } catch (const ModelFileError& e) {
      // gazehead_rt.errors.ModelError (a ValueError), imported when first needed
      py::object model_error = py::module_::import("gazehead_rt.errors").attr("ModelError");
      PyErr_SetString(model_error.ptr(), e.what());
    }
  });

  m.def(
      "constants",
      []() {
        py::dict d;
        d["FORMAT_VERSION"] = kFormatVersion;
        d["INPUT_SIZE"] = kInputSize;
        d["HEAD_SIZE"] = kHeadSize;
        d["STYLE_SIZE"] = kStyleSize;
        d["EYE_SIZE"] = kEyeSize;
        d["GAZE_SIZE"] = kGazeSize;
        d["LOGVAR_MIN"] = kLogvarMin;
        d["LOGVAR_MAX"] = kLogvarMax;
        d["MAX_FILE_BYTES"] = kMaxModelFileBytes;
        d["MAX_HEADER_BYTES"] = kMaxHeaderBytes;
        d["MAX_JSON_DEPTH"] = kMaxJsonDepth;
        return d;
      },
      "The core's model-format constants (held against gazehead_rt.model_file by a test).");

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](const py::dict& spec) {
             return std::const_pointer_cast<Model>(make_model(spec));
           }),
           py::arg("spec"))
      .def_property_readonly("hidden", &Model::hidden)
      .def_property_readonly("latent", &Model::latent)
      .def_property_readonly("fps", &Model::fps)
      .def_property_readonly("num_parameters", &Model::num_parameters);

  bind_generator(m);

  py::class_<CpuGenerator, Generator> cpu(m, "CpuGenerator");
  cpu.def(py::init([](std::shared_ptr<Model> model, int64_t n, uint32_t seed, float temperature,
                      int nan_policy, int num_threads, int weights_dtype) {
            if (weights_dtype < 0 || weights_dtype > 1)
              throw py::value_error("weights_dtype: 0 or 1");
            return new CpuGenerator(model, n, seed, temperature, static_cast<NanPolicy>(nan_policy),
                                    num_threads, static_cast<WeightsDtype>(weights_dtype));
          }),
          py::arg("model"), py::arg("num_agents"), py::arg("seed"), py::arg("temperature"),
          py::arg("nan_policy"), py::arg("num_threads") = 1, py::arg("weights_dtype") = 0)
      .def_property_readonly(
          "weights_dtype",
          [](const CpuGenerator& g) { return static_cast<int>(g.weights_dtype()); })
      .def_property_readonly("isa", &CpuGenerator::isa)
      .def_property_readonly("num_threads", &CpuGenerator::num_threads);

  m.def(
      "validate_gaze",
      [](const F32& gaze, bool allow_nonfinite) {
        validate_gaze(gaze.data(), gaze.size() / 2, -1, allow_nonfinite);
      },
      py::arg("gaze"), py::arg("allow_nonfinite"),
      "The core's gaze check (finite unless allowed, |pitch| <= pi/2, |yaw| <= pi); raises "
      "ValueError naming the agent.");
  m.def(
      "check_neck_limits",
      [](const F32& limits) {
        check_size(limits, kHeadSize, "neck_limits");
        check_neck_limits(limits.data(), "neck_limits");
      },
      py::arg("limits"), "The core's check of (pitch, yaw, roll) neck half-ranges; ValueError.");
  m.def(
      "read_model_file",
      [](const std::string& path) {
        ModelFile f;
        {
          py::gil_scoped_release nogil;
          f = read_model_file(path);
        }
        const py::dict config = config_dict(f.config);
        auto vec = [](const float* p, py::ssize_t n) {
          py::array_t<float> a(n);
          std::memcpy(a.mutable_data(), p, sizeof(float) * n);
          return a;
        };
        py::dict norm;
        norm["x_mean"] = vec(f.x_mean, kInputSize);
        norm["x_std"] = vec(f.x_std, kInputSize);
        norm["y_mean"] = vec(f.y_mean, kHeadSize);
        norm["y_std"] = vec(f.y_std, kHeadSize);
        py::dict tensors;
        for (const NamedTensor& t : f.tensors) {
          std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
          py::array_t<float> a(shape);
          if (!t.data.empty())
            std::memcpy(a.mutable_data(), t.data.data(), sizeof(float) * t.data.size());
          tensors[py::str(t.name)] = a;
        }
        py::dict extra;
        for (const auto& kv : f.extra_metadata) extra[py::str(kv.first)] = py::str(kv.second);
        py::dict out;
        out["config"] = config;
        out["normalization"] = norm;
        out["tensors"] = tensors;
        out["metadata"] = extra;
        out["sha256"] = f.sha256;
        out["fingerprint"] = f.fingerprint;
        return out;
      },
      py::arg("path"),
      "The core's model file reader (gazehead::read_model_file): config, normalization, tensors, "
      "the other metadata entries as text and the file's sha256; ModelError naming the file.");
  m.def(
      "model_config_defaults", []() { return config_dict(ModelConfigValues{}); },
      "The values the core's reader gives a config key a file leaves out (held equal to "
      "ModelConfig's defaults by a test).");
  m.def(
      "check_model_config", [](const std::string& json) { check_model_config(json); },
      py::arg("config_json"),
      "The core's checks of a model config (those of read_model_file); ModelError.");
  m.def(
      "population_style",
      [](const py::array_t<float, py::array::c_style | py::array::forcecast>& style_mean,
         const py::array_t<float, py::array::c_style | py::array::forcecast>& style_std,
         uint32_t seed,
         const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& agents) {
        check_size(style_mean, kStyleSize, "style_mean");
        check_size(style_std, kStyleSize, "style_std");
        const py::ssize_t n = agents.size();
        py::array_t<float> out({n, static_cast<py::ssize_t>(kStyleSize)});
        float* o = out.mutable_data();
        for (py::ssize_t i = 0; i < n; ++i) {
          population_style(style_mean.data(), style_std.data(), seed, agents.data()[i],
                           o + kStyleSize * i);
        }
        return out;
      },
      py::arg("style_mean"), py::arg("style_std"), py::arg("seed"), py::arg("agents"),
      "The core's population style draw (k, 2) of the listed agents (gazehead::population_style).");
  m.def(
      "check_temperature", [](double t) { check_temperature(t); }, py::arg("temperature"),
      "The core's temperature check: finite, in [0, 10]; ValueError.");
  m.def(
      "philox4x32_10",
      [](uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
        const Philox4x32 r = philox4x32_10(c0, c1, c2, c3, k0, k1);
        return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
      },
      "One Philox4x32-10 block (counter c0..c3, key k0, k1) as four uint32.");
  m.def(
      "normal_noise",
      [](uint32_t seed,
         const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& agents,
         const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& episode,
         const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& frame,
         int latent) {
        const py::ssize_t n = agents.size();
        check_size(episode, n, "episode");
        check_size(frame, n, "frame");
        if (latent <= 0) throw py::value_error("latent must be positive");
        py::array_t<float> out({n, static_cast<py::ssize_t>(latent)});
        float* o = out.mutable_data();
        for (py::ssize_t i = 0; i < n; ++i) {
          agent_normals(seed, agents.data()[i], episode.data()[i], frame.data()[i], latent,
                        o + i * latent);
        }
        return out;
      },
      py::arg("seed"), py::arg("agents"), py::arg("episode"), py::arg("frame"), py::arg("latent"),
      "The standard normal eps (N, latent) the step draws for each (agent, episode, frame).");
#if GAZEHEAD_CUDA_BUILT
  register_cuda(m);
#endif

  m.def("build_config", []() {
    py::dict d;
    d["version"] = GAZEHEAD_VERSION;
    d["compiler"] = GAZEHEAD_COMPILER;
    d["build_type"] = GAZEHEAD_BUILD_TYPE;
    d["cuda_option"] = GAZEHEAD_CUDA_OPTION;
    d["cuda_built"] = static_cast<bool>(GAZEHEAD_CUDA_BUILT);
    d["cuda_note"] = GAZEHEAD_CUDA_NOTE;
    d["cuda_architectures"] = GAZEHEAD_CUDA_ARCHS;
    d["tensorrt_option"] = GAZEHEAD_TENSORRT_OPTION;
    d["tensorrt_built"] = static_cast<bool>(GAZEHEAD_TENSORRT_BUILT);
    d["tensorrt_note"] = GAZEHEAD_TENSORRT_NOTE;
    d["cpu_kernels"] = kernels::table().isa;
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
    d["cpu_kernels_compiled"] = py::make_tuple("baseline", "avx2+fma", "avx512", "avx512bf16");
#else
    d["cpu_kernels_compiled"] = py::make_tuple("baseline");
#endif
    return d;
  });

  m.def(
      "roofline_probe",
      [](double seconds) {
        // The hardware limits the step's kernels run against (benchmarks/step_latency.py):
        // this build's FMA and bf16 dot-product rates, and read bandwidth from a buffer that
        // fits L2 but not L1 (the weights' place at N = 1), per second of thread CPU time.
        const kernels::Table& k = kernels::table();
        py::gil_scoped_release release;
        auto scaled = [seconds](double (*rate)(long), double guess) {
          const long probe = 1000000;
          const double r = rate(probe);
          return r > 0.0 ? rate(static_cast<long>(seconds * r / guess) + 1) : 0.0;
        };
        const double fma = scaled(k.fma_rate, 12.0 * 16);
        const double dot = scaled(k.dot_bf16_rate, 12.0 * 32);
        std::vector<float> buf(256 * 1024 / sizeof(float), 1.0f);  // 256 KiB
        const double r0 = k.read_rate(buf.data(), buf.size(), 100);
        const int reps = static_cast<int>(seconds * r0 / (buf.size() * sizeof(float))) + 1;
        const double l2 = k.read_rate(buf.data(), buf.size(), reps);
        py::gil_scoped_acquire acquire;
        py::dict d;
        d["isa"] = k.isa;
        d["fma_mac_per_s"] = fma;
        d["bf16_dot_mac_per_s"] = dot;
        d["l2_read_bytes_per_s"] = l2;
        d["l2_buffer_bytes"] = buf.size() * sizeof(float);
        return d;
      },
      py::arg("seconds") = 0.3,
      "Roofline probe of the chosen CPU kernels: multiply-adds per second of a register-only "
      "FMA loop and of vdpbf16ps (0 without native bf16), and read bytes per second from a "
      "256 KiB buffer (L2), each over about `seconds` of thread CPU time.");
}
