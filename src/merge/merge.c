/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge.c - the merge engine: safety checks, backend choice, verification.
 *
 * Order of checks (cheapest and most decisive first): identity, kernel thread / zombie / stopped,
 * caller or its parent, tracer, seccomp, current state (already as requested?), then the backend.
 * Afterwards /proc/PID/ksm_stat must show the new state, or the result is VERIFY_FAILED.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capability-util.h"
#include "fileio.h"
#include "inject-arch.h"
#include "ksm-stat.h"
#include "merge-internal.h"
#include "missing.h"
#include "parse-util.h"
#include "proc-stat.h"
#include "proc-status.h"

#define MAX_THREADS_CONSIDERED 4096

struct MergeEngine {
        int proc_fd;
        MergeProbe probe;
        pid_t *abandoned;               /* seized threads that did not stop in time */
        size_t n_abandoned, allocated_abandoned;
};

static const char *const backend_names[_MERGE_BACKEND_MAX] = {
        [MERGE_BACKEND_AUTO] = "auto",
        [MERGE_BACKEND_INJECT] = "inject",
        [MERGE_BACKEND_MADVISE] = "madvise",
};

static const char *const outcome_names[_MERGE_OUTCOME_MAX] = {
        [MERGE_OUTCOME_DONE] = "done",
        [MERGE_OUTCOME_ALREADY] = "already",
        [MERGE_OUTCOME_SKIPPED] = "skipped",
        [MERGE_OUTCOME_FAILED] = "failed",
};

static const char *const reason_names[_MERGE_REASON_MAX] = {
        [MERGE_REASON_NONE] = "none",
        [MERGE_REASON_GONE] = "gone",
        [MERGE_REASON_KTHREAD] = "kernel-thread",
        [MERGE_REASON_ZOMBIE] = "zombie",
        [MERGE_REASON_STOPPED] = "stopped",
        [MERGE_REASON_SELF] = "self",
        [MERGE_REASON_TRACED] = "traced",
        [MERGE_REASON_SECCOMP] = "seccomp",
        [MERGE_REASON_UNINTERRUPTIBLE] = "uninterruptible",
        [MERGE_REASON_NO_PERMISSION] = "no-permission",
        [MERGE_REASON_PTRACE_FORBIDDEN] = "ptrace-forbidden",
        [MERGE_REASON_NO_BACKEND] = "no-backend",
        [MERGE_REASON_KERNEL_REFUSED] = "kernel-refused",
        [MERGE_REASON_NO_SYSCALL_INSN] = "no-syscall-instruction",
        [MERGE_REASON_VERIFY_FAILED] = "verify-failed",
        [MERGE_REASON_PTRACE_ERROR] = "ptrace-error",
        [MERGE_REASON_CALL_TIMEOUT] = "call-timeout",
};

const char *merge_backend_to_string(MergeBackend b) {
        return b >= 0 && b < _MERGE_BACKEND_MAX ? backend_names[b] : NULL;
}

MergeBackend merge_backend_from_string(const char *s) {
        for (MergeBackend b = 0; s && b < _MERGE_BACKEND_MAX; b++)
                if (streq(s, backend_names[b]))
                        return b;
        return _MERGE_BACKEND_INVALID;
}

const char *merge_outcome_to_string(MergeOutcome o) {
        return o >= 0 && o < _MERGE_OUTCOME_MAX ? outcome_names[o] : NULL;
}

const char *merge_reason_to_string(MergeReason r) {
        return r >= 0 && r < _MERGE_REASON_MAX ? reason_names[r] : NULL;
}

int merge_result_set(MergeResult *res, MergeOutcome o, MergeReason reason, int error, const char *format, ...) {
        va_list ap;

        res->outcome = o;
        res->reason = reason;
        res->error = error;
        va_start(ap, format);
        vsnprintf(res->detail, sizeof(res->detail), format, ap);
        va_end(ap);
        switch (o) {
        case MERGE_OUTCOME_DONE:
        case MERGE_OUTCOME_ALREADY:
                return 0;
        case MERGE_OUTCOME_SKIPPED:
                return 1;
        default:
                if (error >= 0)
                        res->error = error = -EIO;      /* a failure always carries an errno */
                return error;
        }
}

int merge_prctl_supported(void) {
        /* PR_GET_MEMORY_MERGE returns 0/1 on 6.4+, EINVAL before. */
        return prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) >= 0;
}

