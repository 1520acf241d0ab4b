/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-inject - what making a running process mergeable by ptrace injection costs the target,
 * and how many processes per second the merge engine gets through.
 *
 * Pause: MergeResult.stopped_usec of enable+disable injections cycled over sleeping children (half
 * ticking in clock_nanosleep every 20 ms, half in pause()), then into one child spinning without
 * system calls.  Goal (issue 3): p99 under 1 ms; printed, never failed on.
 * Throughput: merge_engine_apply(enable), then (disable), over N small sleeping children.
 * Baseline, measured in the same run on the same targets and interleaved with the injections: a
 * bare PTRACE_INTERRUPT + waitpid + PTRACE_DETACH (timed from after PTRACE_SEIZE, the window
 * stopped_usec covers); for throughput the whole SEIZE..DETACH round trip.  The spinner also logs
 * the gaps in its own loop, so its pauses are shown as the target saw them, too.
 *
 * Afterwards every target must behave as before: alive, not traced, not stopped, no signal left
 * blocked, merge_any off again, no sleep cut short by EINTR, tickers on time, the spinner still
 * spinning, and SIGTERM still kills each one.  A target that does not is a bug: exit status 1.
 *
 *   bench-inject [--sleepers=N] [--cycles=N] [--busy-cycles=N] [--targets=N] [--rounds=N]
 *                [--timer-slack=NSEC]
 *
 * --timer-slack sets this process's timer slack (default 50 us), which rounds up the engine's short
 * back-off sleeps while it waits for the target to stop: a diagnostic, not a tuning knob.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm-stat.h"
#include "macro.h"
#include "merge.h"
#include "pidref.h"
#include "proc-stat.h"
#include "time-util.h"

#define TICK_USEC (20 * USEC_PER_MSEC)
#define GOAL_P99_USEC 1000.0

typedef enum TargetKind {
        TARGET_TICKER,                  /* clock_nanosleep(TIMER_ABSTIME) every TICK_USEC */
        TARGET_PAUSER,                  /* pause() forever */
        TARGET_BUSY,                    /* a loop without system calls */
} TargetKind;

static const char *const kind_names[] = { "ticker", "pauser", "spinner" };

/* One per child, in memory shared with it (MAP_SHARED pages are never KSM candidates). */
typedef struct Slot {
        volatile uint64_t started;
        volatile uint64_t ticks;        /* ticker: wake-ups; spinner: loop iterations */
        volatile uint64_t spurious;     /* a sleep that returned early (EINTR without a handler) */
        volatile uint64_t max_late_usec;/* ticker: worst lateness of a wake-up */
        uint64_t pad[4];
} Slot;

/*
 * The spinner's own record of when it did not run: every gap longer than GAP_MIN_NSEC between two
 * iterations of its loop, on the vDSO clock (no system call).  Shared, mapped before fork().  This
 * is the pause as the target sees it, without the tracer's own scheduling delays that stopped_usec
 * (tracer-side, from before PTRACE_INTERRUPT to after PTRACE_DETACH returns) can include.
 */
#define GAP_MIN_NSEC (5 * NSEC_PER_USEC)
#define GAP_MAX 65536

typedef struct GapLog {
        volatile uint64_t n;
        struct {
                nsec_t start, end;
        } gap[GAP_MAX];
} GapLog;

static GapLog *gap_log;

/* One ptrace operation of a phase, on the same clock: an injection (apply) or a bare stop. */
typedef struct Window {
        nsec_t start, end;
        bool bare;
} Window;

typedef struct Target {
        pid_t pid;
        TargetKind kind;
        Slot *slot;
        PidRef ref;
        usec_t started_usec;
} Target;

/* Every child, for the exit paths (including the signal handler). */
static Target *targets;
static volatile size_t n_targets;

static void kill_all_children(int sig) {
        for (size_t i = 0; i < n_targets; i++)
                if (targets[i].pid > 0)
                        (void) kill(targets[i].pid, sig);
}

static void reap_all_children(void) {
        kill_all_children(SIGKILL);
        for (size_t i = 0; i < n_targets; i++)
                if (targets[i].pid > 0) {
                        (void) waitpid(targets[i].pid, NULL, __WALL);
                        targets[i].pid = 0;
                }
}

