// Streams, events and CUDA graphs of the emulated runtime. Work runs when it is queued (every
// stream is always idle), except on a stream that is capturing a graph: there it is recorded,
// in order, and runs each time the instantiated graph is launched.
//
// Capture follows CUDA's rules where a GPU would fail: the legacy stream cannot capture; while
// a thread captures (in global or thread-local mode), or any thread captures in global mode,
// calls that would synchronise or allocate synchronously (cudaMalloc, cudaMemcpy, cudaFree,
// cudaStreamSynchronize of a capturing stream, ...) fail with cudaErrorStreamCaptureUnsupported
// and invalidate the capture, whose cudaStreamEndCapture then fails too; a thread that switched
// to relaxed interaction mode (cudaThreadExchangeStreamCaptureMode) may still allocate.
// Stream-ordered allocations made during a capture belong to the graph: the same addresses on every
// launch.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "driver_types.h"
#include "emulation/errors.h"

namespace exafold::emulation {

using Work = std::function<cudaError_t()>;

/// A graph's recorded work, shared by the graph and its instantiations, and what releases the
/// memory its stream-ordered allocations own when the last of them goes.
struct GraphBody {
  std::vector<Work> nodes;
  std::vector<std::function<void()>> release;
  GraphBody() = default;
  GraphBody(const GraphBody&) = delete;
  GraphBody& operator=(const GraphBody&) = delete;
  ~GraphBody() {
    for (auto& r : release) r();
  }
};

struct Capture {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  bool invalidated = false;
  std::shared_ptr<GraphBody> body = std::make_shared<GraphBody>();
  std::set<void*> allocations;  // stream-ordered, made during the capture: the graph's
};

}  // namespace exafold::emulation

struct CUstream_st {
  unsigned flags = 0;
  int priority = 0;
  std::unique_ptr<exafold::emulation::Capture> capture;
};

struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

struct CUgraph_st {
  std::shared_ptr<exafold::emulation::GraphBody> body;
};

struct CUgraphExec_st {
  std::shared_ptr<exafold::emulation::GraphBody> body;
};

namespace exafold::emulation {

struct StreamRegistry {
  std::mutex mu;
  std::set<cudaStream_t> streams;
  std::set<cudaEvent_t> events;
  std::vector<Capture*> captures;  // active, on any stream and thread
};

inline StreamRegistry& registry() {
  static auto* r = new StreamRegistry;  // never destroyed: streams may outlive static objects
  return *r;
}

inline CUstream_st& legacy_stream() {
  static auto* s = new CUstream_st;
  return *s;
}
inline thread_local CUstream_st t_per_thread_stream;

/// The stream a handle names, or null when it names none (destroyed or never created).
inline CUstream_st* resolve(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy) return &legacy_stream();
  if (s == cudaStreamPerThread) return &t_per_thread_stream;
  StreamRegistry& r = registry();
  std::lock_guard lk(r.mu);
  return r.streams.count(s) ? s : nullptr;
}

inline bool valid_event(cudaEvent_t e) {
  StreamRegistry& r = registry();
  std::lock_guard lk(r.mu);
  return r.events.count(e) > 0;
}

/// The calling thread's capture interaction mode (cudaThreadExchangeStreamCaptureMode).
inline thread_local cudaStreamCaptureMode t_interaction_mode = cudaStreamCaptureModeGlobal;

/// Which calls a capture in progress forbids: those that synchronise (cudaMemcpy, cudaFree, a
/// device synchronisation, ...) whatever the thread's interaction mode, and the merely
/// "potentially unsafe" ones (cudaMalloc and the other allocations), which a thread in relaxed
/// interaction mode may make, as CUDA lets it.
enum class CaptureRule { synchronises, unsafe };

