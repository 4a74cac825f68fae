// libFuzzer target: a generator's saved state (Generator::load_state) on
// arbitrary bytes. The first input byte picks the mode: even, the rest is a blob as is (the
// checksum refuses nearly all of it, the point being that nothing before the checksum reads
// out of bounds); odd, the rest is a list of (u32 offset, u8 value) edits applied to a valid
// blob which is then resealed, so the value checks behind the checksum are exercised. A blob
// that is accepted is loaded and stepped: its numbers must stay finite (non-finite values
// never reach the kernels). .ci/run runs it for a bounded time under ASan + UBSan.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "gazehead/cpu_generator.h"
#include "gazehead/saved_state.h"
#include "random_model.h"

namespace {

constexpr int64_t kAgents = 2;

std::shared_ptr<const gazehead::Model> make_model(gazehead_test::RandomModel& rm) {
  rm.spec.fingerprint = 0x1234abcd5678ef90ULL;  // as a model read from a file carries one
  return gazehead::Model::create(rm.spec);
}

struct World {
  gazehead_test::RandomModel rm{gazehead_test::RandomModelOptions{}};
  std::shared_ptr<const gazehead::Model> model = make_model(rm);
  std::vector<unsigned char> valid;  // a blob of a generator that has run a few frames

  World() {
    gazehead::CpuGenerator g(model, kAgents, 3, 1.0f, gazehead::NanPolicy::kRaise);
    const float gaze[4] = {0.1f, 0.3f, -0.2f, 0.5f};
    float head[6];
    g.update(gaze, 0.0, head, nullptr);
    g.update(gaze, 0.05, head, nullptr);
    valid.resize(g.saved_state_size());
    g.save_state(valid.data());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  if (size == 0) return 0;
  std::vector<unsigned char> blob;
  if (data[0] % 2 == 0) {
    blob.assign(data + 1, data + size);
  } else {
    blob = w.valid;
    for (size_t k = 1; k + 5 <= size; k += 5) {
      uint32_t at;
      std::memcpy(&at, data + k, 4);
      blob[at % (blob.size() - 8)] = data[k + 4];  // the checksum itself is rewritten below
    }
    const uint64_t sum = gazehead::fnv1a64(blob.data(), blob.size() - 8);
    std::memcpy(blob.data() + blob.size() - 8, &sum, 8);
  }
  gazehead::CpuGenerator g(w.model, kAgents, 0, 1.0f, gazehead::NanPolicy::kRaise);
  try {
    g.load_state(blob.data(), blob.size());
  } catch (const gazehead::StateError&) {
    return 0;
  }
  // accepted: it must run, with finite numbers, from the step and from the clock
  const float gaze[4] = {0.2f, -0.4f, 0.0f, 1.0f};
  float head[6], eye[4];
  g.step(gaze, head, eye);
  g.update(gaze, 0.04, head, eye);
  for (float x : head) {
    if (!std::isfinite(x)) std::abort();
  }
  for (float x : eye) {
    if (!std::isfinite(x)) std::abort();
  }
  return 0;
}
