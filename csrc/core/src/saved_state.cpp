#include "gazehead/saved_state.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace gazehead {
namespace {

// Layout, little-endian host order, no padding:
//   "GZHS" | u32 blob version | u64 total size | u64 model fingerprint | i64 N | i32 H | i32 Z |
//   u32 seed | f32 temperature | f32 neck_limits[3] | agent state (motion model v3):
//   s (N*H f32), head (N*3 f32), head_vel (N*3 f32), z (N*Z f32), gaze (N*2 f32),
//   style (N*2 f32), has_prev (N u8), frame (N u32), episode (N u32) | update clock:
//   i32 started, i64 frames, f64 phase, f64 dropped, prev (N*3 f64), curr (N*3 f64),
//   gaze_last (N*2 f64), snap (N u8) | u64 FNV-1a 64 of everything before it.
constexpr char kMagic[4] = {'G', 'Z', 'H', 'S'};
constexpr size_t kHeader = 4 + 4 + 8 + 8 + 8 + 4 + 4 + 4 + 4 + 3 * 4;
constexpr int kMaxWidth = 4096;  // ModelFile's cap on any layer or state size

[[noreturn]] void refuse(const std::string& what) { throw StateError("state: " + what); }

std::string fmt(const char* format, long long a, long long b = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

class Writer {
 public:
  explicit Writer(unsigned char* p) : p_(p) {}
  template <typename T>
  void put(const T& v) {
    std::memcpy(p_ + at_, &v, sizeof v);
    at_ += sizeof v;
  }
  template <typename T>
  void put(const std::vector<T>& v) {
    if (!v.empty()) std::memcpy(p_ + at_, v.data(), v.size() * sizeof(T));
    at_ += v.size() * sizeof(T);
  }
  size_t size() const { return at_; }

 private:
  unsigned char* p_;
  size_t at_ = 0;
};

// Reads within [0, size): every get is checked against the end, so a wrong size field can
// never read past the caller's buffer (the size was checked too; this is the second line).
class Reader {
 public:
  Reader(const unsigned char* p, size_t size) : p_(p), size_(size) {}
  template <typename T>
  T get() {
    T v;
    take(&v, sizeof v);
    return v;
  }
  template <typename T>
  void get(std::vector<T>& v, size_t count) {
    if (count > (size_ - at_) / sizeof(T)) refuse("the blob is shorter than its sizes say");
    v.resize(count);
    if (count) take(v.data(), count * sizeof(T));
  }

 private:
  void take(void* dst, size_t n) {
    if (n > size_ - at_) refuse("the blob is shorter than its sizes say");
    std::memcpy(dst, p_ + at_, n);
    at_ += n;
  }
  const unsigned char* p_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace

uint64_t fnv1a64(const void* data, size_t size, uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t k = 0; k < size; ++k) {
    h ^= p[k];
    h *= 0x100000001b3ULL;
  }
  return h;
}

size_t saved_state_size(int64_t n64, int hidden, int latent) {
  const size_t n = static_cast<size_t>(n64), H = static_cast<size_t>(hidden),
               Z = static_cast<size_t>(latent);
  return kHeader + n * H * 4 + n * 3 * 4 + n * 3 * 4 + n * Z * 4 + n * 2 * 4 + n * 2 * 4 + n +
         n * 4 + n * 4 + 4 + 8 + 8 + 8 + n * 3 * 8 + n * 3 * 8 + n * 2 * 8 + n + 8;
}

void write_saved_state(const SavedState& s, unsigned char* p) {
  const size_t total = saved_state_size(s.num_agents, s.hidden, s.latent);
  Writer w(p);
  w.put(kMagic);
  w.put(kStateVersion);
  w.put(static_cast<uint64_t>(total));
  w.put(s.model_fingerprint);
  w.put(s.num_agents);
  w.put(s.hidden);
  w.put(s.latent);
  w.put(s.seed);
  w.put(s.temperature);
  for (float v : s.neck_limits) w.put(v);
  const AgentState& st = s.agents;
  w.put(st.s);
  w.put(st.head);
  w.put(st.head_vel);
  w.put(st.z);
  w.put(st.gaze);
  w.put(st.style);
  w.put(st.has_prev);
  w.put(st.frame);
  w.put(st.episode);
  const RateClock::State& rs = s.clock;
  w.put(rs.started);
  w.put(rs.frames);
  w.put(rs.phase);
  w.put(rs.dropped_time_s);
  w.put(rs.prev);
  w.put(rs.curr);
  w.put(rs.gaze_last);
  w.put(rs.snap);
  w.put(fnv1a64(p, w.size()));
}

SavedState read_saved_state(const void* data, size_t size) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  if (p == nullptr || size < 16 || std::memcmp(p, kMagic, 4) != 0) {
    refuse("not a gazehead generator state (bad magic or too short)");
  }
  Reader r(p, size);
  r.get<uint32_t>();  // the magic
  const uint32_t version = r.get<uint32_t>();
  if (version != kStateVersion) {
    refuse(fmt("version %lld is not supported (this library reads version %lld)", version,
               kStateVersion));
  }
  const uint64_t total = r.get<uint64_t>();
  if (total != size) {
    refuse(fmt("the blob says it has %lld bytes, %lld were passed", static_cast<long long>(total),
               static_cast<long long>(size)));
  }
  if (size < kHeader + 8) refuse("the blob is shorter than its header");
  uint64_t sum;
  std::memcpy(&sum, p + size - 8, 8);
  if (fnv1a64(p, size - 8) != sum) refuse("checksum mismatch (the blob is corrupted)");
  SavedState s;
  s.model_fingerprint = r.get<uint64_t>();
  s.num_agents = r.get<int64_t>();
  s.hidden = r.get<int32_t>();
  s.latent = r.get<int32_t>();
  // Sizes first, before anything is allocated from them: each agent takes more than a byte,
  // and the widths are the model file's caps, so saved_state_size cannot overflow.
  if (s.num_agents < 1 || static_cast<uint64_t>(s.num_agents) > size || s.hidden < 1 ||
      s.hidden > kMaxWidth || s.latent < 1 || s.latent > kMaxWidth ||
      saved_state_size(s.num_agents, s.hidden, s.latent) != size) {
    refuse("its sizes do not match its length");
  }
  s.seed = r.get<uint32_t>();
  s.temperature = r.get<float>();
  for (float& v : s.neck_limits) v = r.get<float>();
  const size_t N = static_cast<size_t>(s.num_agents), H = static_cast<size_t>(s.hidden),
               Z = static_cast<size_t>(s.latent);
  AgentState& st = s.agents;
  r.get(st.s, N * H);
  r.get(st.head, N * 3);
  r.get(st.head_vel, N * 3);
  r.get(st.z, N * Z);
  r.get(st.gaze, N * 2);
  r.get(st.style, N * 2);
  r.get(st.has_prev, N);
  r.get(st.frame, N);
  r.get(st.episode, N);
  RateClock::State& rs = s.clock;
  rs.started = r.get<int32_t>();
  rs.frames = r.get<int64_t>();
  rs.phase = r.get<double>();
  rs.dropped_time_s = r.get<double>();
  r.get(rs.prev, N * 3);
  r.get(rs.curr, N * 3);
  r.get(rs.gaze_last, N * 2);
  r.get(rs.snap, N);
  return s;
}

void check_saved_state(const SavedState& s, const Generator& g, const RateClock& clock,
                       uint64_t model_fingerprint) {
  if (s.model_fingerprint != model_fingerprint) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "it was taken with a different model file (fingerprint %016llx, this "
                  "generator has %016llx)",
                  static_cast<unsigned long long>(s.model_fingerprint),
                  static_cast<unsigned long long>(model_fingerprint));
    refuse(buf);
  }
  if (s.num_agents != g.num_agents()) {
    refuse(fmt("it holds %lld agents, this generator has %lld", s.num_agents, g.num_agents()));
  }
  if (s.hidden != g.model().hidden() || s.latent != g.model().latent()) {
    refuse("sizes do not match this generator's model");
  }
  // The generator's and the clock's own checks, so a blob is refused exactly where a setter
  // would refuse the same value; "state 's' holds ..." reads "state: 's' holds ...".
  auto strip = [](const char* what) {
    const std::string m = what;
    return m.compare(0, 6, "state ") == 0 ? m.substr(6) : m;
  };
  try {
    check_temperature(s.temperature);
    check_neck_limits(s.neck_limits, "neck_limits");
    g.check_state(s.agents);
    clock.check_state(s.clock);
  } catch (const std::invalid_argument& e) {
    refuse(strip(e.what()));
  }
}

}  // namespace gazehead
