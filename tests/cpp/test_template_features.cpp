// The template featuriser's rules (which hits become templates and why the others do not) and
// the processed template features' geometry. (Element-for-element parity with AlphaFold2's
// featuriser and its torsion code: tests/python/test_templates_reference.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "exafold/features/processed_templates.h"
#include "exafold/features/templates.h"

namespace exafold::features {
namespace {

constexpr int kAtoms = 37;
const std::string kQuery = "MKTAYIAKQRQISFVKSHFSRQ";  // 22 residues

// A chain whose SEQRES is `seq`, every residue with N, CA, C, O, CB on a line 3.8 A apart.
TemplateChain chain(const std::string& id, const std::string& seq) {
  static const std::map<char, std::string> three = {
      {'A', "ALA"}, {'F', "PHE"}, {'H', "HIS"}, {'I', "ILE"}, {'K', "LYS"},
      {'M', "MET"}, {'Q', "GLN"}, {'R', "ARG"}, {'S', "SER"}, {'T', "THR"},
      {'V', "VAL"}, {'Y', "TYR"}, {'G', "GLY"}, {'W', "TRP"}, {'X', "MSE"}};
  TemplateChain c;
  c.id = id;
  for (char r : seq) c.residues.push_back(three.at(r));
  c.positions.assign(seq.size() * kAtoms * 3, 0.0f);
  c.mask.assign(seq.size() * kAtoms, 0.0f);
  for (size_t i = 0; i < seq.size(); ++i)
    for (int a : {0, 1, 2, 3, 4}) {
      c.mask[i * kAtoms + size_t(a)] = 1;
      c.positions[(i * kAtoms + size_t(a)) * 3] = 3.8f * float(i) + 0.5f * float(a);
      c.positions[(i * kAtoms + size_t(a)) * 3 + 1] = float(a == 4);
    }
  return c;
}

class Entries : public TemplateSource {
 public:
  void add(TemplateEntry e) {
    std::string id = e.id;
    entries_[id] = std::make_shared<TemplateEntry>(std::move(e));
  }
  std::shared_ptr<const TemplateEntry> find(const std::string& id) const override {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : it->second;
  }
  std::string location(const std::string& id) const override { return "mem:" + id; }

 private:
  std::map<std::string, std::shared_ptr<const TemplateEntry>> entries_;
};

TemplateEntry entry(const std::string& id, const std::string& date,
                    std::vector<TemplateChain> chains) {
  return {id, date, std::move(chains), ""};
}

// An HHsearch-style hit aligning query[qs, qs+len) to the hit's residues starting at ts.
TemplateHit hit(int index, const std::string& name, double probs, int qs, const std::string& seq,
                int ts) {
  TemplateHit h;
  h.index = index;
  h.name = name + " description";
  h.sum_probs = probs;
  h.aligned_cols = int64_t(seq.size());
  h.query = kQuery.substr(size_t(qs), seq.size());
  h.hit_sequence = seq;
  for (size_t k = 0; k < seq.size(); ++k) {
    h.indices_query.push_back(int32_t(qs + k));
    h.indices_hit.push_back(int32_t(ts + k));
  }
  return h;
}

const TemplateHitReport& report(const TemplateFeatures& f, const std::string& name) {
  for (const auto& r : f.hits)
    if (r.name == name) return r;
  throw std::runtime_error("no report for " + name);
}

TEST(TemplateFeaturizer, HitsBecomeTemplatesInAlphaFold2sOrder) {
  Entries src;
  //                                          0123456789012345
  src.add(entry("1abc", "2001-01-01", {chain("A", "GGMKTAYIAKQRQGG"), chain("B", "WWWW")}));
  src.add(entry("2def", "2015-06-01", {chain("A", "KTAYIAKQRQISF")}));
  src.add(entry("3ghi", "2001-01-01", {chain("A", "AYIAKQRQISFV")}));
  std::vector<TemplateHit> hits = {
      hit(1, "1ABC_A", 5.0, 0, "MKTAYIAKQRQ", 2),   // exact, chain A, offset 2
      hit(2, "2DEF_A", 9.0, 1, "KTAYIAKQRQIS", 0),  // released after the limit
      hit(3, "9ZZZ_A", 7.0, 0, "MKTAYIAKQRQ", 0),   // no structure
      hit(4, "3GHI_C", 6.0, 3, "AYIAKQRQIS", 0),    // chain C does not exist: any chain
      hit(5, "1ABC_B", 1.0, 0, "MKTAYIAKQRQ", 2),   // found in chain A instead
  };
  TemplateFeaturizerOptions o;
  o.max_template_date = "2010-01-01";
  TemplateFeatures f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src, o);
  ASSERT_EQ(f.num_templates(), 3);
  // Sorted by sum_probs: 2DEF (filtered), 9ZZZ (warning), 3GHI, 1ABC_A, 1ABC_B.
  EXPECT_EQ(f.domain_names, (std::vector<std::string>{"3ghi_A", "1abc_A", "1abc_A"}));
  EXPECT_EQ(f.hits[0].name, "2def_A");
  EXPECT_EQ(f.hits[0].status, TemplateHitReport::Status::filtered);
  EXPECT_EQ(report(f, "9zzz_A").status, TemplateHitReport::Status::warning);
  EXPECT_NE(report(f, "9zzz_A").reason.find("mem:9zzz not found"), std::string::npos);
  EXPECT_EQ(f.warnings().size(), 1u);
  EXPECT_TRUE(f.errors().empty());
  EXPECT_EQ(f.sequences[1], "MKTAYIAKQRQ-----------");
  const Tensor& pos = f.arrays.at("template_all_atom_positions");
  // Query residue 0 of template 1 is residue 2 of chain 1abc_A: CA at x = 3.8 * 2 + 0.5.
  EXPECT_FLOAT_EQ(pos.data<float>()[(1 * 22 + 0) * kAtoms * 3 + 3], 8.1f);
  const Tensor& aatype = f.arrays.at("template_aatype");
  EXPECT_EQ(aatype.shape(), (Shape{3, 22, 22}));
  EXPECT_EQ(aatype.data<float>()[(1 * 22 + 21) * 22 + 21], 1.0f);  // gap
  EXPECT_FLOAT_EQ(f.arrays.at("template_sum_probs").data<float>()[0], 6.0f);

