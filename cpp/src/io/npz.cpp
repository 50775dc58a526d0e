#include "exafold/io/npz.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "exafold/core/error.h"

// Layout followed: the ZIP application note (end of central directory, ZIP64 locator and
// record, central directory headers with the ZIP64 extra field, local headers) and numpy's
// NEP 1 .npy format (magic, version, little-endian header length, a Python dict literal).

namespace exafold {
namespace {

class File {
 public:
  explicit File(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    check<IoError>(bool(in_), "cannot open ", path, ": ", std::strerror(errno));
    in_.seekg(0, std::ios::end);
    size_ = uint64_t(in_.tellg());
  }
  uint64_t size() const { return size_; }
  void read(uint64_t offset, void* dst, uint64_t n) {
    check(offset <= size_ && n <= size_ - offset, path_, ": truncated (needs bytes ", offset, "..",
          offset + n, " of a ", size_, "-byte file)");
    in_.seekg(std::streamoff(offset));
    in_.read(static_cast<char*>(dst), std::streamsize(n));
    check<IoError>(bool(in_), "read error in ", path_);
  }
  std::string bytes(uint64_t offset, uint64_t n) {
    std::string s(n, '\0');
    read(offset, s.data(), n);
    return s;
  }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
};

uint64_t le(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(s[at + size_t(i)]);
  return v;
}

/// Inflates a raw-deflate member, stopping once `limit` bytes are out.
std::string inflate_member(File& f, uint64_t offset, uint64_t size, uint64_t limit,
                           const std::string& what) {
  z_stream z{};
  check<InternalError>(inflateInit2(&z, -MAX_WBITS) == Z_OK, "zlib init failed");
  std::unique_ptr<z_stream, void (*)(z_stream*)> guard(&z, [](z_stream* p) { inflateEnd(p); });
  std::string out;
  std::string in(std::min<uint64_t>(size, 1 << 20), '\0');
  uint64_t done = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END && out.size() < limit) {
    if (z.avail_in == 0) {
      check(done < size, what, ": compressed data ends early");
      uint64_t n = std::min<uint64_t>(in.size(), size - done);
      f.read(offset + done, in.data(), n);
      done += n;
      z.next_in = reinterpret_cast<Bytef*>(in.data());
      z.avail_in = uInt(n);
    }
    char buf[1 << 16];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    check(rc == Z_OK || rc == Z_STREAM_END, what, ": corrupt compressed data (zlib ", rc, ")");
    out.append(buf, sizeof buf - z.avail_out);
  }
  return out;
}

struct NpyHeader {
  DType dtype;
  Shape shape;
  size_t header_bytes;
};

NpyHeader parse_npy_header(const std::string& h, const std::string& what) {
  check(h.size() >= 10 && h.compare(0, 6, "\x93NUMPY") == 0, what, ": not a .npy array");
  const int major = uint8_t(h[6]);
  check(major >= 1 && major <= 3, what, ": unsupported .npy version ", major);
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t hlen = size_t(le(h, 8, int(len_bytes)));
  const size_t start = 8 + len_bytes;
  check(h.size() >= start + hlen, what, ": truncated .npy header");
  const std::string dict = h.substr(start, hlen);
  auto value_of = [&](const std::string& key) {
    auto k = dict.find("'" + key + "'");
    check(k != std::string::npos, what, ": .npy header lacks '", key, "': ", dict);
    auto colon = dict.find(':', k);
    auto v = dict.find_first_not_of(' ', colon + 1);
    return dict.substr(v);
  };
  std::string descr = value_of("descr");
  check(descr[0] == '\'', what, ": structured dtypes are not supported: ", dict);
  descr = descr.substr(1, descr.find('\'', 1) - 1);
  DType dt;
  if (descr == "<f4")
    dt = DType::float32;
  else if (descr == "<f8")
    dt = DType::float64;
  else if (descr == "<f2")
    dt = DType::float16;
  else if (descr == "|i1")
    dt = DType::int8;
  else if (descr == "<i4")
    dt = DType::int32;
  else if (descr == "<i8")
    dt = DType::int64;
  else if (descr == "|u1")
    dt = DType::uint8;
  else if (descr == "|b1")
    dt = DType::bool_;
  else
    fail(what, ": unsupported array dtype '", descr, "'");
  check(value_of("fortran_order").rfind("False", 0) == 0, what,
        ": Fortran-ordered arrays are not supported");
  std::string shape = value_of("shape");
  Shape s;
  size_t i = 1;
  while (i < shape.size() && shape[i] != ')') {
    size_t j = i;
    while (j < shape.size() && std::isdigit(uint8_t(shape[j]))) ++j;
    if (j > i) s.push_back(std::stoll(shape.substr(i, j - i)));
    i = j + 1;
  }
  return {dt, s, start + hlen};
}

constexpr uint32_t kEocd = 0x06054b50, kZip64Locator = 0x07064b50, kZip64Eocd = 0x06064b50,
                   kCentral = 0x02014b50, kLocal = 0x04034b50;

}  // namespace

