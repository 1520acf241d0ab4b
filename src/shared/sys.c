/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "missing.h"
#include "sys.h"

int sys_pidfd_open(pid_t pid, unsigned flags) {
        return (int) syscall(__NR_pidfd_open, pid, flags);
}

int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags) {
        return (int) syscall(__NR_pidfd_send_signal, pidfd, sig, info, flags);
}

long sys_process_madvise(int pidfd, const struct iovec *iov, size_t n, int advice, unsigned flags) {
        return syscall(__NR_process_madvise, pidfd, iov, n, advice, flags);
}

int sys_prctl_get_memory_merge(void) {
        return prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
}
