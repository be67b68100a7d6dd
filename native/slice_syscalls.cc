#include "slice_syscalls.h"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

#include "rseq_abi.h"

namespace rseq_slice {

namespace {

long Result(long rc) { return rc < 0 ? -static_cast<long>(errno) : rc; }

}  // namespace

// Without the system's syscall number (or a signature for this architecture) a call answers
// ENOSYS, as the kernel would for a syscall it lacks.
long RseqRegister(void* area, uint32_t len, int flags) {
#ifdef __NR_rseq
  if (RSEQ_SIG == 0) return -ENOSYS;
  return Result(syscall(__NR_rseq, area, len, flags, RSEQ_SIG));
#else
  (void)area, (void)len, (void)flags;
  return -ENOSYS;
#endif
}

long RseqUnregister(void* area, uint32_t len) {
#ifdef __NR_rseq
  return Result(syscall(__NR_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
#else
  (void)area, (void)len;
  return -ENOSYS;
#endif
}

long SliceExtPrctl(unsigned long op, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
  return Result(prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5));
}

long SliceYield() {
#ifdef __NR_rseq_slice_yield
  return Result(syscall(__NR_rseq_slice_yield));
#else
  return -ENOSYS;
#endif
}

long SchedGetcpu() { return Result(sched_getcpu()); }

}  // namespace rseq_slice
