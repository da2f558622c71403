// A small, strict JSON value type: parse (RFC 8259, UTF-8 validated, duplicate keys rejected,
// nesting depth bounded) and compact serialisation. Used for safetensors headers, log.txt lines
// and report files. Objects keep their insertion order, so output is reproducible byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vt {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;  // null
  Json(bool b) : type_(Type::kBool), bool_(b) {}
  Json(int v) : Json(static_cast<int64_t>(v)) {}
  Json(int64_t v) : type_(Type::kNumber), num_(static_cast<double>(v)), int_(v), is_int_(true) {}
  Json(uint64_t v) : Json(static_cast<int64_t>(v)) {}
  Json(double v) : type_(Type::kNumber), num_(v) {}
  Json(const char* s) : type_(Type::kString), str_(s) {}
  Json(std::string s) : type_(Type::kString), str_(std::move(s)) {}
  static Json array() { return Json(Type::kArray); }
  static Json object() { return Json(Type::kObject); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_integer() const { return type_ == Type::kNumber && is_int_; }

  // Accessors throw vt::Error naming `what` when the type does not match.
  bool as_bool(const char* what = "value") const;
  double as_double(const char* what = "value") const;
  int64_t as_int(const char* what = "value") const;  // integers only (no fraction, no exponent)
  const std::string& as_string(const char* what = "value") const;
  const std::vector<Json>& items(const char* what = "value") const;                            // array
  const std::vector<std::pair<std::string, Json>>& members(const char* what = "value") const;  // object

  // Object access: find returns null if absent; set appends or replaces.
  const Json* find(const std::string& key) const;
  Json& set(const std::string& key, Json value);
  Json& push(Json value);  // array append
  size_t size() const;

  std::string dump() const;  // compact: {"a":1,"b":[2,3]}

  // Parses exactly one JSON value (surrounding whitespace allowed); throws vt::Error with the
  // byte offset of the problem. Duplicate object keys are an error.
  static Json parse(const std::string& text, int max_depth = 64);

 private:
  explicit Json(Type t) : type_(t) {}
  Type type_ = Type::kNull;
  bool bool_ = false;
  double num_ = 0;
  int64_t int_ = 0;
  bool is_int_ = false;
  std::string str_;
  std::vector<Json> arr_;
  std::vector<std::pair<std::string, Json>> obj_;
  friend class JsonParser;
};

// Escapes a string as a JSON string literal, quotes included.
std::string json_quote(const std::string& s);
// True when s is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(const std::string& s);

}  // namespace vt
