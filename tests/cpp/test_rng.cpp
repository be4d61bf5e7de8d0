// Rng: a fixed, reproducible stream (saved models resume it), uniform in [0, 1), sane normals.
#include <eigennet/errors.hpp>
#include <eigennet/rng.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"

using eigennet::FormatError;
using eigennet::Rng;

TEST_CASE(rng_matches_reference_xoshiro256starstar) {
  // xoshiro256** seeded with four splitmix64 outputs; the values come from an independent
  // implementation. A change here would silently change every seeded model.
  Rng zero(0);
  const std::uint64_t expected_zero[] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
                                         0x6aa594f1262d2d2cULL};
  for (std::uint64_t e : expected_zero) CHECK_EQ(zero.next_u64(), e);
  Rng answer(42);
  const std::uint64_t expected_42[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
                                       0xecb8ad4703b360a1ULL};
  for (std::uint64_t e : expected_42) CHECK_EQ(answer.next_u64(), e);
}

TEST_CASE(rng_same_seed_gives_same_stream) {
  Rng a(12345), b(12345), c(12346);
  bool all_equal = true, any_differs_from_other_seed = false;
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t x = a.next_u64();
    all_equal = all_equal && x == b.next_u64();
    any_differs_from_other_seed = any_differs_from_other_seed || x != c.next_u64();
  }
  CHECK(all_equal);
  CHECK(any_differs_from_other_seed);
  // Mixed draws stay in step too, and reseeding restarts the stream.
  Rng d(7), e(7);
  for (int i = 0; i < 1000; ++i) {
    CHECK_EQ(d.normal(), e.normal());
    CHECK_EQ(d.uniform(), e.uniform());
    CHECK_EQ(d.below(17), e.below(17));
  }
  Rng f(99);
  const double first = f.uniform();
  f.uniform();
  f.normal();
  f.reseed(99);
  CHECK_EQ(f.uniform(), first);
}

TEST_CASE(rng_serialize_resumes_the_stream) {
  Rng original(2024);
  for (int i = 0; i < 37; ++i) original.next_u64();
  original.normal();  // leaves a spare normal pending: it must survive the round trip
  const std::string state = original.serialize();

  std::vector<double> expected;
  for (int i = 0; i < 500; ++i) {
    expected.push_back(original.normal());
    expected.push_back(original.uniform());
    expected.push_back(static_cast<double>(original.below(1000)));
  }

  Rng restored(1);  // a different seed, overwritten by the state
  restored.deserialize(state);
  CHECK_EQ(restored.serialize(), state);
  bool same = true;
  for (std::size_t i = 0; i < expected.size(); i += 3) {
    same = same && restored.normal() == expected[i];
    same = same && restored.uniform() == expected[i + 1];
    same = same && static_cast<double>(restored.below(1000)) == expected[i + 2];
  }
  CHECK(same);

  // A state without a pending spare round-trips as well.
  Rng plain(5);
  Rng copy(0);
  copy.deserialize(plain.serialize());
  for (int i = 0; i < 100; ++i) CHECK_EQ(copy.next_u64(), plain.next_u64());
}

TEST_CASE(rng_deserialize_rejects_bad_state) {
  Rng rng(3);
  const std::string good = rng.serialize();
  CHECK_THROWS(rng.deserialize(""), FormatError, "bad random state");
  CHECK_THROWS(rng.deserialize("hello"), FormatError, "bad random state");
  CHECK_THROWS(rng.deserialize(good + " extra"), FormatError, "bad random state");
  CHECK_THROWS(rng.deserialize(good.substr(0, good.size() / 2)), FormatError, "bad random state");
  // An all-zero xoshiro state would output zeros forever.
  CHECK_THROWS(rng.deserialize("0 0 0 0 0 0"), FormatError, "bad random state");
  CHECK_THROWS(rng.deserialize("1 2 3 4 2 0"), FormatError, "bad random state");
  // The failed attempts left the generator untouched.
  CHECK_EQ(rng.serialize(), good);
}

TEST_CASE(rng_uniform_lies_in_unit_interval) {
  Rng rng(11);
  double low = 1, high = 0, sum = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    low = std::min(low, u);
    high = std::max(high, u);
    sum += u;
  }
  CHECK(low >= 0.0);
  CHECK(high < 1.0);
  CHECK(low < 1e-5);
  CHECK(high > 1 - 1e-5);
  CHECK_NEAR(sum / n, 0.5, 0.002);  // standard error 0.0003
  for (int i = 0; i < 10000; ++i) {
    const double v = rng.uniform(-3.0, 2.0);
    CHECK(v >= -3.0 && v < 2.0);
  }
}

TEST_CASE(rng_below_is_in_range_and_unbiased) {
  Rng rng(8);
  CHECK_EQ(rng.below(1), std::uint64_t(0));
  std::vector<int> counts(10, 0);
  const int n = 200000;
  bool in_range = true;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t k = rng.below(10);
    in_range = in_range && k < 10;
    if (k < 10) ++counts[k];
  }
  CHECK(in_range);
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  CHECK_MSG(chi2 < 30.0, "chi-square " << chi2 << " over 9 degrees of freedom");  // p < 0.0005
  const std::uint64_t huge = (std::uint64_t(1) << 63) + 12345;
  for (int i = 0; i < 1000; ++i) CHECK(rng.below(huge) < huge);
}

TEST_CASE(rng_normal_has_mean_zero_and_unit_std) {
  Rng rng(31337);
  const int n = 100000;
  double sum = 0, sum_sq = 0, sum_cube = 0;
  int beyond_two = 0;
  bool finite = true;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    finite = finite && std::isfinite(z);
    sum += z;
    sum_sq += z * z;
    sum_cube += z * z * z;
    beyond_two += std::fabs(z) > 2.0;
  }
  CHECK(finite);
  const double mean = sum / n;
  const double stddev = std::sqrt(sum_sq / n - mean * mean);
  CHECK_NEAR(mean, 0.0, 0.015);    // standard error 0.003
  CHECK_NEAR(stddev, 1.0, 0.015);  // standard error 0.0022
  CHECK_NEAR(sum_cube / n, 0.0, 0.05);
  CHECK_NEAR(beyond_two / static_cast<double>(n), 0.0455, 0.004);

  Rng shifted(5);
  double shifted_sum = 0;
  for (int i = 0; i < n; ++i) shifted_sum += shifted.normal(3.0, 0.5);
  CHECK_NEAR(shifted_sum / n, 3.0, 0.01);
}

int main(int argc, char** argv) { return check::run(argc, argv); }