NpzFile::NpzFile(std::string path) : path_(std::move(path)) {
  File f(path_);
  check(f.size() >= 22, path_, ": too small to be an .npz archive");
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  const uint64_t tail_len = std::min<uint64_t>(f.size(), 22 + 65535);
  const std::string tail = f.bytes(f.size() - tail_len, tail_len);
  size_t eocd = std::string::npos;
  for (size_t i = tail.size() - 22 + 1; i-- > 0;)
    if (le(tail, i, 4) == kEocd) {
      eocd = i;
      break;
    }
  check(eocd != std::string::npos, path_, ": not a zip/npz archive (no end-of-directory record)");
  uint64_t count = le(tail, eocd + 10, 2), cd_size = le(tail, eocd + 12, 4),
           cd_offset = le(tail, eocd + 16, 4);
  if (eocd >= 20 && le(tail, eocd - 20, 4) == kZip64Locator) {
    const uint64_t rec = le(tail, eocd - 20 + 8, 8);
    const std::string z = f.bytes(rec, 56);
    check(le(z, 0, 4) == kZip64Eocd, path_, ": bad ZIP64 end-of-directory record");
    count = le(z, 32, 8);
    cd_size = le(z, 40, 8);
    cd_offset = le(z, 48, 8);
  }
  const std::string cd = f.bytes(cd_offset, cd_size);
  size_t p = 0;
  for (uint64_t n = 0; n < count; ++n) {
    check(p + 46 <= cd.size() && le(cd, p, 4) == kCentral, path_,
          ": corrupt central directory at entry ", n);
    const uint64_t method = le(cd, p + 10, 2);
    uint64_t csize = le(cd, p + 20, 4), usize = le(cd, p + 24, 4);
    const size_t nlen = size_t(le(cd, p + 28, 2)), xlen = size_t(le(cd, p + 30, 2)),
                 clen = size_t(le(cd, p + 32, 2));
    uint64_t local = le(cd, p + 42, 4);
    std::string name = cd.substr(p + 46, nlen);
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint64_t id = le(cd, x, 2), sz = le(cd, x + 2, 2);
      if (id == 0x0001) {  // ZIP64 sizes and offset, present only for fields saturated above
        size_t q = x + 4;
        if (usize == 0xffffffffu) usize = le(cd, q, 8), q += 8;
        if (csize == 0xffffffffu) csize = le(cd, q, 8), q += 8;
        if (local == 0xffffffffu) local = le(cd, q, 8);
      }
      x += 4 + sz;
    }
    p += 46 + nlen + xlen + clen;
    check(method == 0 || method == 8, path_, ": member '", name, "' uses compression method ",
          method, " (only stored and deflate are supported)");
    check(name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0, path_, ": member '",
          name, "' is not a .npy array");
    const std::string lh = f.bytes(local, 30);
    check(le(lh, 0, 4) == kLocal, path_, ": bad local header for '", name, "'");
    const uint64_t start = local + 30 + le(lh, 26, 2) + le(lh, 28, 2);
    const std::string what = path_ + ":" + name;
    const std::string head = method == 0 ? f.bytes(start, std::min<uint64_t>(csize, 4096))
                                         : inflate_member(f, start, csize, 4096, what);
    NpyHeader h = parse_npy_header(head, what);
    NpyEntry e;
    e.name = name.substr(0, name.size() - 4);
    e.dtype = h.dtype;
    e.shape = h.shape;
    e.deflated = method == 8;
    e.local_header = local;
    e.stored_size = csize;
    e.data_offset = start + (e.deflated ? 0 : h.header_bytes);
    const uint64_t expect = uint64_t(h.shape.product()) * dtype_size(h.dtype);
    check(usize == h.header_bytes + expect, what, ": holds ", usize - h.header_bytes,
          " data bytes but its header ", h.shape.str(), " ", dtype_name(h.dtype), " needs ",
          expect);
    entries_.push_back(std::move(e));
  }
}

