// The CUDA backend: the fused step kernel, its launch code and the host-side generator.
// Device helpers and the params struct: step_kernel.cuh.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "cuda_check.h"
#include "cuda_generator.h"
#include "step_kernel.cuh"

namespace gazehead {
namespace cuda {
namespace {

// ---- kernels ------------------------------------------------------------------------------

// One frame for the tile of agents [blockIdx.x * tile_agents, ...): condition, encoder, GRU,
// prior, Philox sample, decoder, residual and eye-in-head, all in one launch. With
// p.observed_head set it is the priming step instead (GRU only; the observed head replaces
// the generated one and no noise is drawn), exactly as CpuGenerator::run_chunk.
template <typename WT>
__global__ void __launch_bounds__(kThreads) step_kernel(const StepParams p) {
  extern __shared__ float smem[];
  const int M = p.tile_agents, ld = p.ld, H = p.hidden, Z = p.latent;
  float* buf_a = smem;                // (M, ld) activations
  float* buf_b = buf_a + M * ld;      // (M, ld) activations
  float* s_old = buf_b + M * ld;      // (M, ld) s_{t-1} in columns [0, H)
  float* s_new = s_old + M * ld;      // (M, ld) s_t in [0, H), then z_t in [H, H + Z)
  float* gaze_eff = s_new + M * ld;   // (M, 2) gaze after the hold policy

  const int64_t a0 = static_cast<int64_t>(blockIdx.x) * M;
  const int rows = static_cast<int>(min(static_cast<int64_t>(M), p.num_agents - a0));
  // Rows of the last agent group past `rows` are computed but never stored: zero their
  // inputs so they stay finite and initialized.
  const int rows_g = (rows + kRowsPerThread - 1) / kRowsPerThread * kRowsPerThread;

  // 1. effective gaze and normalized condition features
  for (int m = threadIdx.x; m < rows_g; m += blockDim.x) {
    float* xn = buf_a + m * ld;
    if (m >= rows) {
      for (int i = 0; i < kInputSize; ++i) xn[i] = 0.0f;
      gaze_eff[2 * m] = gaze_eff[2 * m + 1] = 0.0f;
      continue;
    }
    const int64_t a = a0 + m;
    float g[2] = {p.gaze[2 * a], p.gaze[2 * a + 1]};
    const bool prev = p.has_prev[a] != 0;
    // Non-finite gaze got past host validation only under the hold policy.
    if (!isfinite(g[0]) || !isfinite(g[1])) {
      g[0] = prev ? p.gaze_prev[2 * a] : 0.0f;
      g[1] = prev ? p.gaze_prev[2 * a + 1] : 0.0f;
    }
    gaze_eff[2 * m] = g[0];
    gaze_eff[2 * m + 1] = g[1];
    float x[kInputSize];
    condition_features(g, p.gaze_prev + 2 * a, p.head + 3 * a, p.eye + 2 * a, prev, p.fps, x);
    for (int i = 0; i < kInputSize; ++i) xn[i] = (x[i] - p.x_mean[i]) / p.x_std[i];
  }
  for (int idx = threadIdx.x; idx < rows_g * H; idx += blockDim.x) {
    const int m = idx / H, j = idx - m * H;
    s_old[m * ld + j] = m < rows ? p.s[(a0 + m) * H + j] : 0.0f;
  }
  __syncthreads();

  // 2. encoder and GRU; s_t goes back to the state array (this block owns these agents)
  const float* e = mlp<WT>(p, p.enc, p.n_enc, true, buf_a, buf_b, buf_a, rows);
  gru<WT>(p, e, s_old, s_new, rows);
  __syncthreads();
  for (int idx = threadIdx.x; idx < rows * H; idx += blockDim.x) {
    const int m = idx / H, j = idx - m * H;
    p.s[(a0 + m) * H + j] = s_new[m * ld + j];
  }

  if (p.observed_head != nullptr) {  // priming: the observed pose replaces the generated one
    for (int m = threadIdx.x; m < rows; m += blockDim.x) {
      const int64_t a = a0 + m;
      float* head = p.head + 3 * a;
      for (int i = 0; i < kHeadSize; ++i) head[i] = p.observed_head[3 * a + i];
      eye_from_gaze_head(gaze_eff + 2 * m, head, p.eye + 2 * a);
      p.gaze_prev[2 * a] = gaze_eff[2 * m];
      p.gaze_prev[2 * a + 1] = gaze_eff[2 * m + 1];
      p.has_prev[a] = 1;
      p.frame[a] += 1;
    }
    return;
  }

  // 3. learned prior and z = mu + T sigma eps, written beside s_t to form the decoder input
  const float* pr = mlp<WT>(p, p.prior, p.n_prior, false, s_new, buf_a, buf_b, rows);
  const float temperature = p.scalars->temperature;
  const uint32_t seed = p.scalars->seed;
  for (int m = threadIdx.x; m < rows_g; m += blockDim.x) {
    float* z = s_new + m * ld + H;
    if (m >= rows) {
      for (int j = 0; j < Z; ++j) z[j] = 0.0f;
      continue;
    }
    const int64_t a = a0 + m;
    agent_normals(seed, static_cast<uint32_t>(a), p.episode[a], p.frame[a], Z, z);
    const float* mu = pr + m * ld;
    for (int j = 0; j < Z; ++j) {
      const float logvar = fminf(fmaxf(mu[Z + j], kLogvarMin), kLogvarMax);
      z[j] = mu[j] + temperature * expf(0.5f * logvar) * z[j];
    }
  }
  __syncthreads();

  // 4. decoder, residual integration, eye-in-head
  const float* y = mlp<WT>(p, p.dec, p.n_dec, false, s_new, buf_a, buf_b, rows);
  for (int m = threadIdx.x; m < rows; m += blockDim.x) {
    const int64_t a = a0 + m;
    float* head = p.head + 3 * a;
    for (int i = 0; i < kHeadSize; ++i) {
      const float yi = y[m * ld + i] * p.y_std[i] + p.y_mean[i];
      head[i] = p.residual ? head[i] + yi / p.fps : yi;
    }
    eye_from_gaze_head(gaze_eff + 2 * m, head, p.eye + 2 * a);
    p.gaze_prev[2 * a] = gaze_eff[2 * m];
    p.gaze_prev[2 * a + 1] = gaze_eff[2 * m + 1];
    p.has_prev[a] = 1;
    p.frame[a] += 1;
    for (int i = 0; i < kHeadSize; ++i) p.head_out[3 * a + i] = head[i];
    if (p.eye_out != nullptr) {
      p.eye_out[2 * a] = p.eye[2 * a];
      p.eye_out[2 * a + 1] = p.eye[2 * a + 1];
    }
  }
}

struct ResetParams {
  const int64_t* agents;  // (count,) agent ids, or null for all agents
  int64_t count;          // ids in `agents`, or N when agents is null
  int hidden;             // H
  float* s;               // (N, H)
  float* head;            // (N, 3)
  float* eye;             // (N, 2)
  float* gaze_prev;       // (N, 2)
  uint8_t* has_prev;      // (N,)
  uint32_t* frame;        // (N,)
  uint32_t* episode;      // (N,) bumped: a new episode draws new noise
};

// One thread per listed agent; ids are unique (the Python layer deduplicates) and in range
// (checked on the host).
__global__ void reset_kernel(const ResetParams p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.count) return;
  const int64_t a = p.agents ? p.agents[i] : i;
  for (int j = 0; j < p.hidden; ++j) p.s[a * p.hidden + j] = 0.0f;
  for (int k = 0; k < kHeadSize; ++k) p.head[3 * a + k] = 0.0f;
  for (int k = 0; k < 2; ++k) p.eye[2 * a + k] = p.gaze_prev[2 * a + k] = 0.0f;
  p.has_prev[a] = 0;
  p.frame[a] = 0;
  p.episode[a] += 1;
}

// ---- launch code --------------------------------------------------------------------------

size_t smem_bytes(int tile_agents, int ld) {
  return (4 * static_cast<size_t>(tile_agents) * ld + 2 * static_cast<size_t>(tile_agents)) *
         sizeof(float);
}

template <typename WT>
void enable_smem(size_t bytes) {
  CUDA_CHECK(cudaFuncSetAttribute(step_kernel<WT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(bytes)));
}

void set_smem_limit(WeightsDtype dt, size_t bytes) {
  switch (dt) {
    case WeightsDtype::kFloat32: enable_smem<float>(bytes); break;
    case WeightsDtype::kBFloat16: enable_smem<__nv_bfloat16>(bytes); break;
    case WeightsDtype::kFloat16: enable_smem<__half>(bytes); break;
  }
}

void launch_step(const StepParams& p, WeightsDtype dt, size_t smem, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((p.num_agents + p.tile_agents - 1) / p.tile_agents);
  switch (dt) {
    case WeightsDtype::kFloat32: step_kernel<float><<<blocks, kThreads, smem, stream>>>(p); break;
    case WeightsDtype::kBFloat16:
      step_kernel<__nv_bfloat16><<<blocks, kThreads, smem, stream>>>(p);
      break;
    case WeightsDtype::kFloat16: step_kernel<__half><<<blocks, kThreads, smem, stream>>>(p); break;
  }
  CUDA_CHECK_LAUNCH();
}

// Input validation is the core's (validate_gaze / validate_head in cpu_generator.h): both
// backends raise the same errors, checked on the host before anything is uploaded.

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
  uint32_t seed = 0;
  float temperature = 1.0f;
  NanPolicy nan_policy = NanPolicy::kRaise;
  WeightsDtype wdtype = WeightsDtype::kFloat32;
  int device = 0;

