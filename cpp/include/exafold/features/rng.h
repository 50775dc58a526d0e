// The feature pipeline's random generator: one counter-based stream family per structure.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace exafold::features {

/// Note [Feature randomness]: every random choice of the processed features comes from one
/// Philox4x32-10 generator per structure (Salmon et al., "Parallel random numbers: as easy as
/// 1, 2, 3", SC'11; the generator of TensorFlow, JAX and cuRAND). Philox is counter-based: a
/// block of 128 random bits is a pure function of the 64-bit key and a 128-bit counter, so a
/// draw is addressed, not sequenced. Counter = (index, stream): `stream` names the recycling
/// iteration and the purpose (row order, masked-MSA positions, extra-MSA crop), `index` the
/// element. Draws can be made in any order on any number of threads and the features are
/// bit-identical on every machine. The key is structure_seed(sequence id, run seed).
class Philox {
 public:
  explicit Philox(uint64_t key) : k0_(uint32_t(key)), k1_(uint32_t(key >> 32)) {}

  /// 128 random bits for counter (index, stream). Inline: the feature pipeline calls it per
  /// MSA position.
  std::array<uint32_t, 4> block(uint64_t stream, uint64_t index) const {
    // Round multipliers and Weyl key increments from the paper.
    constexpr uint32_t kMulA = 0xD2511F53u, kMulB = 0xCD9E8D57u;
    constexpr uint32_t kWeylA = 0x9E3779B9u, kWeylB = 0xBB67AE85u;
    uint32_t c0 = uint32_t(index), c1 = uint32_t(index >> 32);
    uint32_t c2 = uint32_t(stream), c3 = uint32_t(stream >> 32);
    uint32_t k0 = k0_, k1 = k1_;
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = uint64_t(kMulA) * c0, p1 = uint64_t(kMulB) * c2;
      c0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
      c1 = uint32_t(p1);
      c2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
      c3 = uint32_t(p0);
      k0 += kWeylA;
      k1 += kWeylB;
    }
    return {c0, c1, c2, c3};
  }

  /// Uniform integer in [0, n) from the block's first 64 bits (multiply-shift; bias below
  /// n / 2^64, far under anything observable).
  uint64_t below(uint64_t stream, uint64_t index, uint64_t n) const;

 private:
  uint32_t k0_, k1_;
};

/// A structure's 64-bit seed: FNV-1a over the id's bytes, combined with `run_seed` by two
/// SplitMix64 finalisers. Stable across platforms, compilers, runs and thread counts.
uint64_t structure_seed(std::string_view id, uint64_t run_seed);

/// A double in [0, 1) from 53 of the given 64 bits.
inline double unit_double(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * 0x1p-53;
}

}  // namespace exafold::features
