#include "exafold/features/template_source.h"

#include <filesystem>

#include "exafold/core/error.h"

namespace exafold::features {

namespace fs = std::filesystem;

MmcifDirectory::MmcifDirectory(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  check(fs::is_directory(dir_, ec), "template mmCIF directory ", dir_, " is not a directory");
  bool any = false;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end && !any; it.increment(ec))
    any = !mmcif_id(it->path().filename().string()).empty();
  check(any, "template mmCIF directory ", dir_, " has no .cif or .cif.gz file");
}

std::string MmcifDirectory::location(const std::string& id) const {
  fs::path plain = fs::path(dir_) / (id + ".cif"), packed = fs::path(dir_) / (id + ".cif.gz");
  std::error_code ec;
  return (!fs::exists(plain, ec) && fs::exists(packed, ec) ? packed : plain).string();
}

std::shared_ptr<const TemplateEntry> MmcifDirectory::find(const std::string& id) const {
  std::string path = location(id);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return nullptr;
  return std::make_shared<const TemplateEntry>(read_template_mmcif(path, id));
}

std::string mmcif_id(const std::string& file_name) {
  for (std::string_view ext : {".cif", ".cif.gz"})
    if (file_name.size() > ext.size() && file_name.ends_with(ext))
      return file_name.substr(0, file_name.size() - ext.size());
  return {};
}

}  // namespace exafold::features
