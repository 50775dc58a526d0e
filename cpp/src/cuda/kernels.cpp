// exafold::ops::GpuKernels on CUDA: argument checks on the host, then one kernel family each;
// graph capture and launch of the thread's stream.
#include <atomic>

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

  void begin_capture() override {
    EXAFOLD_CUDA_CHECK(
        cudaStreamBeginCapture(cudaStreamPerThread, cudaStreamCaptureModeThreadLocal));
  }

  void* end_capture() override {
    cudaGraph_t graph = nullptr;
    const cudaError_t err = cudaStreamEndCapture(cudaStreamPerThread, &graph);
    if (err == cudaErrorStreamCaptureInvalidated) {
      cudaGetLastError();  // not sticky: the stream and the device go on working
      fail(
          "the CUDA graph capture was invalidated: a call during it waited for the device or "
          "allocated synchronously (docs/gpu.md, \"Host synchronisations\")");
    }
    EXAFOLD_CUDA_CHECK(err);
    cudaGraphExec_t exec = nullptr;
    const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);  // the instantiation keeps what it needs
    EXAFOLD_CUDA_CHECK(inst);
    return exec;
  }

  void abort_capture() noexcept override {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(cudaStreamPerThread, &graph) == cudaSuccess && graph)
      cudaGraphDestroy(graph);
    cudaGetLastError();
  }

  bool capturing() const override {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    EXAFOLD_CUDA_CHECK(cudaStreamIsCapturing(cudaStreamPerThread, &status));
    return status != cudaStreamCaptureStatusNone;
  }

  void launch_graph(void* graph) override {
    EXAFOLD_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), cudaStreamPerThread));
    graph_launches_.fetch_add(1, std::memory_order_relaxed);
  }

  void destroy_graph(void* graph) noexcept override {
    cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
  }

  uint64_t graph_launches() const override {
    return graph_launches_.load(std::memory_order_relaxed);
  }
  uint64_t captured_kernels() const override { return cuda::captured_kernels(); }

 private:
  std::atomic<uint64_t> graph_launches_{0};
};

}  // namespace

GpuKernels* gpu_kernels() {
  // Never destroyed: CUDA may already be torn down when static destructors run.
  static auto* kernels = new CudaKernels();
  return kernels;
}

}  // namespace exafold::ops