  o.max_hits = 1;
  f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src, o);
  EXPECT_EQ(f.domain_names, (std::vector<std::string>{"3ghi_A"}));
  EXPECT_EQ(f.hits.size(), 3u) << "processing stops once max_hits templates are made";
}

TEST(TemplateFeaturizer, FiltersObsoleteEntriesAndWildcards) {
  Entries src;
  src.add(entry("1abc", "2001-01-01", {chain("A", "MKTAYXAKQRQISF")}));  // X: MSE (M)
  std::vector<TemplateHit> hits = {
      hit(1, "1ABC_A", 9.0, 0, "MKTAYIAKQRQ", 0),  // I against X: the fuzzy match
      hit(2, "1ABC_A", 8.0, 0, "MKT", 0),          // aligned 3/22 > 0.1 but under 10 residues
      hit(3, "1ABC_A", 7.0, 0, "MK", 0),           // aligned 2/22 <= 0.1
      hit(4, "5OLD_A", 6.0, 0, "MKTAYIAKQRQ", 0),  // replaced by 1abc
      hit(5, "6DEL_A", 5.0, 0, "MKTAYIAKQRQ", 0),  // removed
      hit(6, "7X_A", 4.0, 0, "MKTAYIAKQRQ", 0),    // not a PDB id
  };
  TemplateFeaturizerOptions o;
  o.residue_letters = ResidueLetters::standard_only;
  o.obsolete = {{"5old", "1abc"}, {"6del", ""}};
  TemplateFeatures f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src, o);
  EXPECT_EQ(f.domain_names, (std::vector<std::string>{"1abc_A", "1abc_A"}));
  EXPECT_EQ(f.sequences[0].substr(0, 11), "MKTAYIAKQRQ");  // the hit's letters are kept
  EXPECT_EQ(f.hits[1].status, TemplateHitReport::Status::filtered);
  EXPECT_NE(f.hits[1].reason.find("template too short"), std::string::npos)
      << "3/22 = 0.136 passes the ratio, but 3 residues are too few: " << f.hits[1].reason;
  EXPECT_NE(f.hits[2].reason.find("aligned to the query too small"), std::string::npos)
      << f.hits[2].reason;
  EXPECT_EQ(f.hits[4].status, TemplateHitReport::Status::warning);
  EXPECT_EQ(f.hits[4].reason, "Hit 6del is obsolete.");
  EXPECT_EQ(f.hits[5].status, TemplateHitReport::Status::error);

  o.filters = HitFilters::colabfold;  // the date only: the short hits are taken
  f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src, o);
  EXPECT_EQ(f.num_templates(), 4);
}

