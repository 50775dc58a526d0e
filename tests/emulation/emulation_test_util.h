// Helpers for the tests of the CPU emulation of CUDA: device buffers, the schedules every
// behaviour is checked under, and the check that a launch failed with a given report.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/kernel.cuh"

namespace exafold::emulation_test {

using cuda::kFullWarp;
using cuda::kWarpSize;
using emulation::Order;
using emulation::Schedule;

/// Every order, the random one with a fixed seed.
inline const Schedule kSchedules[] = {{Order::forward, 1},
                                      {Order::reverse, 1},
                                      {Order::greedy, 1},
                                      {Order::greedy_reverse, 1},
                                      {Order::random, 7}};

inline std::string schedule_name(const Schedule& s) { return emulation::order_name(s.order); }

/// A device allocation of n elements, exactly sized (so ASan sees overruns), freed on scope exit.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    EXPECT_EQ(cudaMalloc(&p_, n * sizeof(T)), cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<T>& v) : DeviceBuffer(v.size()) {
    EXPECT_EQ(cudaMemcpy(p_, v.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return p_; }
  std::vector<T> to_host() const {
    std::vector<T> v(n_);
    EXPECT_EQ(cudaMemcpy(v.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return v;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

/// Each test starts from the default schedule and a working device, whatever the previous one
/// left behind.
class Emulation : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = emulation::schedule(); }
  void TearDown() override {
    emulation::set_schedule(saved_);
    cudaDeviceReset();
  }

 private:
  Schedule saved_;
};

/// The last launch failed, with a report containing every one of `parts`; clears the failure.
inline void expect_launch_failure(const std::vector<std::string>& parts) {
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  const std::string report = emulation::last_launch_report();
  for (const std::string& part : parts)
    EXPECT_NE(report.find(part), std::string::npos) << "'" << part << "' not in: " << report;
  cudaDeviceReset();
}

}  // namespace exafold::emulation_test
