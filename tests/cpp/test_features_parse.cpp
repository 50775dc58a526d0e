// FASTA, A3M and Stockholm parsing: AlphaFold2's conventions and precise errors on bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "exafold/features/a3m.h"
#include "exafold/features/fasta.h"
#include "exafold/features/stockholm.h"
#include "features_test_util.h"

namespace exafold::features {
namespace {

using testing::expect_parse_error;

std::vector<int32_t> dels(const Msa& m, int64_t r) {
  std::vector<int32_t> d(size_t(m.width()));
  m.row(r).deletion_counts(d.data());
  return d;
}

// ---- FASTA

TEST(Fasta, MultiRecordWithWrappedLines) {
  auto recs = parse_fasta(">one first\nACDE\nFGH\n\n>two\r\nKLM\r\n  >three  \n  NPQ  \n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].description, "one first");
  EXPECT_EQ(recs[0].sequence, "ACDEFGH");
  EXPECT_EQ(recs[0].line, 1);
  EXPECT_EQ(recs[1].description, "two");
  EXPECT_EQ(recs[1].sequence, "KLM");
  EXPECT_EQ(recs[2].description, "three");
  EXPECT_EQ(recs[2].sequence, "NPQ");
  EXPECT_EQ(recs[2].line, 7);
}

TEST(Fasta, LastLineWithoutNewline) {
  auto recs = parse_fasta(">a\nAC\nDE");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].sequence, "ACDE");
}

TEST(Fasta, SequencesAreUpperCaseWithoutTheStop) {
  auto recs = parse_fasta(">a\nmkV\nla*\n>b\nMK*\n>c\nmk\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].sequence, "MKVLA");
  EXPECT_EQ(recs[1].sequence, "MK");
  EXPECT_EQ(recs[2].sequence, "MK");
  // One stop is dropped, not more: a record of a stop alone has no sequence.
  EXPECT_EQ(parse_fasta(">a\nMK**\n")[0].sequence, "MK*");
  expect_parse_error([] { parse_fasta(">a\n*\n", "q.fasta"); }, 1, "record 'a' has no sequence");
}

TEST(Fasta, Errors) {
  expect_parse_error([] { parse_fasta("", "q.fasta"); }, 1, "q.fasta:1: empty file");
  expect_parse_error([] { parse_fasta("\n\n\n", "q.fasta"); }, 3, "empty file");
  expect_parse_error([] { parse_fasta("ACDE\n>a\nAC\n", "q.fasta"); }, 1,
                     "expected a '>' header line");
  expect_parse_error([] { parse_fasta(">a\nAC\n>b\n", "q.fasta"); }, 3,
                     "record 'b' has no sequence (truncated file?)");
  expect_parse_error([] { parse_fasta(">a\nAC1E\n", "q.fasta"); }, 2,
                     "unexpected '1' at column 3 in the sequence of 'a'");
  expect_parse_error([] { parse_fasta(">a\nAC\n>b\xff\xfe\nAC\n", "q.fasta"); }, 3,
                     "header is not valid UTF-8: byte 0xff at column 2");
  expect_parse_error(
      [] {
        parse_fasta(std::string_view("\x7f"
                                     "ELF\0\0\x01",
                                     7),
                    "bin");
      },
      1, "binary data");
  expect_parse_error([] { parse_fasta(std::string_view(">a\nAC\0D\n", 8), "q.fasta"); }, 2,
                     "unexpected byte 0x00 at column 3");
}

TEST(Fasta, Utf8HeaderIsKept) {
  auto recs = parse_fasta(">prot\xc3\xa9ine \xe2\x9c\x93\nAC\n");
  EXPECT_EQ(recs[0].description, "prot\xc3\xa9ine \xe2\x9c\x93");
}

TEST(Fasta, UnreadableFileIsIoError) { EXPECT_THROW(read_fasta("/nonexistent/q.fasta"), IoError); }

// ---- A3M

TEST(A3m, InsertionsGapsAndDots) {
  Msa m = parse_a3m(">q\nACDE\n>r1 hit one\naaAcC.DEee\n>r2\n-C\nD-\n");
  ASSERT_EQ(m.num_rows(), 3);
  EXPECT_EQ(m.width(), 4);
  EXPECT_EQ(m.row(0).residues, "ACDE");
  EXPECT_EQ(m.row(1).description, "r1 hit one");
  EXPECT_EQ(m.row(1).residues, "ACDE");
  EXPECT_EQ(dels(m, 1), (std::vector<int32_t>{2, 1, 0, 0}));  // trailing insertions dropped
  EXPECT_EQ(m.row(2).residues, "-CD-");
  EXPECT_EQ(dels(m, 2), (std::vector<int32_t>{0, 0, 0, 0}));
  EXPECT_EQ(m.row(2).line, 5);
}

TEST(A3m, CommentsBeforeQueryAndHitLimit) {
  Msa m = parse_a3m("#191\t1\n>q\nAC\n>a\nAC\n>b\nAD\n>c\nAE\n", "x.a3m", {.max_rows = 3});
  ASSERT_EQ(m.num_rows(), 3);
  EXPECT_EQ(m.row(2).residues, "AD");
}

TEST(A3m, QueryCheck) {
  Msa m = parse_a3m(">q\nACDE\n>r\nAC-E\n", "x.a3m", {.query = "ACDE"});
  EXPECT_EQ(m.num_rows(), 2);
  expect_parse_error([] { parse_a3m(">r\nACDF\n>q\nACDE\n", "x.a3m", {.query = "ACDE"}); }, 1,
                     "query missing: the first row 'r' differs from the query at residue 4 ('F', "
                     "the query has 'E')");
  expect_parse_error([] { parse_a3m(">r\nACD\n", "x.a3m", {.query = "ACDE"}); }, 1,
                     "has 3 columns, the query 4 residues");
}

TEST(A3m, QueryCheckMatchesResidueTypes) {
  // A query with X for its non-standard residues (--residues unknown) finds the alignment that
  // keeps the original letters, and the reverse; any two of B J O U X Z are X in the aatype.
  EXPECT_EQ(parse_a3m(">q\nAUCO\n>r\nA-CK\n", "x.a3m", {.query = "AXCX"}).num_rows(), 2);
  EXPECT_EQ(parse_a3m(">q\nAXCX\n", "x.a3m", {.query = "AUCB"}).num_rows(), 1);
  // A standard residue is never an X.
  expect_parse_error([] { parse_a3m(">q\nAUCA\n", "x.a3m", {.query = "AXCX"}); }, 1,
                     "differs from the query at residue 4 ('A', the query has 'X')");
  expect_parse_error([] { parse_a3m(">q\nA-CX\n", "x.a3m", {.query = "AXCX"}); }, 1,
                     "differs from the query at residue 2");
}

TEST(A3m, Errors) {
  expect_parse_error([] { parse_a3m("", "x.a3m"); }, 1, "x.a3m:1: empty file");
  expect_parse_error([] { parse_a3m("#only a comment\n", "x.a3m"); }, 1, "empty file");
  expect_parse_error([] { parse_a3m(">q\nACDE\n>r\nACD\n>s\nACDE\n", "x.a3m"); }, 3,
                     "row 'r' has 3 query columns (upper-case letters and '-'), the query has 4");
  expect_parse_error([] { parse_a3m(">q\nACDE\n>r\nACDEF\n", "x.a3m"); }, 3,
                     "row 'r' has 5 query columns");
  expect_parse_error([] { parse_a3m(">q\nACDE\n>r\nAC", "x.a3m"); }, 3, "has 2 query columns");
  expect_parse_error([] { parse_a3m(">q\nACDE\n>r\n", "x.a3m"); }, 3,
                     "record 'r' has no sequence (truncated file?)");
  expect_parse_error([] { parse_a3m(">q\nAC*E\n", "x.a3m"); }, 2, "unexpected '*' at column 3");
  expect_parse_error([] { parse_a3m(">q\nacde\n", "x.a3m"); }, 1, "has no query columns");
  expect_parse_error([] { parse_a3m(">q\nACDE\n>\xc3(\nACDE\n", "x.a3m"); }, 3,
                     "header is not valid UTF-8: byte 0xc3 at column 1");
  expect_parse_error([] { parse_a3m(std::string_view("\0\0\0\x10garbage", 11), "x.a3m"); }, 1,
                     "expected a '>' header line, found '????garbage' (binary data?)");
  expect_parse_error([] { parse_a3m("ACDE\n", "x.a3m"); }, 1, "expected a '>' header line");
}

// ---- Stockholm

constexpr std::string_view kSto =
    "# STOCKHOLM 1.0\n"
    "#=GF ID query-i1\n"
    "#=GS hit1/1-9 DE [subseq from] something\n"
    "\n"
    "query   AC-D\n"
    "hit1/1-9 Ac-d\n"
    "hit2    -.K-\n"
    "#=GR hit1/1-9 PP 8**.\n"
    "#=GC RF xx.x\n"
    "\n"
    "query   E--F\n"
    "hit1/1-9 EGHF\n"
    "hit2    .-YY\n"
    "#=GC PP_cons ****\n"
    "//\n";

TEST(Stockholm, MultiBlockInsertColumns) {
  Msa m = parse_stockholm(kSto, "x.sto");
  ASSERT_EQ(m.num_rows(), 3);
  EXPECT_EQ(m.width(), 5);
  EXPECT_EQ(m.row(0).description, "query");
  EXPECT_EQ(m.row(0).residues, "ACDEF");
  EXPECT_EQ(dels(m, 0), (std::vector<int32_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(m.row(1).description, "hit1/1-9");
  EXPECT_EQ(m.row(1).residues, "ACDEF");
  EXPECT_EQ(dels(m, 1), (std::vector<int32_t>{0, 0, 0, 0, 2}));  // G, H before F
  EXPECT_EQ(m.row(2).residues, "----Y");
  EXPECT_EQ(dels(m, 2), (std::vector<int32_t>{0, 0, 1, 0, 1}));  // K in an insert column, Y
  EXPECT_EQ(m.row(2).line, 7);
}

TEST(Stockholm, HitLimitAcrossBlocks) {
  Msa m = parse_stockholm(kSto, "x.sto", {.max_rows = 2});
  ASSERT_EQ(m.num_rows(), 2);
  EXPECT_EQ(m.row(1).description, "hit1/1-9");
}

TEST(Stockholm, RowsAheadOfTheQueryWait) {
  Msa m = parse_stockholm("# STOCKHOLM 1.0\nq AC-\nh AcD\n\nh E-F\nq -GH\n//\n", "x.sto");
  ASSERT_EQ(m.num_rows(), 2);
  EXPECT_EQ(m.row(0).residues, "ACGH");
  EXPECT_EQ(m.row(1).residues, "AC-F");
  EXPECT_EQ(dels(m, 1), (std::vector<int32_t>{0, 0, 2, 0}));
}

TEST(Stockholm, QueryCheck) {
  expect_parse_error([] { parse_stockholm(kSto, "x.sto", {.query = "ACDEG"}); }, 5,
                     "query missing: the first row 'query' differs from the query at residue 5");
}

TEST(Stockholm, Errors) {
  expect_parse_error([] { parse_stockholm("", "x.sto"); }, 1, "x.sto:1: empty file");
  expect_parse_error([] { parse_stockholm(">q\nACDE\n", "x.sto"); }, 1, "not a Stockholm file");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq ACDE\nh ACD\n//\n", "x.sto"); }, 3,
                     "row 'h' has 3 alignment columns, the query 'q' has 4");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq ACDE\nh ACDEE\n//\n", "x.sto"); }, 3,
                     "row 'h' has 5 alignment columns");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq ACDE\nh AC", "x.sto"); }, 3,
                     "truncated file: no '//' line ends the alignment");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq ACDE\n//\nq ACDE\n", "x.sto"); }, 4,
                     "text after the '//'");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq\n//\n", "x.sto"); }, 2,
                     "expected '<name> <aligned sequence>', found only 'q'");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq AC DE\n//\n", "x.sto"); }, 2,
                     "found more fields");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq AC1E\n//\n", "x.sto"); }, 2,
                     "unexpected '1' at column 5 in the sequence of 'q'");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\nq\xe9 ACDE\n//\n", "x.sto"); }, 2,
                     "sequence name is not valid UTF-8");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\n#=GS q\n//\n", "x.sto"); }, 2,
                     "#=GS line needs a sequence name and a feature");
  expect_parse_error([] { parse_stockholm("# STOCKHOLM 1.0\n//\n", "x.sto"); }, 2,
                     "no sequences in the alignment");
  expect_parse_error(
      [] {
        parse_stockholm(std::string_view("# STOCKHOLM 1.0\n#=GR \x01\x02 PP x\n//\n", 38), "x.sto");
      },
      2, "markup line is a control character (binary data?)");
}

