// Embeddings and gathers of the cpu backend.
#include <algorithm>

#include "cpu_backend.h"
#include "exafold/core/thread_pool.h"
#include "strided.h"

namespace exafold::cpu {

namespace {

// atom37 indices (residue_constants.atom_order) and the glycine restype.
constexpr int64_t kAtomCA = 1;
constexpr int64_t kAtomCB = 3;
constexpr int64_t kGlycine = 7;

/// Elements per entry of x [N, A, ...]: the product of its trailing dimensions (also when N or A
/// is 0).
int64_t entry_size(const Tensor& x) {
  int64_t n = 1;
  for (int d = 2; d < x.rank(); ++d) n *= x.size(d);
  return n;
}

int64_t index_value(const Tensor& t, int64_t off) {
  const char* p = static_cast<const char*>(t.data_ptr()) + off;
  return t.dtype() == DType::int64 ? *reinterpret_cast<const int64_t*>(p)
                                   : *reinterpret_cast<const int32_t*>(p);
}

template <class T>
T value_at(const Tensor& t, int64_t off) {
  return *reinterpret_cast<const T*>(static_cast<const char*>(t.data_ptr()) + off);
}

}  // namespace

void CpuBackend::embed(const Tensor& out, const Tensor& w, const Tensor& bias,
                       const std::vector<ops::EmbedTerm>& terms, bool accumulate) {
  if (dry_) return;
  const int64_t c = out.size(-1);
  const int64_t rows = c == 0 ? 0 : out.numel() / c;
  Shape lead = out.shape();
  lead.erase(lead.size() - 1);
  with_float(out.dtype(), [&]<class T>() {
    const T* wp = static_cast<const T*>(w.data_ptr());
    const T* b = bias.defined() ? static_cast<const T*>(bias.data_ptr()) : nullptr;
    thread_pool().parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
      std::vector<T> sum(static_cast<size_t>(c));
      for (int64_t r = r0; r < r1; ++r) {
        std::fill(sum.begin(), sum.end(), T(0));
        for (const ops::EmbedTerm& t : terms) {
          if (t.index.defined()) {
            const int64_t i = index_value(t.index, flat_offset(lead, t.index.strides(), r));
            if (i < 0) continue;
            EXAFOLD_ASSERT(t.row + i < w.size(0));
            const T* wr = wp + (t.row + i) * c;
            if (t.scale.defined()) {
              const T v = value_at<T>(t.scale, flat_offset(lead, t.scale.strides(), r));
              for (int64_t k = 0; k < c; ++k) sum[size_t(k)] += v * wr[k];
            } else {
              for (int64_t k = 0; k < c; ++k) sum[size_t(k)] += wr[k];
            }
          } else {
            const T v = value_at<T>(t.value, flat_offset(lead, t.value.strides(), r));
            const T* wr = wp + t.row * c;
            for (int64_t k = 0; k < c; ++k) sum[size_t(k)] += v * wr[k];
          }
        }
        if (b)
          for (int64_t k = 0; k < c; ++k) sum[size_t(k)] += b[k];
        T* o = reinterpret_cast<T*>(static_cast<char*>(out.data_ptr()) +
                                    row_offset(out.shape(), out.strides(), r));
        for (int64_t k = 0; k < c; ++k) o[k] = accumulate ? o[k] + sum[size_t(k)] : sum[size_t(k)];
      }
    });
  });
}

void CpuBackend::relative_position_bins(const Tensor& out, const Tensor& residue_index,
                                        int64_t max_relative) {
  if (dry_) return;
  const int64_t n = residue_index.size(0);
  int32_t* o = static_cast<int32_t*>(out.data_ptr());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ri = index_value(residue_index, i * residue_index.strides()[0]);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t rj = index_value(residue_index, j * residue_index.strides()[0]);
      o[i * n + j] = int32_t(std::clamp<int64_t>(ri - rj + max_relative, 0, 2 * max_relative));
    }
  }
}

void CpuBackend::distogram_bins(const Tensor& out, const Tensor& points, double min, double max,
                                int64_t bins) {
  if (dry_) return;
  const int64_t n = points.size(0);
  with_float(points.dtype(), [&]<class T>() {
    std::vector<T> lower(static_cast<size_t>(bins)), upper(static_cast<size_t>(bins));
    for (int64_t b = 0; b < bins; ++b) {
      const T edge = T(min + (max - min) * double(b) / double(bins - 1));
      lower[size_t(b)] = edge * edge;
    }
    // The upper edge of the last bin catches everything beyond max.
    for (int64_t b = 0; b < bins; ++b)
      upper[size_t(b)] = b + 1 < bins ? lower[size_t(b + 1)] : T(1e8);
    auto coord = [&](int64_t i, int x) {
      return *reinterpret_cast<const T*>(static_cast<const char*>(points.data_ptr()) +
                                         i * points.strides()[0] + x * points.strides()[1]);
    };
    int32_t* o = static_cast<int32_t*>(out.data_ptr());
    thread_pool().parallel_for(n, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T d2 = 0;
          for (int x = 0; x < 3; ++x) {
            const T d = coord(i, x) - coord(j, x);
            d2 += d * d;
          }
          int32_t bin = -1;
          for (int64_t b = 0; b < bins; ++b)
            if (d2 > lower[size_t(b)] && d2 < upper[size_t(b)]) {
              bin = int32_t(b);
              break;
            }
          o[i * n + j] = bin;
        }
    });
  });
}

void CpuBackend::gather(const Tensor& out, const Tensor& x, const Tensor& index) {
  if (dry_) return;
  const int64_t n = x.size(0), a = x.size(1), b = index.size(1);
  const size_t bytes = size_t(entry_size(x)) * x.itemsize();
  const char* xp = static_cast<const char*>(x.data_ptr());
  char* op = static_cast<char*>(out.data_ptr());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < b; ++k) {
      const int64_t src = index_value(index, i * index.strides()[0] + k * index.strides()[1]);
      check(src >= 0 && src < a, "gather: index[", i, ", ", k, "] = ", src, " is outside 0..",
            a - 1);
      std::copy_n(xp + (i * a + src) * bytes, bytes, op + (i * b + k) * bytes);
    }
}

void CpuBackend::pseudo_beta(const Tensor& out, const Tensor& aatype, const Tensor& x) {
  if (dry_) return;
  const int64_t n = x.size(0);
  const size_t bytes = size_t(entry_size(x)) * x.itemsize();
  const char* xp = static_cast<const char*>(x.data_ptr());
  char* op = static_cast<char*>(out.data_ptr());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t atom =
        index_value(aatype, i * aatype.strides()[0]) == kGlycine ? kAtomCA : kAtomCB;
    std::copy_n(xp + (i * 37 + atom) * bytes, bytes, op + i * bytes);
  }
}

}  // namespace exafold::cpu
