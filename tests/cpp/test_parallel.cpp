// eigennet's worker threads (cpp/src/parallel.cpp): every item runs once, phases in order, the
// caller's denormal flushing in every thread, concurrent callers, and a child process after fork().
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <stdexcept>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include <eigennet/eigennet.hpp>

#include "check.hpp"
#include "helpers.hpp"
#include "parallel.hpp"
#include "product.hpp"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TEST_HAVE_MXCSR 1
#endif

using namespace eigennet;

namespace {

// Runs phases of the given sizes on `threads` threads; checks each item ran once and no item
// started before the phase before it had finished.
void check_phases(int threads, const std::vector<Index>& sizes) {
  std::vector<std::vector<std::atomic<int>>> runs;
  for (Index n : sizes) runs.emplace_back(static_cast<std::size_t>(n));
  std::vector<std::atomic<Index>> finished(sizes.size());
  std::atomic<int> out_of_order{0};
  auto items = [&](int phase) { return sizes[static_cast<std::size_t>(phase)]; };
  auto run = [&](int phase, Index item) {
    const auto p = static_cast<std::size_t>(phase);
    if (p > 0 && finished[p - 1].load() != sizes[p - 1]) out_of_order.fetch_add(1);
    // Uneven items, so threads overtake one another.
    if (item % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(30));
    runs[p][static_cast<std::size_t>(item)].fetch_add(1);
    finished[p].fetch_add(1);
  };
  parallel_phases(threads, static_cast<int>(sizes.size()), items, run);
  for (std::size_t p = 0; p < sizes.size(); ++p)
    for (auto& count : runs[p]) CHECK_EQ(count.load(), 1);
  CHECK_EQ(out_of_order.load(), 0);
}

unsigned current_flush_bits() {
#ifdef TEST_HAVE_MXCSR
  return _mm_getcsr() & 0x8040u;
#else
  return 0;
#endif
}

// Whether items ran on a thread other than the caller, and whether every item saw the caller's
// FTZ/DAZ bits.
struct Participation {
  bool helped = false;
  bool flush_everywhere = true;
};

Participation run_and_watch(int threads, unsigned expected_flush_bits) {
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> helped{false}, flush_everywhere{true};
  parallel_for(threads, 64, [&](Index) {
    if (std::this_thread::get_id() != caller) helped.store(true);
#ifdef TEST_HAVE_MXCSR
    if ((_mm_getcsr() & 0x8040u) != expected_flush_bits) flush_everywhere.store(false);
#else
    (void)expected_flush_bits;
#endif
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  });
  return {helped.load(), flush_everywhere.load()};
}

}  // namespace

TEST_CASE(every_item_runs_once_and_phases_run_in_order) {
  for (int threads : {1, 2, 3, 8}) {
    check_phases(threads, {40, 1, 0, 17, 64});
    check_phases(threads, {1});
    check_phases(threads, {0, 0});
  }
}

TEST_CASE(workers_help_and_take_the_callers_denormal_flushing) {
#ifdef TEST_HAVE_MXCSR
  const unsigned before = _mm_getcsr() & 0x8040u;
  CHECK_EQ(before, 0u);
  // 64 items of 100 us: a worker that has a core joins within the first few of them.
  bool helped = false, flush_everywhere = true;
  {
    const FlushDenormals flush;
    for (int attempt = 0; attempt < 50 && !helped; ++attempt) {
      const Participation p = run_and_watch(2, 0x8040u);
      helped = p.helped;
      flush_everywhere = flush_everywhere && p.flush_everywhere;
    }
  }
  CHECK(helped);
  CHECK(flush_everywhere);
  // And back off once the caller's mode is back off.
  const Participation after = run_and_watch(2, 0u);
  CHECK(after.flush_everywhere);
#endif
}

