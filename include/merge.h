/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge.h - the merge engine: make a running process mergeable (or not) now.
 *
 * Backends, probed once per engine:
 *   inject   ptrace syscall injection of prctl(PR_SET_MEMORY_MERGE, 1|0) (x86_64)
 *   madvise  process_madvise(pidfd, anon VMAs, MADV_[UN]MERGEABLE), only where the kernel accepts
 *            it from another process (it does not on 6.18: EINVAL)
 * (The third, exec-time, path is merge_exec_prepare(): prctl on ourselves before execve.)
 *
 * Safety rules (see DESIGN.md §4): act only on a PidRef whose start time matches; skip kernel
 * threads, zombies, exiting and stopped processes, the caller and its parent, traced processes
 * and seccomp-filtered ones (unless allowed); bound every wait; restore registers and signal mask
 * and detach on every path; verify through /proc/PID/ksm_stat afterwards.
 *
 * The engine never prints or logs: every outcome is a MergeResult with a reason code and text.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "pidref.h"
#include "time-util.h"

typedef enum MergeBackend {
        MERGE_BACKEND_AUTO,
        MERGE_BACKEND_INJECT,
        MERGE_BACKEND_MADVISE,
        _MERGE_BACKEND_MAX,
        _MERGE_BACKEND_INVALID = -EINVAL,
} MergeBackend;

const char *merge_backend_to_string(MergeBackend b);
MergeBackend merge_backend_from_string(const char *s);

typedef enum MergeOutcome {
        MERGE_OUTCOME_DONE,             /* changed, and verified */
        MERGE_OUTCOME_ALREADY,          /* was already in the requested state */
        MERGE_OUTCOME_SKIPPED,          /* deliberately not touched (reason says why) */
        MERGE_OUTCOME_FAILED,           /* tried and failed (reason + error say why) */
        _MERGE_OUTCOME_MAX,
} MergeOutcome;

const char *merge_outcome_to_string(MergeOutcome o);

typedef enum MergeReason {
        MERGE_REASON_NONE,
        MERGE_REASON_GONE,              /* exited, or the PID now names another process */
        MERGE_REASON_KTHREAD,
        MERGE_REASON_ZOMBIE,            /* zombie or exiting (no mm) */
        MERGE_REASON_STOPPED,           /* job-control stopped: resuming it would change behaviour */
        MERGE_REASON_SELF,              /* the caller itself or its parent */
        MERGE_REASON_TRACED,            /* TracerPid != 0 */
        MERGE_REASON_SECCOMP,           /* seccomp filter and not allowed */
        MERGE_REASON_UNINTERRUPTIBLE,   /* every thread in D state, or it did not stop in time */
        MERGE_REASON_NO_PERMISSION,     /* no CAP_SYS_PTRACE / not the owner */
        MERGE_REASON_PTRACE_FORBIDDEN,  /* Yama ptrace_scope = 3 */
        MERGE_REASON_NO_BACKEND,        /* none of the allowed backends works here */
        MERGE_REASON_KERNEL_REFUSED,    /* prctl/process_madvise returned an error in the target */
        MERGE_REASON_NO_SYSCALL_INSN,   /* no syscall instruction found to borrow */
        MERGE_REASON_VERIFY_FAILED,     /* ksm_stat does not show the new state */
        MERGE_REASON_PTRACE_ERROR,      /* an unexpected ptrace failure (error has the errno) */
        MERGE_REASON_CALL_TIMEOUT,      /* the injected call ran too long and was interrupted, nothing
                                         * changed (unmerging very large sparse mappings, e.g. ASan) */
        _MERGE_REASON_MAX,
} MergeReason;

const char *merge_reason_to_string(MergeReason r);     /* stable identifier: "traced", "seccomp" … */

typedef struct MergeOptions {
        MergeBackend backend;           /* AUTO picks the best available */
        bool allow_seccomp;             /* inject into seccomp-filtered processes too */
        usec_t stop_timeout_usec;       /* how long a thread may take to stop (default 100 ms) */
        usec_t call_timeout_usec;       /* how long the injected prctl may run (default 10 s); then it
                                         * is interrupted, which the kernel undoes cleanly */
        usec_t hold_stopped_usec;       /* test seam: keep the target stopped this long (0) */
} MergeOptions;

#define MERGE_STOP_TIMEOUT_DEFAULT (100 * USEC_PER_MSEC)
#define MERGE_CALL_TIMEOUT_DEFAULT (10 * USEC_PER_SEC)

typedef struct MergeResult {
        pid_t pid;
        MergeOutcome outcome;
        MergeReason reason;
        int error;                      /* negative errno where one applies, else 0 */
        MergeBackend backend;           /* the backend used (DONE/FAILED) */
        pid_t tid;                      /* the thread that was stopped (inject) */
        usec_t stopped_usec;            /* how long the target was stopped (inject) */
        bool eintr;                     /* the stopped thread was in a never-restarted syscall and
                                         * will see one EINTR */
        char detail[160];               /* human-readable reason / note */
} MergeResult;

typedef struct MergeProbe {
        bool available[_MERGE_BACKEND_MAX];
        char why[_MERGE_BACKEND_MAX][128];      /* why a backend is unavailable, or a short note */
        bool prctl_supported;           /* PR_SET_MEMORY_MERGE exists (Linux 6.4+): exec-time works */
} MergeProbe;

typedef struct MergeEngine MergeEngine;

/* Probes the backends once (forks one throw-away child for the madvise probe). */
int merge_engine_new(int proc_fd, MergeEngine **ret);
MergeEngine *merge_engine_free(MergeEngine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(MergeEngine *, merge_engine_free);

const MergeProbe *merge_engine_probe(const MergeEngine *e);

/*
 * Makes @ref's process mergeable (@enable) or not.  Never prints.  Returns 0 when the outcome is
 * DONE or ALREADY, 1 when SKIPPED, a negative errno when FAILED; *ret is always filled.
 * Disabling unmerges the process's KSM pages (the kernel breaks COW), which needs memory.
 */
int merge_engine_apply(MergeEngine *e, const PidRef *ref, bool enable, const MergeOptions *opts, MergeResult *ret);

/*
 * Fills *ret for a PID that could not be opened as a PidRef (pidref_open() gave @error): a zombie
 * (its pidfd already reports exit) is SKIPPED/zombie, a vanished PID SKIPPED/gone, anything else
 * FAILED.  Returns what merge_engine_apply() would.
 */
int merge_result_unopenable(int proc_fd, pid_t pid, int error, MergeResult *ret);

/*
 * Detaches from threads that did not stop in time earlier and have stopped since.  Returns the
 * number still pending.  The daemon calls this from a timer; a short-lived tool need not (the
 * kernel detaches a tracer's tracees when it exits).
 */
int merge_engine_reap(MergeEngine *e);

/* Exec-time path: enables merging for the caller (inherited over fork and execve). */
int merge_exec_prepare(void);

/* 1 if PR_SET_MEMORY_MERGE is supported by this kernel, 0 if not. */
int merge_prctl_supported(void);
