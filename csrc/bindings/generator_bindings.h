// Bindings shared by every backend's generator class (CpuGenerator, CudaGenerator): the same
// methods, argument checks and GIL handling, written once. Bindings only: no logic.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
#include <vector>

#include "gazehead/cpu_generator.h"

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

// step, rollout, prime, reset, get_state/set_state, num_agents, seed, temperature.
template <typename G>
void bind_generator_common(py::class_<G>& c) {
  using gazehead::AgentState;
  c.def("step",
        [](G& g, const F32& gaze, F32& head, F32& eye) {
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
        py::arg("gaze"), py::arg("head").noconvert(), py::arg("eye").noconvert());
  c.def("rollout",
        [](G& g, const F32& gaze_seq, F32& head_seq, F32& eye_seq) {
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
        py::arg("gaze_seq"), py::arg("head_seq").noconvert(), py::arg("eye_seq").noconvert());
  c.def("prime",
        [](G& g, const F32& gaze_hist, const F32& head_hist) {
          const py::ssize_t n = g.num_agents();
          const py::ssize_t T = gaze_hist.size() / (2 * n);
          check_size(gaze_hist, 2 * n * T, "gaze_hist");
          check_size(head_hist, 3 * n * T, "head_hist");
          const float* gp = gaze_hist.data();
          const float* hp = head_hist.data();
          py::gil_scoped_release nogil;
          g.prime(gp, hp, T);
        },
        py::arg("gaze_hist"), py::arg("head_hist"));
  c.def("reset",
        [](G& g, const py::object& agents) {
          if (agents.is_none()) {
            g.reset(nullptr, 0);
          } else {
            I64 ids = agents.cast<I64>();
            g.reset(ids.data(), ids.size());
          }
        },
        py::arg("agents") = py::none());
  c.def("get_state", [](const G& g) {
    AgentState s;
    g.get_state(s);
    const py::ssize_t n = g.num_agents(), H = g.model().hidden();
    py::dict d;
    d["s"] = to_numpy(s.s, {n, H});
    d["head"] = to_numpy(s.head, {n, gazehead::kHeadSize});
    d["eye"] = to_numpy(s.eye, {n, gazehead::kEyeSize});
    d["gaze"] = to_numpy(s.gaze, {n, gazehead::kGazeSize});
    d["has_prev"] = to_numpy(s.has_prev, {n});
    d["frame"] = to_numpy(s.frame, {n});
    d["episode"] = to_numpy(s.episode, {n});
    return d;
  });
  c.def("set_state", [](G& g, const py::dict& d) {
    AgentState s;  // filled completely before the generator is touched
    s.resize(g.num_agents(), g.model().hidden());
    from_numpy(s.s, d, "s");
    from_numpy(s.head, d, "head");
    from_numpy(s.eye, d, "eye");
    from_numpy(s.gaze, d, "gaze");
    from_numpy(s.has_prev, d, "has_prev");
    from_numpy(s.frame, d, "frame");
    from_numpy(s.episode, d, "episode");
    g.set_state(s);
  });
  c.def_property_readonly("num_agents", &G::num_agents);
  c.def_property("seed", &G::seed, &G::set_seed);
  c.def_property("temperature", &G::temperature, &G::set_temperature);
}

}  // namespace gazehead_bindings
