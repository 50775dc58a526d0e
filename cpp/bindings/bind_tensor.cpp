// Tensor and numpy, both ways without copying.
//
// Note [bfloat16 in numpy]: numpy has no bfloat16, so a bfloat16 tensor appears in numpy as
// uint16 holding the raw bits (the top half of a float32). from_numpy(a, dtype="bfloat16") takes
// such a uint16 array back; exafold.bfloat16_to_float32 / float32_to_bfloat16 convert values.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "exafold/memory/migrate.h"
#include "exafold/ops/elementwise.h"
#include "exafold/tensor/tensor.h"

namespace exafold::py {
namespace {

pyb::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::float32:
      return pyb::dtype::of<float>();
    case DType::float64:
      return pyb::dtype::of<double>();
    case DType::bfloat16:
      return pyb::dtype::of<uint16_t>();  // Note [bfloat16 in numpy]
    case DType::float16:
      return pyb::dtype("float16");
    case DType::int8:
      return pyb::dtype::of<int8_t>();
    case DType::int32:
      return pyb::dtype::of<int32_t>();
    case DType::int64:
      return pyb::dtype::of<int64_t>();
    case DType::uint8:
      return pyb::dtype::of<uint8_t>();
    case DType::bool_:
      return pyb::dtype::of<bool>();
  }
  fail<InternalError>("unhandled dtype");
}

std::string dtype_text(const pyb::dtype& d) { return d.attr("name").cast<std::string>(); }

DType dtype_of_numpy(const pyb::dtype& d, const std::optional<std::string>& as) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (as) {
    DType want = dtype_from_name(*as);
    if (want == DType::bfloat16) {
      check(kind == 'u' && size == 2,
            "bfloat16 tensors are built from uint16 arrays of raw bits, got ", dtype_text(d));
      return want;
    }
    DType got = dtype_of_numpy(d, std::nullopt);
    check(got == want, "array dtype ", dtype_text(d), " is not ", *as);
    return want;
  }
  if (kind == 'f' && size == 4) return DType::float32;
  if (kind == 'f' && size == 8) return DType::float64;
  if (kind == 'f' && size == 2) return DType::float16;
  if (kind == 'i' && size == 1) return DType::int8;
  if (kind == 'i' && size == 4) return DType::int32;
  if (kind == 'i' && size == 8) return DType::int64;
  if (kind == 'u' && size == 1) return DType::uint8;
  if (kind == 'b' && size == 1) return DType::bool_;
  fail("numpy dtype ", dtype_text(d), " has no exafold equivalent");
}

/// Numpy arrays over exafold memory (tensor_to_numpy) carry this capsule as their base.
constexpr const char* kStorageCapsule = "exafold.storage";

/// The exafold storage an array's memory [lo, lo + nbytes) lies in, when the array (or the
/// array it views) came from tensor_to_numpy: its kind and home then survive a round trip
/// through numpy, so staged (managed or pinned) features are not copied again.
const Storage* storage_under(const pyb::array& a, const char* lo, size_t nbytes) {
  pyb::object base = a.attr("base");
  while (pyb::isinstance<pyb::array>(base)) base = base.attr("base");
  if (!pyb::isinstance<pyb::capsule>(base)) return nullptr;
  auto capsule = pyb::reinterpret_borrow<pyb::capsule>(base);
  const char* name = capsule.name();
  if (name == nullptr || std::strcmp(name, kStorageCapsule) != 0) return nullptr;
  const Storage* s = capsule.get_pointer<std::shared_ptr<Storage>>()->get();
  const char* data = static_cast<const char*>(s->data());
  return lo >= data && lo + nbytes <= data + s->nbytes() ? s : nullptr;
}

}  // namespace

