#include "slice_syscalls.h"

#include <cerrno>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rseq_abi.h"

namespace rseq_slice {

namespace {

long Result(long rc) { return rc < 0 ? -static_cast<long>(errno) : rc; }

}  // namespace

long SysRseqNumber() {
#ifdef __NR_rseq
  return __NR_rseq;
#else
  return -1;
#endif
}

long SysSliceYieldNumber() {
#if defined(__NR_rseq_slice_yield)
  return __NR_rseq_slice_yield;
#elif defined(__x86_64__) || defined(__aarch64__) || (defined(__riscv) && __riscv_xlen == 64) || \
    defined(__loongarch64)
  // 471 in the x86-64 table and in the generic table these architectures use; the system
  // headers of this build predate the syscall.
  return 471;
#else
  return -1;
#endif
}

uint32_t RseqSignature() {
#if defined(__x86_64__) || defined(__i386__)
  return 0x53053053;  // RSEQ_SIG on x86: "ud1" with this immediate
#elif defined(__aarch64__)
  return 0xd428bc00;  // RSEQ_SIG on arm64: "brk #0x45e0"
#elif defined(__riscv)
  return 0xf1401073;  // RSEQ_SIG on riscv: "csrr mhartid, x0"
#else
  return 0;
#endif
}

long RseqRegister(void* area, uint32_t len, int flags) {
  long nr = SysRseqNumber();
  uint32_t sig = RseqSignature();
  if (nr < 0 || sig == 0) return -ENOSYS;
  return Result(syscall(nr, area, len, flags, sig));
}

long RseqUnregister(void* area, uint32_t len) {
  long nr = SysRseqNumber();
  if (nr < 0) return -ENOSYS;
  return Result(syscall(nr, area, len, kRseqFlagUnregister, RseqSignature()));
}

long SliceExtPrctl(unsigned long op, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
  return Result(prctl(kPrRseqSliceExtension, op, arg3, arg4, arg5));
}

long SliceYield() {
  long nr = SysSliceYieldNumber();
  if (nr < 0) return -ENOSYS;
  return Result(syscall(nr));
}

long SchedGetcpu() { return Result(sched_getcpu()); }

}  // namespace rseq_slice
