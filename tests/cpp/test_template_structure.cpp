// Template mmCIF reading: CIF syntax as Biopython's MMCIF2Dict reads it, chains and SEQRES as
// AlphaFold2's mmcif_parsing finds them, atom37 as its featuriser takes them. (Parity with
// AlphaFold2 itself on real and crafted files: tests/python/test_templates_reference.py.)
#include <gtest/gtest.h>

#include <cmath>

#include "exafold/features/template_structure.h"
#include "features_test_util.h"

namespace exafold::features {
namespace {

constexpr int kN = 0, kCA = 1, kC = 2, kCB = 3, kSD = 18, kCD = 11, kNH1 = 29, kNH2 = 30;

// A small entry: entity 1 (protein: MET MSE GLY ARG ALA) as label chains A (author X) and B
// (author A); entity 2 a ligand. Chain X: MET with two CA locations, MSE with SE, GLY missing,
// ARG with NH1 nearer CD than NH2 is not (so it is swapped), ALA with an insertion code.
std::string entry_text(const std::string& extra_atoms = "") {
  return R"(data_TEST
_entry.id TEST
#
loop_
_pdbx_audit_revision_history.ordinal
_pdbx_audit_revision_history.revision_date
1 2010-05-05
2 2001-01-02
#
loop_
_entity_poly_seq.entity_id
_entity_poly_seq.num
_entity_poly_seq.mon_id
_entity_poly_seq.hetero
1 1 MET n
1 2 MSE n
1 3 GLY n
1 4 ARG n
1 5 ALA n
#
loop_
_chem_comp.id
_chem_comp.type
_chem_comp.name
ALA 'L-peptide linking' ALANINE
ARG 'L-peptide linking' ARGININE
GLY 'peptide linking' GLYCINE
MET 'L-peptide linking' METHIONINE
MSE 'L-peptide linking' SELENOMETHIONINE
HOH non-polymer WATER
#
loop_
_struct_asym.id
_struct_asym.entity_id
A 1
B 1
C 2
#
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
ATOM   1  N  N   . MET A 1 1 ? 1.0 0.0 0.0 1.00 10.0 10 X 1
ATOM   2  C  CA  A MET A 1 1 ? 2.0 0.0 0.0 0.40 10.0 10 X 1
ATOM   3  C  CA  B MET A 1 1 ? 2.5 0.0 0.0 0.60 10.0 10 X 1
ATOM   4  C  C   . MET A 1 1 ? 3.0 0.0 0.0 1.00 10.0 10 X 1
HETATM 5  N  N   . MSE A 1 2 ? 4.0 0.0 0.0 1.00 10.0 11 X 1
HETATM 6  C  CA  . MSE A 1 2 ? 5.0 0.0 0.0 1.00 10.0 11 X 1
HETATM 7  SE SE  . MSE A 1 2 ? 6.0 1.0 0.0 1.00 10.0 11 X 1
ATOM   8  N  N   . ARG A 1 4 ? 7.0 0.0 0.0 1.00 10.0 13 X 1
ATOM   9  C  CA  . ARG A 1 4 ? 8.0 0.0 0.0 1.00 10.0 13 X 1
ATOM   10 C  CD  . ARG A 1 4 ? 9.0 0.0 0.0 1.00 10.0 13 X 1
ATOM   11 N  NH1 . ARG A 1 4 ? 9.0 3.0 0.0 1.00 10.0 13 X 1
ATOM   12 N  NH2 . ARG A 1 4 ? 9.0 2.0 0.0 1.00 10.0 13 X 1
ATOM   13 N  N   . ALA A 1 5 A 10.0 0.0 0.0 1.00 10.0 13 X 1
ATOM   14 C  CA  . ALA A 1 5 A 11.0 0.0 0.0 1.00 10.0 13 X 1
ATOM   15 C  CB  . ALA A 1 5 A 11.0 1.0 0.0 1.00 10.0 13 X 1
ATOM   16 N  N   . MET B 1 1 ? 20.0 0.0 0.0 1.00 10.0 1 A 1
HETATM 17 O  O   . HOH C 2 . ? 30.0 0.0 0.0 1.00 10.0 101 X 1
)" + extra_atoms +
         "ATOM   18 N  N   . MET A 1 1 ? 99.0 0.0 0.0 1.00 10.0 10 X 2\n";
}

const float* atom(const TemplateChain& c, int residue, int a) {
  return c.positions.data() + (residue * 37 + a) * 3;
}
float mask(const TemplateChain& c, int residue, int a) { return c.mask[size_t(residue * 37 + a)]; }

TEST(TemplateMmcif, ChainsSeqresAndAtoms) {
  TemplateEntry e = parse_template_mmcif(entry_text(), "test", "t.cif");
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.release_date, "2001-01-02");  // the earliest revision
  ASSERT_EQ(e.chains.size(), 2u);
  const TemplateChain& x = e.chains[0];
  EXPECT_EQ(x.id, "X");  // the author chain of label chain A
  EXPECT_EQ(e.chains[1].id, "A");
  EXPECT_EQ(x.residues, (std::vector<std::string>{"MET", "MSE", "GLY", "ARG", "ALA"}));
  EXPECT_EQ(x.sequence(ResidueLetters::biopython_1_79), "MMGRA");
  EXPECT_EQ(x.sequence(ResidueLetters::standard_only), "MXGRA");
  ASSERT_EQ(x.atom_error, "");
  EXPECT_EQ(atom(x, 0, kCA)[0], 2.5f);  // the location with the higher occupancy
  EXPECT_EQ(mask(x, 1, kSD), 1.0f);     // MSE's selenium stands in for SD
  EXPECT_EQ(atom(x, 1, kSD)[1], 1.0f);
  for (int a = 0; a < 37; ++a) EXPECT_EQ(mask(x, 2, a), 0.0f) << "GLY has no coordinates";
  EXPECT_EQ(atom(x, 3, kNH1)[1], 2.0f);  // NH1 is the one nearer CD after the swap
  EXPECT_EQ(atom(x, 3, kNH2)[1], 3.0f);
  EXPECT_EQ(mask(x, 3, kCD), 1.0f);
  EXPECT_EQ(mask(x, 4, kCB), 1.0f);  // found by its insertion code
  EXPECT_EQ(atom(x, 0, kN)[0], 1.0f) << "model 1, not model 2";
  EXPECT_EQ(mask(x, 0, kC), 1.0f);
  const TemplateChain& a = e.chains[1];
  EXPECT_EQ(mask(a, 0, kN), 1.0f);
  EXPECT_EQ(atom(a, 0, kN)[0], 20.0f);
  EXPECT_EQ(mask(a, 1, kN), 0.0f);
}

