/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merge-inject.c - run one system call inside another thread by ptrace (the "compel" approach).
 *
 *   SEIZE; INTERRUPT; wait (bounded) for the stop; check identity; save regs and signal mask; block
 *   all signals; point the PC at a syscall instruction the target already has (the one it stopped
 *   after, or the first in its [vdso]); set number and arguments with restart disabled; single-step;
 *   read the result; restore regs and mask; detach, passing on any signal that arrived.
 *
 * Nothing is written to the target's memory or stack.  Every path after the stop restores what it
 * changed (one exit label).  Every wait is bounded, with one deliberate exception: once the thread
 * runs our call, we may only leave after it has stopped again (it holds our registers); if even
 * an interrupted call does not stop within a second we keep waiting rather than corrupt it.  Waits poll with a growing back-off up to a deadline, because a
 * library must not take over SIGCHLD.  Details and measurements: TESTING.md §4.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "inject-arch.h"
#include "merge-internal.h"
#include "proc-status.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* The kernel's sigset for PTRACE_GETSIGMASK/SETSIGMASK is 8 bytes on every 64-bit architecture;
 * sizeof(sigset_t) (128 in glibc) gives EINVAL. */
#define KERNEL_SIGSET_SIZE 8

static void sleep_usec(usec_t u) {
        struct timespec ts = { .tv_sec = (time_t) (u / USEC_PER_SEC), .tv_nsec = (long) (u % USEC_PER_SEC) * 1000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Waits for a state change of @tid for at most @timeout.  -ETIMEDOUT, or -errno. */
static int wait_tracee(pid_t tid, usec_t timeout, int *ret_status) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout, backoff = 5;

        for (;;) {
                pid_t r = waitpid(tid, ret_status, __WALL | WNOHANG);

                if (r == tid)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                sleep_usec(backoff);
                backoff = MIN(backoff * 2, 1000);
        }
}

static bool is_group_stop_signal(int sig) {
        return IN_SET(sig, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU);
}

/* Finds the first syscall instruction in the target's [vdso] by reading /proc/PID/mem. */
static int find_insn_in_vdso(int proc_fd, pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *maps = NULL, *buf = NULL;
        _cleanup_close_ int mem = -EBADF;
        unsigned long long start = 0, end = 0;
        const uint8_t *insn;
        size_t insn_len;
        char path[64];
        char *line;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "%d/maps", (int) pid);
        r = read_virtual_file_at(proc_fd, path, READ_VIRTUAL_MAX, &maps, NULL);
        if (r < 0)
                return r;
        line = strstr(maps, "[vdso]");
        if (!line)
                return -ENOENT;
        while (line > maps && line[-1] != '\n')
                line--;
        if (sscanf(line, "%llx-%llx", &start, &end) != 2 || end <= start || end - start > 1024 * 1024)
                return -EBADMSG;

        snprintf(path, sizeof(path), "%d/mem", (int) pid);
        mem = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (mem < 0)
                return -errno;
        buf = malloc(end - start);
        if (!buf)
                return -ENOMEM;
        n = pread(mem, buf, end - start, (off_t) start);
        if (n < 0)
                return -errno;

        insn = inject_arch_syscall_insn(&insn_len);
        for (size_t i = 0; i + insn_len <= (size_t) n; i++)
                if (memcmp(buf + i, insn, insn_len) == 0) {
                        *ret = start + i;
                        return 0;
                }
        return -ENOENT;
}

/* A syscall instruction: the one just before the PC when stopped after a syscall, else [vdso]. */
static int find_syscall_insn(int proc_fd, pid_t pid, pid_t tid, uint64_t pc, uint64_t *ret) {
        const uint8_t *insn;
        size_t insn_len;
        long word;

        insn = inject_arch_syscall_insn(&insn_len);
        if (pc >= insn_len) {
                errno = 0;
                word = ptrace(PTRACE_PEEKTEXT, tid, (void *) (uintptr_t) (pc - insn_len), NULL);
                if (errno == 0 && memcmp(&word, insn, insn_len) == 0) {
                        *ret = pc - insn_len;
                        return 0;
                }
        }
        return find_insn_in_vdso(proc_fd, pid, ret);
}

