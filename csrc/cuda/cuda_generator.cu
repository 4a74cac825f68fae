// The CUDA backend's host class: device memory, the per-frame CUDA graph, sequences, state
// copies. Kernels: kernels.cuh; their launch code: launch.cu; device helpers: step_kernel.cuh.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "cuda_check.h"
#include "cuda_generator.h"
#include "launch.h"

namespace gazehead {
namespace cuda {
namespace {

// ---- device memory owners -----------------------------------------------------------------

template <typename T>
struct DeviceArray {
  T* ptr = nullptr;
  size_t count = 0;
  void alloc(size_t n) {
    count = n;
    CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)));
  }
  ~DeviceArray() {
    if (ptr) cudaFree(ptr);  // no throw from a destructor; a dead context frees everything
  }
  size_t bytes() const { return count * sizeof(T); }
};

template <typename T>
struct PinnedArray {
  T* ptr = nullptr;
  size_t count = 0;
  void alloc(size_t n) {
    count = n;
    CUDA_CHECK(cudaMallocHost(&ptr, std::max<size_t>(n, 1) * sizeof(T)));
  }
  ~PinnedArray() {
    if (ptr) cudaFreeHost(ptr);
  }
};

// Restores the calling thread's current device on scope exit.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != device) CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(prev_); }

 private:
  int prev_ = 0;
};

// The per-agent state on the device; member names as AgentState's, so zip_state pairs them.
struct DeviceState {
  DeviceArray<float> s, head, head_vel, z, gaze, style;
  DeviceArray<uint8_t> has_prev;
  DeviceArray<uint32_t> frame, episode;

  void alloc(size_t n, int hidden, int latent) {
    s.alloc(n * hidden);
    head.alloc(n * kHeadSize);
    head_vel.alloc(n * kHeadSize);
    z.alloc(n * latent);
    gaze.alloc(n * kGazeSize);
    style.alloc(n * kStyleSize);
    has_prev.alloc(n);
    frame.alloc(n);
    episode.alloc(n);
  }
  StateView view() {
    return StateView{s.ptr,     head.ptr,     head_vel.ptr, z.ptr,      gaze.ptr,
                     style.ptr, has_prev.ptr, frame.ptr,    episode.ptr};
  }
};

// f(a.x, b.x) for every state array x of two states (AgentState or DeviceState).
template <typename A, typename B, typename F>
void zip_state(A& a, B& b, F&& f) {
  f(a.s, b.s);
  f(a.head, b.head);
  f(a.head_vel, b.head_vel);
  f(a.z, b.z);
  f(a.gaze, b.gaze);
  f(a.style, b.style);
  f(a.has_prev, b.has_prev);
  f(a.frame, b.frame);
  f(a.episode, b.episode);
}

}  // namespace
}  // namespace cuda

// ---- device queries -------------------------------------------------------------------------

int cuda_device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear it: "no driver" is an answer here, not an error
    return 0;
  }
  return n;
}

std::string cuda_device_status() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
  }
  return n > 0 ? "" : "no CUDA device is visible";
}

std::string cuda_device_name(int device) {
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::ostringstream s;
  s << prop.name << " (sm_" << prop.major << prop.minor << ", " << prop.multiProcessorCount
    << " SMs, " << (prop.totalGlobalMem >> 30) << " GiB)";
  return s.str();
}

// ---- the generator --------------------------------------------------------------------------

struct CudaGenerator::Impl {
  std::shared_ptr<const Model> model;
  int64_t n = 0;
  WeightsDtype wdtype = WeightsDtype::kFloat32;
  int device = 0;

  cudaStream_t stream = nullptr;
  cudaEvent_t done = nullptr;
  cudaGraphExec_t graph = nullptr;
  size_t smem = 0;
  cuda::StepParams params{};  // filled once; the graph and sequences copy and adjust it

