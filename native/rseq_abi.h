// The kernel's rseq ABI as this package uses it (Linux 7.0+ uapi, include/uapi/linux/rseq.h and
// include/uapi/linux/prctl.h), mirrored in one plain header. Offsets are checked below so a
// mistake here fails the build instead of corrupting a thread's area at run time.
#ifndef RSEQ_SLICE_RSEQ_ABI_H
#define RSEQ_SLICE_RSEQ_ABI_H

#include <cstddef>
#include <cstdint>

namespace rseq_slice {

// slice_ctrl: one u32 the kernel also reads as a whole. On little-endian machines `request` is
// bit 0 and `granted` bit 8 of `all`; portable code addresses the bytes.
union SliceCtrl {
  uint32_t all;
  struct {
    uint8_t request;   // user sets 1; user or kernel clears
    uint8_t granted;   // kernel only: user space must never write it
    uint16_t reserved; // nobody writes it
  } bytes;
};

struct alignas(32) Rseq {
  uint32_t cpu_id_start;  // kernel
  uint32_t cpu_id;        // kernel (-1 uninitialised, -2 registration failed)
  uint64_t rseq_cs;       // user (critical-section descriptor; this package never sets it)
  uint32_t flags;         // kernel (read-only for user space)
  uint32_t node_id;       // kernel
  uint32_t mm_cid;        // kernel
  SliceCtrl slice_ctrl;   // see above
};

static_assert(offsetof(Rseq, cpu_id_start) == 0, "cpu_id_start offset");
static_assert(offsetof(Rseq, cpu_id) == 4, "cpu_id offset");
static_assert(offsetof(Rseq, rseq_cs) == 8, "rseq_cs offset");
static_assert(offsetof(Rseq, flags) == 16, "flags offset");
static_assert(offsetof(Rseq, node_id) == 20, "node_id offset");
static_assert(offsetof(Rseq, mm_cid) == 24, "mm_cid offset");
static_assert(offsetof(Rseq, slice_ctrl) == 28, "slice_ctrl offset");
static_assert(offsetof(SliceCtrl, bytes.request) == 0, "request is the first byte of slice_ctrl");
static_assert(offsetof(SliceCtrl, bytes.granted) == 1, "granted is the second byte of slice_ctrl");
static_assert(offsetof(SliceCtrl, bytes.reserved) == 2, "reserved bytes follow granted");
static_assert(sizeof(SliceCtrl) == 4, "slice_ctrl is one u32");
static_assert(sizeof(Rseq) == 32, "the original struct rseq is 32 bytes");
static_assert(alignof(Rseq) == 32, "struct rseq is 32-byte aligned");

// Byte offsets, shared with the TypeScript side (lib/abi.ts holds the same numbers).
constexpr std::size_t kOffsetRequest = offsetof(Rseq, slice_ctrl) + offsetof(SliceCtrl, bytes.request);
constexpr std::size_t kOffsetGranted = offsetof(Rseq, slice_ctrl) + offsetof(SliceCtrl, bytes.granted);
static_assert(kOffsetRequest == 28 && kOffsetGranted == 29, "slice_ctrl byte offsets");

constexpr uint32_t kOrigRseqSize = 32;          // ORIG_RSEQ_SIZE: a 32-byte registration is "legacy"
constexpr uint32_t kRseqOriginalFeatureSize = 20; // feature size of kernels before AT_RSEQ_FEATURE_SIZE
constexpr int32_t kCpuIdUninitialized = -1;
constexpr int32_t kCpuIdRegistrationFailed = -2;

// Registration flags (rseq syscall `flags` argument).
constexpr int kRseqFlagUnregister = 1 << 0;
constexpr int kRseqFlagSliceExtDefaultOn = 1 << 1;

// struct rseq.flags bits written by the kernel.
constexpr uint32_t kRseqFlagSliceExtAvailable = 1u << 4;
constexpr uint32_t kRseqFlagSliceExtEnabled = 1u << 5;

// slice_ctrl.all bits on little-endian machines (the x86-64 btrl path relies on bit 0).
constexpr uint32_t kSliceCtrlRequestBit = 0;
constexpr uint32_t kSliceCtrlGrantedBit = 8;

// prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5)
constexpr int kPrRseqSliceExtension = 79;
constexpr int kPrRseqSliceExtensionGet = 1;
constexpr int kPrRseqSliceExtensionSet = 2;
constexpr int kPrRseqSliceExtEnable = 1;

// getauxval keys (may be missing from older libc headers).
constexpr unsigned long kAtRseqFeatureSize = 27;
constexpr unsigned long kAtRseqAlign = 28;

// Kernel-internal errno returned by prctl when the feature is off; libc has no name for it.
constexpr int kEnotsupp = 524;

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_RSEQ_ABI_H
