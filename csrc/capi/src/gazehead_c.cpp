// The C ABI (include/gazehead/gazehead.h) over the C++ core. Every entry point runs inside
// guard(): no exception crosses the boundary, and a failure sets the thread's last error and
// returns its status. Every core call is made in one place, the `core` namespace below, so a
// change of the core's interface is an edit there only.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "../../core/src/kernels.h"  // the CPU kernel set in use, for gazehead_build_info
#include "build_config.h"
#include "gazehead/cpu_generator.h"
#include "gazehead/gazehead.h"
#include "gazehead/model.h"
#include "gazehead/model_file.h"
#include "gazehead/saved_state.h"  // StateError

using gazehead::ModelFileError;

struct gazehead_model {
  gazehead::ModelFile m;
};

struct gazehead_generator {
  int64_t n = 0;
  std::unique_ptr<gazehead::CpuGenerator> core;  // holds the model (alive past model_free)
};

namespace {

// ---- errors -------------------------------------------------------------------------------

thread_local std::string t_last_error;

struct Failure {  // thrown inside this file only, with the status to return
  gazehead_status status;
  std::string message;
};

[[noreturn]] void fail(gazehead_status status, std::string message) {
  throw Failure{status, std::move(message)};
}

template <typename F>
gazehead_status guard(F&& body) noexcept {
  try {
    body();
    return GAZEHEAD_OK;
  } catch (const Failure& f) {
    t_last_error = f.message;
    return f.status;
  } catch (const ModelFileError& e) {
    t_last_error = e.what();
    return GAZEHEAD_ERR_MODEL;
  } catch (const gazehead::StateError& e) {  // before std::invalid_argument, its base
    t_last_error = e.what();
    return GAZEHEAD_ERR_STATE;
  } catch (const gazehead::ConcurrentUse& e) {  // before std::runtime_error, its base
    t_last_error = e.what();
    return GAZEHEAD_ERR_BUSY;
  } catch (const std::invalid_argument& e) {  // the core's input errors (InvalidInput too)
    t_last_error = e.what();
    return GAZEHEAD_ERR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    t_last_error = "out of memory";
    return GAZEHEAD_ERR_INTERNAL;
  } catch (const std::exception& e) {
    t_last_error = std::string("internal error: ") + e.what();
    return GAZEHEAD_ERR_INTERNAL;
  } catch (...) {
    t_last_error = "internal error: unknown exception";
    return GAZEHEAD_ERR_INTERNAL;
  }
}

template <typename T>
void need(const T* p, const char* name) {
  if (p == nullptr) fail(GAZEHEAD_ERR_INVALID_ARGUMENT, std::string(name) + " is NULL");
}

std::string fmt(const char* format, long long a, long long b = 0, long long c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

void check_count(int64_t count, int64_t expected, const char* name, int64_t n, int width) {
  if (count != expected) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s: expected %lld floats (%lld agents x %d), got %lld", name,
                  static_cast<long long>(expected), static_cast<long long>(n), width,
                  static_cast<long long>(count));
    fail(GAZEHEAD_ERR_INVALID_ARGUMENT, buf);
  }
}

// The buffers of one frame for n agents (step and update): gaze in, head out, optional eye out.
void check_frame_buffers(int64_t n, const float* gaze, int64_t gaze_count, const float* head_out,
                         int64_t head_count, const float* eye_out, int64_t eye_count) {
  need(gaze, "gaze");
  need(head_out, "head_out");
  check_count(gaze_count, 2 * n, "gaze", n, 2);
  check_count(head_count, 3 * n, "head_out", n, 3);
  if (eye_out) check_count(eye_count, 2 * n, "eye_out", n, 2);
}

// ---- the core, one call each -----------------------------------------------------------------

