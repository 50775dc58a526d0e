// The host side of the emulated runtime: memory and what CUDA refuses about it, launch
// configurations, dynamic shared memory, streams, events and graph capture.
#include <cmath>
#include <cstring>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

TEST_F(Emulation, EachKindOfMemoryIsFreedOnlyByItsOwnCall) {
  void *device = nullptr, *pinned = nullptr, *managed = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 100), cudaSuccess);
  ASSERT_EQ(cudaHostAlloc(&pinned, 100, cudaHostAllocPortable), cudaSuccess);
  ASSERT_EQ(cudaMallocManaged(&managed, 100), cudaSuccess);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(device) % 256, 0u);
  cudaPointerAttributes a;
  ASSERT_EQ(cudaPointerGetAttributes(&a, static_cast<char*>(device) + 99), cudaSuccess);
  EXPECT_EQ(a.type, cudaMemoryTypeDevice);
  ASSERT_EQ(cudaPointerGetAttributes(&a, pinned), cudaSuccess);
  EXPECT_EQ(a.type, cudaMemoryTypeHost);
  ASSERT_EQ(cudaPointerGetAttributes(&a, managed), cudaSuccess);
  EXPECT_EQ(a.type, cudaMemoryTypeManaged);
  int on_stack = 0;
  ASSERT_EQ(cudaPointerGetAttributes(&a, &on_stack), cudaSuccess);
  EXPECT_EQ(a.type, cudaMemoryTypeUnregistered);

  EXPECT_EQ(cudaFreeHost(device), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(pinned), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(&on_stack), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);  // not sticky: cleared by reading
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaErrorInvalidValue);  // twice
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(managed), cudaSuccess);
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
}

TEST_F(Emulation, NewMemoryReadsAsNaN) {
  float* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 64 * sizeof(float)), cudaSuccess);
  for (int i = 0; i < 64; ++i) EXPECT_TRUE(std::isnan(p[i]));
  cudaFree(p);
}

TEST_F(Emulation, DeviceMemoryIsAsLargeAsTheDeviceSays) {
  size_t free0 = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free0, &total), cudaSuccess);
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_EQ(total, prop.totalGlobalMem);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 1 << 20), cudaSuccess);
  size_t free1 = 0;
  ASSERT_EQ(cudaMemGetInfo(&free1, &total), cudaSuccess);
  EXPECT_EQ(free0 - free1, size_t(1) << 20);
  void* q = nullptr;
  EXPECT_EQ(cudaMalloc(&q, free1 + 1), cudaErrorMemoryAllocation);
  EXPECT_EQ(q, nullptr);
  cudaFree(p);
}

TEST_F(Emulation, DeviceMemoryCanBeCappedWhileRunning) {
  const size_t original = emulation::device_memory_bytes();
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, size_t(3) << 20), cudaSuccess);
  emulation::set_device_memory_bytes(size_t(8) << 20);
  size_t free = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  EXPECT_EQ(total, size_t(8) << 20);
  EXPECT_EQ(free, size_t(5) << 20);
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_EQ(prop.totalGlobalMem, total);
  void* q = nullptr;
  EXPECT_EQ(cudaMalloc(&q, free + 1), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);  // recoverable: not sticky
  ASSERT_EQ(cudaMalloc(&q, free), cudaSuccess);
  // Below what is allocated: nothing is free, and what is allocated stays.
  emulation::set_device_memory_bytes(size_t(1) << 20);
  ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  EXPECT_EQ(free, 0u);
  void* r = nullptr;
  EXPECT_EQ(cudaMalloc(&r, 512), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaFree(q), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  emulation::set_device_memory_bytes(original);
  ASSERT_EQ(cudaMalloc(&r, 512), cudaSuccess);
  EXPECT_EQ(cudaFree(r), cudaSuccess);
  cudaGetLastError();
}

TEST_F(Emulation, TheDeviceLooksLikeADiscreteHopperGpu) {
  int value = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
  EXPECT_EQ(value, 9);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrConcurrentManagedAccess, 0), cudaSuccess);
  EXPECT_EQ(value, 1);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrPageableMemoryAccess, 0), cudaSuccess);
  EXPECT_EQ(value, 0);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrWarpSize, 0), cudaSuccess);
  EXPECT_EQ(value, 32);
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
}

