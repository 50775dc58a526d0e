// The order in which a block's threads run between synchronisation points, and where it comes
// from: EXAFOLD_EMULATION_SCHEDULE, or set_schedule() in tests of the emulation itself.
//
//   forward          a round-robin sweep in thread order: after a thread stops (at a barrier,
//                    a warp intrinsic or its end), the next runnable thread after it runs, so
//                    warps interleave at every synchronisation point
//   reverse          the same sweep from the last thread down
//   greedy           always the lowest-numbered runnable thread, so each thread (and each
//                    warp) runs as far as it can before the next one starts
//   greedy-reverse   always the highest-numbered runnable thread
//   random[:SEED]    a runnable thread drawn at random each time, reproducibly from SEED
//                    (default 1), the launch's sequence number and the block
//
// A race between threads of a block shows as a wrong result under the orders that run the
// writer after the reader; docs/gpu.md lists which order catches what.
#pragma once

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include "emulation/fiber.h"

namespace exafold::emulation {

enum class Order : uint8_t { forward, reverse, greedy, greedy_reverse, random };

struct Schedule {
  Order order = Order::forward;
  uint64_t seed = 1;
};

inline const char* order_name(Order o) {
  switch (o) {
    case Order::forward:
      return "forward";
    case Order::reverse:
      return "reverse";
    case Order::greedy:
      return "greedy";
    case Order::greedy_reverse:
      return "greedy-reverse";
    case Order::random:
      return "random";
  }
  return "?";
}

/// Parses "forward", "reverse", "greedy", "greedy-reverse", "random" or "random:SEED"; false
/// for anything else.
inline bool parse_schedule(std::string_view s, Schedule& out) {
  Schedule r;
  if (s == "forward") {
    r.order = Order::forward;
  } else if (s == "reverse") {
    r.order = Order::reverse;
  } else if (s == "greedy") {
    r.order = Order::greedy;
  } else if (s == "greedy-reverse") {
    r.order = Order::greedy_reverse;
  } else if (s == "random") {
    r.order = Order::random;
  } else if (s.substr(0, 7) == "random:") {
    r.order = Order::random;
    const std::string_view digits = s.substr(7);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), r.seed);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return false;
  } else {
    return false;
  }
  out = r;
  return true;
}

namespace detail {

inline std::mutex& schedule_mutex() {
  static std::mutex mu;
  return mu;
}
inline Schedule& schedule_slot() {
  static Schedule s = [] {
    Schedule from_env;
    const char* env = std::getenv("EXAFOLD_EMULATION_SCHEDULE");
    if (env && *env && !parse_schedule(env, from_env)) {
      std::fprintf(stderr,
                   "exafold CUDA emulation: EXAFOLD_EMULATION_SCHEDULE='%s' is not one of forward, "
                   "reverse, greedy, greedy-reverse, random, random:SEED\n",
                   env);
      std::abort();
    }
    return from_env;
  }();
  return s;
}

}  // namespace detail

/// The schedule launches use now.
inline Schedule schedule() {
  std::lock_guard lk(detail::schedule_mutex());
  return detail::schedule_slot();
}

/// For tests of the emulation: the schedule of the launches that follow.
inline void set_schedule(Schedule s) {
  std::lock_guard lk(detail::schedule_mutex());
  detail::schedule_slot() = s;
}

/// splitmix64: the random order's generator, seeded per block so that a block's order does not
/// depend on which worker runs it or when.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

}  // namespace exafold::emulation
