// gazehead_rt._C: pybind11 bindings only. Shapes and dtypes are checked in gazehead_rt/ before
// calls reach here; this layer re-checks sizes cheaply (a wrong size here would be a memory
// error, not a user error), converts, releases the GIL around core work and maps exceptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>

#include "gazehead/cpu_generator.h"
#include "gazehead/model.h"
#include "gazehead/philox.h"
#include "../core/src/kernels.h"
#include "build_config.h"
#include "generator_bindings.h"

namespace py = pybind11;

#if GAZEHEAD_CUDA_BUILT
void register_cuda(py::module_& m);  // cuda_bindings.cpp
#endif
using namespace gazehead;
using namespace gazehead_bindings;

namespace {

F32 tensor(const py::dict& tensors, const std::string& name) {
  if (!tensors.contains(name)) throw py::key_error("tensor '" + name + "' is missing");
  return tensors[py::str(name)].cast<F32>();
}

std::shared_ptr<const Model> make_model(const py::dict& tensors, int enc_layers,
                                        int prior_layers, int dec_layers, int hidden, int latent,
                                        const std::string& activation, bool residual, float fps,
                                        F32 x_mean, F32 x_std, F32 y_mean, F32 y_std) {
  ModelSpec spec;
  std::vector<F32> keep;  // owners of the arrays the spec points into, alive until create()
  auto linear = [&](const std::string& prefix) {
    F32 w = tensor(tensors, prefix + ".weight"), b = tensor(tensors, prefix + ".bias");
    if (w.ndim() != 2 || b.ndim() != 1 || b.shape(0) != w.shape(0)) {
      throw py::value_error("tensor '" + prefix + "': weight must be (out, in), bias (out,)");
    }
    keep.push_back(w);
    keep.push_back(b);
    return LinearSpec{w.data(), b.data(), static_cast<int>(w.shape(1)), static_cast<int>(w.shape(0))};
  };
  for (int i = 0; i < enc_layers; ++i) spec.enc.push_back(linear("enc." + std::to_string(2 * i)));
  for (int i = 0; i < prior_layers; ++i) spec.prior.push_back(linear("prior." + std::to_string(2 * i)));
  for (int i = 0; i < dec_layers; ++i) spec.dec.push_back(linear("dec." + std::to_string(2 * i)));
  auto gru = [&](const char* w_name, const char* b_name) {
    F32 w = tensor(tensors, w_name), b = tensor(tensors, b_name);
    keep.push_back(w);
    keep.push_back(b);
    return LinearSpec{w.data(), b.data(), static_cast<int>(w.shape(1)), static_cast<int>(w.shape(0))};
  };
  spec.gru_ih = gru("gru.weight_ih", "gru.bias_ih");
  spec.gru_hh = gru("gru.weight_hh", "gru.bias_hh");
  spec.hidden = hidden;
  spec.latent = latent;
  if (activation == "silu") spec.activation = Activation::kSiLU;
  else if (activation == "relu") spec.activation = Activation::kReLU;
  else if (activation == "tanh") spec.activation = Activation::kTanh;
  else throw py::value_error("unknown activation '" + activation + "'");
  spec.residual = residual;
  spec.fps = fps;
  check_size(x_mean, kInputSize, "x_mean");
  check_size(x_std, kInputSize, "x_std");
  check_size(y_mean, kHeadSize, "y_mean");
  check_size(y_std, kHeadSize, "y_std");
  std::memcpy(spec.x_mean, x_mean.data(), sizeof spec.x_mean);
  std::memcpy(spec.x_std, x_std.data(), sizeof spec.x_std);
  std::memcpy(spec.y_mean, y_mean.data(), sizeof spec.y_mean);
  std::memcpy(spec.y_std, y_std.data(), sizeof spec.y_std);
  return Model::create(spec);
}



}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "gazehead_rt native core (private; use the gazehead_rt package)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidInput& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](const py::dict& tensors, int enc_layers, int prior_layers, int dec_layers,
                       int hidden, int latent, const std::string& activation, bool residual,
                       float fps, F32 x_mean, F32 x_std, F32 y_mean, F32 y_std) {
             return std::const_pointer_cast<Model>(make_model(
                 tensors, enc_layers, prior_layers, dec_layers, hidden, latent, activation,
                 residual, fps, x_mean, x_std, y_mean, y_std));
           }),
           py::arg("tensors"), py::arg("enc_layers"), py::arg("prior_layers"),
           py::arg("dec_layers"), py::arg("hidden"), py::arg("latent"), py::arg("activation"),
           py::arg("residual"), py::arg("fps"), py::arg("x_mean"), py::arg("x_std"),
           py::arg("y_mean"), py::arg("y_std"))
      .def_property_readonly("hidden", &Model::hidden)
      .def_property_readonly("latent", &Model::latent)
      .def_property_readonly("fps", &Model::fps)
      .def_property_readonly("num_parameters", &Model::num_parameters);

  py::class_<CpuGenerator> cpu(m, "CpuGenerator");
  cpu.def(py::init([](std::shared_ptr<Model> model, int64_t n, uint32_t seed, float temperature,
                      int nan_policy, int num_threads) {
            return new CpuGenerator(model, n, seed, temperature,
                                    static_cast<NanPolicy>(nan_policy), num_threads);
          }),
          py::arg("model"), py::arg("num_agents"), py::arg("seed"), py::arg("temperature"),
          py::arg("nan_policy"), py::arg("num_threads") = 1);
  bind_generator_common(cpu);
  cpu.def("clone", [](const CpuGenerator& g) { return new CpuGenerator(g); })
      .def_property_readonly("isa", &CpuGenerator::isa)
      .def_property_readonly("num_threads", &CpuGenerator::num_threads);

  m.def("philox4x32_10",
        [](uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
          const Philox4x32 r = philox4x32_10(c0, c1, c2, c3, k0, k1);
          return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
        },
        "One Philox4x32-10 block (counter c0..c3, key k0, k1) as four uint32.");
  m.def("normal_noise",
        [](uint32_t seed, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& agents,
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
        py::arg("seed"), py::arg("agents"), py::arg("episode"), py::arg("frame"),
        py::arg("latent"),
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
    d["cpu_kernels_compiled"] = py::make_tuple("baseline", "avx2+fma", "avx512");
#else
    d["cpu_kernels_compiled"] = py::make_tuple("baseline");
#endif
    return d;
  });
}
