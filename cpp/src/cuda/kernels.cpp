// exafold::ops::GpuKernels on CUDA: argument checks on the host, then one kernel family each.
#include "cuda/attention.cuh"
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/layer_norm.cuh"
#include "exafold/core/error.h"
#include "exafold/ops/gpu_kernels.h"

namespace exafold::ops {
namespace {

void check_activation_dtype(DType t, const char* what) {
  check(t == DType::float32 || t == DType::bfloat16, what, " must be float32 or bfloat16, not ",
        dtype_name(t));
}

class CudaKernels final : public GpuKernels {
 public:
  void layer_norm(const void* x, DType x_dtype, int64_t rows, int64_t c, const float* scale,
                  const float* offset, float eps, void* y, DType y_dtype) override {
    check_activation_dtype(x_dtype, "layer_norm input");
    check_activation_dtype(y_dtype, "layer_norm output");
    check(rows >= 0 && c > 0, "layer_norm of ", rows, " rows of ", c, " channels");
    cuda::layer_norm(x, x_dtype, rows, c, scale, offset, eps, y, y_dtype, cudaStreamPerThread);
  }

  void gemm(const void* a, const void* b, DType ab_dtype, int64_t m, int64_t n, int64_t k,
            const float* bias, bool relu, void* c, DType c_dtype, bool tf32) override {
    check_activation_dtype(ab_dtype, "gemm inputs");
    check_activation_dtype(c_dtype, "gemm output");
    check(m >= 0 && n > 0 && k > 0, "gemm of [", m, ", ", k, "] x [", k, ", ", n, "]");
    cuda::gemm(a, b, ab_dtype, m, n, k, bias, relu, c, c_dtype, tf32, cudaStreamPerThread);
  }

  void attention(const GpuAttention& a) override {
    check_activation_dtype(a.dtype, "attention");
    check(a.q && a.k && a.v && a.out, "attention needs q, k, v and out");
    check(
        a.batch >= 0 && a.n_q >= 0 && a.n_k > 0 && a.heads > 0 && a.key_dim > 0 && a.value_dim > 0,
        "attention of batch ", a.batch, ", ", a.n_q, " queries, ", a.n_k, " keys, ", a.heads,
        " heads of ", a.key_dim, "/", a.value_dim, " channels");
    cuda::attention(a, cudaStreamPerThread);
  }

  void synchronize() override { EXAFOLD_CUDA_CHECK(cudaStreamSynchronize(cudaStreamPerThread)); }
  uint64_t launches() const override { return cuda::launches(); }
};

}  // namespace

GpuKernels* gpu_kernels() {
  // Never destroyed: CUDA may already be torn down when static destructors run.
  static auto* kernels = new CudaKernels();
  return kernels;
}

}  // namespace exafold::ops