TEST_F(Emulation, PrefetchAndAdviceTakeOnlyManagedMemory) {
  void *managed = nullptr, *device = nullptr;
  ASSERT_EQ(cudaMallocManaged(&managed, 4096), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&device, 4096), cudaSuccess);
  const cudaMemLocation gpu{cudaMemLocationTypeDevice, 0};
  EXPECT_EQ(cudaMemPrefetchAsync(managed, 4096, gpu, 0, cudaStreamPerThread), cudaSuccess);
  EXPECT_EQ(cudaMemPrefetchAsync(managed, 4097, gpu, 0, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemPrefetchAsync(device, 4096, gpu, 0, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemAdvise(managed, 4096, cudaMemAdviseSetReadMostly, gpu), cudaSuccess);
  EXPECT_EQ(cudaMemAdvise(device, 4096, cudaMemAdviseSetReadMostly, gpu), cudaErrorInvalidValue);
  cudaFree(managed);
  cudaFree(device);
}

__constant__ float kTable[4];

TEST_F(Emulation, CopiesSetsAndSymbols) {
  std::vector<char> src(6 * 10), dst(8 * 10, 'x');
  for (size_t i = 0; i < src.size(); ++i) src[i] = char('a' + i % 26);
  ASSERT_EQ(cudaMemcpy2D(dst.data(), 8, src.data(), 6, 5, 10, cudaMemcpyDefault), cudaSuccess);
  for (int r = 0; r < 10; ++r) {
    EXPECT_EQ(std::memcmp(&dst[size_t(8 * r)], &src[size_t(6 * r)], 5), 0);
    EXPECT_EQ(dst[size_t(8 * r + 5)], 'x');
  }
  EXPECT_EQ(cudaMemcpy2D(dst.data(), 4, src.data(), 6, 5, 10, cudaMemcpyDefault),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(dst.data(), src.data(), 1, cudaMemcpyKind(7)),
            cudaErrorInvalidMemcpyDirection);
  ASSERT_EQ(cudaMemsetAsync(dst.data(), 0, 3, cudaStreamPerThread), cudaSuccess);
  EXPECT_EQ(dst[2], 0);
  const float values[4] = {1, 2, 3, 4};
  ASSERT_EQ(cudaMemcpyToSymbol(kTable, values, sizeof values), cudaSuccess);
  EXPECT_EQ(kTable[3], 4.f);
  EXPECT_EQ(cudaMemcpyToSymbol(kTable, values, sizeof values, 4), cudaErrorInvalidValue);
}

__global__ void nothing() {}

TEST_F(Emulation, LaunchConfigurationsAreCheckedAsCudaChecksThem) {
  EXAFOLD_LAUNCH(1, 1025, 0, nullptr, nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXAFOLD_LAUNCH(dim3(1, 1, 1), dim3(1, 1, 65), 0, nullptr, nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXAFOLD_LAUNCH(0, 32, 0, nullptr, nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXAFOLD_LAUNCH(dim3(1, 65536), 32, 0, nullptr, nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXAFOLD_LAUNCH(1, 32, 0, reinterpret_cast<cudaStream_t>(0x1234), nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  // Configuration errors are the caller's, not the device's: nothing stays broken.
  EXAFOLD_LAUNCH(dim3(2, 3, 4), dim3(8, 4, 2), 0, nullptr, nothing)();
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

__global__ void count_unwritten_shared(int n, int* unwritten) {
  EXAFOLD_DYNAMIC_SHARED(float, s);
  if (threadIdx.x == 0) {
    for (int i = 0; i < n; ++i)
      if (!std::isnan(s[i])) atomicAdd(unwritten, 1);
    for (int i = 0; i < n; ++i) s[i] = 1.f;  // what the next block on this thread must not see
  }
}

TEST_F(Emulation, DynamicSharedMemoryIsNaNAtEachBlockStartAndLimited) {
  DeviceBuffer<int> count(std::vector<int>{0});
  const int n = 48 * 1024 / 4;
  EXAFOLD_LAUNCH(16, 32, n * sizeof(float), nullptr, count_unwritten_shared)(n, count.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(count.to_host()[0], 0);
  // Beyond 48 KiB a kernel must opt in, up to the device's 227 KiB.
  EXAFOLD_LAUNCH(1, 32, n * sizeof(float) + 4, nullptr, count_unwritten_shared)(n, count.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(count_unwritten_shared,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize, 232448 + 1),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  ASSERT_EQ(cudaFuncSetAttribute(count_unwritten_shared,
                                 cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024),
            cudaSuccess);
  EXAFOLD_LAUNCH(2, 32, 100 * 1024, nullptr, count_unwritten_shared)(100 * 256, count.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(count.to_host()[0], 0);
}

#if EXAFOLD_EMULATION_ASAN
__global__ void write_past_shared(int n) {
  EXAFOLD_DYNAMIC_SHARED(float, s);
  s[n + threadIdx.x] = 0.f;
}
#endif

TEST_F(Emulation, AnOutOfBoundsSharedAccessIsCaughtByAddressSanitizer) {
#if EXAFOLD_EMULATION_ASAN
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto overrun = [] {
    EXAFOLD_LAUNCH(1, 32, 64 * sizeof(float), nullptr, write_past_shared)(64);
  };
  EXPECT_DEATH(overrun(), "heap-buffer-overflow.*write_past_shared");
#else
  GTEST_SKIP() << "needs AddressSanitizer (the ASan + UBSan build runs it)";
#endif
}

TEST_F(Emulation, StreamsAndEventsAreHandlesCudaChecks) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, end = nullptr, untimed = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&end), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float ms = -1;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, end), cudaErrorInvalidResourceHandle);  // unrecorded
  ASSERT_EQ(cudaEventRecord(start, s), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(end, s), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, s), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, end), cudaSuccess);
  EXPECT_GE(ms, 0.f);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamWaitEvent(s, end), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamDestroy(cudaStreamPerThread), cudaErrorInvalidResourceHandle);
  for (cudaEvent_t e : {start, end, untimed}) EXPECT_EQ(cudaEventDestroy(e), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(start), cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

__global__ void add_one(int* x) { x[threadIdx.x] += 1; }

TEST_F(Emulation, AGraphRecordsItsStreamsWorkAndReplaysIt) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  DeviceBuffer<int> x(std::vector<int>(32, 0)), copy(32);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  cudaStreamCaptureStatus status;
  ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  int* scratch = nullptr;
  ASSERT_EQ(cudaMallocAsync(&scratch, 32 * sizeof(int), s), cudaSuccess);
  EXAFOLD_LAUNCH(1, 32, 0, s, add_one)(x.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(scratch, x.get(), 32 * sizeof(int), cudaMemcpyDefault, s), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(copy.get(), scratch, 32 * sizeof(int), cudaMemcpyDefault, s),
            cudaSuccess);
  ASSERT_EQ(cudaFreeAsync(scratch, s), cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  EXPECT_EQ(x.to_host(), std::vector<int>(32, 0));  // recorded, not run
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph), cudaSuccess);
  ASSERT_EQ(cudaGraphDestroy(graph), cudaSuccess);  // the instantiation keeps what it needs
  for (int launch = 1; launch <= 3; ++launch) {
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
    EXPECT_EQ(x.to_host(), std::vector<int>(32, launch));
    EXPECT_EQ(copy.to_host(), std::vector<int>(32, launch));
  }
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
}

TEST_F(Emulation, SynchronousCallsBreakACapture) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  EXPECT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal),
            cudaErrorStreamCaptureUnsupported);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  EXPECT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaErrorIllegalState);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorStreamCaptureUnsupported);
  cudaStreamCaptureStatus status;
  ASSERT_EQ(cudaStreamIsCapturing(s, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  // A relaxed capture allows them; synchronising the capturing stream never is.
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&p, 16), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorIllegalState);  // no capture any more
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
  cudaGetLastError();
}

}  // namespace
}  // namespace exafold::emulation_test
