// One emulated CUDA thread's execution context: a stack of its own and the saved machine state
// of a suspended fiber. Fibers switch only to and from the scheduler that runs their block, on
// one OS thread.
//
// On x86-64 the switch is a dozen instructions (the callee-saved registers, MXCSR and the x87
// control word, as the SysV ABI requires them preserved across a call); elsewhere, or with
// EXAFOLD_EMULATION_UCONTEXT=1, it is ucontext. Under AddressSanitizer either way carries the
// sanitizer's fiber annotations, so that ASan knows which stack is live (without them every
// switch would look like a stack overflow).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define EXAFOLD_EMULATION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EXAFOLD_EMULATION_ASAN 1
#endif
#endif
#ifndef EXAFOLD_EMULATION_ASAN
#define EXAFOLD_EMULATION_ASAN 0
#endif

#if !defined(EXAFOLD_EMULATION_UCONTEXT)
#if defined(__x86_64__)
#define EXAFOLD_EMULATION_UCONTEXT 0
#else
#define EXAFOLD_EMULATION_UCONTEXT 1
#endif
#endif
#if EXAFOLD_EMULATION_UCONTEXT
#include <ucontext.h>
#endif

#if EXAFOLD_EMULATION_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace exafold::emulation {

// Ample for device code (a few KiB of locals at most); pages are committed only when touched.
constexpr size_t kStackBytes = size_t(256) << 10;

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "exafold CUDA emulation: %s\n", what);
  std::abort();
}

/// A fiber stack with an inaccessible guard page below it, so an overflow faults at once
/// instead of overwriting a neighbour's stack.
class Stack {
 public:
  Stack() {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) die("cannot map a fiber stack");
    if (mprotect(p, page, PROT_NONE) != 0) die("cannot protect a fiber stack's guard page");
    map_ = static_cast<char*>(p);
    guard_ = page;
  }
  ~Stack() {
    if (map_) munmap(map_, kStackBytes + guard_);
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  Stack(Stack&& o) noexcept
      : map_(std::exchange(o.map_, nullptr)), guard_(o.guard_), abandoned_(o.abandoned_) {}
  Stack& operator=(Stack&&) = delete;

  char* bottom() const { return map_ + guard_; }
  char* top() const { return bottom() + kStackBytes; }

  /// A fiber that was never resumed (its launch failed) leaves its frames' ASan redzones
  /// poisoned; the next fiber on this stack must start from clean shadow memory.
  void mark_abandoned() { abandoned_ = true; }
  void prepare_reuse() {
#if EXAFOLD_EMULATION_ASAN
    if (abandoned_) __asan_unpoison_memory_region(bottom(), kStackBytes);
#endif
    abandoned_ = false;
  }

 private:
  char* map_ = nullptr;
  size_t guard_ = 0;
  bool abandoned_ = false;
};

/// The scheduler's side of every switch: its saved state, and (under ASan) its stack bounds,
/// learnt from the first switch into a fiber.
struct MainContext {
#if EXAFOLD_EMULATION_UCONTEXT
  ucontext_t uc;
#else
  void* sp = nullptr;
#endif
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
};

using FiberEntry = void (*)(void*);

#if !EXAFOLD_EMULATION_UCONTEXT
// Saves the callee-saved state on the current stack, stores the stack pointer in *save and
// continues on the stack load, whose top holds state saved the same way (or a fresh fiber's).
__attribute__((naked, noinline)) inline void switch_stack(void** /*save*/, void* /*load*/) {
  __asm__ volatile(
      "pushq %rbp\n\t"
      "pushq %rbx\n\t"
      "pushq %r12\n\t"
      "pushq %r13\n\t"
      "pushq %r14\n\t"
      "pushq %r15\n\t"
      "subq $8, %rsp\n\t"
      "stmxcsr (%rsp)\n\t"
      "fnstcw 4(%rsp)\n\t"
      "movq %rsp, (%rdi)\n\t"
      "movq %rsi, %rsp\n\t"
      "ldmxcsr (%rsp)\n\t"
      "fldcw 4(%rsp)\n\t"
      "addq $8, %rsp\n\t"
      "popq %r15\n\t"
      "popq %r14\n\t"
      "popq %r13\n\t"
      "popq %r12\n\t"
      "popq %rbx\n\t"
      "popq %rbp\n\t"
      "ret\n\t");
}