int merge_exec_prepare(void) {
        if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int merge_engine_new(int proc_fd, MergeEngine **ret) {
        _cleanup_(merge_engine_freep) MergeEngine *e = NULL;
        _cleanup_free_ char *scope = NULL;
        MergeProbe *p;
        int r;

        e = new0(MergeEngine, 1);
        if (!e)
                return -ENOMEM;
        e->proc_fd = fcntl(proc_fd, F_DUPFD_CLOEXEC, 3);
        if (e->proc_fd < 0)
                return -errno;
        p = &e->probe;

        p->prctl_supported = merge_prctl_supported() > 0;

        /* inject */
        if (!inject_arch_name())
                snprintf(p->why[MERGE_BACKEND_INJECT], sizeof(p->why[0]), "no injection port for this architecture");
        else if (!p->prctl_supported)
                snprintf(p->why[MERGE_BACKEND_INJECT], sizeof(p->why[0]), "kernel lacks PR_SET_MEMORY_MERGE (Linux 6.4+)");
        else if (read_virtual_file_at(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", 64, &scope, NULL) >= 0 &&
                 streq(strstrip(scope), "3"))
                snprintf(p->why[MERGE_BACKEND_INJECT], sizeof(p->why[0]), "ptrace disabled (Yama ptrace_scope=3)");
        else {
                p->available[MERGE_BACKEND_INJECT] = true;
                r = capability_have(CAP_SYS_PTRACE);
                snprintf(p->why[MERGE_BACKEND_INJECT], sizeof(p->why[0]), "%s, %s", inject_arch_name(),
                         r > 0 ? "CAP_SYS_PTRACE: any process" : "no CAP_SYS_PTRACE: own processes only");
        }

        /* madvise */
        r = madvise_probe(p->why[MERGE_BACKEND_MADVISE], sizeof(p->why[0]));
        p->available[MERGE_BACKEND_MADVISE] = r > 0;
        if (r < 0)
                snprintf(p->why[MERGE_BACKEND_MADVISE], sizeof(p->why[0]), "probe failed: %s", strerror(-r));

        p->available[MERGE_BACKEND_AUTO] = p->available[MERGE_BACKEND_INJECT] || p->available[MERGE_BACKEND_MADVISE];
        snprintf(p->why[MERGE_BACKEND_AUTO], sizeof(p->why[0]), "%s",
                 p->available[MERGE_BACKEND_INJECT] ? "inject" :
                 p->available[MERGE_BACKEND_MADVISE] ? "madvise" : "none available");

        *ret = TAKE_PTR(e);
        return 0;
}

MergeEngine *merge_engine_free(MergeEngine *e) {
        if (!e)
                return NULL;
        free(e->abandoned);
        safe_close(e->proc_fd);
        free(e);
        return NULL;
}

const MergeProbe *merge_engine_probe(const MergeEngine *e) {
        return &e->probe;
}

int merge_engine_reap(MergeEngine *e) {
        size_t w = 0;

        for (size_t i = 0; i < e->n_abandoned; i++)
                if (inject_try_release(e->abandoned[i]) == 0)
                        e->abandoned[w++] = e->abandoned[i];
        e->n_abandoned = w;
        return (int) w;
}

static void remember_abandoned(MergeEngine *e, pid_t tid) {
        if (e->n_abandoned == e->allocated_abandoned) {
                size_t na = e->allocated_abandoned ? e->allocated_abandoned * 2 : 8;
                pid_t *p = realloc(e->abandoned, na * sizeof(pid_t));

                if (!p)
                        return;         /* the kernel still detaches it when we exit */
                e->abandoned = p;
                e->allocated_abandoned = na;
        }
        e->abandoned[e->n_abandoned++] = tid;
}

/* Lists the threads of @pid with state and syscall.  Returns the count (>= 0) or -errno. */
static int list_threads(int proc_fd, pid_t pid, ThreadInfo **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ ThreadInfo *t = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        char path[48];
        DIR *d;

        snprintf(path, sizeof(path), "%d/task", (int) pid);
        fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);

        while ((de = readdir(d)) && n < MAX_THREADS_CONSIDERED) {
                ProcStatus st;
                int64_t tid;

                if (safe_atoi64(de->d_name, &tid) < 0 || tid <= 0)
                        continue;
                if (proc_status_read_at(proc_fd, pid, (pid_t) tid, &st) < 0)
                        continue;       /* thread exited */
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 16;
                        ThreadInfo *p = realloc(t, na * sizeof(ThreadInfo));

                        if (!p) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        t = p;
                        allocated = na;
                }
                t[n] = (ThreadInfo) { .tid = (pid_t) tid, .state = st.state };
                t[n].sc_known = task_syscall_read_at(proc_fd, pid, (pid_t) tid, &t[n].sc) >= 0;
                n++;
        }
        closedir(d);
        *ret = TAKE_PTR(t);
        return (int) n;
}