TEST_CASE(a_split_product_flushes_denormal_inputs_in_every_thread) {
#ifdef TEST_HAVE_MXCSR
  // 256 x 256 x 64 = 4.2M multiply-adds: split across threads. Every input of lhs is denormal, so
  // with DAZ every output is exactly 0, and without it each is 64e-39, a normal float.
  set_num_threads(2);
  const Matrix<float> lhs = Matrix<float>::Constant(256, 64, 1e-39f);
  const Matrix<float> rhs = Matrix<float>::Ones(64, 256);
  Matrix<float> out(256, 256);
  multiply(out, lhs, rhs);
  CHECK(out.minCoeff() > 6e-38f);
  for (int attempt = 0; attempt < 20; ++attempt) {
    const FlushDenormals flush;
    multiply(out, lhs, rhs);
    CHECK_EQ(out.cwiseAbs().maxCoeff(), 0.0f);
  }
  set_num_threads(1);
#endif
}

TEST_CASE(multiply_finishes_every_block_once_and_only_when_its_value_is_final) {
  // Shapes below the splitting threshold, split by rows, and split by rows and columns; each with
  // a depth of several cache panels or one.
  struct Shape {
    Index rows, depth, cols;
  };
  for (const Shape shape : {Shape{10, 7, 5}, Shape{512, 784, 32}, Shape{100, 2000, 300}, Shape{256, 64, 256}}) {
    const Matrix<float> lhs = Matrix<float>::Random(shape.rows, shape.depth);
    const Matrix<float> rhs = Matrix<float>::Random(shape.depth, shape.cols);
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      for (Update update : {Update::Assign, Update::Add}) {
        const Matrix<float> start = Matrix<float>::Random(shape.rows, shape.cols);
        Matrix<float> expected = start, out = start;
        multiply(expected, lhs, rhs, update);
        std::vector<std::atomic<int>> finished(static_cast<std::size_t>(shape.rows * shape.cols));
        std::atomic<int> early{0};
        multiply(out, lhs, rhs, update, [&](Index row, Index rows, Index col, Index cols) {
          for (Index j = col; j < col + cols; ++j)
            for (Index i = row; i < row + rows; ++i) {
              finished[static_cast<std::size_t>(j * shape.rows + i)].fetch_add(1);
              if (out(i, j) != expected(i, j)) early.fetch_add(1);
            }
        });
        CHECK_EQ(early.load(), 0);
        bool each_once = true;
        for (const auto& count : finished) each_once = each_once && count.load() == 1;
        CHECK(each_once);
        CHECK(helpers::same_bits(out, expected));
      }
    }
  }
  set_num_threads(1);
}

// Products above the splitting size with every kind of remainder: rows that end in every width of
// the kernel's row paths (3, 2 and 1 packets, half and quarter packets, single rows), columns that
// end in a partial group of 4, a depth of one cache panel or several, and transposed operands.
template <typename T>
void check_products_against_eigen() {
  struct Shape {
    Index rows, depth, cols;
  };
  for (const Shape shape : {Shape{143, 2000, 67}, Shape{61, 300, 1030}, Shape{512, 128, 784}}) {
    const Matrix<T> lhs = Matrix<T>::Random(shape.rows, shape.depth);
    const Matrix<T> rhs = Matrix<T>::Random(shape.depth, shape.cols);
    const Matrix<T> lhs_t = lhs.transpose(), rhs_t = rhs.transpose();
    const Matrix<double> exact = lhs.template cast<double>() * rhs.template cast<double>();
    const double tolerance = 4 * static_cast<double>(shape.depth) * std::numeric_limits<T>::epsilon();
    const Matrix<T> start = Matrix<T>::Random(shape.rows, shape.cols);
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      for (int transposes = 0; transposes < 4; ++transposes) {
        auto product = [&](Matrix<T>& out, Update update) {
          if (transposes == 0) multiply(out, lhs, rhs, update);
          if (transposes == 1) multiply(out, lhs_t.transpose(), rhs, update);
          if (transposes == 2) multiply(out, lhs, rhs_t.transpose(), update);
          if (transposes == 3) multiply(out, lhs_t.transpose(), rhs_t.transpose(), update);
        };
        // `=` never reads the old output: NaN there stays out of the result.
        Matrix<T> assigned = Matrix<T>::Constant(shape.rows, shape.cols, std::numeric_limits<T>::quiet_NaN());
        product(assigned, Update::Assign);
        CHECK((assigned.template cast<double>() - exact).cwiseAbs().maxCoeff() <= tolerance);
        // ... and gives the bits of adding the product to zeros.
        Matrix<T> added = Matrix<T>::Zero(shape.rows, shape.cols);
        product(added, Update::Add);
        CHECK(helpers::same_bits(assigned, added));
        // `+=` and `-=` keep the old output.
        Matrix<T> accumulated = start;
        product(accumulated, Update::Add);
        CHECK((accumulated.template cast<double>() - (start.template cast<double>() + exact)).cwiseAbs().maxCoeff() <=
              tolerance);
        Matrix<T> subtracted = start;
        product(subtracted, Update::Subtract);
        CHECK((subtracted.template cast<double>() - (start.template cast<double>() - exact)).cwiseAbs().maxCoeff() <=
              tolerance);
      }
    }
  }
  set_num_threads(1);
}

