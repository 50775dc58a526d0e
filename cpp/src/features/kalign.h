// Pairwise realignment with the kalign program, as AlphaFold2's Kalign wrapper runs it.
#pragma once

#include <string>
#include <utility>

namespace exafold::features {

/// Aligns `a` and `b` by running `<binary> -i input.fasta -o output.a3m -format fasta` on
/// ">sequence 1" / ">sequence 2" in a private temporary directory, as
/// alphafold/data/tools/kalign.py does, and returns the two aligned rows in that order
/// (lower-case letters dropped, as parse_a3m drops them). Kalign 2 and 3 both take these
/// arguments.
/// @throws Error naming the reason: a sequence shorter than 6 residues (kalign's limit, which
/// the wrapper checks), a program that cannot be started or exits with an error (its output
/// quoted), or output without the two rows.
std::pair<std::string, std::string> kalign_align(const std::string& binary, const std::string& a,
                                                 const std::string& b);

}  // namespace exafold::features
