// Internal diagnostics for the test suite and `rseq-slice check` (see diagnostics.cc).
#ifndef RSEQ_SLICE_DIAGNOSTICS_H
#define RSEQ_SLICE_DIAGNOSTICS_H

#include <napi.h>

namespace rseq_slice {

// The object exported as the addon's `diagnostics`.
Napi::Object Diagnostics(Napi::Env env);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_DIAGNOSTICS_H
