// All error raising: fail()/check() and the exception hierarchy the bindings translate once.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace exafold {

/// Base of every exafold exception; reaches Python as RuntimeError unless a subclass says
/// otherwise.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The caller passed something unusable (bad shape, bad file content, bad option) -> ValueError.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// An allocation could not be satisfied -> MemoryError.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

/// A file or stream could not be read or written -> OSError.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A broken internal invariant (a bug in exafold, never the caller's fault) -> RuntimeError.
class InternalError : public Error {
 public:
  using Error::Error;
};

template <class... Args>
std::string cat(const Args&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

/// Throws E with the parts joined; quote the offending value in the parts.
template <class E = InvalidArgument, class... Args>
[[noreturn]] [[gnu::cold]] void fail(const Args&... parts) {
  throw E(cat(parts...));
}

/// fail<E>(parts...) unless ok. The parts are only formatted on failure.
template <class E = InvalidArgument, class... Args>
inline void check(bool ok, const Args&... parts) {
  if (!ok) [[unlikely]]
    fail<E>(parts...);
}

}  // namespace exafold

/// Internal invariants: a failure is a bug in exafold, reported with its location.
#define EXAFOLD_ASSERT(cond)                                                                   \
  ::exafold::check<::exafold::InternalError>(static_cast<bool>(cond), __FILE__, ":", __LINE__, \
                                             ": internal assertion failed: ", #cond)
