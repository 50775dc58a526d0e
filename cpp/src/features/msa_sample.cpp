#include "exafold/features/msa_sample.h"

#include <algorithm>
#include <numeric>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"
#include "exafold/features/alphabet.h"

namespace exafold::features {

namespace {

// Philox streams of one iteration (Note [Feature randomness]).
enum Purpose : uint64_t { kRowOrder = 1, kMaskedPositions = 2, kReplacements = 3, kExtraCrop = 4 };
uint64_t stream_of(int iteration, Purpose p) { return (uint64_t(iteration) << 8) | p; }

int64_t num_clusters(const PreparedMsa& msa, const ProcessConfig& config) {
  return std::min(config.max_clusters, msa.num_rows);
}

int64_t num_extra(const PreparedMsa& msa, const ProcessConfig& config) {
  return std::min(config.max_extra, msa.num_rows - num_clusters(msa, config));
}

// The first k steps of a Fisher-Yates shuffle of v: v[0, k) is a uniformly random ordered
// k-subset.
void partial_shuffle(std::vector<int32_t>& v, size_t first, size_t k, const Philox& rng,
                     uint64_t stream) {
  const size_t n = v.size() - first;
  for (size_t i = 0; i < k && i + 1 < n; ++i) {
    size_t j = i + size_t(rng.below(stream, i, n - i));
    std::swap(v[first + i], v[first + j]);
  }
}

// The masked-MSA replacement distribution without its "same residue" term, cumulative per
// column: cdf[j * 22 + a] = P(class <= a) over uniform_prob * U(20 amino acids) +
// profile_prob * profile[j]. The remaining mass is the mask token's.
std::vector<double> replacement_cdf(const PreparedMsa& msa, const ProcessConfig& c) {
  std::vector<double> cdf(size_t(msa.num_res) * 22);
  for (int64_t j = 0; j < msa.num_res; ++j) {
    double acc = 0.0;
    for (int a = 0; a <= kGapRestype; ++a) {
      acc += (a < kNumRestypes ? c.uniform_prob / kNumRestypes : 0.0) +
             c.profile_prob * double(msa.profile[size_t(j * 22 + a)]);
      cdf[size_t(j * 22 + a)] = acc;
    }
  }
  return cdf;
}

// The replacement of a position holding `residue` for a uniform draw u in [0, 1): the first
// class whose cumulative probability (with same_prob added from `residue` on) exceeds u.
int8_t replacement(double u, int residue, const double* cdf, double same_prob) {
  for (int a = 0; a <= kGapRestype; ++a)
    if (u < cdf[a] + (a >= residue ? same_prob : 0.0)) return int8_t(a);
  return int8_t(kMaskToken);
}

}  // namespace

MsaSample draw_msa_sample(const Philox& rng, int iteration, const PreparedMsa& msa,
                          const ProcessConfig& config) {
  config.validate();
  const int64_t R = msa.num_rows, L = msa.num_res;
  const int64_t S = num_clusters(msa, config), E = num_extra(msa, config);
  MsaSample s;

  s.order.resize(size_t(R));
  std::iota(s.order.begin(), s.order.end(), 0);
  partial_shuffle(s.order, 1, size_t(R - 1), rng, stream_of(iteration, kRowOrder));

  // Position p is masked when word p % 4 of block p / 4 falls below replace_fraction; a masked
  // position's replacement comes from block p of its own stream.
  s.bert.assign(size_t(S * L), -1);
  const uint64_t positions = stream_of(iteration, kMaskedPositions);
  const uint64_t replacements = stream_of(iteration, kReplacements);
  const double threshold = config.replace_fraction * 0x1p32;
  const std::vector<double> cdf = replacement_cdf(msa, config);
  thread_pool().parallel_for((S * L + 3) / 4, 1024, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const auto words = rng.block(positions, uint64_t(q));
      for (int64_t k = 0; k < 4; ++k) {
        const int64_t p = q * 4 + k;
        if (p >= S * L || double(words[size_t(k)]) >= threshold) continue;
        const int64_t c = p / L, j = p % L;
        const uint8_t residue = msa.msa[size_t(int64_t(s.order[size_t(c)]) * L + j)];
        const auto r = rng.block(replacements, uint64_t(p));
        s.bert[size_t(p)] =
            replacement(unit_double(r[0], r[1]), residue, cdf.data() + j * 22, config.same_prob);
      }
    }
  });

  s.extra.resize(size_t(R - S));
  std::iota(s.extra.begin(), s.extra.end(), 0);
  partial_shuffle(s.extra, 0, size_t(E), rng, stream_of(iteration, kExtraCrop));
  s.extra.resize(size_t(E));
  return s;
}

void validate_msa_sample(const MsaSample& sample, const PreparedMsa& msa,
                         const ProcessConfig& config) {
  const int64_t R = msa.num_rows, L = msa.num_res;
  const int64_t S = num_clusters(msa, config), E = num_extra(msa, config);
  check(int64_t(sample.order.size()) == R, "sample order has ", sample.order.size(),
        " rows, the MSA ", R);
  check(sample.order[0] == 0, "sample order must start with the query (row 0), got ",
        sample.order[0]);
  std::vector<bool> seen(size_t(R), false);
  for (int32_t r : sample.order) {
    check(r >= 0 && r < R && !seen[size_t(r)], "sample order is not a permutation of 0..", R - 1,
          " (row ", r, ")");
    seen[size_t(r)] = true;
  }
  check(int64_t(sample.bert.size()) == S * L, "sample bert has ", sample.bert.size(),
        " entries, expected clusters x residues = ", S * L);
  for (int8_t t : sample.bert)
    check(t >= -1 && t <= kMaskToken, "sample bert holds ", int(t), "; tokens are -1..22");
  check(int64_t(sample.extra.size()) == E, "sample extra has ", sample.extra.size(),
        " rows, expected min(max_extra, rows - clusters) = ", E);
  std::vector<bool> used(size_t(R - S), false);
  for (int32_t e : sample.extra) {
    check(e >= 0 && e < R - S && !used[size_t(e)],
          "sample extra is not a set of distinct rows in 0..", R - S - 1, " (", e, ")");
    used[size_t(e)] = true;
  }
}

}  // namespace exafold::features
