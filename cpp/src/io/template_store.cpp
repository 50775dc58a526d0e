#include "exafold/io/template_store.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"
#include "exafold/core/version.h"
#include "hdf5_handle.h"

namespace exafold::io {

namespace fs = std::filesystem;
using features::TemplateChain;
using features::TemplateEntry;

namespace {

constexpr int kAtoms = 37;
// Residue names are stored in 8 bytes: chemical component ids have at most 5, and a longer
// name, cut, still maps to X in both one-letter tables (whose names have at most 3).
constexpr size_t kNameBytes = 8;
constexpr int64_t kBatch = 256;  // files parsed, then appended, at a time

h5::Handle name_type(const std::string& path) {
  h5::Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "copy the string type", path);
  h5::ok(H5Tset_size(t, kNameBytes), "size the residue-name type", path);
  h5::ok(H5Tset_strpad(t, H5T_STR_NULLPAD), "pad the residue-name type", path);
  return t;
}

// Rows [begin, begin + count) of a dataset whose trailing dimensions are `inner`.
void read_rows(hid_t dataset, hid_t mem_type, hsize_t begin, hsize_t count,
               std::vector<hsize_t> inner, void* out, const std::string& path) {
  if (count == 0) return;
  std::vector<hsize_t> start{begin}, size{count};
  for (hsize_t d : inner) start.push_back(0), size.push_back(d);
  h5::Handle file_space(H5Dget_space(dataset), H5Sclose, "get a dataspace", path);
  h5::ok(
      H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, size.data(), nullptr),
      "select rows", path);
  h5::Handle mem_space(H5Screate_simple(int(size.size()), size.data(), nullptr), H5Sclose,
                       "create a dataspace", path);
  h5::ok(H5Dread(dataset, mem_type, mem_space, file_space, H5P_DEFAULT, out), "read rows", path);
}

std::vector<std::string> read_string_rows(hid_t dataset, hsize_t begin, hsize_t count,
                                          const std::string& path) {
  std::vector<char*> raw(count, nullptr);
  h5::Handle type = h5::string_type(path);
  read_rows(dataset, type, begin, count, {}, raw.data(), path);
  std::vector<std::string> out;
  for (char* p : raw) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

// The columns a batch of entries adds.
struct Columns {
  std::vector<const char*> ids, dates, errors, chain_ids, atom_errors;
  std::vector<int64_t> chain_begin, residue_begin, atom_begin;
  std::vector<uint8_t> atom_error_is_warning, residue_atoms, atom_index;
  std::vector<char> residue_names;
  std::vector<float> xyz;
};

}  // namespace

