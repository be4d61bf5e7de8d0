// Shared helpers for the C++ tests: temporary files, byte-level file access, random data and a
// central-difference gradient check.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <eigennet/eigennet.hpp>

#include "check.hpp"

namespace helpers {

using eigennet::ConstMatMap;
using eigennet::Index;
using eigennet::Matrix;
using eigennet::Network;
using eigennet::Vector;

// A fresh directory under the system temporary directory, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("eigennet-cpp-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A model file split into its three parts: the header JSON and the data section.
struct ModelFile {
  eigennet::Json header;
  std::string payload;

  static ModelFile read(const std::string& path) {
    const std::string bytes = read_bytes(path);
    std::uint64_t length = 0;
    for (int i = 0; i < 8; ++i) length |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    ModelFile file;
    file.header = eigennet::Json::parse(bytes.substr(8, length));
    file.payload = bytes.substr(8 + length);
    return file;
  }

  // Writes the (possibly edited) parts back with a correct length prefix.
  void write(const std::string& path) const { write_bytes(path, bytes_with_header(header.dump())); }

  std::string bytes_with_header(const std::string& text) const {
    std::string out(8, '\0');
    const std::uint64_t length = text.size();
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
    return out + text + payload;
  }

  // Replaces one field of one tensor entry (or of __metadata__).
  void set_field(const std::string& entry_name, const std::string& field, eigennet::Json value) {
    eigennet::Json entry = header.at(entry_name);
    entry.set(field, std::move(value));
    header.set(entry_name, entry);
  }

  std::pair<std::int64_t, std::int64_t> offsets(const std::string& tensor) const {
    const auto& o = header.at(tensor).at("data_offsets").as_array();
    return {o[0].as_int(), o[1].as_int()};
  }
};

inline eigennet::Json offsets_json(std::int64_t begin, std::int64_t end) {
  eigennet::Json o = eigennet::Json::array();
  o.push_back(static_cast<long long>(begin));
  o.push_back(static_cast<long long>(end));
  return o;
}

template <typename T>
Matrix<T> uniform_matrix(Index rows, Index cols, eigennet::Rng& rng, double low = -1.0, double high = 1.0) {
  Matrix<T> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<T>(rng.uniform(low, high));
  return m;
}

// One column per sample with a single 1 at the sample's class.
template <typename T>
Matrix<T> one_hot(const std::vector<int>& labels, Index classes) {
  Matrix<T> m = Matrix<T>::Zero(classes, static_cast<Index>(labels.size()));
  for (std::size_t j = 0; j < labels.size(); ++j) m(labels[j], static_cast<Index>(j)) = T(1);
  return m;
}

template <typename T>
ConstMatMap<T> view(const Matrix<T>& m) {
  return ConstMatMap<T>(m.data(), m.rows(), m.cols());
}

template <typename T>
Matrix<T> predict(const Network<T>& net, const Matrix<T>& X) {
  Matrix<T> out(net.output_dim(), X.cols());
  net.predict(view(X), eigennet::MatMap<T>(out.data(), out.rows(), out.cols()));
  return out;
}

template <typename T>
bool same_bits(const Vector<T>& a, const Vector<T>& b) {
  return a.size() == b.size() && std::equal(a.data(), a.data() + a.size(), b.data());
}

template <typename T>
bool same_bits(const Matrix<T>& a, const Matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && std::equal(a.data(), a.data() + a.size(), b.data());
}

struct GradientCheckResult {
  double worst_relative = 0;  // over the parameters whose gradients are not negligible
  double worst_absolute = 0;
  Index checked = 0;
};

// Compares compute_gradients with central differences of score, parameter by parameter.
// Relative error |a - n| / (|a| + |n|); entries where both are below `negligible` in absolute value
// are judged by their absolute difference instead (their relative error is all rounding noise).
inline GradientCheckResult gradient_check(Network<double>& net, const Matrix<double>& X, const Matrix<double>& Y,
                                          double step = 1e-5, double negligible = 1e-7) {
  net.compute_gradients(view(X), view(Y));
  const Vector<double> analytic = net.gradients();
  auto params = net.params();
  GradientCheckResult result;
  for (Index i = 0; i < params.size(); ++i) {
    const double original = params[i];
    params[i] = original + step;
    const double plus = net.score(view(X), view(Y));
    params[i] = original - step;
    const double minus = net.score(view(X), view(Y));
    params[i] = original;
    const double numeric = (plus - minus) / (2 * step);
    const double difference = std::fabs(analytic[i] - numeric);
    result.worst_absolute = std::max(result.worst_absolute, difference);
    if (std::fabs(analytic[i]) < negligible && std::fabs(numeric) < negligible) continue;
    const double relative = difference / (std::fabs(analytic[i]) + std::fabs(numeric));
    result.worst_relative = std::max(result.worst_relative, relative);
    ++result.checked;
  }
  return result;
}

}  // namespace helpers
