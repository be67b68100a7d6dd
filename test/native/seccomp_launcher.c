/*
 * seccomp_launcher ENOSYS|EPERM PROGRAM [ARGS...]
 *
 * Installs a seccomp-BPF filter that makes the rseq system call fail with the given errno and
 * allows every other call, then execs PROGRAM. Used by test/lib/robustness.test.ts to run node where
 * a container profile blocks rseq. The filter is inherited by every thread and child of PROGRAM.
 *
 * x86-64 only: the filter matches __NR_rseq of the x86-64 ABI (334), of x32 (334 | x32 bit) and
 * of i386 (386, for 32-bit code run through int 0x80); other architectures are let through.
 * Built for another architecture, the launcher refuses with a message and exit status 2.
 *
 * Exit status: 2 for bad usage or when the filter cannot be installed, 127 when PROGRAM cannot be
 * executed; otherwise PROGRAM replaces this process.
 *
 * Build: cc -Wall -Wextra -Werror -O2 -o seccomp_launcher seccomp_launcher.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static const char* progname = "seccomp_launcher";

#if defined(__x86_64__)

static int usage(const char* problem) {
  if (problem != NULL) fprintf(stderr, "%s: %s\n", progname, problem);
  fprintf(stderr, "usage: %s ENOSYS|EPERM PROGRAM [ARGS...]\n", progname);
  fprintf(stderr, "  runs PROGRAM with the rseq system call failing with the given errno (seccomp filter)\n");
  return 2;
}

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif
#define RSEQ_X86_64 334 /* __NR_rseq, arch/x86/entry/syscalls/syscall_64.tbl */
#define RSEQ_I386 386   /* __NR_rseq, arch/x86/entry/syscalls/syscall_32.tbl */

#if defined(__NR_rseq) && __NR_rseq != RSEQ_X86_64
#error "unexpected __NR_rseq on x86-64"
#endif

static int install_filter(unsigned int err) {
  const unsigned int ret_errno = SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA);
  /* A jump table: clang-format would realign its trailing jump-target comments. */
  /* clang-format off */
  struct sock_filter filter[] = {
      /* [0] */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      /* [1] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),  /* else -> [6] */
      /* [2] */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      /* [3] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RSEQ_X86_64, 6, 0),        /* -> [10] */
      /* [4] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RSEQ_X86_64 | __X32_SYSCALL_BIT, 5, 0), /* -> [10] */
      /* [5] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* [6] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),    /* else -> [9] */
      /* [7] */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      /* [8] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RSEQ_I386, 1, 0),          /* -> [10] */
      /* [9] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* [10] */ BPF_STMT(BPF_RET | BPF_K, ret_errno),
  };
  /* clang-format on */
  struct sock_fprog prog = {
      .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
      .filter = filter,
  };
  /* Without CAP_SYS_ADMIN a filter needs no_new_privs (set-user-ID programs lose their powers). */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "%s: prctl(PR_SET_NO_NEW_PRIVS): %s\n", progname, strerror(errno));
    return -1;
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    fprintf(stderr, "%s: prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER): %s\n", progname, strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  unsigned int err;
  if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') progname = argv[0];
  if (argc < 3) return usage(argc < 2 ? "missing ERRNO and PROGRAM" : "missing PROGRAM");
  if (strcmp(argv[1], "ENOSYS") == 0) {
    err = ENOSYS;
  } else if (strcmp(argv[1], "EPERM") == 0) {
    err = EPERM;
  } else {
    fprintf(stderr, "%s: unknown errno '%s' (expected ENOSYS or EPERM)\n", progname, argv[1]);
    return usage(NULL);
  }
  if (argv[2][0] == '\0') return usage("PROGRAM is empty");
  if (install_filter(err) != 0) return 2;
  execvp(argv[2], argv + 2);
  fprintf(stderr, "%s: cannot execute '%s': %s\n", progname, argv[2], strerror(errno));
  return 127;
}

#else /* not x86-64 */

int main(int argc, char** argv) {
  if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') progname = argv[0];
  fprintf(stderr,
          "%s: only x86-64 is supported (the filter matches the x86-64 rseq syscall number); "
          "refusing to run without it\n",
          progname);
  return 2;
}

#endif
