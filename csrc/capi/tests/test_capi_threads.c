/* Test of the C ABI under concurrent callers (run under ThreadSanitizer in CI).
 *
 *   gazehead_test_capi_threads MODEL.safetensors
 *
 * 1. Several threads step ONE generator in a tight loop while another thread reads its state.
 *    A generator is used by one thread at a time and nothing waits, so every call must return
 *    GAZEHEAD_OK or GAZEHEAD_ERR_BUSY (with the message, and without writing the outputs), and
 *    the OK steps must be exactly the frames the generator advanced: every thread passes the same
 *    gaze, so after K OK steps its saved state equals, byte for byte, that of a generator stepped
 *    K times on one thread (the blob holds the recurrent state, the per-agent frame counters and
 *    the noise counters, so a lost, doubled or torn frame shows).
 * 2. Threads each driving their OWN generator (one of them with a worker pool) all succeed and
 *    agree bit for bit with the same runs made one after another on one thread.
 * Written in C99 with POSIX threads. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gazehead/gazehead.h"

static int g_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++g_failures;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_OK(call)                                                             \
  do {                                                                             \
    gazehead_status s_ = (call);                                                   \
    if (s_ != GAZEHEAD_OK) {                                                       \
      ++g_failures;                                                                \
      fprintf(stderr, "%s:%d: %s\n  returned %s: %s\n", __FILE__, __LINE__, #call, \
              gazehead_status_name(s_), gazehead_last_error());                    \
    }                                                                              \
  } while (0)

enum {
  kSharedThreads = 4, /* steppers of the shared generator */
  kSharedAgents = 16, /* enough work per call that the steppers overlap */
  kSharedCalls = 300, /* step calls per stepper per round */
  kMaxRounds = 20,    /* rounds until some call has been refused as busy */
  kOwnThreads = 4,    /* threads with their own generator */
  kOwnAgents = 40,    /* above the worker pool's 32-agent threshold */
  kOwnFrames = 50
};

static const char kBusyText[] = "Generator is being used by another thread";

/* The first failure a worker saw; workers never touch g_failures. */
typedef struct {
  int failed;
  char what[512];
} WorkerError;

static void worker_fail(WorkerError* e, const char* what, gazehead_status s) {
  if (e->failed) return;
  e->failed = 1;
  snprintf(e->what, sizeof e->what, "%s returned %s: %s", what, gazehead_status_name(s),
           gazehead_last_error());
}

static int all_finite(const float* x, int n) {
  int i;
  for (i = 0; i < n; ++i) {
    if (!isfinite(x[i])) return 0;
  }
  return 1;
}

/* ---- 1. one shared generator ---------------------------------------------------------- */

typedef struct {
  gazehead_generator* gen;
  const float* gaze; /* (kSharedAgents, 2), the same for every call and thread */
  long ok, busy;
  WorkerError err;
} Stepper;

static void* stepper_main(void* arg) {
  Stepper* w = (Stepper*)arg;
  float head[kSharedAgents * 3], eye[kSharedAgents * 2];
  int i, k;
  for (i = 0; i < kSharedCalls; ++i) {
    gazehead_status s;
    for (k = 0; k < kSharedAgents * 3; ++k) head[k] = -7.0f; /* sentinel: must stay on BUSY */
    s = gazehead_generator_step(w->gen, w->gaze, kSharedAgents * 2, head, kSharedAgents * 3, eye,
                                kSharedAgents * 2);
    if (s == GAZEHEAD_OK) {
      ++w->ok;
      if (!all_finite(head, kSharedAgents * 3) || !all_finite(eye, kSharedAgents * 2))
        worker_fail(&w->err, "step (non-finite output)", s);
    } else if (s == GAZEHEAD_ERR_BUSY) {
      ++w->busy;
      if (strstr(gazehead_last_error(), kBusyText) == NULL)
        worker_fail(&w->err, "step (BUSY without the message)", s);
      if (head[0] != -7.0f || head[kSharedAgents * 3 - 1] != -7.0f)
        worker_fail(&w->err, "step (BUSY wrote head_out)", s);
    } else {
      worker_fail(&w->err, "step", s);
    }
  }
  return NULL;
}