namespace core {

// Held across a call's own checks and the core call, so a second thread is refused
// (ConcurrentUse, GAZEHEAD_ERR_BUSY) before anything is read or changed.
using Busy = gazehead::Generator::Exclusive;

std::unique_ptr<gazehead::CpuGenerator> make(const std::shared_ptr<const gazehead::Model>& model,
                                             int64_t n, uint32_t seed, float temperature,
                                             int32_t nan_policy, int32_t threads) {
  return std::make_unique<gazehead::CpuGenerator>(
      model, n, seed, temperature, static_cast<gazehead::NanPolicy>(nan_policy), threads);
}
void step(gazehead::CpuGenerator& g, const float* gaze, float* head, float* eye) {
  g.step(gaze, head, eye);
}
void update(gazehead::CpuGenerator& g, const float* gaze, double dt_s, float* head, float* eye) {
  g.update(gaze, dt_s, head, eye);
}
void prime(gazehead::CpuGenerator& g, const float* gaze, const float* head, int64_t T) {
  g.prime(gaze, head, T);
}
void reset(gazehead::CpuGenerator& g, const int64_t* agents, int64_t count) {
  g.reset(agents, count);
}
void set_temperature(gazehead::CpuGenerator& g, float t) { g.set_temperature(t); }
void set_seed(gazehead::CpuGenerator& g, uint32_t seed) { g.set_seed(seed); }
double fps(const gazehead::CpuGenerator& g) { return g.model().fps(); }
size_t state_size(const gazehead::CpuGenerator& g) { return g.saved_state_size(); }
void save_state(const gazehead::CpuGenerator& g, void* out) {
  g.save_state(static_cast<unsigned char*>(out));
}
void load_state(gazehead::CpuGenerator& g, const void* data, size_t size) {
  g.load_state(data, size);
}
void set_style(gazehead::CpuGenerator& g, const float* style) { g.set_style(style); }
void get_style(const gazehead::CpuGenerator& g, float* out) { g.get_style(out); }
void set_neck_limits(gazehead::CpuGenerator& g, const float* limits) { g.set_neck_limits(limits); }
const float* neck_limits(const gazehead::CpuGenerator& g) { return g.neck_limits(); }
const char* isa() { return gazehead::kernels::table().isa; }

}  // namespace core

// ---- options -------------------------------------------------------------------------------

constexpr uint32_t kOptionsSizeV1 = sizeof(gazehead_generator_options);  // unchanged since ABI 1

void check_abi(uint32_t struct_size, uint32_t abi_version) {
  if (struct_size == 0 && abi_version == 0) {
    fail(GAZEHEAD_ERR_ABI_MISMATCH,
         "options are not initialized (struct_size and abi_version are 0); fill them with "
         "GAZEHEAD_GENERATOR_OPTIONS_INIT (C) or Generator.DefaultOptions() (C#) first");
  }
  if (abi_version != GAZEHEAD_ABI_VERSION) {
    fail(GAZEHEAD_ERR_ABI_MISMATCH,
         fmt("the caller was compiled against gazehead ABI version %lld, this library implements "
             "version %lld; rebuild against this library's gazehead.h",
             abi_version, GAZEHEAD_ABI_VERSION));
  }
  if (struct_size < kOptionsSizeV1) {
    fail(GAZEHEAD_ERR_ABI_MISMATCH,
         fmt("options.struct_size is %lld bytes, smaller than any gazehead_generator_options "
             "layout (%lld bytes); fill it with GAZEHEAD_GENERATOR_OPTIONS_INIT",
             struct_size, kOptionsSizeV1));
  }
}

void set_defaults(gazehead_generator_options& o) {
  std::memset(&o, 0, sizeof o);
  o.struct_size = kOptionsSizeV1;
  o.abi_version = GAZEHEAD_ABI_VERSION;
  o.num_agents = 1;
  o.seed = 0;
  o.temperature = 1.0f;
  o.nan_policy = GAZEHEAD_NAN_RAISE;
  o.num_threads = 1;
  o.backend = GAZEHEAD_BACKEND_CPU;
}

}  // namespace

// =============================================================================================

