// What the op layer can say about the backends behind it, for callers above it (the model's
// memory replay, `exafold info`).
#pragma once

#include <string_view>

#include "exafold/memory/device.h"

namespace exafold::ops {

/// The name of the backend serving `device` ("cpu", "strict", "cuda", "meta:cpu").
std::string_view backend_name(Device device);

/// Sets how many concurrent tasks the dry backend of a meta device replays the workspaces of
/// (0: the thread pool's size), which some ops' workspaces scale with.
void set_replay_tasks(Device meta, int tasks);

}  // namespace exafold::ops
