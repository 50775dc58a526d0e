#include "exafold/features/processed_features.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"
#include "exafold/features/alphabet.h"
#include "features/nearest_cluster.h"

namespace exafold::features {

namespace {

// msa_feat channels: one_hot(msa, 23), has_deletion, deletion_value, cluster_profile (23),
// cluster_deletion_value.
constexpr int64_t kMsaFeat = 49;
constexpr int64_t kHasDeletion = 23, kDeletionValue = 24, kProfile = 25, kDeletionMean = 48;
constexpr int64_t kTargetFeat = 22;

// AlphaFold2's deletion transform atan(d / 3) * 2 / pi in its float32 steps: d / 3 and the
// product rounded to float32, atan correctly rounded (evaluated in double).
float deletion_value(float d) {
  const float q = d / 3.0f;
  return float(std::atan(double(q))) * float(2.0 / std::numbers::pi);
}

// Deletion counts are small integers, so their transform is tabulated.
constexpr int32_t kTabulated = 4096;
const std::array<float, kTabulated> kDeletionValues = [] {
  std::array<float, kTabulated> t{};
  for (int32_t i = 0; i < kTabulated; ++i) t[size_t(i)] = deletion_value(float(i));
  return t;
}();

float deletion_value_of_count(int32_t d) {
  return (d >= 0 && d < kTabulated) ? kDeletionValues[size_t(d)] : deletion_value(float(d));
}

float has_deletion(int32_t d) { return d > 0 ? 1.0f : 0.0f; }

struct Sizes {
  int64_t L, R;
  int64_t S, rest, E;    // cluster rows, rows not sampled, extra rows kept
  int64_t S_out, E_out;  // after padding
};

Sizes sizes_of(const PreparedMsa& msa, const ProcessConfig& config) {
  Sizes z{};
  z.L = msa.num_res;
  z.R = msa.num_rows;
  z.S = std::min(config.max_clusters, z.R);
  z.rest = z.R - z.S;
  z.E = std::min(config.max_extra, z.rest);
  z.S_out = config.fixed_size ? config.max_clusters : z.S;
  z.E_out = config.fixed_size ? config.max_extra : z.E;
  return z;
}

// Every feature's name, shape (with a leading axis of `batch` iterations) and dtype, given to
// `add`: the one list both the allocation and the byte count come from.
template <class Add>
void for_each_feature(const Sizes& z, int64_t batch, Add&& add) {
  auto shape = [batch](std::initializer_list<int64_t> dims) {
    Shape s{batch};
    for (int64_t d : dims) s.push_back(d);
    return s;
  };
  const DType i32 = DType::int32, f32 = DType::float32;
  add("aatype", shape({z.L}), i32);
  add("residue_index", shape({z.L}), i32);
  add("seq_length", shape({}), i32);
  add("seq_mask", shape({z.L}), f32);
  add("target_feat", shape({z.L, kTargetFeat}), f32);
  add("msa_feat", shape({z.S_out, z.L, kMsaFeat}), f32);
  add("msa_mask", shape({z.S_out, z.L}), f32);
  add("msa_row_mask", shape({z.S_out}), f32);
  add("bert_mask", shape({z.S_out, z.L}), f32);
  add("true_msa", shape({z.S_out, z.L}), i32);
  add("extra_msa", shape({z.E_out, z.L}), i32);
  add("extra_msa_mask", shape({z.E_out, z.L}), f32);
  add("extra_msa_row_mask", shape({z.E_out}), f32);
  add("extra_has_deletion", shape({z.E_out, z.L}), f32);
  add("extra_deletion_value", shape({z.E_out, z.L}), f32);
}

FeatureDict allocate(const Sizes& z, int64_t batch) {
  FeatureDict f;
  for_each_feature(z, batch, [&f](const char* name, const Shape& s, DType t) {
    f.set(name, Tensor::empty(s, t));
  });
  return f;
}

// Iteration b's part of a stacked feature.
template <class T>
T* slot(const FeatureDict& f, const char* name, int64_t b) {
  const Tensor& t = f.at(name);
  return t.data<T>() + b * (t.numel() / t.size(0));
}

template <class T>
void fill(T* p, int64_t n, T v) {
  std::fill_n(p, n, v);
}

void write_residue_features(const PreparedMsa& msa, const Sizes& z, const FeatureDict& f,
                            int64_t b) {
  const int64_t L = z.L;
  std::copy_n(msa.aatype.data(), L, slot<int32_t>(f, "aatype", b));
  std::copy_n(msa.residue_index.data(), L, slot<int32_t>(f, "residue_index", b));
  *slot<int32_t>(f, "seq_length", b) = int32_t(L);
  fill(slot<float>(f, "seq_mask", b), L, 1.0f);
  float* target = slot<float>(f, "target_feat", b);
  fill(target, L * kTargetFeat, 0.0f);
  for (int64_t j = 0; j < L; ++j) {
    target[j * kTargetFeat] = std::clamp(float(msa.between_segment_residues[size_t(j)]), 0.f, 1.f);
    target[j * kTargetFeat + 1 + msa.aatype[size_t(j)]] = 1.0f;
  }
}

// Cluster centres after masking (make_masked_msa), their nearest-neighbour clusters
// (nearest_neighbor_clusters) and summaries (summarize_clusters), and msa_feat (make_msa_feat).
void write_cluster_features(const PreparedMsa& msa, const MsaSample& sample, const Sizes& z,
                            const FeatureDict& f, int64_t b) {
  const int64_t L = z.L, S = z.S;
  const int64_t stride = (L + kClusterRowAlign - 1) / kClusterRowAlign * kClusterRowAlign;
  std::vector<uint8_t> centres(size_t(S * L));
  std::vector<uint8_t> keyed(size_t(S * stride), kNeverAgrees);
  int32_t* true_msa = slot<int32_t>(f, "true_msa", b);
  float* bert_mask = slot<float>(f, "bert_mask", b);
  for (int64_t s = 0; s < S; ++s) {
    const uint8_t* row = msa.msa.data() + int64_t(sample.order[size_t(s)]) * L;
    for (int64_t j = 0; j < L; ++j) {
      const int64_t p = s * L + j;
      const int8_t t = sample.bert[size_t(p)];
      const uint8_t v = t >= 0 ? uint8_t(t) : row[j];
      centres[size_t(p)] = v;
      keyed[size_t(s * stride + j)] = v < kGapRestype ? v : kNeverAgrees;
      true_msa[p] = row[j];
      bert_mask[p] = t >= 0 ? 1.0f : 0.0f;
    }
  }
  fill(true_msa + S * L, (z.S_out - S) * L, 0);
  fill(bert_mask + S * L, (z.S_out - S) * L, 0.0f);
  float* msa_mask = slot<float>(f, "msa_mask", b);
  fill(msa_mask, S * L, 1.0f);
  fill(msa_mask + S * L, (z.S_out - S) * L, 0.0f);
  float* row_mask = slot<float>(f, "msa_row_mask", b);
  fill(row_mask, S, 1.0f);
  fill(row_mask + S, z.S_out - S, 0.0f);

  // Every row not sampled (before the extra crop) joins its nearest centre.
  std::vector<uint8_t> rest(size_t(z.rest * stride), kRowPadding);
  for (int64_t k = 0; k < z.rest; ++k)
    std::copy_n(msa.msa.data() + int64_t(sample.order[size_t(S + k)]) * L, L,
                rest.data() + k * stride);
  std::vector<int32_t> assigned(size_t(z.rest));
  nearest_clusters(rest.data(), z.rest, keyed.data(), S, stride, assigned.data());

  // Members grouped by cluster (counting sort), so each cluster is summed on one thread in a
  // fixed order.
  std::vector<int64_t> start(size_t(S + 1), 0);
  for (int32_t a : assigned) ++start[size_t(a) + 1];
  for (int64_t s = 0; s < S; ++s) start[size_t(s + 1)] += start[size_t(s)];
  std::vector<int32_t> members(size_t(z.rest));
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t k = 0; k < z.rest; ++k)
      members[size_t(next[size_t(assigned[size_t(k)])]++)] = sample.order[size_t(S + k)];
  }