extern "C" {

int32_t gazehead_abi_version(void) { return GAZEHEAD_ABI_VERSION; }

const char* gazehead_version(void) { return GAZEHEAD_VERSION; }

const char* gazehead_build_info(void) {
  // No status to return: a kernel choice that fails (a bad GAZEHEAD_CPU_ISA) is reported in
  // the text, and nothing may throw out of here (C# calls it from Library.BuildInfo).
  static char info[512];
  static std::atomic<bool> done{false};
  static std::mutex once;
  if (done.load(std::memory_order_acquire)) return info;
  std::lock_guard<std::mutex> lock(once);
  if (done.load(std::memory_order_relaxed)) return info;
  std::string isa;
  bool ok = false;
  try {
    isa = core::isa();
    ok = true;
  } catch (const std::exception& e) {
    isa = std::string("unavailable: ") + e.what();
  } catch (...) {
    isa = "unavailable";
  }
  std::snprintf(info, sizeof info, "gazehead_rt %s (C ABI %d; %s, %s; CPU kernels %s)",
                GAZEHEAD_VERSION, GAZEHEAD_ABI_VERSION, GAZEHEAD_COMPILER, GAZEHEAD_BUILD_TYPE,
                isa.c_str());
  if (ok)
    done.store(true, std::memory_order_release);  // a failed choice is retried, as the core does
  return info;
}

const char* gazehead_last_error(void) { return t_last_error.c_str(); }

const char* gazehead_status_name(int32_t status) {
  switch (status) {
    case GAZEHEAD_OK:
      return "GAZEHEAD_OK";
    case GAZEHEAD_ERR_INVALID_ARGUMENT:
      return "GAZEHEAD_ERR_INVALID_ARGUMENT";
    case GAZEHEAD_ERR_MODEL:
      return "GAZEHEAD_ERR_MODEL";
    case GAZEHEAD_ERR_ABI_MISMATCH:
      return "GAZEHEAD_ERR_ABI_MISMATCH";
    case GAZEHEAD_ERR_UNSUPPORTED:
      return "GAZEHEAD_ERR_UNSUPPORTED";
    case GAZEHEAD_ERR_BUFFER_TOO_SMALL:
      return "GAZEHEAD_ERR_BUFFER_TOO_SMALL";
    case GAZEHEAD_ERR_STATE:
      return "GAZEHEAD_ERR_STATE";
    case GAZEHEAD_ERR_IO:
      return "GAZEHEAD_ERR_IO";
    case GAZEHEAD_ERR_INTERNAL:
      return "GAZEHEAD_ERR_INTERNAL";
    case GAZEHEAD_ERR_BUSY:
      return "GAZEHEAD_ERR_BUSY";
    default:
      return "unknown status";
  }
}

// ---- model ------------------------------------------------------------------------------------

gazehead_status gazehead_model_load_memory(const void* data, size_t size, const char* name,
                                           gazehead_model** out_model) {
  return guard([&] {
    need(out_model, "out_model");
    *out_model = nullptr;
    const std::string label = name ? name : "<memory>";
    if (data == nullptr && size > 0) need(data, "data");
    auto m = std::make_unique<gazehead_model>();
    m->m = gazehead::read_model_file(static_cast<const unsigned char*>(data), size, label);
    *out_model = m.release();
  });
}

gazehead_status gazehead_model_load_file(const char* path, gazehead_model** out_model) {
  return guard([&] {
    need(out_model, "out_model");
    *out_model = nullptr;
    need(path, "path");
    auto m = std::make_unique<gazehead_model>();
    m->m = gazehead::read_model_file(std::string(path));
    *out_model = m.release();
  });
}

gazehead_status gazehead_model_get_info(const gazehead_model* model, gazehead_model_info* info) {
  return guard([&] {
    need(model, "model");
    need(info, "info");
    if (info->struct_size < sizeof(gazehead_model_info)) {
      fail(GAZEHEAD_ERR_ABI_MISMATCH,
           fmt("info.struct_size is %lld bytes, smaller than gazehead_model_info (%lld bytes); "
               "set it to sizeof(gazehead_model_info)",
               info->struct_size, sizeof(gazehead_model_info)));
    }
    gazehead_model_info out;
    std::memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    const gazehead::ModelFile& f = model->m;
    const gazehead::ModelConfigValues& c = f.config;
    out.format_version = gazehead::kModelFormatVersion;
    out.fps = static_cast<float>(c.fps);
    out.hidden_size = static_cast<int32_t>(c.hidden_size);
    out.latent_size = static_cast<int32_t>(c.latent_size);
    out.style_size = 2;
    out.num_parameters = f.model->num_parameters();
    out.fingerprint = f.fingerprint;
    for (int k = 0; k < 3; ++k) out.neck_limits[k] = static_cast<float>(c.neck_limits[k]);
    out.neck_soft = static_cast<float>(c.neck_soft);
    out.eye_limit = static_cast<float>(c.eye_limit);
    for (int k = 0; k < 2; ++k) {
      out.style_mean[k] = static_cast<float>(c.style_mean[k]);
      out.style_std[k] = static_cast<float>(c.style_std[k]);
    }
    std::memcpy(info, &out, sizeof out);
  });
}

void gazehead_model_free(gazehead_model* model) { delete model; }

// ---- generator ----------------------------------------------------------------------------------

gazehead_status gazehead_generator_options_init(gazehead_generator_options* options,
                                                uint32_t struct_size, uint32_t abi_version) {
  return guard([&] {
    need(options, "options");
    check_abi(struct_size, abi_version);
    gazehead_generator_options o;
    set_defaults(o);
    std::memcpy(options, &o, sizeof o);
  });
}

gazehead_status gazehead_generator_create(const gazehead_model* model,
                                          const gazehead_generator_options* options,
                                          gazehead_generator** out_generator) {
  return guard([&] {
    need(out_generator, "out_generator");
    *out_generator = nullptr;
    need(model, "model");
    gazehead_generator_options o;
    set_defaults(o);
    if (options) {
      check_abi(options->struct_size, options->abi_version);
      std::memcpy(&o, options, sizeof o);
    }
    for (int k = 0; k < 7; ++k) {
      if (o.reserved_i[k] != 0)
        fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
             fmt("options.reserved_i[%lld] must be 0 (reserved for later versions)", k));
    }
    for (int k = 0; k < 8; ++k) {
      if (o.reserved_f[k] != 0.0f)
        fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
             fmt("options.reserved_f[%lld] must be 0 (reserved for later versions)", k));
    }
    if (o.backend != GAZEHEAD_BACKEND_CPU) {
      fail(GAZEHEAD_ERR_UNSUPPORTED, fmt("options.backend %lld is not available in this library "
                                         "(it runs GAZEHEAD_BACKEND_CPU, 0)",
                                         o.backend));
    }
    if (o.nan_policy != GAZEHEAD_NAN_RAISE && o.nan_policy != GAZEHEAD_NAN_HOLD) {
      fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
           fmt("nan_policy: expected GAZEHEAD_NAN_RAISE (0) or GAZEHEAD_NAN_HOLD (1), got %lld",
               o.nan_policy));
    }
    if (o.num_threads < 1 || o.num_threads > 256) {
      fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
           fmt("num_threads: expected an integer in [1, 256], got %lld", o.num_threads));
    }
    auto g = std::make_unique<gazehead_generator>();
    g->core = core::make(model->m.model, o.num_agents, o.seed, o.temperature, o.nan_policy,
                         o.num_threads);
    g->n = o.num_agents;
    *out_generator = g.release();
  });
}

