// A small JSON reader for the model file's header and metadata (RFC 8259, plus the NaN and
// Infinity literals Python's json module writes). Read-only, no dependencies: the library
// must build from a bare C++17 toolchain, as the wheel does.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace gazehead_capi {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0.0;
  bool integral = false;         // a number written without fraction or exponent
  std::string text;              // kString: the decoded string; kNumber: the literal as written
  std::vector<JsonValue> items;  // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in document order

  const JsonValue* find(const std::string& key) const;  // kObject member or null
  const char* kind_name() const;  // "null", "bool", "number", "string", "array", "object"
};

// Parses exactly one JSON document (surrounding whitespace allowed). On failure returns
// false and sets `error` to "<reason>: line L column C (char P)", as Python's json reports.
bool parse_json(const char* data, size_t size, JsonValue& out, std::string& error);

}  // namespace gazehead_capi
