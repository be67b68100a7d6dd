/* Checks include/rseq_slice.h from C11 (gcc -std=c11 -Wpedantic), on an area in ordinary memory
   where the test plays the kernel's part, as test/native/fast_path_check.cc does for the C++ part.
   Built by test/lib/fast_path.test.ts, with and without RSEQ_SLICE_PORTABLE_FAST_PATH. */
#include <stdio.h>
#include <string.h>

/* What <linux/rseq.h> from Linux 7.0 and a libc wrapper of the yield would declare: the header's
   own names must not collide with them. */
struct rseq_slice_ctrl {
  unsigned int all;
};
int rseq_slice_yield(void);

#include "../../include/rseq_slice.h"

static int failures = 0;

static void check(const char* what, int ok) {
  printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

int main(void) {
  struct rseq_slice_area area;
  unsigned char before[sizeof(area)];
  long outcome;
  memset(&area, 0xA5, sizeof(area));
  area.slice_ctrl.all = 0;
  memcpy(before, &area, sizeof(area));

  rseq_slice_enter(&area);
  check("enter sets request only", area.slice_ctrl.bytes.request == 1 && area.slice_ctrl.bytes.granted == 0);
  check("exit with request still set is clean", rseq_slice_exit(&area) == RSEQ_SLICE_CLEAN);
  check("no byte changed", memcmp(before, &area, sizeof(area)) == 0);

  rseq_slice_enter(&area);
  area.slice_ctrl.bytes.request = 0; /* the kernel revoked or scheduled us */
  errno = EDOM;
  check("both bytes clear at exit is revoked", rseq_slice_exit(&area) == RSEQ_SLICE_REVOKED);
  check("the revoked case's yield leaves errno alone", errno == EDOM);

  rseq_slice_enter(&area);
  area.slice_ctrl.bytes.request = 0; /* the kernel granted */
  area.slice_ctrl.bytes.granted = 1;
  outcome = rseq_slice_exit(&area);
  check("granted at exit calls the yield syscall", outcome == RSEQ_SLICE_RACED || outcome == -ENOSYS);
  check("exit never writes granted", area.slice_ctrl.bytes.granted == 1);

  rseq_slice_enter(NULL);
  check("a NULL area is a clean no-op", rseq_slice_exit(NULL) == RSEQ_SLICE_CLEAN);
  printf("path: %s\n", RSEQ_SLICE_HAVE_BTRL ? "btrl" : "portable");
  return failures ? 1 : 0;
}