TEST(TemplateMmcif, OccupancyTiesKeepTheFirstLocation) {
  std::string text = entry_text();
  text.replace(text.find("0.40 10.0 10 X 1"), 4, "0.60");
  TemplateEntry e = parse_template_mmcif(text, "test");
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(atom(e.chains[0], 0, kCA)[0], 2.0f);
}

TEST(TemplateMmcif, FarCalphaIsAWarningOfThatChain) {
  std::string text = entry_text();
  text.replace(text.find("8.0 0.0 0.0"), 11, "800 0.0 0.0");
  TemplateEntry e = parse_template_mmcif(text, "test");
  ASSERT_EQ(e.error, "");
  EXPECT_TRUE(e.chains[0].atom_error_is_warning);
  EXPECT_NE(e.chains[0].atom_error.find("more than 150 A"), std::string::npos)
      << e.chains[0].atom_error;
  EXPECT_EQ(e.chains[1].atom_error, "");
}

void expect_unreadable(const std::string& text, const std::string& needle) {
  TemplateEntry e = parse_template_mmcif(text, "test", "t.cif");
  EXPECT_TRUE(e.chains.empty());
  EXPECT_NE(e.error.find(needle), std::string::npos) << "error: " << e.error;
}

TEST(TemplateMmcif, SyntaxErrorsNameTheLine) {
  expect_unreadable("", "t.cif:1: empty file");
  expect_unreadable("loop_\n_a.b\n1\n", "t.cif:1: not an mmCIF file");
  expect_unreadable("data_x\n_a.b 'open\n", "t.cif:2: line ended with a quote open");
  expect_unreadable("data_x\n_a.b\n;text\nmore\n", "t.cif:3: text field");
  expect_unreadable("data_x\nloop_\n_a.b\n_a.c\n1 2 3\n_d.e 4\n", "t.cif:6: loop of 2 data names");
  expect_unreadable("data_x\n_a.b 1\n_a.b 2\n", "t.cif:3: data name '_a.b' given twice");
  expect_unreadable("data_x\n_a.b\n_a.c 1\n", "t.cif:3: data name '_a.b' has no value");
  expect_unreadable("data_x\n_a.b 1\nvalue\n", "t.cif:3: expected a data name");
  expect_unreadable("data_x\n_a.b 1\ndata_y\n", "only one data block");
  expect_unreadable("data_x\n_a.b \x01\n", "t.cif:2: line is a control character");
}