static int check_target(MergeEngine *e, const PidRef *ref, bool enable, const MergeOptions *o,
                        MergeResult *res, KsmStat *ret_stat) {
        ProcStat ps;
        ProcStatus st;
        char comm[PROC_COMM_MAX] = "?";
        int r;

        r = pidref_verify(e->proc_fd, ref);
        if (r <= 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r < 0 ? r : -ESRCH,
                                        "exited (or PID %d now names another process)", (int) ref->pid);
        r = proc_stat_read_at(e->proc_fd, ref->pid, &ps);
        if (r < 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r, "exited");
        if (proc_stat_is_kthread(&ps))
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_KTHREAD, 0, "kernel thread (no user memory)");
        if (IN_SET(ps.state, 'Z', 'X'))
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_ZOMBIE, 0, "zombie or exiting");
        if (ref->pid == getpid() || ref->pid == getppid())
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_SELF, 0,
                                        ref->pid == getpid() ? "this is the caller itself" : "this is the caller's parent");

        r = proc_status_read_at(e->proc_fd, ref->pid, 0, &st);
        if (r < 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r, "exited");
        if (st.tracer_pid != 0) {
                (void) proc_comm_read_at(e->proc_fd, st.tracer_pid, comm, sizeof(comm));
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_TRACED, 0,
                                        "being traced by PID %d (%s)", (int) st.tracer_pid, comm);
        }
        if (st.state == 'T')
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_STOPPED, 0,
                                        "stopped (job control); it would not notice, but resuming it is not ours to do");
        if (st.seccomp == 1)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_SECCOMP, 0,
                                        "in seccomp strict mode: any prctl would kill it (never allowed)");
        if (st.seccomp == 2 && !o->allow_seccomp)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_SECCOMP, 0,
                                        "has a seccomp filter (a filter that kills on prctl would kill it); "
                                        "allow explicitly to proceed");

        r = ksm_stat_read_at(e->proc_fd, ref->pid, ret_stat);
        if (IN_SET(r, -EACCES, -EPERM))
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_NO_PERMISSION, r,
                                        "cannot read /proc/%d/ksm_stat: needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH "
                                        "(run as root) or the same user",
                                        (int) ref->pid);
        if (r < 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r, "exited");
        if (ret_stat->fields == 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_ZOMBIE, 0, "has no memory (exiting)");
        return 0;
}

static int apply_inject(MergeEngine *e, const PidRef *ref, bool enable, const MergeOptions *o, MergeResult *res) {
        _cleanup_free_ ThreadInfo *threads = NULL;
        uint64_t args[6] = { PR_SET_MEMORY_MERGE, enable ? 1 : 0, 0, 0, 0, 0 };
        bool abandoned = false;
        ThreadChoice choice;
        size_t idx = 0;
        long rv = 0;
        int n, r;

        n = list_threads(e->proc_fd, ref->pid, &threads);
        if (n < 0)
                return merge_result_set(res, n == -ESRCH ? MERGE_OUTCOME_SKIPPED : MERGE_OUTCOME_FAILED,
                                        n == -ESRCH ? MERGE_REASON_GONE : MERGE_REASON_PTRACE_ERROR, n,
                                        "cannot list threads: %s", strerror(-n));
        choice = thread_choose(threads, (size_t) n, ref->pid, &idx);
        if (choice == THREAD_CHOICE_NONE)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_UNINTERRUPTIBLE, 0,
                                        "no thread can be stopped now (all in uninterruptible sleep, stopped or exiting)");

        r = inject_syscall(e->proc_fd, ref, threads[idx].tid, inject_arch_nr_prctl(), args, o, res, &rv, &abandoned);
        if (abandoned)
                remember_abandoned(e, threads[idx].tid);
        if (r != 0)
                return r;
        if (rv < 0)
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_KERNEL_REFUSED, (int) rv,
                                        "prctl(PR_SET_MEMORY_MERGE, %d) in the target failed: %s", enable ? 1 : 0,
                                        strerror((int) -rv));
        return 0;
}

