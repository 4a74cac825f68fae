// gazehead_rt._C: the Generator interface, bound once for every backend, and the fast
// per-frame call (FrameCall) that gazehead_rt.Generator.step goes through.
#include "generator_bindings.h"

#include <cstring>
#include <memory>
#include <vector>

namespace gazehead_bindings {
namespace {

using gazehead::AgentState;
using gazehead::Generator;

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

template <typename T>
void from_numpy(std::vector<T>& v, const py::dict& d, const char* key) {
  if (!d.contains(key)) throw py::value_error(std::string("state: missing entry '") + key + "'");
  auto a = d[key].cast<py::array_t<T, py::array::c_style | py::array::forcecast>>();
  if (static_cast<size_t>(a.size()) != v.size()) {
    throw py::value_error(std::string("state '") + key + "': expected " + std::to_string(v.size()) +
                          " values, got " + std::to_string(a.size()));
  }
  std::memcpy(v.data(), a.data(), v.size() * sizeof(T));
}

using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
using gazehead::RateClock;

// One frame's buffers (gaze (N, 2) unless null, head (N, 3), eye (N, 2)), sizes checked, as
// raw pointers the core can use with the GIL released.
struct Frame {
  const float* gaze = nullptr;
  float* head = nullptr;
  float* eye = nullptr;
};
Frame frame_buffers(const Generator& g, const F32* gaze, F32& head, F32& eye) {
  const py::ssize_t n = g.num_agents();
  if (gaze) check_size(*gaze, 2 * n, "gaze");
  check_size(head, 3 * n, "head");
  check_size(eye, 2 * n, "eye");
  return Frame{gaze ? gaze->data() : nullptr, head.mutable_data(), eye.mutable_data()};
}

// The update() clock's state as gazehead_rt.RateAdapter.state_dict() holds it (and
// Generator.state_dict()['rate']): None before the first update.
py::object clock_to_dict(const RateClock& c) {
  if (!c.started()) return py::none();
  const RateClock::State& s = c.state();
  const py::ssize_t n = c.num_agents();
  py::dict d;
  d["fps"] = c.fps();
  d["frames"] = s.frames;
  d["phase"] = s.phase;
  d["dropped_time_s"] = s.dropped_time_s;
  d["prev"] = to_numpy(s.prev, {n, 3});
  d["curr"] = to_numpy(s.curr, {n, 3});
  d["gaze_last"] = to_numpy(s.gaze_last, {n, 2});
  py::array_t<bool> snap(n);
  for (py::ssize_t a = 0; a < n; ++a) snap.mutable_data()[a] = s.snap[a] != 0;
  d["snap"] = snap;
  return d;
}

// The reverse, None giving a clock that has not started; ValueError on a missing or ill-sized
// entry. Values are checked by RateClock::check_state.
RateClock::State clock_from_dict(const RateClock& c, const py::object& o) {
  RateClock::State s;
  const size_t n = static_cast<size_t>(c.num_agents());
  s.prev.assign(3 * n, 0.0);
  s.curr.assign(3 * n, 0.0);
  s.gaze_last.assign(2 * n, 0.0);
  s.snap.assign(n, 0);
  if (o.is_none()) return s;
  if (!py::isinstance<py::dict>(o)) {
    throw py::type_error(std::string("expected a dict, got ") +
                         py::str(py::type::of(o).attr("__name__")).cast<std::string>());
  }
  const py::dict d = o.cast<py::dict>();
  auto item = [&](const char* key) -> py::object {
    if (!d.contains(key)) throw py::value_error(std::string("missing entry '") + key + "'");
    return d[key];
  };
  if (item("fps").cast<double>() != c.fps()) {
    throw py::value_error(
        "it is for fps=" + py::str(item("fps")).cast<std::string>() +
        ", this clock runs at fps=" + py::str(py::float_(c.fps())).cast<std::string>());
  }
  s.started = 1;
  s.frames = item("frames").cast<int64_t>();
  s.phase = item("phase").cast<double>();
  s.dropped_time_s = item("dropped_time_s").cast<double>();
  auto arr = [&](const char* key, std::vector<double>& v) {
    const F64 a = item(key).cast<F64>();
    if (static_cast<size_t>(a.size()) != v.size()) {
      throw py::value_error(std::string("'") + key + "' holds " + std::to_string(a.size()) +
                            " values, expected " + std::to_string(v.size()));
    }
    std::memcpy(v.data(), a.data(), v.size() * sizeof(double));
  };
  arr("prev", s.prev);
  arr("curr", s.curr);
  arr("gaze_last", s.gaze_last);
  const auto snap =
      item("snap").cast<py::array_t<uint8_t, py::array::c_style | py::array::forcecast>>();
  if (static_cast<size_t>(snap.size()) != n) {
    throw py::value_error("'snap' holds " + std::to_string(snap.size()) + " values, expected " +
                          std::to_string(n));
  }
  std::memcpy(s.snap.data(), snap.data(), n);
  return s;
}

// The per-frame call of gazehead_rt.Generator.step, checks included, in one native call.
// The common forms (a (2,) or (N, 2) float32/float64 C-contiguous gaze; out None or a
// writeable C-contiguous float32 (N, 3)) are recognised from the array header without
// creating Python objects; anything else goes to the Python callbacks convert_gaze(gaze, n)
// and check_out(out, n), which convert or raise the documented TypeError/ValueError. Value
// checks (finite, range) are the core's, before any state changes. head_last (N, 3) and
// eye_last (N, 2) are the Generator's buffers behind .head and .eye.
class FrameCall {
 public:
  FrameCall(Generator& gen, F32 head_last, F32 eye_last, py::function convert_gaze,
            py::function check_out)
      : gen_(gen),
        n_(gen.num_agents()),
        head_(std::move(head_last)),
        eye_(std::move(eye_last)),
        convert_gaze_(std::move(convert_gaze)),
        check_out_(std::move(check_out)),
        gaze_buf_(static_cast<size_t>(2 * n_)) {
    check_size(head_, 3 * n_, "head_last");
    check_size(eye_, 2 * n_, "eye_last");
  }

