// Reading FASTA files (FASTA file -> records).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace exafold::features {

struct FastaRecord {
  /// The header line after '>', without surrounding whitespace (AlphaFold2's description,
  /// which becomes the domain_name feature). Valid UTF-8.
  std::string description;
  /// Sequence lines joined, each stripped of surrounding whitespace, in upper case, without a
  /// terminal stop '*'.
  std::string sequence;
  /// Line of the header, for messages about this record.
  int64_t line = 0;
};

/// Every record of a FASTA file, in file order.
/// Sequence characters must be letters, '-', '.' or '*'; blank lines are skipped. Sequences
/// come out upper-cased with one terminal '*' (a stop) removed, for every caller.
/// @throws IoError when the file cannot be read; ParseError (naming the file and line) for an
/// empty file, text before the first header, a header that is not UTF-8 text, a record with no
/// sequence, or any other character in a sequence.
std::vector<FastaRecord> read_fasta(const std::string& path);

/// As read_fasta, from text in memory; `name` stands for the file in messages.
std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& name = "<text>");

}  // namespace exafold::features
