// The exec entry point for `rseq-slice exec` (policy, messages and exit codes live in
// lib/cli/commands/exec.ts): replaces this process with another program, keeping the pid, so that
// signals, stdio and the exit status are the new program's.
#include "exec.h"

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace rseq_slice {
namespace {

// Stands in for SIG_IGN between the reset and execve (see ExecVp).
void SwallowSignal(int) {}

// A JavaScript array of strings as owned std::strings; false (TypeError thrown) otherwise.
bool StringArray(const Napi::CallbackInfo& info, size_t i, const char* name, std::vector<std::string>* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsArray()) {
    Napi::TypeError::New(env, std::string("execvp: ") + name + " must be an array of strings")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array a = info[i].As<Napi::Array>();
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    // A throwing getter leaves its exception pending: return it as is (throwing a TypeError on
    // top of a pending exception aborts the process).
    if (v.IsEmpty() || env.IsExceptionPending()) return false;
    if (!v.IsString()) {
      Napi::TypeError::New(env, std::string("execvp: ") + name + "[" + std::to_string(k) + "] must be a string")
          .ThrowAsJavaScriptException();
      return false;
    }
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) {
      Napi::TypeError::New(env, std::string("execvp: ") + name + "[" + std::to_string(k) + "] contains a NUL byte")
          .ThrowAsJavaScriptException();
      return false;
    }
    out->push_back(std::move(s));
  }
  return true;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(&s[0]);
  p.push_back(nullptr);
  return p;
}

}  // namespace

Napi::Value ExecVp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "execvp: file must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argv, envp;
  if (!StringArray(info, 1, "argv", &argv) || !StringArray(info, 2, "env", &envp)) return env.Undefined();
  if (file.empty() || file.find('\0') != std::string::npos) {
    Napi::TypeError::New(env, "execvp: file must be a non-empty string without NUL bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<char*> argvp = Pointers(argv), envpp = Pointers(envp);

  // Node ignores SIGPIPE, marks stdio close-on-exec and may leave it non-blocking for its event
  // loop; ignored dispositions, the signal mask, FD_CLOEXEC and O_NONBLOCK all act across execve.
  // Give the new program what a shell would: default dispositions, an empty mask, blocking stdio.
  // An ignored signal gets a handler that does nothing rather than SIG_DFL: until execve, another
  // thread of this process may still receive it (a SIGPIPE from a socket write) and must not die
  // of it, and execve resets caught signals to SIG_DFL. Everything is put back when the exec
  // fails, so this process carries on as before.
  struct sigaction saved[NSIG];
  bool reset[NSIG] = {};
  for (int sig = 1; sig < NSIG; sig++) {
    if (sigaction(sig, nullptr, &saved[sig]) == 0 && saved[sig].sa_handler == SIG_IGN) {
      struct sigaction swallow = {};
      swallow.sa_handler = SwallowSignal;
      swallow.sa_flags = SA_RESTART;
      sigemptyset(&swallow.sa_mask);
      reset[sig] = sigaction(sig, &swallow, nullptr) == 0;
    }
  }
  sigset_t empty, savedMask;
  sigemptyset(&empty);
  // sigprocmask, not pthread_sigmask: the latter binds GLIBC_2.32 (moved into libc there) and
  // breaks the 2.28 floor; for the calling thread glibc's sigprocmask does the same.
  sigprocmask(SIG_SETMASK, &empty, &savedMask);
  int savedFlags[3], savedFd[3];
  for (int fd = 0; fd < 3; fd++) {
    savedFlags[fd] = fcntl(fd, F_GETFL);
    if (savedFlags[fd] >= 0 && (savedFlags[fd] & O_NONBLOCK)) fcntl(fd, F_SETFL, savedFlags[fd] & ~O_NONBLOCK);
    savedFd[fd] = fcntl(fd, F_GETFD);
    if (savedFd[fd] >= 0 && (savedFd[fd] & FD_CLOEXEC)) fcntl(fd, F_SETFD, savedFd[fd] & ~FD_CLOEXEC);
  }

  execvpe(file.c_str(), argvp.data(), envpp.data());
  int error = errno;

  for (int fd = 0; fd < 3; fd++) {
    if (savedFlags[fd] >= 0) fcntl(fd, F_SETFL, savedFlags[fd]);
    if (savedFd[fd] >= 0) fcntl(fd, F_SETFD, savedFd[fd]);
  }
  sigprocmask(SIG_SETMASK, &savedMask, nullptr);
  for (int sig = 1; sig < NSIG; sig++) {
    if (reset[sig]) sigaction(sig, &saved[sig], nullptr);
  }
  return Napi::Number::New(env, -error);
}

}  // namespace rseq_slice