static void on_fatal_signal(int sig) {
        reap_all_children();            /* kill() and waitpid() are async-signal-safe */
        signal(sig, SIG_DFL);
        raise(sig);
}

static nsec_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (nsec_t) ts.tv_sec * NSEC_PER_SEC + (nsec_t) ts.tv_nsec;
}

static _noreturn_ void child_run(TargetKind kind, Slot *s) {
        struct timespec next;

        switch (kind) {
        case TARGET_TICKER:
                clock_gettime(CLOCK_MONOTONIC, &next);
                s->started = 1;
                for (;;) {
                        nsec_t due, now;

                        next.tv_nsec += (long) (TICK_USEC * NSEC_PER_USEC);
                        if (next.tv_nsec >= (long) NSEC_PER_SEC) {
                                next.tv_sec++;
                                next.tv_nsec -= (long) NSEC_PER_SEC;
                        }
                        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0)
                                s->spurious++;
                        due = (nsec_t) next.tv_sec * NSEC_PER_SEC + (nsec_t) next.tv_nsec;
                        now = now_nsec();
                        if (now > due && (now - due) / NSEC_PER_USEC > s->max_late_usec)
                                s->max_late_usec = (now - due) / NSEC_PER_USEC;
                        s->ticks++;
                }
        case TARGET_PAUSER:
                s->started = 1;
                for (;;) {
                        pause();
                        s->spurious++;
                }
        case TARGET_BUSY:
        default: {
                nsec_t prev = now_nsec();

                s->started = 1;
                for (;;) {
                        nsec_t now = now_nsec();

                        if (now - prev > GAP_MIN_NSEC && gap_log->n < GAP_MAX) {
                                gap_log->gap[gap_log->n].start = prev;
                                gap_log->gap[gap_log->n].end = now;
                                __atomic_thread_fence(__ATOMIC_RELEASE);        /* entry before count */
                                gap_log->n++;
                        }
                        prev = now;
                        s->ticks++;
                }
        }
        }
}

/* Forks targets[@i] and counts it in n_targets. */
static int spawn(size_t i, TargetKind kind, Slot *s) {
        pid_t parent = getpid(), pid;
        sigset_t fatal, old;
        int r;

        /* Our handler must not run in a child that has not reset it yet, nor before the PID is
         * recorded. */
        sigemptyset(&fatal);
        sigaddset(&fatal, SIGINT);
        sigaddset(&fatal, SIGTERM);
        sigaddset(&fatal, SIGHUP);
        sigprocmask(SIG_BLOCK, &fatal, &old);
        pid = fork();
        if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                sigprocmask(SIG_SETMASK, &old, NULL);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(1);
                child_run(kind, s);
        }
        r = pid < 0 ? -errno : 0;
        if (pid > 0) {
                targets[i] = (Target) { .pid = pid, .kind = kind, .slot = s, .ref = PIDREF_NULL };
                n_targets = i + 1;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

static int wait_started(Target *t, size_t n) {
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;

        for (size_t i = 0; i < n; i++) {
                while (!t[i].slot->started) {
                        if (now_usec(CLOCK_MONOTONIC) > deadline)
                                return -ETIMEDOUT;
                        usleep(1000);
                }
                t[i].started_usec = now_usec(CLOCK_MONOTONIC);
        }
        usleep(50 * 1000);              /* let the last ones reach their sleep */
        return 0;
}

/*
 * A bare ptrace stop and release.  *ret_stopped_nsec: from after PTRACE_SEIZE to after
 * PTRACE_DETACH (the window MergeResult.stopped_usec measures).
 */
static int bare_stop(pid_t pid, nsec_t *ret_stopped_nsec) {
        nsec_t t0;
        int status, sig;

        if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
                return -errno;
        t0 = now_nsec();
        if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
                return -errno;
        while (waitpid(pid, &status, __WALL) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFSTOPPED(status))
                return -ESRCH;
        sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;      /* a signal-delivery-stop: pass it on */
        if (ptrace(PTRACE_DETACH, pid, NULL, (void *) (uintptr_t) sig) < 0)
                return -errno;
        *ret_stopped_nsec = now_nsec() - t0;
        return 0;
}

/*
 * What else ran during a phase, so that a noisy run can be told from a slow engine: CPU time used
 * by processes outside this benchmark (all busy time in /proc/stat minus ours and our children's)
 * and time the hypervisor stole.  /proc/stat counts in clock ticks (10 ms).
 */
typedef struct Noise {
        uint64_t busy_msec, steal_msec;
        nsec_t ours_nsec, at_nsec;
} Noise;

static int noise_proc_fd = -EBADF;

static Noise noise_sample(void) {
        unsigned long long v[8] = {};
        _cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
        long hz = sysconf(_SC_CLK_TCK);
        struct timespec ts;
        Noise n = { .at_nsec = now_nsec() };

        if (f && hz > 0 && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                                  &v[4], &v[5], &v[6], &v[7]) == 8) {
                n.busy_msec = (uint64_t) (v[0] + v[1] + v[2] + v[5] + v[6]) * 1000 / (uint64_t) hz;
                n.steal_msec = (uint64_t) v[7] * 1000 / (uint64_t) hz;
        }
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
                n.ours_nsec = (nsec_t) ts.tv_sec * NSEC_PER_SEC + (nsec_t) ts.tv_nsec;
        for (size_t i = 0; i < n_targets; i++) {
                nsec_t c;

                if (targets[i].pid > 0 && proc_cpu_time_read_at(noise_proc_fd, targets[i].pid, hz, &c) >= 0)
                        n.ours_nsec += c;
        }
        return n;
}

