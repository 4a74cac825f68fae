/* Test of the C ABI: every function, every error path, and the numbers of the Python API.
 *
 *   gazehead_test_capi MODEL.safetensors EXPECTED.json [REFUSALS_DIR]
 *
 * EXPECTED.json is written by make_expected.py (next to this file) from the Python package;
 * the same gaze, dt and seed must give the same heads and eyes here (1e-5 rad: the kernels
 * of another CPU may round differently in the last bits). REFUSALS_DIR, when given, holds the
 * refusal table make_refusals.py writes: every case must be refused with its status and exact
 * message, leaving the generator's saved state unchanged (the Python and C# tests read the
 * same table). Written in C99 so the header is checked as C, not C++. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gazehead/gazehead.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++g_checks;                                                                \
    if (!(cond)) {                                                             \
      ++g_failures;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* A call must fail with `status` and a last error containing `text`. */
#define CHECK_ERR(call, status, text) check_err((call), (status), (text), __FILE__, __LINE__, #call)

static void check_err(gazehead_status got, gazehead_status want, const char* text, const char* file,
                      int line, const char* expr) {
  ++g_checks;
  if (got != want || strstr(gazehead_last_error(), text) == NULL) {
    ++g_failures;
    fprintf(
        stderr,
        "%s:%d: %s\n  returned %s, expected %s\n  message: \"%s\"\n  expected to contain: \"%s\"\n",
        file, line, expr, gazehead_status_name(got), gazehead_status_name(want),
        gazehead_last_error(), text);
  }
}

#define CHECK_OK(call) check_ok((call), __FILE__, __LINE__, #call)
static void check_ok(gazehead_status got, const char* file, int line, const char* expr) {
  ++g_checks;
  if (got != GAZEHEAD_OK) {
    ++g_failures;
    fprintf(stderr, "%s:%d: %s\n  returned %s: %s\n", file, line, expr, gazehead_status_name(got),
            gazehead_last_error());
  }
}

/* ---- expected values: flat arrays of numbers under a key of the JSON file -------------- */

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char*)malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return NULL;
  }
  fclose(f);
  buf[n] = 0;
  *size = (size_t)n;
  return buf;
}

/* The numbers of `"key": [ ... ]` (or `"key": number`) into out; returns how many. */
static int json_numbers(const char* json, const char* key, double* out, int max) {
  char pattern[128];
  const char* p;
  int n = 0;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  p = strstr(json, pattern);
  if (!p) {
    fprintf(stderr, "expected values: no key %s\n", key);
    exit(2);
  }
  p += strlen(pattern);
  while (*p == ' ' || *p == '\n') ++p;
  if (*p != '[') {
    out[0] = strtod(p, NULL);
    return 1;
  }
  ++p;
  while (n < max) {
    char* end;
    while (*p == ' ' || *p == '\n' || *p == ',') ++p;
    if (*p == ']') break;
    out[n++] = strtod(p, &end);
    p = end;
  }
  return n;
}

/* The string value of `"key": "..."` into out (no escapes); 0 if the key is absent. */
static int json_string(const char* json, const char* key, char* out, size_t max) {
  char pattern[128];
  const char* p;
  size_t n = 0;
  snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
  p = strstr(json, pattern);
  if (!p) return 0;
  p += strlen(pattern);
  while (*p && *p != '"' && n + 1 < max) out[n++] = *p++;
  out[n] = 0;
  return 1;
}

static int json_floats(const char* json, const char* key, float* out, int max) {
  static double tmp[4096];
  int i, n = json_numbers(json, key, tmp, max < 4096 ? max : 4096);
  for (i = 0; i < n; ++i) out[i] = (float)tmp[i];
  return n;
}

static double max_abs_diff(const float* a, const float* b, int n) {
  double worst = 0.0;
  int i;
  for (i = 0; i < n; ++i) {
    const double d = fabs((double)a[i] - (double)b[i]);
    if (!(d <= worst)) worst = d; /* NaN counts as worst */
  }
  return worst;
}

static const double kTol = 1e-5;

/* ---- a tiny synthetic model file, to exercise every check of the reader ------------------ */
/* enc [4] (input 11 + Z) -> GRU 3 -> prior [2] -> Z 2 -> dec [2] -> 3 */

enum { kMaxTensors = 16 };
typedef struct {
  const char* name;
  int rows, cols; /* cols 0: a vector of `rows` */
} TinyTensor;

static const TinyTensor kTiny[] = {
    {"enc.0.weight", 4, 13},  {"enc.0.bias", 4, 0},   {"gru.weight_ih", 9, 4},
    {"gru.weight_hh", 9, 3},  {"gru.bias_ih", 9, 0},  {"gru.bias_hh", 9, 0},
    {"prior.0.weight", 2, 3}, {"prior.0.bias", 2, 0}, {"prior.2.weight", 4, 2},
    {"prior.2.bias", 4, 0},   {"dec.0.weight", 2, 5}, {"dec.0.bias", 2, 0},
    {"dec.2.weight", 3, 2},   {"dec.2.bias", 3, 0}};
static const int kTinyCount = (int)(sizeof kTiny / sizeof kTiny[0]);

static const char* kTinyConfig =
    "{\"enc_sizes\": [4], \"hidden_size\": 3, \"prior_sizes\": [2], \"latent_size\": 2, "
    "\"dec_sizes\": [2], \"post_sizes\": [2], \"activation\": \"tanh\", \"fps\": 30.0, "
    "\"neck_limits\": [0.5, 1.0, 0.25], \"neck_soft\": 0.5, \"eye_limit\": 1.0, "
    "\"style_mean\": [0.25, -0.5], \"style_std\": [0.0, 2.0]}";
static const char* kTinyNorm =
    "{\"x_mean\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], \"x_std\": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
    "1], "
    "\"y_mean\": [0, 0, 0], \"y_std\": [1, 1, 1]}";

typedef struct {
  const char* format_version; /* NULL: left out */
  const char* config;         /* JSON text (escaped into the header); NULL: left out */
  const char* norm;
  const char* skip;    /* tensor left out */
  const char* extra;   /* an extra tensor of 1 float */
  const char* f16;     /* this tensor stored as F16 */
  const char* reshape; /* this tensor given a wrong shape (same byte size) */
  const char* nan;     /* this tensor gets a NaN */
  const char* hash;    /* metadata tensors_sha256; NULL: left out */
} TinyOptions;

/* tensors_sha256 of the tiny model's tensors (gazehead_rt.model_file.tensors_sha256 of the
   values make_tiny writes); the reader requires it */
static const char* kTinyHash = "e778247a71ce1ce5f703081e7a6293d2a0207016e795649dff9359f9f4072f3c";

static void append_json_string(char* dst, const char* s) {
  char* d = dst + strlen(dst);
  *d++ = '"';
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\') *d++ = '\\';
    *d++ = *s;
  }
  *d++ = '"';
  *d = 0;
}