// ---- Files: lines crossing the reader's buffer (1 MiB) and longer than it

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

void expect_same(const Msa& a, const Msa& b) {
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (int64_t r = 0; r < a.num_rows(); ++r) {
    EXPECT_EQ(a.row(r).residues, b.row(r).residues) << r;
    EXPECT_EQ(a.row(r).deletions, b.row(r).deletions) << r;
    EXPECT_EQ(a.row(r).line, b.row(r).line) << r;
  }
}

TEST(FileReading, LinesLongerThanTheBuffer) {
  std::string query(3 << 20, 'A');  // 3 MiB lines
  std::string text = ">q\r\n" + query + "\r\n>r\n" + query.substr(1) + "C\nkk";
  std::string path = write_temp("exafold_long_lines.a3m", text);
  expect_same(read_a3m(path), parse_a3m(text, path));
  std::filesystem::remove(path);
}

TEST(FileReading, ManyLinesAcrossBufferRefills) {
  std::string query(150, 'G');
  std::string text = ">q\n" + query + "\n";
  for (int i = 0; i < 20000; ++i)  // 3.6 MB, CRLF on every other row, no final newline
    text += ">s" + std::to_string(i) + (i % 2 ? "\r\n" : "\n") + query.substr(0, 100) + "w\n" +
            query.substr(100) + (i == 19999 ? "" : "\n");
  std::string path = write_temp("exafold_many_lines.a3m", text);
  Msa m = read_a3m(path);
  expect_same(m, parse_a3m(text, path));
  EXPECT_EQ(m.num_rows(), 20001);
  EXPECT_EQ(m.row(20000).line, 1 + 1 + 3 * 19999 + 1);
  std::filesystem::remove(path);
}

