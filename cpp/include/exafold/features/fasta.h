// Reading FASTA files (FASTA file -> records).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace exafold::features {

struct FastaRecord {
  /// The header line after '>' (AlphaFold2's description, which becomes the domain_name
  /// feature), the line stripped of surrounding whitespace as AlphaFold2 strips it (Python's
  /// str.strip(): Unicode whitespace too). Valid UTF-8 without control characters.
  std::string description;
  /// Sequence lines joined, without whitespace, in upper case, without a terminal stop '*'.
  std::string sequence;
  /// Line of the header, for messages about this record.
  int64_t line = 0;

  /// The record's id: the description's first word (split as Python's str.split() splits).
  std::string id() const;
};

/// One record of a FASTA file as scan_fasta reads it: the record, or why it cannot be used.
struct FastaEntry {
  /// The record; its description is empty when the header itself was unusable.
  FastaRecord record;
  /// Empty for a usable record; else the reason (a header that is not UTF-8 text, a character
  /// outside the sequence alphabet, no sequence), found at `problem_line`.
  std::string problem;
  int64_t problem_line = 0;
};

/// Every record of a FASTA file, in file order.
/// Sequence characters must be letters, '-', '.', '*' or ':' (ColabFold's chain separator, left
/// for normalize_sequence to refuse as a multimer); spaces and tabs inside a line (residues
/// written in blocks) and blank lines are skipped. Sequences
/// come out upper-cased with one terminal '*' (a stop) removed, for every caller.
/// @throws IoError when the file cannot be read; ParseError (naming the file and line) for an
/// empty file, text before the first header, a header that is not UTF-8 text, a record with no
/// sequence, or any other character in a sequence.
std::vector<FastaRecord> read_fasta(const std::string& path);

/// As read_fasta, from text in memory; `name` stands for the file in messages.
std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& name = "<text>");

/// As read_fasta, but a bad record is set aside with its reason (FastaEntry::problem) and the
/// reading goes on, so one damaged record fails alone in a run over millions. Only what makes
/// the whole file unusable throws: an unreadable or empty file, text before the first header.
std::vector<FastaEntry> scan_fasta(const std::string& path);
std::vector<FastaEntry> scan_fasta_text(std::string_view text, const std::string& name = "<text>");

}  // namespace exafold::features
