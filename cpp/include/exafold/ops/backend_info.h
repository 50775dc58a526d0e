// What the op layer can say about the backends behind it, for callers above it (the model's
// memory replay, `exafold info`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/memory/device.h"

namespace exafold::ops {

/// The name of the backend serving `device` ("cpu", "strict", "cuda", "meta:cpu").
std::string_view backend_name(Device device);

/// Sets how many concurrent tasks the dry backend of a meta device replays the workspaces of
/// (0: the thread pool's size), which some ops' workspaces scale with.
void set_replay_tasks(Device meta, int tasks);

/// Device memory the backend of `device` (for a meta device, the backend it replays) holds
/// outside the caching allocator for each host thread that runs ops on it: the cuda backend's
/// cuBLASLt workspace (from the thread's first GEMM on that device until the thread exits);
/// 0 for the cpu.
size_t per_thread_device_bytes(Device device);

/// Bytes of operands an op stream reads (inputs, and outputs that ops add into) and writes.
struct OperandTraffic {
  int64_t read = 0;
  int64_t written = 0;
};

/// From now on, meta:cuda's replay counts the operands of every op that have two dimensions of
/// n elements and a multiple of n^2 distinct elements (a broadcast dimension counts once): the
/// pair representation [N, N, c] and its views, the [H, N, N] pair bias, the [N, N] pair mask,
/// when no other dimension of the model equals n (a prime n). n = 0 stops counting.
void count_pair_traffic(int64_t n);
/// What count_pair_traffic counted since it started or was last taken; starts a fresh count.
OperandTraffic take_pair_traffic();

}  // namespace exafold::ops
