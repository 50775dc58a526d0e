// The residues a query may hold: one rule for the Python API, exafold predict and exafold distill.
#pragma once

#include <string>
#include <string_view>

namespace exafold::features {

enum class ResiduePolicy {
  strict,   ///< only the 20 standard residues
  unknown,  ///< also B, J, O, U, X and Z, written as X (AlphaFold2 maps each of them to X)
};

/// "strict" or "unknown". @throws InvalidArgument naming the accepted values.
ResiduePolicy parse_residue_policy(std::string_view name);

/// The query a prediction runs on, from a sequence as people write it: whitespace removed,
/// upper-cased, one terminal stop '*' dropped, then the policy applied (under `unknown`, each
/// of B J O U X Z becomes X). These are the rules FASTA records already get (read_fasta), so a
/// sequence pasted into the API and the same one in a file give the same query.
/// @throws InvalidArgument for an empty sequence; a complex ("multimer is not supported" when
/// chains are joined by ':' as ColabFold writes them); the first residue the policy refuses,
/// with its 1-based position (and, for B J O U X Z under `strict`, how to allow it).
std::string normalize_sequence(std::string_view raw, ResiduePolicy policy);

}  // namespace exafold::features