  cuda::DeviceArray<unsigned char> weights;  // W^T of every layer, in wdtype
  cuda::DeviceArray<float> bias;
  cuda::DeviceState state;
  // per-frame I/O: scalars + gaze in one block, so one H2D copy carries both
  cuda::DeviceArray<unsigned char> d_in;
  cuda::DeviceArray<float> d_head_out, d_eye_out;
  cuda::DeviceArray<int64_t> d_ids;
  cuda::PinnedArray<unsigned char> h_in;
  cuda::PinnedArray<float> h_head, h_eye;

  ~Impl() {
    if (graph) cudaGraphExecDestroy(graph);
    if (done) cudaEventDestroy(done);
    if (stream) cudaStreamDestroy(stream);
  }

  size_t in_bytes() const { return sizeof(cuda::StepScalars) + 2 * sizeof(float) * n; }
  cuda::StepScalars* h_scalars() { return reinterpret_cast<cuda::StepScalars*>(h_in.ptr); }
  float* h_gaze() { return reinterpret_cast<float*>(h_in.ptr + sizeof(cuda::StepScalars)); }
  const cuda::StepScalars* d_scalars() const {
    return reinterpret_cast<const cuda::StepScalars*>(d_in.ptr);
  }
  const float* d_gaze() const {
    return reinterpret_cast<const float*>(d_in.ptr + sizeof(cuda::StepScalars));
  }
  // The generator's current settings into the staged scalars (read by the next upload).
  void stage_scalars(const Generator& g) {
    cuda::StepScalars* s = h_scalars();
    s->seed = g.seed();
    s->temperature = g.temperature();
    std::copy_n(g.neck_limits(), kHeadSize, s->neck_limits);
  }
  void sync() { CUDA_CHECK(cudaStreamSynchronize(stream)); }

  void init(bool capture);
  void upload_weights();
  void capture_graph();
  void run_frames(const float* gaze_seq, const float* head_obs, int64_t T, float* head_seq,
                  float* eye_seq);
};

namespace {

template <typename WT>
WT convert_weight(float x);
template <>
float convert_weight<float>(float x) {
  return x;
}
template <>
__nv_bfloat16 convert_weight<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__half convert_weight<__half>(float x) {
  return __float2half_rn(x);
}

template <typename WT>
std::vector<unsigned char> pack_weights(const std::vector<const PackedLinear*>& layers) {
  size_t total = 0;
  for (const PackedLinear* l : layers) total += l->wt.size();
  std::vector<unsigned char> out(total * sizeof(WT));
  WT* w = reinterpret_cast<WT*>(out.data());
  for (const PackedLinear* l : layers) {
    for (float v : l->wt) *w++ = convert_weight<WT>(v);
  }
  return out;
}

}  // namespace

void CudaGenerator::Impl::upload_weights() {
  const Model& M = *model;
  cuda::StepParams& p = params;
  std::vector<const PackedLinear*> layers;
  auto describe = [&](const std::vector<PackedLinear>& mlp, int* count, const char* name) {
    if (mlp.size() > static_cast<size_t>(cuda::kMaxLayers)) {
      throw std::invalid_argument(std::string("the CUDA backend supports at most ") +
                                  std::to_string(cuda::kMaxLayers) + " layers per MLP; " + name +
                                  " has " + std::to_string(mlp.size()));
    }
    *count = static_cast<int>(mlp.size());
    for (size_t k = 0; k < mlp.size(); ++k) layers.push_back(&mlp[k]);
  };
  describe(M.enc(), &p.n_enc, "enc");
  describe(M.prior(), &p.n_prior, "prior");
  describe(M.dec(), &p.n_dec, "dec");
  layers.push_back(&M.gru_ih());
  layers.push_back(&M.gru_hh());

  // Offsets follow the order of `layers`.
  std::vector<cuda::LayerDesc> descs;
  int64_t w_off = 0, b_off = 0;
  std::vector<float> biases;
  for (const PackedLinear* l : layers) {
    descs.push_back(cuda::LayerDesc{w_off, b_off, l->in, l->out, l->out_pad});
    w_off += static_cast<int64_t>(l->wt.size());
    b_off += static_cast<int64_t>(l->bias.size());
    biases.insert(biases.end(), l->bias.begin(), l->bias.end());
  }
  size_t k = 0;
  for (int i = 0; i < p.n_enc; ++i) p.enc[i] = descs[k++];
  for (int i = 0; i < p.n_prior; ++i) p.prior[i] = descs[k++];
  for (int i = 0; i < p.n_dec; ++i) p.dec[i] = descs[k++];
  p.gru_ih = descs[k++];
  p.gru_hh = descs[k++];

  std::vector<unsigned char> packed;
  switch (wdtype) {
    case WeightsDtype::kFloat32:
      packed = pack_weights<float>(layers);
      break;
    case WeightsDtype::kBFloat16:
      packed = pack_weights<__nv_bfloat16>(layers);
      break;
    case WeightsDtype::kFloat16:
      packed = pack_weights<__half>(layers);
      break;
  }
  weights.alloc(packed.size());
  bias.alloc(biases.size());
  CUDA_CHECK(cudaMemcpy(weights.ptr, packed.data(), packed.size(), cudaMemcpyHostToDevice));
  CUDA_CHECK(
      cudaMemcpy(bias.ptr, biases.data(), biases.size() * sizeof(float), cudaMemcpyHostToDevice));
  p.weights = weights.ptr;
  p.bias = bias.ptr;
}

