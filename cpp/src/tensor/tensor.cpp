#include "exafold/tensor/tensor.h"

#include <algorithm>
#include <cstring>

#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/memory/strict.h"

namespace exafold {

Tensor::Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Strides strides,
               DType dtype, Device device)
    : storage_(std::move(storage)),
      offset_(offset),
      shape_(shape),
      strides_(strides),
      dtype_(dtype),
      device_(device) {
  EXAFOLD_ASSERT(shape_.size() == strides_.size());
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device,
                     std::optional<MemoryKind> kind) {
  for (int64_t d : shape) check(d >= 0, "negative dimension in shape ", shape.str());
  MemoryKind k = kind ? *kind : (device.is_host() ? default_host_kind() : MemoryKind::device);
  // Unified memory made by a MigratableMemory scope is homed on the cpu.
  size_t bytes = size_t(shape.product()) * dtype_size(dtype);
  auto storage = Storage::allocate(bytes, device, k);
  return Tensor(std::move(storage), 0, shape, contiguous_strides(shape, dtype_size(dtype)), dtype,
                device);
}

Tensor Tensor::borrow(void* data, size_t nbytes, const Shape& shape, const Strides& strides,
                      DType dtype, Device device, MemoryKind kind, std::shared_ptr<void> owner) {
  check(shape.size() == strides.size(), "shape ", shape.str(), " and strides ", strides.str(),
        " differ in rank");
  int64_t lo = 0, hi = 0;
  bool empty = false;
  for (int i = 0; i < shape.size(); ++i) {
    check(shape[i] >= 0, "negative dimension in shape ", shape.str());
    if (shape[i] == 0) empty = true;
    int64_t span = (shape[i] - 1) * strides[i];
    (span < 0 ? lo : hi) += span;
  }
  if (!empty)
    check(lo >= 0 && size_t(hi) + dtype_size(dtype) <= nbytes, "strides ", strides.str(),
          " of shape ", shape.str(), " reach outside the ", nbytes, "-byte buffer");
  auto storage = Storage::borrow(data, nbytes, device, kind, std::move(owner));
  return Tensor(std::move(storage), 0, shape, strides, dtype, device);
}

int Tensor::norm_dim(int d) const {
  int r = rank();
  check(d >= -r && d < r, "dimension ", d, " out of range for a tensor of rank ", r);
  return d < 0 ? d + r : d;
}

bool Tensor::is_contiguous() const {
  int64_t expect = int64_t(itemsize());
  for (int i = rank() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != expect) return false;
    expect *= shape_[i];
  }
  return true;
}

Tensor Tensor::slice(int dim, int64_t start, int64_t stop, int64_t step) const {
  dim = norm_dim(dim);
  check(step >= 1, "slice step must be positive, got ", step);
  const int64_t n = shape_[dim];
  auto clamp = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  start = clamp(start);
  stop = std::max(clamp(stop), start);
  Tensor t = *this;
  t.offset_ += start * strides_[dim];
  t.shape_[dim] = (stop - start + step - 1) / step;
  t.strides_[dim] *= step;
  return t;
}

Tensor Tensor::select(int dim, int64_t i) const {
  dim = norm_dim(dim);
  const int64_t n = shape_[dim];
  check(i >= -n && i < n, "index ", i, " out of range for dimension ", dim, " of size ", n);
  if (i < 0) i += n;
  Tensor t = *this;
  t.offset_ += i * strides_[dim];
  t.shape_.erase(dim);
  t.strides_.erase(dim);
  return t;
}

Tensor Tensor::permute(std::span<const int> order) const {
  check(int(order.size()) == rank(), "permutation of ", order.size(), " axes for a tensor of rank ",
        rank());
  bool seen[kMaxRank] = {};
  Tensor t = *this;
  for (int i = 0; i < rank(); ++i) {
    int d = norm_dim(order[i]);
    check(!seen[d], "axis ", order[i], " repeated in permutation");
    seen[d] = true;
    t.shape_[i] = shape_[d];
    t.strides_[i] = strides_[d];
  }
  return t;
}

Tensor Tensor::transpose(int a, int b) const {
  a = norm_dim(a);
  b = norm_dim(b);
  Tensor t = *this;
  std::swap(t.shape_[a], t.shape_[b]);
  std::swap(t.strides_[a], t.strides_[b]);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  check(is_contiguous(), "reshape needs a contiguous tensor (shape ", shape_.str(), ", strides ",
        strides_.str(), "); call contiguous() first");
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      check(infer < 0, "only one dimension may be -1 in ", shape.str());
      infer = i;
    } else {
      check(s[i] >= 0, "bad dimension in ", shape.str());
      known *= s[i];
    }
  }
  if (infer >= 0) {
    check(known > 0 && numel() % known == 0, "cannot reshape ", shape_.str(), " to ", shape.str());
    s[infer] = numel() / known;
  }
  check(s.product() == numel(), "cannot reshape ", shape_.str(), " (", numel(), " elements) to ",
        shape.str());
  Tensor t = *this;
  t.shape_ = s;
  t.strides_ = contiguous_strides(s, itemsize());
  return t;
}

