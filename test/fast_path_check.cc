// Checks native/fast_path.h outside Node, on an area in ordinary memory where the test plays the
// kernel's part (a grant: request 1 -> 0, granted 0 -> 1). Built twice by test/fast_path.test.ts:
// the x86-64 btrl path and the portable path (-DRSEQ_SLICE_PORTABLE_FAST_PATH) other
// architectures use. Prints one line per check; exits 1 on the first failure.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../native/fast_path.h"

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

  SliceEnter(&area);
  Check("enter sets request only", area.slice_ctrl.bytes.request == 1 && area.slice_ctrl.bytes.granted == 0 &&
                                       area.slice_ctrl.bytes.reserved == 0);
  Check("exit with request still set is clean", SliceExit(&area) == kClean);
  Check("exit clears request", area.slice_ctrl.all == 0);
  Check("no other byte changed", std::memcmp(before, &area, offsetof(Rseq, slice_ctrl)) == 0);

  SliceEnter(&area);
  area.slice_ctrl.bytes.request = 0;  // the kernel revoked or scheduled us
  Check("both bytes clear at exit is revoked", SliceExit(&area) == kRevoked);

  SliceEnter(&area);
  area.slice_ctrl.bytes.request = 0;  // the kernel granted
  area.slice_ctrl.bytes.granted = 1;
  long outcome = SliceExit(&area);
  // Outside a real grant the yield syscall answers 0 (raced) on 7.0+, or ENOSYS before 7.0.
  Check("granted at exit calls the yield syscall", outcome == kRaced || outcome == -ENOSYS);
  Check("exit never writes granted", area.slice_ctrl.bytes.granted == 1);
  Check("exit leaves request clear", area.slice_ctrl.bytes.request == 0);
  std::printf("path: %s\n", RSEQ_SLICE_HAVE_BTRL ? "btrl" : "portable");
  return failures ? 1 : 0;
}
