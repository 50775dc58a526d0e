#include "exafold/features/template_hits.h"

#include <array>
#include <filesystem>

#include "exafold/core/error.h"

namespace exafold::features {

TemplateHitFormat template_hit_format(std::string_view path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = char(std::tolower(uint8_t(c)));
  if (ext == ".hhr") return TemplateHitFormat::hhr;
  if (ext == ".sto") return TemplateHitFormat::hmmsearch_sto;
  fail("cannot tell the format of template hits file ", path,
       ": expected .hhr (HHsearch) or .sto (hmmsearch)");
}

std::optional<TemplateHitsFile> find_template_hits(const std::string& alignment_dir) {
  static constexpr std::array<std::string_view, 4> kNames = {"pdb70_hits.hhr", "pdb_hits.hhr",
                                                             "pdb_hits.sto", "hmm_output.sto"};
  std::optional<TemplateHitsFile> found;
  for (std::string_view name : kNames) {
    std::filesystem::path p = std::filesystem::path(alignment_dir) / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) continue;
    if (found)
      fail("two template search results in ", alignment_dir, ": ",
           std::filesystem::path(found->path).filename().string(), " and ", name,
           "; keep one, or name the file to use");
    found = TemplateHitsFile{p.string(), template_hit_format(name)};
  }
  return found;
}

std::vector<TemplateHit> read_template_hits(const TemplateHitsFile& file, std::string_view query) {
  return file.format == TemplateHitFormat::hhr ? read_hhr(file.path)
                                               : read_hmmsearch_sto(file.path, query);
}

}  // namespace exafold::features
