#include "eigennet/activation.hpp"

#include <algorithm>
#include <cctype>

namespace eigennet {

std::string registry_key(const std::string& name) {
  std::string key;
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ') continue;
    key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return key;
}

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string key = registry_key(name);
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const std::string other = registry_key(candidate);
    std::vector<std::size_t> row(other.size() + 1);
    for (std::size_t j = 0; j <= other.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= key.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= other.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (key[i - 1] == other[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[other.size()] < best_distance) {
      best_distance = row[other.size()];
      best = candidate;
    }
  }
  return best;
}

}  // namespace eigennet
