#include "exafold/io/npz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "exafold/core/error.h"

// Layout followed: the ZIP application note (end of central directory, ZIP64 locator and
// record, central directory headers with the ZIP64 extra field, local headers) and numpy's
// NEP 1 .npy format (magic, version, little-endian header length, a Python dict literal).
//
// Every number read from the archive is checked before it is used as an offset or a size, so a
// damaged or hostile file fails with a message instead of reading out of bounds or allocating
// what it claims (tests/fuzz/fuzz_npz.cpp holds the reader to that).

namespace exafold {

class NpzFile::Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  /// n bytes at offset into dst; the range has been checked against size().
  virtual void read(uint64_t offset, void* dst, uint64_t n) const = 0;
  const std::string& name() const { return name_; }

 protected:
  explicit Source(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

namespace {

using Source = NpzFile::Source;

/// pread on one descriptor: safe to share between threads, no seek state.
class FileSource final : public Source {
 public:
  explicit FileSource(const std::string& path) : Source(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check<IoError>(fd_ >= 0, "cannot open ", path, ": ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      fail<IoError>("cannot stat ", path, ": ", std::strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      fail<IoError>(path, " is a directory, not an .npz file");
    }
    size_ = uint64_t(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, uint64_t n) const override {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t got = ::pread(fd_, p, size_t(std::min<uint64_t>(n, 1 << 30)), off_t(offset));
      if (got < 0 && errno == EINTR) continue;
      check<IoError>(got >= 0, "cannot read ", name_, ": ", std::strerror(errno));
      check<IoError>(got > 0, "cannot read ", name_, ": it shrank while being read");
      p += got, offset += uint64_t(got), n -= uint64_t(got);
    }
  }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

class MemorySource final : public Source {
 public:
  MemorySource(std::string_view bytes, std::string name) : Source(std::move(name)), bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  void read(uint64_t offset, void* dst, uint64_t n) const override {
    if (n > 0) std::memcpy(dst, bytes_.data() + offset, size_t(n));
  }

 private:
  std::string_view bytes_;
};

/// Bounds-checked reads of the archive's structures.
class Archive {
 public:
  explicit Archive(const Source& s) : s_(s) {}
  uint64_t size() const { return s_.size(); }
  const std::string& name() const { return s_.name(); }
  bool contains(uint64_t offset, uint64_t n) const {
    return offset <= size() && n <= size() - offset;
  }
  void read(uint64_t offset, void* dst, uint64_t n, const std::string& what) const {
    check(contains(offset, n), name(), ": truncated or damaged: ", what, " needs bytes ", offset,
          "..", offset + n, " of a ", size(), "-byte file");
    s_.read(offset, dst, n);
  }
  std::string bytes(uint64_t offset, uint64_t n, const std::string& what) const {
    std::string out(size_t(n), '\0');
    read(offset, out.data(), n, what);
    return out;
  }

 private:
  const Source& s_;
};

uint64_t le(std::string_view s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(s[at + size_t(i)]);
  return v;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

/// A member's uncompressed bytes in order, stored or inflated, with their running CRC-32.
class MemberStream {
 public:
  MemberStream(const Archive& a, const NpyEntry& e, std::string what)
      : a_(a), e_(e), what_(std::move(what)) {
    if (e_.deflated) {
      check<InternalError>(inflateInit2(&z_, -MAX_WBITS) == Z_OK, "zlib init failed");
      inflating_ = true;
    }
  }
  ~MemberStream() {
    if (inflating_) inflateEnd(&z_);
  }
  MemberStream(const MemberStream&) = delete;
  MemberStream& operator=(const MemberStream&) = delete;

  /// The next n bytes of the member.
  void take(void* dst, uint64_t n, bool crc) {
    check(n <= e_.member_size - produced_, what_, ": member is ", e_.member_size,
          " bytes, its .npy header asks for more");
    if (!e_.deflated)
      a_.read(e_.member_offset + produced_, dst, n, "member " + e_.name);
    else
      inflate_into(static_cast<char*>(dst), n);
    if (crc) {
      check<InternalError>(crc_produced_ == produced_, "CRC over a gap in ", what_);
      crc_ = uint32_t(crc32_z(crc_, static_cast<const Bytef*>(dst), size_t(n)));
      crc_produced_ += n;
    }
    produced_ += n;
  }

  /// After the whole member: the compressed data must end here and the CRC-32 must match.
  void finish(bool crc) {
    if (e_.deflated) {
      char extra;
      z_.next_out = reinterpret_cast<Bytef*>(&extra);
      z_.avail_out = 1;
      const int rc = pump();
      check(rc == Z_STREAM_END && z_.avail_out == 1, what_,
            ": damaged: the compressed data does not end where the directory says");
    }
    if (crc)
      check(crc_ == e_.crc32, what_, ": damaged: its bytes have CRC-32 ", hex32(crc_),
            ", the archive's directory records ", hex32(e_.crc32),
            " (the file changed after it was written: a bad copy or download)");
  }

 private:
  void inflate_into(char* dst, uint64_t n) {
    while (n > 0) {
      z_.next_out = reinterpret_cast<Bytef*>(dst);
      z_.avail_out = uInt(std::min<uint64_t>(n, 1u << 30));
      const uInt asked = z_.avail_out;
      const int rc = pump();
      const uInt got = asked - z_.avail_out;
      check(got == asked || rc != Z_STREAM_END, what_,
            ": damaged: the compressed data ends before the member's ", e_.member_size, " bytes");
      dst += got, n -= got;
    }
  }
  int pump() {
    while (true) {
      if (z_.avail_in == 0 && consumed_ < e_.stored_size) {
        const uint64_t m = std::min<uint64_t>(sizeof in_, e_.stored_size - consumed_);
        a_.read(e_.data_offset + consumed_, in_, m, "member " + e_.name);
        consumed_ += m;
        z_.next_in = reinterpret_cast<Bytef*>(in_);
        z_.avail_in = uInt(m);
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END || z_.avail_out == 0) return rc;
      // Z_BUF_ERROR: no progress without more input.
      check(rc != Z_BUF_ERROR || consumed_ < e_.stored_size, what_,
            ": damaged: the compressed data ends early");
      check(rc == Z_OK || rc == Z_BUF_ERROR, what_, ": damaged: corrupt compressed data (zlib ", rc,
            ")");
    }
  }

  const Archive& a_;
  const NpyEntry& e_;
  std::string what_;
  z_stream z_{};
  bool inflating_ = false;
  uint64_t produced_ = 0, crc_produced_ = 0, consumed_ = 0;
  uint32_t crc_ = 0;
  char in_[1 << 16];
};

/// A cursor over the .npy header's dict literal, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class NpyDict {
 public:
  NpyDict(std::string_view text, const std::string& what) : t_(text), what_(what) {}

  std::string_view value_of(std::string_view key) {
    const std::string quoted = "'" + std::string(key) + "'";
    const size_t k = t_.find(quoted);
    check(k != std::string_view::npos, what_, ": .npy header lacks '", key, "': ", shown());
    i_ = k + quoted.size();
    skip_spaces();
    check(i_ < t_.size() && t_[i_] == ':', what_, ": malformed .npy header: ", shown());
    ++i_;
    skip_spaces();
    return t_.substr(i_);
  }
  std::string shown() const { return std::string(t_.substr(0, 200)); }

 private:
  void skip_spaces() {
    while (i_ < t_.size() && t_[i_] == ' ') ++i_;
  }
  std::string_view t_;
  const std::string& what_;
  size_t i_ = 0;
};

DType parse_descr(std::string_view v, const NpyDict& d, const std::string& what) {
  check(!v.empty() && v[0] == '\'', what, ": structured dtypes are not supported: ", d.shown());
  const size_t end = v.find('\'', 1);
  check(end != std::string_view::npos, what, ": malformed .npy header: ", d.shown());
  const std::string_view descr = v.substr(1, end - 1);
  static const std::pair<std::string_view, DType> kKnown[] = {
      {"<f4", DType::float32}, {"<f8", DType::float64}, {"<f2", DType::float16},
      {"|i1", DType::int8},    {"<i4", DType::int32},   {"<i8", DType::int64},
      {"|u1", DType::uint8},   {"|b1", DType::bool_}};
  for (const auto& [name, dt] : kKnown)
    if (descr == name) return dt;
  fail(what, ": unsupported array dtype '", descr, "'");
}

Shape parse_shape(std::string_view v, const NpyDict& d, const std::string& what) {
  check(!v.empty() && v[0] == '(', what, ": malformed shape in .npy header: ", d.shown());
  Shape s;
  size_t i = 1;
  while (true) {
    while (i < v.size() && (v[i] == ' ' || v[i] == ',')) ++i;
    check(i < v.size(), what, ": malformed shape in .npy header: ", d.shown());
    if (v[i] == ')') return s;
    check(std::isdigit(uint8_t(v[i])), what, ": malformed shape in .npy header: ", d.shown());
    int64_t dim = 0;
    for (; i < v.size() && std::isdigit(uint8_t(v[i])); ++i) {
      // Any real dimension is far below this; the member's size bounds the product later.
      check(dim < (int64_t(1) << 48), what, ": implausible dimension in .npy header: ", d.shown());
      dim = dim * 10 + (v[i] - '0');
    }
    s.push_back(dim);
    check(s.size() <= 32, what, ": too many dimensions in .npy header: ", d.shown());
  }
}

struct NpyHeader {
  DType dtype;
  Shape shape;
  uint64_t header_bytes;
};

/// Reads and parses the member's .npy header from its stream.
NpyHeader read_npy_header(MemberStream& in, const NpyEntry& e, const std::string& what) {
  check(e.member_size >= 10, what, ": not a .npy array (", e.member_size, " bytes)");
  char head[12] = {};
  in.take(head, 10, true);
  check(std::memcmp(head, "\x93NUMPY", 6) == 0, what, ": not a .npy array");
  const int major = uint8_t(head[6]);
  check(major >= 1 && major <= 3, what, ": unsupported .npy version ", major);
  uint64_t start = 10, hlen = le(std::string_view(head, 10), 8, 2);
  if (major > 1) {
    check(e.member_size >= 12, what, ": truncated .npy header");
    in.take(head + 10, 2, true);
    start = 12;
    hlen = le(std::string_view(head, 12), 8, 4);
  }
  check(hlen <= e.member_size - start, what, ": truncated .npy header (", hlen,
        " bytes announced)");
  check(hlen <= (1u << 20), what, ": implausible .npy header of ", hlen, " bytes");
  std::string text(size_t(hlen), '\0');
  in.take(text.data(), hlen, true);
  NpyDict d(text, what);
  NpyHeader h{parse_descr(d.value_of("descr"), d, what), {}, start + hlen};
  check(d.value_of("fortran_order").starts_with("False"), what,
        ": Fortran-ordered arrays are not supported");
  h.shape = parse_shape(d.value_of("shape"), d, what);
  return h;
}

/// shape.product() * itemsize, or false when it overflows.
bool array_bytes(const Shape& s, DType dt, uint64_t& out) {
  uint64_t n = dtype_size(dt);
  for (int64_t d : s)
    if (d != 0 && n > UINT64_MAX / uint64_t(d))
      return false;
    else
      n *= uint64_t(d);
  out = n;
  return true;
}

constexpr uint32_t kEocd = 0x06054b50, kZip64Locator = 0x07064b50, kZip64Eocd = 0x06064b50,
                   kCentral = 0x02014b50, kLocal = 0x04034b50;
// Deflate cannot expand data more than 1032:1 (RFC 1951: 258 bytes from a 2-bit code at best),
// so a member claiming more was not written by a compressor: refuse it before allocating.
constexpr uint64_t kMaxDeflateRatio = 1032;

/// Why a file without a zip directory is not an npz, from its first bytes.
std::string not_an_archive(const Archive& a) {
  const std::string head = a.bytes(0, std::min<uint64_t>(a.size(), 512), "the file's start");
  const std::string what = a.name() + ": not an .npz archive";
  if (head.starts_with("PK\x03\x04"))
    return what + ": a zip archive without its directory at the end (truncated: copy it again)";
  if (head.starts_with("\x93NUMPY")) return what + ": it is a single .npy array";
  if (head.starts_with("\x1f\x8b")) return what + ": it is gzip-compressed (decompress it first)";
  if (head.size() >= 262 && head.compare(257, 5, "ustar") == 0)
    return what + ": it is a tar archive (extract the .npz files from it first)";
  if (head.starts_with("version https://git-lfs"))
    return what + ": it is a Git LFS pointer, not the file it points to (git lfs pull)";
  std::string lower = head.substr(0, 64);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (lower.find("<!doctype html") != std::string::npos || lower.find("<html") != std::string::npos)
    return what + ": it is an HTML page (a failed download?)";
  const bool text = std::all_of(head.begin(), head.end(), [](unsigned char c) {
    return c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c != 0x7f);
  });
  return what + (text ? ": it is a text file" : ": no zip end-of-directory record");
}

}  // namespace

NpzFile::NpzFile(std::string path) : NpzFile(std::make_shared<FileSource>(path), path) {}

NpzFile NpzFile::from_memory(std::string_view bytes, std::string name) {
  return NpzFile(std::make_shared<MemorySource>(bytes, name), name);
}

NpzFile::NpzFile(std::shared_ptr<const Source> source, std::string path)
    : source_(std::move(source)), path_(std::move(path)) {
  const Archive a(*source_);
  check(a.size() > 0, path_, ": empty file, not an .npz archive");
  // An npz starts with its first member's local header (numpy writes no prefix); anything else is
  // another kind of file, even one that holds a zip further in (a tar of npz files does).
  const std::string magic = a.bytes(0, std::min<uint64_t>(a.size(), 4), "the file's start");
  check(a.size() >= 22 && (magic == "PK\x03\x04" || magic == "PK\x05\x06"), not_an_archive(a));
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  const uint64_t tail_len = std::min<uint64_t>(a.size(), 22 + 65535);
  const std::string tail = a.bytes(a.size() - tail_len, tail_len, "the end of the archive");
  size_t eocd = std::string::npos;
  for (size_t i = tail.size() - 22 + 1; i-- > 0;)
    if (le(tail, i, 4) == kEocd) {
      eocd = i;
      break;
    }
  check(eocd != std::string::npos, not_an_archive(a));
  uint64_t count = le(tail, eocd + 10, 2), cd_size = le(tail, eocd + 12, 4),
           cd_offset = le(tail, eocd + 16, 4);
  if (eocd >= 20 && le(tail, eocd - 20, 4) == kZip64Locator) {
    const uint64_t rec = le(tail, eocd - 20 + 8, 8);
    const std::string z = a.bytes(rec, 56, "the ZIP64 end-of-directory record");
    check(le(z, 0, 4) == kZip64Eocd, path_, ": damaged: bad ZIP64 end-of-directory record");
    count = le(z, 32, 8);
    cd_size = le(z, 40, 8);
    cd_offset = le(z, 48, 8);
  }
  check(a.contains(cd_offset, cd_size), path_,
        ": truncated or damaged: its directory lies past the end of the ", a.size(), "-byte file");
  // Each directory entry takes at least 46 bytes: a count beyond that is damage, not a size to
  // reserve.
  check(count <= cd_size / 46, path_, ": damaged: the directory claims ", count, " members in ",
        cd_size, " bytes");
  check(count > 0, path_, ": an empty archive (no arrays)");
  const std::string cd = a.bytes(cd_offset, cd_size, "the directory");
  std::unordered_set<std::string> names;
  size_t p = 0;
  for (uint64_t n = 0; n < count; ++n) {
    check(p + 46 <= cd.size() && le(cd, p, 4) == kCentral, path_,
          ": damaged: corrupt central directory at entry ", n);
    const uint64_t flags = le(cd, p + 8, 2), method = le(cd, p + 10, 2);
    const uint32_t crc = uint32_t(le(cd, p + 16, 4));
    uint64_t csize = le(cd, p + 20, 4), usize = le(cd, p + 24, 4);
    const size_t nlen = size_t(le(cd, p + 28, 2)), xlen = size_t(le(cd, p + 30, 2)),
                 clen = size_t(le(cd, p + 32, 2));
    uint64_t local = le(cd, p + 42, 4);
    check(p + 46 + nlen + xlen + clen <= cd.size(), path_,
          ": damaged: corrupt central directory at entry ", n);
    std::string name = cd.substr(p + 46, nlen);
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint64_t id = le(cd, x, 2), sz = le(cd, x + 2, 2);
      if (id == 0x0001) {  // ZIP64 sizes and offset, present only for fields saturated above
        size_t q = x + 4;
        const size_t end = std::min(x + 4 + size_t(sz), p + 46 + nlen + xlen);
        auto field = [&](uint64_t& v) {
          if (v != 0xffffffffu) return;
          check(q + 8 <= end, path_, ": damaged: short ZIP64 field for member '", name, "'");
          v = le(cd, q, 8), q += 8;
        };
        field(usize);
        field(csize);
        field(local);
      }
      x += 4 + sz;
    }
    p += 46 + nlen + xlen + clen;
    const std::string what = path_ + ": member '" + name + "'";
    check((flags & 1) == 0, what, " is encrypted");
    check(method == 0 || method == 8, what, " uses compression method ", method,
          " (only stored and deflate are supported)");
    check(name.size() > 4 && name.ends_with(".npy"), what, " is not a .npy array");
    check(names.insert(name).second, what, " appears twice");
    const std::string lh = a.bytes(local, 30, "the local header of '" + name + "'");
    check(le(lh, 0, 4) == kLocal, what, ": damaged: bad local header");
    const uint64_t lnlen = le(lh, 26, 2), lxlen = le(lh, 28, 2);
    check(a.bytes(local + 30, lnlen, "the local header of '" + name + "'") == name, what,
          ": damaged: its local header names another member");
    NpyEntry e;
    e.name = name.substr(0, name.size() - 4);
    e.deflated = method == 8;
    e.crc32 = crc;
    e.stored_size = csize;
    e.member_size = usize;
    e.member_offset = e.data_offset = local + 30 + lnlen + lxlen;
    check(a.contains(e.data_offset, csize), path_, ": truncated or damaged: member '", name,
          "' needs bytes ", e.data_offset, "..", e.data_offset + csize, " of a ", a.size(),
          "-byte file");
    if (e.deflated)
      check(usize / kMaxDeflateRatio <= csize, what, ": damaged: ", csize,
            " compressed bytes cannot hold the ", usize, " bytes its directory claims");
    else
      check(csize == usize, what, ": damaged: stored size ", csize, " but size ", usize);
    MemberStream in(a, e, what);
    const NpyHeader h = read_npy_header(in, e, what);
    e.dtype = h.dtype;
    e.shape = h.shape;
    e.header_bytes = h.header_bytes;
    if (!e.deflated) e.data_offset += h.header_bytes;
    uint64_t expect = 0;
    check(array_bytes(h.shape, h.dtype, expect) && expect == usize - h.header_bytes, what,
          ": holds ", usize - h.header_bytes, " data bytes but its header ", h.shape.str(), " ",
          dtype_name(h.dtype), " needs ", expect);
    entries_.push_back(std::move(e));
  }
}

const NpyEntry* NpzFile::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Tensor NpzFile::read(const NpyEntry& e, DType as, NpzCheck check_level) const {
  const bool widen = e.dtype == DType::float32 && as == DType::float64;
  check(as == e.dtype || widen, path_, ":", e.name, ": cannot read ", dtype_name(e.dtype), " as ",
        dtype_name(as));
  const bool crc = check_level == NpzCheck::crc32;
  const Archive a(*source_);
  const std::string what = path_ + ": member '" + e.name + ".npy'";
  MemberStream in(a, e, what);
  {
    std::string header(size_t(e.header_bytes), '\0');
    in.take(header.data(), e.header_bytes, crc);
  }
  const size_t n = size_t(e.shape.product());
  Tensor out = Tensor::empty(e.shape, as, Device::cpu(), MemoryKind::host);
  if (!widen) {
    in.take(out.data_ptr(), n * dtype_size(e.dtype), crc);
  } else {
    // Widen through a bounded buffer so a float64 load never holds the float32 array whole.
    constexpr size_t kChunk = 1 << 16;
    std::vector<float> buf(std::min(n, kChunk));
    double* d = out.data<double>();
    for (size_t i = 0; i < n; i += kChunk) {
      const size_t m = std::min(kChunk, n - i);
      in.take(buf.data(), 4 * m, crc);
      for (size_t j = 0; j < m; ++j) d[i + j] = buf[j];
    }
  }
  in.finish(crc);
  return out;
}

namespace {

void put(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

std::string npy_header(const Tensor& t) {
  std::string descr;
  switch (t.dtype()) {
    case DType::float32:
      descr = "<f4";
      break;
    case DType::float64:
      descr = "<f8";
      break;
    case DType::float16:
      descr = "<f2";
      break;
    case DType::int8:
      descr = "|i1";
      break;
    case DType::int32:
      descr = "<i4";
      break;
    case DType::int64:
      descr = "<i8";
      break;
    case DType::uint8:
      descr = "|u1";
      break;
    case DType::bool_:
      descr = "|b1";
      break;
    case DType::bfloat16:
      fail("bfloat16 has no .npy representation");
  }
  std::string shape = "(";
  for (int i = 0; i < t.rank(); ++i)
    shape += std::to_string(t.shape()[i]) + (t.rank() == 1 ? "," : (i + 1 < t.rank() ? ", " : ""));
  shape += ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;  // header padded to 64 bytes
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string h = "\x93NUMPY\x01";
  h.push_back('\0');
  put(h, dict.size(), 2);
  return h + dict;
}

}  // namespace

void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays) {
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  check<IoError>(bool(out), "cannot write ", tmp, ": ", std::strerror(errno));
  std::string central;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : arrays) {
    check(tensor.device().is_host(), "save_npz: '", name, "' is not in host memory");
    Tensor t = tensor.contiguous();
    const std::string member = name + ".npy";
    const std::string header = npy_header(t);
    const uint64_t size = header.size() + t.nbytes();
    uint32_t crc =
        uint32_t(crc32_z(0, reinterpret_cast<const Bytef*>(header.data()), header.size()));
    crc = uint32_t(crc32_z(crc, static_cast<const Bytef*>(t.data_ptr()), t.nbytes()));
    // Always ZIP64 so sizes past 4 GiB need no special case.
    std::string lh;
    put(lh, kLocal, 4), put(lh, 45, 2), put(lh, 0, 2), put(lh, 0, 2), put(lh, 0, 4);
    put(lh, crc, 4), put(lh, 0xffffffffu, 4), put(lh, 0xffffffffu, 4);
    put(lh, member.size(), 2), put(lh, 20, 2);
    lh += member;
    put(lh, 0x0001, 2), put(lh, 16, 2), put(lh, size, 8), put(lh, size, 8);
    std::string ch;
    put(ch, kCentral, 4), put(ch, 45, 2), put(ch, 45, 2), put(ch, 0, 2), put(ch, 0, 2);
    put(ch, 0, 4), put(ch, crc, 4), put(ch, 0xffffffffu, 4), put(ch, 0xffffffffu, 4);
    put(ch, member.size(), 2), put(ch, 28, 2), put(ch, 0, 2), put(ch, 0, 2), put(ch, 0, 2);
    put(ch, 0, 4), put(ch, 0xffffffffu, 4);
    ch += member;
    put(ch, 0x0001, 2), put(ch, 24, 2), put(ch, size, 8), put(ch, size, 8);
    put(ch, offset, 8);
    central += ch;
    out.write(lh.data(), std::streamsize(lh.size()));
    out.write(header.data(), std::streamsize(header.size()));
    out.write(static_cast<const char*>(t.data_ptr()), std::streamsize(t.nbytes()));
    offset += lh.size() + size;
  }
  std::string end;
  put(end, kZip64Eocd, 4), put(end, 44, 8), put(end, 45, 2), put(end, 45, 2), put(end, 0, 4);
  put(end, 0, 4), put(end, arrays.size(), 8), put(end, arrays.size(), 8);
  put(end, central.size(), 8), put(end, offset, 8);
  put(end, kZip64Locator, 4), put(end, 0, 4), put(end, offset + central.size(), 8), put(end, 1, 4);
  put(end, kEocd, 4), put(end, 0, 2), put(end, 0, 2), put(end, 0xffff, 2), put(end, 0xffff, 2);
  put(end, 0xffffffffu, 4), put(end, 0xffffffffu, 4), put(end, 0, 2);
  out.write(central.data(), std::streamsize(central.size()));
  out.write(end.data(), std::streamsize(end.size()));
  out.close();
  if (!out) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail<IoError>("cannot write ", tmp, ": ", std::strerror(err));
  }
  check<IoError>(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp, " to ", path,
                 ": ", std::strerror(errno));
}

}  // namespace exafold
