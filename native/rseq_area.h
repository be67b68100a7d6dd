// The calling thread's rseq area: the one libc registered, or one this addon registers itself.
// State is per thread (thread_local): every worker thread finds or registers its own.
#ifndef RSEQ_SLICE_RSEQ_AREA_H
#define RSEQ_SLICE_RSEQ_AREA_H

#include <cstdint>

#include "rseq_abi.h"

namespace rseq_slice {

enum class AreaOwner : int { kNone = 0, kLibc = 1, kAddon = 2 };

struct AreaState {
  Rseq* area = nullptr;  // null when the thread has no usable area
  AreaOwner owner = AreaOwner::kNone;
  uint32_t length = 0;       // registration length (32 = legacy, longer = optimized)
  uint32_t featureSize = 0;  // bytes of the area the kernel keeps up to date
  int error = 0;             // errno of the failed registration, 0 when none failed
  bool defaultOn = false;    // registered with RSEQ_FLAG_SLICE_EXT_DEFAULT_ON
};

// What libc and the kernel told us, independent of the thread.
struct Environment {
  bool libcSymbols;  // __rseq_offset and __rseq_size found with dlsym
  long libcRseqOffset;
  uint32_t libcRseqSize;         // 0: libc did not register
  unsigned long auxFeatureSize;  // getauxval(AT_RSEQ_FEATURE_SIZE), 0 when absent
  unsigned long auxAlign;        // getauxval(AT_RSEQ_ALIGN), 0 when absent
};

const Environment& GetEnvironment();

// Finds the calling thread's area, registering the addon's own when libc did not. `defaultOn`
// asks for RSEQ_FLAG_SLICE_EXT_DEFAULT_ON on that first registration (retried without it when the
// kernel refuses the flag). Later calls return the same state.
const AreaState& ThreadArea(bool defaultOn);

// The state so far, without resolving (area null until ThreadArea ran in this thread).
const AreaState& CurrentAreaState();

// How many of the addon's own areas are registered now, process-wide: each thread's is
// unregistered (and freed) when the thread exits, so this falls back when workers end.
int OwnAreasRegistered();

// Called on the releasing thread just before one of the addon's own areas is unregistered and
// freed (at thread exit, or when a probe ends), with its address: one listener per process.
void SetOwnAreaReleaseListener(void (*listener)(const void* area));

// A probe (detect()) leaves the thread as it found it. Between BeginAreaProbe and EndAreaProbe,
// a ThreadArea call that resolves the thread's area for the first time counts as the probe's.
// EndAreaProbe then forgets that resolution: it unregisters and frees the addon's own area if the
// probe registered one, and the next ThreadArea starts afresh (registering again, default-on
// honoured). `keep` ends the probe without releasing (something now refers to the area).
// Returns 1 when it unregistered the addon's own area, 0 when it had none to unregister (libc's
// area is only forgotten, the area was resolved before, or `keep`), or -errno when unregistering
// failed (the area is then kept, as after any ThreadArea call).
void BeginAreaProbe();
long EndAreaProbe(bool keep);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_RSEQ_AREA_H
