/* gazehead.h: the C ABI of gazehead_rt, for game engines and native hosts.
 *
 * A model (immutable, loaded once, shareable between threads) and generators (one per stream
 * of characters, N agents stepped together). Angles are radians; gaze is (pitch, yaw), head
 * is (pitch, yaw, roll), eye-in-head is (pitch, yaw), in the body frame x forward, y left,
 * z up. Arrays are agent-major: gaze (N, 2), head (N, 3), eye (N, 2); sequences are
 * time-major (T, N, ...).
 *
 * Conventions of every function:
 *  - returns a gazehead_status; on anything but GAZEHEAD_OK, gazehead_last_error() gives the
 *    message (the same text the Python package raises for the same problem) and nothing the
 *    call was about has changed (no output handle written, no generator state touched);
 *  - buffers are the caller's and are passed with their length in floats (or bytes), so a
 *    wrong size is refused instead of read past; no call allocates per step;
 *  - no C++ exception crosses this boundary; no bool is passed by value (int32_t 0/1).
 *
 * Thread safety:
 *  - gazehead_abi_version, gazehead_version, gazehead_build_info, gazehead_status_name:
 *    any thread, any time;
 *  - gazehead_last_error: per thread (thread-local): the last failure on the calling thread;
 *  - model functions: any thread; a model is immutable after loading and may be shared by any
 *    number of generators on any threads. Freeing a model while generators made from it still
 *    exist is allowed (they keep what they need alive);
 *  - generator functions: a generator is driven by one thread at a time (no internal lock,
 *    nothing waits): a call made while another thread is inside a call on the same generator
 *    returns GAZEHEAD_ERR_BUSY and changes nothing (the other call is unaffected); different
 *    generators may run concurrently on different threads.
 *
 * Backends: this library runs the CPU backend (AVX2/AVX-512 kernels picked at run time).
 */
#ifndef GAZEHEAD_GAZEHEAD_H_
#define GAZEHEAD_GAZEHEAD_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(GAZEHEAD_BUILDING_LIBRARY)
#define GAZEHEAD_API __declspec(dllexport)
#else
#define GAZEHEAD_API __declspec(dllimport)
#endif
#else
#define GAZEHEAD_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of a signature or struct layout (a new status code is not
 * one: callers treat values they do not know as failures). Compare it with
 * gazehead_abi_version() when the library is loaded dynamically. Version 2: motion model v3
 * (model format version 2): gazehead_model_info describes the neck limits, eye clamp and
 * style population instead of a residual flag; per-agent style and neck limits are settable. */
#define GAZEHEAD_ABI_VERSION 2

typedef enum gazehead_status {
  GAZEHEAD_OK = 0,
  GAZEHEAD_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a wrong size, a bad value or input */
  GAZEHEAD_ERR_MODEL = 2,            /* a model file or buffer is missing or malformed */
  GAZEHEAD_ERR_ABI_MISMATCH = 3,     /* the caller was compiled against another ABI version */
  GAZEHEAD_ERR_UNSUPPORTED = 4,      /* not available in this build or this model format */
  GAZEHEAD_ERR_BUFFER_TOO_SMALL = 5, /* a caller's buffer is smaller than needed */
  GAZEHEAD_ERR_STATE = 6,            /* a saved state does not fit this generator */
  GAZEHEAD_ERR_IO = 7,               /* a file could not be read */
  GAZEHEAD_ERR_INTERNAL = 8,         /* a bug or out of memory */
  GAZEHEAD_ERR_BUSY = 9              /* another thread is inside a call on this generator;
                                        nothing changed */
} gazehead_status;

typedef enum gazehead_nan_policy {
  GAZEHEAD_NAN_RAISE = 0, /* non-finite gaze is refused, naming the agent */
  GAZEHEAD_NAN_HOLD = 1   /* that agent keeps its last valid gaze */
} gazehead_nan_policy;

typedef enum gazehead_backend {
  GAZEHEAD_BACKEND_CPU = 0 /* the only backend of this library */
} gazehead_backend;

typedef struct gazehead_model gazehead_model;         /* opaque, immutable */
typedef struct gazehead_generator gazehead_generator; /* opaque, one thread at a time */

/* ---- library ---------------------------------------------------------------------------- */

/* The ABI version this library implements (GAZEHEAD_ABI_VERSION of the header it was built
 * with). */
GAZEHEAD_API int32_t gazehead_abi_version(void);
/* The gazehead_rt version, e.g. "0.1.0". Static storage. */
GAZEHEAD_API const char* gazehead_version(void);
/* One line describing the build: version, ABI, compiler, build type, CPU kernels in use.
 * Static storage. */
