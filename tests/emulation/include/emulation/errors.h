// Error state of the emulated runtime, as CUDA keeps it: each host thread's last error
// (cudaGetLastError returns and clears it), and the sticky error of a failed kernel, which every
// later call returns until cudaDeviceReset, as a GPU context stays broken after a kernel fault.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "driver_types.h"

namespace exafold::emulation {

inline thread_local cudaError_t t_last_error = cudaSuccess;

inline std::atomic<cudaError_t>& sticky_error() {
  static std::atomic<cudaError_t> e{cudaSuccess};
  return e;
}

/// Records e as this thread's last error (unless it is cudaSuccess) and returns it.
inline cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) t_last_error = e;
  return e;
}

/// The sticky error, recorded, or cudaSuccess: every call that touches the device starts here.
inline cudaError_t sticky() { return record(sticky_error().load()); }

namespace detail {
inline std::mutex& report_mutex() {
  static std::mutex mu;
  return mu;
}
inline std::string& report_slot() {
  static std::string s;
  return s;
}
}  // namespace detail

/// What the last failed launch reported (block, thread, file:line and the problem), or empty.
inline std::string last_launch_report() {
  std::lock_guard lk(detail::report_mutex());
  return detail::report_slot();
}

inline void set_launch_failure(std::string report) {
  {
    std::lock_guard lk(detail::report_mutex());
    detail::report_slot() = std::move(report);
  }
  sticky_error() = cudaErrorLaunchFailure;
}

/// What cudaDeviceReset does: the device works again.
inline void clear_launch_failure() {
  {
    std::lock_guard lk(detail::report_mutex());
    detail::report_slot().clear();
  }
  sticky_error() = cudaSuccess;
  t_last_error = cudaSuccess;
}

inline const char* error_name(cudaError_t e) {
  switch (e) {
#define EXAFOLD_EMULATION_ERROR(name) \
  case name:                          \
    return #name;
    EXAFOLD_EMULATION_ERROR(cudaSuccess)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidValue)
    EXAFOLD_EMULATION_ERROR(cudaErrorMemoryAllocation)
    EXAFOLD_EMULATION_ERROR(cudaErrorInitializationError)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidConfiguration)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidDevicePointer)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidMemcpyDirection)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidDeviceFunction)
    EXAFOLD_EMULATION_ERROR(cudaErrorNoDevice)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidDevice)
    EXAFOLD_EMULATION_ERROR(cudaErrorInvalidResourceHandle)
    EXAFOLD_EMULATION_ERROR(cudaErrorIllegalState)
    EXAFOLD_EMULATION_ERROR(cudaErrorNotReady)
    EXAFOLD_EMULATION_ERROR(cudaErrorIllegalAddress)
    EXAFOLD_EMULATION_ERROR(cudaErrorLaunchOutOfResources)
    EXAFOLD_EMULATION_ERROR(cudaErrorAssert)
    EXAFOLD_EMULATION_ERROR(cudaErrorLaunchFailure)
    EXAFOLD_EMULATION_ERROR(cudaErrorNotSupported)
    EXAFOLD_EMULATION_ERROR(cudaErrorStreamCaptureUnsupported)
    EXAFOLD_EMULATION_ERROR(cudaErrorStreamCaptureInvalidated)
    EXAFOLD_EMULATION_ERROR(cudaErrorStreamCaptureUnmatched)
    EXAFOLD_EMULATION_ERROR(cudaErrorStreamCaptureImplicit)
    EXAFOLD_EMULATION_ERROR(cudaErrorStreamCaptureWrongThread)
    EXAFOLD_EMULATION_ERROR(cudaErrorUnknown)
#undef EXAFOLD_EMULATION_ERROR
  }
  return "cudaErrorUnknown";
}

// CUDA's own wording.
inline const char* error_string(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction:
      return "invalid device function";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorIllegalState:
      return "the operation cannot be performed in the present state";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources:
      return "too many resources requested for launch";
    case cudaErrorAssert:
      return "device-side assert triggered";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorNotSupported:
      return "operation not supported";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched:
      return "capture was not initiated in this stream";
    case cudaErrorStreamCaptureImplicit:
      return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    case cudaErrorUnknown:
      return "unknown error";
  }
  return "unknown error";
}

}  // namespace exafold::emulation

inline cudaError_t cudaGetLastError() {
  const cudaError_t last = exafold::emulation::t_last_error;
  exafold::emulation::t_last_error = cudaSuccess;
  return last != cudaSuccess ? last : exafold::emulation::sticky_error().load();
}

inline cudaError_t cudaPeekAtLastError() {
  const cudaError_t last = exafold::emulation::t_last_error;
  return last != cudaSuccess ? last : exafold::emulation::sticky_error().load();
}

inline const char* cudaGetErrorName(cudaError_t e) { return exafold::emulation::error_name(e); }

/// For a failed launch, CUDA's words followed by the emulation's report of what went wrong, so
/// that an error message built from this string says where.
inline const char* cudaGetErrorString(cudaError_t e) {
  if (e != cudaErrorLaunchFailure) return exafold::emulation::error_string(e);
  thread_local std::string message;
  message = exafold::emulation::error_string(e);
  const std::string report = exafold::emulation::last_launch_report();
  if (!report.empty()) message += " (CPU emulation: " + report + ")";
  return message.c_str();
}