static void noise_print(const Noise *n0) {
        Noise n1 = noise_sample();
        double wall = (double) (n1.at_nsec - n0->at_nsec) / 1e9;
        double others = (double) (n1.busy_msec - n0->busy_msec) / 1e3 - (double) (n1.ours_nsec - n0->ours_nsec) / 1e9;

        others = MAX(others, 0.0);
        printf("  (meanwhile, in %.2f s: other processes used %.2f CPU-s, the hypervisor stole %.2f CPU-s)\n",
               wall, others, (double) (n1.steal_msec - n0->steal_msec) / 1e3);
}

static unsigned n_bad_results;

/* merge_engine_apply() that must end DONE; otherwise counted and the first few printed. */
static int apply(MergeEngine *e, Target *t, bool enable, MergeResult *res, double *ret_wall_usec) {
        nsec_t t0 = now_nsec();
        int r;

        r = merge_engine_apply(e, &t->ref, enable, NULL, res);
        if (ret_wall_usec)
                *ret_wall_usec = (double) (now_nsec() - t0) / 1e3;
        if (r == 0 && res->outcome == MERGE_OUTCOME_DONE)
                return 0;
        if (n_bad_results++ < 10)
                fprintf(stderr, "bench-inject: %s of %s PID %d: %s (%s): %s\n", enable ? "enable" : "disable",
                        kind_names[t->kind], (int) t->pid, merge_outcome_to_string(res->outcome),
                        merge_reason_to_string(res->reason), res->detail);
        return r < 0 ? r : -EPROTO;
}

typedef struct Summary {
        double p50, p99, max;
} Summary;

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles; sorts @v. */
static Summary summarize(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return (Summary) {
                .p50 = v[(n * 50 + 99) / 100 - 1],
                .p99 = v[(n * 99 + 99) / 100 - 1],
                .max = v[n - 1],
        };
}

