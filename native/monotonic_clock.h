// CLOCK_MONOTONIC in ns, and a busy wait on it: the clock of every timed section in the addon
// (sectionLoop, spinLockLoop) and of the benchmark's hold windows in JavaScript
// (process.hrtime.bigint() reads the same clock), so their figures line up with tracefs's
// trace_clock "mono".
#ifndef RSEQ_SLICE_MONOTONIC_CLOCK_H
#define RSEQ_SLICE_MONOTONIC_CLOCK_H

#include <cstdint>
#include <ctime>

namespace rseq_slice {

// The vDSO answers clock_gettime without a syscall, so reading the clock inside a section never
// ends a grant (a syscall would: kernel/rseq.c rseq_syscall_enter_work).
inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Spins on the CPU until CLOCK_MONOTONIC reaches `endNs`: a section's stand-in work.
inline void SpinUntilNs(uint64_t endNs) {
  while (MonotonicNs() < endNs) {
  }
}

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_MONOTONIC_CLOCK_H