/* 1 if @tid has SIGTRAP pending (thread-private "SigPnd:" of /proc/PID/task/TID/status). */
static int sigtrap_pending(int proc_fd, pid_t pid, pid_t tid) {
        _cleanup_free_ char *buf = NULL;
        unsigned long long mask;
        char path[64], *p;
        int r;

        snprintf(path, sizeof(path), "%d/task/%d/status", (int) pid, (int) tid);
        r = read_virtual_file_at(proc_fd, path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        p = strstr(buf, "\nSigPnd:");
        if (!p || sscanf(p + 8, "%llx", &mask) != 1)
                return -EBADMSG;
        return !!(mask & (1ULL << (SIGTRAP - 1)));
}

/*
 * After an interrupted single-step over a syscall, the kernel has already queued the single-step
 * SIGTRAP (syscall exit work reports the step with force_sig_fault()), behind our interrupt stop.
 * Detaching now would deliver it to an untraced process and kill it (we saw exit 133).  Let
 * get_signal() dequeue it into a signal-delivery-stop, which we then suppress.  No user code runs
 * in between: the thread is still inside get_signal().  Other signals met on the way are kept in
 * *pending_sig for delivery at detach.
 */
static int drain_sigtrap(int proc_fd, pid_t pid, pid_t tid, int *pending_sig) {
        for (int i = 0; i < 4; i++) {
                int status, r;

                r = sigtrap_pending(proc_fd, pid, tid);
                if (r <= 0)
                        return r;
                if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
                        return -errno;
                r = wait_tracee(tid, USEC_PER_SEC, &status);
                if (r < 0)
                        return r;
                if (WIFEXITED(status) || WIFSIGNALED(status))
                        return -ESRCH;
                if ((status >> 16) == 0 && WSTOPSIG(status) == SIGTRAP)
                        return 0;       /* the step trap, consumed: we do not pass it on */
                if ((status >> 16) == 0 && !*pending_sig)
                        *pending_sig = WSTOPSIG(status);
        }
        return -EPROTO;
}

static bool is_restart_code(long rv) {
        /* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, (-515 unused), -ERESTART_RESTARTBLOCK */
        return rv <= -512 && rv >= -516;
}

int inject_try_release(pid_t tid) {
        int status;
        pid_t r;

        r = waitpid(tid, &status, __WALL | WNOHANG);
        if (r < 0)
                return 1;               /* not our tracee any more (gone) */
        if (r == 0)
                return 0;               /* still has not stopped */
        if (WIFEXITED(status) || WIFSIGNALED(status))
                return 1;
        /* A signal-delivery-stop's signal must be passed on; our interrupt's stop has none. */
        (void) ptrace(PTRACE_DETACH, tid, NULL,
                      (void *) (uintptr_t) ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0));
        return 1;
}

static int classify_seize_error(int err, pid_t pid, MergeResult *res) {
        if (err == ESRCH)
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, -err, "exited before it could be attached");
        if (err == EPERM) {
                _cleanup_free_ char *scope = NULL;

                if (read_virtual_file_at(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", 64, &scope, NULL) >= 0 &&
                    streq(strstrip(scope), "3"))
                        return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_FORBIDDEN, -err,
                                                "ptrace is disabled on this host (Yama ptrace_scope=3)");
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_NO_PERMISSION, -err,
                                        "not allowed to ptrace PID %d: needs CAP_SYS_PTRACE (run as root), or the same "
                                        "user with Yama ptrace_scope 0 (1 allows descendants only)", (int) pid);
        }
        return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, -err,
                                "PTRACE_SEIZE failed: %s", strerror(err));
}