void CudaGenerator::Impl::init(bool capture) {
  const Model& M = *model;
  const int H = M.hidden(), Z = M.latent();
  cuda::StepParams& p = params;
  p = cuda::StepParams{};
  p.hidden = H;
  p.latent = Z;
  p.activation = static_cast<int>(M.activation());
  p.c = M.constants();
  p.num_agents = n;

  // Shared activation row: wide enough for every MLP input and output and for [s, z].
  int ld = std::max(kInputSize + Z, H + Z);
  for (const auto* mlp : {&M.enc(), &M.prior(), &M.dec()}) {
    for (const auto& l : *mlp) ld = std::max({ld, l.in, l.out});
  }
  p.ld = ld;

  int optin = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  // 32 agents per block keeps 3 blocks (24 warps) per SM on H100 for the default model
  // (70 KB each); smaller tiles for devices with less shared memory (sm_75: 64 KB).
  int tile = 0;
  for (int t : {32, 16, 8}) {
    if (cuda::smem_bytes(t, ld) <= static_cast<size_t>(optin)) {
      tile = t;
      break;
    }
  }
  if (tile == 0) {
    throw std::invalid_argument("model too wide for the CUDA backend: a tile of 8 agents needs " +
                                std::to_string(cuda::smem_bytes(8, ld)) +
                                " bytes of shared memory, the device allows " +
                                std::to_string(optin));
  }
  p.tile_agents = tile;
  smem = cuda::smem_bytes(tile, ld);
  cuda::set_smem_limit(wdtype, smem);

  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  upload_weights();

  const size_t N = static_cast<size_t>(n);
  state.alloc(N, H, Z);
  p.st = state.view();

  d_in.alloc(in_bytes());
  d_head_out.alloc(N * kHeadSize);
  d_eye_out.alloc(N * kEyeSize);
  d_ids.alloc(N);
  h_in.alloc(in_bytes());
  h_head.alloc(N * kHeadSize);
  h_eye.alloc(N * kEyeSize);
  std::memset(h_in.ptr, 0, in_bytes());
  p.scalars = d_scalars();
  sync();
  if (capture) capture_graph();
}

// The frame as one graph: scalars+gaze up, the step kernel, head and eye down.
void CudaGenerator::Impl::capture_graph() {
  cuda::StepParams p = params;
  p.gaze = d_gaze();
  p.observed_head = nullptr;
  p.head_out = d_head_out.ptr;
  p.eye_out = d_eye_out.ptr;
  cudaGraph_t g = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    CUDA_CHECK(cudaMemcpyAsync(d_in.ptr, h_in.ptr, in_bytes(), cudaMemcpyHostToDevice, stream));
    cuda::launch_step(p, wdtype, smem, stream);
    CUDA_CHECK(cudaMemcpyAsync(h_head.ptr, d_head_out.ptr, d_head_out.bytes(),
                               cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaMemcpyAsync(h_eye.ptr, d_eye_out.ptr, d_eye_out.bytes(), cudaMemcpyDeviceToHost,
                               stream));
  } catch (...) {
    cudaStreamEndCapture(stream, &g);
    if (g) cudaGraphDestroy(g);
    throw;
  }
  CUDA_CHECK(cudaStreamEndCapture(stream, &g));
  const cudaError_t err = cudaGraphInstantiate(&graph, g, 0);
  cudaGraphDestroy(g);
  CUDA_CHECK(err);
}

