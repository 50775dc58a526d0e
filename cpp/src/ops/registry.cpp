// Which backend serves which device type: the one place that knows every backend of the build.
#include "cpu/cpu_backend.h"
#include "exafold/backend/backend.h"
#include "exafold/core/error.h"
#include "strict/strict_backend.h"

namespace exafold::backend {

Backend& backend_for(Device device) {
  switch (device.type) {
    case DeviceType::cpu:
    case DeviceType::test_host:
      return cpu::cpu_backend();
    case DeviceType::strict:
      return strict::strict_backend();
    case DeviceType::meta:
      if (device.index == int(DeviceType::cpu)) return cpu::meta_cpu_backend();
      if (Backend* b = cuda_meta_backend()) return *b;
      fail("this build has no CUDA backend whose memory meta:cuda could replay");
    case DeviceType::cuda:
      if (Backend* b = cuda_backend()) return *b;
      fail("this build has no CUDA backend for ", device.str());
  }
  fail("no backend for ", device.str());
}

}  // namespace exafold::backend
