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

// Optimal-string-alignment distance (insertions, deletions, substitutions, adjacent swaps); ties
// go to the candidate of closest length. python/eigennet/_names.py applies the same rule.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string key = registry_key(name);
  std::string best;
  std::pair<std::size_t, std::size_t> best_rank{std::max<std::size_t>(2, key.size() / 3) + 1, 0};
  for (const auto& candidate : candidates) {
    const std::string other = registry_key(candidate);
    const std::size_t n = key.size(), m = other.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
      for (std::size_t j = 1; j <= m; ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (key[i - 1] == other[j - 1] ? 0 : 1)});
        if (i > 1 && j > 1 && key[i - 1] == other[j - 2] && key[i - 2] == other[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    const std::pair<std::size_t, std::size_t> rank{d[n][m], n > m ? n - m : m - n};
    if (rank < best_rank) {
      best_rank = rank;
      best = candidate;
    }
  }
  return best;
}

}  // namespace eigennet