// Rollout (head_obs == null) or priming (head_obs set) over T frames, in chunks of frames so
// the device copy of the sequence stays under 64 MiB.
void CudaGenerator::Impl::run_frames(const float* gaze_seq, const float* head_obs, int64_t T,
                                     float* head_seq, float* eye_seq) {
  const size_t N = static_cast<size_t>(n);
  const size_t frame_floats = N * (kGazeSize + kHeadSize + kEyeSize);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{64} << 20) / (frame_floats * sizeof(float)));
  const int64_t rows = std::min(chunk, T);
  cuda::DeviceArray<float> d_gaze_seq, d_head_seq, d_eye_seq;
  d_gaze_seq.alloc(rows * N * kGazeSize);
  d_head_seq.alloc(rows * N * kHeadSize);
  d_eye_seq.alloc(rows * N * kEyeSize);
  CUDA_CHECK(cudaMemcpyAsync(d_in.ptr, h_in.ptr, sizeof(cuda::StepScalars), cudaMemcpyHostToDevice,
                             stream));
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t len = std::min(chunk, T - t0);
    CUDA_CHECK(cudaMemcpyAsync(d_gaze_seq.ptr, gaze_seq + t0 * N * kGazeSize,
                               len * N * kGazeSize * sizeof(float), cudaMemcpyHostToDevice,
                               stream));
    if (head_obs) {
      CUDA_CHECK(cudaMemcpyAsync(d_head_seq.ptr, head_obs + t0 * N * kHeadSize,
                                 len * N * kHeadSize * sizeof(float), cudaMemcpyHostToDevice,
                                 stream));
    }
    for (int64_t t = 0; t < len; ++t) {
      cuda::StepParams p = params;
      p.gaze = d_gaze_seq.ptr + t * N * kGazeSize;
      if (head_obs) {
        p.observed_head = d_head_seq.ptr + t * N * kHeadSize;
        p.head_out = nullptr;
        p.eye_out = nullptr;
      } else {
        p.head_out = d_head_seq.ptr + t * N * kHeadSize;
        p.eye_out = d_eye_seq.ptr + t * N * kEyeSize;
      }
      cuda::launch_step(p, wdtype, smem, stream);
    }
    if (!head_obs) {
      CUDA_CHECK(cudaMemcpyAsync(head_seq + t0 * N * kHeadSize, d_head_seq.ptr,
                                 len * N * kHeadSize * sizeof(float), cudaMemcpyDeviceToHost,
                                 stream));
      if (eye_seq) {
        CUDA_CHECK(cudaMemcpyAsync(eye_seq + t0 * N * kEyeSize, d_eye_seq.ptr,
                                   len * N * kEyeSize * sizeof(float), cudaMemcpyDeviceToHost,
                                   stream));
      }
    }
    sync();  // the chunk buffers are reused by the next chunk
  }
}

CudaGenerator::CudaGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                             float temperature, NanPolicy nan_policy, WeightsDtype weights_dtype,
                             int device)
    : Generator(std::move(model), num_agents, seed, temperature, nan_policy), impl_(new Impl()) {
  const int count = cuda_device_count();
  if (count == 0) {
    throw CudaError("the CUDA backend needs a CUDA device and none is usable here (" +
                    cuda_device_status() + ")");
  }
  if (device < 0 || device >= count) {
    throw std::invalid_argument("CUDA device " + std::to_string(device) + " does not exist (" +
                                std::to_string(count) + " visible)");
  }
  Impl& I = *impl_;
  I.model = model_ptr();
  I.n = num_agents;
  I.wdtype = weights_dtype;
  I.device = device;
  cuda::DeviceGuard guard(device);
  I.init(/*capture=*/true);
  write_state(initial_state());
}