static void print_summary(const char *what, Summary s) {
        printf("  %-34s p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what, s.p50, s.p99, s.max);
}

/*
 * Attributes the spinner's gaps since entry @g0 to the windows @w (both in time order): a gap that
 * overlaps a window is part of that operation's pause; the others are other preemptions.  Prints
 * the pause per injection and per bare stop as the target saw it.
 */
static int print_observed(const Window *w, size_t n_w, size_t g0) {
        _cleanup_free_ double *inj = calloc(n_w, sizeof(double)), *bare = calloc(n_w, sizeof(double));
        size_t g = g0, n_g = MIN((size_t) gap_log->n, (size_t) GAP_MAX), n_inj = 0, n_bare = 0, n_other = 0;
        nsec_t other_max = 0;

        if (!inj || !bare)
                return -ENOMEM;
        for (size_t i = 0; i <= n_w; i++) {
                nsec_t sum = 0;

                for (; g < n_g && (i == n_w || gap_log->gap[g].end <= w[i].start); g++) {
                        n_other++;
                        other_max = MAX(other_max, gap_log->gap[g].end - gap_log->gap[g].start);
                }
                if (i == n_w)
                        break;
                for (; g < n_g && gap_log->gap[g].start < w[i].end; g++)
                        sum += gap_log->gap[g].end - gap_log->gap[g].start;
                if (w[i].bare)
                        bare[n_bare++] = (double) sum / 1e3;
                else
                        inj[n_inj++] = (double) sum / 1e3;
        }
        if (n_inj == 0 || n_bare == 0)
                return -EIO;
        print_summary("seen by the target: injection", summarize(inj, n_inj));
        print_summary("seen by the target: bare stop", summarize(bare, n_bare));
        printf("  (the target's own clock; other gaps > %llu us meanwhile: %zu, longest %.1f us%s)\n",
               (unsigned long long) (GAP_MIN_NSEC / NSEC_PER_USEC), n_other, (double) other_max / 1e3,
               gap_log->n >= GAP_MAX ? "; gap log FULL, figures incomplete" : "");
        return 0;
}

/*
 * @cycles enable+disable pairs cycled over @t, each pair followed by a bare stop of the same target.
 * For the spinner, also the pauses as the target itself saw them.
 */
static int bench_pause(MergeEngine *e, Target *t, size_t n, size_t cycles, const char *title) {
        _cleanup_free_ double *inj = calloc(2 * cycles, sizeof(double)), *wall = calloc(2 * cycles, sizeof(double)),
                              *base = calloc(cycles, sizeof(double));
        _cleanup_free_ Window *win = calloc(3 * cycles, sizeof(Window));
        size_t n_inj = 0, n_base = 0, n_eintr = 0, n_win = 0, g0 = gap_log->n;
        Noise noise = noise_sample();
        Summary s_inj, s_base, s_wall;

        if (!inj || !wall || !base || !win)
                return -ENOMEM;

        for (size_t c = 0; c < cycles; c++) {
                Target *x = &t[c % n];
                MergeResult res;
                nsec_t stopped;
                int r;

                for (int enable = 1; enable >= 0; enable--) {
                        win[n_win].start = now_nsec();
                        r = apply(e, x, enable, &res, &wall[n_inj]);
                        win[n_win++].end = now_nsec();
                        if (r < 0)
                                continue;
                        n_eintr += res.eintr;
                        inj[n_inj++] = (double) res.stopped_usec;
                }
                win[n_win] = (Window) { .start = now_nsec(), .bare = true };
                r = bare_stop(x->pid, &stopped);
                win[n_win++].end = now_nsec();
                if (r < 0) {
                        fprintf(stderr, "bench-inject: bare ptrace stop of PID %d failed: %s\n", (int) x->pid, strerror(-r));
                        continue;
                }
                base[n_base++] = (double) stopped / 1e3;
        }
        if (n_inj == 0 || n_base == 0)
                return -EIO;

        s_inj = summarize(inj, n_inj);
        s_wall = summarize(wall, n_inj);
        s_base = summarize(base, n_base);
        printf("%s: %zu injections (%zu enable+disable cycles over %zu target%s), %zu bare stops\n",
               title, n_inj, cycles, n, n == 1 ? "" : "s", n_base);
        print_summary("target stopped (stopped_usec)", s_inj);
        print_summary("baseline bare ptrace stop", s_base);
        print_summary("merge_engine_apply() wall time", s_wall);
        printf("  ratio to baseline: p50 %.1fx, p99 %.1fx; threads in a never-restarted syscall: %zu\n",
               s_inj.p50 / s_base.p50, s_inj.p99 / s_base.p99, n_eintr);
        if (t[0].kind == TARGET_BUSY && print_observed(win, n_win, g0) < 0)
                return -EIO;
        printf("  goal p99 < 1 ms: %s (p99 %.3f ms)\n", s_inj.p99 < GOAL_P99_USEC ? "met" : "NOT met", s_inj.p99 / 1e3);
        noise_print(&noise);
        return 0;
}

static int cmp_nsec(const void *a, const void *b) {
        nsec_t x = *(const nsec_t *) a, y = *(const nsec_t *) b;

        return x < y ? -1 : x > y;
}

static nsec_t median_nsec(nsec_t *v, size_t n) {
        qsort(v, n, sizeof(nsec_t), cmp_nsec);
        return v[(n - 1) / 2];
}

static int bench_throughput(MergeEngine *e, Target *t, size_t n, size_t rounds) {
        _cleanup_free_ nsec_t *en = calloc(rounds, sizeof(nsec_t)), *dis = calloc(rounds, sizeof(nsec_t)),
                              *base = calloc(rounds, sizeof(nsec_t));
        Noise noise = noise_sample();
        nsec_t m_en, m_dis, m_base;

        if (!en || !dis || !base)
                return -ENOMEM;

        for (size_t k = 0; k < rounds; k++) {
                MergeResult res;
                nsec_t t0, stopped;

                t0 = now_nsec();
                for (size_t i = 0; i < n; i++)
                        (void) apply(e, &t[i], true, &res, NULL);
                en[k] = now_nsec() - t0;

                t0 = now_nsec();
                for (size_t i = 0; i < n; i++)
                        if (bare_stop(t[i].pid, &stopped) < 0)
                                fprintf(stderr, "bench-inject: bare ptrace stop of PID %d failed\n", (int) t[i].pid);
                base[k] = now_nsec() - t0;

                t0 = now_nsec();
                for (size_t i = 0; i < n; i++)
                        (void) apply(e, &t[i], false, &res, NULL);
                dis[k] = now_nsec() - t0;

                printf("  round %zu: enable %.0f/s, disable %.0f/s, bare SEIZE..DETACH %.0f/s\n", k + 1,
                       (double) n * 1e9 / (double) en[k], (double) n * 1e9 / (double) dis[k],
                       (double) n * 1e9 / (double) base[k]);
        }
        m_en = median_nsec(en, rounds);
        m_dis = median_nsec(dis, rounds);
        m_base = median_nsec(base, rounds);
        printf("throughput over %zu sleeping targets (median of %zu rounds):\n", n, rounds);
        printf("  made mergeable:   %8.0f processes/s (%.1f us each)\n", (double) n * 1e9 / (double) m_en,
               (double) m_en / 1e3 / (double) n);
        printf("  made unmergeable: %8.0f processes/s (%.1f us each)\n", (double) n * 1e9 / (double) m_dis,
               (double) m_dis / 1e3 / (double) n);
        printf("  baseline bare SEIZE+INTERRUPT+wait+DETACH: %8.0f processes/s (%.1f us each)\n",
               (double) n * 1e9 / (double) m_base, (double) m_base / 1e3 / (double) n);
        printf("  ratio to baseline (time per process): enable %.1fx, disable %.1fx\n",
               (double) m_en / (double) m_base, (double) m_dis / (double) m_base);
        noise_print(&noise);
        return 0;
}

/* Reads State, TracerPid and SigBlk of @pid. */
static int read_status(pid_t pid, char *ret_state, long *ret_tracer, char ret_sigblk[static 32]) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (strneq(line, "State:", 6))
                        (void) sscanf(line + 6, " %c", ret_state);
                else if (strneq(line, "TracerPid:", 10))
                        *ret_tracer = strtol(line + 10, NULL, 10);
                else if (strneq(line, "SigBlk:", 7))
                        (void) sscanf(line + 7, " %31s", ret_sigblk);
        }
        return 0;
}

