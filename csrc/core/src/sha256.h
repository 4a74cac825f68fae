// SHA-256 (FIPS 180-4), internal to the core: the model file's integrity hash
// (metadata tensors_sha256) and the file digest Python reports as LoadedModel.sha256. Small
// enough to carry instead of a crypto library dependency; checked against hashlib's digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gazehead {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  std::array<uint8_t, 32> digest();  // finishes; the object is then spent
  static std::string hex(const std::array<uint8_t, 32>& d);

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace gazehead
