#include "exafold/features/rng.h"

namespace exafold::features {

namespace {

__extension__ typedef unsigned __int128 uint128;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t Philox::below(uint64_t stream, uint64_t index, uint64_t n) const {
  auto b = block(stream, index);
  uint64_t x = (uint64_t(b[0]) << 32) | b[1];
  return uint64_t(uint128(x) * n >> 64);
}

uint64_t structure_seed(std::string_view id, uint64_t run_seed) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64-bit offset basis and prime
  for (char c : id) {
    h ^= uint8_t(c);
    h *= 0x100000001b3ull;
  }
  return splitmix64(h ^ splitmix64(run_seed));
}

}  // namespace exafold::features