Tensor tensor_from_numpy(pyb::array a, std::optional<std::string> dtype) {
  const DType dt = dtype_of_numpy(a.dtype(), dtype);
  Shape shape;
  Strides strides;
  for (pyb::ssize_t i = 0; i < a.ndim(); ++i) {
    shape.push_back(a.shape(i));
    strides.push_back(a.strides(i));
  }
  // The tensor holds a reference to the array; dropping it needs the GIL, which the thread that
  // releases the last tensor reference may not hold.
  auto* ref = new pyb::object(a);
  std::shared_ptr<void> owner(ref, [](void* p) {
    pyb::gil_scoped_acquire gil;
    delete static_cast<pyb::object*>(p);
  });
  // Borrowed memory spans from the lowest to the highest element the strides reach.
  char* base = static_cast<char*>(a.mutable_data());
  int64_t lo = 0, hi = 0;
  for (int i = 0; i < shape.size(); ++i) {
    int64_t span = (shape[i] - 1) * strides[i];
    (span < 0 ? lo : hi) += shape[i] > 0 ? span : 0;
  }
  const size_t nbytes = a.size() == 0 ? 0 : size_t(hi - lo) + dtype_size(dt);
  const Storage* under = storage_under(a, base + lo, nbytes);
  auto storage = Storage::borrow(base + lo, nbytes, under ? under->device() : Device::cpu(),
                                 under ? under->kind() : MemoryKind::host, std::move(owner));
  return Tensor(std::move(storage), -lo, shape, strides, dt, Device::cpu());
}

