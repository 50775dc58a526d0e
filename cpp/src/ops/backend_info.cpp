#include "exafold/ops/backend_info.h"

#include "exafold/backend/backend.h"
#include "exafold/core/error.h"

namespace exafold::ops {

std::string_view backend_name(Device device) { return backend::backend_for(device).name(); }

void set_replay_tasks(Device meta, int tasks) {
  check(meta.is_meta(), "replay tasks are set on a meta device, not ", meta.str());
  backend::backend_for(meta).set_tasks(tasks);
}

}  // namespace exafold::ops
