/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge-madvise.c - process_madvise(pidfd, iov, MADV_[UN]MERGEABLE) over a process's anonymous
 * private mappings.
 *
 * Mainline (6.18) only accepts MADV_COLD/PAGEOUT/WILLNEED/COLLAPSE from another process
 * (mm/madvise.c: process_madvise_remote_valid()), so the probe, which asks a throw-away child,
 * normally reports EINVAL and this backend stays unused.  It is kept for kernels that allow it.
 * Unlike PR_SET_MEMORY_MERGE it only covers mappings that exist now.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "ksm-stat.h"
#include "merge-internal.h"
#include "missing.h"
#include "sys.h"

int madvise_probe(char *why, size_t why_size) {
        int pipefd[2], pidfd, r;
        void *addr = NULL;
        pid_t child;
        struct iovec iov;
        long n;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (child == 0) {
                void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p != MAP_FAILED)
                        *(volatile char *) p = 1;
                if (write(pipefd[1], &p, sizeof(p)) != sizeof(p))
                        _exit(1);
                for (;;)
                        pause();
        }
        close(pipefd[1]);
        n = read(pipefd[0], &addr, sizeof(addr));
        close(pipefd[0]);

        pidfd = sys_pidfd_open(child, 0);
        if (n != sizeof(addr) || addr == MAP_FAILED || pidfd < 0) {
                r = pidfd < 0 ? -errno : -EIO;
                snprintf(why, why_size, "probe child failed: %s", strerror(-r));
        } else {
                iov = (struct iovec) { .iov_base = addr, .iov_len = 4096 };
                n = sys_process_madvise(pidfd, &iov, 1, MADV_MERGEABLE, 0);
                if (n >= 0) {
                        r = 1;
                        snprintf(why, why_size, "kernel accepts MADV_MERGEABLE from another process");
                } else {
                        r = 0;
                        if (errno == ENOSYS)
                                snprintf(why, why_size, "no process_madvise() (Linux 5.10+)");
                        else
                                snprintf(why, why_size, "kernel rejects MADV_MERGEABLE from another process (%s)",
                                         strerror(errno));
                }
        }
        if (pidfd >= 0)
                close(pidfd);
        kill(child, SIGKILL);
        (void) waitpid(child, NULL, 0);
        return r;
}

int madvise_apply(int proc_fd, const PidRef *ref, bool enable, MergeResult *res) {
        _cleanup_free_ char *maps = NULL;
        _cleanup_free_ struct iovec *iov = NULL;
        size_t n = 0, allocated = 0;
        char path[64], *saveptr = NULL;
        int r;

        snprintf(path, sizeof(path), "%d/maps", (int) ref->pid);
        r = read_virtual_file_at(proc_fd, path, READ_VIRTUAL_MAX, &maps, NULL);
        if (r < 0)
                return merge_result_set(res, r == -ENOENT ? MERGE_OUTCOME_SKIPPED : MERGE_OUTCOME_FAILED,
                                        r == -ENOENT ? MERGE_REASON_GONE : MERGE_REASON_NO_PERMISSION, r,
                                        "cannot read /proc/%d/maps: %s", (int) ref->pid, strerror(-r));

        /* "7f…000-7f…000 rw-p 00000000 00:00 0   [heap]": private, writable, anonymous (no inode). */
        for (char *line = strtok_r(maps, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                unsigned long long start, end, inode;
                char perms[8], dev[16];
                int off = 0;

                if (sscanf(line, "%llx-%llx %7s %*x %15s %llu %n", &start, &end, perms, dev, &inode, &off) < 5)
                        continue;
                if (perms[1] != 'w' || perms[3] != 'p' || inode != 0)
                        continue;
                if (off > 0 && line[off] == '[' && !strneq(line + off, "[heap]", 6) && !strneq(line + off, "[stack", 6))
                        continue;       /* [vdso], [vvar]… */
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 64;
                        struct iovec *p = realloc(iov, na * sizeof(*iov));

                        if (!p)
                                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, -ENOMEM, "out of memory");
                        iov = p;
                        allocated = na;
                }
                iov[n++] = (struct iovec) { .iov_base = (void *) (uintptr_t) start, .iov_len = end - start };
        }

        for (size_t i = 0; i < n; i += IOV_MAX) {
                size_t chunk = MIN(n - i, (size_t) IOV_MAX);

                if (sys_process_madvise(ref->pidfd, iov + i, chunk, enable ? MADV_MERGEABLE : MADV_UNMERGEABLE, 0) < 0) {
                        r = -errno;
                        return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_KERNEL_REFUSED, r,
                                                "process_madvise(%s) failed: %s",
                                                enable ? "MADV_MERGEABLE" : "MADV_UNMERGEABLE", strerror(-r));
                }
        }
        return 0;
}
