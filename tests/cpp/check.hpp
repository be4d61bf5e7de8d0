// A minimal test harness for the C++ suite (no external framework).
//
//   TEST_CASE(name) { CHECK(cond); CHECK_NEAR(a, b, tol); CHECK_THROWS(expr, Type, "substring"); }
//   int main(int argc, char** argv) { return check::run(argc, argv); }
//
// Checks count failures and keep going; an exception escaping a test case counts as a failure too.
// run() returns nonzero when anything failed. Arguments select test cases by substring of their name.
#pragma once

#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace check {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

inline int& failures() {
  static int count = 0;
  return count;
}

inline int& checks() {
  static int count = 0;
  return count;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { cases().push_back({name, std::move(body)}); }
};

inline void report(const char* file, int line, const std::string& message) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, message.c_str());
}

template <typename T>
std::string show(const T& value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

inline bool near(double a, double b, double tolerance) {
  if (std::isnan(a) || std::isnan(b)) return false;
  return std::fabs(a - b) <= tolerance;
}

inline int run(int argc, char** argv) {
  int ran = 0;
  for (const auto& c : cases()) {
    bool selected = argc < 2;
    for (int i = 1; i < argc; ++i) selected = selected || std::string(c.name).find(argv[i]) != std::string::npos;
    if (!selected) continue;
    ++ran;
    const int before = failures();
    try {
      c.body();
    } catch (const std::exception& e) {
      report(__FILE__, __LINE__, std::string("test case ") + c.name + " threw: " + e.what());
    } catch (...) {
      report(__FILE__, __LINE__, std::string("test case ") + c.name + " threw a non-standard exception");
    }
    std::printf("[%s] %s\n", failures() == before ? "  ok  " : "FAILED", c.name);
  }
  std::printf("%d test cases, %d checks, %d failures\n", ran, checks(), failures());
  if (ran == 0) {
    std::fprintf(stderr, "no test case matched\n");
    return 2;
  }
  return failures() == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK_CONCAT_INNER(a, b) a##b
#define CHECK_CONCAT(a, b) CHECK_CONCAT_INNER(a, b)

#define TEST_CASE(name)                                                                 \
  static void CHECK_CONCAT(test_body_, name)();                                         \
  static const ::check::Registrar CHECK_CONCAT(test_registrar_, name)(#name,            \
                                                                      &CHECK_CONCAT(test_body_, name)); \
  static void CHECK_CONCAT(test_body_, name)()

#define CHECK(condition)                                                    \
  do {                                                                      \
    ++::check::checks();                                                    \
    if (!(condition)) ::check::report(__FILE__, __LINE__, "CHECK(" #condition ")"); \
  } while (0)

// Like CHECK, with a message (any expression streamable to std::ostream) shown on failure.
#define CHECK_MSG(condition, message)                                                               \
  do {                                                                                              \
    ++::check::checks();                                                                            \
    if (!(condition)) {                                                                             \
      std::ostringstream check_message_;                                                            \
      check_message_ << "CHECK(" #condition "): " << message;                                       \
      ::check::report(__FILE__, __LINE__, check_message_.str());                                    \
    }                                                                                               \
  } while (0)

#define CHECK_EQ(a, b)                                                                                     \
  do {                                                                                                     \
    ++::check::checks();                                                                                   \
    /* copies: `a` may return a reference into a temporary that dies with the full-expression */         \
    const auto check_a_ = (a);                                                                             \
    const auto check_b_ = (b);                                                                             \
    if (!(check_a_ == check_b_))                                                                           \
      ::check::report(__FILE__, __LINE__,                                                                  \
                      "CHECK_EQ(" #a ", " #b "): " + ::check::show(check_a_) + " != " + ::check::show(check_b_)); \
  } while (0)

#define CHECK_NEAR(a, b, tolerance)                                                                          \
  do {                                                                                                       \
    ++::check::checks();                                                                                     \
    const double check_a_ = static_cast<double>(a);                                                          \
    const double check_b_ = static_cast<double>(b);                                                          \
    if (!::check::near(check_a_, check_b_, (tolerance)))                                                     \
      ::check::report(__FILE__, __LINE__, "CHECK_NEAR(" #a ", " #b ", " #tolerance "): " +                   \
                                              ::check::show(check_a_) + " vs " + ::check::show(check_b_));   \
  } while (0)

// Checks that `expression` throws `Type` whose what() contains `substring` ("" accepts any message).
#define CHECK_THROWS(expression, Type, substring)                                                             \
  do {                                                                                                        \
    ++::check::checks();                                                                                      \
    bool check_thrown_ = false;                                                                               \
    try {                                                                                                     \
      (void)(expression);                                                                                     \
    } catch (const Type& check_error_) {                                                                      \
      check_thrown_ = true;                                                                                   \
      const std::string check_what_ = check_error_.what();                                                    \
      if (check_what_.find(substring) == std::string::npos)                                                   \
        ::check::report(__FILE__, __LINE__, "CHECK_THROWS(" #expression "): message \"" + check_what_ +       \
                                                "\" does not contain \"" + std::string(substring) + "\"");    \
    } catch (const std::exception& check_error_) {                                                            \
      check_thrown_ = true;                                                                                   \
      ::check::report(__FILE__, __LINE__, "CHECK_THROWS(" #expression "): threw another exception type: " +   \
                                              std::string(check_error_.what()));                              \
    }                                                                                                         \
    if (!check_thrown_)                                                                                       \
      ::check::report(__FILE__, __LINE__, "CHECK_THROWS(" #expression "): nothing thrown, expected " #Type); \
  } while (0)