Tensor Tensor::unsqueeze(int dim) const {
  check(dim >= -rank() - 1 && dim <= rank(), "unsqueeze dimension ", dim, " out of range for rank ",
        rank());
  if (dim < 0) dim += rank() + 1;
  Tensor t = *this;
  int64_t stride = dim < rank() ? strides_[dim] * shape_[dim] : int64_t(itemsize());
  t.shape_.insert(dim, 1);
  t.strides_.insert(dim, stride);
  return t;
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  check(shape.size() >= rank(), "cannot broadcast ", shape_.str(), " to the lower rank ",
        shape.str());
  const int lead = shape.size() - rank();
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = Strides();
  for (int i = 0; i < shape.size(); ++i) t.strides_.push_back(0);
  for (int i = 0; i < rank(); ++i) {
    const int j = i + lead;
    if (shape_[i] == shape[j]) {
      t.strides_[j] = strides_[i];
    } else {
      check(shape_[i] == 1, "cannot broadcast ", shape_.str(), " to ", shape.str());
    }
  }
  return t;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out =
      empty(shape_, dtype_, device_, device_.is_host() ? storage_->kind() : MemoryKind::device);
  copy_into(out, *this);
  return out;
}

Tensor Tensor::with_device(Device device) const {
  Tensor t = *this;
  t.device_ = device;
  return t;
}

namespace {

void strided_copy(char* dst, const int64_t* dst_strides, const char* src,
                  const int64_t* src_strides, const int64_t* shape, int rank, size_t item) {
  if (rank == 0) {
    std::memcpy(dst, src, item);
    return;
  }
  if (rank == 1) {
    if (dst_strides[0] == int64_t(item) && src_strides[0] == int64_t(item)) {
      std::memcpy(dst, src, item * size_t(shape[0]));
    } else {
      for (int64_t i = 0; i < shape[0]; ++i)
        std::memcpy(dst + i * dst_strides[0], src + i * src_strides[0], item);
    }
    return;
  }
  for (int64_t i = 0; i < shape[0]; ++i)
    strided_copy(dst + i * dst_strides[0], dst_strides + 1, src + i * src_strides[0],
                 src_strides + 1, shape + 1, rank - 1, item);
}

bool host_readable(const Tensor& t) {
  return t.device().is_host() && t.storage()->device().is_host() &&
         t.memory_kind() != MemoryKind::device;
}

}  // namespace

void copy_into(const Tensor& dst, const Tensor& src) {
  check(dst.shape() == src.shape(), "copy between shapes ", dst.shape().str(), " and ",
        src.shape().str());
  check(dst.dtype() == src.dtype(), "copy between dtypes ", dtype_name(dst.dtype()), " and ",
        dtype_name(src.dtype()));
  if (dst.numel() == 0) return;
  if (host_readable(dst) && host_readable(src)) {
    strided_copy(static_cast<char*>(dst.data_ptr()), dst.strides().begin(),
                 static_cast<const char*>(src.data_ptr()), src.strides().begin(),
                 src.shape().begin(), src.rank(), src.itemsize());
    return;
  }
  // Shapes without memory: nothing to copy.
  if (dst.storage()->device().is_meta() || src.storage()->device().is_meta()) return;
  // Crossing to or from device memory: contiguous blocks only; strided copies there are an op
  // (ops::copy) of the device's backend.
  check(dst.is_contiguous() && src.is_contiguous(), "copies to or from ", dst.device().str(),
        " and ", src.device().str(), " memory need contiguous tensors (use ops::copy there)");
  if (dst.storage()->device().type == DeviceType::strict ||
      src.storage()->device().type == DeviceType::strict) {
    strict_copy(dst.data_ptr(), src.data_ptr(), src.nbytes());
    return;
  }
  GpuBackend* gpu = gpu_backend();
  check(gpu != nullptr, "copy involving ", dst.device().str(), " and ", src.device().str(),
        " needs the CUDA backend");
  gpu->copy(dst.data_ptr(), dst.storage()->device(), dst.memory_kind(), src.data_ptr(),
            src.storage()->device(), src.memory_kind(), src.nbytes());
}

Tensor migrate(const Tensor& t, Device device) {
  check(t.defined(), "migrate of an undefined tensor");
  const Storage& s = *t.storage();
  if (accessible(s.kind(), s.device(), device)) {
    bool prefetch = s.kind() == MemoryKind::unified && device.is_cuda();
    if (prefetch) gpu_backend()->prefetch(t.data_ptr(), t.nbytes(), device);
    record_migrate_elided(prefetch);
    return t.with_device(device);
  }
  Tensor src = t.contiguous();
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device,
                             device.is_host() ? MemoryKind::host : MemoryKind::device);
  copy_into(out, src);
  record_migrate_copy(out.nbytes());
  return out;
}

Tensor stage(const Tensor& t, Device device) {
  check(t.defined(), "stage of an undefined tensor");
  const Storage& s = *t.storage();
  if (!device.is_cuda()) return t;
  if (s.kind() == MemoryKind::unified) {
    gpu_backend()->prefetch(t.data_ptr(), t.nbytes(), device);
    gpu_backend()->finish_prefetches(device);
    return t;
  }
  if (accessible(s.kind(), s.device(), device)) return t;
  const bool managed = accessible(MemoryKind::unified, Device::cpu(), device);
  Tensor out = Tensor::empty(t.shape(), t.dtype(), Device::cpu(),
                             managed ? MemoryKind::unified : MemoryKind::pinned);
  copy_into(out, t);
  if (managed) {
    gpu_backend()->prefetch(out.data_ptr(), out.nbytes(), device);
    gpu_backend()->finish_prefetches(device);
  }
  record_staged(out.nbytes());
  return out;
}

}  // namespace exafold