const NpyEntry* NpzFile::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Tensor NpzFile::read(const NpyEntry& e, DType as) const {
  const bool widen = e.dtype == DType::float32 && as == DType::float64;
  check(as == e.dtype || widen, path_, ":", e.name, ": cannot read ", dtype_name(e.dtype), " as ",
        dtype_name(as));
  File f(path_);
  const size_t n = size_t(e.shape.product());
  Tensor out = Tensor::empty(e.shape, as, Device::cpu(), MemoryKind::host);
  if (e.deflated) {
    const std::string what = path_ + ":" + e.name;
    std::string raw = inflate_member(f, e.data_offset, e.stored_size, UINT64_MAX, what);
    NpyHeader h = parse_npy_header(raw, what);
    const char* src = raw.data() + h.header_bytes;
    if (!widen) {
      std::memcpy(out.data_ptr(), src, n * dtype_size(e.dtype));
    } else {
      double* d = out.data<double>();
      for (size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, src + 4 * i, 4);
        d[i] = v;
      }
    }
    return out;
  }
  if (!widen) {
    f.read(e.data_offset, out.data_ptr(), n * dtype_size(e.dtype));
    return out;
  }
  // Widen through a bounded buffer so a float64 load never holds the float32 array whole.
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> buf(std::min(n, kChunk));
  double* d = out.data<double>();
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = std::min(kChunk, n - i);
    f.read(e.data_offset + 4 * i, buf.data(), 4 * m);
    for (size_t j = 0; j < m; ++j) d[i + j] = buf[j];
  }
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
    std::string body = npy_header(t);
    body.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
    const uint32_t crc =
        uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size())));
    // Always ZIP64 so sizes past 4 GiB need no special case.
    std::string lh;
    put(lh, kLocal, 4), put(lh, 45, 2), put(lh, 0, 2), put(lh, 0, 2), put(lh, 0, 4);
    put(lh, crc, 4), put(lh, 0xffffffffu, 4), put(lh, 0xffffffffu, 4);
    put(lh, member.size(), 2), put(lh, 20, 2);
    lh += member;
    put(lh, 0x0001, 2), put(lh, 16, 2), put(lh, body.size(), 8), put(lh, body.size(), 8);
    std::string ch;
    put(ch, kCentral, 4), put(ch, 45, 2), put(ch, 45, 2), put(ch, 0, 2), put(ch, 0, 2);
    put(ch, 0, 4), put(ch, crc, 4), put(ch, 0xffffffffu, 4), put(ch, 0xffffffffu, 4);
    put(ch, member.size(), 2), put(ch, 28, 2), put(ch, 0, 2), put(ch, 0, 2), put(ch, 0, 2);
    put(ch, 0, 4), put(ch, 0xffffffffu, 4);
    ch += member;
    put(ch, 0x0001, 2), put(ch, 24, 2), put(ch, body.size(), 8), put(ch, body.size(), 8);
    put(ch, offset, 8);
    central += ch;
    out.write(lh.data(), std::streamsize(lh.size()));
    out.write(body.data(), std::streamsize(body.size()));
    offset += lh.size() + body.size();
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
  check<IoError>(bool(out), "write error on ", tmp);
  check<IoError>(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp, " to ", path,
                 ": ", std::strerror(errno));
}

}  // namespace exafold
