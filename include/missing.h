/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * missing.h - the one place for kernel constants that Debian 12's headers (linux-libc-dev 6.1,
 * glibc 2.36) lack.  Every definition is guarded so newer headers win.
 */
#pragma once

#include <sys/prctl.h>
#include <sys/syscall.h>

/* Linux 6.4, commit d7597f59d1d3 "mm: add new api to enable ksm per process" */
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif
#ifndef PR_GET_MEMORY_MERGE
#define PR_GET_MEMORY_MERGE 68
#endif

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif
#ifndef MADV_UNMERGEABLE
#define MADV_UNMERGEABLE 13
#endif

/* Linux 5.3 / 5.1 / 5.10 syscall numbers; identical on x86_64 and aarch64 (asm-generic). */
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif

/* Task flag from include/linux/sched.h: the task is a kernel thread (field 9 of /proc/PID/stat). */
#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000U
#endif

/* Default location of the KSM sysfs directory and of procfs. */
#define KSM_SYSFS_DIR_DEFAULT "/sys/kernel/mm/ksm"
#define PROC_DIR_DEFAULT "/proc"