  py::object call(const py::handle& gaze, const py::handle& out) {
    const float* gp = fast_gaze(gaze);
    py::object converted;  // keeps a converted gaze alive through the step
    if (gp == nullptr) {
      converted = convert_gaze_(gaze, n_);
      gp = fast_gaze(converted);
      if (gp == nullptr)
        throw py::type_error("gaze: conversion did not give a float32 (N, 2) array");
    }
    py::object result;
    float* op = nullptr;
    if (out.is_none()) {
      result = F32({static_cast<py::ssize_t>(n_), static_cast<py::ssize_t>(3)});
      op = reinterpret_cast<float*>(py::detail::array_proxy(result.ptr())->data);
    } else {
      op = fast_out(out);
      if (op == nullptr) {
        check_out_(out, n_);  // raises the TypeError that names what arrived
        throw py::type_error("out: expected a writeable C-contiguous float32 array");
      }
      result = py::reinterpret_borrow<py::object>(out);
    }
    float* hp = head_.mutable_data();
    float* ep = eye_.mutable_data();
    // Held across the step and the copy out of the shared head buffer, so a second thread
    // cannot overwrite that buffer in between (it gets ConcurrentUse instead).
    Generator::Exclusive use(gen_);
    if (n_ >= kReleaseGilAgents) {
      py::gil_scoped_release nogil;
      gen_.step(gp, hp, ep);
    } else {
      gen_.step(gp, hp, ep);
    }
    if (op != hp) std::memcpy(op, hp, sizeof(float) * 3 * n_);
    return result;
  }

 private:
  // Below this many agents a step takes a few microseconds and releasing the GIL would cost a
  // noticeable share of it; no other Python thread waits measurably longer.
  static constexpr int64_t kReleaseGilAgents = 16;

  static bool is_c_array(const py::handle& h) {
    return py::detail::npy_api::get().PyArray_Check_(h.ptr()) &&
           (py::detail::array_proxy(h.ptr())->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_);
  }

  // A pointer to N x 2 float32 gaze for the common forms, else null.
  const float* fast_gaze(const py::handle& h) {
    if (!is_c_array(h)) return nullptr;
    const auto* a = py::detail::array_proxy(h.ptr());
    const auto* descr = py::detail::array_descriptor_proxy(a->descr);
    if (descr->byteorder == '>') return nullptr;  // non-native byte order: the slow path
    const int type = descr->type_num;
    const bool f32 = type == py::detail::npy_api::NPY_FLOAT_;
    const bool f64 = type == py::detail::npy_api::NPY_DOUBLE_;
    if (!f32 && !f64) return nullptr;
    const bool single = a->nd == 1 && a->dimensions[0] == 2;
    const bool batch = a->nd == 2 && a->dimensions[0] == n_ && a->dimensions[1] == 2;
    if (!single && !batch) return nullptr;
    if (f32 && (batch || n_ == 1)) return reinterpret_cast<const float*>(a->data);
    // float64, or a (2,) gaze for every agent: converted into the preallocated buffer
    // (float64 -> float32 rounds to nearest, as numpy's astype does).
    for (int64_t i = 0; i < 2 * n_; ++i) {
      const int64_t k = single ? i % 2 : i;
      gaze_buf_[i] = f32 ? reinterpret_cast<const float*>(a->data)[k]
                         : static_cast<float>(reinterpret_cast<const double*>(a->data)[k]);
    }
    return gaze_buf_.data();
  }