/* Returns the number of problems found in @t, printing each. */
static unsigned check_health(int proc_fd, const Target *t) {
        char state = '?', sigblk[32] = "?";
        unsigned bad = 0;
        long tracer = -1;
        KsmStat st = {};
        int status;

#define PROBLEM(...) do { bad++; printf("  PROBLEM: %s PID %d: ", kind_names[t->kind], (int) t->pid); \
                          printf(__VA_ARGS__); putchar('\n'); } while (0)

        if (waitpid(t->pid, &status, WNOHANG) != 0) {
                PROBLEM("died (wait status 0x%x)", (unsigned) status);
                return bad;
        }
        if (read_status(t->pid, &state, &tracer, sigblk) < 0)
                PROBLEM("cannot read /proc/PID/status: %m");
        if (t->kind == TARGET_BUSY ? state != 'R' : !IN_SET(state, 'S', 'R'))
                PROBLEM("state %c", state);
        if (tracer != 0)
                PROBLEM("TracerPid %ld", tracer);
        if (strspn(sigblk, "0") != strlen(sigblk) || streq(sigblk, "?"))
                PROBLEM("signals left blocked: SigBlk %s", sigblk);
        if (t->slot->spurious)
                PROBLEM("%" PRIu64 " sleeps returned early", t->slot->spurious);
        if (ksm_stat_read_at(proc_fd, t->pid, &st) < 0 || !(st.fields & KSM_STAT_MERGE_ANY) || st.merge_any)
                PROBLEM("ksm_merge_any not back to no");
        if (t->kind == TARGET_TICKER) {
                uint64_t want = (now_usec(CLOCK_MONOTONIC) - t->started_usec) / TICK_USEC;

                if (t->slot->ticks + 2 < want)
                        PROBLEM("fell behind: %" PRIu64 " ticks, %" PRIu64 " due", t->slot->ticks, want);
        }
        if (t->kind == TARGET_BUSY) {
                uint64_t before = t->slot->ticks;

                usleep(20 * 1000);
                if (t->slot->ticks == before)
                        PROBLEM("stopped spinning");
        }
        return bad;