/* Builds a safetensors file in `out` (caller frees); returns its size. */
static size_t make_tiny(const TinyOptions* o, unsigned char** out) {
  static char header[8192];
  static float data[4096];
  size_t n_data = 0, header_len, total;
  unsigned char* buf;
  int i, k, first = 1;
  header[0] = 0;
  strcat(header, "{\"__metadata__\": {");
  if (o->format_version) {
    strcat(header, "\"format_version\": ");
    append_json_string(header, o->format_version);
    first = 0;
  }
  if (o->config) {
    strcat(header, first ? "\"config\": " : ", \"config\": ");
    append_json_string(header, o->config);
    first = 0;
  }
  if (o->norm) {
    strcat(header, first ? "\"normalization\": " : ", \"normalization\": ");
    append_json_string(header, o->norm);
    first = 0;
  }
  if (o->hash) {
    strcat(header, first ? "\"tensors_sha256\": " : ", \"tensors_sha256\": ");
    append_json_string(header, o->hash);
  }
  strcat(header, "}");
  for (i = 0; i <= kTinyCount; ++i) {
    const char* name = i < kTinyCount ? kTiny[i].name : o->extra;
    int rows = i < kTinyCount ? kTiny[i].rows : 1, cols = i < kTinyCount ? kTiny[i].cols : 0;
    size_t count = (size_t)rows * (size_t)(cols ? cols : 1), begin = n_data * 4, bytes;
    char entry[256];
    const int is_f16 = o->f16 && strcmp(name ? name : "", o->f16) == 0;
    if (name == NULL || (o->skip && strcmp(name, o->skip) == 0)) continue;
    bytes = count * (is_f16 ? 2 : 4);
    for (k = 0; k < (int)count; ++k) data[n_data + (size_t)k] = 0.01f * (float)((k % 7) - 3);
    if (o->nan && strcmp(name, o->nan) == 0) data[n_data] = NAN;
    n_data += (bytes + 3) / 4;
    if (o->reshape && strcmp(name, o->reshape) == 0 && cols) {
      snprintf(entry, sizeof entry,
               ", \"%s\": {\"dtype\": \"F32\", \"shape\": [%d, %d], \"data_offsets\": [%zu, %zu]}",
               name, cols, rows, begin, begin + bytes);
    } else if (cols) {
      snprintf(entry, sizeof entry,
               ", \"%s\": {\"dtype\": \"%s\", \"shape\": [%d, %d], \"data_offsets\": [%zu, %zu]}",
               name, is_f16 ? "F16" : "F32", rows, cols, begin, begin + bytes);
    } else {
      snprintf(entry, sizeof entry,
               ", \"%s\": {\"dtype\": \"%s\", \"shape\": [%d], \"data_offsets\": [%zu, %zu]}", name,
               is_f16 ? "F16" : "F32", rows, begin, begin + bytes);
    }
    if (is_f16 && bytes % 4) {
      /* keep the tensors tiling the data section: pad by widening the range is not allowed,
         so F16 is only used on tensors with an even element count */
      fprintf(stderr, "make_tiny: F16 tensor %s needs an even size\n", name);
      exit(2);
    }
    strcat(header, entry);
  }
  strcat(header, "}");
  header_len = strlen(header);
  total = 8 + header_len + n_data * 4;
  buf = (unsigned char*)malloc(total);
  for (i = 0; i < 8; ++i) buf[i] = (unsigned char)((unsigned long long)header_len >> (8 * i));
  memcpy(buf + 8, header, header_len);
  memcpy(buf + 8 + header_len, data, n_data * 4);
  *out = buf;
  return total;
}

static TinyOptions tiny_ok(void) {
  TinyOptions o;
  memset(&o, 0, sizeof o);
  o.format_version = "3";
  o.config = kTinyConfig;
  o.norm = kTinyNorm;
  o.hash = kTinyHash;
  return o;
}

/* Loads a tiny model variant and checks the status and message. */
static void expect_tiny_refused(TinyOptions o, const char* message, int line) {
  unsigned char* bytes;
  size_t size = make_tiny(&o, &bytes);
  gazehead_model* m = (gazehead_model*)1;
  gazehead_status s = gazehead_model_load_memory(bytes, size, "tiny.safetensors", &m);
  ++g_checks;
  if (s != GAZEHEAD_ERR_MODEL || strcmp(gazehead_last_error(), message) != 0 || m != NULL) {
    ++g_failures;
    fprintf(
        stderr,
        "%s:%d: tiny model: returned %s, message \"%s\"\n  expected GAZEHEAD_ERR_MODEL, \"%s\"\n",
        __FILE__, line, gazehead_status_name(s), gazehead_last_error(), message);
  }
  free(bytes);
}