int merge_result_unopenable(int proc_fd, pid_t pid, int error, MergeResult *ret) {
        ProcStat ps;

        *ret = (MergeResult) { .pid = pid };
        if (error == -ESRCH && proc_stat_read_at(proc_fd, pid, &ps) >= 0 && IN_SET(ps.state, 'Z', 'X'))
                return merge_result_set(ret, MERGE_OUTCOME_SKIPPED, MERGE_REASON_ZOMBIE, 0,
                                        "zombie (exited, not yet reaped by its parent)");
        if (error == -ESRCH)
                return merge_result_set(ret, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, error, "no such process");
        return merge_result_set(ret, MERGE_OUTCOME_FAILED, IN_SET(error, -EPERM, -EACCES) ? MERGE_REASON_NO_PERMISSION
                                                                                           : MERGE_REASON_PTRACE_ERROR,
                                error, "cannot open a pidfd: %s", strerror(-error));
}

int merge_engine_apply(MergeEngine *e, const PidRef *ref, bool enable, const MergeOptions *opts, MergeResult *res) {
        static const MergeOptions defaults = { .backend = MERGE_BACKEND_AUTO };
        const MergeOptions *o = opts ?: &defaults;
        MergeBackend b = o->backend;
        KsmStat before = {}, after = {};
        bool want_any;
        int r;

        *res = (MergeResult) { .pid = ref->pid, .backend = MERGE_BACKEND_AUTO };

        r = check_target(e, ref, enable, o, res, &before);
        if (r != 0)
                return r;

        if (b == MERGE_BACKEND_AUTO)
                b = e->probe.available[MERGE_BACKEND_INJECT] ? MERGE_BACKEND_INJECT :
                    e->probe.available[MERGE_BACKEND_MADVISE] ? MERGE_BACKEND_MADVISE : MERGE_BACKEND_AUTO;
        if (b == MERGE_BACKEND_AUTO || !e->probe.available[b])
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_NO_BACKEND, -EOPNOTSUPP,
                                        "no usable backend: inject: %s; madvise: %s",
                                        e->probe.why[MERGE_BACKEND_INJECT], e->probe.why[MERGE_BACKEND_MADVISE]);
        res->backend = b;

        /* inject toggles the whole-process flag (merge_any); madvise marks the VMAs (mergeable). */
        want_any = b == MERGE_BACKEND_INJECT;
        if (want_any && (before.fields & KSM_STAT_MERGE_ANY) && before.merge_any == enable)
                return merge_result_set(res, MERGE_OUTCOME_ALREADY, MERGE_REASON_NONE, 0,
                                        enable ? "already enabled" : "already disabled");
        if (!want_any && (before.fields & KSM_STAT_MERGEABLE) && before.mergeable == enable && !before.merge_any)
                return merge_result_set(res, MERGE_OUTCOME_ALREADY, MERGE_REASON_NONE, 0,
                                        enable ? "already mergeable" : "already unmergeable");

        r = b == MERGE_BACKEND_INJECT ? apply_inject(e, ref, enable, o, res) : madvise_apply(e->proc_fd, ref, enable, res);
        if (r != 0)
                return r;

        /* Verify.  An exited process (zombie: empty ksm_stat, or no PidRef liveness) is "gone",
         * whatever the injected call returned: it no longer has memory to merge. */
        r = ksm_stat_read_at(e->proc_fd, ref->pid, &after);
        if (r < 0 || after.fields == 0 || pidref_verify(e->proc_fd, ref) <= 0)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r < 0 ? r : -ESRCH,
                                        "exited during the change");
        unsigned field = want_any ? KSM_STAT_MERGE_ANY : KSM_STAT_MERGEABLE;
        if (!(after.fields & field))
                return merge_result_set(res, MERGE_OUTCOME_DONE, MERGE_REASON_NONE, 0,
                                        "done (not verified: this kernel's ksm_stat lacks %s)",
                                        want_any ? "ksm_merge_any" : "ksm_mergeable");
        if ((want_any ? after.merge_any : after.mergeable) != enable)
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_VERIFY_FAILED, -EIO,
                                        "ksm_stat still shows %s: %s after the change",
                                        want_any ? "ksm_merge_any" : "ksm_mergeable", enable ? "no" : "yes");

        return merge_result_set(res, MERGE_OUTCOME_DONE, MERGE_REASON_NONE, 0, "%s",
                                res->eintr ? "done; the stopped thread was in a never-restarted syscall and sees one EINTR"
                                           : "done");
}
