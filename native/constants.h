// The ABI numbers exported to JavaScript (see constants.cc).
#ifndef RSEQ_SLICE_CONSTANTS_H
#define RSEQ_SLICE_CONSTANTS_H

#include <napi.h>

namespace rseq_slice {

// The frozen object exported as the addon's `constants`.
Napi::Object AbiConstants(Napi::Env env);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_CONSTANTS_H
