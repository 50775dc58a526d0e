#include "exafold/features/rng.h"

namespace exafold::features {

namespace {

// Philox4x32 round constants (multipliers and Weyl key increments) from the paper.
constexpr uint32_t kMulA = 0xD2511F53u, kMulB = 0xCD9E8D57u;
constexpr uint32_t kWeylA = 0x9E3779B9u, kWeylB = 0xBB67AE85u;
constexpr int kRounds = 10;

__extension__ typedef unsigned __int128 uint128;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::array<uint32_t, 4> Philox::block(uint64_t stream, uint64_t index) const {
  uint32_t c0 = uint32_t(index), c1 = uint32_t(index >> 32);
  uint32_t c2 = uint32_t(stream), c3 = uint32_t(stream >> 32);
  uint32_t k0 = k0_, k1 = k1_;
  for (int r = 0; r < kRounds; ++r) {
    uint64_t p0 = uint64_t(kMulA) * c0, p1 = uint64_t(kMulB) * c2;
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeylA;
    k1 += kWeylB;
  }
  return {c0, c1, c2, c3};
}

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
