#include "exafold/io/hdf5_shard.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "exafold/core/error.h"
#include "exafold/core/version.h"
#include "hdf5_handle.h"

namespace exafold::io {

const char* pae_storage_name(PaeStorage p) {
  switch (p) {
    case PaeStorage::none:
      return "none";
    case PaeStorage::float16:
      return "float16";
    case PaeStorage::float32:
      return "float32";
  }
  fail<InternalError>("unhandled PaeStorage ", int(p));
}

namespace {

PaeStorage parse_pae_storage(const std::string& s, const std::string& path) {
  for (auto p : {PaeStorage::none, PaeStorage::float16, PaeStorage::float32})
    if (s == pae_storage_name(p)) return p;
  fail("shard ", path, " has an unknown pae_dtype \"", s, "\"");
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  check<IoError>(fd >= 0, "cannot open ", path, " to fsync it: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  check<IoError>(rc == 0, "cannot fsync ", path, ": ", std::strerror(err));
}

}  // namespace

struct ShardWriter::Impl {
  std::string path, tmp;
  ShardWriterOptions opt;
  h5::Handle file, str_type, half_type;
  h5::Appendable ids, sequences, models, residue_offsets, aatype, residue_index, positions, mask,
      plddt, mean_plddt, ptm, seeds, runtime, flops, pae_offsets, pae, template_offsets,
      template_names, template_sum_probs;
  int64_t residues = 0, pae_entries = 0, templates = 0;
  bool finished = false;
  void create();
  /// Closes every handle (datasets first, as the file cannot close before them); returns the
  /// file close's status.
  herr_t close();
  /// Closes what is open and removes the temporary file: an unfinished shard must not be
  /// mistaken for output. A file that could not be flushed (a full disk) fails to close too.
  void discard();
};

ShardWriter::ShardWriter(std::string path, ShardWriterOptions opt) : impl_(new Impl) {
  check(path.size() > 3 && path.ends_with(".h5"), "shard path must end in .h5, got \"", path, "\"");
  check(opt.chunk_residues >= 64, "chunk_residues must be at least 64, got ", opt.chunk_residues);
  check(opt.deflate_level >= 0 && opt.deflate_level <= 9, "deflate_level must be 0-9, got ",
        opt.deflate_level);
  h5::quiet();
  Impl& m = *impl_;
  m.path = std::move(path);
  m.tmp = m.path + ".tmp";
  m.opt = opt;
  try {
    m.create();
  } catch (...) {
    m.discard();
    throw;
  }
}

void ShardWriter::Impl::create() {
  Impl& m = *this;
  m.file = h5::Handle(H5Fcreate(m.tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                      "create the file", m.tmp);
  m.str_type = h5::string_type(m.tmp);
  m.half_type = h5::half_type(m.tmp);
  const auto r = hsize_t(m.opt.chunk_residues), s = std::max<hsize_t>(r / 64, 16);
  auto make = [&](const char* name, hid_t type, std::vector<hsize_t> inner, hsize_t chunk) {
    return h5::Appendable(m.file, name, type, std::move(inner), chunk, m.opt.deflate_level, m.tmp);
  };
  m.ids = make("id", m.str_type, {}, s);
  m.sequences = make("sequence", m.str_type, {}, s);
  m.models = make("model", m.str_type, {}, s);
  m.residue_offsets = make("residue_offsets", H5T_STD_I64LE, {}, s);
  m.aatype = make("aatype", H5T_STD_U8LE, {}, r);
  m.residue_index = make("residue_index", H5T_STD_I32LE, {}, r);
  m.positions = make("atom_positions", H5T_IEEE_F32LE, {kAtom37, 3}, std::max<hsize_t>(r / 37, 1));
  m.mask = make("atom_mask", H5T_STD_U8LE, {kAtom37}, r);
  m.plddt = make("plddt", H5T_IEEE_F32LE, {}, r);
  m.mean_plddt = make("mean_plddt", H5T_IEEE_F32LE, {}, s);
  m.ptm = make("ptm", H5T_IEEE_F32LE, {}, s);
  m.seeds = make("seed", H5T_STD_U64LE, {}, s);
  m.runtime = make("runtime_seconds", H5T_IEEE_F64LE, {}, s);
  m.flops = make("flops", H5T_IEEE_F64LE, {}, s);
  m.template_offsets = make("template_offsets", H5T_STD_I64LE, {}, s);
  m.template_names = make("template_name", m.str_type, {}, s);
  m.template_sum_probs = make("template_sum_probs", H5T_IEEE_F32LE, {}, s);
  const int64_t zero = 0;
  m.residue_offsets.append(&zero, 1, H5T_NATIVE_INT64);
  m.template_offsets.append(&zero, 1, H5T_NATIVE_INT64);
  if (m.opt.pae != PaeStorage::none) {
    m.pae_offsets = make("pae_offsets", H5T_STD_I64LE, {}, s);
    m.pae = make("pae", m.opt.pae == PaeStorage::float16 ? m.half_type.get() : H5T_IEEE_F32LE, {},
                 r * 64);
    m.pae_offsets.append(&zero, 1, H5T_NATIVE_INT64);
  }
}

herr_t ShardWriter::Impl::close() {
  for (h5::Appendable* a :
       {&ids, &sequences, &models, &residue_offsets, &aatype, &residue_index, &positions, &mask,
        &plddt, &mean_plddt, &ptm, &seeds, &runtime, &flops, &pae_offsets, &pae, &template_offsets,
        &template_names, &template_sum_probs})
    *a = h5::Appendable();
  str_type.reset();
  half_type.reset();
  return file.close();
}

void ShardWriter::Impl::discard() {
  close();
  H5Eclear2(H5E_DEFAULT);
  ::unlink(tmp.c_str());  // a file only: never a directory in its way
}

ShardWriter::~ShardWriter() {
  if (!impl_->finished) impl_->discard();
}

int64_t ShardWriter::size() const { return int64_t(impl_->ids.rows()); }

int64_t ShardWriter::append(const ShardStructure& s) {
  Impl& m = *impl_;
  check(!m.finished, "shard ", m.path, " is finished; cannot append ", s.id);
  const size_t n = s.sequence.size();
  check(n > 0, "structure \"", s.id, "\" has an empty sequence");
  auto expect = [&](size_t got, size_t want, const char* what) {
    check(got == want, "structure \"", s.id, "\" (", n, " residues): ", what, " has ", got,
          " values, expected ", want);
  };
  expect(s.aatype.size(), n, "aatype");
  expect(s.residue_index.size(), n, "residue_index");
  expect(s.atom_positions.size(), n * kAtom37 * 3, "atom_positions");
  expect(s.atom_mask.size(), n * kAtom37, "atom_mask");
  expect(s.plddt.size(), n, "plddt");
  check(s.pae.empty() || s.pae.size() == n * n, "structure \"", s.id, "\": pae has ", s.pae.size(),
        " values, expected 0 or ", n * n);
  for (uint8_t a : s.aatype)
    check(a <= 20, "structure \"", s.id, "\": aatype ", int(a), " is out of range 0-20");
  check(s.template_sum_probs.size() == s.templates.size(), "structure \"", s.id,
        "\": ", s.templates.size(), " templates but ", s.template_sum_probs.size(), " sum_probs");

  const int64_t row = size();
  const char* id = s.id.c_str();
  const char* seq = s.sequence.c_str();
  const char* model = s.model.c_str();
  m.ids.append(&id, 1, m.str_type);
  m.sequences.append(&seq, 1, m.str_type);
  m.models.append(&model, 1, m.str_type);
  m.aatype.append(s.aatype.data(), n, H5T_NATIVE_UINT8);
  m.residue_index.append(s.residue_index.data(), n, H5T_NATIVE_INT32);
  m.positions.append(s.atom_positions.data(), n, H5T_NATIVE_FLOAT);
  m.mask.append(s.atom_mask.data(), n, H5T_NATIVE_UINT8);
  m.plddt.append(s.plddt.data(), n, H5T_NATIVE_FLOAT);
  double sum = 0;
  for (float p : s.plddt) sum += p;
  const float mean = float(sum / double(n));
  m.mean_plddt.append(&mean, 1, H5T_NATIVE_FLOAT);
  m.ptm.append(&s.ptm, 1, H5T_NATIVE_FLOAT);
  m.seeds.append(&s.seed, 1, H5T_NATIVE_UINT64);
  m.runtime.append(&s.runtime_seconds, 1, H5T_NATIVE_DOUBLE);
  m.flops.append(&s.flops, 1, H5T_NATIVE_DOUBLE);
  m.residues += int64_t(n);
  m.residue_offsets.append(&m.residues, 1, H5T_NATIVE_INT64);
  if (!s.templates.empty()) {
    std::vector<const char*> names;
    for (const std::string& t : s.templates) names.push_back(t.c_str());
    m.template_names.append(names.data(), names.size(), m.str_type);
    m.template_sum_probs.append(s.template_sum_probs.data(), s.template_sum_probs.size(),
                                H5T_NATIVE_FLOAT);
  }
  m.templates += int64_t(s.templates.size());
  m.template_offsets.append(&m.templates, 1, H5T_NATIVE_INT64);
  if (m.opt.pae != PaeStorage::none) {
    if (m.opt.pae == PaeStorage::float16) {
      std::vector<uint16_t> half(s.pae.size());
      for (size_t i = 0; i < half.size(); ++i) half[i] = float_to_half(s.pae[i]);
      m.pae.append(half.data(), half.size(), m.half_type);
    } else {
      m.pae.append(s.pae.data(), s.pae.size(), H5T_NATIVE_FLOAT);
    }
    m.pae_entries += int64_t(s.pae.size());
    m.pae_offsets.append(&m.pae_entries, 1, H5T_NATIVE_INT64);
  }
  return row;
}

void ShardWriter::finish() {
  Impl& m = *impl_;
  check(!m.finished, "shard ", m.path, " is already finished");
  h5::write_string_attribute(m.file, "exafold_version", kVersion, m.tmp);
  h5::write_string_attribute(m.file, "created", utc_now(), m.tmp);
  h5::write_string_attribute(m.file, "pae_dtype", pae_storage_name(m.opt.pae), m.tmp);
  {
    h5::Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create a scalar dataspace", m.tmp);
    h5::Handle a(
        H5Acreate2(m.file, "layout_version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose, "create attribute layout_version", m.tmp);
    const int v = kShardLayoutVersion;
    h5::ok(H5Awrite(a, H5T_NATIVE_INT, &v), "write attribute layout_version", m.tmp);
  }
  h5::ok(H5Fflush(m.file, H5F_SCOPE_GLOBAL), "flush the file", m.tmp);
  h5::ok(m.close(), "close the file", m.tmp);
  // Data, then name, then the directory entry: after a crash the final name is either absent or
  // names a complete file.
  fsync_path(m.tmp, O_RDONLY);
  check<IoError>(std::rename(m.tmp.c_str(), m.path.c_str()) == 0, "cannot rename ", m.tmp, " to ",
                 m.path, ": ", std::strerror(errno));
  const auto dir = std::filesystem::path(m.path).parent_path();
  fsync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);
  m.finished = true;
}

std::unordered_map<std::string, int64_t> Shard::index() const {
  std::unordered_map<std::string, int64_t> idx;
  idx.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    check(idx.emplace(ids[i], int64_t(i)).second, "shard holds id \"", ids[i], "\" twice");
  return idx;
}

Shard read_shard(const std::string& path) {
  h5::quiet();
  check<IoError>(std::filesystem::exists(path), "cannot open shard ", path, ": ",
                 std::strerror(ENOENT));
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open the file",
                  path);
  Shard s;
  check(H5Aexists(file, "layout_version") > 0, "shard ", path, " has no layout_version attribute");
  {
    h5::Handle a(H5Aopen(file, "layout_version", H5P_DEFAULT), H5Aclose, "open an attribute", path);
    h5::ok(H5Aread(a, H5T_NATIVE_INT, &s.layout_version), "read layout_version", path);
  }
  check(s.layout_version == 1 || s.layout_version == kShardLayoutVersion, "shard ", path,
        " has layout version ", s.layout_version, "; this exafold reads versions 1 to ",
        kShardLayoutVersion);
  s.exafold_version = h5::read_string_attribute(file, "exafold_version", path);
  s.created = h5::read_string_attribute(file, "created", path);
  s.pae_storage = parse_pae_storage(h5::read_string_attribute(file, "pae_dtype", path), path);

  s.ids = h5::read_strings(file, "id", path);
  s.sequences = h5::read_strings(file, "sequence", path);
  s.models = h5::read_strings(file, "model", path);
  const hsize_t n = s.ids.size();

  // Reads a dataset after checking its shape is {rows, inner...}.
  auto column = [&](const char* name, auto& out, hid_t mem_type, hsize_t rows,
                    std::vector<hsize_t> inner = {}) {
    const auto dims = h5::shape(file, name, path);
    std::vector<hsize_t> want{rows};
    want.insert(want.end(), inner.begin(), inner.end());
    check(dims == want, "shard ", path, ": dataset ", name, " has the wrong shape");
    hsize_t count = 1;
    for (hsize_t d : dims) count *= d;
    out.resize(count);
    if (count) h5::read_all(file, name, mem_type, out.data(), path);
  };
  check(s.sequences.size() == n && s.models.size() == n, "shard ", path,
        ": id, sequence and model have different lengths");
  column("residue_offsets", s.residue_offsets, H5T_NATIVE_INT64, n + 1);
  for (hsize_t i = 0; i < n; ++i)
    check(s.residue_offsets[i + 1] - s.residue_offsets[i] == int64_t(s.sequences[i].size()),
          "shard ", path, ": residue_offsets disagree with the sequence of ", s.ids[i]);
  check(s.residue_offsets[0] == 0, "shard ", path, ": residue_offsets must start at 0");
  const auto r = hsize_t(s.residue_offsets[n]);
  column("aatype", s.aatype, H5T_NATIVE_UINT8, r);
  column("residue_index", s.residue_index, H5T_NATIVE_INT32, r);
  column("atom_positions", s.atom_positions, H5T_NATIVE_FLOAT, r, {kAtom37, 3});
  column("atom_mask", s.atom_mask, H5T_NATIVE_UINT8, r, {kAtom37});
  column("plddt", s.plddt, H5T_NATIVE_FLOAT, r);
  column("mean_plddt", s.mean_plddt, H5T_NATIVE_FLOAT, n);
  column("ptm", s.ptm, H5T_NATIVE_FLOAT, n);
  column("seed", s.seeds, H5T_NATIVE_UINT64, n);
  column("runtime_seconds", s.runtime_seconds, H5T_NATIVE_DOUBLE, n);
  column("flops", s.flops, H5T_NATIVE_DOUBLE, n);
  if (s.pae_storage != PaeStorage::none) {
    column("pae_offsets", s.pae_offsets, H5T_NATIVE_INT64, n + 1);
    for (hsize_t i = 0; i < n; ++i) {
      const int64_t len = s.residue_offsets[i + 1] - s.residue_offsets[i];
      const int64_t got = s.pae_offsets[i + 1] - s.pae_offsets[i];
      check(got == 0 || got == len * len, "shard ", path, ": pae of ", s.ids[i], " has ", got,
            " entries for ", len, " residues");
    }
    // HDF5 widens binary16 to float32 exactly on read.
    column("pae", s.pae, H5T_NATIVE_FLOAT, hsize_t(s.pae_offsets[n]));
  }
  if (s.layout_version == 1) {
    s.template_offsets.assign(n + 1, 0);
    return s;
  }
  column("template_offsets", s.template_offsets, H5T_NATIVE_INT64, n + 1);
  check(s.template_offsets[0] == 0, "shard ", path, ": template_offsets must start at 0");
  for (hsize_t i = 0; i < n; ++i)
    check(s.template_offsets[i + 1] >= s.template_offsets[i], "shard ", path,
          ": template_offsets decrease at ", s.ids[i]);
  s.template_names = h5::read_strings(file, "template_name", path);
  check(s.template_names.size() == size_t(s.template_offsets[n]), "shard ", path,
        ": template_name has ", s.template_names.size(), " entries, template_offsets end at ",
        s.template_offsets[n]);
  column("template_sum_probs", s.template_sum_probs, H5T_NATIVE_FLOAT,
         hsize_t(s.template_offsets[n]));
  return s;
}

}  // namespace exafold::io
