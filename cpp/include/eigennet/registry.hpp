// A name -> factory table shared by activations and losses (built-in and user-registered).
// Lookup is case-insensitive and ignores '_' and '-', so "LEAKYRELU", "leaky_relu" and
// "LeakyReLU" name the same thing; unknown names fail with a "did you mean" suggestion.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "eigennet/errors.hpp"
#include "eigennet/json.hpp"

namespace eigennet {

std::string registry_key(const std::string& name);
// The registered name closest to `name` by edit distance, or "" when nothing is close.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

template <typename Product>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Product>(const Json& config)>;

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Registering an existing name replaces it (so a user can re-register a custom function).
  void add(const std::string& name, Factory factory) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[registry_key(name)] = Entry{name, std::move(factory)};
  }

  bool contains(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.count(registry_key(name)) != 0;
  }

  // `config` is a name string or an object {"name": ..., parameters...}.
  std::unique_ptr<Product> create(const Json& config) const {
    const std::string name = config.is_string() ? config.as_string() : config.at("name").as_string(kind_ + " name");
    Factory factory;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = entries_.find(registry_key(name));
      if (it == entries_.end()) {
        std::vector<std::string> known;
        for (const auto& kv : entries_) known.push_back(kv.second.display_name);
        std::string hint = closest_name(name, known);
        fail("unknown " + kind_ + " \"" + name + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
      }
      factory = it->second.factory;
    }
    return factory(config.is_string() ? Json::object() : config);
  }

  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.second.display_name);
    return out;
  }

 private:
  struct Entry {
    std::string display_name;
    Factory factory;
  };
  std::string kind_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace eigennet
