// Raw features: AlphaFold2's make_sequence_features + make_msa_features, merging and limits.
#include <gtest/gtest.h>

#include "exafold/features/a3m.h"
#include "exafold/features/raw_features.h"
#include "exafold/features/stockholm.h"
#include "features_test_util.h"

namespace exafold::features {
namespace {

std::vector<int32_t> values(const Tensor& t) {
  const int32_t* p = t.data<int32_t>();
  return std::vector<int32_t>(p, p + t.numel());
}

TEST(RawFeatures, SequenceFeaturesAndAlphabets) {
  // B, Z, U, O, J are X in aatype; in the MSA B -> D, Z -> E, U -> C, O and J -> X.
  FastaRecord q{"my query", "ARBZUOJ", 1};
  Msa a = parse_a3m(">q\nARBZUOJ\n", "a.a3m");
  RawFeatures raw = build_raw_features(q, std::span<const Msa>(&a, 1));
  EXPECT_EQ(raw.domain_name, "my query");
  EXPECT_EQ(raw.sequence, "ARBZUOJ");
  const Tensor& aatype = raw.arrays.at("aatype");
  ASSERT_EQ(aatype.shape(), (Shape{7, 21}));
  std::vector<int32_t> idx;
  for (int i = 0; i < 7; ++i)
    for (int k = 0; k < 21; ++k)
      if (aatype.data<int32_t>()[i * 21 + k]) idx.push_back(k);
  EXPECT_EQ(idx, (std::vector<int32_t>{0, 1, 20, 20, 20, 20, 20}));
  // HHblits ids: A0 R14 B->D2 Z->E3 U->C1 O->X20 J->X20.
  EXPECT_EQ(values(raw.arrays.at("msa")), (std::vector<int32_t>{0, 14, 2, 3, 1, 20, 20}));
  EXPECT_EQ(values(raw.arrays.at("residue_index")), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values(raw.arrays.at("seq_length")), std::vector<int32_t>(7, 7));
  EXPECT_EQ(values(raw.arrays.at("between_segment_residues")), std::vector<int32_t>(7, 0));
  EXPECT_EQ(values(raw.arrays.at("num_alignments")), std::vector<int32_t>(7, 1));
}

TEST(RawFeatures, MergeDeduplicatesAcrossFilesQueryFirst) {
  FastaRecord q{"q", "ACDE", 1};
  // x and y align the same residues (x with an insertion); q2 repeats the query; z repeats x.
  Msa a = parse_a3m(">q\nACDE\n>x\nAkC-E\n>y\nAC-E\n>q2\nACDE\n", "bfd.a3m");
  Msa s = parse_stockholm("# STOCKHOLM 1.0\nq ACDE\nz AC-E\nw GCDE\n//\n", "mgnify_hits.sto");
  std::vector<Msa> msas{a, s};

  RawFeatures dedup = build_raw_features(q, std::span<const Msa>(msas));
  EXPECT_EQ(dedup.arrays.at("msa").shape(), (Shape{3, 4}));
  // q, x (its first copy, with its deletion), w. HHblits ids: A0 C1 D2 E3 G5 gap21.
  EXPECT_EQ(values(dedup.arrays.at("msa")),
            (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 21, 3, 5, 1, 2, 3}));
  EXPECT_EQ(values(dedup.arrays.at("deletion_matrix_int")),
            (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(values(dedup.arrays.at("num_alignments")), std::vector<int32_t>(4, 3));

  // The ColabFold fork keeps every row.
  RawFeatures all = build_raw_features(q, std::span<const Msa>(msas), {.deduplicate = false});
  EXPECT_EQ(all.arrays.at("msa").shape(), (Shape{7, 4}));
  EXPECT_EQ(values(all.arrays.at("num_alignments")), std::vector<int32_t>(4, 7));
}

TEST(RawFeatures, NoAlignmentIsTheQueryAlone) {
  RawFeatures raw = build_raw_features(FastaRecord{"q", "GW", 1}, std::span<const Msa>());
  EXPECT_EQ(values(raw.arrays.at("msa")), (std::vector<int32_t>{5, 18}));
  EXPECT_EQ(values(raw.arrays.at("deletion_matrix_int")), (std::vector<int32_t>{0, 0}));
}

TEST(RawFeatures, QueryChecks) {
  Msa other = parse_a3m(">p\nACDF\n", "other.a3m");
  EXPECT_THROW(build_raw_features(FastaRecord{"q", "ACDE", 1}, std::span<const Msa>(&other, 1)),
               InvalidArgument);
  EXPECT_THROW(build_raw_features(FastaRecord{"q", "ACdE", 1}, std::span<const Msa>()),
               InvalidArgument);
  EXPECT_THROW(build_raw_features(FastaRecord{"q", "AC-E", 1}, std::span<const Msa>()),
               InvalidArgument);
  EXPECT_THROW(build_raw_features(FastaRecord{"q", "", 1}, std::span<const Msa>()),
               InvalidArgument);
}

TEST(RawFeatures, HitLimitsFollowAlphaFold2FileNames) {
  EXPECT_EQ(af2_hit_limit("/x/uniref90_hits.sto"), 10000);
  EXPECT_EQ(af2_hit_limit("mgnify_hits.sto"), 501);
  EXPECT_EQ(af2_hit_limit("/data/mgnify_hits.a3m"), 501);
  EXPECT_EQ(af2_hit_limit("bfd_uniref_hits.a3m"), 0);
  EXPECT_EQ(af2_hit_limit("small_bfd_hits.sto"), 0);
  EXPECT_EQ(af2_hit_limit("/mgnify/bfd_uniclust_hits.a3m"), 0);  // the file name decides
}

TEST(RawFeatures, FilesWithLimitsAndQueryCheck) {
  auto dir = testing::shared_data_dir();
  if (dir.empty()) GTEST_SKIP() << "shared data not found";
  FastaRecord q = read_fasta((dir / "6kwc/6kwc.fasta").string())[0];
  std::vector<AlignmentFile> files{{(dir / "6kwc/bfd_uniref_hits.a3m").string()},
                                   {(dir / "6kwc/mgnify_hits.sto").string()}};
  RawFeatures raw =
      build_raw_features(q, std::span<const AlignmentFile>(files), {.deduplicate = false});
  EXPECT_EQ(raw.arrays.at("msa").shape(), (Shape{1428 + 501, 191}));
  files[1].max_rows = 0;
  raw = build_raw_features(q, std::span<const AlignmentFile>(files), {.deduplicate = false});
  EXPECT_EQ(raw.arrays.at("msa").size(0), 1428 + 1698);

  // An alignment of another query is refused with its file and line.
  FastaRecord wrong{"wrong", "GSTIQPGTGY", 1};
  testing::expect_parse_error(
      [&] { build_raw_features(wrong, std::span<const AlignmentFile>(files)); }, 1,
      "bfd_uniref_hits.a3m:1: query missing: the first row '6KWC_1' has 191 columns");
}

}  // namespace
}  // namespace exafold::features
