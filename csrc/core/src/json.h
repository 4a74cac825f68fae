// A small JSON reader for the model file's header and metadata (RFC 8259, plus the NaN and
// Infinity literals Python's json module writes). Internal to the core. Written here rather
// than taken from a library on purpose: the core must build from a bare C++17 toolchain (the
// wheel, an engine's build), the model file's JSON is Python's dialect (NaN, Infinity), error
// positions are reported as Python's json module reports them, and the input is small and
// capped (the header at 1 MiB). It is hardened for hostile bytes: nesting is capped (so the
// recursion is bounded), numbers are read without the C locale (std::from_chars), duplicate
// keys cost O(1) each, and a libFuzzer target covers it (csrc/core/tests/fuzz_model_file.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace gazehead {
namespace json {

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

// Containers nest at most this deep (Python's model_file.MAX_JSON_DEPTH: a scalar inside 16
// nested lists is depth 16).
constexpr int kMaxDepth = 16;

// Parses exactly one JSON document (surrounding whitespace allowed). On failure returns
// false and sets `error` to "<reason>: line L column C (char P)", as Python's json reports;
// `too_deep` (if given) tells a nesting refusal from a syntax error.
bool parse_json(const char* data, size_t size, JsonValue& out, std::string& error,
                bool* too_deep = nullptr);

// Python's repr of a float: the fewest digits that read back to the same double, positional
// for decimal exponents in [-4, 16), scientific otherwise ("1e-05", "1.5e+20"), so the core's
// messages quote values as Python writes them.
std::string py_float(double x);

// printf's "%g" (six significant digits), except that every NaN reads "nan": a NaN's sign bit
// depends on how the caller made it (C#'s double.NaN cast to float is negative), and a
// message must not differ between surfaces for the same refused value.
std::string short_float(double x);

// True when the bytes are well-formed UTF-8 (no overlong forms, surrogates or code points
// past U+10FFFF), as Python's strict decoder requires.
bool valid_utf8(const char* data, size_t size);

}  // namespace json
}  // namespace gazehead
