// The critical-section fast path: set `request` on entry; on exit test-and-clear it and yield only
// when the kernel granted an extension. Everything is CPU-local, so no atomic (LOCK) instruction
// is needed: an interrupt lands either before or after each single instruction.
#ifndef RSEQ_SLICE_FAST_PATH_H
#define RSEQ_SLICE_FAST_PATH_H

#include "rseq_abi.h"
#include "slice_syscalls.h"

namespace rseq_slice {

// Outcomes of one section, numbered as lib/abi.ts expects them.
enum Outcome : int { kClean = 0, kYielded = 1, kRaced = 2, kRevoked = 3 };
constexpr int kOutcomeCount = kRevoked + 1;

inline void CompilerBarrier() { __asm__ __volatile__("" ::: "memory"); }

inline void SliceEnter(Rseq* area) {
  *reinterpret_cast<volatile uint8_t*>(&area->slice_ctrl.bytes.request) = 1;
  CompilerBarrier();
}

// RSEQ_SLICE_PORTABLE_FAST_PATH forces the portable path on x86-64 too, so tests can check the
// code other architectures run.
#if defined(__x86_64__) && !defined(RSEQ_SLICE_PORTABLE_FAST_PATH)
#define RSEQ_SLICE_HAVE_BTRL 1
// One non-locked `btrl $0` clears `request` and reports whether it was still set, atomically with
// respect to interrupts on this CPU (a grant clears `request` and sets `granted`).
inline bool SliceClearRequest(Rseq* area) {
  bool wasSet;
  __asm__ __volatile__("btrl %[bit], %[ctrl]"
                       : [ctrl] "+m"(area->slice_ctrl.all), "=@ccc"(wasSet)
                       : [bit] "Ir"(RSEQ_SLICE_EXT_REQUEST_BIT)
                       : "memory");
  return wasSet;
}
#else
#define RSEQ_SLICE_HAVE_BTRL 0
// Plain byte load and store. A grant landing between the two is still seen: the caller reads
// `granted` after the store.
inline bool SliceClearRequest(Rseq* area) {
  volatile uint8_t* request = &area->slice_ctrl.bytes.request;
  bool wasSet = *request != 0;
  *request = 0;
  CompilerBarrier();
  return wasSet;
}
#endif

// Returns an Outcome, or -errno when the yield syscall itself failed.
inline long SliceExit(Rseq* area) {
  CompilerBarrier();
  bool wasSet = SliceClearRequest(area);
  uint8_t granted = *reinterpret_cast<volatile uint8_t*>(&area->slice_ctrl.bytes.granted);
  if (granted != 0) {
    long rc = SliceYield();
    if (rc < 0) return rc;
    return rc == 1 ? kYielded : kRaced;
  }
  if (wasSet) return kClean;
  // Revoked or scheduled. A revoked grant leaves the kernel's syscall-entry check armed, which on
  // rseq_debug kernels makes a syscall inside the next section fatal; a yield (answering 0, or
  // ENOSYS where nothing can have been granted) disarms it.
  SliceYield();
  return kRevoked;
}

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_FAST_PATH_H