  cudaStream_t stream = nullptr;
  cudaEvent_t done = nullptr;
  cudaGraphExec_t graph = nullptr;
  bool pending = false;
  size_t smem = 0;
  cuda::StepParams params{};  // filled once; the graph and rollouts copy and adjust it

  cuda::DeviceArray<unsigned char> weights;  // W^T of every layer, in wdtype
  cuda::DeviceArray<float> bias;
  // state
  cuda::DeviceArray<float> s, head, eye, gaze_prev;
  cuda::DeviceArray<uint8_t> has_prev;
  cuda::DeviceArray<uint32_t> frame, episode;
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
  void stage_scalars() {
    h_scalars()->seed = seed;
    h_scalars()->temperature = temperature;
  }
  void sync() { CUDA_CHECK(cudaStreamSynchronize(stream)); }
  void refuse_if_pending(const char* what) const {
    if (pending) {
      throw std::logic_error(std::string(what) +
                             ": a step_async() is in flight; call result() first");
    }
  }

  void init(bool capture);
  void upload_weights();
  void capture_graph();
  void run_sequence(const float* gaze_seq, const float* head_obs, int64_t T, float* head_seq,
                    float* eye_seq);
};

namespace {

template <typename WT>
WT convert_weight(float x);
template <>
float convert_weight<float>(float x) { return x; }
template <>
__nv_bfloat16 convert_weight<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <>
__half convert_weight<__half>(float x) { return __float2half_rn(x); }

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
    case WeightsDtype::kFloat32: packed = pack_weights<float>(layers); break;
    case WeightsDtype::kBFloat16: packed = pack_weights<__nv_bfloat16>(layers); break;
    case WeightsDtype::kFloat16: packed = pack_weights<__half>(layers); break;
  }
  weights.alloc(packed.size());
  bias.alloc(biases.size());
  CUDA_CHECK(cudaMemcpy(weights.ptr, packed.data(), packed.size(), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(bias.ptr, biases.data(), biases.size() * sizeof(float),
                        cudaMemcpyHostToDevice));
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
  p.residual = M.residual() ? 1 : 0;
  p.fps = M.fps();
  std::memcpy(p.x_mean, M.x_mean(), sizeof p.x_mean);
  std::memcpy(p.x_std, M.x_std(), sizeof p.x_std);
  std::memcpy(p.y_mean, M.y_mean(), sizeof p.y_mean);
  std::memcpy(p.y_std, M.y_std(), sizeof p.y_std);
  p.num_agents = n;

  // Shared activation row: wide enough for every MLP input and output and for [s, z].
  int ld = std::max(kInputSize, H + Z);
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
  s.alloc(N * H);
  head.alloc(N * kHeadSize);
  eye.alloc(N * kEyeSize);
  gaze_prev.alloc(N * kGazeSize);
  has_prev.alloc(N);
  frame.alloc(N);
  episode.alloc(N);
  CUDA_CHECK(cudaMemsetAsync(s.ptr, 0, s.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(head.ptr, 0, head.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(eye.ptr, 0, eye.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(gaze_prev.ptr, 0, gaze_prev.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(has_prev.ptr, 0, has_prev.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(frame.ptr, 0, frame.bytes(), stream));
  CUDA_CHECK(cudaMemsetAsync(episode.ptr, 0, episode.bytes(), stream));
  p.s = s.ptr;
  p.head = head.ptr;
  p.eye = eye.ptr;
  p.gaze_prev = gaze_prev.ptr;
  p.has_prev = has_prev.ptr;
  p.frame = frame.ptr;
  p.episode = episode.ptr;

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
    CUDA_CHECK(cudaMemcpyAsync(h_eye.ptr, d_eye_out.ptr, d_eye_out.bytes(),
                               cudaMemcpyDeviceToHost, stream));
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
void CudaGenerator::Impl::run_sequence(const float* gaze_seq, const float* head_obs, int64_t T,
                                       float* head_seq, float* eye_seq) {
  const size_t N = static_cast<size_t>(n);
  const size_t frame_floats = N * (kGazeSize + kHeadSize + kEyeSize);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{64} << 20) / (frame_floats * sizeof(float)));
  const int64_t rows = std::min(chunk, T);
  cuda::DeviceArray<float> d_gaze_seq, d_head_seq, d_eye_seq;
  d_gaze_seq.alloc(rows * N * kGazeSize);
  d_head_seq.alloc(rows * N * kHeadSize);
  d_eye_seq.alloc(rows * N * kEyeSize);
  stage_scalars();
  CUDA_CHECK(cudaMemcpyAsync(d_in.ptr, h_in.ptr, sizeof(cuda::StepScalars),
                             cudaMemcpyHostToDevice, stream));
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t len = std::min(chunk, T - t0);
    CUDA_CHECK(cudaMemcpyAsync(d_gaze_seq.ptr, gaze_seq + t0 * N * kGazeSize,
                               len * N * kGazeSize * sizeof(float), cudaMemcpyHostToDevice, stream));
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

CudaGenerator::CudaGenerator(std::shared_ptr<const Model> model, int64_t num_agents,
                             uint32_t seed, float temperature, NanPolicy nan_policy,
                             WeightsDtype weights_dtype, int device)
    : impl_(new Impl()) {
  if (!model) throw std::invalid_argument("model is null");
  if (num_agents <= 0) throw std::invalid_argument("num_agents must be positive");
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
  I.model = std::move(model);
  I.n = num_agents;
  I.seed = seed;
  I.nan_policy = nan_policy;
  I.wdtype = weights_dtype;
  I.device = device;
  set_temperature(temperature);
  cuda::DeviceGuard guard(device);
  I.init(/*capture=*/true);
}

CudaGenerator::CudaGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaGenerator::CudaGenerator(CudaGenerator&&) noexcept = default;

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

std::unique_ptr<CudaGenerator> CudaGenerator::clone() const {
  const Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  std::unique_ptr<Impl> c(new Impl());
  c->model = I.model;
  c->n = I.n;
  c->seed = I.seed;
  c->temperature = I.temperature;
  c->nan_policy = I.nan_policy;
  c->wdtype = I.wdtype;
  c->device = I.device;
  // The clone's graph is captured on first use of step(): a clone made for rollout() never
  // needs one.
  c->init(/*capture=*/false);
  CUDA_CHECK(cudaStreamSynchronize(I.stream));  // the source's queued work finishes first
  auto copy = [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, src.bytes(), cudaMemcpyDeviceToDevice, c->stream));
  };
  copy(c->s, I.s);
  copy(c->head, I.head);
  copy(c->eye, I.eye);
  copy(c->gaze_prev, I.gaze_prev);
  copy(c->has_prev, I.has_prev);
  copy(c->frame, I.frame);
  copy(c->episode, I.episode);
  c->sync();
  return std::unique_ptr<CudaGenerator>(new CudaGenerator(std::move(c)));
}

void CudaGenerator::step_async(const float* gaze) {
  Impl& I = *impl_;
  I.refuse_if_pending("step_async");
  validate_gaze(gaze, I.n, -1, I.nan_policy == NanPolicy::kHold);
  cuda::DeviceGuard guard(I.device);
  if (!I.graph) I.capture_graph();
  I.stage_scalars();
  std::memcpy(I.h_gaze(), gaze, 2 * sizeof(float) * I.n);
  CUDA_CHECK(cudaGraphLaunch(I.graph, I.stream));
  CUDA_CHECK(cudaEventRecord(I.done, I.stream));
  I.pending = true;
}

void CudaGenerator::result(float* head_out, float* eye_out) {
  Impl& I = *impl_;
  if (!I.pending) throw std::logic_error("result: no step_async() is in flight");
  I.pending = false;  // a failed frame is not retried: the error is the result
  CUDA_CHECK(cudaEventSynchronize(I.done));
  std::memcpy(head_out, I.h_head.ptr, kHeadSize * sizeof(float) * I.n);
  if (eye_out) std::memcpy(eye_out, I.h_eye.ptr, kEyeSize * sizeof(float) * I.n);
}

bool CudaGenerator::pending() const { return impl_->pending; }

void CudaGenerator::step(const float* gaze, float* head_out, float* eye_out) {
  impl_->refuse_if_pending("step");
  step_async(gaze);
  result(head_out, eye_out);
}

void CudaGenerator::rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq) {
  Impl& I = *impl_;
  I.refuse_if_pending("rollout");
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_seq + 2 * I.n * t, I.n, t, I.nan_policy == NanPolicy::kHold);
  }
  if (T <= 0) return;
  cuda::DeviceGuard guard(I.device);
  I.run_sequence(gaze_seq, nullptr, T, head_seq, eye_seq);
}

void CudaGenerator::prime(const float* gaze_hist, const float* head_hist, int64_t T) {
  Impl& I = *impl_;
  I.refuse_if_pending("prime");
  // Context must be real observations: non-finite values are refused whatever the policy.
  for (int64_t t = 0; t < T; ++t) {
    validate_gaze(gaze_hist + 2 * I.n * t, I.n, t, /*allow_nonfinite=*/false);
    validate_head(head_hist + 3 * I.n * t, I.n, t);
  }
  if (T <= 0) return;
  cuda::DeviceGuard guard(I.device);
  I.run_sequence(gaze_hist, head_hist, T, nullptr, nullptr);
}

void CudaGenerator::reset(const int64_t* agents, int64_t count) {
  Impl& I = *impl_;
  if (agents != nullptr) {
    for (int64_t i = 0; i < count; ++i) {
      if (agents[i] < 0 || agents[i] >= I.n) {
        throw InvalidInput("agent id " + std::to_string(agents[i]) + " is out of range for " +
                               std::to_string(I.n) + " agents",
                           agents[i]);
      }
    }
    if (count > I.n) throw std::invalid_argument("reset: more agent ids than agents");
    if (count == 0) return;
  }
  cuda::DeviceGuard guard(I.device);
  cuda::ResetParams p{};
  p.count = agents ? count : I.n;
  if (agents) {
    CUDA_CHECK(cudaMemcpyAsync(I.d_ids.ptr, agents, count * sizeof(int64_t),
                               cudaMemcpyHostToDevice, I.stream));
    p.agents = I.d_ids.ptr;
  }
  p.hidden = I.model->hidden();
  p.s = I.s.ptr;
  p.head = I.head.ptr;
  p.eye = I.eye.ptr;
  p.gaze_prev = I.gaze_prev.ptr;
  p.has_prev = I.has_prev.ptr;
  p.frame = I.frame.ptr;
  p.episode = I.episode.ptr;
  constexpr int kResetThreads = 128;
  const unsigned blocks = static_cast<unsigned>((p.count + kResetThreads - 1) / kResetThreads);
  cuda::reset_kernel<<<blocks, kResetThreads, 0, I.stream>>>(p);
  CUDA_CHECK_LAUNCH();
  I.sync();  // the ids buffer is pageable host memory owned by the caller
}

void CudaGenerator::get_state(AgentState& out) const {
  Impl& I = *impl_;
  cuda::DeviceGuard guard(I.device);
  out.resize(I.n, I.model->hidden());
  auto down = [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.ptr, src.bytes(), cudaMemcpyDeviceToHost, I.stream));
  };
  down(out.s, I.s);
  down(out.head, I.head);
  down(out.eye, I.eye);
  down(out.gaze, I.gaze_prev);
  down(out.has_prev, I.has_prev);
  down(out.frame, I.frame);
  down(out.episode, I.episode);
  I.sync();
}

