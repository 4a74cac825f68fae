// libFuzzer target: the model file reader (and the JSON parser under it) on arbitrary bytes.
// Every input is either loaded whole or refused with a ModelFileError; anything else (another
// exception, a crash, a sanitizer report, a leak) is a finding. A loaded model is stepped
// once, so what the reader accepts must also be runnable. .ci/run runs it for a bounded time
// under ASan + UBSan with the shipped model and a tiny model as seeds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "../src/json.h"
#include "gazehead/cpu_generator.h"
#include "gazehead/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The JSON parser alone: the header and metadata texts are its only inputs in the reader,
  // and reaching it through a valid container is rare for a byte mutator.
  gazehead::json::JsonValue v;
  std::string error;
  bool deep = false;
  gazehead::json::parse_json(reinterpret_cast<const char*>(data), size, v, error, &deep);
  gazehead::json::valid_utf8(reinterpret_cast<const char*>(data), size);

  gazehead::ModelFile f;
  try {
    f = gazehead::read_model_file(data, size, "fuzz");
  } catch (const gazehead::ModelFileError&) {
    return 0;
  }
  gazehead::CpuGenerator g(f.model, 1, 0, 1.0f, gazehead::NanPolicy::kRaise);
  const float gaze[2] = {0.1f, -0.2f};
  float head[3], eye[2];
  g.step(gaze, head, eye);
  for (float x : head) {
    if (!std::isfinite(x)) std::abort();  // an accepted model must give finite poses
  }
  return 0;
}