// A fresh fiber's first "return" lands here, with its argument in r12 and its entry in r13.
__attribute__((naked, noinline)) inline void fiber_start() {
  __asm__ volatile(
      "movq %r12, %rdi\n\t"
      "callq *%r13\n\t"
      "ud2\n\t");
}
#endif

/// A suspended fiber. start() prepares it to run entry(arg) on its stack; the entry must never
/// return, it ends by exit_to() the scheduler.
class Fiber {
 public:
  void start(Stack& stack, FiberEntry entry, void* arg) {
    stack.prepare_reuse();
    stack_ = &stack;
#if EXAFOLD_EMULATION_UCONTEXT
    if (getcontext(&uc_) != 0) die("getcontext failed");
    uc_.uc_stack.ss_sp = stack.bottom();
    uc_.uc_stack.ss_size = kStackBytes;
    uc_.uc_link = nullptr;
    // makecontext passes int arguments: the pointers travel as two halves.
    const auto e = reinterpret_cast<uintptr_t>(entry), a = reinterpret_cast<uintptr_t>(arg);
    makecontext(&uc_, reinterpret_cast<void (*)()>(&trampoline), 4, unsigned(e >> 32), unsigned(e),
                unsigned(a >> 32), unsigned(a));
#else
    // The frame switch_stack pops: MXCSR and x87 control word, r15, r14, r13 (entry), r12
    // (arg), rbx, rbp (0: the end of the frame-pointer chain), then the return address. After
    // the ret the stack pointer is 16-byte aligned, as a call in fiber_start requires.
    auto** sp = reinterpret_cast<void**>(stack.top() - 80);
    uint32_t mxcsr;
    uint16_t fpu_cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpu_cw));
    reinterpret_cast<uint32_t*>(sp)[0] = mxcsr;
    reinterpret_cast<uint16_t*>(sp)[2] = fpu_cw;
    sp[1] = nullptr;
    sp[2] = nullptr;
    sp[3] = reinterpret_cast<void*>(entry);
    sp[4] = arg;
    sp[5] = nullptr;
    sp[6] = nullptr;
    sp[7] = reinterpret_cast<void*>(&fiber_start);
    sp_ = sp;
#endif
  }

  /// From the scheduler: runs this fiber until it switches back.
  void resume(MainContext& main) {
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_start_switch_fiber(&main.fake_stack, stack_->bottom(), kStackBytes);
#endif
#if EXAFOLD_EMULATION_UCONTEXT
    if (swapcontext(&main.uc, &uc_) != 0) die("swapcontext failed");
#else
    switch_stack(&main.sp, sp_);
#endif
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_finish_switch_fiber(main.fake_stack, nullptr, nullptr);
#endif
  }

  /// From this fiber: returns to the scheduler, to continue here when resumed.
  void suspend_to(MainContext& main) {
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_start_switch_fiber(&fake_stack_, main.stack_bottom, main.stack_size);
#endif
#if EXAFOLD_EMULATION_UCONTEXT
    if (swapcontext(&uc_, &main.uc) != 0) die("swapcontext failed");
#else
    switch_stack(&sp_, main.sp);
#endif
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_finish_switch_fiber(fake_stack_, &main.stack_bottom, &main.stack_size);
#endif
  }

  /// From this fiber, for the last time: it is never resumed.
  [[noreturn]] void exit_to(MainContext& main) {
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_start_switch_fiber(nullptr, main.stack_bottom, main.stack_size);
#endif
#if EXAFOLD_EMULATION_UCONTEXT
    setcontext(&main.uc);
#else
    // Not into a local: under ASan that may live on the fake stack the annotation just freed.
    switch_stack(&sp_, main.sp);
#endif
    die("an exited fiber was resumed");
  }

  /// The first thing a fiber's entry does: completes the switch that started it.
  static void entered(MainContext& main) {
#if EXAFOLD_EMULATION_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &main.stack_bottom, &main.stack_size);
#else
    (void)main;
#endif
  }

 private:
#if EXAFOLD_EMULATION_UCONTEXT
  static void trampoline(unsigned e_hi, unsigned e_lo, unsigned a_hi, unsigned a_lo) {
    const auto e = (uintptr_t(e_hi) << 32) | e_lo, a = (uintptr_t(a_hi) << 32) | a_lo;
    reinterpret_cast<FiberEntry>(e)(reinterpret_cast<void*>(a));
    die("a fiber's entry returned");
  }
  ucontext_t uc_;
#else
  void* sp_ = nullptr;
#endif
  Stack* stack_ = nullptr;
  void* fake_stack_ = nullptr;
};

}  // namespace exafold::emulation
