// Matrix aliases shared by the whole core.
//
// Samples are columns and storage is column-major, so a C-contiguous NumPy array of shape
// (n_samples, n_features) maps with zero copies onto an (n_features x n_samples) matrix.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace eigennet {

using Index = Eigen::Index;

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <typename T>
using MatMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatMap = Eigen::Map<const Matrix<T>>;
template <typename T>
using VecMap = Eigen::Map<Vector<T>>;
template <typename T>
using ConstVecMap = Eigen::Map<const Vector<T>>;

// A block of a column-major matrix: columns of `rows` contiguous elements, `outerStride()` apart.
template <typename T>
using BlockMap = Eigen::Map<Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using ConstBlockMap = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// A read-only view of the same memory (Eigen has no implicit Map -> Map<const> conversion).
template <typename T>
ConstMatMap<T> as_const(const MatMap<T>& m) {
  return ConstMatMap<T>(m.data(), m.rows(), m.cols());
}

// A buffer preallocated for the largest batch: the first `cols` columns are contiguous, so a
// smaller (last) batch is a view of the same memory rather than a reallocation.
template <typename T>
class BatchBuffer {
 public:
  void reserve(Index rows, Index max_cols) {
    if (rows != rows_ || max_cols > max_cols_) {
      storage_.resize(rows * max_cols);
      rows_ = rows;
      max_cols_ = max_cols;
    }
  }
  MatMap<T> view(Index cols) { return MatMap<T>(storage_.data(), rows_, cols); }
  ConstMatMap<T> view(Index cols) const { return ConstMatMap<T>(storage_.data(), rows_, cols); }
  Index rows() const { return rows_; }
  Index capacity() const { return max_cols_; }

 private:
  Vector<T> storage_;
  Index rows_ = 0;
  Index max_cols_ = 0;
};

}  // namespace eigennet
