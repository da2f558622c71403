// Errors in two tiers (core/README.md, "Conventions"). A user-facing precondition that fails throws vt::Error whose
// message names the op and the offending shapes or values; an internal invariant that fails
// throws vt::InternalError with file:line. Nothing in the library calls exit or abort: only
// apps/ decides to stop the process.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace vt {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Concatenate anything streamable into one string: str_cat("matmul: ", 3, " != ", 4).
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// printf into a std::string (for aligned tables): str_printf("%-8s %6.2f", name, value).
std::string str_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace vt

// VT_CHECK(cond, pieces...): precondition; the pieces form the message.
#define VT_CHECK(cond, ...)                                     \
  do {                                                          \
    if (!(cond)) throw ::vt::Error(::vt::str_cat(__VA_ARGS__)); \
  } while (0)

// VT_ASSERT(cond): internal invariant; reports where it broke.
#define VT_ASSERT(cond)                                                                                          \
  do {                                                                                                           \
    if (!(cond))                                                                                                 \
      throw ::vt::InternalError(::vt::str_cat(__FILE__, ":", __LINE__, ": internal invariant failed: ", #cond)); \
  } while (0)
