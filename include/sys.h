/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sys.h - out-of-line shims for system calls glibc 2.36 does not wrap (or wraps differently).
 * They return what the raw syscall returns (-1 and errno set), like libc.  Keeping them out of
 * line gives unit tests a --wrap seam that is our own symbol, not libc's.
 */
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/uio.h>

int sys_pidfd_open(pid_t pid, unsigned flags);
int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags);
long sys_process_madvise(int pidfd, const struct iovec *iov, size_t n, int advice, unsigned flags);
int sys_prctl_get_memory_merge(void);
