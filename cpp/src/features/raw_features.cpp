#include "exafold/features/raw_features.h"

#include <filesystem>
#include <unordered_set>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/features/alphabet.h"
#include "features/query_check.h"

namespace exafold::features {

int64_t af2_hit_limit(std::string_view path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.find("uniref90") != std::string::npos) return 10000;
  if (name.find("mgnify") != std::string::npos) return 501;
  return 0;
}

namespace {

Tensor int32_tensor(const Shape& shape) { return Tensor::empty(shape, DType::int32); }

Tensor filled(int64_t n, int32_t value) {
  Tensor t = int32_tensor({n});
  std::fill_n(t.data<int32_t>(), n, value);
  return t;
}

void check_query(const FastaRecord& query) {
  check(!query.sequence.empty(), "query ", query.description, " has no residues");
  for (size_t i = 0; i < query.sequence.size(); ++i)
    check(aatype_of(query.sequence[i]) >= 0, "query '", query.description, "' has '",
          query.sequence[i], "' at residue ", i + 1,
          ": AlphaFold2 takes only upper-case letters (non-standard ones become X)");
}

void check_starts_with_query(const Msa& msa, const std::string& query) {
  check(msa.num_rows() > 0 && is_query_row(msa.row(0).residues, query), "alignment ", msa.source(),
        ": query missing: its first row is not the query sequence");
}

}  // namespace

RawFeatures build_raw_features(const FastaRecord& query, std::span<const Msa> msas,
                               const RawFeatureOptions& options) {
  std::vector<const Msa*> pointers;
  for (const Msa& msa : msas) pointers.push_back(&msa);
  return build_raw_features(query, std::span<const Msa* const>(pointers), options);
}

RawFeatures build_raw_features(const FastaRecord& query, std::span<const Msa* const> msas,
                               const RawFeatureOptions& options) {
  check_query(query);
  const auto L = int64_t(query.sequence.size());
  for (const Msa* msa : msas) check_starts_with_query(*msa, query.sequence);

  // Rows kept, in order: the query first, then each alignment's rows (AlphaFold2's
  // make_msa_features loop), later copies of an identical aligned sequence dropped.
  std::vector<const MsaRow*> kept;
  MsaRow query_row{query.description, query.sequence, {}, 0};
  if (msas.empty()) kept.push_back(&query_row);
  std::unordered_set<std::string_view> seen;
  for (const Msa* msa : msas)
    for (const MsaRow& row : msa->rows())
      if (!options.deduplicate || seen.insert(row.residues).second) kept.push_back(&row);
  const auto R = int64_t(kept.size());

  RawFeatures out;
  out.domain_name = query.description;
  out.sequence = query.sequence;

  Tensor aatype = int32_tensor({L, kNumRestypes + 1});
  int32_t* a = aatype.data<int32_t>();
  std::fill_n(a, L * (kNumRestypes + 1), 0);
  for (int64_t i = 0; i < L; ++i) a[i * (kNumRestypes + 1) + aatype_of(query.sequence[i])] = 1;

  Tensor residue_index = int32_tensor({L});
  for (int64_t i = 0; i < L; ++i) residue_index.data<int32_t>()[i] = int32_t(i);

  Tensor msa = int32_tensor({R, L});
  Tensor deletions = int32_tensor({R, L});
  int32_t* m = msa.data<int32_t>();
  int32_t* d = deletions.data<int32_t>();
  for (int64_t r = 0; r < R; ++r) {
    const MsaRow& row = *kept[r];
    for (int64_t j = 0; j < L; ++j) m[r * L + j] = hhblits_id_of(row.residues[j]);
    row.deletion_counts(d + r * L);
  }

  out.arrays.set("aatype", aatype);
  out.arrays.set("between_segment_residues", filled(L, 0));
  out.arrays.set("residue_index", residue_index);
  out.arrays.set("seq_length", filled(L, int32_t(L)));
  out.arrays.set("msa", msa);
  out.arrays.set("deletion_matrix_int", deletions);
  out.arrays.set("num_alignments", filled(L, int32_t(R)));
  return out;
}

RawFeatures build_raw_features(const FastaRecord& query, std::span<const AlignmentFile> files,
                               const RawFeatureOptions& options) {
  check_query(query);
  std::vector<Msa> msas;
  msas.reserve(files.size());
  for (const AlignmentFile& f : files) {
    MsaReadOptions read{.max_rows = f.max_rows < 0 ? af2_hit_limit(f.path) : f.max_rows,
                        .query = query.sequence};
    msas.push_back(read_msa(f.path, read));
  }
  return build_raw_features(query, std::span<const Msa>(msas), options);
}

}  // namespace exafold::features