typedef struct {
  gazehead_generator* gen;
  int* stop; /* set by the main thread after the steppers joined */
  pthread_mutex_t* stop_lock;
  unsigned char* blob;
  size_t blob_size;
  long ok, busy;
  WorkerError err;
} Reader;

/* Reads the generator while the steppers change it: OK or BUSY, nothing else. */
static void* reader_main(void* arg) {
  Reader* r = (Reader*)arg;
  float style[kSharedAgents * 2], limits[3];
  const struct timespec pause = {0, 200000}; /* 0.2 ms */
  for (;;) {
    gazehead_status s[3];
    int k, stop;
    pthread_mutex_lock(r->stop_lock);
    stop = *r->stop;
    pthread_mutex_unlock(r->stop_lock);
    if (stop) break;
    s[0] = gazehead_generator_save_state(r->gen, r->blob, r->blob_size);
    s[1] = gazehead_generator_get_style(r->gen, style, kSharedAgents * 2);
    s[2] = gazehead_generator_get_neck_limits(r->gen, limits);
    for (k = 0; k < 3; ++k) {
      if (s[k] == GAZEHEAD_OK) {
        ++r->ok;
      } else if (s[k] == GAZEHEAD_ERR_BUSY) {
        ++r->busy;
      } else {
        worker_fail(&r->err,
                    k == 0   ? "save_state"
                    : k == 1 ? "get_style"
                             : "get_neck_limits",
                    s[k]);
      }
    }
    nanosleep(&pause, NULL); /* leave the steppers time inside: a reader in a tight loop would
                                hold the generator nearly always */
  }
  return NULL;
}

