#include "exafold/memory/device.h"

#include <charconv>

#include "exafold/core/error.h"

namespace exafold {

Device Device::parse(std::string_view s) {
  if (s == "meta" || s == "meta:cpu") return meta(DeviceType::cpu);
  if (s == "meta:cuda") return meta(DeviceType::cuda);
  if (s == "strict") return strict();
  auto colon = s.find(':');
  std::string_view type = s.substr(0, colon);
  int index = 0;
  if (colon != std::string_view::npos) {
    std::string_view num = s.substr(colon + 1);
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), index);
    check(ec == std::errc() && end == num.data() + num.size() && index >= 0 && !num.empty(),
          "bad device index in '", s, "'");
  }
  if (type == "cpu") {
    check(index == 0, "there is only one cpu device, got '", s, "'");
    return cpu();
  }
  if (type == "cuda") return cuda(index);
  if (type == "test_host") return {DeviceType::test_host, index};
  fail("unknown device '", s, "' (expected cpu, cuda, cuda:N, strict, meta or meta:cuda)");
}

std::string Device::str() const {
  switch (type) {
    case DeviceType::cpu:
      return "cpu";
    case DeviceType::cuda:
      return "cuda:" + std::to_string(index);
    case DeviceType::test_host:
      return "test_host:" + std::to_string(index);
    case DeviceType::strict:
      return "strict";
    case DeviceType::meta:
      return index == int(DeviceType::cuda) ? "meta:cuda" : "meta:cpu";
  }
  return "?";
}

std::string_view memory_kind_name(MemoryKind k) {
  switch (k) {
    case MemoryKind::host:
      return "host";
    case MemoryKind::pinned:
      return "pinned";
    case MemoryKind::device:
      return "device";
    case MemoryKind::unified:
      return "unified";
  }
  return "?";
}

MemoryKind memory_kind_from_name(std::string_view name) {
  for (auto k : {MemoryKind::host, MemoryKind::pinned, MemoryKind::device, MemoryKind::unified})
    if (memory_kind_name(k) == name) return k;
  fail("unknown memory kind '", name, "' (expected host, pinned, device or unified)");
}

}  // namespace exafold
