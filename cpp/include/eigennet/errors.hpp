// Error types. Bad arguments throw std::invalid_argument (a ValueError in Python); a bad model
// file throws FormatError, which Python sees as eigennet.FormatError, a ValueError subclass.
#pragma once

#include <stdexcept>
#include <string>

namespace eigennet {

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised when a callback asks training to stop early (e.g. Ctrl-C seen between batches).
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("training interrupted") {}
};

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

// Throws std::invalid_argument with `message` unless `condition` holds. A macro, so that the
// message (usually built with string concatenation) is only evaluated on failure: checks on the
// training path must not allocate when they pass.
#define EIGENNET_REQUIRE(condition, message) \
  do {                                       \
    if (!(condition)) ::eigennet::fail(message); \
  } while (false)

}  // namespace eigennet
