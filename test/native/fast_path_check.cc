// Checks the section entry and exit the addon runs (include/rseq_slice.h, through the addon's
// native/rseq_abi.h) outside Node, on an area in ordinary memory where the test plays the kernel's
// part (a grant: request 1 -> 0, granted 0 -> 1). Built twice by test/lib/fast_path.test.ts: the
// x86-64 btrl path and the portable path (-DRSEQ_SLICE_PORTABLE_FAST_PATH) other architectures
// use. Also checks the public header's C++ part (rseq_slice::Section, SpinLock) over the same
// code. Prints one line per check; exits 1 when any failed.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../../native/rseq_abi.h"

using namespace rseq_slice;

static int failures = 0;

static void Check(const char* what, bool ok) {
  std::printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

int main() {
  Rseq area;
  std::memset(&area, 0xA5, sizeof(area));  // every byte but slice_ctrl must survive untouched
  area.slice_ctrl.all = 0;
  unsigned char before[sizeof(Rseq)];
  std::memcpy(before, &area, sizeof(area));

  rseq_slice_enter(&area);
  Check("enter sets request only", area.slice_ctrl.bytes.request == 1 && area.slice_ctrl.bytes.granted == 0 &&
                                       area.slice_ctrl.bytes.reserved == 0);
  Check("exit with request still set is clean", rseq_slice_exit(&area) == RSEQ_SLICE_CLEAN);
  Check("exit clears request", area.slice_ctrl.all == 0);
  Check("no other byte changed", std::memcmp(before, &area, offsetof(Rseq, slice_ctrl)) == 0);

  rseq_slice_enter(&area);
  area.slice_ctrl.bytes.request = 0;  // the kernel revoked or scheduled us
  Check("both bytes clear at exit is revoked", rseq_slice_exit(&area) == RSEQ_SLICE_REVOKED);

  rseq_slice_enter(&area);
  area.slice_ctrl.bytes.request = 0;  // the kernel granted
  area.slice_ctrl.bytes.granted = 1;
  long outcome = rseq_slice_exit(&area);
  // Outside a real grant the yield syscall answers 0 (raced) on 7.0+, or ENOSYS before 7.0.
  Check("granted at exit calls the yield syscall", outcome == RSEQ_SLICE_RACED || outcome == -ENOSYS);
  Check("exit never writes granted", area.slice_ctrl.bytes.granted == 1);
  Check("exit leaves request clear", area.slice_ctrl.bytes.request == 0);
  // Sections that nest (rseq_slice_begin/rseq_slice_end over the thread's state): only the
  // outermost begin requests, only the outermost end clears; a thread without an area (NULL)
  // counts depth and touches nothing.
  area.slice_ctrl.all = 0;
  rseq_slice_thread t = {&area, 0, 0};
  rseq_slice_thread none = {nullptr, 0, 0};
  rseq_slice_begin(&t);
  rseq_slice_begin(&t);
  Check("nested begin: depth 2, request set", t.depth == 2 && area.slice_ctrl.bytes.request == 1);
  Check("inner end is NESTED and leaves request set",
        rseq_slice_end(&t) == RSEQ_SLICE_NESTED && t.depth == 1 && area.slice_ctrl.bytes.request == 1);
  area.slice_ctrl.bytes.request = 0;  // the kernel granted inside the inner section
  area.slice_ctrl.bytes.granted = 1;
  Check("the inner end never yields: granted stays for the outer end",
        rseq_slice_end(&t) != RSEQ_SLICE_NESTED && t.depth == 0);
  area.slice_ctrl.all = 0;
  Check("end without a section is -EINVAL and changes nothing", rseq_slice_end(&t) == -EINVAL && t.depth == 0);
  rseq_slice_begin(&none);
  Check("a thread without an area counts depth only", none.depth == 1 && rseq_slice_end(&none) == RSEQ_SLICE_CLEAN);

  // The public header's C++ part over the same code: a section for a guard's lifetime, and a spin
  // lock whose holder is in a section.
  {
    rseq_slice::Section section(&t);
    Check("Section begins on construction", area.slice_ctrl.bytes.request == 1 && t.depth == 1);
    {
      rseq_slice::Section inner(&t);
      Check("a nested Section is one section", t.depth == 2);
    }
    Check("the inner Section's end leaves the outer one's request", area.slice_ctrl.bytes.request == 1);
  }
  Check("Section ends on destruction", area.slice_ctrl.all == 0 && t.depth == 0);
  {
    rseq_slice::Section section(&t);
    Check("Section::end is the exit's outcome", section.end() == RSEQ_SLICE_CLEAN && area.slice_ctrl.all == 0);
    Check("a second end is -EINVAL", section.end() == -EINVAL);
  }
  Check("an ended Section does not end again", area.slice_ctrl.all == 0 && t.depth == 0);
  rseq_slice::SpinLock lock;
  lock.lock(&t);
  Check("a locked SpinLock holds a section", area.slice_ctrl.bytes.request == 1 && t.depth == 1);
  Check("try_lock of a held SpinLock fails and leaves the holder's section",
        !lock.try_lock(&none) && area.slice_ctrl.bytes.request == 1 && none.depth == 0);
  Check("unlock ends the holder's section",
        lock.unlock() == RSEQ_SLICE_CLEAN && area.slice_ctrl.all == 0 && t.depth == 0);
  {
    rseq_slice::SpinLock::Guard guard(lock, &t);
    Check("Guard locks", !lock.try_lock(&none) && area.slice_ctrl.bytes.request == 1);
  }
  Check("Guard unlocks", lock.try_lock(&none) && area.slice_ctrl.all == 0);
  Check("a section without an area is a clean no-op", lock.unlock() == RSEQ_SLICE_CLEAN && none.depth == 0);
  std::printf("path: %s\n", RSEQ_SLICE_HAVE_BTRL ? "btrl" : "portable");
  return failures ? 1 : 0;
}