#undef PROBLEM
}

/* SIGTERM must still kill each target (a lost or blocked signal would leave it running). */
static unsigned terminate_all(void) {
        unsigned bad = 0;

        kill_all_children(SIGTERM);
        for (size_t i = 0; i < n_targets; i++) {
                int status;

                if (targets[i].pid <= 0 || waitpid(targets[i].pid, &status, __WALL) < 0)
                        continue;
                if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM) {
                        printf("  PROBLEM: %s PID %d did not die of SIGTERM (wait status 0x%x)\n",
                               kind_names[targets[i].kind], (int) targets[i].pid, (unsigned) status);
                        bad++;
                }
                targets[i].pid = 0;
        }
        return bad;
}

static int raise_nproc(size_t extra) {
        struct rlimit rl;
        rlim_t want;

        if (getrlimit(RLIMIT_NPROC, &rl) < 0)
                return -errno;
        want = (rlim_t) extra + 4096;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
                rl.rlim_cur = want;
                if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
                        rl.rlim_max = want;     /* needs CAP_SYS_RESOURCE */
                if (setrlimit(RLIMIT_NPROC, &rl) < 0)
                        return -errno;
        }
        return 0;
}

/* The layout of targets[]: sleepers, then throughput targets, then the spinner (set in main()). */
static size_t layout_sleepers, layout_total;

/* Spawns targets [@from, @to), waits until they run, and opens their PidRefs. */
static int spawn_targets(int proc_fd, Slot *slots, size_t from, size_t to) {
        int r;

        for (size_t i = from; i < to; i++) {
                TargetKind kind = i < layout_sleepers ? (i % 2 ? TARGET_PAUSER : TARGET_TICKER) :
                                  i == layout_total - 1 ? TARGET_BUSY : TARGET_PAUSER;

                r = spawn(i, kind, &slots[i]);
                if (r < 0) {
                        fprintf(stderr, "bench-inject: fork of child %zu: %s\n", i, strerror(-r));
                        return r;
                }
        }
        r = wait_started(targets + from, to - from);
        if (r < 0) {
                fprintf(stderr, "bench-inject: children did not start\n");
                return r;
        }
        for (size_t i = from; i < to; i++) {
                r = pidref_open(proc_fd, targets[i].pid, UINT64_MAX, &targets[i].ref);
                if (r < 0) {
                        fprintf(stderr, "bench-inject: pidref_open(%d): %s\n", (int) targets[i].pid, strerror(-r));
                        return r;
                }
        }
        return 0;
}