GAZEHEAD_API const char* gazehead_build_info(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next
 * failing call on this thread. */
GAZEHEAD_API const char* gazehead_last_error(void);
/* "GAZEHEAD_OK", "GAZEHEAD_ERR_MODEL", ...; "unknown status" for other values. */
GAZEHEAD_API const char* gazehead_status_name(int32_t status);

/* ---- model ------------------------------------------------------------------------------ */

typedef struct gazehead_model_info {
  uint32_t struct_size;   /* in: sizeof(gazehead_model_info) as the caller compiled it */
  int32_t format_version; /* model file format version (2: motion model v3) */
  float fps;              /* the model's fixed rate; one step advances 1/fps seconds */
  int32_t hidden_size;    /* GRU state size */
  int32_t latent_size;    /* latent size */
  int32_t style_size;     /* per-agent style values (2: propensity, idle) */
  int64_t num_parameters; /* weights and biases of the runtime layers */
  uint64_t fingerprint;   /* FNV-1a 64 of the model bytes; saved states carry it */
  float neck_limits[3];   /* default head-on-torso half-ranges (pitch, yaw, roll), rad */
  float neck_soft;        /* the neck's soft zone starts at neck_soft * limit */
  float eye_limit;        /* the reported eye-in-head is clamped to +-eye_limit, rad */
  float style_mean[2];    /* population of styles the agents' defaults are drawn from */
  float style_std[2];
} gazehead_model_info;

/* Load a gazehead_rt model file (.safetensors with gazehead_rt metadata, format version 3).
 * The core's reader, the one gazehead_rt.load_model uses too: the same checks and messages
 * (they start with the path). Sizes are capped before anything is allocated (file 64 MiB,
 * header 1 MiB), the config is typed strictly, values must be plausible and the tensors must
 * match the file's tensors_sha256; format versions 1 and 2 are refused by name. */
GAZEHEAD_API gazehead_status gazehead_model_load_file(const char* path_utf8,
                                                      gazehead_model** out_model);
/* The same from bytes in memory (e.g. an engine asset). `name` labels messages (NULL:
 * "<memory>"). The bytes are not referenced after the call returns. */
GAZEHEAD_API gazehead_status gazehead_model_load_memory(const void* data, size_t size,
                                                        const char* name,
                                                        gazehead_model** out_model);
/* The caller sets info->struct_size = sizeof(gazehead_model_info); a smaller value is refused
 * (GAZEHEAD_ERR_ABI_MISMATCH). The library writes the fields it knows and nothing past them. */
GAZEHEAD_API gazehead_status gazehead_model_get_info(const gazehead_model* model,
                                                     gazehead_model_info* info);
/* NULL is allowed. */
GAZEHEAD_API void gazehead_model_free(gazehead_model* model);

/* ---- generator -------------------------------------------------------------------------- */

/* Options of gazehead_generator_create. The struct carries its own size and the ABI version
 * the caller was compiled against, so later versions can append fields: always fill it with
 * GAZEHEAD_GENERATOR_OPTIONS_INIT first, then change what you need. Reserved fields must
 * stay zero (they will get meanings with defaults of zero). */
typedef struct gazehead_generator_options {
  uint32_t struct_size; /* sizeof(gazehead_generator_options) */
  uint32_t abi_version; /* GAZEHEAD_ABI_VERSION */
  int64_t num_agents;   /* N >= 1 (default 1) */
  uint32_t seed;        /* noise seed (default 0): a (seed, agent, frame) gives the same motion
                           for any N */
  float temperature;    /* >= 0, scales the prior's spread; 0 = mean motion (default 1) */
  int32_t nan_policy;   /* gazehead_nan_policy (default GAZEHEAD_NAN_RAISE) */
  int32_t num_threads;  /* 1..256 threads splitting each call's agents (default 1); results
                           are identical for any value */
  int32_t backend;      /* gazehead_backend (default GAZEHEAD_BACKEND_CPU) */
  int32_t reserved_i[7];
  float reserved_f[8];
} gazehead_generator_options;

/* Fills defaults, struct_size and abi_version. Fails (GAZEHEAD_ERR_ABI_MISMATCH) when
 * abi_version differs from the library's, or when struct_size is smaller than any layout
 * this library knows. */
GAZEHEAD_API gazehead_status gazehead_generator_options_init(gazehead_generator_options* options,
                                                             uint32_t struct_size,
                                                             uint32_t abi_version);
#define GAZEHEAD_GENERATOR_OPTIONS_INIT(options_ptr)                               \
  gazehead_generator_options_init((options_ptr), (uint32_t)sizeof(*(options_ptr)), \
                                  GAZEHEAD_ABI_VERSION)

/* A generator for options->num_agents agents. options NULL = all defaults. The generator
 * keeps the model alive. */
GAZEHEAD_API gazehead_status gazehead_generator_create(const gazehead_model* model,
                                                       const gazehead_generator_options* options,
                                                       gazehead_generator** out_generator);
/* NULL is allowed. */
GAZEHEAD_API void gazehead_generator_free(gazehead_generator* generator);

GAZEHEAD_API gazehead_status gazehead_generator_num_agents(const gazehead_generator* generator,
                                                           int64_t* out_num_agents);
GAZEHEAD_API gazehead_status gazehead_generator_fps(const gazehead_generator* generator,
                                                    float* out_fps);

/* Advance one model frame (1/fps s). gaze (N, 2) -> head_out (N, 3), eye_out (N, 2).
 * Counts are in floats and must be exactly 2N, 3N, 2N. eye_out may be NULL (eye_count 0).
 * Gaze is validated for every agent before anything changes: non-finite (unless
 * GAZEHEAD_NAN_HOLD), |pitch| > pi/2 or |yaw| > pi is refused naming the agent. */
GAZEHEAD_API gazehead_status gazehead_generator_step(gazehead_generator* generator,
                                                     const float* gaze, int64_t gaze_count,
                                                     float* head_out, int64_t head_count,
                                                     float* eye_out, int64_t eye_count);

/* Variable-rate loops: advance the clock by dt_s seconds with the gaze now at `gaze` (N, 2).
 * Runs every model frame that came due (gaze interpolated between calls, yaw the short way,
 * at most 0.25 s of catch-up per call) and writes the model pose interpolated at the current
 * time minus one model frame to head_out (N, 3); eye_out (N, 2, may be NULL) is the current
 * gaze seen from that head. The first call (after creation, a full reset or a prime) starts
 * the clock and its dt_s is ignored. The numbers are those of Python's Generator.update. */
GAZEHEAD_API gazehead_status gazehead_generator_update(gazehead_generator* generator,
                                                       const float* gaze, int64_t gaze_count,
                                                       double dt_s, float* head_out,
                                                       int64_t head_count, float* eye_out,
                                                       int64_t eye_count);

/* New episode (zero state, fresh noise; the style is kept) for agents[0..count) (every id in
 * [0, N)), or for all agents when agents is NULL (count ignored). */
GAZEHEAD_API gazehead_status gazehead_generator_reset(gazehead_generator* generator,
                                                      const int64_t* agents, int64_t count);

/* Condition on observed motion: gaze_hist (T, N, 2) and head_hist (T, N, 3), T >= 1, so the
 * next step continues from the last observed frame. Non-finite values are refused whatever
 * the nan policy. Counts in floats. */
GAZEHEAD_API gazehead_status gazehead_generator_prime(gazehead_generator* generator,
                                                      const float* gaze_hist, int64_t gaze_count,
                                                      const float* head_hist, int64_t head_count);

GAZEHEAD_API gazehead_status gazehead_generator_set_temperature(gazehead_generator* generator,
                                                                float temperature);
GAZEHEAD_API gazehead_status gazehead_generator_set_seed(gazehead_generator* generator,
                                                         uint32_t seed);

/* Per-agent style (N, 2): (propensity, idle), see gazehead_rt.style. Each agent starts with
 * its population draw (style_mean + style_std * Philox normals keyed by seed and agent: the
 * same values as Python's Generator for the same model and seed, for any N); reset keeps the
 * style; it takes effect from the next frame. Counts are in floats and must be 2N. set_style
 * checks every value (finite, within +-10) before any agent changes. */
GAZEHEAD_API gazehead_status gazehead_generator_set_style(gazehead_generator* generator,
                                                          const float* style, int64_t style_count);
GAZEHEAD_API gazehead_status gazehead_generator_get_style(const gazehead_generator* generator,
                                                          float* style_out, int64_t style_count);
/* Head-on-torso half-ranges (pitch, yaw, roll), radians, of all agents; the default is the
 * model's (gazehead_model_info.neck_limits). Pitch and roll in (0, pi/2], yaw in (0, pi);
 * anything else is refused naming the axis. The next frame uses them. */
GAZEHEAD_API gazehead_status gazehead_generator_set_neck_limits(gazehead_generator* generator,
                                                                const float limits[3]);
GAZEHEAD_API gazehead_status gazehead_generator_get_neck_limits(const gazehead_generator* generator,
                                                                float limits_out[3]);

/* Saved state: an opaque, versioned, size-prefixed byte blob holding everything a generator
 * needs to continue exactly (recurrent state, head and head velocity, latent, styles, history,
 * noise counters, seed, temperature, neck limits, the update() clock). It is tied to the model
 * (fingerprint) and the agent count; its layout is private and may change between versions (a blob
 * of another version is refused). */
GAZEHEAD_API gazehead_status gazehead_generator_state_size(const gazehead_generator* generator,
                                                           size_t* out_size);
/* size >= gazehead_generator_state_size(); writes exactly that many bytes. */
GAZEHEAD_API gazehead_status gazehead_generator_save_state(const gazehead_generator* generator,
                                                           void* buffer, size_t size);
/* The blob is validated completely before anything changes. */
GAZEHEAD_API gazehead_status gazehead_generator_load_state(gazehead_generator* generator,
                                                           const void* buffer, size_t size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GAZEHEAD_GAZEHEAD_H_ */
