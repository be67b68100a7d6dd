// Raw system calls for rseq and the slice extension. Every function returns the kernel's result,
// or -errno on failure, so the caller keeps the exact errno (policy lives in TypeScript).
#ifndef RSEQ_SLICE_SLICE_SYSCALLS_H
#define RSEQ_SLICE_SLICE_SYSCALLS_H

#include <cstdint>

namespace rseq_slice {

// rseq(area, len, flags, sig).
long RseqRegister(void* area, uint32_t len, int flags);
long RseqUnregister(void* area, uint32_t len);

// prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5).
long SliceExtPrctl(unsigned long op, unsigned long arg3, unsigned long arg4, unsigned long arg5);

// rseq_slice_yield(): 1 when it ended a grant, 0 otherwise.
long SliceYield();

// sched_getcpu() through libc, the baseline a cpu() read from the area is measured against.
long SchedGetcpu();

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_SLICE_SYSCALLS_H
