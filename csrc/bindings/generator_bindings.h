// Bindings of the one backend interface (gazehead::Generator): every method is bound once on
// the base class; the backend classes only add their constructors and extras. Bindings only:
// no step logic.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "gazehead/generator.h"

namespace gazehead_bindings {

namespace py = pybind11;
using F32 = py::array_t<float, py::array::c_style>;
using I64 = py::array_t<int64_t, py::array::c_style>;

inline void check_size(const py::array& a, py::ssize_t expected, const char* name) {
  if (a.size() != expected) {
    throw py::value_error(std::string(name) + ": expected " + std::to_string(expected) +
                          " values, got " + std::to_string(a.size()));
  }
}

// class_<Generator> with every method of the interface, and the fast per-frame call.
void bind_generator(py::module_& m);

}  // namespace gazehead_bindings
