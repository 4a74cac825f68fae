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

namespace py = pybind11;

#if GAZEHEAD_CUDA_BUILT
void register_cuda(py::module_& m);  // cuda_bindings.cpp
#endif
using namespace gazehead;

namespace {

using F32 = py::array_t<float, py::array::c_style>;
using I64 = py::array_t<int64_t, py::array::c_style>;

void check_size(const py::array& a, py::ssize_t expected, const char* name) {
  if (a.size() != expected) {
    throw py::value_error(std::string(name) + ": expected " + std::to_string(expected) +
                          " values, got " + std::to_string(a.size()));
  }
}

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

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

template <typename T>
void from_numpy(std::vector<T>& v, const py::dict& d, const char* key) {
  auto a = d[key].cast<py::array_t<T, py::array::c_style | py::array::forcecast>>();
  if (static_cast<size_t>(a.size()) != v.size()) {
    throw py::value_error(std::string("state '") + key + "': expected " +
                          std::to_string(v.size()) + " values, got " + std::to_string(a.size()));
  }
  std::memcpy(v.data(), a.data(), v.size() * sizeof(T));
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

  py::class_<CpuGenerator>(m, "CpuGenerator")
      .def(py::init([](std::shared_ptr<Model> model, int64_t n, uint32_t seed, float temperature,
                       int nan_policy) {
             return CpuGenerator(model, n, seed, temperature, static_cast<NanPolicy>(nan_policy));
           }),
           py::arg("model"), py::arg("num_agents"), py::arg("seed"), py::arg("temperature"),
           py::arg("nan_policy"))
      .def("step",
           [](CpuGenerator& g, const F32& gaze, F32& head, F32& eye) {
             const py::ssize_t n = g.num_agents();
             check_size(gaze, 2 * n, "gaze");
             check_size(head, 3 * n, "head");
             check_size(eye, 2 * n, "eye");
             const float* gp = gaze.data();
             float* hp = head.mutable_data();
             float* ep = eye.mutable_data();
             py::gil_scoped_release nogil;
             g.step(gp, hp, ep);
           },
           py::arg("gaze"), py::arg("head").noconvert(), py::arg("eye").noconvert())
      .def("rollout",
           [](CpuGenerator& g, const F32& gaze_seq, F32& head_seq, F32& eye_seq) {
             const py::ssize_t n = g.num_agents();
             const py::ssize_t T = gaze_seq.size() / (2 * n);
             check_size(gaze_seq, 2 * n * T, "gaze_seq");
             check_size(head_seq, 3 * n * T, "head_seq");
             check_size(eye_seq, 2 * n * T, "eye_seq");
             const float* gp = gaze_seq.data();
             float* hp = head_seq.mutable_data();
             float* ep = eye_seq.mutable_data();
             py::gil_scoped_release nogil;
             g.rollout(gp, T, hp, ep);
           },
           py::arg("gaze_seq"), py::arg("head_seq").noconvert(), py::arg("eye_seq").noconvert())
      .def("prime",
           [](CpuGenerator& g, const F32& gaze_hist, const F32& head_hist) {
             const py::ssize_t n = g.num_agents();
             const py::ssize_t T = gaze_hist.size() / (2 * n);
             check_size(gaze_hist, 2 * n * T, "gaze_hist");
             check_size(head_hist, 3 * n * T, "head_hist");
             const float* gp = gaze_hist.data();
             const float* hp = head_hist.data();
             py::gil_scoped_release nogil;
             g.prime(gp, hp, T);
           },
           py::arg("gaze_hist"), py::arg("head_hist"))
      .def("reset",
           [](CpuGenerator& g, const py::object& agents) {
             if (agents.is_none()) {
               g.reset(nullptr, 0);
             } else {
               I64 ids = agents.cast<I64>();
               g.reset(ids.data(), ids.size());
             }
           },
           py::arg("agents") = py::none())
      .def("clone", [](const CpuGenerator& g) { return CpuGenerator(g); })
      .def("get_state",
           [](const CpuGenerator& g) {
             const AgentState& s = g.state();
             const py::ssize_t n = g.num_agents(), H = g.model().hidden();
             py::dict d;
             d["s"] = to_numpy(s.s, {n, H});
             d["head"] = to_numpy(s.head, {n, kHeadSize});
             d["eye"] = to_numpy(s.eye, {n, kEyeSize});
             d["gaze"] = to_numpy(s.gaze, {n, kGazeSize});
             d["has_prev"] = to_numpy(s.has_prev, {n});
             d["frame"] = to_numpy(s.frame, {n});
             d["episode"] = to_numpy(s.episode, {n});
             return d;
           })
      .def("set_state",
           [](CpuGenerator& g, const py::dict& d) {
             AgentState s = g.state();  // copy: a bad entry leaves the generator untouched
             from_numpy(s.s, d, "s");
             from_numpy(s.head, d, "head");
             from_numpy(s.eye, d, "eye");
             from_numpy(s.gaze, d, "gaze");
             from_numpy(s.has_prev, d, "has_prev");
             from_numpy(s.frame, d, "frame");
             from_numpy(s.episode, d, "episode");
             g.check_state(s);
             g.state() = std::move(s);
           })
      .def_property_readonly("num_agents", &CpuGenerator::num_agents)
      .def_property("seed", &CpuGenerator::seed, &CpuGenerator::set_seed)
      .def_property("temperature", &CpuGenerator::temperature, &CpuGenerator::set_temperature)
      .def_property_readonly("isa", &CpuGenerator::isa);

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