static void test_model_file_checks(void) {
  TinyOptions o = tiny_ok();
  unsigned char* bytes;
  size_t size = make_tiny(&o, &bytes);
  gazehead_model* m = NULL;
  gazehead_model_info info;
  CHECK_OK(gazehead_model_load_memory(bytes, size, "tiny.safetensors", &m));
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(gazehead_model_get_info(m, &info));
  CHECK(info.hidden_size == 3 && info.latent_size == 2 && info.fps == 30.0f &&
        info.style_size == 2 && info.format_version == 3);
  CHECK(info.num_parameters ==
        4 * 13 + 4 + 9 * 4 + 9 * 3 + 9 + 9 + 2 * 3 + 2 + 4 * 2 + 4 + 2 * 5 + 2 + 3 * 2 + 3);
  /* the config's v3 entries, as float32 */
  CHECK(info.neck_limits[0] == 0.5f && info.neck_limits[1] == 1.0f && info.neck_limits[2] == 0.25f);
  CHECK(info.neck_soft == 0.5f && info.eye_limit == 1.0f);
  CHECK(info.style_mean[0] == 0.25f && info.style_mean[1] == -0.5f && info.style_std[0] == 0.0f &&
        info.style_std[1] == 2.0f);
  {
    /* the default neck limits and styles of its generators: style_std 0 fixes propensity */
    gazehead_generator* g = NULL;
    gazehead_generator_options opt;
    float limits[3], style[6];
    CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&opt));
    opt.num_agents = 3;
    CHECK_OK(gazehead_generator_create(m, &opt, &g));
    CHECK_OK(gazehead_generator_get_neck_limits(g, limits));
    CHECK(memcmp(limits, info.neck_limits, sizeof limits) == 0);
    CHECK_OK(gazehead_generator_get_style(g, style, 6));
    CHECK(style[0] == 0.25f && style[2] == 0.25f && style[4] == 0.25f);
    CHECK(style[1] != style[3] && style[3] != style[5]); /* per-agent draws */
    gazehead_generator_free(g);
  }
  gazehead_model_free(m);
  free(bytes);

  /* the messages of gazehead_rt.model_file.load_model, in its order of checks */
  o = tiny_ok();
  o.format_version = NULL;
  expect_tiny_refused(
      o, "tiny.safetensors: metadata has no 'format_version'; not a gazehead_rt model file",
      __LINE__);
  o = tiny_ok();
  o.format_version = "1";
  expect_tiny_refused(
      o,
      "tiny.safetensors: format_version 1 (motion model v2) is not supported; this runtime "
      "runs format_version 3 (motion model v4): retrain or use gazehead_rt<0.2",
      __LINE__);
  o = tiny_ok();
  o.format_version = "2";
  expect_tiny_refused(
      o,
      "tiny.safetensors: format_version 2 (motion model v3) is not supported; this runtime "
      "runs format_version 3 (motion model v4): retrain or use gazehead_rt<0.3",
      __LINE__);
  o = tiny_ok();
  o.format_version = "4";
  expect_tiny_refused(
      o, "tiny.safetensors: format_version 4 is not supported (this runtime reads version 3)",
      __LINE__);
  o = tiny_ok();
  o.config = NULL;
  expect_tiny_refused(o, "tiny.safetensors: metadata has no 'config' entry", __LINE__);
  o = tiny_ok();
  o.config = "{\"hidden_size\": }";
  expect_tiny_refused(o,
                      "tiny.safetensors: metadata 'config' is not valid JSON (Expecting value: "
                      "line 1 column 17 (char 16))",
                      __LINE__);
  o = tiny_ok();
  o.config = "[1, 2]";
  expect_tiny_refused(o, "tiny.safetensors: metadata 'config' must be a JSON object", __LINE__);
  o = tiny_ok();
  o.config = "{\"zeta\": 1, \"alpha\": 2}";
  expect_tiny_refused(o, "tiny.safetensors: config has unknown keys ['alpha', 'zeta']", __LINE__);
  o = tiny_ok();
  o.config = "{\"enc_sizes\": [4, 0]}";
  expect_tiny_refused(o, "tiny.safetensors: config.enc_sizes must hold positive sizes, got [4, 0]",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"activation\": \"gelu\"}";
  expect_tiny_refused(
      o, "tiny.safetensors: config.activation must be one of ('silu', 'relu', 'tanh'), got 'gelu'",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"fps\": -1}";
  expect_tiny_refused(o, "tiny.safetensors: config.fps must be a positive number, got -1",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"residual\": true}"; /* a motion model v2 key */
  expect_tiny_refused(o, "tiny.safetensors: config has unknown keys ['residual']", __LINE__);
  o = tiny_ok();
  o.config = "{\"neck_limits\": [0.5, 1.0]}";
  expect_tiny_refused(
      o, "tiny.safetensors: config.neck_limits must hold 3 finite numbers, got [0.5, 1.0]",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"style_mean\": [0.5, NaN]}";
  expect_tiny_refused(
      o, "tiny.safetensors: config.style_mean must hold 2 finite numbers, got [0.5, nan]",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"style_std\": [1, 2, 3]}";
  expect_tiny_refused(
      o, "tiny.safetensors: config.style_std must hold 2 finite numbers, got [1.0, 2.0, 3.0]",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"neck_limits\": [0.5, 3.2, 0.25]}";
  expect_tiny_refused(
      o,
      "tiny.safetensors: config.neck_limits must be in (0, pi/2] (pitch, roll) and (0, pi) "
      "(yaw) rad, got [0.5, 3.2, 0.25]",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"neck_limits\": [0, 1, 0.25]}";
  expect_tiny_refused(
      o,
      "tiny.safetensors: config.neck_limits must be in (0, pi/2] (pitch, roll) and (0, pi) "
      "(yaw) rad, got [0.0, 1.0, 0.25]",
      __LINE__);
  o = tiny_ok();
  o.config = "{\"neck_soft\": 1}";
  expect_tiny_refused(o, "tiny.safetensors: config.neck_soft must be in [0, 1), got 1", __LINE__);
  o = tiny_ok();
  o.config = "{\"neck_soft\": -0.25}";
  expect_tiny_refused(o, "tiny.safetensors: config.neck_soft must be in [0, 1), got -0.25",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"eye_limit\": 1.6}";
  expect_tiny_refused(o, "tiny.safetensors: config.eye_limit must be in (0, pi/2] rad, got 1.6",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"style_std\": [0.2, -0.1]}";
  expect_tiny_refused(o, "tiny.safetensors: config.style_std must be >= 0, got [0.2, -0.1]",
                      __LINE__);
  o = tiny_ok();
  o.norm = NULL;
  expect_tiny_refused(o, "tiny.safetensors: metadata has no 'normalization' entry", __LINE__);
  o = tiny_ok();
  o.norm = "{\"x_std\": [1, 1]}";
  expect_tiny_refused(o, "tiny.safetensors: normalization.x_std must have 11 values, got 2",
                      __LINE__);
  o = tiny_ok();
  o.norm = "{\"y_std\": [1, 0, 1]}";
  expect_tiny_refused(o, "tiny.safetensors: normalization.y_std must be positive", __LINE__);
  o = tiny_ok();
  o.norm = "{\"y_mean\": [1, NaN, 1]}";
  expect_tiny_refused(o, "tiny.safetensors: normalization.y_mean holds non-finite values",
                      __LINE__);
  o = tiny_ok();
  o.skip = "gru.bias_hh";
  expect_tiny_refused(o, "tiny.safetensors: tensor 'gru.bias_hh' is missing", __LINE__);
  o = tiny_ok();
  o.extra = "post.0.weight";
  expect_tiny_refused(
      o, "tiny.safetensors: unexpected tensor 'post.0.weight' (not part of this config)", __LINE__);
  o = tiny_ok();
  o.f16 = "enc.0.bias";
  expect_tiny_refused(
      o, "tiny.safetensors: tensor 'enc.0.bias' has dtype float16, expected float32", __LINE__);
  o = tiny_ok();
  o.reshape = "dec.0.weight";
  expect_tiny_refused(
      o, "tiny.safetensors: tensor 'dec.0.weight' has shape (5, 2), expected (2, 5)", __LINE__);
  o = tiny_ok();
  o.nan = "prior.2.bias";
  expect_tiny_refused(o, "tiny.safetensors: tensor 'prior.2.bias' holds non-finite values",
                      __LINE__);
  o = tiny_ok();
  o.hash = NULL;
  expect_tiny_refused(o,
                      "tiny.safetensors: metadata has no 'tensors_sha256' entry (the integrity "
                      "hash save_model writes)",
                      __LINE__);
  o = tiny_ok();
  o.hash = "e778247a71ce1ce5f703081e7a6293d2a0207016e795649dff9359f9f4072f3d";
  expect_tiny_refused(o,
                      "tiny.safetensors: metadata 'tensors_sha256' does not match the tensors "
                      "(the file is corrupted or was edited)",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"fps\": 1e-30}";
  expect_tiny_refused(o, "tiny.safetensors: config.fps 1e-30 is outside [1.0, 1000.0]", __LINE__);
  o = tiny_ok();
  o.config = "{\"latent_size\": 5000}";
  expect_tiny_refused(o, "tiny.safetensors: config.latent_size is over 4096", __LINE__);
  o = tiny_ok();
  o.config = "{\"hidden_size\": 64.9}";
  expect_tiny_refused(o, "tiny.safetensors: config.hidden_size must be an integer, got 64.9",
                      __LINE__);
  o = tiny_ok();
  o.config = "{\"fps\": true}";
  expect_tiny_refused(o, "tiny.safetensors: config.fps must be a number, got True", __LINE__);
  /* a config that asks for a different architecture than the tensors hold */
  o = tiny_ok();
  o.config =
      "{\"enc_sizes\": [4], \"hidden_size\": 4, \"prior_sizes\": [2], \"latent_size\": 2, "
      "\"dec_sizes\": [2]}";
  expect_tiny_refused(
      o, "tiny.safetensors: tensor 'gru.weight_ih' has shape (9, 4), expected (12, 4)", __LINE__);
}

static void test_bad_bytes(const unsigned char* good, size_t good_size) {
  gazehead_model* m = (gazehead_model*)1;
  unsigned char junk[64];
  unsigned char* copy;
  memset(junk, 0x41, sizeof junk);
  CHECK_ERR(gazehead_model_load_memory(good, 0, NULL, &m), GAZEHEAD_ERR_MODEL,
            "<memory>: file is empty");
  CHECK(m == NULL);
  CHECK_ERR(gazehead_model_load_memory(NULL, 10, NULL, &m), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "data is NULL");
  CHECK_ERR(gazehead_model_load_memory(good, good_size, NULL, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "out_model is NULL");
  CHECK_ERR(
      gazehead_model_load_memory(junk, 5, "junk", &m), GAZEHEAD_ERR_MODEL,
      "junk: not a readable safetensors file (file is shorter than the 8-byte header length)");
  CHECK_ERR(gazehead_model_load_memory(junk, sizeof junk, "junk", &m), GAZEHEAD_ERR_MODEL,
            "junk: not a readable safetensors file (header is 4702111234474983745 bytes, over the "
            "1048576 byte cap)");
  junk[2] = junk[3] = junk[4] = junk[5] = junk[6] = junk[7] = 0; /* 0x4141: under the cap */
  CHECK_ERR(gazehead_model_load_memory(junk, sizeof junk, "junk", &m), GAZEHEAD_ERR_MODEL,
            "junk: not a readable safetensors file (header length 16705 runs past the end");
  /* a truncated file: the header promises tensor bytes that are not there */
  CHECK_ERR(gazehead_model_load_memory(good, good_size - 100, "cut", &m), GAZEHEAD_ERR_MODEL,
            "cut: not a readable safetensors file (");
  /* a header that is not JSON */
  copy = (unsigned char*)malloc(good_size);
  memcpy(copy, good, good_size);
  copy[8] = '#';
  CHECK_ERR(gazehead_model_load_memory(copy, good_size, "hash", &m), GAZEHEAD_ERR_MODEL,
            "hash: not a readable safetensors file (header is not valid JSON: Expecting value: "
            "line 1 column 1 (char 0))");
  free(copy);
  CHECK(m == NULL);
  CHECK_ERR(gazehead_model_load_file("no/such/model.safetensors", &m), GAZEHEAD_ERR_MODEL,
            "no/such/model.safetensors: no such model file");
  CHECK_ERR(gazehead_model_load_file(".", &m), GAZEHEAD_ERR_MODEL, ".: no such model file");
  CHECK_ERR(gazehead_model_load_file(NULL, &m), GAZEHEAD_ERR_INVALID_ARGUMENT, "path is NULL");
  CHECK(m == NULL);
}

/* ---- generator ------------------------------------------------------------------------- */

static gazehead_generator* make_gen(const gazehead_model* model, int64_t n, int32_t nan_policy,
                                    int32_t threads) {
  gazehead_generator_options o;
  gazehead_generator* g = NULL;
  CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&o));
  o.num_agents = n;
  o.seed = 7;
  o.temperature = 0.8f;
  o.nan_policy = nan_policy;
  o.num_threads = threads;
  CHECK_OK(gazehead_generator_create(model, &o, &g));
  return g;
}

static void test_options(const gazehead_model* model) {
  gazehead_generator_options o;
  gazehead_generator* g = (gazehead_generator*)1;
  int64_t n = 0;
  CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&o));
  CHECK(o.struct_size == sizeof o && o.abi_version == GAZEHEAD_ABI_VERSION && o.num_agents == 1 &&
        o.seed == 0 && o.temperature == 1.0f && o.nan_policy == GAZEHEAD_NAN_RAISE &&
        o.num_threads == 1 && o.backend == GAZEHEAD_BACKEND_CPU);
  CHECK_ERR(
      gazehead_generator_options_init(&o, sizeof o, GAZEHEAD_ABI_VERSION + 1),
      GAZEHEAD_ERR_ABI_MISMATCH,
      "the caller was compiled against gazehead ABI version 3, this library implements version 2");
  CHECK_ERR(gazehead_generator_options_init(&o, 8, GAZEHEAD_ABI_VERSION), GAZEHEAD_ERR_ABI_MISMATCH,
            "options.struct_size is 8 bytes");
  CHECK_ERR(gazehead_generator_options_init(NULL, sizeof o, GAZEHEAD_ABI_VERSION),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "options is NULL");

  /* NULL options: all defaults */
  CHECK_OK(gazehead_generator_create(model, NULL, &g));
  CHECK_OK(gazehead_generator_num_agents(g, &n));
  CHECK(n == 1);
  gazehead_generator_free(g);

#define REFUSED(field_change, status, text)                            \
  do {                                                                 \
    g = (gazehead_generator*)1;                                        \
    CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&o));                     \
    field_change;                                                      \
    CHECK_ERR(gazehead_generator_create(model, &o, &g), status, text); \
    CHECK(g == NULL);                                                  \
  } while (0)
  REFUSED(memset(&o, 0, sizeof o), GAZEHEAD_ERR_ABI_MISMATCH, "options are not initialized");
  REFUSED(o.abi_version = 99, GAZEHEAD_ERR_ABI_MISMATCH,
          "compiled against gazehead ABI version 99");
  REFUSED(o.struct_size = 16, GAZEHEAD_ERR_ABI_MISMATCH, "options.struct_size is 16 bytes");
  REFUSED(o.num_agents = 0, GAZEHEAD_ERR_INVALID_ARGUMENT, "num_agents must be positive");
  REFUSED(o.temperature = -1.0f, GAZEHEAD_ERR_INVALID_ARGUMENT,
          "temperature: expected a finite number >= 0 and <= 10");
  REFUSED(o.temperature = NAN, GAZEHEAD_ERR_INVALID_ARGUMENT,
          "temperature: expected a finite number >= 0 and <= 10");
  REFUSED(o.nan_policy = 5, GAZEHEAD_ERR_INVALID_ARGUMENT,
          "nan_policy: expected GAZEHEAD_NAN_RAISE (0) or GAZEHEAD_NAN_HOLD (1), got 5");
  REFUSED(o.num_threads = 0, GAZEHEAD_ERR_INVALID_ARGUMENT,
          "num_threads: expected an integer in [1, 256], got 0");
  REFUSED(o.num_threads = 300, GAZEHEAD_ERR_INVALID_ARGUMENT,
          "num_threads: expected an integer in [1, 256], got 300");
  REFUSED(o.backend = 1, GAZEHEAD_ERR_UNSUPPORTED,
          "options.backend 1 is not available in this library");
  REFUSED(o.reserved_i[2] = 1, GAZEHEAD_ERR_INVALID_ARGUMENT, "options.reserved_i[2] must be 0");
  REFUSED(o.reserved_f[7] = 1.0f, GAZEHEAD_ERR_INVALID_ARGUMENT, "options.reserved_f[7] must be 0");
#undef REFUSED
  CHECK_ERR(gazehead_generator_create(NULL, &o, &g), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "model is NULL");
  CHECK_ERR(gazehead_generator_create(model, &o, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "out_generator is NULL");
}

static int blob_equal(const gazehead_generator* a, const unsigned char* blob, size_t size) {
  unsigned char* now = (unsigned char*)malloc(size);
  int same;
  CHECK_OK(gazehead_generator_save_state(a, now, size));
  same = memcmp(now, blob, size) == 0;
  free(now);
  return same;
}

static size_t save(const gazehead_generator* g, unsigned char** blob) {
  size_t size = 0;
  CHECK_OK(gazehead_generator_state_size(g, &size));
  *blob = (unsigned char*)malloc(size);
  CHECK_OK(gazehead_generator_save_state(g, *blob, size));
  return size;
}

static void test_step_and_reset(const gazehead_model* model, const char* json) {
  static float gaze[64], head_exp[96], eye_exp[64], head[96], eye[64];
  const int N = 2;
  int T, t;
  double worst_head = 0.0, worst_eye = 0.0;
  gazehead_generator* g = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  unsigned char* blob;
  size_t size;
  float bad[4];
  int64_t ids[2];

  T = json_floats(json, "step_gaze", gaze, 64) / (2 * N);
  json_floats(json, "step_head", head_exp, 96);
  json_floats(json, "step_eye", eye_exp, 64);
  CHECK(T == 10);
  for (t = 0; t < T; ++t) {
    double dh, de;
    CHECK_OK(gazehead_generator_step(g, gaze + 2 * N * t, 2 * N, head, 3 * N, eye, 2 * N));
    dh = max_abs_diff(head, head_exp + 3 * N * t, 3 * N);
    de = max_abs_diff(eye, eye_exp + 2 * N * t, 2 * N);
    if (dh > worst_head) worst_head = dh;
    if (de > worst_eye) worst_eye = de;
  }
  printf("step x%d: head %.7f %.7f %.7f (Python %.7f %.7f %.7f), max |diff| head %.2g eye %.2g\n",
         T, head[0], head[1], head[2], head_exp[3 * N * (T - 1)], head_exp[3 * N * (T - 1) + 1],
         head_exp[3 * N * (T - 1) + 2], worst_head, worst_eye);
  CHECK(worst_head <= kTol);
  CHECK(worst_eye <= kTol);

  /* bad input: refused, named, and nothing changes */
  size = save(g, &blob);
  bad[0] = 0.1f;
  bad[1] = 0.2f;
  bad[2] = NAN;
  bad[3] = 0.1f;
  CHECK_ERR(gazehead_generator_step(g, bad, 4, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze of agent 1 is not finite (nan, 0.1); pass nan_policy=\"hold\" to keep the last "
            "valid gaze");
  bad[2] = 1.7f;
  CHECK_ERR(gazehead_generator_step(g, bad, 4, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze pitch of agent 1 is 1.700000 rad, outside [-pi/2, pi/2] (angles are radians; "
            "convert degrees with numpy.deg2rad)");
  bad[2] = 0.0f;
  bad[1] = -4.0f;
  CHECK_ERR(gazehead_generator_step(g, bad, 4, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze yaw of agent 0 is -4.000000 rad, outside [-pi, pi]");
  bad[1] = 0.2f;
  CHECK_ERR(gazehead_generator_step(g, bad, 3, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze: expected 4 floats (2 agents x 2), got 3");
  CHECK_ERR(gazehead_generator_step(g, bad, 4, head, 5, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head_out: expected 6 floats (2 agents x 3), got 5");
  CHECK_ERR(gazehead_generator_step(g, bad, 4, head, 6, eye, 6), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "eye_out: expected 4 floats (2 agents x 2), got 6");
  CHECK_ERR(gazehead_generator_step(g, NULL, 4, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze is NULL");
  CHECK_ERR(gazehead_generator_step(g, bad, 4, NULL, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head_out is NULL");
  CHECK_ERR(gazehead_generator_step(NULL, bad, 4, head, 6, eye, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  ids[0] = 1;
  ids[1] = 5;
  CHECK_ERR(gazehead_generator_reset(g, ids, 2), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "agents: id 5 is out of range for 2 agents (valid 0..1)");
  CHECK_ERR(gazehead_generator_reset(g, ids, -1), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "count must be >= 0, got -1");
  CHECK_ERR(gazehead_generator_reset(NULL, NULL, 0), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  CHECK(blob_equal(g, blob, size));
  free(blob);

  /* reset(agent 1) and four more frames, eye_out NULL allowed */
  {
    double ids_json[4];
    int64_t agents[1];
    CHECK(json_numbers(json, "reset_agents", ids_json, 4) == 1);
    agents[0] = (int64_t)ids_json[0];
    CHECK_OK(gazehead_generator_reset(g, agents, 1));
  }
  T = json_floats(json, "reset_gaze", gaze, 64) / (2 * N);
  json_floats(json, "reset_head", head_exp, 96);
  worst_head = 0.0;
  for (t = 0; t < T; ++t) {
    double dh;
    CHECK_OK(gazehead_generator_step(g, gaze + 2 * N * t, 2 * N, head, 3 * N, NULL, 0));
    dh = max_abs_diff(head, head_exp + 3 * N * t, 3 * N);
    if (dh > worst_head) worst_head = dh;
  }
  printf("reset(agent 1) then step x%d: max |diff| head %.2g\n", T, worst_head);
  CHECK(worst_head <= kTol);
  CHECK_OK(gazehead_generator_reset(g, NULL, 0));
  gazehead_generator_free(g);
}

static void test_threads_and_hold(const gazehead_model* model) {
  enum { N = 70 }; /* more than two chunks of 32 agents */
  static float gaze[2 * N], head1[3 * N], head2[3 * N];
  gazehead_generator* one = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  gazehead_generator* two = make_gen(model, N, GAZEHEAD_NAN_RAISE, 2);
  gazehead_generator* hold = make_gen(model, N, GAZEHEAD_NAN_HOLD, 1);
  int t, a, finite = 1;
  for (t = 0; t < 5; ++t) {
    for (a = 0; a < N; ++a) {
      gaze[2 * a] = 0.01f * (float)(a % 10);
      gaze[2 * a + 1] = 0.3f * (float)t - 0.02f * (float)a;
    }
    CHECK_OK(gazehead_generator_step(one, gaze, 2 * N, head1, 3 * N, NULL, 0));
    CHECK_OK(gazehead_generator_step(two, gaze, 2 * N, head2, 3 * N, NULL, 0));
    CHECK(memcmp(head1, head2, sizeof head1) == 0); /* threads change no number */
    gaze[2 * 3] = NAN;                              /* agent 3 loses tracking */
    CHECK_OK(gazehead_generator_step(hold, gaze, 2 * N, head2, 3 * N, NULL, 0));
    for (a = 0; a < 3 * N; ++a) finite = finite && isfinite(head2[a]);
  }
  CHECK(finite);
  gazehead_generator_free(one);
  gazehead_generator_free(two);
  gazehead_generator_free(hold);
}

static void test_update(const gazehead_model* model, const char* json) {
  static float gaze[128], head_exp[192], eye_exp[128], head[6], eye[4];
  static double dt[64];
  const int N = 2;
  int K, k;
  double worst_head = 0.0, worst_eye = 0.0;
  gazehead_generator* g = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  unsigned char* blob;
  size_t size;
  float bad[4] = {0.0f, 0.0f, 0.0f, INFINITY};

  K = json_numbers(json, "update_dt", dt, 64);
  json_floats(json, "update_gaze", gaze, 128);
  json_floats(json, "update_head", head_exp, 192);
  json_floats(json, "update_eye", eye_exp, 128);
  for (k = 0; k < K; ++k) {
    double dh, de;
    CHECK_OK(gazehead_generator_update(g, gaze + 2 * N * k, 2 * N, dt[k], head, 3 * N, eye, 2 * N));
    dh = max_abs_diff(head, head_exp + 3 * N * k, 3 * N);
    de = max_abs_diff(eye, eye_exp + 2 * N * k, 2 * N);
    if (dh > worst_head) worst_head = dh;
    if (de > worst_eye) worst_eye = de;
  }
  printf(
      "update x%d (jitter, a 0.5 s hitch, yaw across pi): head %.7f %.7f %.7f (Python %.7f %.7f "
      "%.7f), "
      "max |diff| head %.2g eye %.2g\n",
      K, head[3], head[4], head[5], head_exp[3 * N * (K - 1) + 3], head_exp[3 * N * (K - 1) + 4],
      head_exp[3 * N * (K - 1) + 5], worst_head, worst_eye);
  CHECK(worst_head <= kTol);
  CHECK(worst_eye <= kTol);

  size = save(g, &blob);
  CHECK_ERR(gazehead_generator_update(g, gaze, 4, -1.0, head, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "dt_s must be finite and >= 0 seconds, got -1.0");
  CHECK_ERR(gazehead_generator_update(g, gaze, 4, NAN, head, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "dt_s must be finite and >= 0 seconds, got nan");
  CHECK_ERR(gazehead_generator_update(g, bad, 4, 0.1, head, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "gaze of agent 1 is not finite (0, inf)");
  CHECK_ERR(gazehead_generator_update(g, gaze, 2, 0.1, head, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "gaze: expected 4 floats (2 agents x 2), got 2");
  CHECK_ERR(gazehead_generator_update(g, gaze, 4, 0.1, NULL, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "head_out is NULL");
  CHECK_ERR(gazehead_generator_update(NULL, gaze, 4, 0.1, head, 6, eye, 4),
            GAZEHEAD_ERR_INVALID_ARGUMENT, "generator is NULL");
  CHECK(blob_equal(g, blob, size));
  free(blob);
  gazehead_generator_free(g);
}

static void test_prime(const gazehead_model* model, const char* json) {
  static float gh[64], hh[96], gaze[64], head_exp[96], head[6];
  const int N = 2;
  int Tg, Th, T, t;
  double worst = 0.0;
  gazehead_generator* g = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  unsigned char* blob;
  size_t size;

  Tg = json_floats(json, "prime_gaze_hist", gh, 64);
  Th = json_floats(json, "prime_head_hist", hh, 96);
  size = save(g, &blob);
  CHECK_ERR(gazehead_generator_prime(g, gh, 0, hh, 0), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze_hist: the sequence is empty (T = 0)");
  CHECK_ERR(gazehead_generator_prime(g, gh, Tg - 1, hh, Th), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze_hist: expected T x 2 agents x 2 floats, got 19");
  CHECK_ERR(gazehead_generator_prime(g, gh, Tg, hh, Th - 1), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head_hist: expected T x 2 agents x 3 floats, got 29");
  CHECK_ERR(gazehead_generator_prime(g, gh, Tg, hh, Th - 6), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head_hist: has 4 frames but gaze_hist has 5");
  CHECK_ERR(gazehead_generator_prime(g, NULL, Tg, hh, Th), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "gaze_hist is NULL");
  CHECK_ERR(gazehead_generator_prime(g, gh, Tg, NULL, Th), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head_hist is NULL");
  CHECK_ERR(gazehead_generator_prime(NULL, gh, Tg, hh, Th), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  hh[3 * N * 2] = NAN;
  CHECK_ERR(gazehead_generator_prime(g, gh, Tg, hh, Th), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "head of frame 2, agent 0 is not finite");
  CHECK(blob_equal(g, blob, size));
  free(blob);
  json_floats(json, "prime_head_hist", hh, 96);
  CHECK_OK(gazehead_generator_prime(g, gh, Tg, hh, Th));

  T = json_floats(json, "prime_gaze", gaze, 64) / (2 * N);
  json_floats(json, "prime_head", head_exp, 96);
  for (t = 0; t < T; ++t) {
    double d;
    CHECK_OK(gazehead_generator_step(g, gaze + 2 * N * t, 2 * N, head, 3 * N, NULL, 0));
    d = max_abs_diff(head, head_exp + 3 * N * t, 3 * N);
    if (d > worst) worst = d;
  }
  printf("prime(%d frames) then step x%d: max |diff| head %.2g\n", Tg / (2 * N), T, worst);
  CHECK(worst <= kTol);
  gazehead_generator_free(g);
}

static void test_style(const gazehead_model* model, const char* json) {
  static float def_exp[4], lim_exp[3], style[4], limits[3], gaze[64], head_exp[96], eye_exp[64];
  const int N = 2;
  float got_style[4], got_limits[3], head[6], eye[4], head_again[6];
  double worst_head = 0.0, worst_eye = 0.0;
  int T, t;
  int64_t agent1 = 1;
  gazehead_generator* g = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  gazehead_generator* one = make_gen(model, 1, GAZEHEAD_NAN_RAISE, 1);

  /* the default styles are the Python API's population draws, the same for any N */
  json_floats(json, "default_style", def_exp, 4);
  json_floats(json, "default_neck_limits", lim_exp, 3);
  CHECK_OK(gazehead_generator_get_style(g, got_style, 4));
  CHECK_OK(gazehead_generator_get_neck_limits(g, got_limits));
  printf(
      "default style (seed 7): agent 0 (%.7f, %.7f), agent 1 (%.7f, %.7f) (Python (%.7f, %.7f), "
      "(%.7f, %.7f))\n",
      got_style[0], got_style[1], got_style[2], got_style[3], def_exp[0], def_exp[1], def_exp[2],
      def_exp[3]);
  CHECK(memcmp(got_style, def_exp, sizeof got_style) == 0);
  CHECK(memcmp(got_limits, lim_exp, sizeof got_limits) == 0);
  CHECK_OK(gazehead_generator_get_style(one, got_style, 2));
  CHECK(memcmp(got_style, def_exp, 2 * sizeof(float)) == 0);

  /* set style and narrow neck limits, then the Python numbers */
  json_floats(json, "style_set", style, 4);
  json_floats(json, "neck_limits_set", limits, 3);
  CHECK_OK(gazehead_generator_set_style(g, style, 4));
  CHECK_OK(gazehead_generator_set_neck_limits(g, limits));
  CHECK_OK(gazehead_generator_get_style(g, got_style, 4));
  CHECK_OK(gazehead_generator_get_neck_limits(g, got_limits));
  CHECK(memcmp(got_style, style, sizeof got_style) == 0);
  CHECK(memcmp(got_limits, limits, sizeof got_limits) == 0);
  T = json_floats(json, "style_gaze", gaze, 64) / (2 * N);
  json_floats(json, "style_head", head_exp, 96);
  json_floats(json, "style_eye", eye_exp, 64);
  CHECK(T == 8);
  for (t = 0; t < T; ++t) {
    double dh, de;
    CHECK_OK(gazehead_generator_step(g, gaze + 2 * N * t, 2 * N, head, 3 * N, eye, 2 * N));
    dh = max_abs_diff(head, head_exp + 3 * N * t, 3 * N);
    de = max_abs_diff(eye, eye_exp + 2 * N * t, 2 * N);
    if (dh > worst_head) worst_head = dh;
    if (de > worst_eye) worst_eye = de;
    CHECK(fabsf(head[1]) <= limits[1] && fabsf(head[4]) <= limits[1]); /* the neck holds */
  }
  printf(
      "set style + neck limits, step x%d: head %.7f %.7f %.7f (Python %.7f %.7f %.7f), max |diff| "
      "head %.2g eye %.2g\n",
      T, head[0], head[1], head[2], head_exp[3 * N * (T - 1)], head_exp[3 * N * (T - 1) + 1],
      head_exp[3 * N * (T - 1) + 2], worst_head, worst_eye);
  CHECK(worst_head <= kTol);
  CHECK(worst_eye <= kTol);

  /* reset keeps the style (and the limits) */
  CHECK_OK(gazehead_generator_reset(g, &agent1, 1));
  CHECK_OK(gazehead_generator_reset(g, NULL, 0));
  CHECK_OK(gazehead_generator_get_style(g, got_style, 4));
  CHECK_OK(gazehead_generator_get_neck_limits(g, got_limits));
  CHECK(memcmp(got_style, style, sizeof got_style) == 0);
  CHECK(memcmp(got_limits, limits, sizeof got_limits) == 0);
  /* the style is an input: another style, another motion from the same reset state */
  CHECK_OK(gazehead_generator_step(g, gaze, 2 * N, head, 3 * N, NULL, 0));
  CHECK_OK(gazehead_generator_reset(g, NULL, 0));
  {
    float swapped[4];
    swapped[0] = style[2];
    swapped[1] = style[3];
    swapped[2] = style[0];
    swapped[3] = style[1];
    CHECK_OK(gazehead_generator_set_style(g, swapped, 4));
  }
  CHECK_OK(gazehead_generator_step(g, gaze, 2 * N, head_again, 3 * N, NULL, 0));
  CHECK(memcmp(head, head_again, sizeof head) != 0);
  gazehead_generator_free(g);
  gazehead_generator_free(one);
}

static unsigned long long fnv1a64(const unsigned char* p, size_t n) {
  unsigned long long h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static void reseal(unsigned char* blob, size_t size) { /* a valid checksum over altered bytes */
  unsigned long long h = fnv1a64(blob, size - 8);
  memcpy(blob + size - 8, &h, 8);
}

static void test_state(const gazehead_model* model, const gazehead_model* other_model) {
  const int N = 2;
  gazehead_generator* g = make_gen(model, N, GAZEHEAD_NAN_RAISE, 1);
  gazehead_generator* g3 = make_gen(model, 3, GAZEHEAD_NAN_RAISE, 1);
  gazehead_generator* gt = make_gen(other_model, N, GAZEHEAD_NAN_RAISE, 1);
  float gaze[4] = {0.1f, 0.4f, -0.1f, -0.3f}, a[6], b[6], e[4];
  unsigned char *blob, *bad, *before;
  size_t size, size3, before_size;
  int t, hidden, latent;
  gazehead_model_info info;
  const float style_saved[4] = {0.9f, 0.1f, 0.2f, 1.3f}, limits_saved[3] = {0.4f, 0.9f, 0.3f};
  float style_now[4], limits_now[3];
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(gazehead_model_get_info(model, &info));
  hidden = info.hidden_size;
  latent = info.latent_size;
  CHECK_OK(gazehead_generator_set_style(g, style_saved, 4));
  CHECK_OK(gazehead_generator_set_neck_limits(g, limits_saved));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 0.0, a, 6, e, 4));
  for (t = 0; t < 5; ++t) CHECK_OK(gazehead_generator_step(g, gaze, 4, a, 6, e, 4));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 0.05, a, 6, e, 4));
  CHECK_OK(gazehead_generator_state_size(g, &size));
  CHECK_OK(gazehead_generator_state_size(g3, &size3));
  CHECK(size > 0 && size3 > size);
  blob = (unsigned char*)malloc(size);
  CHECK_ERR(gazehead_generator_save_state(g, blob, size - 1), GAZEHEAD_ERR_BUFFER_TOO_SMALL,
            "the state needs");
  CHECK_ERR(gazehead_generator_save_state(g, NULL, size), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "buffer is NULL");
  CHECK_ERR(gazehead_generator_state_size(NULL, &size3), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  CHECK_ERR(gazehead_generator_state_size(g, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "out_size is NULL");
  CHECK_OK(gazehead_generator_save_state(g, blob, size));

  /* continue, rewind, continue again: the same numbers (update clock included) */
  for (t = 0; t < 3; ++t) CHECK_OK(gazehead_generator_step(g, gaze, 4, a, 6, NULL, 0));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 0.07, a, 6, NULL, 0));
  CHECK_OK(gazehead_generator_set_temperature(g, 0.1f));
  CHECK_OK(gazehead_generator_set_seed(g, 99));
  {
    const float other_style[4] = {0.0f, 0.0f, 0.0f, 0.0f}, other_limits[3] = {1.0f, 2.0f, 1.0f};
    CHECK_OK(gazehead_generator_set_style(g, other_style, 4));
    CHECK_OK(gazehead_generator_set_neck_limits(g, other_limits));
  }
  CHECK_OK(gazehead_generator_load_state(g, blob, size));
  CHECK_OK(gazehead_generator_get_style(g, style_now, 4));
  CHECK_OK(gazehead_generator_get_neck_limits(g, limits_now));
  CHECK(memcmp(style_now, style_saved, sizeof style_now) == 0); /* styles and limits restored */
  CHECK(memcmp(limits_now, limits_saved, sizeof limits_now) == 0);
  for (t = 0; t < 3; ++t) CHECK_OK(gazehead_generator_step(g, gaze, 4, b, 6, NULL, 0));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 0.07, b, 6, NULL, 0));
  CHECK(memcmp(a, b, sizeof a) == 0);

  /* refusals, each leaving the generator as it was */
  before_size = save(g, &before);
  bad = (unsigned char*)malloc(size + 8);
  memcpy(bad, blob, size);
  bad[0] = 'X';
  CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
            "state: not a gazehead generator state");
  CHECK_ERR(gazehead_generator_load_state(g, bad, 3), GAZEHEAD_ERR_STATE,
            "state: not a gazehead generator state");
  memcpy(bad, blob, size);
  bad[4] = 1; /* a motion model v2 state */
  CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
            "state: version 1 is not supported (this library reads version 2)");
  memcpy(bad, blob, size);
  CHECK_ERR(gazehead_generator_load_state(g, bad, size - 1), GAZEHEAD_ERR_STATE,
            "state: the blob says it has");
  CHECK_ERR(gazehead_generator_load_state(g, bad, size + 8), GAZEHEAD_ERR_STATE,
            "state: the blob says it has");
  bad[size / 2] ^= 0x40;
  CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
            "state: checksum mismatch");
  memcpy(bad, blob, size);
  {
    float nan_value = NAN; /* the first GRU state value, right after the 60-byte header */
    memcpy(bad + 60, &nan_value, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: 's' holds non-finite values");
  }
  memcpy(bad, blob, size);
  {
    float negative = -1.0f; /* temperature, at offset 44 */
    memcpy(bad + 44, &negative, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: temperature: expected a finite number >= 0 and <= 10, got -1.0");
  }
  memcpy(bad, blob, size);
  {
    float yaw = 3.5f; /* neck limits (pitch, yaw, roll) at offset 48 */
    memcpy(bad + 52, &yaw, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: neck_limits: yaw limit 3.5 rad is outside (0, pi)");
  }
  memcpy(bad, blob, size);
  {
    float inf_value = INFINITY; /* agent 1's idle style: after s, head, head_vel, z, gaze */
    size_t at = 60 + 4 * (size_t)(N * (hidden + 3 + 3 + latent + 2) + 3);
    memcpy(bad + at, &inf_value, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: 'style' holds non-finite values");
  }
  memcpy(bad, blob, size);
  {
    /* a temperature over 10 with a valid checksum: refused before the state or seed change */
    float hot = 11.0f;
    memcpy(bad + 44, &hot, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: temperature: expected a finite number >= 0 and <= 10, got 11.0");
    CHECK(blob_equal(g, before, before_size));
  }
  {
    /* the update() clock: a current pose of 1e30 rad, a NaN last gaze; offsets after the
       agent state: started (4), frames (8), phase (8), dropped (8), prev (N*3 f64), curr,
       gaze_last */
    const size_t clock_at =
        60 + 4 * (size_t)(N * (hidden + 3 + 3 + latent + 2 + 2)) + (size_t)N * (1 + 4 + 4);
    const double huge = 1e30, nan_gaze = NAN;
    memcpy(bad, blob, size);
    memcpy(bad + clock_at + 28 + 8 * 3 * N, &huge, 8);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: the update() clock holds a pose beyond +-pi rad");
    memcpy(bad, blob, size);
    memcpy(bad + clock_at + 28 + 8 * 6 * N, &nan_gaze, 8);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: the update() clock holds a last gaze that is not finite");
  }
  memcpy(bad, blob, size);
  {
    /* a finite but huge GRU state (it would overflow the network to inf and NaN) */
    float huge = 3e38f;
    memcpy(bad + 60, &huge, 4);
    reseal(bad, size);
    CHECK_ERR(gazehead_generator_load_state(g, bad, size), GAZEHEAD_ERR_STATE,
              "state: 's' holds values beyond [-1, 1]");
  }
  CHECK(blob_equal(g, before, before_size));
  CHECK_ERR(gazehead_generator_load_state(g, blob, 40), GAZEHEAD_ERR_STATE,
            "state: the blob says it has");
  CHECK_ERR(gazehead_generator_load_state(g3, blob, size), GAZEHEAD_ERR_STATE,
            "state: it holds 2 agents, this generator has 3");
  {
    /* a 3-agent state into a 2-agent generator */
    unsigned char* blob3 = (unsigned char*)malloc(size3);
    CHECK_OK(gazehead_generator_save_state(g3, blob3, size3));
    CHECK_ERR(gazehead_generator_load_state(g, blob3, size3), GAZEHEAD_ERR_STATE,
              "state: it holds 3 agents, this generator has 2");
    free(blob3);
  }
  CHECK_ERR(gazehead_generator_load_state(gt, blob, size), GAZEHEAD_ERR_STATE,
            "state: it was taken with a different model file");
  CHECK_ERR(gazehead_generator_load_state(g, NULL, size), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "buffer is NULL");
  CHECK_ERR(gazehead_generator_load_state(NULL, blob, size), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  CHECK(blob_equal(g, before, before_size));

  /* setters */
  CHECK_ERR(gazehead_generator_set_temperature(g, -0.5f), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "temperature: expected a finite number >= 0 and <= 10, got -0.5");
  CHECK_ERR(gazehead_generator_set_temperature(NULL, 0.5f), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  CHECK_ERR(gazehead_generator_set_seed(NULL, 1), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  {
    /* style and neck limits: the Python API's checks and messages, nothing changes on refusal */
    float style[4] = {0.8f, 0.5f, 0.3f, 0.5f}, limits[3] = {0.7f, 1.2f, 0.5f};
    CHECK_ERR(gazehead_generator_set_style(g, style, 2), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style: expected 4 floats (2 agents x 2), got 2");
    style[3] = NAN;
    CHECK_ERR(gazehead_generator_set_style(g, style, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style: the style of agent 1 is not finite");
    style[3] = 3e38f; /* finite, but it would overflow the network into NaN */
    CHECK_ERR(gazehead_generator_set_style(g, style, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style: the style of agent 1 is (0.3, 3e+38), outside [-10, 10] (propensity, idle)");
    style[3] = 0.5f;
    CHECK_ERR(gazehead_generator_set_style(g, NULL, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style is NULL");
    CHECK_ERR(gazehead_generator_set_style(NULL, style, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "generator is NULL");
    CHECK_ERR(gazehead_generator_get_style(g, style_now, 6), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style_out: expected 4 floats (2 agents x 2), got 6");
    CHECK_ERR(gazehead_generator_get_style(g, NULL, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "style_out is NULL");
    CHECK_ERR(gazehead_generator_get_style(NULL, style_now, 4), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "generator is NULL");
    limits[0] = 1.6f;
    CHECK_ERR(gazehead_generator_set_neck_limits(g, limits), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "neck_limits: pitch limit 1.6 rad is outside (0, pi/2] (pitch, yaw, roll "
              "half-ranges, radians)");
    limits[0] = 0.7f;
    limits[1] = 3.1416f;
    CHECK_ERR(gazehead_generator_set_neck_limits(g, limits), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "neck_limits: yaw limit 3.1416 rad is outside (0, pi)");
    limits[1] = 1.2f;
    limits[2] = -0.1f;
    CHECK_ERR(gazehead_generator_set_neck_limits(g, limits), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "neck_limits: roll limit -0.1 rad is outside (0, pi/2]");
    limits[2] = NAN;
    CHECK_ERR(gazehead_generator_set_neck_limits(g, limits), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "neck_limits: roll limit nan rad");
    CHECK_ERR(gazehead_generator_set_neck_limits(g, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "limits is NULL");
    CHECK_ERR(gazehead_generator_set_neck_limits(NULL, limits), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "generator is NULL");
    CHECK_ERR(gazehead_generator_get_neck_limits(g, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "limits_out is NULL");
    CHECK_ERR(gazehead_generator_get_neck_limits(NULL, limits_now), GAZEHEAD_ERR_INVALID_ARGUMENT,
              "generator is NULL");
  }
  CHECK(blob_equal(g, before, before_size));
  free(before);
  free(bad);
  free(blob);
  gazehead_generator_free(g);
  gazehead_generator_free(g3);
  gazehead_generator_free(gt);
}

/* ---- the refusal table shared with the Python and C# tests (make_refusals.py) ----------- */

enum { kTableAgents = 2 };

static gazehead_generator* table_generator(const gazehead_model* model) {
  /* make_refusals.py warm_generator(): seed 7, temperature 0.8, one step, two updates */
  gazehead_generator_options o;
  gazehead_generator* g = NULL;
  float gaze[4] = {0.1f, 0.3f, -0.2f, 0.5f}, head[6], eye[4];
  CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&o));
  o.num_agents = kTableAgents;
  o.seed = 7;
  o.temperature = 0.8f;
  CHECK_OK(gazehead_generator_create(model, &o, &g));
  CHECK_OK(gazehead_generator_step(g, gaze, 4, head, 6, eye, 4));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 0.0, head, 6, eye, 4));
  CHECK_OK(gazehead_generator_update(g, gaze, 4, 1.0 / 60.0, head, 6, eye, 4));
  return g;
}

static int parse_floats(const char* arg, double* out, int max) {
  int n = 0;
  char* end;
  while (n < max) {
    double v = strtod(arg, &end);
    if (end == arg) break;
    out[n++] = v;
    arg = end;
  }
  return n;
}

static gazehead_status status_of(const char* name) {
  if (strcmp(name, "INVALID_ARGUMENT") == 0) return GAZEHEAD_ERR_INVALID_ARGUMENT;
  if (strcmp(name, "MODEL") == 0) return GAZEHEAD_ERR_MODEL;
  if (strcmp(name, "STATE") == 0) return GAZEHEAD_ERR_STATE;
  fprintf(stderr, "refusal table: unknown status %s\n", name);
  exit(2);
}

static void test_refusal_table(const gazehead_model* model, const char* dir) {
  char path[4096], line[4096];
  FILE* f;
  int cases = 0;
  snprintf(path, sizeof path, "%s/refusals.tsv", dir);
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  while (fgets(line, sizeof line, f)) {
    char *col[5], *p = line, *nl = strchr(line, '\n');
    char file[4096], want[8448];
    int k;
    gazehead_generator* g;
    unsigned char *before, *after;
    size_t before_size, after_size;
    gazehead_status got;
    double v[4];
    float fv[4], head[6], eye[4];
    if (nl) *nl = 0;
    if (line[0] == 0) continue;
    for (k = 0; k < 5; ++k) {
      col[k] = p;
      p = strchr(p, '\t');
      if (k < 4) {
        if (!p) {
          fprintf(stderr, "refusal table: malformed line %s\n", line);
          exit(2);
        }
        *p++ = 0;
      }
    }
    ++cases;
    snprintf(file, sizeof file, "%s/%s", dir, col[2]);
    g = table_generator(model);
    before_size = save(g, &before);
    for (k = 0; k < 4; ++k) fv[k] = (float)(v[k] = 0.0);
    parse_floats(col[2], v, 4);
    for (k = 0; k < 4; ++k) fv[k] = (float)v[k];
    if (strcmp(col[1], "model_file") == 0) {
      gazehead_model* m = (gazehead_model*)1;
      got = gazehead_model_load_file(file, &m);
      CHECK(m == NULL);
      snprintf(want, sizeof want, "%s: %s", file, col[4]);
    } else {
      snprintf(want, sizeof want, "%s", col[4]);
      if (strcmp(col[1], "state_blob") == 0) {
        size_t size = 0;
        char* blob = read_file(file, &size);
        if (!blob) {
          fprintf(stderr, "cannot read %s\n", file);
          exit(2);
        }
        got = gazehead_generator_load_state(g, blob, size);
        free(blob);
      } else if (strcmp(col[1], "temperature") == 0) {
        got = gazehead_generator_set_temperature(g, fv[0]);
      } else if (strcmp(col[1], "style") == 0) {
        got = gazehead_generator_set_style(g, fv, 4);
      } else if (strcmp(col[1], "neck_limits") == 0) {
        got = gazehead_generator_set_neck_limits(g, fv);
      } else if (strcmp(col[1], "update_dt") == 0) {
        float gaze[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        got = gazehead_generator_update(g, gaze, 4, v[0], head, 6, eye, 4);
      } else if (strcmp(col[1], "step_gaze") == 0) {
        got = gazehead_generator_step(g, fv, 4, head, 6, eye, 4);
      } else if (strcmp(col[1], "reset_agent") == 0) {
        int64_t id = (int64_t)v[0];
        got = gazehead_generator_reset(g, &id, 1);
      } else {
        fprintf(stderr, "refusal table: unknown op %s\n", col[1]);
        exit(2);
      }
    }
    ++g_checks;
    if (got != status_of(col[3]) || strcmp(gazehead_last_error(), want) != 0) {
      ++g_failures;
      fprintf(stderr, "refusal table, case %s: returned %s, message \"%s\"\n  expected %s, \"%s\"\n",
              col[0], gazehead_status_name(got), gazehead_last_error(), col[3], want);
    }
    after_size = save(g, &after);
    ++g_checks;
    if (after_size != before_size || memcmp(before, after, before_size) != 0) {
      ++g_failures;
      fprintf(stderr, "refusal table, case %s: the generator's state changed\n", col[0]);
    }
    free(before);
    free(after);
    gazehead_generator_free(g);
  }
  fclose(f);
  CHECK(cases >= 40);
  printf("refusal table: %d cases\n", cases);
}

int main(int argc, char** argv) {
  char* json;
  unsigned char* model_bytes;
  size_t json_size, model_size;
  gazehead_model *model = NULL, *model_mem = NULL, *tiny = NULL;
  gazehead_model_info info, info_mem;
  gazehead_generator* g = NULL;
  float fps = 0.0f;
  int64_t n = 0;
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s MODEL.safetensors EXPECTED.json [REFUSALS_DIR]\n", argv[0]);
    return 2;
  }
  json = read_file(argv[2], &json_size);
  model_bytes = (unsigned char*)read_file(argv[1], &model_size);
  if (!json || !model_bytes) {
    fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
    return 2;
  }

  /* library */
  CHECK(gazehead_abi_version() == GAZEHEAD_ABI_VERSION);
  CHECK(strlen(gazehead_version()) > 0);
  CHECK(strstr(gazehead_build_info(), "C ABI 2") != NULL);
  CHECK(strcmp(gazehead_last_error(), "") == 0);
  CHECK(strcmp(gazehead_status_name(GAZEHEAD_ERR_STATE), "GAZEHEAD_ERR_STATE") == 0);
  CHECK(strcmp(gazehead_status_name(GAZEHEAD_OK), "GAZEHEAD_OK") == 0);
  CHECK(strcmp(gazehead_status_name(1234), "unknown status") == 0);
  printf("%s\n", gazehead_build_info());

  /* model: from the file and from memory, the same model */
  CHECK_OK(gazehead_model_load_file(argv[1], &model));
  CHECK_OK(gazehead_model_load_memory(model_bytes, model_size, "default", &model_mem));
  memset(&info, 0, sizeof info);
  memset(&info_mem, 0, sizeof info_mem);
  info.struct_size = info_mem.struct_size = sizeof info;
  CHECK_OK(gazehead_model_get_info(model, &info));
  CHECK_OK(gazehead_model_get_info(model_mem, &info_mem));
  CHECK(info.fingerprint == info_mem.fingerprint && info.format_version == 3 && info.fps == 30.0f &&
        info.hidden_size > 0 && info.latent_size > 0 && info.num_parameters > 1000);
  {
    /* the expected numbers belong to one model file: a stale file is reported as such */
    char want[40] = "", have[40];
    snprintf(have, sizeof have, "%016llx", (unsigned long long)info.fingerprint);
    if (!json_string(json, "model_fnv1a64", want, sizeof want) || strcmp(want, have) != 0) {
      fprintf(stderr,
              "%s was made from another model file (fingerprint %s; %s has %s): regenerate it "
              "with: python csrc/capi/tests/make_expected.py\n",
              argv[2], want, argv[1], have);
      return 1;
    }
  }
  info.struct_size = 4;
  CHECK_ERR(gazehead_model_get_info(model, &info), GAZEHEAD_ERR_ABI_MISMATCH,
            "info.struct_size is 4 bytes");
  CHECK_ERR(gazehead_model_get_info(NULL, &info), GAZEHEAD_ERR_INVALID_ARGUMENT, "model is NULL");
  CHECK_ERR(gazehead_model_get_info(model, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT, "info is NULL");
  test_bad_bytes(model_bytes, model_size);
  test_model_file_checks();

  /* generator basics; the model may be freed while a generator made from it lives */
  CHECK_OK(gazehead_generator_create(model_mem, NULL, &g));
  gazehead_model_free(model_mem);
  CHECK_OK(gazehead_generator_fps(g, &fps));
  CHECK_OK(gazehead_generator_num_agents(g, &n));
  CHECK(fps == 30.0f && n == 1);
  {
    float gaze[2] = {0.0f, 0.3f}, head[3];
    CHECK_OK(gazehead_generator_step(g, gaze, 2, head, 3, NULL, 0));
    CHECK(isfinite(head[0]) && isfinite(head[1]) && isfinite(head[2]));
  }
  CHECK_ERR(gazehead_generator_fps(NULL, &fps), GAZEHEAD_ERR_INVALID_ARGUMENT, "generator is NULL");
  CHECK_ERR(gazehead_generator_fps(g, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT, "out_fps is NULL");
  CHECK_ERR(gazehead_generator_num_agents(NULL, &n), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "generator is NULL");
  CHECK_ERR(gazehead_generator_num_agents(g, NULL), GAZEHEAD_ERR_INVALID_ARGUMENT,
            "out_num_agents is NULL");
  gazehead_generator_free(g);
  gazehead_generator_free(NULL);
  gazehead_model_free(NULL);

  test_options(model);
  test_step_and_reset(model, json);
  test_threads_and_hold(model);
  test_update(model, json);
  test_prime(model, json);
  test_style(model, json);
  {
    TinyOptions o = tiny_ok();
    unsigned char* bytes;
    size_t size = make_tiny(&o, &bytes);
    CHECK_OK(gazehead_model_load_memory(bytes, size, NULL, &tiny));
    free(bytes);
  }
  test_state(model, tiny);
  if (argc == 4) test_refusal_table(model, argv[3]);

  gazehead_model_free(tiny);
  gazehead_model_free(model);
  free(json);
  free(model_bytes);
  printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
