// Processed features: the seeded generator, the sampled-MSA transforms and their invariants.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "exafold/core/thread_pool.h"
#include "exafold/features/a3m.h"
#include "exafold/features/alphabet.h"
#include "exafold/features/processed_features.h"
#include "features/nearest_cluster.h"

namespace exafold::features {
namespace {

PreparedMsa prepared_from_a3m(const std::string& text) {
  Msa msa = parse_a3m(text, "t.a3m");
  FastaRecord q{"q", msa.row(0).residues, 1};
  return prepare_msa(build_raw_features(q, std::span<const Msa>(&msa, 1), {.deduplicate = false}));
}

// A random MSA of `rows` x `cols` over 20 amino acids, gaps and insertions.
std::string random_a3m(int rows, int cols, uint32_t seed) {
  std::mt19937 g(seed);
  const std::string aa = "ARNDCQEGHILKMFPSTWYV";
  std::string query, out;
  for (int j = 0; j < cols; ++j) query += aa[g() % 20];
  out = ">q\n" + query + "\n";
  for (int r = 1; r < rows; ++r) {
    out += ">r" + std::to_string(r) + "\n";
    for (int j = 0; j < cols; ++j) {
      uint32_t u = g() % 100;
      if (u < 10) out += "acd"[g() % 3];  // an insertion before this column
      out += u < 20 ? '-' : (u < 60 ? query[size_t(j)] : aa[g() % 20]);
    }
    out += "\n";
  }
  return out;
}

float deletion_value(float d) {
  return float(std::atan(double(d / 3.0f))) * float(2.0 / std::numbers::pi);
}

template <class T>
T at(const FeatureDict& f, const char* name, std::initializer_list<int64_t> idx) {
  const Tensor& t = f.at(name);
  int64_t off = 0, i = 0;
  for (int64_t v : idx) off = off * t.size(int(i++)) + v;
  return t.data<T>()[off];
}

TEST(Philox, KnownAnswers) {
  // Random123's known-answer vectors for philox4x32-10 (counter words 0..3 = index lo, index
  // hi, stream lo, stream hi; key = (lo, hi)).
  EXPECT_EQ(Philox(0).block(0, 0),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox(~0ull).block(~0ull, ~0ull),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(Philox(0x299f31d0a4093822ull).block(0x0370734413198a2eull, 0x85a308d3243f6a88ull),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, StructureSeedIsStable) {
  // Fixed values (checked against an independent transcription of FNV-1a + SplitMix64): a
  // change here changes every structure's features.
  EXPECT_EQ(structure_seed("6KWC_1", 0), structure_seed("6KWC_1", 0));
  EXPECT_NE(structure_seed("6KWC_1", 0), structure_seed("6KWC_1", 1));
  EXPECT_NE(structure_seed("6KWC_1", 0), structure_seed("6KWC_2", 0));
  EXPECT_EQ(structure_seed("", 0), 0x5b21f68ffa77f14cull);
  EXPECT_EQ(structure_seed("6KWC_1", 42), 0xeecc8f88b9786491ull);
}

TEST(Philox, BelowIsInRangeAndUniform) {
  Philox rng(7);
  std::array<int, 7> hist{};
  for (uint64_t i = 0; i < 70000; ++i) ++hist[size_t(rng.below(3, i, 7))];
  for (int h : hist) EXPECT_NEAR(h, 10000, 500);  // 5 sigma
}

TEST(ProcessedFeatures, HandWorkedIteration) {
  // Rows (HHblits letters): 0 ACDE, 1 ACDF, 2 GGDE, 3 ACD- (2 inserted before column 3),
  // 4 GGGE, 5 ACGE.
  PreparedMsa msa =
      prepared_from_a3m(">q\nACDE\n>1\nACDF\n>2\nGGDE\n>3\nACDkk-\n>4\nGGGE\n>5\nACGE\n");
  ProcessConfig config{.max_clusters = 2, .max_extra = 2};
  MsaSample s;
  s.order = {0, 2, 1, 3, 4, 5};  // centres rows 0 and 2; rows 1, 3, 4, 5 are extra
  s.bert.assign(8, -1);
  s.bert[3] = kMaskToken;  // centre 0: ACD[MASK]
  s.bert[4] = 0;           // centre 1: AGDE
  s.extra = {3, 1};        // extra rows: order[2 + 3] = 5, order[2 + 1] = 3
  FeatureDict f = make_iteration_features(msa, s, config);

  // Our residue order: A0 C4 D3 E6 F13 G7, gap 21.
  EXPECT_EQ(at<int32_t>(f, "true_msa", {0, 3}), 6);
  EXPECT_EQ(at<int32_t>(f, "true_msa", {1, 0}), 7);
  EXPECT_EQ(at<float>(f, "bert_mask", {0, 3}), 1.0f);
  EXPECT_EQ(at<float>(f, "bert_mask", {1, 0}), 1.0f);
  EXPECT_EQ(at<float>(f, "bert_mask", {0, 0}), 0.0f);
  EXPECT_EQ(at<float>(f, "msa_feat", {0, 3, int64_t(kMaskToken)}), 1.0f);
  EXPECT_EQ(at<float>(f, "msa_feat", {1, 0, 0}), 1.0f);

  // Agreement over classes 0..20 (gap and mask never agree): row 1 -> 0 (3 vs 2), row 3 -> 0
  // (3 vs 2), row 4 -> 1 (0 vs 2), row 5 -> 0 (a 2-2 tie goes to the lower index).
  const float d0 = (1e-6f + 1.0f) + 3.0f, d1 = (1e-6f + 1.0f) + 1.0f;
  auto profile = [&](int64_t c, int64_t j, int64_t a) {
    return at<float>(f, "msa_feat", {c, j, 25 + a});
  };
  EXPECT_EQ(profile(0, 0, 0), 4.0f / d0);  // A in rows 0, 1, 3, 5
  EXPECT_EQ(profile(0, 2, 3), 3.0f / d0);  // D in rows 0, 1, 3; G in row 5
  EXPECT_EQ(profile(0, 2, 7), 1.0f / d0);
  EXPECT_EQ(profile(0, 3, 13), 1.0f / d0);  // F (row 1), gap (row 3), E (row 5), mask (centre)
  EXPECT_EQ(profile(0, 3, kGapRestype), 1.0f / d0);
  EXPECT_EQ(profile(0, 3, 6), 1.0f / d0);
  EXPECT_EQ(profile(0, 3, kMaskToken), 1.0f / d0);
  EXPECT_EQ(profile(1, 0, 0), 1.0f / d1);  // the masked centre A and row 4's G
  EXPECT_EQ(profile(1, 0, 7), 1.0f / d1);
  EXPECT_EQ(profile(1, 2, 3), 1.0f / d1);
  EXPECT_EQ(at<float>(f, "msa_feat", {0, 3, 48}), deletion_value(2.0f / d0));
  EXPECT_EQ(at<float>(f, "msa_feat", {0, 2, 48}), 0.0f);
  EXPECT_EQ(at<float>(f, "msa_feat", {0, 3, 23}), 0.0f);  // the centre's own deletions

  ASSERT_EQ(f.at("extra_msa").shape(), (Shape{2, 4}));
  EXPECT_EQ(at<int32_t>(f, "extra_msa", {0, 2}), 7);            // row 5: ACGE
  EXPECT_EQ(at<int32_t>(f, "extra_msa", {1, 3}), kGapRestype);  // row 3: ACD-
  EXPECT_EQ(at<float>(f, "extra_has_deletion", {1, 3}), 1.0f);
  EXPECT_EQ(at<float>(f, "extra_deletion_value", {1, 3}), deletion_value(2.0f));
  EXPECT_EQ(at<float>(f, "extra_deletion_value", {1, 2}), 0.0f);

  EXPECT_EQ(f.at("target_feat").shape(), (Shape{4, 22}));
  EXPECT_EQ(at<float>(f, "target_feat", {3, 1 + 6}), 1.0f);
  EXPECT_EQ(at<int32_t>(f, "seq_length", {}), 4);
}

TEST(ProcessedFeatures, FixedSizePadsWithZeros) {
  PreparedMsa msa = prepared_from_a3m(">q\nACDE\n>1\nACDF\n>2\nGGDE\n");
  ProcessConfig config{.max_clusters = 4, .max_extra = 3, .fixed_size = true};
  MsaSample s = draw_msa_sample(Philox(1), 0, msa, config);
  FeatureDict f = make_iteration_features(msa, s, config);
  EXPECT_EQ(f.at("msa_feat").shape(), (Shape{4, 4, 49}));
  EXPECT_EQ(f.at("extra_msa").shape(), (Shape{3, 4}));
  for (int64_t c = 3; c < 4; ++c) {
    EXPECT_EQ(at<float>(f, "msa_row_mask", {c}), 0.0f);
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(at<float>(f, "msa_mask", {c, j}), 0.0f);
      for (int64_t k = 0; k < 49; ++k) EXPECT_EQ(at<float>(f, "msa_feat", {c, j, k}), 0.0f);
    }
  }
  for (int64_t e = 0; e < 3; ++e) EXPECT_EQ(at<float>(f, "extra_msa_row_mask", {e}), 0.0f);
}

TEST(ProcessedFeatures, ByteCountIsWhatTheFeaturesHold) {
  PreparedMsa msa = prepared_from_a3m(random_a3m(40, 30, 5));
  for (bool fixed : {false, true}) {
    ProcessConfig config{
        .max_clusters = 16, .max_extra = 64, .num_recycle = 2, .fixed_size = fixed};
    FeatureDict f = make_processed_features(msa, config, 7);
    int64_t held = 0;
    for (const auto& [name, t] : f) held += int64_t(t.nbytes());
    const int64_t clusters = f.at("msa_feat").size(1), extra = f.at("extra_msa").size(1);
    EXPECT_EQ(processed_feature_bytes(30, clusters, extra, 3), held);
  }
  EXPECT_THROW(processed_feature_bytes(0, 1, 1, 1), InvalidArgument);
}

// The bytes of every feature.
std::vector<std::string> bytes_of(const FeatureDict& f) {
  std::vector<std::string> out;
  for (const auto& [name, t] : f)
    out.emplace_back(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return out;
}

TEST(ProcessedFeatures, BitIdenticalForAnyThreadCount) {
  PreparedMsa msa = prepared_from_a3m(random_a3m(700, 83, 3));
  ProcessConfig config{.max_clusters = 64, .max_extra = 300};
  const int before = thread_pool().num_threads();
  set_num_threads(1);
  auto one = bytes_of(make_processed_features(msa, config, 99));
  set_num_threads(3);
  auto three = bytes_of(make_processed_features(msa, config, 99));
  set_num_threads(before);
  auto again = bytes_of(make_processed_features(msa, config, 99));
  EXPECT_TRUE(one == three);
  EXPECT_TRUE(one == again);
  EXPECT_FALSE(one == bytes_of(make_processed_features(msa, config, 100)));
}

TEST(ProcessedFeatures, DrawStatistics) {
  PreparedMsa msa = prepared_from_a3m(random_a3m(600, 120, 5));
  ProcessConfig config{.max_clusters = 256, .max_extra = 200};
  int64_t positions = 0, masked = 0, mask_token = 0, same = 0;
  for (int it = 0; it < 4; ++it) {
    MsaSample s = draw_msa_sample(Philox(11), it, msa, config);
    validate_msa_sample(s, msa, config);
    EXPECT_EQ(s.order[0], 0);
    EXPECT_EQ(s.extra.size(), 200u);
    for (size_t p = 0; p < s.bert.size(); ++p) {
      ++positions;
      if (s.bert[p] < 0) continue;
      ++masked;
      mask_token += s.bert[p] == kMaskToken;
      const int64_t row = s.order[p / 120];
      same += s.bert[p] == msa.msa[size_t(row * 120 + int64_t(p % 120))];
    }
  }
  const double n = double(positions), fm = double(masked) / n;
  EXPECT_NEAR(fm, 0.15, 5 * std::sqrt(0.15 * 0.85 / n));
  const double m = double(masked);
  EXPECT_NEAR(double(mask_token) / m, 0.7, 5 * std::sqrt(0.7 * 0.3 / m));
  // "Same" is the 0.1 same-residue share plus whatever the uniform and profile draws repeat.
  EXPECT_GT(double(same) / m, 0.1);
  EXPECT_LT(double(same) / m, 0.3);
}

TEST(ProcessedFeatures, BadSamplesAreRefused) {
  PreparedMsa msa = prepared_from_a3m(">q\nACDE\n>1\nACDF\n>2\nGGDE\n");
  ProcessConfig config{.max_clusters = 2, .max_extra = 1};
  MsaSample good = draw_msa_sample(Philox(1), 0, msa, config);
  auto bad = good;
  std::swap(bad.order[0], bad.order[1]);
  EXPECT_THROW(make_iteration_features(msa, bad, config), InvalidArgument);
  bad = good;
  bad.order[2] = bad.order[1];
  EXPECT_THROW(make_iteration_features(msa, bad, config), InvalidArgument);
  bad = good;
  bad.bert.push_back(-1);
  EXPECT_THROW(make_iteration_features(msa, bad, config), InvalidArgument);
  bad = good;
  bad.bert[0] = 23;
  EXPECT_THROW(make_iteration_features(msa, bad, config), InvalidArgument);
  bad = good;
  bad.extra = {1};
  EXPECT_THROW(make_iteration_features(msa, bad, config), InvalidArgument);
  EXPECT_THROW(ProcessConfig{.max_clusters = 0}.validate(), InvalidArgument);
  ProcessConfig too_likely{.uniform_prob = 0.5, .profile_prob = 0.6};
  EXPECT_THROW(too_likely.validate(), InvalidArgument);
}

TEST(NearestClusters, MatchesAScalarSearch) {
  std::mt19937 g(1);
  for (int64_t L : {1, 31, 32, 33, 200, 9000}) {
    const int64_t stride = (L + kClusterRowAlign - 1) / kClusterRowAlign * kClusterRowAlign;
    for (int64_t S : {1, 3, 4, 5, 17}) {
      const int64_t n = 23;
      std::vector<uint8_t> centres(size_t(S * stride), kNeverAgrees);
      std::vector<uint8_t> rows(size_t(n * stride), kRowPadding);
      // Few classes so ties are common.
      for (int64_t s = 0; s < S; ++s)
        for (int64_t j = 0; j < L; ++j)
          centres[size_t(s * stride + j)] = g() % 4 == 0 ? kNeverAgrees : uint8_t(g() % 3);
      for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < L; ++j) rows[size_t(k * stride + j)] = uint8_t(g() % 3);
      std::vector<int32_t> want(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) {
        int64_t best = -1;
        for (int64_t s = 0; s < S; ++s) {
          int64_t c = 0;
          for (int64_t j = 0; j < L; ++j)
            c += rows[size_t(k * stride + j)] == centres[size_t(s * stride + j)];
          if (c > best) best = c, want[size_t(k)] = int32_t(s);
        }
      }
      for (SimdLevel level : {SimdLevel::kBaseline, SimdLevel::kAvx2}) {
        if (!cpu_has(level)) continue;
        std::vector<int32_t> got(static_cast<size_t>(n));
        nearest_clusters(rows.data(), n, centres.data(), S, stride, got.data(), level);
        EXPECT_EQ(got, want) << "L=" << L << " S=" << S << " level " << int(level);
      }
    }
  }
}

}  // namespace
}  // namespace exafold::features