  float* fast_out(const py::handle& h) const {
    if (!is_c_array(h)) return nullptr;
    const auto* a = py::detail::array_proxy(h.ptr());
    const auto* descr = py::detail::array_descriptor_proxy(a->descr);
    if (descr->type_num != py::detail::npy_api::NPY_FLOAT_ || descr->byteorder == '>' ||
        !(a->flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) || a->nd != 2 ||
        a->dimensions[0] != n_ || a->dimensions[1] != 3) {
      return nullptr;
    }
    return reinterpret_cast<float*>(a->data);
  }

  Generator& gen_;
  int64_t n_;
  F32 head_, eye_;
  py::function convert_gaze_, check_out_;
  std::vector<float> gaze_buf_;
};

// `with generator.exclusive():` holds the generator for this thread across several calls
// (Generator::Exclusive; the calls inside nest), so a Python method made of several core calls
// (update(): every frame that came due) is refused as a whole or runs as a whole.
class UseGuard {
 public:
  explicit UseGuard(Generator& g) : g_(g) {}
  void enter() { use_ = std::make_unique<Generator::Exclusive>(g_); }  // ConcurrentUse
  void exit() { use_.reset(); }

 private:
  Generator& g_;
  std::unique_ptr<Generator::Exclusive> use_;
};

}  // namespace

void bind_generator(py::module_& m) {
  py::class_<UseGuard>(m, "UseGuard")
      .def("__enter__", [](UseGuard& u) { u.enter(); })
      .def("__exit__", [](UseGuard& u, const py::args&) {
        u.exit();
        return false;
      });
  py::class_<Generator> c(m, "Generator");
  c.def(
      "step",
      [](Generator& g, const F32& gaze, F32& head, F32& eye) {
        const Frame f = frame_buffers(g, &gaze, head, eye);
        py::gil_scoped_release nogil;
        g.step(f.gaze, f.head, f.eye);
      },
      py::arg("gaze"), py::arg("head").noconvert(), py::arg("eye").noconvert());
  c.def(
      "step_async",
      [](Generator& g, const F32& gaze) {
        check_size(gaze, 2 * g.num_agents(), "gaze");
        const float* gp = gaze.data();
        py::gil_scoped_release nogil;
        g.step_async(gp);  // the gaze is consumed (or copied) before this returns
      },
      py::arg("gaze"));
  c.def(
      "result",
      [](Generator& g, F32& head, F32& eye) {
        const Frame f = frame_buffers(g, nullptr, head, eye);
        py::gil_scoped_release nogil;
        g.result(f.head, f.eye);
      },
      py::arg("head").noconvert(), py::arg("eye").noconvert());
  c.def(
      "update",
      [](Generator& g, const F32& gaze, double dt_s, F32& head, F32& eye) {
        const Frame f = frame_buffers(g, &gaze, head, eye);
        py::gil_scoped_release nogil;
        g.update(f.gaze, dt_s, f.head, f.eye);
      },
      py::arg("gaze"), py::arg("dt_s"), py::arg("head").noconvert(), py::arg("eye").noconvert());
  c.def("clock_state", [](const Generator& g) {
    Generator::Exclusive use(g);
    return clock_to_dict(g.clock());
  });
  c.def(
      "check_clock_state",
      [](const Generator& g, const py::object& d) {
        g.clock().check_state(clock_from_dict(g.clock(), d));
      },
      py::arg("state"));
  c.def(
      "set_clock_state",
      [](Generator& g, const py::object& d) { g.set_clock_state(clock_from_dict(g.clock(), d)); },
      py::arg("state"));
  c.def(
      "clock_emit",
      [](const Generator& g, F32& head, F32& eye) {
        const py::ssize_t n = g.num_agents();
        check_size(head, 3 * n, "head");
        check_size(eye, 2 * n, "eye");
        g.clock().emit(head.mutable_data(), eye.mutable_data());
      },
      py::arg("head").noconvert(), py::arg("eye").noconvert());
  c.def("save_state", [](const Generator& g) {
    std::string blob(g.saved_state_size(), '\0');
    {
      py::gil_scoped_release nogil;
      g.save_state(reinterpret_cast<unsigned char*>(&blob[0]));
    }
    return py::bytes(blob);
  });
  c.def(
      "load_state",
      [](Generator& g, const py::buffer& blob) {
        const py::buffer_info b = blob.request();
        if (b.ndim > 1 || (b.ndim == 1 && b.strides[0] != b.itemsize)) {
          throw py::type_error("state: expected bytes (a contiguous buffer)");
        }
        const size_t size = static_cast<size_t>(b.size * b.itemsize);
        py::gil_scoped_release nogil;
        g.load_state(b.ptr, size);
      },
      py::arg("blob"));
  c.def_property_readonly("fps", [](const Generator& g) { return g.model().fps(); });
  c.def_property_readonly("pending", &Generator::pending);
  c.def(
      "exclusive", [](Generator& g) { return UseGuard(g); }, py::keep_alive<0, 1>(),
      "A context manager holding the generator for this thread (another thread's calls are "
      "refused with RuntimeError until it exits).");
  c.def(
      "rollout",
      [](Generator& g, const F32& gaze_seq, F32& head_seq, F32& eye_seq) {
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
  c.def(
      "prime",
      [](Generator& g, const F32& gaze_hist, const F32& head_hist) {
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
  c.def(
      "reset",
      [](Generator& g, const py::object& agents) {
        if (agents.is_none()) {
          g.reset(nullptr, 0);
        } else {
          I64 ids = agents.cast<I64>();
          g.reset(ids.data(), ids.size());
        }
      },
      py::arg("agents") = py::none());
  c.def("get_state", [](const Generator& g) {
    AgentState s;
    g.get_state(s);
    const py::ssize_t n = g.num_agents(), H = g.model().hidden(), Z = g.model().latent();
    py::dict d;
    d["s"] = to_numpy(s.s, {n, H});
    d["head"] = to_numpy(s.head, {n, gazehead::kHeadSize});
    d["head_vel"] = to_numpy(s.head_vel, {n, gazehead::kHeadSize});
    d["z"] = to_numpy(s.z, {n, Z});
    d["gaze"] = to_numpy(s.gaze, {n, gazehead::kGazeSize});
    d["style"] = to_numpy(s.style, {n, gazehead::kStyleSize});
    d["has_prev"] = to_numpy(s.has_prev, {n});
    d["frame"] = to_numpy(s.frame, {n});
    d["episode"] = to_numpy(s.episode, {n});
    return d;
  });
  c.def("set_state", [](Generator& g, const py::dict& d) {
    AgentState s;  // filled completely before the generator is touched
    s.resize(g.num_agents(), g.model().hidden(), g.model().latent());
    from_numpy(s.s, d, "s");
    from_numpy(s.head, d, "head");
    from_numpy(s.head_vel, d, "head_vel");
    from_numpy(s.z, d, "z");
    from_numpy(s.gaze, d, "gaze");
    from_numpy(s.style, d, "style");
    from_numpy(s.has_prev, d, "has_prev");
    from_numpy(s.frame, d, "frame");
    from_numpy(s.episode, d, "episode");
    g.set_state(s);
  });
  c.def_property(
      "style",
      [](const Generator& g) {
        F32 out({static_cast<py::ssize_t>(g.num_agents()), static_cast<py::ssize_t>(2)});
        g.get_style(out.mutable_data());
        return out;
      },
      [](Generator& g, const F32& style) {
        check_size(style, 2 * g.num_agents(), "style");
        g.set_style(style.data());
      });
  c.def_property(
      "neck_limits",
      [](const Generator& g) {
        return py::make_tuple(g.neck_limits()[0], g.neck_limits()[1], g.neck_limits()[2]);
      },
      [](Generator& g, const F32& limits) {
        check_size(limits, 3, "neck_limits");
        g.set_neck_limits(limits.data());
      });
  c.def("clone", [](const Generator& g) {
    Generator::Exclusive use(g);  // the copy reads the whole state
    return g.clone();
  });
  c.def_property_readonly("backend", &Generator::backend);
  c.def_property_readonly("num_agents", &Generator::num_agents);
  c.def_property("seed", &Generator::seed, &Generator::set_seed);
  c.def_property("temperature", &Generator::temperature, &Generator::set_temperature);

  m.def(
      "check_agent_ids",
      [](const I64& ids, int64_t n) { gazehead::check_agent_ids(ids.data(), ids.size(), n); },
      py::arg("ids"), py::arg("num_agents"),
      "The core's check of agent ids: each in [0, num_agents); ValueError naming the first.");

  // gazehead_rt.RateAdapter: the core's clock driving a Python step function.
  py::class_<RateClock>(m, "RateClock")
      .def(py::init([](int64_t n, double fps, const py::object& max_steps) {
             return max_steps.is_none() ? new RateClock(n, fps)
                                        : new RateClock(n, fps, max_steps.cast<int64_t>());
           }),
           py::arg("num_agents"), py::arg("fps"), py::arg("max_steps_per_update") = py::none())
      .def_static("check_dt", &RateClock::check_dt, py::arg("dt_s"))
      .def_property_readonly("num_agents", &RateClock::num_agents)
      .def_property_readonly("fps", &RateClock::fps)
      .def_property_readonly("max_steps_per_update", &RateClock::max_steps_per_update)
      .def_property_readonly("frames", [](const RateClock& c) { return c.state().frames; })
      .def_property_readonly("dropped_time_s",
                             [](const RateClock& c) { return c.state().dropped_time_s; })
      .def_property_readonly("time_s", &RateClock::time_s)
      .def(
          "start",
          [](RateClock& c, const F64& gaze, const F64& head0, F32& head, F32& eye) {
            const py::ssize_t n = c.num_agents();
            check_size(gaze, 2 * n, "gaze");
            check_size(head0, 3 * n, "head0");
            check_size(head, 3 * n, "head");
            check_size(eye, 2 * n, "eye");
            c.start(gaze.data(), head0.data(), head.mutable_data(), eye.mutable_data());
          },
          py::arg("gaze"), py::arg("head0"), py::arg("head").noconvert(),
          py::arg("eye").noconvert())
      .def(
          "update",
          [](RateClock& c, const F64& gaze, double dt_s, const py::function& step_fn, F32& head,
             F32& eye) {
            const py::ssize_t n = c.num_agents();
            check_size(gaze, 2 * n, "gaze");
            check_size(head, 3 * n, "head");
            check_size(eye, 2 * n, "eye");
            RateClock::check_dt(dt_s);
            const RateClock::StepFn step = [&](const double* g, double* h) {
              F64 ga({n, static_cast<py::ssize_t>(2)});
              std::memcpy(ga.mutable_data(), g, sizeof(double) * 2 * n);
              const py::object r = step_fn(ga);
              const F64 a = F64::ensure(r);
              if (!a || a.ndim() != 2 || a.shape(0) != n || a.shape(1) != 3) {
                const std::string got =
                    a ? py::repr(py::getattr(a, "shape")).cast<std::string>() : "not an array";
                throw py::value_error("step_fn must return a (" + std::to_string(n) +
                                      ", 3) head, got shape " + got);
              }
              std::memcpy(h, a.data(), sizeof(double) * 3 * n);
            };
            c.update(gaze.data(), dt_s, step, head.mutable_data(), eye.mutable_data());
          },
          py::arg("gaze"), py::arg("dt_s"), py::arg("step_fn"), py::arg("head").noconvert(),
          py::arg("eye").noconvert())
      .def(
          "emit",
          [](const RateClock& c, F32& head, F32& eye) {
            check_size(head, 3 * c.num_agents(), "head");
            check_size(eye, 2 * c.num_agents(), "eye");
            c.emit(head.mutable_data(), eye.mutable_data());
          },
          py::arg("head").noconvert(), py::arg("eye").noconvert())
      .def("reset_all", &RateClock::reset_all)
      .def(
          "reset_agents",
          [](RateClock& c, const I64& ids) {
            gazehead::check_agent_ids(ids.data(), ids.size(), c.num_agents());
            c.reset_agents(ids.data(), ids.size());
          },
          py::arg("agents"))
      .def("state_dict", [](const RateClock& c) { return clock_to_dict(c); })
      .def(
          "load_state_dict",
          [](RateClock& c, const py::object& d) { c.set_state(clock_from_dict(c, d)); },
          py::arg("state"));

  py::class_<FrameCall>(m, "FrameCall")
      .def(py::init<Generator&, F32, F32, py::function, py::function>(), py::arg("generator"),
           py::arg("head_last"), py::arg("eye_last"), py::arg("convert_gaze"), py::arg("check_out"),
           py::keep_alive<1, 2>())
      .def("__call__", &FrameCall::call, py::arg("gaze"), py::arg("out") = py::none());
}

}  // namespace gazehead_bindings
