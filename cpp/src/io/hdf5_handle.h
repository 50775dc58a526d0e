// RAII for HDF5 C API handles and the few dataset operations the shard code needs.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "exafold/core/error.h"

namespace exafold::io::h5 {

/// Owns one hid_t and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, const char* what, const std::string& path);
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  void reset();
  /// Closes the handle now and returns the close's status (reset() drops it).
  herr_t close();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Throws IoError naming the operation, the path and the cause (the system error HDF5 met, such
/// as "No space left on device", else HDF5's own innermost reason) when an HDF5 call returned a
/// negative status.
void ok(herr_t status, const char* what, const std::string& path);

/// Silences HDF5's own error printing for the calling thread's error stack (we throw instead),
/// and, on the first call, keeps HDF5 from closing itself at process exit: a file that could not
/// be flushed (a full disk) cannot be closed, and closing the library after that makes HDF5 1.10
/// print "infinite loop closing library" with its internal codes, or crash. The unfinished file
/// is removed by its writer, and the system reclaims the rest at exit.
void quiet();

/// A variable-length UTF-8 string type.
Handle string_type(const std::string& path);
/// IEEE binary16, little endian (h5py reads it as numpy float16).
Handle half_type(const std::string& path);

/// A dataset growing along its first axis; `inner` are the fixed trailing dimensions.
class Appendable {
 public:
  Appendable() = default;
  /// Chunks of `chunk_rows` rows, compressed with deflate at `deflate_level` (after the shuffle
  /// filter, which groups the bytes of each significance) unless it is 0.
  Appendable(hid_t file, const std::string& name, hid_t file_type, std::vector<hsize_t> inner,
             hsize_t chunk_rows, int deflate_level, const std::string& path);
  /// Appends `rows` rows from memory laid out as mem_type.
  void append(const void* data, hsize_t rows, hid_t mem_type);
  hsize_t rows() const { return rows_; }

 private:
  Handle dataset_;
  std::vector<hsize_t> inner_;
  hsize_t rows_ = 0;
  std::string path_, name_;
};

/// Reads a whole dataset: its shape, and the data converted to mem_type.
std::vector<hsize_t> shape(hid_t file, const std::string& name, const std::string& path);
void read_all(hid_t file, const std::string& name, hid_t mem_type, void* out,
              const std::string& path);
std::vector<std::string> read_strings(hid_t file, const std::string& name, const std::string& path);
std::string read_string_attribute(hid_t file, const std::string& name, const std::string& path);
void write_string_attribute(hid_t file, const std::string& name, const std::string& value,
                            const std::string& path);

}  // namespace exafold::io::h5
