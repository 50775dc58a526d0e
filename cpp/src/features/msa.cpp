#include "exafold/features/msa.h"

#include <algorithm>
#include <fstream>

#include "exafold/core/error.h"
#include "exafold/features/a3m.h"
#include "exafold/features/stockholm.h"

namespace exafold::features {

void MsaRow::deletion_counts(int32_t* out) const {
  std::fill_n(out, residues.size(), 0);
  for (const Deletion& d : deletions) out[d.column] = d.count;
}

void Msa::add_row(MsaRow row) {
  EXAFOLD_ASSERT(row.deletions.empty() ||
                 size_t(row.deletions.back().column) < row.residues.size());
  EXAFOLD_ASSERT(rows_.empty() || int64_t(row.residues.size()) == width());
  rows_.push_back(std::move(row));
}

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Formats by content when the name does not tell: a Stockholm file starts with its header.
bool looks_like_stockholm(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail<IoError>("cannot open ", path);
  char head[11] = {};
  f.read(head, 11);
  return std::string_view(head, size_t(f.gcount())) == "# STOCKHOLM";
}

}  // namespace

Msa read_msa(const std::string& path, const MsaReadOptions& options) {
  bool sto = ends_with(path, ".sto") || ends_with(path, ".stockholm");
  if (!sto && !ends_with(path, ".a3m")) sto = looks_like_stockholm(path);
  return sto ? read_stockholm(path, options) : read_a3m(path, options);
}

}  // namespace exafold::features
