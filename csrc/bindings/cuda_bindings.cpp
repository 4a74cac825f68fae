// gazehead_rt._C, CUDA part: CudaGenerator (its methods are the Generator interface's, bound
// once in generator_bindings.cpp), plus device queries. Compiled into _C only when the CUDA
// backend is built (module.cpp calls register_cuda under GAZEHEAD_CUDA_BUILT). Plain C++:
// cuda_generator.h has no CUDA types.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>

#include "cuda_generator.h"
#include "generator_bindings.h"

namespace py = pybind11;
using namespace gazehead;

using namespace gazehead_bindings;

void register_cuda(py::module_& m) {
  // CUDA failures -> gazehead_rt.BackendError with the native message (docs/design.md §5).
  // The class lives in Python (gazehead_rt/errors.py) so users catch one type for every backend.
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

  py::class_<CudaGenerator, Generator> cls(m, "CudaGenerator");
  cls.def(py::init([](std::shared_ptr<Model> model, int64_t n, uint32_t seed, float temperature,
                      int nan_policy, int weights_dtype, int device) {
            if (weights_dtype < 0 || weights_dtype > 2)
              throw py::value_error("weights_dtype: 0, 1 or 2");
            py::gil_scoped_release nogil;
            return new CudaGenerator(model, n, seed, temperature,
                                     static_cast<NanPolicy>(nan_policy),
                                     static_cast<WeightsDtype>(weights_dtype), device);
          }),
          py::arg("model"), py::arg("num_agents"), py::arg("seed"), py::arg("temperature"),
          py::arg("nan_policy"), py::arg("weights_dtype") = 0, py::arg("device") = 0)
      .def_property_readonly(
          "weights_dtype",
          [](const CudaGenerator& g) { return static_cast<int>(g.weights_dtype()); })
      .def_property_readonly("device", &CudaGenerator::device)
      .def_property_readonly("tile_agents", &CudaGenerator::tile_agents);
}
