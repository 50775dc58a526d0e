#include "exafold/ops/backend_info.h"

#include "cuda_common/cublaslt_workspace.h"
#include "cuda_common/pair_traffic.h"
#include "exafold/backend/backend.h"
#include "exafold/core/error.h"

namespace exafold::ops {

std::string_view backend_name(Device device) { return backend::backend_for(device).name(); }

void set_replay_tasks(Device meta, int tasks) {
  check(meta.is_meta(), "replay tasks are set on a meta device, not ", meta.str());
  backend::backend_for(meta).set_tasks(tasks);
}

size_t per_thread_device_bytes(Device device) {
  const bool cuda = device.is_cuda() || (device.is_meta() && device.index == int(DeviceType::cuda));
  return cuda ? cuda::kCublasLtWorkspaceBytes : 0;
}

void count_pair_traffic(int64_t n) {
  check(n >= 0, "count_pair_traffic needs n >= 0, got ", n);
  cuda::start_pair_traffic(n);
}

OperandTraffic take_pair_traffic() { return cuda::take_pair_traffic(); }

}  // namespace exafold::ops
