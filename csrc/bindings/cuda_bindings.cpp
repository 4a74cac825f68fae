// gazehead_rt._C, CUDA part: CudaGenerator with the same methods as CpuGenerator, plus device
// queries. Compiled into _C only when the CUDA backend is built (module.cpp calls
// register_cuda under GAZEHEAD_CUDA_BUILT). Plain C++: cuda_generator.h has no CUDA types.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>

#include "cuda_generator.h"

namespace py = pybind11;
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

void register_cuda(py::module_& m) {
  // CUDA failures -> gazehead_rt.BackendError with the native message (DESIGN §5). The class
  // lives in Python (gazehead_rt/errors.py) so users catch one type for every backend.
  // Released on purpose: a static py::object would be decref'd after the interpreter is gone.
  static PyObject* backend_error =
      py::object(py::module_::import("gazehead_rt.errors").attr("BackendError")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CudaError& e) {
      PyErr_SetString(backend_error, e.what());
    }
  });

  m.def("cuda_device_count", &cuda_device_count,
        "Visible CUDA devices; 0 without a driver or a device (never raises).");
  m.def("cuda_device_status", &cuda_device_status,
        "Why no CUDA device is usable ('' when one is).");
  m.def("cuda_device_name", &cuda_device_name, py::arg("device") = 0,
        "Name, compute capability, SM count and memory of a CUDA device.");

  py::class_<CudaGenerator>(m, "CudaGenerator")
      .def(py::init([](std::shared_ptr<Model> model, int64_t n, uint32_t seed, float temperature,
                       int nan_policy, int weights_dtype, int device) {
             if (weights_dtype < 0 || weights_dtype > 2) throw py::value_error("weights_dtype: 0, 1 or 2");
             py::gil_scoped_release nogil;
             return new CudaGenerator(model, n, seed, temperature, static_cast<NanPolicy>(nan_policy),
                                      static_cast<WeightsDtype>(weights_dtype), device);
           }),
           py::arg("model"), py::arg("num_agents"), py::arg("seed"), py::arg("temperature"),
           py::arg("nan_policy"), py::arg("weights_dtype") = 0, py::arg("device") = 0)
      .def("step",
           [](CudaGenerator& g, const F32& gaze, F32& head, F32& eye) {
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
      .def("step_async",
           [](CudaGenerator& g, const F32& gaze) {
             check_size(gaze, 2 * g.num_agents(), "gaze");
             const float* gp = gaze.data();
             py::gil_scoped_release nogil;
             g.step_async(gp);  // gaze is copied into pinned memory before this returns
           },
           py::arg("gaze"))
      .def("result",
           [](CudaGenerator& g, F32& head, F32& eye) {
             const py::ssize_t n = g.num_agents();
             check_size(head, 3 * n, "head");
             check_size(eye, 2 * n, "eye");
             float* hp = head.mutable_data();
             float* ep = eye.mutable_data();
             py::gil_scoped_release nogil;
             g.result(hp, ep);
           },
           py::arg("head").noconvert(), py::arg("eye").noconvert())
      .def_property_readonly("pending", &CudaGenerator::pending)
      .def("rollout",
           [](CudaGenerator& g, const F32& gaze_seq, F32& head_seq, F32& eye_seq) {
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
           [](CudaGenerator& g, const F32& gaze_hist, const F32& head_hist) {
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
           [](CudaGenerator& g, const py::object& agents) {
             if (agents.is_none()) {
               g.reset(nullptr, 0);
             } else {
               I64 ids = agents.cast<I64>();
               g.reset(ids.data(), ids.size());
             }
           },
           py::arg("agents") = py::none())
      .def("clone", [](const CudaGenerator& g) { return g.clone(); })
      .def("get_state",
           [](const CudaGenerator& g) {
             AgentState s;
             g.get_state(s);
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
           [](CudaGenerator& g, const py::dict& d) {
             AgentState s;  // filled completely before the device is touched
             s.resize(g.num_agents(), g.model().hidden());
             from_numpy(s.s, d, "s");
             from_numpy(s.head, d, "head");
             from_numpy(s.eye, d, "eye");
             from_numpy(s.gaze, d, "gaze");
             from_numpy(s.has_prev, d, "has_prev");
             from_numpy(s.frame, d, "frame");
             from_numpy(s.episode, d, "episode");
             g.set_state(s);
           })
      .def_property_readonly("num_agents", &CudaGenerator::num_agents)
      .def_property("seed", &CudaGenerator::seed, &CudaGenerator::set_seed)
      .def_property("temperature", &CudaGenerator::temperature, &CudaGenerator::set_temperature)
      .def_property_readonly("weights_dtype",
                             [](const CudaGenerator& g) { return static_cast<int>(g.weights_dtype()); })
      .def_property_readonly("device", &CudaGenerator::device)
      .def_property_readonly("tile_agents", &CudaGenerator::tile_agents);
}