/// cudaErrorStreamCaptureUnsupported when a capture in progress forbids the call from this
/// thread (the capture is then invalidated), else cudaSuccess. A thread's own capture forbids
/// unless it began in relaxed mode; another thread's only in global mode (and, for an unsafe
/// call, only while this thread's interaction mode is global).
inline cudaError_t forbidden_during_capture(CaptureRule rule = CaptureRule::synchronises) {
  if (rule == CaptureRule::unsafe && t_interaction_mode == cudaStreamCaptureModeRelaxed)
    return cudaSuccess;
  const bool others_count =
      rule == CaptureRule::synchronises || t_interaction_mode == cudaStreamCaptureModeGlobal;
  StreamRegistry& r = registry();
  std::lock_guard lk(r.mu);
  bool forbidden = false;
  for (Capture* c : r.captures) {
    const bool own = c->thread == std::this_thread::get_id();
    if ((own && c->mode != cudaStreamCaptureModeRelaxed) ||
        (!own && others_count && c->mode == cudaStreamCaptureModeGlobal)) {
      c->invalidated = true;
      forbidden = true;
    }
  }
  return forbidden ? record(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}

/// A synchronous call's preamble: the sticky error, else the capture rule, else cudaSuccess.
inline cudaError_t synchronous_call(CaptureRule rule = CaptureRule::synchronises) {
  if (cudaError_t e = sticky(); e != cudaSuccess) return e;
  return forbidden_during_capture(rule);
}

/// Runs work now, or records it when the stream captures.
inline cudaError_t enqueue(cudaStream_t stream, Work work) {
  if (cudaError_t e = sticky(); e != cudaSuccess) return e;
  CUstream_st* s = resolve(stream);
  if (!s) return record(cudaErrorInvalidResourceHandle);
  if (s->capture) {
    if (s->capture->invalidated) return record(cudaErrorStreamCaptureInvalidated);
    s->capture->body->nodes.push_back(std::move(work));
    return cudaSuccess;
  }
  return record(work());
}

/// The capture of the stream, or null.
inline Capture* capture_of(cudaStream_t stream) {
  CUstream_st* s = resolve(stream);
  return s ? s->capture.get() : nullptr;
}

}  // namespace exafold::emulation

inline cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int flags,
                                                int priority) {
  namespace e = exafold::emulation;
  if (!stream || (flags & ~unsigned(cudaStreamNonBlocking)) != 0)
    return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  auto* s = new CUstream_st;
  s->flags = flags;
  s->priority = std::clamp(priority, -5, 0);
  std::lock_guard lk(e::registry().mu);
  e::registry().streams.insert(s);
  *stream = s;
  return cudaSuccess;
}

inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  return cudaStreamCreateWithPriority(stream, flags, 0);
}

inline cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithPriority(stream, cudaStreamDefault, 0);
}

inline cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
  if (least) *least = 0;
  if (greatest) *greatest = -5;
  return cudaSuccess;
}

inline cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  namespace e = exafold::emulation;
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
    return e::record(cudaErrorInvalidResourceHandle);
  std::unique_lock lk(e::registry().mu);
  if (e::registry().streams.erase(stream) == 0) return e::record(cudaErrorInvalidResourceHandle);
  if (stream->capture) {
    auto& c = e::registry().captures;
    c.erase(std::remove(c.begin(), c.end(), stream->capture.get()), c.end());
  }
  lk.unlock();
  delete stream;
  return cudaSuccess;
}

inline cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  CUstream_st* s = e::resolve(stream);
  if (!s) return e::record(cudaErrorInvalidResourceHandle);
  if (s->capture) {
    s->capture->invalidated = true;
    return e::record(cudaErrorStreamCaptureUnsupported);
  }
  return e::forbidden_during_capture();
}

inline cudaError_t cudaStreamQuery(cudaStream_t stream) { return cudaStreamSynchronize(stream); }

inline cudaError_t cudaDeviceSynchronize() { return exafold::emulation::synchronous_call(); }

/// Clears the sticky error of a failed launch, as a reset of the device does. Memory stays
/// allocated: it is host memory, and tests that reset go on using theirs.
inline cudaError_t cudaDeviceReset() {
  exafold::emulation::clear_launch_failure();
  return cudaSuccess;
}

inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  namespace e = exafold::emulation;
  constexpr unsigned known = cudaEventBlockingSync | cudaEventDisableTiming;
  if (!event || (flags & ~known) != 0) return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  auto* ev = new CUevent_st;
  ev->flags = flags;
  std::lock_guard lk(e::registry().mu);
  e::registry().events.insert(ev);
  *event = ev;
  return cudaSuccess;
}

inline cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

