// Json: a recursive-descent parser with a depth bound, and a compact writer.
#include "core/json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace vt {

namespace {
const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::kNull: return "null";
    case Json::Type::kBool: return "a boolean";
    case Json::Type::kNumber: return "a number";
    case Json::Type::kString: return "a string";
    case Json::Type::kArray: return "an array";
    case Json::Type::kObject: return "an object";
  }
  return "?";
}
}  // namespace

bool Json::as_bool(const char* what) const {
  VT_CHECK(type_ == Type::kBool, what, " must be a boolean, not ", type_name(type_));
  return bool_;
}
double Json::as_double(const char* what) const {
  VT_CHECK(type_ == Type::kNumber, what, " must be a number, not ", type_name(type_));
  return num_;
}
int64_t Json::as_int(const char* what) const {
  VT_CHECK(type_ == Type::kNumber && is_int_, what, " must be an integer, not ",
           type_ == Type::kNumber ? "a fractional number" : type_name(type_));
  return int_;
}
const std::string& Json::as_string(const char* what) const {
  VT_CHECK(type_ == Type::kString, what, " must be a string, not ", type_name(type_));
  return str_;
}
const std::vector<Json>& Json::items(const char* what) const {
  VT_CHECK(type_ == Type::kArray, what, " must be an array, not ", type_name(type_));
  return arr_;
}
const std::vector<std::pair<std::string, Json>>& Json::members(const char* what) const {
  VT_CHECK(type_ == Type::kObject, what, " must be an object, not ", type_name(type_));
  return obj_;
}

const Json* Json::find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [k, v] : obj_)
    if (k == key) return &v;
  return nullptr;
}

Json& Json::set(const std::string& key, Json value) {
  VT_ASSERT(type_ == Type::kObject);
  for (auto& [k, v] : obj_)
    if (k == key) return v = std::move(value);
  obj_.emplace_back(key, std::move(value));
  return obj_.back().second;
}

Json& Json::push(Json value) {
  VT_ASSERT(type_ == Type::kArray);
  arr_.push_back(std::move(value));
  return arr_.back();
}

size_t Json::size() const { return type_ == Type::kArray ? arr_.size() : type_ == Type::kObject ? obj_.size() : 0; }

// ---------------------------------------------------------------- writing
std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

namespace {
void dump_to(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::Type::kNull: out += "null"; break;
    case Json::Type::kBool: out += j.as_bool() ? "true" : "false"; break;
    case Json::Type::kNumber: {
      if (j.is_integer()) {
        out += std::to_string(j.as_int());
      } else {
        const double v = j.as_double();
        if (!std::isfinite(v)) {
          out += "null";  // JSON has no inf/NaN
        } else {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.17g", v);
          // Shortest form that reads back exactly.
          for (int prec = 6; prec < 17; ++prec) {
            char tmp[32];
            std::snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (std::strtod(tmp, nullptr) == v) {
              std::snprintf(buf, sizeof buf, "%s", tmp);
              break;
            }
          }
          out += buf;
        }
      }
      break;
    }
    case Json::Type::kString: out += json_quote(j.as_string()); break;
    case Json::Type::kArray: {
      out += '[';
      bool first = true;
      for (const Json& v : j.items()) {
        if (!first) out += ',';
        first = false;
        dump_to(v, out);
      }
      out += ']';
      break;
    }
    case Json::Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.members()) {
        if (!first) out += ',';
        first = false;
        out += json_quote(k);
        out += ':';
        dump_to(v, out);
      }
      out += '}';
      break;
    }
  }
}
}  // namespace

std::string Json::dump() const {
  std::string out;
  dump_to(*this, out);
  return out;
}

// ---------------------------------------------------------------- parsing
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

class JsonParser {
 public:
  JsonParser(const std::string& text, int max_depth) : s_(text), max_depth_(max_depth) {}

  Json parse_document() {
    skip_ws();
    Json v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected data after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(str_cat("JSON: ", what, " at byte ", pos_)); }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect_word(const char* w) {
    for (const char* p = w; *p; ++p)
      if (!eat(*p)) fail(str_cat("invalid literal (expected '", w, "')"));
  }

  Json value(int depth) {
    if (depth > max_depth_) fail("nesting deeper than the limit");
    if (pos_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json(string());
    if (c == 't') {
      expect_word("true");
      return Json(true);
    }
    if (c == 'f') {
      expect_word("false");
      return Json(false);
    }
    if (c == 'n') {
      expect_word("null");
      return Json();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail(str_cat("unexpected character '", c, "'"));
  }

  Json object(int depth) {
    ++pos_;  // '{'
    Json obj = Json::object();
    skip_ws();
    if (eat('}')) return obj;
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key");
      std::string key = string();
      if (obj.find(key)) fail(str_cat("duplicate key ", json_quote(key)));
      skip_ws();
      if (!eat(':')) fail("expected ':'");
      skip_ws();
      Json v = value(depth + 1);
      obj.obj_.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (eat('}')) return obj;
      if (!eat(',')) fail("expected ',' or '}'");
    }
  }

  Json array(int depth) {
    ++pos_;  // '['
    Json arr = Json::array();
    skip_ws();
    if (eat(']')) return arr;
    while (true) {
      skip_ws();
      arr.arr_.push_back(value(depth + 1));
      skip_ws();
      if (eat(']')) return arr;
      if (!eat(',')) fail("expected ',' or ']'");
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("invalid \\u escape");
    }
    return v;
  }

  std::string string() {
    ++pos_;  // '"'
    std::string out;
    const size_t start = pos_;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const unsigned char c = s_[pos_++];
      if (c == '"') break;
      if (c < 0x20) fail("control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate must pair with a low one
            if (!(eat('\\') && eat('u'))) fail("unpaired surrogate in \\u escape");
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(str_cat("invalid escape '\\", e, "'"));
      }
    }
    if (!valid_utf8(out)) {
      pos_ = start;
      fail("string is not valid UTF-8");
    }
    return out;
  }

  Json number() {
    const size_t start = pos_;
    eat('-');
    if (eat('0')) {
      // no leading zeros
    } else {
      if (pos_ >= s_.size() || s_[pos_] < '1' || s_[pos_] > '9') fail("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    bool integer = true;
    if (eat('.')) {
      integer = false;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (!eat('+')) eat('-');
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    const std::string text = s_.substr(start, pos_ - start);
    if (integer) {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno == ERANGE) fail("integer out of the 64-bit range");
      return Json(static_cast<int64_t>(v));
    }
    return Json(std::strtod(text.c_str(), nullptr));
  }

  const std::string& s_;
  size_t pos_ = 0;
  int max_depth_;
};

Json Json::parse(const std::string& text, int max_depth) { return JsonParser(text, max_depth).parse_document(); }

}  // namespace vt