int inject_syscall(int proc_fd, const PidRef *ref, pid_t tid, long nr, const uint64_t args[6],
                   const MergeOptions *opts, MergeResult *res, long *ret_rv, bool *ret_abandoned) {
        InjectRegs saved, call, after;
        uint64_t saved_mask = 0, all_blocked = UINT64_MAX, insn = 0;
        usec_t t_start, timeout = opts->stop_timeout_usec ?: MERGE_STOP_TIMEOUT_DEFAULT;
        usec_t call_timeout = opts->call_timeout_usec ?: MERGE_CALL_TIMEOUT_DEFAULT;
        bool regs_saved = false, mask_saved = false;
        int status, pending_sig = 0, rv_ret = 0, r;
        size_t insn_len;
        long saved_nr, saved_rax;

        *ret_abandoned = false;
        inject_arch_syscall_insn(&insn_len);

        if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0)
                return classify_seize_error(errno, ref->pid, res);

        t_start = now_usec(CLOCK_MONOTONIC);
        if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
                r = -errno;
                /* Not stopped, so we cannot detach; the kernel detaches when it exits or we do. */
                *ret_abandoned = r != -ESRCH;
                return merge_result_set(res, r == -ESRCH ? MERGE_OUTCOME_SKIPPED : MERGE_OUTCOME_FAILED,
                                        r == -ESRCH ? MERGE_REASON_GONE : MERGE_REASON_PTRACE_ERROR, r,
                                        "PTRACE_INTERRUPT failed: %s", strerror(-r));
        }

        r = wait_tracee(tid, timeout, &status);
        if (r == -ETIMEDOUT) {
                *ret_abandoned = true;
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_UNINTERRUPTIBLE, r,
                                        "thread %d did not stop within %" PRIu64 " ms (uninterruptible sleep?); "
                                        "released as soon as it stops", (int) tid, timeout / USEC_PER_MSEC);
        }
        if (r < 0)
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, r,
                                        "waiting for thread %d failed: %s", (int) tid, strerror(-r));
        if (WIFEXITED(status) || WIFSIGNALED(status))
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, -ESRCH,
                                        "exited while being stopped");
        if (!WIFSTOPPED(status))
                return merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, -EPROTO,
                                        "unexpected wait status 0x%x", (unsigned) status);

        if ((status >> 16) == PTRACE_EVENT_STOP && is_group_stop_signal(WSTOPSIG(status))) {
                /* Stopped by job control meanwhile: leave it stopped, untouched. */
                (void) ptrace(PTRACE_DETACH, tid, NULL, NULL);
                return merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_STOPPED, 0,
                                        "stopped by %s (job control); left as it was", strsignal(WSTOPSIG(status)));
        }
        if ((status >> 16) == 0)
                pending_sig = WSTOPSIG(status);     /* signal-delivery-stop: deliver it afterwards */

        /* Identity again, now that it cannot exit or exec under us. */
        r = pidref_verify(proc_fd, ref);
        if (r <= 0) {
                rv_ret = merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r < 0 ? r : -ESRCH,
                                          "PID %d no longer names the process that was selected", (int) ref->pid);
                goto detach;
        }

        r = inject_arch_get_regs(tid, &saved);
        if (r < 0)
                goto fail;
        regs_saved = true;
        if (ptrace(PTRACE_GETSIGMASK, tid, (void *) KERNEL_SIGSET_SIZE, &saved_mask) < 0) {
                r = -errno;
                goto fail;
        }
        mask_saved = true;
        if (ptrace(PTRACE_SETSIGMASK, tid, (void *) KERNEL_SIGSET_SIZE, &all_blocked) < 0) {
                r = -errno;
                goto fail;
        }

        saved_nr = inject_arch_interrupted_syscall(&saved);
        saved_rax = inject_arch_return_value(&saved);
        /* The thread will see EINTR if the call it was in already returned -EINTR (rather than a
         * restart code): epoll_wait & co, but also e.g. a socket call with SO_RCVTIMEO. */
        res->eintr = saved_nr >= 0 && saved_rax == -EINTR;

        r = find_syscall_insn(proc_fd, ref->pid, tid, inject_arch_pc(&saved), &insn);
        if (r < 0) {
                rv_ret = merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_NO_SYSCALL_INSN, r,
                                          "no syscall instruction found near the PC or in [vdso]: %s", strerror(-r));
                goto restore;
        }

        call = saved;
        inject_arch_setup_call(&call, insn, nr, args);
        r = inject_arch_set_regs(tid, &call);
        if (r < 0)
                goto fail;

        /* Step until the PC is past the instruction: our interrupt's trap may come first after a
         * signal-delivery-stop, and SIGSTOP (unblockable) may interleave; a few rounds suffice. */
        for (int step = 0;; step++) {
                if (step >= 8) {
                        r = -EPROTO;
                        goto fail;
                }
                if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) < 0) {
                        r = -errno;
                        goto fail;
                }
                r = wait_tracee(tid, call_timeout, &status);
                if (r == -ETIMEDOUT) {
                        /* The call is still running in the kernel (prctl(…, 0) unmerges page by page
                         * and takes minutes on terabytes of sparse mappings).  We must not leave it
                         * with our registers, so interrupt it: unmerge_ksm_pages() checks
                         * signal_pending() and fails with -ERESTARTSYS, ksm_disable_merge_any()
                         * re-marks the VMAs and keeps the flag, and the thread stops for us with
                         * its PC rewound onto the instruction.  Nothing changed. */
                        (void) ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
                        r = wait_tracee(tid, USEC_PER_SEC, &status);
                        if (r == -ETIMEDOUT)
                                r = waitpid(tid, &status, __WALL) == tid ? 0 : -errno;  /* see below */
                        if (r < 0)
                                goto fail;
                        if (WIFEXITED(status) || WIFSIGNALED(status)) {
                                r = -ESRCH;
                                goto fail;
                        }
                        r = inject_arch_get_regs(tid, &after);
                        if (r < 0)
                                goto fail;
                        r = drain_sigtrap(proc_fd, ref->pid, tid, &pending_sig);
                        if (r < 0)
                                goto fail;
                        /* At this stop the PC is past the instruction either way; an aborted call
                         * shows a restart code (the rewind would only happen on resume). */
                        if (inject_arch_pc(&after) == insn + insn_len &&
                            !is_restart_code(inject_arch_return_value(&after)))
                                break;          /* it finished just as we gave up */
                        rv_ret = merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_CALL_TIMEOUT, -ETIMEDOUT,
                                                  "the injected prctl ran longer than %" PRIu64 " ms and was interrupted; "
                                                  "nothing changed (unmerging walks every mapped page: very large sparse "
                                                  "mappings take long)", call_timeout / USEC_PER_MSEC);
                        goto restore;
                }
                if (r < 0)
                        goto fail;
                if (WIFEXITED(status) || WIFSIGNALED(status)) {
                        r = -ESRCH;
                        goto fail;
                }
                if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP && !pending_sig)
                        pending_sig = WSTOPSIG(status);
                r = inject_arch_get_regs(tid, &after);
                if (r < 0)
                        goto fail;
                if (inject_arch_pc(&after) == insn + insn_len)
                        break;
        }
        *ret_rv = inject_arch_return_value(&after);

        if (opts->hold_stopped_usec > 0)
                sleep_usec(opts->hold_stopped_usec);
        goto restore;

fail:
        if (r == -ESRCH)
                rv_ret = merge_result_set(res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE, r, "exited during the injection");
        else
                rv_ret = merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, r,
                                          "ptrace failed on thread %d: %s", (int) tid, strerror(-r));
restore:
        if (regs_saved && inject_arch_set_regs(tid, &saved) < 0 && errno != ESRCH && rv_ret == 0)
                rv_ret = merge_result_set(res, MERGE_OUTCOME_FAILED, MERGE_REASON_PTRACE_ERROR, -EIO,
                                          "could not restore the registers of thread %d", (int) tid);
        if (mask_saved)
                (void) ptrace(PTRACE_SETSIGMASK, tid, (void *) KERNEL_SIGSET_SIZE, &saved_mask);
detach:
        (void) ptrace(PTRACE_DETACH, tid, NULL, (void *) (uintptr_t) pending_sig);
        res->tid = tid;
        res->stopped_usec = now_usec(CLOCK_MONOTONIC) - t_start;
        return rv_ret;
}