inline cudaError_t cudaEventDestroy(cudaEvent_t event) {
  namespace e = exafold::emulation;
  std::unique_lock lk(e::registry().mu);
  if (e::registry().events.erase(event) == 0) return e::record(cudaErrorInvalidResourceHandle);
  lk.unlock();
  delete event;
  return cudaSuccess;
}

inline cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr) {
  namespace e = exafold::emulation;
  if (!e::valid_event(event)) return e::record(cudaErrorInvalidResourceHandle);
  return e::enqueue(stream, [event] {
    event->recorded = true;
    event->time = std::chrono::steady_clock::now();
    return cudaSuccess;
  });
}

inline cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  namespace e = exafold::emulation;
  if (!e::valid_event(event)) return e::record(cudaErrorInvalidResourceHandle);
  return e::sticky();
}

inline cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }

inline cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                       unsigned int flags = 0) {
  namespace e = exafold::emulation;
  if (!e::resolve(stream) || !e::valid_event(event))
    return e::record(cudaErrorInvalidResourceHandle);
  if (flags != 0) return e::record(cudaErrorInvalidValue);
  return e::sticky();
}

inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  namespace e = exafold::emulation;
  if (!ms) return e::record(cudaErrorInvalidValue);
  if (!e::valid_event(start) || !e::valid_event(end))
    return e::record(cudaErrorInvalidResourceHandle);
  if ((start->flags | end->flags) & cudaEventDisableTiming || !start->recorded || !end->recorded)
    return e::record(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

inline cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  CUstream_st* s = e::resolve(stream);
  if (!s) return e::record(cudaErrorInvalidResourceHandle);
  if (s == &e::legacy_stream()) return e::record(cudaErrorStreamCaptureUnsupported);
  if (s->capture) return e::record(cudaErrorIllegalState);
  s->capture = std::make_unique<e::Capture>();
  s->capture->mode = mode;
  s->capture->thread = std::this_thread::get_id();
  std::lock_guard lk(e::registry().mu);
  e::registry().captures.push_back(s->capture.get());
  return cudaSuccess;
}

inline cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  namespace e = exafold::emulation;
  if (!graph) return e::record(cudaErrorInvalidValue);
  *graph = nullptr;
  CUstream_st* s = e::resolve(stream);
  if (!s) return e::record(cudaErrorInvalidResourceHandle);
  if (!s->capture) return e::record(cudaErrorIllegalState);
  if (s->capture->mode != cudaStreamCaptureModeRelaxed &&
      s->capture->thread != std::this_thread::get_id())
    return e::record(cudaErrorStreamCaptureWrongThread);
  std::unique_ptr<e::Capture> c = std::move(s->capture);
  {
    std::lock_guard lk(e::registry().mu);
    auto& all = e::registry().captures;
    all.erase(std::remove(all.begin(), all.end(), c.get()), all.end());
  }
  if (c->invalidated) return e::record(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{c->body};
  return cudaSuccess;
}

inline cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  namespace e = exafold::emulation;
  if (!status) return e::record(cudaErrorInvalidValue);
  CUstream_st* s = e::resolve(stream);
  if (!s) return e::record(cudaErrorInvalidResourceHandle);
  *status = !s->capture               ? cudaStreamCaptureStatusNone
            : s->capture->invalidated ? cudaStreamCaptureStatusInvalidated
                                      : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

/// Sets the calling thread's capture interaction mode to *mode and returns the previous one in
/// *mode (CUDA's idiom for a scoped change).
inline cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  namespace e = exafold::emulation;
  if (!mode || *mode < cudaStreamCaptureModeGlobal || *mode > cudaStreamCaptureModeRelaxed)
    return e::record(cudaErrorInvalidValue);
  std::swap(*mode, e::t_interaction_mode);
  return cudaSuccess;
}

inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                        unsigned long long flags = 0) {
  namespace e = exafold::emulation;
  if (!exec || !graph || flags != 0) return e::record(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->body};
  return cudaSuccess;
}

inline cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  namespace e = exafold::emulation;
  if (!exec) return e::record(cudaErrorInvalidValue);
  std::shared_ptr<e::GraphBody> body = exec->body;
  return e::enqueue(stream, [body] {
    for (const e::Work& w : body->nodes)
      if (cudaError_t err = w(); err != cudaSuccess) return err;
    return cudaSuccess;
  });
}

inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

inline cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