  float* feat = slot<float>(f, "msa_feat", b);
  thread_pool().parallel_for(S, 4, [&](int64_t s0, int64_t s1) {
    std::vector<int32_t> counts(size_t(L * kMsaClasses), 0);
    std::vector<int64_t> deletions(static_cast<size_t>(L), 0);
    std::vector<uint32_t> present(static_cast<size_t>(L), 0);  // bit a: class a was counted
    std::vector<float> quotient;
    for (int64_t s = s0; s < s1; ++s) {
      // Class counts and deletion sums over the members and the centre itself (the buffers are
      // zero here: the loop that reads them clears them).
      for (int64_t m = start[size_t(s)]; m < start[size_t(s + 1)]; ++m) {
        const uint8_t* x = msa.msa.data() + int64_t(members[size_t(m)]) * L;
        const int32_t* d = msa.deletions.data() + int64_t(members[size_t(m)]) * L;
        for (int64_t j = 0; j < L; ++j) {
          ++counts[size_t(j * kMsaClasses + x[j])];
          present[size_t(j)] |= 1u << x[j];
          deletions[size_t(j)] += d[j];
        }
      }
      const uint8_t* c = centres.data() + s * L;
      for (int64_t j = 0; j < L; ++j) {
        ++counts[size_t(j * kMsaClasses + c[j])];
        present[size_t(j)] |= 1u << c[j];
      }
      // AlphaFold2 divides counts by 1e-6 + mask + members, summed in float32 in that order.
      // Every count is a whole number up to members + 1, so the quotients are tabulated: the
      // same correctly rounded divisions, once each.
      const int64_t n = start[size_t(s + 1)] - start[size_t(s)];
      const float denom = (1e-6f + 1.0f) + float(n);
      quotient.resize(size_t(n + 2));
      for (int64_t k = 0; k <= n + 1; ++k) quotient[size_t(k)] = float(k) / denom;

      const int32_t* own = msa.deletions.data() + int64_t(sample.order[size_t(s)]) * L;
      float* out = feat + s * L * kMsaFeat;
      for (int64_t j = 0; j < L; ++j) {
        // Built in a local row (constant-size zeroing and copy compile to a few vector moves).
        float o[kMsaFeat] = {};
        int32_t* cnt = counts.data() + j * kMsaClasses;
        o[c[j]] = 1.0f;
        o[kHasDeletion] = has_deletion(own[j]);
        o[kDeletionValue] = deletion_value_of_count(own[j]);
        // Only the classes present are non-zero (quotient[0] is 0).
        for (uint32_t bits = present[size_t(j)]; bits; bits &= bits - 1) {
          const int a = std::countr_zero(bits);
          o[kProfile + a] = quotient[size_t(cnt[a])];
          cnt[a] = 0;
        }
        present[size_t(j)] = 0;
        // Members' deletions summed, then the centre's, as AlphaFold2 adds them (whole numbers,
        // exact in float32 below 2^24).
        const float del_sum = float(deletions[size_t(j)]) + float(own[j]);
        deletions[size_t(j)] = 0;
        o[kDeletionMean] = del_sum == 0.0f ? 0.0f : deletion_value(del_sum / denom);
        std::memcpy(out + j * kMsaFeat, o, sizeof o);
      }
    }
  });
  fill(feat + S * L * kMsaFeat, (z.S_out - S) * L * kMsaFeat, 0.0f);
}

