// Msa: one parsed alignment, its rows over the query's columns (row 0 is the query).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace exafold::features {

/// `count` residues of a row inserted (relative to the query) just before query column `column`.
struct Deletion {
  int32_t column;
  int32_t count;
  bool operator==(const Deletion&) const = default;
};

struct MsaRow {
  /// A3M header after '>', or the Stockholm sequence name (AlphaFold2's descriptions).
  std::string description;
  /// One entry per query column: an upper-case letter, or '-' for a gap. Insertions relative to
  /// the query are not here; they are counted in `deletions`.
  std::string residues;
  /// The non-zero entries of AlphaFold2's deletion_matrix row, by increasing column: kept sparse
  /// so a row costs about one byte per column. Insertions after the last column are not
  /// counted, as in AlphaFold2.
  std::vector<Deletion> deletions;
  /// Line where the row starts in its file, for messages about it.
  int64_t line = 0;

  /// The dense deletion_matrix row: one count per column, written to out[0, residues.size()).
  void deletion_counts(int32_t* out) const;
};

class Msa {
 public:
  explicit Msa(std::string source) : source_(std::move(source)) {}

  /// The file (or name) the alignment was read from.
  const std::string& source() const { return source_; }
  int64_t num_rows() const { return int64_t(rows_.size()); }
  /// Number of columns: the query's length.
  int64_t width() const { return rows_.empty() ? 0 : int64_t(rows_[0].residues.size()); }
  const MsaRow& row(int64_t i) const { return rows_[size_t(i)]; }
  const std::vector<MsaRow>& rows() const { return rows_; }

  /// Appends a row; it must span width() columns (any width for the first row).
  void add_row(MsaRow row);

 private:
  std::string source_;
  std::vector<MsaRow> rows_;
};

struct MsaReadOptions {
  /// Keep only the first `max_rows` rows, the query included (0 keeps all): AlphaFold2's hit
  /// limit for the database the file came from. Reading stops once they are read (A3M) or keeps
  /// no more than them in memory (Stockholm).
  int64_t max_rows = 0;
  /// When not empty, the first row must be this sequence (else a ParseError says the query is
  /// missing): the same letter in every column, where any two of B, J, O, U, X, Z also match,
  /// since each is X in the query's aatype.
  std::string query;
};

/// Reads an A3M or Stockholm file, chosen by extension (.a3m; .sto, .stockholm) or, for any
/// other name, by the first line ('# STOCKHOLM' or '>').
Msa read_msa(const std::string& path, const MsaReadOptions& options = {});

}  // namespace exafold::features
