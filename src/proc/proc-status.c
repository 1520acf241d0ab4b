/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc-status.c - /proc/PID/status fields, task syscall state and thread choice.
 *
 * /proc/PID/status excerpt:
 *   State:  S (sleeping)
 *   Tgid:   4891
 *   Pid:    4891
 *   PPid:   1
 *   TracerPid:      0
 *   Threads:        1
 *   Seccomp:        0
 * /proc/PID/task/TID/syscall: "running", or "-1 <sp> <pc>", or "<nr> <6 args> <sp> <pc>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "proc-status.h"

static int parse_pid_value(const char *v, pid_t *ret) {
        int64_t x;

        if (safe_atoi64(v, &x) < 0 || x < 0 || x > INT32_MAX)
                return -EBADMSG;
        *ret = (pid_t) x;
        return 0;
}

int proc_status_parse(const char *buf, ProcStatus *ret) {
        _cleanup_free_ char *copy = NULL;
        ProcStatus st = { .seccomp = -1, .uid = (uid_t) -1 };
        unsigned seen = 0;
        char *saveptr = NULL;

        if (!buf || !ret)
                return -EINVAL;
        copy = strdup(buf);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                char *colon = strchr(line, ':'), *v;
                int r = 0;

                if (!colon)
                        continue;
                *colon = 0;
                v = strstrip(colon + 1);

                if (streq(line, "State")) {
                        if (!v[0] || (v[1] && v[1] != ' '))
                                return -EBADMSG;
                        st.state = v[0];
                        seen |= 1;
                } else if (streq(line, "Tgid")) {
                        r = parse_pid_value(v, &st.tgid);
                        seen |= 2;
                } else if (streq(line, "Pid")) {
                        r = parse_pid_value(v, &st.pid);
                        seen |= 4;
                } else if (streq(line, "PPid")) {
                        r = parse_pid_value(v, &st.ppid);
                        seen |= 8;
                } else if (streq(line, "TracerPid")) {
                        r = parse_pid_value(v, &st.tracer_pid);
                        seen |= 16;
                } else if (streq(line, "Seccomp")) {
                        uint32_t s;

                        if (safe_atou32(v, &s) < 0 || s > 2)
                                return -EBADMSG;
                        st.seccomp = (int) s;
                } else if (streq(line, "Threads")) {
                        if (safe_atou32(v, &st.threads) < 0)
                                return -EBADMSG;
                } else if (streq(line, "Uid")) {
                        /* "Uid:\t1000\t1000\t1000\t1000": real, effective, saved, fs */
                        char first[16];
                        size_t n = strcspn(v, " \t");
                        uint32_t u;

                        if (n == 0 || n >= sizeof(first))
                                return -EBADMSG;
                        memcpy(first, v, n);
                        first[n] = 0;
                        if (safe_atou32(first, &u) < 0)
                                return -EBADMSG;
                        st.uid = (uid_t) u;
                } else if (streq(line, "RssAnon")) {
                        /* "RssAnon:\t    9504 kB" */
                        char num[24];
                        size_t n = strcspn(v, " \t");
                        uint64_t kb;

                        if (n == 0 || n >= sizeof(num) || !streq(strstrip(v + n), "kB"))
                                return -EBADMSG;
                        memcpy(num, v, n);
                        num[n] = 0;
                        if (safe_atou64(num, &kb) < 0 || kb > UINT64_MAX / 1024)
                                return -EBADMSG;
                        st.rss_anon_bytes = kb * 1024;
                }
                if (r < 0)
                        return r;
        }
        if (seen != 31)
                return -EBADMSG;
        *ret = st;
        return 0;
}

