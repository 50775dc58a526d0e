// CUDA graphs in the emulated runtime, against the CUDA Programming Guide ("CUDA Graphs",
// "Stream Capture") and the runtime API's cudaStreamBeginCapture and
// cudaThreadExchangeStreamCaptureMode: kernel launches, copies, sets and cuBLASLt matmuls are
// recorded in order and run only when the graph is launched, every launch reading the memory as
// it is then; and the calls a capture forbids fail and invalidate it.
#include <cublasLt.h>

#include <thread>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

__global__ void scale_by_two(float* x) { x[threadIdx.x] *= 2.f; }

// Column-major [m, k] x [k, n] in float64, the matmul's reference.
std::vector<float> product(const std::vector<float>& a, const std::vector<float>& b, int m, int n,
                           int k) {
  std::vector<float> d(size_t(m * n));
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int l = 0; l < k; ++l) s += double(a[size_t(l * m + i)]) * b[size_t(j * k + l)];
      d[size_t(j * m + i)] = float(s);
    }
  return d;
}

TEST_F(Emulation, AGraphReplaysLaunchesCopiesSetsAndMatmulsInOrderOnTheMemoryOfEachLaunch) {
  constexpr int m = 4, n = 3, k = 8;
  DeviceBuffer<float> x(k * m), a(k * m), b(k * n), d(m * n), out(std::vector<float>(m * n, -7.f));
  std::vector<float> bh(k * n);
  for (int i = 0; i < k * n; ++i) bh[size_t(i)] = 0.25f * float(i % 5) - 0.5f;
  ASSERT_EQ(cudaMemcpy(b.get(), bh.data(), bh.size() * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
  cublasLtHandle_t lt = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
  ASSERT_EQ(cublasLtCreate(&lt), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, m, k, m), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, k, n, k), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&ld, CUDA_R_32F, m, n, m), CUBLAS_STATUS_SUCCESS);

  // The per-thread stream captures, as exafold's does; thread-local mode.
  const cudaStream_t s = cudaStreamPerThread;
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(d.get(), 0xff, m * n * sizeof(float), s), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(a.get(), x.get(), k * m * sizeof(float), cudaMemcpyDefault, s),
            cudaSuccess);
  EXAFOLD_LAUNCH(1, k * m, 0, s, scale_by_two)(a.get());  // after the copy, before the matmul
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const float alpha = 1.f, beta = 0.f;
  ASSERT_EQ(cublasLtMatmul(lt, desc, &alpha, a.get(), la, b.get(), lb, &beta, d.get(), ld, d.get(),
                           ld, nullptr, nullptr, 0, s),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cudaMemcpyAsync(out.get(), d.get(), m * n * sizeof(float), cudaMemcpyDefault, s),
            cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(out.to_host(), std::vector<float>(m * n, -7.f));  // recorded, nothing ran
  for (int launch = 1; launch <= 3; ++launch) {
    std::vector<float> xh(k * m);
    for (int i = 0; i < k * m; ++i) xh[size_t(i)] = float(launch) + 0.125f * float(i % 7);
    ASSERT_EQ(cudaMemcpy(x.get(), xh.data(), xh.size() * sizeof(float), cudaMemcpyHostToDevice),
              cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
    for (float& v : xh) v *= 2.f;
    EXPECT_EQ(out.to_host(), product(xh, bh, m, n, k)) << "launch " << launch;
  }
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(ld);
  cublasLtMatmulDescDestroy(desc);
  cublasLtDestroy(lt);
}

TEST_F(Emulation, SynchronisingCallsDuringACaptureFailAndInvalidateIt) {
  DeviceBuffer<float> x(16);
  std::vector<float> host(16, 1.f);
  const cudaStream_t s = cudaStreamPerThread;
  cudaGraph_t graph = nullptr;
  cudaStreamCaptureStatus status;
  // Each synchronising call, in a capture of its own.
  for (int call = 0; call < 4; ++call) {
    SCOPED_TRACE(call);
    ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    cudaError_t err = cudaSuccess;
    switch (call) {
      case 0:
        err = cudaMemcpy(x.get(), host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice);
        break;
      case 1:
        err = cudaStreamSynchronize(s);
        break;
      case 2:
        err = cudaDeviceSynchronize();
        break;
      case 3:
        err = cudaMemset(x.get(), 0, 16 * sizeof(float));
        break;
    }
    EXPECT_EQ(err, cudaErrorStreamCaptureUnsupported);
    ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
    // Work queued after the failure is refused too, and the capture ends without a graph.
    EXPECT_EQ(cudaMemsetAsync(x.get(), 0, 4, s), cudaErrorStreamCaptureInvalidated);
    EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
    EXPECT_EQ(graph, nullptr);
    ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  }
  cudaGetLastError();
  // Not sticky: the stream works again.
  EXPECT_EQ(cudaMemcpy(x.get(), host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
  EXPECT_EQ(x.to_host(), host);
}

TEST_F(Emulation, ARelaxedThreadMayAllocateDuringItsCaptureButNotFree) {
  const cudaStream_t s = cudaStreamPerThread;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  void* p = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeGlobal);  // the previous mode, the default
  EXPECT_EQ(cudaMalloc(&p, 64), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorStreamCaptureUnsupported);  // freeing synchronises
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeRelaxed);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  // Back in the default mode, an allocation during a capture breaks it.
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  void* q = nullptr;
  EXPECT_EQ(cudaMalloc(&q, 64), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  EXPECT_EQ(cudaThreadExchangeStreamCaptureMode(nullptr), cudaErrorInvalidValue);
  cudaGetLastError();
}

TEST_F(Emulation, OnlyAGlobalCaptureForbidsOtherThreadsTheirAllocations) {
  const cudaStream_t s = cudaStreamPerThread;
  for (const auto capture_mode : {cudaStreamCaptureModeThreadLocal, cudaStreamCaptureModeGlobal}) {
    SCOPED_TRACE(int(capture_mode));
    ASSERT_EQ(cudaStreamBeginCapture(s, capture_mode), cudaSuccess);
    cudaError_t other = cudaSuccess;
    void* p = nullptr;
    std::thread([&] { other = cudaMalloc(&p, 64); }).join();
    cudaGraph_t graph = nullptr;
    if (capture_mode == cudaStreamCaptureModeGlobal) {
      EXPECT_EQ(other, cudaErrorStreamCaptureUnsupported);
      EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
    } else {
      EXPECT_EQ(other, cudaSuccess);
      ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);  // an empty graph
      EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
      EXPECT_EQ(cudaFree(p), cudaSuccess);
    }
  }
  cudaGetLastError();
}

}  // namespace
}  // namespace exafold::emulation_test