static void cleanup_targets(void) {
        for (size_t i = 0; targets && i < n_targets; i++)
                pidref_done(&targets[i].ref);
        reap_all_children();
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "sleepers", required_argument, NULL, 's' },
                { "cycles", required_argument, NULL, 'c' },
                { "busy-cycles", required_argument, NULL, 'b' },
                { "targets", required_argument, NULL, 't' },
                { "rounds", required_argument, NULL, 'r' },
                { "timer-slack", required_argument, NULL, 'S' },
                {}
        };
        size_t n_sleepers = 50, cycles = 1000, busy_cycles = 1000, n_tp = 1000, rounds = 3, total;
        _cleanup_(merge_engine_freep) MergeEngine *e = NULL;
        _cleanup_close_ int proc_fd = -EBADF;
        struct sigaction sa = { .sa_handler = on_fatal_signal };
        Target *sleepers, *busy, *tp;
        unsigned bad = 0;
        Slot *slots;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                size_t v = 0;

                if (c == '?' || !optarg || (v = strtoul(optarg, NULL, 10)) == 0) {
                        fprintf(stderr, "usage: bench-inject [--sleepers=N] [--cycles=N] [--busy-cycles=N] "
                                        "[--targets=N] [--rounds=N] [--timer-slack=NSEC]   (all N > 0)\n");
                        return 2;
                }
                switch (c) {
                case 's': n_sleepers = v; break;
                case 'c': cycles = v; break;
                case 'b': busy_cycles = v; break;
                case 't': n_tp = v; break;
                case 'r': rounds = v; break;
                case 'S':
                        if (prctl(PR_SET_TIMERSLACK, (unsigned long) v, 0, 0, 0) < 0)
                                return fprintf(stderr, "bench-inject: PR_SET_TIMERSLACK: %m\n"), 1;
                        break;
                }
        }

        proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return fprintf(stderr, "bench-inject: cannot open /proc: %m\n"), 1;
        noise_proc_fd = proc_fd;
        r = merge_engine_new(proc_fd, &e);
        if (r < 0)
                return fprintf(stderr, "bench-inject: merge_engine_new: %s\n", strerror(-r)), 1;
        if (!merge_engine_probe(e)->available[MERGE_BACKEND_INJECT]) {
                fprintf(stderr, "bench-inject: inject backend unavailable: %s\n",
                        merge_engine_probe(e)->why[MERGE_BACKEND_INJECT]);
                return 77;
        }

        total = n_sleepers + n_tp + 1;
        layout_sleepers = n_sleepers;
        layout_total = total;
        r = raise_nproc(total);
        if (r < 0)
                fprintf(stderr, "bench-inject: cannot raise RLIMIT_NPROC, trying anyway: %s\n", strerror(-r));
        targets = calloc(total, sizeof(Target));
        slots = mmap(NULL, total * sizeof(Slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        gap_log = mmap(NULL, sizeof(GapLog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!targets || slots == MAP_FAILED || gap_log == MAP_FAILED)
                return fprintf(stderr, "bench-inject: out of memory\n"), 1;
        /* The spinner is spawned last, for its own phase only: it occupies a CPU of its own. */
        sleepers = targets;
        tp = targets + n_sleepers;
        busy = tp + n_tp;

        atexit(cleanup_targets);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (spawn_targets(proc_fd, slots, 0, total - 1) < 0)
                return 1;

        printf("bench-inject: %zu sleeping targets (%zu ticking every %llu ms, %zu in pause()), 1 spinning, "
               "%zu for throughput\n", n_sleepers, (n_sleepers + 1) / 2, (unsigned long long) (TICK_USEC / USEC_PER_MSEC),
               n_sleepers / 2, n_tp);
        if (bench_pause(e, sleepers, n_sleepers, cycles, "sleeping targets") < 0 ||
            bench_throughput(e, tp, n_tp, rounds) < 0 ||
            spawn_targets(proc_fd, slots, total - 1, total) < 0 ||
            bench_pause(e, busy, 1, busy_cycles, "spinning target") < 0)
                return fprintf(stderr, "bench-inject: a pass produced no samples\n"), 1;

        printf("target health after %zu injections:\n", 2 * (cycles + busy_cycles + rounds * n_tp));
        for (size_t i = 0; i < total; i++)
                bad += check_health(proc_fd, &targets[i]);
        {
                uint64_t late = 0;

                for (size_t i = 0; i < n_sleepers; i++)
                        if (sleepers[i].kind == TARGET_TICKER)
                                late = MAX(late, sleepers[i].slot->max_late_usec);
                printf("  worst ticker wake-up lateness: %.3f ms\n", (double) late / 1e3);
        }
        for (size_t i = 0; i < total; i++)
                pidref_done(&targets[i].ref);
        bad += terminate_all();
        printf("  %s; %u merge_engine_apply() call%s not DONE\n",
               bad ? "targets MISBEHAVED (see PROBLEM lines)" : "all targets behave as before", n_bad_results,
               n_bad_results == 1 ? "" : "s");
        return bad || n_bad_results ? 1 : 0;
}