TEST(TemplateMmcif, QuotingAndTextFieldsAsMmcif2Dict) {
  // A quote inside a token is part of it; a quoted value may hold blanks and '#'; a text field
  // keeps its lines. None of this may disturb the items the reader takes.
  std::string text = entry_text();
  text.replace(text.find("_entry.id TEST"), 14,
               "_entry.id TEST\n_struct.title 'it''s # not a comment'\n_x.y O5'\n_x.z\n;line 1\n"
               "  line 2\n;\n");
  TemplateEntry e = parse_template_mmcif(text, "test");
  EXPECT_EQ(e.error, "");
  EXPECT_EQ(e.chains.size(), 2u);
}

TEST(TemplateMmcif, ContentAlphaFold2CannotUse) {
  std::string t = entry_text();
  std::string no_protein = t;
  no_protein.replace(no_protein.find("'L-peptide linking' ALANINE"), 27, "'RNA linking' X");
  for (const char* r : {"'L-peptide linking' ARGININE", "'peptide linking' GLYCINE",
                        "'L-peptide linking' METHIONINE", "'L-peptide linking' SELENOMETHIONINE"})
    no_protein.replace(no_protein.find(r), std::string(r).size(), "'DNA linking' X");
  expect_unreadable(no_protein, "no protein chains");
  std::string bad_coord = t;
  bad_coord.replace(bad_coord.find("20.0 0.0 0.0"), 4, "2x.0");
  expect_unreadable(bad_coord, "t.cif:73: Cartn_x is not a number: '2x.0'");
  expect_unreadable(entry_text("ATOM 19 N N . ALA A 1 5 A 10.0 0.0 0.0 1.00 10.0 13 X 1\n"),
                    "atom N defined twice in residue ALA");
  std::string no_model = t;
  no_model.replace(no_model.find("_atom_site.pdbx_PDB_model_num\n"), 30, "");
  for (size_t p = no_model.find(" X 1\n"); p != std::string::npos; p = no_model.find(" X 1\n"))
    no_model.replace(p, 5, " X\n");
  for (size_t p = no_model.find(" A 1\n"); p != std::string::npos; p = no_model.find(" A 1\n"))
    no_model.replace(p, 5, " A\n");
  no_model.replace(no_model.find(" X 2\n"), 5, " X\n");
  expect_unreadable(no_model, "no _atom_site.pdbx_PDB_model_num");
  std::string lost_chain = t;  // label chain B has atoms only in model 2
  lost_chain.replace(lost_chain.find("20.0 0.0 0.0 1.00 10.0 1 A 1"), 28,
                     "20.0 0.0 0.0 1.00 10.0 1 A 2");
  expect_unreadable(lost_chain, "protein chain B has no atoms in model 1");
}

TEST(TemplateMmcif, UnopenableFileRaises) {
  EXPECT_THROW(read_template_mmcif("/nonexistent/1abc.cif", "1abc"), IoError);
}

}  // namespace
}  // namespace exafold::features
