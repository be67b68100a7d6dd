// The ended-thread record behind SliceMutex's owner-death recovery (thread_watch.h).
#include "thread_watch.h"

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

#include "napi_args.h"

namespace rseq_slice {
namespace {

// Node's threadId: unique within the process and never reused, so one bit per id ever watched
// says "ended" for good. SliceMutex packs (threadId + 1) << 3 into its 32-bit lock word, which
// bounds the ids it can hold.
constexpr uint64_t kMaxThreadId = (uint64_t{1} << 29) - 2;

std::mutex endedMutex;
std::vector<uint64_t> endedBits;  // bit i: thread i has ended

// The id this thread watches (a Node thread runs one environment).
thread_local int64_t watchedId = -1;

void MarkEnded(void* arg) {
  uint64_t id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(arg));
  std::lock_guard<std::mutex> hold(endedMutex);
  if (endedBits.size() <= id / 64) endedBits.resize(id / 64 + 1, 0);
  endedBits[id / 64] |= uint64_t{1} << (id % 64);
}

}  // namespace

Napi::Value WatchThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = 0;
  if (!Args(info, "watchThread").Integer(0, "threadId", 0, kMaxThreadId, &id)) return env.Undefined();
  if (watchedId == static_cast<int64_t>(id)) return Napi::Number::New(env, 0);
  if (watchedId >= 0) return Napi::Number::New(env, -EEXIST);
  // The hook runs on this thread during its environment's teardown, after its last JavaScript:
  // from then on nothing of this thread can touch a lock word.
  napi_status status = napi_add_env_cleanup_hook(env, MarkEnded, reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  if (status != napi_ok) return Napi::Number::New(env, -ENOMEM);
  watchedId = static_cast<int64_t>(id);
  return Napi::Number::New(env, 0);
}

Napi::Value ThreadEnded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = 0;
  if (!Args(info, "threadEnded").Integer(0, "threadId", 0, kMaxThreadId, &id)) return env.Undefined();
  std::lock_guard<std::mutex> hold(endedMutex);
  bool ended = id / 64 < endedBits.size() && (endedBits[id / 64] >> (id % 64) & 1) != 0;
  return Napi::Boolean::New(env, ended);
}

}  // namespace rseq_slice