int64_t build_template_store(const std::string& mmcif_dir, const std::string& path,
                             const TemplateStoreOptions& options) {
  std::error_code ec;
  check(fs::is_directory(mmcif_dir, ec), "template mmCIF directory ", mmcif_dir,
        " is not a directory");
  std::vector<std::pair<std::string, std::string>> files;  // (id, path), sorted by id
  for (fs::directory_iterator it(mmcif_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string id = features::mmcif_id(it->path().filename().string());
    if (!id.empty() && it->is_regular_file()) files.push_back({id, it->path().string()});
  }
  check<IoError>(!ec, "cannot list ", mmcif_dir, ": ", ec.message());
  check(!files.empty(), "template mmCIF directory ", mmcif_dir, " has no .cif or .cif.gz file");
  std::sort(files.begin(), files.end());
  for (size_t i = 1; i < files.size(); ++i)
    check(files[i].first != files[i - 1].first, "template mmCIF directory ", mmcif_dir,
          " holds entry ", files[i].first, " twice (.cif and .cif.gz)");

  h5::quiet();
  const std::string tmp = path + ".tmp";
  {
    h5::Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                    "create the file", tmp);
    h5::Handle str = h5::string_type(tmp), names = name_type(tmp);
    auto make = [&](const char* name, hid_t type, std::vector<hsize_t> inner, hsize_t chunk) {
      return h5::Appendable(file, name, type, std::move(inner), chunk, options.deflate_level, tmp);
    };
    auto ids = make("entry_id", str, {}, 4096), dates = make("entry_release_date", str, {}, 4096),
         errors = make("entry_error", str, {}, 4096),
         chain_begin = make("entry_chain_begin", H5T_STD_I64LE, {}, 4096),
         chain_ids = make("chain_id", str, {}, 4096),
         atom_errors = make("chain_atom_error", str, {}, 4096),
         atom_warn = make("chain_atom_error_is_warning", H5T_STD_U8LE, {}, 4096),
         residue_begin = make("chain_residue_begin", H5T_STD_I64LE, {}, 4096),
         atom_begin = make("chain_atom_begin", H5T_STD_I64LE, {}, 4096),
         residue_names = make("residue_name", names, {}, 65536),
         residue_atoms = make("residue_num_atoms", H5T_STD_U8LE, {}, 65536),
         atom_index = make("atom_index", H5T_STD_U8LE, {}, 65536),
         atom_xyz = make("atom_xyz", H5T_IEEE_F32LE, {3}, 16384);
    int64_t chains = 0, residues = 0, atoms = 0;
    const int64_t zero = 0;
    chain_begin.append(&zero, 1, H5T_NATIVE_INT64);
    residue_begin.append(&zero, 1, H5T_NATIVE_INT64);
    atom_begin.append(&zero, 1, H5T_NATIVE_INT64);

    std::unique_ptr<ThreadPool> own;
    if (options.threads > 0) own = std::make_unique<ThreadPool>(options.threads);
    ThreadPool& pool = own ? *own : thread_pool();
    for (size_t b = 0; b < files.size(); b += kBatch) {
      const size_t n = std::min(files.size() - b, size_t(kBatch));
      std::vector<TemplateEntry> entries(n);
      pool.parallel_for(int64_t(n), 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          entries[size_t(i)] = features::read_template_mmcif(files[b + size_t(i)].second,
                                                             files[b + size_t(i)].first);
      });
      Columns c;
      std::vector<std::string> dates_text;
      dates_text.reserve(n);
      for (const TemplateEntry& e : entries) {
        c.ids.push_back(e.id.c_str());
        dates_text.push_back(e.release_date.value_or(""));
        c.errors.push_back(e.error.c_str());
        for (const TemplateChain& ch : e.chains) {
          c.chain_ids.push_back(ch.id.c_str());
          c.atom_errors.push_back(ch.atom_error.c_str());
          c.atom_error_is_warning.push_back(ch.atom_error_is_warning);
          for (int64_t r = 0; r < ch.size(); ++r) {
            const std::string& name = ch.residues[size_t(r)];
            size_t at = c.residue_names.size();
            c.residue_names.resize(at + kNameBytes, '\0');
            std::copy_n(name.begin(), std::min(name.size(), kNameBytes),
                        c.residue_names.begin() + long(at));
            uint8_t count = 0;
            if (ch.atom_error.empty()) {
              for (int a = 0; a < kAtoms; ++a) {
                if (ch.mask[size_t(r * kAtoms + a)] == 0) continue;
                ++count;
                c.atom_index.push_back(uint8_t(a));
                const float* p = ch.positions.data() + (r * kAtoms + a) * 3;
                c.xyz.insert(c.xyz.end(), p, p + 3);
              }
            }
            c.residue_atoms.push_back(count);
            atoms += count;
          }
          residues += ch.size();
          ++chains;
          c.residue_begin.push_back(residues);
          c.atom_begin.push_back(atoms);
        }
        c.chain_begin.push_back(chains);
      }
      for (const std::string& d : dates_text) c.dates.push_back(d.c_str());
      ids.append(c.ids.data(), n, str);
      dates.append(c.dates.data(), n, str);
      errors.append(c.errors.data(), n, str);
      chain_begin.append(c.chain_begin.data(), n, H5T_NATIVE_INT64);
      chain_ids.append(c.chain_ids.data(), c.chain_ids.size(), str);
      atom_errors.append(c.atom_errors.data(), c.atom_errors.size(), str);
      atom_warn.append(c.atom_error_is_warning.data(), c.atom_error_is_warning.size(),
                       H5T_NATIVE_UINT8);
      residue_begin.append(c.residue_begin.data(), c.residue_begin.size(), H5T_NATIVE_INT64);
      atom_begin.append(c.atom_begin.data(), c.atom_begin.size(), H5T_NATIVE_INT64);
      residue_names.append(c.residue_names.data(), c.residue_atoms.size(), names);
      residue_atoms.append(c.residue_atoms.data(), c.residue_atoms.size(), H5T_NATIVE_UINT8);
      atom_index.append(c.atom_index.data(), c.atom_index.size(), H5T_NATIVE_UINT8);
      atom_xyz.append(c.xyz.data(), c.atom_index.size(), H5T_NATIVE_FLOAT);
    }
    h5::write_string_attribute(file, "format", "exafold template store", tmp);
    h5::write_string_attribute(file, "format_version", std::to_string(kTemplateStoreVersion), tmp);
    h5::write_string_attribute(file, "exafold_version", EXAFOLD_VERSION_STRING, tmp);
    h5::write_string_attribute(file, "source", fs::absolute(mmcif_dir).string(), tmp);
    h5::ok(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush", tmp);
  }
  fs::rename(tmp, path, ec);
  check<IoError>(!ec, "cannot rename ", tmp, " to ", path, ": ", ec.message());
  return int64_t(files.size());
}

