// The critical-section fast path: set `request` on entry; on exit test-and-clear it and yield only
// when the kernel granted an extension. The code is the public header's (include/rseq_slice.h,
// rseq_slice_enter and rseq_slice_exit), so consumer addons run exactly what the addon runs; this
// file gives it the addon's names. RSEQ_SLICE_PORTABLE_FAST_PATH forces the portable exit on
// x86-64 too, so tests can check the code other architectures run; RSEQ_SLICE_HAVE_BTRL says
// which exit was compiled.
#ifndef RSEQ_SLICE_FAST_PATH_H
#define RSEQ_SLICE_FAST_PATH_H

#include "../include/rseq_slice.h"
#include "rseq_abi.h"

namespace rseq_slice {

// Outcomes of one section, numbered as lib/abi.ts expects them (the header's rseq_slice_outcome).
enum Outcome : int {
  kClean = RSEQ_SLICE_CLEAN,
  kYielded = RSEQ_SLICE_YIELDED,
  kRaced = RSEQ_SLICE_RACED,
  kRevoked = RSEQ_SLICE_REVOKED
};
constexpr int kOutcomeCount = kRevoked + 1;
static_assert(kClean == 0 && kYielded == 1 && kRaced == 2 && kRevoked == 3, "outcomes as lib/abi.ts numbers them");

inline void SliceEnter(Rseq* area) { rseq_slice_enter(area); }

// Returns an Outcome, or -errno when the yield syscall itself failed.
inline long SliceExit(Rseq* area) { return rseq_slice_exit(area); }

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_FAST_PATH_H