TEST(FileReading, StockholmAcrossBuffers) {
  std::string text = "# STOCKHOLM 1.0\n";
  for (int block = 0; block < 3; ++block) {
    text += "\n";
    for (int i = 0; i < 4000; ++i)
      text += "seq" + std::to_string(i) + " " + std::string(97, i % 3 ? 'A' : '-') + "c-\n";
  }
  text += "//\n";
  std::string path = write_temp("exafold_blocks.sto", text);
  Msa m = read_stockholm(path);
  expect_same(m, parse_stockholm(text, path));
  EXPECT_EQ(m.num_rows(), 4000);
  // The query (seq0) has one letter per block; every other row inserts 97 residues before it.
  EXPECT_EQ(m.width(), 3);
  EXPECT_EQ(m.row(1).deletions, (std::vector<Deletion>{{0, 97}, {1, 97}, {2, 97}}));
  std::filesystem::remove(path);
}

// ---- Real files (../shared/data, from OpenFold's test data)

TEST(RealAlignments, SixKwc) {
  auto dir = testing::shared_data_dir();
  if (dir.empty()) GTEST_SKIP() << "shared data not found";
  auto query = read_fasta((dir / "6kwc/6kwc.fasta").string());
  ASSERT_EQ(query.size(), 1u);
  EXPECT_EQ(query[0].sequence.size(), 191u);
  MsaReadOptions opt{.query = query[0].sequence};
  Msa a3m = read_a3m((dir / "6kwc/bfd_uniref_hits.a3m").string(), opt);
  EXPECT_EQ(a3m.num_rows(), 1428);
  EXPECT_EQ(a3m.width(), 191);
  Msa sto = read_stockholm((dir / "6kwc/mgnify_hits.sto").string(), opt);
  EXPECT_EQ(sto.num_rows(), 1698);
  EXPECT_EQ(sto.width(), 191);
  opt.max_rows = 501;
  EXPECT_EQ(read_msa((dir / "6kwc/mgnify_hits.sto").string(), opt).num_rows(), 501);
}

}  // namespace
}  // namespace exafold::features