TEST_CASE(products_match_eigen_in_float64_and_assignment_never_reads_the_old_output) {
  check_products_against_eigen<float>();
  check_products_against_eigen<double>();
}

template <typename T>
void check_all_finite_finds(T bad) {
  // Sizes below and above the splitting size (65,536 values), ending inside a chunk or not.
  for (Index size : {Index(1), Index(1000), Index(1) << 20, (Index(3) << 20) + 12345}) {
    Vector<T> values = Vector<T>::Random(size) * T(1e30);
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      CHECK(all_finite(values));
      for (Index at : {Index(0), size / 2, size - 1, std::max<Index>(0, size - 12345)}) {
        const T kept = values[at];
        values[at] = bad;
        CHECK(!all_finite(values));
        CHECK(!all_finite(values.data(), size));
        values[at] = kept;
      }
    }
  }
  CHECK(all_finite(static_cast<const T*>(nullptr), 0));
  const Vector<T> extremes = (Vector<T>(3) << std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest(),
                              std::numeric_limits<T>::denorm_min()).finished();
  CHECK(all_finite(extremes));
  set_num_threads(1);
}

TEST_CASE(all_finite_finds_any_nan_or_infinity_on_any_thread_count) {
  check_all_finite_finds<float>(std::numeric_limits<float>::quiet_NaN());
  check_all_finite_finds<float>(-std::numeric_limits<float>::infinity());
  check_all_finite_finds<double>(std::numeric_limits<double>::infinity());
  check_all_finite_finds<double>(-std::numeric_limits<double>::quiet_NaN());
}

TEST_CASE(an_exception_from_an_item_reaches_the_caller_and_the_workers_stay_usable) {
  for (int threads : {1, 2}) {
    std::atomic<int> ran{0};
    bool thrown = false;
    try {
      parallel_for(threads, 200, [&](Index i) {
        ran.fetch_add(1);
        if (i == 150) throw std::runtime_error("item 150 failed");
      });
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "item 150 failed";
    }
    CHECK(thrown);
    CHECK_EQ(ran.load(), 200);
    check_phases(threads, {50, 50});
  }
}

TEST_CASE(concurrent_callers_all_finish_with_every_item_once) {
  set_num_threads(2);
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&wrong] {
      for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> seen(100);
        parallel_for(2, 100, [&](Index i) { seen[static_cast<std::size_t>(i)].fetch_add(1); });
        for (auto& s : seen)
          if (s.load() != 1) wrong.fetch_add(1);
      }
    });
  for (auto& t : callers) t.join();
  CHECK_EQ(wrong.load(), 0);
  set_num_threads(1);
}

TEST_CASE(a_forked_child_gets_workers_of_its_own) {
  check_phases(2, {32, 32});  // the parent's workers exist before the fork
  const pid_t child = fork();
  if (child == 0) {
    // The parent's workers do not exist here: only workers started in the child can help.
    std::atomic<int> sum{0};
    parallel_for(2, 1000, [&](Index i) { sum.fetch_add(static_cast<int>(i)); });
    bool helped = false;
    for (int attempt = 0; attempt < 50 && !helped; ++attempt) helped = run_and_watch(2, current_flush_bits()).helped;
    _exit(sum.load() == 999 * 1000 / 2 && helped ? 0 : 1);
  }
  CHECK(child > 0);
  int status = 0;
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 0);
}

int main(int argc, char** argv) { return check::run(argc, argv); }