int proc_status_read_at(int proc_fd, pid_t pid, pid_t tid, ProcStatus *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        int r;

        if (tid > 0)
                snprintf(path, sizeof(path), "%d/task/%d/status", (int) pid, (int) tid);
        else
                snprintf(path, sizeof(path), "%d/status", (int) pid);
        r = read_virtual_file_at(proc_fd, path, 64 * 1024, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return proc_status_parse(buf, ret);
}

int task_syscall_parse(const char *buf, TaskSyscall *ret) {
        char first[32];
        unsigned fields = 0;
        size_t n;
        int64_t nr;

        if (!buf || !ret)
                return -EINVAL;
        n = strcspn(buf, " \n");
        if (n == 0 || n >= sizeof(first))
                return -EBADMSG;
        memcpy(first, buf, n);
        first[n] = 0;
        if (streq(first, "running")) {
                *ret = (TaskSyscall) { .running = true, .nr = -1 };
                return 0;
        }
        if (safe_atoi64(first, &nr) < 0 || nr < -1 || nr > 100000)
                return -EBADMSG;
        if (buf[n] != ' ')
                return -EBADMSG;        /* a number must be followed by at least sp and pc */
        /* the kernel prints sp and pc after -1, six arguments, sp and pc after a syscall number */
        for (const char *p = buf + n; *p && *p != '\n'; fields++) {
                p += strspn(p, " ");
                if (!*p || *p == '\n')
                        break;
                p += strcspn(p, " \n");
        }
        if (fields < (nr < 0 ? 2u : 8u))
                return -EBADMSG;
        *ret = (TaskSyscall) { .running = false, .nr = (long) nr };
        return 0;
}

int task_syscall_read_at(int proc_fd, pid_t pid, pid_t tid, TaskSyscall *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "%d/task/%d/syscall", (int) pid, (int) tid);
        r = read_virtual_file_at(proc_fd, path, 4096, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return task_syscall_parse(buf, ret);
}

static const struct {
        long nr;
        const char *name;
} never_restarted[] = {
#ifdef __NR_epoll_wait
        { __NR_epoll_wait, "epoll_wait" },
#endif
#ifdef __NR_epoll_pwait
        { __NR_epoll_pwait, "epoll_pwait" },
#endif
#ifdef __NR_epoll_pwait2
        { __NR_epoll_pwait2, "epoll_pwait2" },
#else
        { 441, "epoll_pwait2" },        /* asm-generic and x86_64 agree */
#endif
#ifdef __NR_io_getevents
        { __NR_io_getevents, "io_getevents" },
#endif
#ifdef __NR_io_pgetevents
        { __NR_io_pgetevents, "io_pgetevents" },
#endif
#ifdef __NR_rt_sigtimedwait
        { __NR_rt_sigtimedwait, "rt_sigtimedwait" },
#endif
#ifdef __NR_semtimedop
        { __NR_semtimedop, "semtimedop" },
#endif
#ifdef __NR_semop
        { __NR_semop, "semop" },
#endif
};

bool syscall_never_restarted(long nr) {
        return syscall_name(nr) != NULL;
}

const char *syscall_name(long nr) {
        for (size_t i = 0; i < ELEMENTSOF(never_restarted); i++)
                if (never_restarted[i].nr == nr)
                        return never_restarted[i].name;
        return NULL;
}

static int thread_rank(const ThreadInfo *t) {
        if (IN_SET(t->state, 'D', 'Z', 'X', 'T', 't'))
                return -1;
        if (!t->sc_known)
                return 2;               /* unknown: better than known-EINTR, worse than known-clean */
        if (t->sc.running || t->sc.nr < 0)
                return 0;
        if (syscall_never_restarted(t->sc.nr))
                return 3;
        return 1;
}

ThreadChoice thread_choose(const ThreadInfo *threads, size_t n, pid_t tgid, size_t *ret_index) {
        int best_rank = -1;
        size_t best = 0;

        for (size_t i = 0; i < n; i++) {
                int rank = thread_rank(&threads[i]);

                if (rank < 0)
                        continue;
                if (best_rank < 0 || rank < best_rank ||
                    (rank == best_rank && threads[i].tid == tgid && threads[best].tid != tgid)) {
                        best_rank = rank;
                        best = i;
                }
        }
        if (best_rank < 0)
                return THREAD_CHOICE_NONE;
        *ret_index = best;
        return best_rank == 3 ? THREAD_CHOICE_EINTR : THREAD_CHOICE_CLEAN;
}
