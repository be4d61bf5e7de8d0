// A small JSON value with a strict parser and a writer, used for layer configurations and the
// model file header. Numbers are doubles (configurations never need more); object keys keep
// their insertion order so that written files are stable and readable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace eigennet {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double d) : type_(Type::Number), number_(d) {}
  Json(int i) : type_(Type::Number), number_(i) {}
  Json(long i) : type_(Type::Number), number_(static_cast<double>(i)) {}
  Json(long long i) : type_(Type::Number), number_(static_cast<double>(i)) {}
  Json(unsigned long i) : type_(Type::Number), number_(static_cast<double>(i)) {}
  Json(unsigned long long i) : type_(Type::Number), number_(static_cast<double>(i)) {}
  Json(const char* s) : type_(Type::String), string_(s) {}
  Json(std::string s) : type_(Type::String), string_(std::move(s)) {}
  Json(Array a) : type_(Type::Array), array_(std::move(a)) {}
  Json(Object o) : type_(Type::Object), object_(std::move(o)) {}

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_object() const { return type_ == Type::Object; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_bool() const { return type_ == Type::Bool; }

  // Typed accessors throw FormatError naming `what` when the type does not match.
  double as_number(const std::string& what = "value") const;
  std::int64_t as_int(const std::string& what = "value") const;
  bool as_bool(const std::string& what = "value") const;
  const std::string& as_string(const std::string& what = "value") const;
  const Array& as_array(const std::string& what = "value") const;
  const Object& as_object(const std::string& what = "value") const;

  // Object access. `set` replaces an existing key or appends.
  bool contains(const std::string& key) const;
  const Json* find(const std::string& key) const;
  const Json& at(const std::string& key) const;  // FormatError if missing
  Json& set(const std::string& key, Json value);
  void push_back(Json value);

  // Convenience readers with defaults for optional configuration fields.
  double number_or(const std::string& key, double fallback) const;
  std::string string_or(const std::string& key, const std::string& fallback) const;
  bool bool_or(const std::string& key, bool fallback) const;

  std::string dump() const;
  // Parses a complete document; throws FormatError on any syntax error or trailing data.
  // Depth is bounded so that hostile input cannot exhaust the stack.
  static Json parse(const std::string& text);

  bool operator==(const Json& other) const;
  bool operator!=(const Json& other) const { return !(*this == other); }

 private:
  void dump_to(std::string& out) const;

  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  Array array_;
  Object object_;
};

}  // namespace eigennet