TEST(TemplateFeaturizer, RealignsWithKalign) {
  Entries src;
  // The mmCIF's chain differs from the hit at one of 12 residues: kalign maps them (11/12 >= 90%).
  src.add(entry("1abc", "2001-01-01", {chain("A", "GGMKTAYWAKQRQIGG")}));
  std::vector<TemplateHit> hits = {hit(1, "1ABC_A", 9.0, 0, "MKTAYIAKQRQI", 0)};
  TemplateFeatures f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src);
  ASSERT_EQ(f.num_templates(), 1) << f.hits[0].reason;
  EXPECT_TRUE(f.hits[0].realigned);
  EXPECT_EQ(f.warnings().size(), 1u);
  EXPECT_EQ(f.sequences[0].substr(0, 12), "MKTAYWAKQRQI");  // now the mmCIF's letters
  TemplateFeaturizerOptions o;
  o.kalign_binary = "/nonexistent/kalign";
  f = featurize_templates(kQuery, hits, TemplateHitFormat::hhr, src, o);
  EXPECT_EQ(f.num_templates(), 0);
  EXPECT_EQ(f.hits[0].status, TemplateHitReport::Status::error);
  EXPECT_NE(f.hits[0].reason.find("cannot run '/nonexistent/kalign'"), std::string::npos)
      << f.hits[0].reason;
  EXPECT_NE(f.message.find("no usable template among 1 hits"), std::string::npos);
  EXPECT_EQ(f.arrays.at("template_aatype").shape(), (Shape{0, 22, 22}));
}

TEST(TemplateFeaturizer, HmmsearchDeduplicatesAndFallsBackToAnEmptyTemplate) {
  Entries src;
  src.add(
      entry("1abc", "2001-01-01", {chain("A", "MKTAYIAKQRQISF"), chain("B", "MKTAYIAKQRQISF")}));
  auto h1 = hit(1, "1abc_A", 0, 0, "MKTAYIAKQRQ", 0), h2 = hit(2, "1abc_B", 0, 0, "MKTAYIAKQRQ", 0);
  h1.sum_probs.reset();
  h2.sum_probs.reset();
  std::vector<TemplateHit> hits = {h1, h2};
  TemplateFeatures f = featurize_templates(kQuery, hits, TemplateHitFormat::hmmsearch_sto, src);
  EXPECT_EQ(f.num_templates(), 1);
  EXPECT_EQ(f.hits[1].status, TemplateHitReport::Status::duplicate);
  EXPECT_FLOAT_EQ(f.arrays.at("template_sum_probs").data<float>()[0], 0.0f);
  f = featurize_templates(kQuery, {}, TemplateHitFormat::hmmsearch_sto, src);
  EXPECT_EQ(f.num_templates(), 1);
  EXPECT_EQ(f.domain_names[0], "");
  EXPECT_NE(f.message.find("no hit"), std::string::npos);
}

// ---- processed features

FeatureDict raw_one_residue_pair(const float* xyz, int n_atoms, const int* atoms) {
  FeatureDict raw;
  Tensor aatype = Tensor::empty({1, 2, 22}, DType::float32);
  Tensor pos = Tensor::empty({1, 2, kAtoms, 3}, DType::float32);
  Tensor mask = Tensor::empty({1, 2, kAtoms}, DType::float32);
  Tensor probs = Tensor::empty({1, 1}, DType::float32);
  std::fill_n(aatype.data<float>(), 44, 0.0f);
  std::fill_n(pos.data<float>(), pos.numel(), 0.0f);
  std::fill_n(mask.data<float>(), mask.numel(), 0.0f);
  aatype.data<float>()[0 * 22 + 5] = 1;  // G (HHblits 5) -> glycine
  aatype.data<float>()[1 * 22 + 0] = 1;  // A -> alanine
  for (int k = 0; k < n_atoms; ++k) {
    int r = atoms[k] / kAtoms, a = atoms[k] % kAtoms;
    std::copy_n(xyz + 3 * k, 3, pos.data<float>() + (r * kAtoms + a) * 3);
    mask.data<float>()[r * kAtoms + a] = 1;
  }
  probs.data<float>()[0] = 3;
  raw.set("template_aatype", std::move(aatype));
  raw.set("template_all_atom_positions", std::move(pos));
  raw.set("template_all_atom_masks", std::move(mask));
  raw.set("template_sum_probs", std::move(probs));
  return raw;
}

