#include "cuda/check.h"

namespace exafold::cuda {

void cuda_fail(cudaError_t err, const char* stmt, const char* file, int line) {
  cudaGetLastError();  // clears the sticky error of recoverable failures
  std::string msg = cat(stmt, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
                        ") at ", file, ":", line);
  if (err == cudaErrorMemoryAllocation) throw OutOfMemory(msg);
  throw Error(msg);
}

}  // namespace exafold::cuda
