// Which JavaScript threads have ended: the liveness record SliceMutex reads to recover a lock
// whose holder is gone (lib/slice_mutex.ts). Process-wide, since every thread of the process
// shares the addon's static data; written at each watched thread's environment teardown.
#ifndef RSEQ_SLICE_THREAD_WATCH_H
#define RSEQ_SLICE_THREAD_WATCH_H

#include <napi.h>

namespace rseq_slice {

// watchThread(threadId): marks `threadId` ended when this environment is torn down (worker
// terminate(), process.exit() in the worker, an uncaught exception, resourceLimits, a normal end).
// Returns 0, or -EEXIST when this environment already watches a different id.
Napi::Value WatchThread(const Napi::CallbackInfo& info);

// threadEnded(threadId): whether a watched thread with that id has ended. An id never watched
// answers false: a thread that was never seen is never declared dead.
Napi::Value ThreadEnded(const Napi::CallbackInfo& info);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_THREAD_WATCH_H