// The cropped extra MSA (crop_extra_msa) and its deletion features (make_msa_feat).
void write_extra_features(const PreparedMsa& msa, const MsaSample& sample, const Sizes& z,
                          const FeatureDict& f, int64_t b) {
  const int64_t L = z.L, E = z.E, pad = (z.E_out - E) * L;
  int32_t* extra = slot<int32_t>(f, "extra_msa", b);
  float* has_del = slot<float>(f, "extra_has_deletion", b);
  float* del_value = slot<float>(f, "extra_deletion_value", b);
  thread_pool().parallel_for(E, 64, [&](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t src = sample.order[size_t(z.S + sample.extra[size_t(e)])];
      const uint8_t* x = msa.msa.data() + src * L;
      const int32_t* d = msa.deletions.data() + src * L;
      for (int64_t j = 0; j < L; ++j) {
        extra[e * L + j] = x[j];
        has_del[e * L + j] = has_deletion(d[j]);
        del_value[e * L + j] = deletion_value_of_count(d[j]);
      }
    }
  });
  fill(extra + E * L, pad, 0);
  fill(has_del + E * L, pad, 0.0f);
  fill(del_value + E * L, pad, 0.0f);
  float* mask = slot<float>(f, "extra_msa_mask", b);
  fill(mask, E * L, 1.0f);
  fill(mask + E * L, pad, 0.0f);
  float* row_mask = slot<float>(f, "extra_msa_row_mask", b);
  fill(row_mask, E, 1.0f);
  fill(row_mask + E, z.E_out - E, 0.0f);
}

