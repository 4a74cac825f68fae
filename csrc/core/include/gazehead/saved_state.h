// A generator's saved state as bytes (Generator::save_state/load_state: Python's
// Generator.save_state/load_state, the C ABI's gazehead_generator_save_state/load_state, C#'s
// SaveState/LoadState): one versioned, checksummed format, parsed with every size checked
// before anything is allocated and validated whole before anything changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gazehead/generator.h"
#include "gazehead/rate_clock.h"

namespace gazehead {

// A blob that is not a state, is damaged, or does not fit the generator; what() starts with
// "state: ".
class StateError : public std::invalid_argument {
 public:
  explicit StateError(const std::string& what) : std::invalid_argument(what) {}
};

struct SavedState {
  uint64_t model_fingerprint = 0;  // FNV-1a 64 of the model file's bytes (ModelFile)
  int64_t num_agents = 0;
  int32_t hidden = 0, latent = 0;
  uint32_t seed = 0;
  float temperature = 1.0f;
  float neck_limits[kHeadSize] = {};
  AgentState agents;
  RateClock::State clock;
};

constexpr uint32_t kStateVersion = 2;  // 1: motion model v2 (head, eye; no style)

// Bytes of the blob of n agents of a model with these sizes.
size_t saved_state_size(int64_t n, int hidden, int latent);
// Writes exactly saved_state_size(...) bytes to out (the arrays must have their sizes).
void write_saved_state(const SavedState& s, unsigned char* out);
// Parses a blob: magic, version, declared size, checksum, sizes. Throws StateError. The values
// are checked by check_saved_state.
SavedState read_saved_state(const void* data, size_t size);
// Throws StateError unless `s` can be loaded into `g` and `clock` as they are: the same model
// (fingerprint) and sizes, and every value one that the generator's own setters and
// check_state, and the clock's check_state, accept.
void check_saved_state(const SavedState& s, const Generator& g, const RateClock& clock,
                       uint64_t model_fingerprint);

uint64_t fnv1a64(const void* data, size_t size, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace gazehead
