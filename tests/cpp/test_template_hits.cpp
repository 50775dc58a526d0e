// Template search results: HHsearch .hhr and hmmsearch Stockholm -> TemplateHit, AlphaFold2's
// obsolete.dat, and precise errors on bad input. (Field-for-field parity with AlphaFold2's
// parsers on real and crafted files is tests/python/test_templates_reference.py.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "exafold/features/obsolete_pdbs.h"
#include "exafold/features/template_hits.h"
#include "features_test_util.h"

namespace exafold::features {
namespace {

using testing::expect_parse_error;

// One hit block as HHsearch writes it: 'Q <name padded to 15>' and the numbers after column 17.
std::string hhr_block(int no, const std::string& name, const std::string& q, int qs, int qe,
                      const std::string& t, int ts, int te, double sum_probs = 12.5, int cols = 5) {
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "Probab=7.51  E-value=3.8e+02  Score=16.19  Aligned_cols=%d  Identities=23%%  "
                "Similarity=0.398  Sum_probs=%.1f  Template_Neff=4.500\n",
                cols, sum_probs);
  char qline[256], tline[256];
  std::snprintf(qline, sizeof qline, "Q %-15s%4d %s %4d (73)\n", "query", qs, q.c_str(), qe);
  std::snprintf(tline, sizeof tline, "T %-15s%4d %s %4d (41)\n", name.substr(0, 6).c_str(), ts,
                t.c_str(), te);
  return "No " + std::to_string(no) + "\n>" + name + "\n" + summary + "\n" + qline +
         "Q Consensus         7 aEhH~k   12 (73)\n                      .++|.\n" + tline +
         "T ss_pred             HHHHHH\nConfidence            345666\n\n";
}

const std::string kHeader =
    "Query         query\nMatch_columns 73\n\n No Hit    Prob\n  1 1HF9_B ATPASE   7.5\n\n";

TEST(Hhr, FieldsAsAlphaFold2) {
  std::string text =
      kHeader +
      hhr_block(1, "1HF9_B ATPASE INHIBITOR; NMR", "AEH-HK", 7, 11, "IS-HAK", 10, 14, 13.1, 4) +
      hhr_block(2, "2CRB_A nuclear", "HKAA", 11, 14, "EE-A", 32, 34) + "Done!\n";
  auto hits = parse_hhr(text, "x.hhr");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].index, 1);
  EXPECT_EQ(hits[0].name, "1HF9_B ATPASE INHIBITOR; NMR");
  EXPECT_EQ(hits[0].aligned_cols, 4);
  EXPECT_DOUBLE_EQ(*hits[0].sum_probs, 13.1);
  EXPECT_EQ(hits[0].query, "AEH-HK");
  EXPECT_EQ(hits[0].hit_sequence, "IS-HAK");
  EXPECT_EQ(hits[0].indices_query, (std::vector<int32_t>{6, 7, 8, -1, 9, 10}));
  EXPECT_EQ(hits[0].indices_hit, (std::vector<int32_t>{9, 10, -1, 11, 12, 13}));
  EXPECT_EQ(hits[0].line, 7);
  EXPECT_EQ(hits[1].indices_hit, (std::vector<int32_t>{31, 32, -1, 33}));
}

TEST(Hhr, MultiBlockAlignmentsAccumulate) {
  std::string text = kHeader + hhr_block(1, "1ABC_A x", "AAAA", 1, 4, "CCCC", 5, 8);
  // A second Q/T pair continues the same hit.
  text += "Q query             5 DD    6 (73)\nT 1ABC_A            9 EE   10 (41)\n";
  auto hits = parse_hhr(text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].query, "AAAADD");
  EXPECT_EQ(hits[0].indices_query, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(hits[0].indices_hit, (std::vector<int32_t>{4, 5, 6, 7, 8, 9}));
}

TEST(Hhr, NoHits) { EXPECT_TRUE(parse_hhr(kHeader + "Done!\n").empty()); }