void write_iteration(const PreparedMsa& msa, const MsaSample& sample, const Sizes& z,
                     const FeatureDict& f, int64_t b) {
  write_residue_features(msa, z, f, b);
  write_cluster_features(msa, sample, z, f, b);
  write_extra_features(msa, sample, z, f, b);
}

}  // namespace

FeatureDict make_iteration_features(const PreparedMsa& msa, const MsaSample& sample,
                                    const ProcessConfig& config) {
  config.validate();
  validate_msa_sample(sample, msa, config);
  const Sizes z = sizes_of(msa, config);
  FeatureDict stacked = allocate(z, 1);
  write_iteration(msa, sample, z, stacked, 0);
  FeatureDict out;
  for (const auto& [name, t] : stacked) out.set(name, t.select(0, 0));
  return out;
}

FeatureDict make_processed_features(const PreparedMsa& msa, const ProcessConfig& config,
                                    uint64_t seed) {
  config.validate();
  const Sizes z = sizes_of(msa, config);
  const int64_t iterations = config.num_recycle + 1;
  FeatureDict f = allocate(z, iterations);
  const Philox rng(seed);
  // Iterations are independent (each has its own streams and output slice), so they run side
  // by side; the loops inside them then run inline on each thread.
  thread_pool().parallel_for(iterations, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      write_iteration(msa, draw_msa_sample(rng, int(b), msa, config), z, f, b);
  });
  return f;
}

FeatureDict make_processed_features(const RawFeatures& raw, const ProcessConfig& config,
                                    uint64_t seed) {
  return make_processed_features(prepare_msa(raw), config, seed);
}

int64_t processed_feature_bytes(int64_t residues, int64_t clusters, int64_t extra,
                                int64_t iterations) {
  check(residues >= 1 && clusters >= 1 && extra >= 0 && iterations >= 1,
        "feature sizes need residues >= 1, clusters >= 1, extra >= 0, iterations >= 1; got ",
        residues, ", ", clusters, ", ", extra, ", ", iterations);
  Sizes z{};
  z.L = residues;
  z.S_out = clusters;
  z.E_out = extra;
  int64_t bytes = 0;
  for_each_feature(z, iterations, [&bytes](const char*, const Shape& s, DType t) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    bytes += n * int64_t(dtype_size(t));
  });
  return bytes;
}

}  // namespace exafold::features