static void test_shared_generator(const gazehead_model* model) {
  gazehead_generator_options o;
  gazehead_generator *shared = NULL, *ref = NULL;
  float gaze[kSharedAgents * 2], head[kSharedAgents * 3];
  Stepper steppers[kSharedThreads];
  Reader reader;
  pthread_t tid[kSharedThreads], reader_tid;
  pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
  int stop = 0;
  size_t size = 0, ref_size = 0;
  unsigned char *blob, *ref_blob, *reader_blob;
  long ok = 0, busy = 0, reader_busy = 0, i;
  int a, t, round;

  CHECK_OK(GAZEHEAD_GENERATOR_OPTIONS_INIT(&o));
  o.num_agents = kSharedAgents;
  o.seed = 11;
  CHECK_OK(gazehead_generator_create(model, &o, &shared));
  CHECK_OK(gazehead_generator_create(model, &o, &ref));
  if (!shared || !ref) return;
  for (a = 0; a < kSharedAgents; ++a) { /* far from the head so every frame moves it */
    gaze[2 * a] = 0.3f * (float)((a % 5) - 2);
    gaze[2 * a + 1] = 2.5f * (float)((a % 3) - 1) + 0.1f;
  }
  CHECK_OK(gazehead_generator_state_size(shared, &size));
  reader_blob = (unsigned char*)malloc(size);

  memset(&reader, 0, sizeof reader);
  reader.gen = shared;
  reader.stop = &stop;
  reader.stop_lock = &stop_lock;
  reader.blob = reader_blob;
  reader.blob_size = size;
  CHECK(pthread_create(&reader_tid, NULL, reader_main, &reader) == 0);
  /* Rounds until some step succeeded and some was refused as busy: with the steppers inside
   * step() nearly all the time, the first round is enough on any machine; the cap keeps a
   * failure finite. */
  for (round = 0; round < kMaxRounds && (busy == 0 || ok == 0); ++round) {
    for (t = 0; t < kSharedThreads; ++t) {
      memset(&steppers[t], 0, sizeof steppers[t]);
      steppers[t].gen = shared;
      steppers[t].gaze = gaze;
      CHECK(pthread_create(&tid[t], NULL, stepper_main, &steppers[t]) == 0);
    }
    for (t = 0; t < kSharedThreads; ++t) {
      pthread_join(tid[t], NULL);
      ok += steppers[t].ok;
      busy += steppers[t].busy;
      if (steppers[t].err.failed) {
        ++g_failures;
        fprintf(stderr, "shared generator, stepper %d: %s\n", t, steppers[t].err.what);
      }
    }
  }
  pthread_mutex_lock(&stop_lock);
  stop = 1;
  pthread_mutex_unlock(&stop_lock);
  pthread_join(reader_tid, NULL);
  reader_busy = reader.busy;
  if (reader.err.failed) {
    ++g_failures;
    fprintf(stderr, "shared generator, reader: %s\n", reader.err.what);
  }
  printf("shared generator: %d rounds, %ld steps OK, %ld refused busy; reader %ld OK, %ld busy\n",
         round, ok, busy, reader.ok, reader_busy);
  CHECK(ok > 0);
  CHECK(busy > 0); /* GAZEHEAD_ERR_BUSY was exercised, not only OK */
  CHECK(ok + busy == (long)round * kSharedThreads * kSharedCalls);

  /* The same number of frames on one thread: the same state, byte for byte. */
  for (i = 0; i < ok; ++i)
    CHECK_OK(
        gazehead_generator_step(ref, gaze, kSharedAgents * 2, head, kSharedAgents * 3, NULL, 0));
  CHECK_OK(gazehead_generator_state_size(ref, &ref_size));
  CHECK(ref_size == size);
  blob = (unsigned char*)malloc(size);
  ref_blob = (unsigned char*)malloc(size);
  CHECK_OK(gazehead_generator_save_state(shared, blob, size));
  CHECK_OK(gazehead_generator_save_state(ref, ref_blob, size));
  CHECK(memcmp(blob, ref_blob, size) == 0);
  /* One step more of either agrees too (the state loaded back continues the same way). */
  {
    float h1[kSharedAgents * 3], h2[kSharedAgents * 3];
    CHECK_OK(
        gazehead_generator_step(shared, gaze, kSharedAgents * 2, h1, kSharedAgents * 3, NULL, 0));
    CHECK_OK(gazehead_generator_step(ref, gaze, kSharedAgents * 2, h2, kSharedAgents * 3, NULL, 0));
    CHECK(memcmp(h1, h2, sizeof h1) == 0);
  }
  free(blob);
  free(ref_blob);
  free(reader_blob);
  gazehead_generator_free(shared);
  gazehead_generator_free(ref);
}

/* ---- 2. one generator per thread ------------------------------------------------------- */

typedef struct {
  const gazehead_model* model;
  int index;
  float* heads; /* (kOwnFrames, kOwnAgents, 3) */
  float* eyes;  /* (kOwnFrames, kOwnAgents, 2) */
  WorkerError err;
} Owner;

/* Gaze of agent a at frame f for run `index`: sweeps that differ per run and agent. */
static void own_gaze(int index, int f, float* gaze) {
  int a;
  for (a = 0; a < kOwnAgents; ++a) {
    gaze[2 * a] = 1.2f * sinf(0.07f * (float)f + 0.3f * (float)a + (float)index);
    gaze[2 * a + 1] = 3.0f * sinf(0.11f * (float)f * (float)(1 + index % 3) + 0.5f * (float)a);
  }
}

