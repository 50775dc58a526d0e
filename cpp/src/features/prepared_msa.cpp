#include "exafold/features/prepared_msa.h"

#include "exafold/core/error.h"
#include "exafold/features/alphabet.h"

namespace exafold::features {

namespace {

const int32_t* int32_feature(const FeatureDict& f, std::string_view name, const Shape& shape) {
  const Tensor& t = f.at(name);
  check(t.dtype() == DType::int32, "feature '", name, "' must be int32, got ",
        dtype_name(t.dtype()));
  check(t.shape() == shape, "feature '", name, "' must have shape ", shape.str(), ", got ",
        t.shape().str());
  check(t.is_contiguous() && t.device().is_host(), "feature '", name,
        "' must be a contiguous host tensor");
  return t.data<int32_t>();
}

}  // namespace

PreparedMsa prepare_msa(const RawFeatures& raw) {
  const FeatureDict& f = raw.arrays;
  const Tensor& msa_t = f.at("msa");
  check(msa_t.rank() == 2 && msa_t.size(0) >= 1,
        "feature 'msa' must be [rows >= 1, residues], got ", msa_t.shape().str());
  const int64_t R = msa_t.size(0), L = msa_t.size(1);
  check(L >= 1, "the query has no residues");

  PreparedMsa p;
  p.num_res = L;
  p.num_rows = R;

  // squeeze_features: aatype from its one-hot (argmax, the first index on ties).
  const int32_t* onehot = int32_feature(f, "aatype", {L, kNumRestypes + 1});
  p.aatype.resize(size_t(L));
  for (int64_t i = 0; i < L; ++i) {
    const int32_t* row = onehot + i * (kNumRestypes + 1);
    int best = 0;
    for (int a = 1; a <= kNumRestypes; ++a)
      if (row[a] > row[best]) best = a;
    p.aatype[size_t(i)] = best;
  }
  const int32_t* ri = int32_feature(f, "residue_index", {L});
  p.residue_index.assign(ri, ri + L);
  const int32_t* bsr = int32_feature(f, "between_segment_residues", {L});
  p.between_segment_residues.assign(bsr, bsr + L);

  // correct_msa_restypes: HHblits ids -> AlphaFold2's residue order.
  const int32_t* m = int32_feature(f, "msa", {R, L});
  const int32_t* d = int32_feature(f, "deletion_matrix_int", {R, L});
  p.msa.resize(size_t(R * L));
  for (int64_t i = 0; i < R * L; ++i) {
    check(m[i] >= 0 && m[i] <= kGapRestype, "feature 'msa' holds ", m[i], " at row ", i / L,
          ", column ", i % L, "; HHblits ids are 0..21");
    p.msa[size_t(i)] = kHhblitsToRestype[size_t(m[i])];
  }
  p.deletions.assign(d, d + R * L);

  // make_hhblits_profile: per column, the fraction of rows holding each of the 22 classes, in
  // float32 as AlphaFold2 divides (count / rows).
  std::vector<int32_t> counts(size_t(L) * 22, 0);
  for (int64_t r = 0; r < R; ++r) {
    const uint8_t* row = p.msa.data() + r * L;
    for (int64_t j = 0; j < L; ++j) ++counts[size_t(j) * 22 + row[j]];
  }
  p.profile.resize(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) p.profile[i] = float(counts[i]) / float(R);
  return p;
}

}  // namespace exafold::features