TEST(ProcessedTemplates, TorsionConventionsAndPseudoBeta) {
  // Residue 0 (Gly): CA (-1,1,0), C (-1,0,0). Residue 1 (Ala): N (0,0,0), CA (1,-1,0) trans to
  // residue 0's CA about C-N (pre-omega = 180 degrees); its C (1,0,1), O, CB.
  const float xyz[] = {-1, 1, 0, -1, 0, 0, 0, 0, 0, 1, -1, 0, 2, -1, 1, 2, -2, 1, 1, -2, -1};
  const int atoms[] = {1, 2, kAtoms + 0, kAtoms + 1, kAtoms + 2, kAtoms + 4, kAtoms + 3};
  FeatureDict p =
      process_template_features(raw_one_residue_pair(xyz, 7, atoms), {.dtype = DType::float64});
  const double* f = p.at("template_angle_feat").data<double>();
  const double* r1 = f + 57;
  EXPECT_EQ(p.at("template_aatype").data<int32_t>()[0], 7);  // glycine in AlphaFold2's order
  EXPECT_EQ(r1[0], 1.0);                                     // one_hot: alanine
  EXPECT_NEAR(r1[22], 0.0, 1e-7);                            // pre-omega sin
  EXPECT_NEAR(r1[23], -1.0, 1e-7);                           // pre-omega cos: trans
  EXPECT_EQ(r1[50], 1.0);                                    // pre-omega mask
  EXPECT_EQ(r1[52], 1.0);                                    // psi mask
  EXPECT_EQ(r1[53], 0.0);                                    // chi1 mask: alanine has none
  EXPECT_EQ(p.at("template_angle_mask").data<double>()[1], 1.0);
  EXPECT_EQ(p.at("template_angle_mask").data<double>()[0], 0.0);  // residue 0 has no N or O
  // psi is negated: alt equals the angle for backbone torsions.
  EXPECT_EQ(r1[22 + 4], r1[36 + 4]);
  EXPECT_EQ(r1[22 + 5], r1[36 + 5]);
  // Pseudo-beta: CA for the glycine, CB for the alanine.
  const double* beta = p.at("template_pseudo_beta").data<double>();
  EXPECT_EQ(beta[0], -1.0);
  EXPECT_EQ(beta[1], 1.0);
  EXPECT_EQ(beta[3], 1.0);
  EXPECT_EQ(beta[4], -2.0);
  EXPECT_EQ(p.at("template_pseudo_beta_mask").data<double>()[0], 1.0);
  EXPECT_EQ(p.at("template_mask").shape(), (Shape{1}));
}

TEST(ProcessedTemplates, InvariantToRigidMotion) {
  const float xyz[] = {-1, 1, 0, -1, 0, 0, 0, 0, 0, 1, -1, 0, 2, -1, 1, 2, -2, 1, 1, -2, -1};
  const int atoms[] = {1, 2, kAtoms + 0, kAtoms + 1, kAtoms + 2, kAtoms + 4, kAtoms + 3};
  float moved[21];
  const double c = std::cos(0.7), s = std::sin(0.7);
  for (int k = 0; k < 7; ++k) {
    const float* v = xyz + 3 * k;
    moved[3 * k] = float(c * v[0] - s * v[1] + 5);
    moved[3 * k + 1] = float(s * v[0] + c * v[1] - 3);
    moved[3 * k + 2] = v[2] + 2;
  }
  auto a =
      process_template_features(raw_one_residue_pair(xyz, 7, atoms), {.dtype = DType::float64});
  auto b =
      process_template_features(raw_one_residue_pair(moved, 7, atoms), {.dtype = DType::float64});
  const double* fa = a.at("template_angle_feat").data<double>();
  const double* fb = b.at("template_angle_feat").data<double>();
  // Residue 1's defined angles (mask 1; the others involve the zero padding, which does not
  // move). Float32 inputs of the moved copy carry ~1e-7 rounding; the angles follow within it.
  const double* ra = fa + 57;
  const double* rb = fb + 57;
  int compared = 0;
  for (int k = 0; k < 7; ++k) {
    if (ra[50 + k] == 0) continue;
    ++compared;
    for (int j : {22 + 2 * k, 23 + 2 * k, 36 + 2 * k, 37 + 2 * k})
      EXPECT_NEAR(ra[j], rb[j], 2e-6) << "angle " << k << " element " << j;
  }
  EXPECT_EQ(compared, 3);
}

TEST(ProcessedTemplates, CropPadAndErrors) {
  const float xyz[] = {0, 0, 0};
  const int atoms[] = {1};
  FeatureDict raw = raw_one_residue_pair(xyz, 1, atoms);
  FeatureDict p =
      process_template_features(raw, {.max_templates = 3, .pad_to_max_templates = true});
  EXPECT_EQ(p.at("template_angle_feat").shape(), (Shape{3, 2, 57}));
  EXPECT_EQ(p.at("template_mask").data<float>()[0], 1.0f);
  EXPECT_EQ(p.at("template_mask").data<float>()[2], 0.0f);
  p = process_template_features(raw, {.max_templates = 0});
  EXPECT_EQ(p.at("template_aatype").shape(), (Shape{0, 2}));
  raw.set("template_sum_probs", Tensor::empty({2, 1}, DType::float32));
  EXPECT_THROW(process_template_features(raw), InvalidArgument);
}

}  // namespace
}  // namespace exafold::features
