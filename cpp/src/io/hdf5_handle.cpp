#include "hdf5_handle.h"

#include <algorithm>

namespace exafold::io::h5 {
namespace {

/// Why the last HDF5 call failed, from the calling thread's error stack, which it then clears.
/// The file drivers record a failed system call as "..., errno = 28, error message = 'No space
/// left on device', ..."; that text is the cause when present, else the innermost description.
std::string cause() {
  struct Found {
    std::string system, innermost;
  } found;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto* f = static_cast<Found*>(data);
        const std::string desc = e->desc ? e->desc : "";
        if (f->innermost.empty()) f->innermost = desc;
        const std::string key = "error message = '";
        const size_t at = desc.find(key);
        if (f->system.empty() && at != std::string::npos) {
          const size_t end = desc.find('\'', at + key.size());
          f->system =
              desc.substr(at + key.size(), end == std::string::npos ? end : end - at - key.size());
        }
        return 0;
      },
      &found);
  H5Eclear2(H5E_DEFAULT);
  const std::string& why = found.system.empty() ? found.innermost : found.system;
  return why.empty() ? "" : ": " + why;
}

}  // namespace

Handle::Handle(hid_t id, Closer closer, const char* what, const std::string& path)
    : id_(id), closer_(closer) {
  if (id < 0) fail<IoError>("HDF5 could not ", what, " in ", path, cause());
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() { close(); }

herr_t Handle::close() {
  const herr_t status = id_ >= 0 && closer_ ? closer_(id_) : 0;
  id_ = H5I_INVALID_HID;
  return status;
}

void ok(herr_t status, const char* what, const std::string& path) {
  if (status < 0) fail<IoError>("HDF5 could not ", what, " in ", path, cause());
}

void quiet() {
  // Before any other HDF5 call, which would start the library and register its exit handler.
  static const bool no_exit_handler = (H5dont_atexit(), true);
  (void)no_exit_handler;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle string_type(const std::string& path) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "copy the string type", path);
  ok(H5Tset_size(t, H5T_VARIABLE), "make a variable-length string type", path);
  ok(H5Tset_cset(t, H5T_CSET_UTF8), "set UTF-8", path);
  return t;
}

Handle half_type(const std::string& path) {
  Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose, "copy the float type", path);
  // Field order matters: shrink the fields before the size. Sign bit 15, exponent bits 10-14,
  // mantissa bits 0-9, exponent bias 15.
  ok(H5Tset_fields(t, 15, 10, 5, 0, 10), "set binary16 fields", path);
  ok(H5Tset_size(t, 2), "set binary16 size", path);
  ok(H5Tset_ebias(t, 15), "set binary16 bias", path);
  return t;
}

Appendable::Appendable(hid_t file, const std::string& name, hid_t file_type,
                       std::vector<hsize_t> inner, hsize_t chunk_rows, int deflate_level,
                       const std::string& path)
    : inner_(std::move(inner)), path_(path), name_(name) {
  std::vector<hsize_t> dims{0}, max{H5S_UNLIMITED}, chunk{std::max<hsize_t>(chunk_rows, 1)};
  for (hsize_t d : inner_) dims.push_back(d), max.push_back(d), chunk.push_back(d);
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), max.data()), H5Sclose,
               "create a dataspace", path);
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create a property list", path);
  ok(H5Pset_chunk(plist, int(chunk.size()), chunk.data()), "set the chunk shape", path);
  if (deflate_level > 0) {
    ok(H5Pset_shuffle(plist), "set the shuffle filter", path);
    ok(H5Pset_deflate(plist, unsigned(deflate_level)), "set the deflate filter", path);
  }
  // Room for two chunks in the dataset's chunk cache (HDF5's default is 1 MiB): a chunk that
  // does not fit is read back, decompressed and compressed again by every append into it.
  size_t chunk_bytes = H5Tget_size(file_type);
  for (hsize_t c : chunk) chunk_bytes *= size_t(c);
  Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "create a property list", path);
  ok(H5Pset_chunk_cache(access, 521, std::max<size_t>(2 * chunk_bytes, 1 << 20), 0.75),
     "set the chunk cache", path);
  dataset_ = Handle(H5Dcreate2(file, name.c_str(), file_type, space, H5P_DEFAULT, plist, access),
                    H5Dclose, ("create dataset " + name).c_str(), path);
}

void Appendable::append(const void* data, hsize_t rows, hid_t mem_type) {
  if (rows == 0) return;
  std::vector<hsize_t> size{rows_ + rows}, start{rows_}, count{rows};
  for (hsize_t d : inner_) size.push_back(d), start.push_back(0), count.push_back(d);
  const std::string what = "append to dataset " + name_;
  ok(H5Dset_extent(dataset_, size.data()), what.c_str(), path_);
  Handle file_space(H5Dget_space(dataset_), H5Sclose, what.c_str(), path_);
  ok(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
     what.c_str(), path_);
  Handle mem_space(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose,
                   what.c_str(), path_);
  ok(H5Dwrite(dataset_, mem_type, mem_space, file_space, H5P_DEFAULT, data), what.c_str(), path_);
  rows_ += rows;
}

std::vector<hsize_t> shape(hid_t file, const std::string& name, const std::string& path) {
  check(H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0, "shard ", path, " has no dataset ", name);
  Handle d(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, "open a dataset", path);
  Handle s(H5Dget_space(d), H5Sclose, "get a dataspace", path);
  const int rank = H5Sget_simple_extent_ndims(s);
  check<IoError>(rank >= 0, "HDF5 could not read the rank of ", name, " in ", path);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(s, dims.data(), nullptr);
  return dims;
}

void read_all(hid_t file, const std::string& name, hid_t mem_type, void* out,
              const std::string& path) {
  Handle d(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, "open a dataset", path);
  ok(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), ("read dataset " + name).c_str(),
     path);
}

std::vector<std::string> read_strings(hid_t file, const std::string& name,
                                      const std::string& path) {
  const auto dims = shape(file, name, path);
  check(dims.size() == 1, "dataset ", name, " in ", path, " must be one-dimensional");
  std::vector<char*> raw(dims[0], nullptr);
  Handle type = string_type(path);
  Handle d(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, "open a dataset", path);
  ok(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), ("read dataset " + name).c_str(),
     path);
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (char* p : raw) out.emplace_back(p ? p : "");
  Handle space(H5Dget_space(d), H5Sclose, "get a dataspace", path);
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, raw.data());
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
#endif
  return out;
}

std::string read_string_attribute(hid_t file, const std::string& name, const std::string& path) {
  check(H5Aexists(file, name.c_str()) > 0, "shard ", path, " has no attribute ", name);
  Handle a(H5Aopen(file, name.c_str(), H5P_DEFAULT), H5Aclose, "open an attribute", path);
  Handle type = string_type(path);
  char* raw = nullptr;
  ok(H5Aread(a, type, &raw), ("read attribute " + name).c_str(), path);
  std::string out = raw ? raw : "";
  H5free_memory(raw);
  return out;
}

void write_string_attribute(hid_t file, const std::string& name, const std::string& value,
                            const std::string& path) {
  Handle type = string_type(path);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create a scalar dataspace", path);
  Handle a(H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create an attribute", path);
  const char* p = value.c_str();
  ok(H5Awrite(a, type, &p), ("write attribute " + name).c_str(), path);
}

}  // namespace exafold::io::h5