void gazehead_generator_free(gazehead_generator* generator) { delete generator; }

gazehead_status gazehead_generator_num_agents(const gazehead_generator* generator,
                                              int64_t* out_num_agents) {
  return guard([&] {
    need(generator, "generator");
    need(out_num_agents, "out_num_agents");
    *out_num_agents = generator->n;
  });
}

gazehead_status gazehead_generator_fps(const gazehead_generator* generator, float* out_fps) {
  return guard([&] {
    need(generator, "generator");
    need(out_fps, "out_fps");
    *out_fps = static_cast<float>(core::fps(*generator->core));
  });
}

gazehead_status gazehead_generator_step(gazehead_generator* generator, const float* gaze,
                                        int64_t gaze_count, float* head_out, int64_t head_count,
                                        float* eye_out, int64_t eye_count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    check_frame_buffers(generator->n, gaze, gaze_count, head_out, head_count, eye_out, eye_count);
    core::step(*generator->core, gaze, head_out, eye_out);
  });
}

gazehead_status gazehead_generator_update(gazehead_generator* generator, const float* gaze,
                                          int64_t gaze_count, double dt_s, float* head_out,
                                          int64_t head_count, float* eye_out, int64_t eye_count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    check_frame_buffers(generator->n, gaze, gaze_count, head_out, head_count, eye_out, eye_count);
    core::update(*generator->core, gaze, dt_s, head_out, eye_out);  // checks dt and gaze first
  });
}

