// execvp for `rseq-slice exec` where Node has no process.execve (before 22.15/23.11).
#ifndef RSEQ_SLICE_EXEC_H
#define RSEQ_SLICE_EXEC_H

#include <napi.h>

namespace rseq_slice {

// execvp(file, argv, env): (file: string, argv: string[], env: string[] of "NAME=value").
// Does not return on success; returns -errno when the exec fails. Wrong argument types throw a
// TypeError naming the argument.
Napi::Value ExecVp(const Napi::CallbackInfo& info);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_EXEC_H