TEST(Hhr, Errors) {
  const std::string good = hhr_block(1, "1ABC_A x", "AAAA", 1, 4, "CCCC", 5, 8);
  expect_parse_error([] { parse_hhr("", "x.hhr"); }, 1, "x.hhr:1: empty file");
  expect_parse_error([] { parse_hhr("# STOCKHOLM 1.0\n", "x.hhr"); }, 1, "not an HHsearch result");
  expect_parse_error([&] { parse_hhr(kHeader + "No x\n", "x.hhr"); }, 7,
                     "expected 'No <hit number>'");
  expect_parse_error([&] { parse_hhr(kHeader + "No 1\nProbab=1\n", "x.hhr"); }, 8,
                     "expected the hit's '>' line");
  expect_parse_error([&] { parse_hhr(kHeader + "No 1\n>1ABC_A\nProbab=1 E-value=2\n", "x.hhr"); },
                     9, "the summary line needs 'Score='");
  std::string bad_number = good;
  bad_number.replace(bad_number.find("Sum_probs=12.5"), 14, "Sum_probs=1x.5");
  expect_parse_error([&] { parse_hhr(kHeader + bad_number, "x.hhr"); }, 9,
                     "'Sum_probs=' is not a number");
  expect_parse_error(
      [&] { parse_hhr(kHeader + good + "Q query             5 DDD    6 (73)\n", "x.hhr"); }, 18,
      "the query segment has 3 columns, residues 5-6 with 0 gaps need 2");
  expect_parse_error(
      [&] {
        parse_hhr(kHeader + good +
                      "Q query             5 DD    6 (73)\nT 1ABC_A            9 E "
                      "  10 (41)\n",
                  "x.hhr");
      },
      19, "the template segment has 1 columns, its query segment 2");
  expect_parse_error([&] { parse_hhr(kHeader + good + "Q query             5 Dd    6 (73)\n"); },
                     18, "unexpected lower-case residue 'd'");
  expect_parse_error([&] { parse_hhr(kHeader + good + "Q query\n"); }, 18,
                     "expected the first residue number at column 18");
  const std::string summary =
      "Probab=7.51  E-value=3.8e+02  Score=16.19  Aligned_cols=5  Identities=23%  "
      "Similarity=0.398  Sum_probs=12.5  Template_Neff=4.500\n";
  expect_parse_error(
      [&] {
        parse_hhr(kHeader + "No 1\n>1ABC_A x\n" + summary + "T 1ABC_A            9 EE   10 (41)\n");
      },
      10, "a 'T' line before the block's 'Q' line");
  expect_parse_error([&] { parse_hhr(kHeader + "No 1\n>1ABC_A\n"); }, 8,
                     "ends before its '>' and summary lines");
  expect_parse_error([&] { parse_hhr(kHeader + "No 1\n>1AB\x01\n"); }, 8, "control character");
}

// ---- hmmsearch Stockholm

const std::string kQuery = "MKVLAAGIW";  // 9 residues = 9 match columns

std::string sto(const std::string& body) {
  return "# STOCKHOLM 1.0\n#=GF ID query\n#=GF AU hmmsearch (HMMER 3.3.2)\n\n" + body + "//\n";
}

TEST(HmmsearchSto, FieldsAsAlphaFold2) {
  std::string text =
      sto("#=GS 1abc_A/3-12 DE [subseq from] mol:protein length:40  Some protein\n"
          "#=GS 2xyz_B/1-5  DE [subseq from] mol:na length:20  RNA\n"
          "#=GS 3def_AB/7-15 DE [subseq from] mol:protein length:99  Other\n\n"
          "1abc_A/3-12   MKVl.AAG.-IW\n"
          "#=GR 1abc_A/3-12 PP 99.........\n"
          "2xyz_B/1-5    ---......-AG\n"
          "3def_AB/7-15  --VlaAGI.WK-\n"
          "#=GC RF       xxx..xxx.xxx\n");
  auto hits = parse_hmmsearch_sto(text, kQuery, "h.sto");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].index, 1);
  EXPECT_EQ(hits[0].name, "1abc_A");
  EXPECT_FALSE(hits[0].sum_probs.has_value());
  EXPECT_EQ(hits[0].query, kQuery);
  EXPECT_EQ(hits[0].hit_sequence, "MKVLAAG-IW");  // insertion kept, upper-cased; '.' dropped
  EXPECT_EQ(hits[0].aligned_cols, 8);
  EXPECT_EQ(hits[0].indices_hit, (std::vector<int32_t>{2, 3, 4, 6, 7, 8, -1, 9, 10}));
  EXPECT_EQ(hits[0].indices_query, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  // The RNA row is skipped but still counted.
  EXPECT_EQ(hits[1].index, 3);
  EXPECT_EQ(hits[1].name, "3def_AB");
  EXPECT_EQ(hits[1].hit_sequence, "--VLAAGIWK-");
  EXPECT_EQ(hits[1].aligned_cols, 6);
  EXPECT_EQ(hits[1].indices_hit, (std::vector<int32_t>{-1, -1, 6, 9, 10, 11, 12, 13, -1}));
}

