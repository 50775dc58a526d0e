#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "exafold/core/error.h"
#include "exafold/io/mmcif.h"
#include "exafold/io/pdb.h"

namespace exafold::io {
namespace {

// The OpenFold prediction of 6KWC (model_1_ptm, written by AlphaFold2's protein.to_pdb), parsed
// back into atom37 arrays: the writer must reproduce its records.
struct Parsed {
  std::vector<uint8_t> aatype, mask;
  std::vector<int32_t> residue_index;
  std::vector<float> positions, plddt;
  std::vector<std::string> lines;  // the reference file
  ProteinStructure view() const { return {aatype, residue_index, positions, mask, plddt, 'A'}; }
};

std::string data_path(const char* name) {
  const char* dir = std::getenv("EXAFOLD_TEST_DATA");
  return std::string(dir ? dir : "tests/data") + "/" + name;
}

Parsed parse_reference() {
  Parsed p;
  std::ifstream in(data_path("6KWC_1_model_1_ptm_unrelaxed.pdb"));
  EXPECT_TRUE(bool(in)) << "missing test data; set EXAFOLD_TEST_DATA";
  for (std::string line; std::getline(in, line);) {
    p.lines.push_back(line);
    if (line.rfind("ATOM", 0) != 0) continue;
    const int resi = std::stoi(line.substr(22, 4));
    if (p.residue_index.empty() || p.residue_index.back() != resi) {
      const std::string res = line.substr(17, 3);
      size_t t = 0;
      while (kRestypes3[t] != res) ++t;
      p.aatype.push_back(uint8_t(t));
      p.residue_index.push_back(resi);
      p.plddt.push_back(std::stof(line.substr(60, 6)));
      p.mask.resize(p.mask.size() + 37, 0);
      p.positions.resize(p.positions.size() + 37 * 3, 0.0f);
    }
    std::string name = line.substr(12, 4);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    size_t a = 0;
    while (kAtom37Names[a] != name) ++a;
    const size_t base = (p.aatype.size() - 1) * 37 + a;
    p.mask[base] = 1;
    for (int k = 0; k < 3; ++k) p.positions[base * 3 + k] = std::stof(line.substr(30 + 8 * k, 8));
  }
  return p;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(PdbWriter, ReproducesAlphaFoldRecords) {
  const Parsed ref = parse_reference();
  ASSERT_EQ(ref.aatype.size(), 191u);
  const auto ours = split_lines(make_pdb_string(ref.view()));
  // Reference: REMARK, PARENT, MODEL, 1,482 ATOM, TER, ENDMDL, END. Ours starts at MODEL, which
  // we write per the PDB standard (serial right-aligned in columns 11-14) where AlphaFold2
  // writes it left-aligned; every later record must match byte for byte.
  ASSERT_EQ(ours.size(), ref.lines.size() - 2);
  EXPECT_EQ(ours[0], "MODEL        1" + std::string(66, ' '));
  for (size_t i = 1; i < ours.size(); ++i) ASSERT_EQ(ours[i], ref.lines[i + 2]) << "record " << i;
  for (const auto& line : ours) ASSERT_EQ(line.size(), 80u);
}

TEST(PdbWriter, OptionsAndLimits) {
  const Parsed ref = parse_reference();
  const auto minimal = split_lines(make_pdb_string(ref.view(), PdbWriteOptions::minimal()));
  EXPECT_EQ(minimal.size(), 1482u);
  EXPECT_EQ(minimal.front().rfind("ATOM      1  N   GLY A   1", 0), 0u);

  auto bad = ref;
  bad.positions[0] = 12345.0f;
  EXPECT_THROW(make_pdb_string(bad.view()), InvalidArgument);
  bad = ref;
  bad.residue_index[0] = 10000;
  EXPECT_THROW(make_pdb_string(bad.view()), InvalidArgument);
  bad = ref;
  bad.plddt.pop_back();
  EXPECT_THROW(make_pdb_string(bad.view()), InvalidArgument);
}

TEST(PdbWriter, CoordinatesThatRoundIntoTheColumnsAreWritten) {
  // %8.3f writes -999.9994 as -999.999, which fits; -999.9996 would be -1000.000, which does not.
  auto p = parse_reference();
  p.positions[0] = -999.9994f;
  p.positions[1] = 9999.9990f;
  const auto lines = split_lines(make_pdb_string(p.view()));
  EXPECT_EQ(lines[1].substr(30, 16), "-999.9999999.999");
  p.positions[0] = -999.9996f;
  EXPECT_THROW(make_pdb_string(p.view()), InvalidArgument);
  p.positions[0] = 0;
  p.positions[1] = 9999.9996f;
  EXPECT_THROW(make_pdb_string(p.view()), InvalidArgument);
}

TEST(PdbWriter, RemarksComeFirstWrappedToTheColumns) {
  const Parsed ref = parse_reference();
  PdbWriteOptions o;
  const std::string long_text(100, 'w');
  o.remarks = {"exafold prediction of 6KWC_1", "weights: " + long_text};
  const auto lines = split_lines(make_pdb_string(ref.view(), o));
  EXPECT_EQ(lines[0].substr(0, 39), "REMARK 250 exafold prediction of 6KWC_1");
  EXPECT_EQ(lines[1].substr(0, 19), "REMARK 250 weights:");
  EXPECT_EQ(lines[2].substr(0, 11) + lines[2].substr(11, 69),
            "REMARK 250 " + long_text.substr(0, 69));
  EXPECT_EQ(lines[3].substr(0, 42), "REMARK 250 " + long_text.substr(69));
  EXPECT_EQ(lines[4].substr(0, 5), "MODEL");
  for (const auto& line : lines) ASSERT_EQ(line.size(), 80u);
  o.remarks = {"tab\there"};
  EXPECT_THROW(make_pdb_string(ref.view(), o), InvalidArgument);
}

TEST(MmcifWriter, AtomSiteCarriesEveryAtom) {
  const Parsed ref = parse_reference();
  const auto lines = split_lines(make_mmcif_string(ref.view()));
  EXPECT_EQ(lines[0], "data_exafold");
  size_t atoms = 0;
  for (const auto& line : lines) {
    if (line.rfind("ATOM ", 0) != 0) continue;
    // ATOM id type atom alt comp asym entity seq ins x y z occ B auth_seq auth_comp auth_asym
    // auth_atom model
    std::istringstream f(line);
    std::string group, type, atom, alt, comp, asym, entity, ins, auth_comp, auth_asym, auth_atom;
    int id, seq, auth_seq, model;
    float x, y, z, occ, b;
    f >> group >> id >> type >> atom >> alt >> comp >> asym >> entity >> seq >> ins >> x >> y >>
        z >> occ >> b >> auth_seq >> auth_comp >> auth_asym >> auth_atom >> model;
    ASSERT_TRUE(bool(f)) << line;
    // The reference PDB's ATOM record of the same serial describes the same atom.
    const std::string& pdb = ref.lines[2 + size_t(id)];
    EXPECT_EQ(comp, pdb.substr(17, 3));
    EXPECT_EQ(auth_comp, comp);
    EXPECT_EQ(auth_atom, atom);
    EXPECT_EQ(auth_seq, std::stoi(pdb.substr(22, 4)));
    EXPECT_EQ(x, std::stof(pdb.substr(30, 8)));
    EXPECT_EQ(b, std::stof(pdb.substr(60, 6)));
    EXPECT_EQ(seq, auth_seq);  // 6KWC is numbered from 1 without gaps
    ++atoms;
  }
  EXPECT_EQ(atoms, 1482u);
  const std::string text = make_mmcif_string(ref.view());
  EXPECT_NE(text.find("_ma_qa_metric_local.metric_value"), std::string::npos);
  // Every model the metrics name is listed (python-modelcif and gemmi check the whole file in
  // tests/python/test_io.py).
  EXPECT_NE(text.find("_ma_model_list.model_id 1"), std::string::npos);
  EXPECT_EQ(text.find("pTM"), std::string::npos);  // no pTM given, none written
  const std::string minimal = make_mmcif_string(ref.view(), MmcifWriteOptions::minimal());
  EXPECT_EQ(minimal.find("_ma_qa_metric"), std::string::npos);
  EXPECT_EQ(minimal.find("_entity_poly_seq"), std::string::npos);
  EXPECT_THROW(make_mmcif_string(ref.view(), {.name = "two words"}), InvalidArgument);
}

TEST(MmcifWriter, FreeTextIsQuotedAndPtmIsAGlobalMetric) {
  const Parsed ref = parse_reference();
  MmcifWriteOptions o;
  o.title = "exafold prediction of 6KWC_1";
  o.model_name = "it's model_1_ptm";
  o.details = "quotes ' and \" both";
  o.ptm = 0.8125f;
  const std::string text = make_mmcif_string(ref.view(), o);
  EXPECT_NE(text.find("_struct.title 'exafold prediction of 6KWC_1'"), std::string::npos);
  EXPECT_NE(text.find("_ma_model_list.model_name \"it's model_1_ptm\""), std::string::npos);
  EXPECT_NE(text.find("_struct.pdbx_model_details \n;quotes ' and \" both\n;"), std::string::npos);
  EXPECT_NE(text.find("3 pTM 'Predicted TM score' pTM global ."), std::string::npos);
  EXPECT_NE(text.find("2 1 3 0.812\n"), std::string::npos);  // %.3f of 0.8125 rounds to even
  // Only the residues present are described, once each.
  EXPECT_NE(text.find("\nGLY 'peptide linking' GLYCINE 'C2 H5 N O2' 75.067 'CCD Core'\n"),
            std::string::npos);
  EXPECT_EQ(text.find("\nUNK "), std::string::npos);
  MmcifWriteOptions bad;
  bad.entity_poly = false;
  EXPECT_THROW(make_mmcif_string(ref.view(), bad), InvalidArgument);
}

}  // namespace
}  // namespace exafold::io