gazehead_status gazehead_generator_reset(gazehead_generator* generator, const int64_t* agents,
                                         int64_t count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    if (agents == nullptr) {
      core::reset(*generator->core, nullptr, 0);  // the update() clock restarts too
      return;
    }
    if (count < 0) fail(GAZEHEAD_ERR_INVALID_ARGUMENT, fmt("count must be >= 0, got %lld", count));
    core::reset(*generator->core, agents, count);  // checks every id before changing anything
  });
}

gazehead_status gazehead_generator_prime(gazehead_generator* generator, const float* gaze_hist,
                                         int64_t gaze_count, const float* head_hist,
                                         int64_t head_count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(gaze_hist, "gaze_hist");
    need(head_hist, "head_hist");
    const int64_t n = generator->n;
    if (gaze_count < 0 || gaze_count % (2 * n) != 0) {
      fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
           fmt("gaze_hist: expected T x %lld agents x 2 floats, got %lld", n, gaze_count));
    }
    if (head_count < 0 || head_count % (3 * n) != 0) {
      fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
           fmt("head_hist: expected T x %lld agents x 3 floats, got %lld", n, head_count));
    }
    const int64_t T = gaze_count / (2 * n);
    if (T == 0) fail(GAZEHEAD_ERR_INVALID_ARGUMENT, "gaze_hist: the sequence is empty (T = 0)");
    if (head_count / (3 * n) != T) {
      fail(GAZEHEAD_ERR_INVALID_ARGUMENT,
           fmt("head_hist: has %lld frames but gaze_hist has %lld", head_count / (3 * n), T));
    }
    core::prime(*generator->core, gaze_hist, head_hist, T);  // the update() clock restarts
  });
}

gazehead_status gazehead_generator_set_temperature(gazehead_generator* generator,
                                                   float temperature) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    core::set_temperature(*generator->core, temperature);
  });
}

gazehead_status gazehead_generator_set_seed(gazehead_generator* generator, uint32_t seed) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    core::set_seed(*generator->core, seed);
  });
}

gazehead_status gazehead_generator_set_style(gazehead_generator* generator, const float* style,
                                             int64_t style_count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(style, "style");
    const int64_t n = generator->n;
    check_count(style_count, 2 * n, "style", n, 2);
    core::set_style(*generator->core, style);  // checked first (gazehead::check_styles)
  });
}

gazehead_status gazehead_generator_get_style(const gazehead_generator* generator, float* style_out,
                                             int64_t style_count) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(style_out, "style_out");
    check_count(style_count, 2 * generator->n, "style_out", generator->n, 2);
    core::get_style(*generator->core, style_out);
  });
}

gazehead_status gazehead_generator_set_neck_limits(gazehead_generator* generator,
                                                   const float limits[3]) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(limits, "limits");
    core::set_neck_limits(*generator->core, limits);  // checked first, as Generator.neck_limits
  });
}

gazehead_status gazehead_generator_get_neck_limits(const gazehead_generator* generator,
                                                   float limits_out[3]) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(limits_out, "limits_out");
    std::memcpy(limits_out, core::neck_limits(*generator->core), 3 * sizeof(float));
  });
}

gazehead_status gazehead_generator_state_size(const gazehead_generator* generator,
                                              size_t* out_size) {
  return guard([&] {
    need(generator, "generator");
    need(out_size, "out_size");
    *out_size = core::state_size(*generator->core);
  });
}

gazehead_status gazehead_generator_save_state(const gazehead_generator* generator, void* buffer,
                                              size_t size) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(buffer, "buffer");
    const size_t need_bytes = core::state_size(*generator->core);
    if (size < need_bytes) {
      fail(GAZEHEAD_ERR_BUFFER_TOO_SMALL,
           fmt("buffer: %lld bytes, the state needs %lld (gazehead_generator_state_size)",
               static_cast<long long>(size), static_cast<long long>(need_bytes)));
    }
    core::save_state(*generator->core, buffer);
  });
}

gazehead_status gazehead_generator_load_state(gazehead_generator* generator, const void* buffer,
                                              size_t size) {
  return guard([&] {
    need(generator, "generator");
    const core::Busy busy(*generator->core);
    need(buffer, "buffer");
    core::load_state(*generator->core, buffer, size);  // checked whole before any change
  });
}

}  // extern "C"