CudaGenerator::CudaGenerator(const CudaGenerator& other, std::unique_ptr<Impl> impl)
    : Generator(other), impl_(std::move(impl)) {}

CudaGenerator::~CudaGenerator() {
  if (impl_ && impl_->stream) {
    int prev = 0;
    if (cudaGetDevice(&prev) == cudaSuccess) {
      cudaSetDevice(impl_->device);
      cudaStreamSynchronize(impl_->stream);  // in-flight work still reads the buffers
      impl_.reset();
      cudaSetDevice(prev);
    }
  }
}

std::unique_ptr<Generator> CudaGenerator::clone() const {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  std::unique_ptr<Impl> c(new Impl());
  c->model = I.model;
  c->n = I.n;
  c->wdtype = I.wdtype;
  c->device = I.device;
  // The clone's graph is captured on first use of step(): a clone made for rollout() never
  // needs one.
  c->init(/*capture=*/false);
  CUDA_CHECK(cudaStreamSynchronize(I.stream));  // the source's queued work finishes first
  cuda::zip_state(c->state, I.state, [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, src.bytes(), cudaMemcpyDeviceToDevice, c->stream));
  });
  c->sync();
  return std::unique_ptr<Generator>(new CudaGenerator(*this, std::move(c)));
}

void CudaGenerator::launch(const float* gaze) {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  if (!I.graph) I.capture_graph();
  I.stage_scalars(*this);
  std::memcpy(I.h_gaze(), gaze, 2 * sizeof(float) * I.n);
  CUDA_CHECK(cudaGraphLaunch(I.graph, I.stream));
  CUDA_CHECK(cudaEventRecord(I.done, I.stream));
}

void CudaGenerator::collect(float* head_out, float* eye_out) {
  Impl& I = *impl_;
  CUDA_CHECK(cudaEventSynchronize(I.done));
  std::memcpy(head_out, I.h_head.ptr, kHeadSize * sizeof(float) * I.n);
  if (eye_out) std::memcpy(eye_out, I.h_eye.ptr, kEyeSize * sizeof(float) * I.n);
}

void CudaGenerator::run_sequence(const float* gaze_seq, const float* head_obs, int64_t T,
                                 float* head_seq, float* eye_seq) {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  I.stage_scalars(*this);
  I.run_frames(gaze_seq, head_obs, T, head_seq, eye_seq);
}

void CudaGenerator::reset_agents(const int64_t* ids, int64_t count) {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  const int64_t* d_ids = nullptr;
  if (ids) {
    CUDA_CHECK(cudaMemcpyAsync(I.d_ids.ptr, ids, count * sizeof(int64_t), cudaMemcpyHostToDevice,
                               I.stream));
    d_ids = I.d_ids.ptr;
  }
  cuda::launch_reset(d_ids, count, I.model->hidden(), I.model->latent(), I.state.view(), I.stream);
  I.sync();  // the ids buffer is pageable host memory owned by the caller
}

void CudaGenerator::read_state(AgentState& out) const {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  out.resize(I.n, I.model->hidden(), I.model->latent());
  cuda::zip_state(out, I.state, [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.ptr, src.bytes(), cudaMemcpyDeviceToHost, I.stream));
  });
  I.sync();
}

void CudaGenerator::write_state(const AgentState& st) {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  cuda::zip_state(I.state, st, [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.data(), dst.bytes(), cudaMemcpyHostToDevice, I.stream));
  });
  I.sync();
}

WeightsDtype CudaGenerator::weights_dtype() const { return impl_->wdtype; }
int CudaGenerator::device() const { return impl_->device; }
int CudaGenerator::tile_agents() const { return impl_->params.tile_agents; }
void* CudaGenerator::stream() const { return impl_->stream; }

}  // namespace gazehead