TEST(HmmsearchSto, EmptyFileHasNoHits) {
  EXPECT_TRUE(parse_hmmsearch_sto("", kQuery).empty());
  EXPECT_TRUE(parse_hmmsearch_sto("\n\n", kQuery).empty());
  EXPECT_TRUE(parse_hmmsearch_sto(sto(""), kQuery).empty());
}

TEST(HmmsearchSto, Errors) {
  const std::string gs = "#=GS 1abc_A/3-11 DE [subseq from] mol:protein length:40  P\n";
  expect_parse_error([] { parse_hmmsearch_sto("No 1\n", kQuery, "h.sto"); }, 1,
                     "not a Stockholm file");
  expect_parse_error([&] { parse_hmmsearch_sto("# STOCKHOLM 1.0\n" + gs, kQuery, "h.sto"); }, 2,
                     "truncated file");
  expect_parse_error(
      [&] { parse_hmmsearch_sto(sto(gs + "1abc_A/3-11 MKVLAAGI*\n"), kQuery, "h.sto"); }, 6,
      "unexpected '*' at column 21");
  expect_parse_error(
      [&] { parse_hmmsearch_sto(sto(gs + "1abc_A/3-11 MKVLAAGIW\n2abc_A/1-9 MKV\n"), kQuery); }, 7,
      "row '2abc_A/1-9' has 3 alignment columns");
  expect_parse_error([&] { parse_hmmsearch_sto(sto(gs + gs + "1abc_A/3-11 MKVLAAGIW\n"), kQuery); },
                     6, "a second #=GS DE line for '1abc_A/3-11'");
  expect_parse_error([&] { parse_hmmsearch_sto(sto(gs + "9zzz_A/1-9 MKVLAAGIW\n"), kQuery); }, 5,
                     "#=GS DE line for '1abc_A/3-11', which has no aligned sequence");
  expect_parse_error(
      [&] {
        parse_hmmsearch_sto(
            sto("#=GS 1ABC_A/3-11 DE mol:protein length:40\n1ABC_A/3-11 MKVLAAGIW\n"), kQuery);
      },
      5, "a lower-case PDB id");
  expect_parse_error([&] { parse_hmmsearch_sto(sto(gs + "1abc_A/3-11 MKVLAAGI\n"), "MKVLAAGIWW"); },
                     6, "has 8 match columns, the query has 10 residues");
  expect_parse_error(
      [&] { parse_hmmsearch_sto(sto(gs + "1abc_A/3-11 MKVLAAGIW\n") + "x\n", kQuery); }, 8,
      "text after the '//'");
}

// ---- hits beside the alignments

TEST(TemplateHitsFile, FoundByAlphaFold2AndOpenFoldNames) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "exafold_test_template_hits";
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_FALSE(find_template_hits(dir.string()).has_value());
  std::ofstream(dir / "hmm_output.sto") << "";
  auto f = find_template_hits(dir.string());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->format, TemplateHitFormat::hmmsearch_sto);
  EXPECT_EQ(fs::path(f->path).filename(), "hmm_output.sto");
  std::ofstream(dir / "pdb70_hits.hhr") << "";
  try {
    find_template_hits(dir.string());
    ADD_FAILURE() << "two hits files must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pdb70_hits.hhr and hmm_output.sto"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(template_hit_format("hits.a3m"), InvalidArgument);
  fs::remove_all(dir);
}

// ---- obsolete.dat

TEST(ObsoletePdbs, RemovedAndReplaced) {
  auto o = parse_obsolete_pdbs(
      " LIST OF OBSOLETE COORDINATE ENTRIES AND SUCCESSORS\n"
      "OBSLTE    31-JUL-94 116L     216L\n"
      "OBSLTE    06-NOV-19 6G9Y\n"
      "OBSLTE    26-SEP-06 2H33     2JM5 2OWI\n");
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o.at("116l"), "216l");
  EXPECT_EQ(o.at("6g9y"), "");
  EXPECT_EQ(o.at("2h33"), "2jm5");  // the first successor, as AlphaFold2 takes
}

TEST(ObsoletePdbs, Errors) {
  expect_parse_error([] { parse_obsolete_pdbs("OBSLTE    06-NOV-19 6G9Y1\n", "obsolete.dat"); }, 1,
                     "obsolete.dat:1: expected 'OBSLTE");
  expect_parse_error(
      [] { parse_obsolete_pdbs("\nOBSLTE    31-JUL-94 11-L     216L\n", "obsolete.dat"); }, 2,
      "expected a PDB id in columns 21-24");
}

}  // namespace
}  // namespace exafold::features