void CudaGenerator::set_state(const AgentState& st) {
  Impl& I = *impl_;
  const size_t n = static_cast<size_t>(I.n), H = static_cast<size_t>(I.model->hidden());
  if (st.s.size() != n * H || st.head.size() != n * kHeadSize || st.eye.size() != n * kEyeSize ||
      st.gaze.size() != n * kGazeSize || st.has_prev.size() != n || st.frame.size() != n ||
      st.episode.size() != n) {
    throw std::invalid_argument("state sizes do not match this generator's agents and model");
  }
  cuda::DeviceGuard guard(I.device);
  auto up = [&](auto& dst, const auto& src) {
    CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.data(), dst.bytes(), cudaMemcpyHostToDevice, I.stream));
  };
  up(I.s, st.s);
  up(I.head, st.head);
  up(I.eye, st.eye);
  up(I.gaze_prev, st.gaze);
  up(I.has_prev, st.has_prev);
  up(I.frame, st.frame);
  up(I.episode, st.episode);
  I.sync();
}

int64_t CudaGenerator::num_agents() const { return impl_->n; }
const Model& CudaGenerator::model() const { return *impl_->model; }
const std::shared_ptr<const Model>& CudaGenerator::model_ptr() const { return impl_->model; }
uint32_t CudaGenerator::seed() const { return impl_->seed; }
void CudaGenerator::set_seed(uint32_t seed) { impl_->seed = seed; }
float CudaGenerator::temperature() const { return impl_->temperature; }
void CudaGenerator::set_temperature(float t) {
  if (!std::isfinite(t) || t < 0.0f) {
    throw std::invalid_argument("temperature must be a finite number >= 0");
  }
  impl_->temperature = t;
}
NanPolicy CudaGenerator::nan_policy() const { return impl_->nan_policy; }
WeightsDtype CudaGenerator::weights_dtype() const { return impl_->wdtype; }
int CudaGenerator::device() const { return impl_->device; }
int CudaGenerator::tile_agents() const { return impl_->params.tile_agents; }
void* CudaGenerator::stream() const { return impl_->stream; }

}  // namespace gazehead