struct TemplateStore::Datasets {
  h5::Handle file, chain_id, atom_error, atom_warn, residue_begin, atom_begin, residue_name,
      residue_atoms, atom_index, atom_xyz, names;
};

TemplateStore::TemplateStore(std::string path) : path_(std::move(path)), h5_(new Datasets) {
  h5::quiet();
  std::error_code ec;
  check<IoError>(fs::is_regular_file(path_, ec), "template store ", path_, " not found");
  Datasets& d = *h5_;
  d.file = h5::Handle(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                      "open the file", path_);
  check<IoError>(H5Aexists(d.file, "format") > 0 &&
                     h5::read_string_attribute(d.file, "format", path_) == "exafold template store",
                 path_, " is not an exafold template store");
  const std::string version = h5::read_string_attribute(d.file, "format_version", path_);
  check<IoError>(version == std::to_string(kTemplateStoreVersion), "template store ", path_,
                 " has layout version ", version, "; this exafold reads version ",
                 kTemplateStoreVersion, " (rebuild it)");
  ids_ = h5::read_strings(d.file, "entry_id", path_);
  release_dates_ = h5::read_strings(d.file, "entry_release_date", path_);
  errors_ = h5::read_strings(d.file, "entry_error", path_);
  chain_begin_.resize(ids_.size() + 1);
  check<IoError>(
      h5::shape(d.file, "entry_chain_begin", path_) == std::vector<hsize_t>{ids_.size() + 1} &&
          release_dates_.size() == ids_.size() && errors_.size() == ids_.size(),
      "template store ", path_, " is inconsistent (entry columns differ in length)");
  h5::read_all(d.file, "entry_chain_begin", H5T_NATIVE_INT64, chain_begin_.data(), path_);
  check<IoError>(std::is_sorted(ids_.begin(), ids_.end()), "template store ", path_,
                 " is inconsistent (entry ids not sorted)");
  auto open = [&](const char* name) {
    return h5::Handle(H5Dopen2(d.file, name, H5P_DEFAULT), H5Dclose,
                      (std::string("open dataset ") + name).c_str(), path_);
  };
  d.chain_id = open("chain_id");
  d.atom_error = open("chain_atom_error");
  d.atom_warn = open("chain_atom_error_is_warning");
  d.residue_begin = open("chain_residue_begin");
  d.atom_begin = open("chain_atom_begin");
  d.residue_name = open("residue_name");
  d.residue_atoms = open("residue_num_atoms");
  d.atom_index = open("atom_index");
  d.atom_xyz = open("atom_xyz");
  d.names = name_type(path_);
}

