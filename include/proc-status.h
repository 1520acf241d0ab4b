/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc-status.h - the parts of /proc/PID/status and /proc/PID/task/TID/syscall that decide whether
 * and how another process may be touched, and the choice of the thread to inject into.
 * Pure parsers + *_read_at() relative to a /proc fd.  Non-logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcStatus {
        char state;             /* first letter of "State:" (R, S, D, Z, T, t, X, I) */
        pid_t tgid, pid, ppid;
        pid_t tracer_pid;       /* TracerPid: 0 when nobody ptraces it */
        int seccomp;            /* Seccomp: 0 off, 1 strict, 2 filter; -1 if the kernel has no field */
        unsigned threads;       /* Threads: */
        uid_t uid;              /* Uid: first field (real uid); (uid_t) -1 if absent */
        uint64_t rss_anon_bytes;        /* RssAnon: (absent for kernel threads: 0) */
} ProcStatus;

/* -EBADMSG if State/Tgid/Pid/PPid/TracerPid are missing or malformed. */
int proc_status_parse(const char *buf, ProcStatus *ret);
/* Reads "PID/status" (or "PID/task/TID/status" when @tid > 0).  -ESRCH if gone. */
int proc_status_read_at(int proc_fd, pid_t pid, pid_t tid, ProcStatus *ret);

/* What /proc/PID/task/TID/syscall says a thread is doing. */
typedef struct TaskSyscall {
        bool running;           /* "running": on a CPU, not in a syscall */
        long nr;                /* syscall number, or -1 when blocked outside a syscall */
} TaskSyscall;

/*
 * Parses "running", "-1 0x7ffc… 0x…" (blocked, not in a syscall) or "232 0x3 0x… … 0x7ffc… 0x…"
 * (in syscall 232).  -EBADMSG otherwise.
 */
int task_syscall_parse(const char *buf, TaskSyscall *ret);
int task_syscall_read_at(int proc_fd, pid_t pid, pid_t tid, TaskSyscall *ret);

/*
 * 1 if syscall @nr (of this architecture) is never restarted after a signal or a ptrace stop, so
 * an interrupted thread sees EINTR once: epoll_wait, epoll_pwait, epoll_pwait2, io_getevents,
 * io_pgetevents, rt_sigtimedwait (sigtimedwait/sigwaitinfo), semop, semtimedop (signal(7),
 * "Interruption of system calls and library functions by stop signals"); 0 otherwise.
 */
bool syscall_never_restarted(long nr);
/* Name of a syscall we care about ("epoll_wait"), or NULL. */
const char *syscall_name(long nr);

typedef struct ThreadInfo {
        pid_t tid;
        char state;
        TaskSyscall sc;
        bool sc_known;          /* reading task/TID/syscall worked (needs ptrace access) */
} ThreadInfo;

typedef enum ThreadChoice {
        THREAD_CHOICE_CLEAN,            /* a thread that will not notice (restartable or no syscall) */
        THREAD_CHOICE_EINTR,            /* every usable thread is in a never-restarted syscall */
        THREAD_CHOICE_NONE,             /* every thread is in uninterruptible sleep, dead or stopped */
} ThreadChoice;

/*
 * Picks the thread to stop.  Order: a running thread or one blocked outside a syscall, then one in
 * a restartable syscall, preferring the main thread (tid == tgid) among equals; threads in D, Z, X,
 * T or t state are never chosen.  If only threads in never-restarted syscalls remain, picks one of
 * them and says so.  *ret_index is the index into @threads.
 */
ThreadChoice thread_choose(const ThreadInfo *threads, size_t n, pid_t tgid, size_t *ret_index);