static void* owner_main(void* arg) {
  Owner* w = (Owner*)arg;
  gazehead_generator_options o;
  gazehead_generator* gen = NULL;
  float gaze[kOwnAgents * 2];
  gazehead_status s;
  int f;
  s = GAZEHEAD_GENERATOR_OPTIONS_INIT(&o);
  o.num_agents = kOwnAgents;
  o.seed = (uint32_t)(100 + w->index);
  o.temperature = 1.0f + 0.5f * (float)w->index;
  o.num_threads = 1 + w->index % 2; /* a worker pool in half of them: identical numbers */
  if (s == GAZEHEAD_OK) s = gazehead_generator_create(w->model, &o, &gen);
  if (s != GAZEHEAD_OK) {
    worker_fail(&w->err, "create", s);
    return NULL;
  }
  for (f = 0; f < kOwnFrames; ++f) {
    own_gaze(w->index, f, gaze);
    s = gazehead_generator_step(gen, gaze, kOwnAgents * 2, w->heads + (size_t)f * kOwnAgents * 3,
                                kOwnAgents * 3, w->eyes + (size_t)f * kOwnAgents * 2,
                                kOwnAgents * 2);
    if (s != GAZEHEAD_OK) {
      worker_fail(&w->err, "step", s);
      break;
    }
  }
  gazehead_generator_free(gen);
  return NULL;
}

static void test_own_generators(const gazehead_model* model) {
  Owner par[kOwnThreads], seq[kOwnThreads];
  pthread_t tid[kOwnThreads];
  const size_t nh = (size_t)kOwnFrames * kOwnAgents * 3, ne = (size_t)kOwnFrames * kOwnAgents * 2;
  int t, same = 0;
  for (t = 0; t < kOwnThreads; ++t) {
    memset(&par[t], 0, sizeof par[t]);
    par[t].model = model;
    par[t].index = t;
    par[t].heads = (float*)malloc(nh * sizeof(float));
    par[t].eyes = (float*)malloc(ne * sizeof(float));
    seq[t] = par[t];
    seq[t].heads = (float*)malloc(nh * sizeof(float));
    seq[t].eyes = (float*)malloc(ne * sizeof(float));
  }
  for (t = 0; t < kOwnThreads; ++t) CHECK(pthread_create(&tid[t], NULL, owner_main, &par[t]) == 0);
  for (t = 0; t < kOwnThreads; ++t) pthread_join(tid[t], NULL);
  for (t = 0; t < kOwnThreads; ++t) owner_main(&seq[t]); /* the same runs, one at a time */
  for (t = 0; t < kOwnThreads; ++t) {
    if (par[t].err.failed || seq[t].err.failed) {
      ++g_failures;
      fprintf(stderr, "own generator %d: %s%s\n", t, par[t].err.what, seq[t].err.what);
      continue;
    }
    CHECK(all_finite(par[t].heads, (int)nh) && all_finite(par[t].eyes, (int)ne));
    CHECK(memcmp(par[t].heads, seq[t].heads, nh * sizeof(float)) == 0);
    CHECK(memcmp(par[t].eyes, seq[t].eyes, ne * sizeof(float)) == 0);
    same += memcmp(par[t].heads, seq[t].heads, nh * sizeof(float)) == 0;
  }
  /* Different seeds and gaze: the runs are not all the same run. */
  CHECK(memcmp(par[0].heads, par[1].heads, nh * sizeof(float)) != 0);
  printf("own generators: %d of %d threads bit-identical to the one-thread runs\n", same,
         kOwnThreads);
  for (t = 0; t < kOwnThreads; ++t) {
    free(par[t].heads);
    free(par[t].eyes);
    free(seq[t].heads);
    free(seq[t].eyes);
  }
}

int main(int argc, char** argv) {
  gazehead_model* model = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.safetensors\n", argv[0]);
    return 2;
  }
  CHECK(strcmp(gazehead_status_name(GAZEHEAD_ERR_BUSY), "GAZEHEAD_ERR_BUSY") == 0);
  CHECK(GAZEHEAD_ERR_BUSY == 9);
  CHECK_OK(gazehead_model_load_file(argv[1], &model));
  if (!model) return 1;
  test_shared_generator(model);
  test_own_generators(model);
  gazehead_model_free(model);
  if (g_failures) {
    fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}