TemplateStore::~TemplateStore() = default;

std::string TemplateStore::location(const std::string& id) const { return path_ + ":" + id; }

std::shared_ptr<const TemplateEntry> TemplateStore::find(const std::string& id) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return nullptr;
  const size_t e = size_t(it - ids_.begin());
  auto entry = std::make_shared<TemplateEntry>();
  entry->id = id;
  if (!release_dates_[e].empty()) entry->release_date = release_dates_[e];
  entry->error = errors_[e];
  const auto c0 = hsize_t(chain_begin_[e]), nc = hsize_t(chain_begin_[e + 1] - chain_begin_[e]);
  if (nc == 0) return entry;

  std::lock_guard lock(mutex_);
  const Datasets& d = *h5_;
  std::vector<std::string> chain_ids = read_string_rows(d.chain_id, c0, nc, path_);
  std::vector<std::string> atom_errors = read_string_rows(d.atom_error, c0, nc, path_);
  std::vector<uint8_t> warn(nc);
  read_rows(d.atom_warn, H5T_NATIVE_UINT8, c0, nc, {}, warn.data(), path_);
  std::vector<int64_t> rb(nc + 1), ab(nc + 1);
  read_rows(d.residue_begin, H5T_NATIVE_INT64, c0, nc + 1, {}, rb.data(), path_);
  read_rows(d.atom_begin, H5T_NATIVE_INT64, c0, nc + 1, {}, ab.data(), path_);
  const auto r0 = hsize_t(rb[0]), nr = hsize_t(rb[nc] - rb[0]);
  const auto a0 = hsize_t(ab[0]), na = hsize_t(ab[nc] - ab[0]);
  std::vector<char> names(nr * kNameBytes);
  std::vector<uint8_t> counts(nr), index(na);
  std::vector<float> xyz(na * 3);
  read_rows(d.residue_name, d.names, r0, nr, {}, names.data(), path_);
  read_rows(d.residue_atoms, H5T_NATIVE_UINT8, r0, nr, {}, counts.data(), path_);
  read_rows(d.atom_index, H5T_NATIVE_UINT8, a0, na, {}, index.data(), path_);
  read_rows(d.atom_xyz, H5T_NATIVE_FLOAT, a0, na, {3}, xyz.data(), path_);

  size_t r = 0, a = 0;
  for (size_t c = 0; c < nc; ++c) {
    TemplateChain ch;
    ch.id = chain_ids[c];
    ch.atom_error = atom_errors[c];
    ch.atom_error_is_warning = warn[c] != 0;
    const auto n = size_t(rb[c + 1] - rb[c]);
    if (ch.atom_error.empty()) {
      ch.positions.assign(n * kAtoms * 3, 0.0f);
      ch.mask.assign(n * kAtoms, 0.0f);
    }
    for (size_t k = 0; k < n; ++k, ++r) {
      const char* p = names.data() + r * kNameBytes;
      ch.residues.emplace_back(p, std::find(p, p + kNameBytes, '\0'));
      for (uint8_t m = 0; m < counts[r]; ++m, ++a) {
        check<IoError>(index[a] < kAtoms && ch.atom_error.empty(), "template store ", path_,
                       " is inconsistent (atom rows of entry ", id, ")");
        ch.mask[k * kAtoms + index[a]] = 1.0f;
        std::copy_n(xyz.data() + 3 * a, 3, ch.positions.data() + (k * kAtoms + index[a]) * 3);
      }
    }
    entry->chains.push_back(std::move(ch));
  }
  check<IoError>(r == nr && a == na, "template store ", path_,
                 " is inconsistent (row counts of entry ", id, ")");
  return entry;
}

}  // namespace exafold::io