pyb::array tensor_to_numpy(const Tensor& t) {
  check(t.device().is_host() && t.memory_kind() != MemoryKind::device, "tensor lives on ",
        t.device().str(), " (", memory_kind_name(t.memory_kind()),
        " memory); migrate it to cpu first");
  std::vector<pyb::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<pyb::ssize_t> strides(t.strides().begin(), t.strides().end());
  // The array's base keeps the storage alive however long numpy holds the array.
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  pyb::capsule base(keep, kStorageCapsule,
                    [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return pyb::array(numpy_dtype(t.dtype()), shape, strides, t.data_ptr(), base);
}

double scalar_of(const Tensor& t) {
  check(t.defined() && t.numel() == 1, "expected a single value, got a tensor of shape ",
        t.defined() ? t.shape().str() : "(undefined)");
  const Tensor host = t.device().is_host() ? t : migrate(ops::contiguous(t), Device::cpu());
  return *ops::cast(host, DType::float64).data<double>();
}

namespace {

template <class E>
Tensor copy_cast(const pyb::handle& h) {
  auto a = pyb::array_t<E, pyb::array::c_style | pyb::array::forcecast>::ensure(h);
  check(bool(a), "expected a numeric array");
  Shape shape;
  for (pyb::ssize_t i = 0; i < a.ndim(); ++i) shape.push_back(a.shape(i));
  Tensor t = Tensor::empty(shape, dtype_v<E>);
  if (t.numel() > 0) std::memcpy(t.data_ptr(), a.data(), t.nbytes());
  return t;
}

}  // namespace

Tensor tensor_copy_as(const pyb::handle& h, DType dtype) {
  switch (dtype) {
    case DType::float32:
      return copy_cast<float>(h);
    case DType::float64:
      return copy_cast<double>(h);
    case DType::int32:
      return copy_cast<int32_t>(h);
    case DType::int64:
      return copy_cast<int64_t>(h);
    default:
      fail<InternalError>("no array copy as ", dtype_name(dtype));
  }
}

namespace {

Shape shape_of(const std::vector<int64_t>& v) { return Shape(std::span<const int64_t>(v)); }

pyb::tuple tuple_of(const Dims& d) {
  pyb::tuple t(d.size());
  for (int i = 0; i < d.size(); ++i) t[i] = d[i];
  return t;
}

}  // namespace

void bind_tensor(pyb::module_& m) {
  pyb::class_<Tensor>(m, "Tensor", R"(An n-dimensional array in exafold memory: shape, byte
strides, dtype, device and memory kind. Views share memory; there is no math here.)")
      .def_property_readonly(
          "shape", [](const Tensor& t) { return tuple_of(t.shape()); }, "Sizes per dimension.")
      .def_property_readonly(
          "strides", [](const Tensor& t) { return tuple_of(t.strides()); },
          "Byte strides per dimension.")
      .def_property_readonly(
          "dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); },
          "Element type name, e.g. float32 or bfloat16.")
      .def_property_readonly(
          "device", [](const Tensor& t) { return t.device().str(); },
          "Home device of the memory, e.g. cpu or cuda:0.")
      .def_property_readonly(
          "memory_kind",
          [](const Tensor& t) { return std::string(memory_kind_name(t.memory_kind())); },
          "host, pinned, device or unified.")
      .def_property_readonly(
          "data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); },
          "Address of the first element.")
      .def_property_readonly("nbytes", &Tensor::nbytes, "Bytes the elements occupy.")
      .def_property_readonly("ndim", &Tensor::rank, "Number of dimensions.")
      .def("numel", &Tensor::numel, "Number of elements.")
      .def("is_contiguous", &Tensor::is_contiguous, "Whether the elements are dense, row-major.")
      .def("slice", &Tensor::slice, pyb::arg("dim"), pyb::arg("start"), pyb::arg("stop"),
           pyb::arg("step") = 1, "A view of [start, stop) with step along dim.")
      .def("select", &Tensor::select, pyb::arg("dim"), pyb::arg("index"),
           "A view of one index along dim, which is dropped.")
      .def(
          "permute",
          [](const Tensor& t, const std::vector<int>& order) { return t.permute(order); },
          pyb::arg("order"), "A view with the dimensions reordered.")
      .def("transpose", &Tensor::transpose, pyb::arg("a"), pyb::arg("b"),
           "A view with dimensions a and b swapped.")
      .def(
          "reshape",
          [](const Tensor& t, const std::vector<int64_t>& s) { return t.reshape(shape_of(s)); },
          pyb::arg("shape"), "A view with a new shape (contiguous tensors).")
      .def("unsqueeze", &Tensor::unsqueeze, pyb::arg("dim"),
           "A view with a new dimension of size 1 at dim.")
      .def(
          "broadcast_to",
          [](const Tensor& t, const std::vector<int64_t>& s) {
            return t.broadcast_to(shape_of(s));
          },
          pyb::arg("shape"), "A view repeating size-1 dimensions (stride 0) to shape.")
      .def(
          "contiguous",
          [](const Tensor& t) {
            pyb::gil_scoped_release nogil;
            return t.contiguous();
          },
          "This tensor when it is contiguous, else a dense copy on the same device.")
      .def(
          "clone",
          [](const Tensor& t) {
            pyb::gil_scoped_release nogil;
            return t.clone();
          },
          "A dense copy in new memory of the same device and kind.")
      .def("numpy", &tensor_to_numpy,
           "A numpy array sharing this tensor's memory (host tensors only).")
      .def(
          "__array__",
          [](const Tensor& t, pyb::object dtype, pyb::object copy) {
            pyb::array a = tensor_to_numpy(t);
            if (!dtype.is_none()) a = a.attr("astype")(dtype);
            if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
            return a;
          },
          pyb::arg("dtype") = pyb::none(), pyb::arg("copy") = pyb::none())
      .def("__repr__", [](const Tensor& t) {
        return "Tensor(shape=" + t.shape().str() + ", dtype=" + std::string(dtype_name(t.dtype())) +
               ", device=" + t.device().str() +
               ", memory=" + std::string(memory_kind_name(t.memory_kind())) + ")";
      });

  m.def("from_numpy", &tensor_from_numpy, pyb::arg("array"), pyb::arg("dtype") = pyb::none(),
        "Wraps a numpy array as a Tensor sharing its memory (the tensor keeps the array alive).");
  m.def(
      "empty",
      [](const std::vector<int64_t>& shape, const std::string& dtype, const std::string& device,
         std::optional<std::string> kind) {
        std::optional<MemoryKind> k;
        if (kind) k = memory_kind_from_name(*kind);
        return Tensor::empty(shape_of(shape), dtype_from_name(dtype), Device::parse(device), k);
      },
      pyb::arg("shape"), pyb::arg("dtype") = "float32", pyb::arg("device") = "cpu",
      pyb::arg("kind") = pyb::none(),
      "An uninitialised tensor from the caching allocator of (device, kind); without a kind, "
      "the device's default (unified inside MigratableMemory when a GPU exists).");
  m.def(
      "float32_to_bfloat16",
      [](pyb::array_t<float, pyb::array::c_style | pyb::array::forcecast> a) {
        pyb::array_t<uint16_t> out(std::vector<pyb::ssize_t>(a.shape(), a.shape() + a.ndim()));
        to_bfloat16(a.data(), reinterpret_cast<bfloat16*>(out.mutable_data()), size_t(a.size()));
        return out;
      },
      "Rounds float32 values to bfloat16 (nearest even), returned as uint16 raw bits.");
  m.def(
      "bfloat16_to_float32",
      [](pyb::array_t<uint16_t, pyb::array::c_style | pyb::array::forcecast> a) {
        pyb::array_t<float> out(std::vector<pyb::ssize_t>(a.shape(), a.shape() + a.ndim()));
        from_bfloat16(reinterpret_cast<const bfloat16*>(a.data()), out.mutable_data(),
                      size_t(a.size()));
        return out;
      },
      "Expands bfloat16 raw bits (uint16) to float32 exactly.");
}

}  // namespace exafold::py
