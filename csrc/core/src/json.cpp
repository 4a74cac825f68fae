#include "json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace gazehead {
namespace json {

const JsonValue* JsonValue::find(const std::string& key) const {
  for (const auto& m : members) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

const char* JsonValue::kind_name() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "bool";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

namespace {

class Parser {
 public:
  Parser(const char* p, size_t n) : p_(p), n_(n) {}

  bool document(JsonValue& out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    if (i_ != n_) return fail("Extra data");
    return true;
  }

  bool too_deep() const { return too_deep_; }

  std::string error() const {
    size_t line = 1, col = 1;
    for (size_t k = 0; k < err_pos_ && k < n_; ++k) {
      if (p_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, ": line %zu column %zu (char %zu)", line, col, err_pos_);
    return err_ + buf;
  }

 private:
  bool deep() {
    too_deep_ = true;
    return fail("Nesting too deep");
  }
  bool fail(const char* what) {
    if (err_.empty()) {
      err_ = what;
      err_pos_ = i_;
    }
    return false;
  }
  void ws() {
    while (i_ < n_ && (p_[i_] == ' ' || p_[i_] == '\t' || p_[i_] == '\n' || p_[i_] == '\r')) ++i_;
  }
  bool literal(const char* word) {
    size_t k = 0;
    for (; word[k]; ++k) {
      if (i_ + k >= n_ || p_[i_ + k] != word[k]) return false;
    }
    i_ += k;
    return true;
  }

  bool value(JsonValue& v, int depth) {
    if (depth > kMaxDepth) return deep();
    if (i_ >= n_) return fail("Expecting value");
    const char c = p_[i_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      return string(v.text);
    }
    if (literal("null")) {
      v.kind = JsonValue::Kind::kNull;
      return true;
    }
    if (literal("true") || literal("false")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = p_[i_ - 1] == 'e' && p_[i_ - 2] == 'u';
      return true;
    }
    if (literal("NaN")) return special(v, std::numeric_limits<double>::quiet_NaN(), "NaN");
    if (literal("Infinity")) return special(v, HUGE_VAL, "Infinity");
    if (literal("-Infinity")) return special(v, -HUGE_VAL, "-Infinity");
    if (c == '-' || (c >= '0' && c <= '9')) return number(v);
    return fail("Expecting value");
  }

  static bool special(JsonValue& v, double x, const char* text) {
    v.kind = JsonValue::Kind::kNumber;
    v.number = x;
    v.text = text;
    return true;
  }

  bool number(JsonValue& v) {
    const size_t start = i_;
    auto digits = [&]() {
      const size_t s = i_;
      while (i_ < n_ && p_[i_] >= '0' && p_[i_] <= '9') ++i_;
      return i_ > s;
    };
    if (p_[i_] == '-') ++i_;
    if (i_ < n_ && p_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      i_ = start;
      return fail("Expecting value");
    }
    bool integral = true;
    if (i_ < n_ && p_[i_] == '.') {
      ++i_;
      integral = false;
      if (!digits()) return fail("Expecting digits after the decimal point");
    }
    if (i_ < n_ && (p_[i_] == 'e' || p_[i_] == 'E')) {
      ++i_;
      integral = false;
      if (i_ < n_ && (p_[i_] == '+' || p_[i_] == '-')) ++i_;
      if (!digits()) return fail("Expecting digits in the exponent");
    }
    v.kind = JsonValue::Kind::kNumber;
    v.text.assign(p_ + start, i_ - start);
    v.integral = integral;
    v.number = to_double(v.text);
    return true;
  }

  // The literal's value as Python's float() gives it, independent of the C locale: out of
  // range is +-inf (a magnitude over DBL_MAX) or +-0 (under the smallest subnormal).
  static double to_double(const std::string& t) {
    const char* b = t.data();
    const char* e = b + t.size();
    const bool neg = *b == '-';
    double x = 0.0;
    const auto r = std::from_chars(neg ? b + 1 : b, e, x);
    if (r.ec == std::errc::result_out_of_range) {
      // decimal exponent of the leading digit: digits before the point (or zeros after it)
      // plus the written exponent
      long long exp10 = 0;
      const char* p = neg ? b + 1 : b;
      const char* dot = nullptr;
      const char* first = nullptr;
      for (; p < e && *p != 'e' && *p != 'E'; ++p) {
        if (*p == '.') {
          dot = p;
        } else if (*p != '0' && first == nullptr) {
          first = p;
        }
      }
      if (p < e) exp10 = std::strtoll(p + 1, nullptr, 10);  // digits only: locale-free
      const char* point = dot ? dot : p;
      if (first != nullptr) exp10 += first < point ? (point - first - 1) : -(first - point);
      x = exp10 > 0 ? HUGE_VAL : 0.0;
    }
    return neg ? -x : x;
  }

  static void put_utf8(std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(unsigned& cp) {
    if (i_ + 4 > n_) return fail("Invalid \\uXXXX escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = p_[i_ + k];
      cp <<= 4;
      if (h >= '0' && h <= '9')
        cp |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        cp |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        cp |= static_cast<unsigned>(h - 'A' + 10);
      else
        return fail("Invalid \\uXXXX escape");
    }
    i_ += 4;
    return true;
  }

  bool string(std::string& s) {
    ++i_;  // opening quote
    s.clear();
    while (true) {
      if (i_ >= n_) return fail("Unterminated string starting at");
      const char c = p_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("Invalid control character at");
      if (c != '\\') {
        s += c;
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= n_) return fail("Unterminated string starting at");
      const char e = p_[i_++];
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          unsigned cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= n_ && p_[i_] == '\\' && p_[i_ + 1] == 'u') {
            const size_t save = i_;
            i_ += 2;
            unsigned lo;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i_ = save;
            }
          }
          put_utf8(s, cp);
          break;
        }
        default:
          --i_;
          return fail("Invalid \\escape");
      }
    }
  }

  bool array(JsonValue& v, int depth) {
    if (depth + 1 > kMaxDepth) return deep();
    v.kind = JsonValue::Kind::kArray;
    ++i_;
    ws();
    if (i_ < n_ && p_[i_] == ']') {
      ++i_;
      return true;
    }
    while (true) {
      ws();
      v.items.emplace_back();
      if (!value(v.items.back(), depth + 1)) return false;
      ws();
      if (i_ < n_ && p_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < n_ && p_[i_] == ']') {
        ++i_;
        return true;
      }
      return fail("Expecting ',' delimiter");
    }
  }

  bool object(JsonValue& v, int depth) {
    if (depth + 1 > kMaxDepth) return deep();
    v.kind = JsonValue::Kind::kObject;
    std::unordered_map<std::string, size_t> index;  // key -> member: duplicates in O(1)
    ++i_;
    ws();
    if (i_ < n_ && p_[i_] == '}') {
      ++i_;
      return true;
    }
    while (true) {
      ws();
      if (i_ >= n_ || p_[i_] != '"') {
        return fail("Expecting property name enclosed in double quotes");
      }
      std::string key;
      if (!string(key)) return false;
      ws();
      if (i_ >= n_ || p_[i_] != ':') return fail("Expecting ':' delimiter");
      ++i_;
      ws();
      JsonValue member;
      if (!value(member, depth + 1)) return false;
      // Python keeps the last of duplicate keys; so do we, at the first key's position.
      const auto found = index.find(key);
      if (found != index.end()) {
        v.members[found->second].second = std::move(member);
      } else {
        index.emplace(key, v.members.size());
        v.members.emplace_back(std::move(key), std::move(member));
      }
      ws();
      if (i_ < n_ && p_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < n_ && p_[i_] == '}') {
        ++i_;
        return true;
      }
      return fail("Expecting ',' delimiter");
    }
  }

  const char* p_;
  size_t n_;
  size_t i_ = 0;
  std::string err_;
  size_t err_pos_ = 0;
  bool too_deep_ = false;
};

}  // namespace

bool parse_json(const char* data, size_t size, JsonValue& out, std::string& error, bool* too_deep) {
  Parser p(data, size);
  out = JsonValue();
  if (too_deep) *too_deep = false;
  if (p.document(out)) return true;
  error = p.error();
  if (too_deep) *too_deep = p.too_deep();
  out = JsonValue();
  return false;
}

std::string short_float(double x) {
  if (std::isnan(x)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::string py_float(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  int digits = 1;
  for (; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  const int exp10 = std::atoi(std::strchr(buf, 'e') + 1);
  if (exp10 < -4 || exp10 >= 16) return buf;
  std::snprintf(buf, sizeof buf, "%.*f", std::max(digits - 1 - exp10, 1), x);
  return buf;
}

bool valid_utf8(const char* data, size_t size) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  while (i < size) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (size - i < static_cast<size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return false;
    i += len;
  }
  return true;
}

}  // namespace json
}  // namespace gazehead
