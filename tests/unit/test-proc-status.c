/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-proc-status.c - /proc/PID/status (real sleeping, multi-threaded, zombie, stopped, traced and
 * seccomp-filtered processes, hand-made malformed variants), /proc/PID/task/TID/syscall (real
 * read, epoll_wait, clock_nanosleep, restart_syscall, "running" and "-1" lines), the
 * never-restarted syscall table, thread_choose() and the *_read_at() functions on the fake procfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "macro.h"
#include "proc-status.h"

/* ---- proc_status_parse() ---- */

static void status_fixture(const char *rel, int expected, ProcStatus *ret) {
        _cleanup_free_ char *buf = fixture_read(rel);

        assert_int_equal(proc_status_parse(buf, ret), expected);
}

static void test_proc_status_parse_real(void **state) {
        static const struct {
                const char *rel;
                char state;
                pid_t tgid, pid, ppid, tracer_pid;
                int seccomp;
                unsigned threads;
        } table[] = {
                /* real /proc/PID/status files from this machine (see tests/fixtures/README.md) */
                { "proc/status-sleeping", 'S', 31803, 31803, 31800, 0,     0, 1 },
                { "proc/status-threaded", 'S', 31807, 31807, 31800, 0,     0, 4 },
                { "proc/status-zombie",   'Z', 31861, 31861, 31859, 0,     0, 1 },
                { "proc/status-stopped",  'T', 31864, 31864, 31800, 0,     0, 1 },
                { "proc/status-traced",   'S', 31868, 31868, 31800, 31895, 0, 1 },
                { "proc/status-seccomp",  'S', 31901, 31901, 31800, 0,     2, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                ProcStatus st;

                status_fixture(table[i].rel, 0, &st);
                assert_int_equal(st.state, table[i].state);
                assert_int_equal(st.tgid, table[i].tgid);
                assert_int_equal(st.pid, table[i].pid);
                assert_int_equal(st.ppid, table[i].ppid);
                assert_int_equal(st.tracer_pid, table[i].tracer_pid);
                assert_int_equal(st.seccomp, table[i].seccomp);
                assert_int_equal(st.threads, table[i].threads);
        }
}

static void test_proc_status_parse_no_seccomp(void **state) {
        ProcStatus st;

        /* a kernel without CONFIG_SECCOMP has no Seccomp: line: -1, not an error */
        status_fixture("proc/status-no-seccomp", 0, &st);
        assert_int_equal(st.seccomp, -1);
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.pid, 31803);
        assert_int_equal(st.tracer_pid, 0);
}

static void test_proc_status_parse_malformed_fixtures(void **state) {
        static const char *const rels[] = {
                "proc/status-no-tracerpid",     /* a required field missing */
                "proc/status-bad-state",        /* "State: sleeping" */
                "proc/status-bad-pid",          /* "Pid: 31803x" */
                "proc/status-seccomp-7",        /* only 0, 1, 2 exist */
        };

        for (size_t i = 0; i < ELEMENTSOF(rels); i++) {
                ProcStatus st = { .state = '?', .pid = 4242 };

                status_fixture(rels[i], -EBADMSG, &st);
                /* *ret untouched on failure */
                assert_int_equal(st.state, '?');
                assert_int_equal(st.pid, 4242);
        }
}

static void test_proc_status_parse_minimal(void **state) {
        ProcStatus st;

        /* just the required fields, in another order, with spaces instead of tabs */
        assert_int_equal(proc_status_parse("TracerPid: 7\nPPid: 1\nPid: 12\nTgid: 10\n"
                                           "State: t (tracing stop)\n", &st), 0);
        assert_int_equal(st.state, 't');
        assert_int_equal(st.tgid, 10);
        assert_int_equal(st.pid, 12);
        assert_int_equal(st.ppid, 1);
        assert_int_equal(st.tracer_pid, 7);
        assert_int_equal(st.seccomp, -1);
        assert_int_equal(st.threads, 0);

        /* a bare state letter (no description) and no trailing newline */
        assert_int_equal(proc_status_parse("State:\tD\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0", &st), 0);
        assert_int_equal(st.state, 'D');
        assert_int_equal(st.ppid, 0);

        /* NSpid/NStgid/Seccomp_filters must not be taken for Pid/Tgid/Seccomp */
        assert_int_equal(proc_status_parse("State:\tS (sleeping)\nTgid:\t5\nNStgid:\t99\n"
                                           "Pid:\t5\nNSpid:\t98\nPPid:\t1\nTracerPid:\t0\n"
                                           "Seccomp:\t1\nSeccomp_filters:\t9\n", &st), 0);
        assert_int_equal(st.tgid, 5);
        assert_int_equal(st.pid, 5);
        assert_int_equal(st.seccomp, 1);
}

static void test_proc_status_parse_malformed(void **state) {
        static const char *const bufs[] = {
                "",
                "garbage\n",
                /* each required field missing once */
                "Tgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\n",
                /* bad values */
                "State:\t\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tSS\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t-1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t2147483648\nPPid:\t0\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0x1\nTracerPid:\t0\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\tnone\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nSeccomp:\t3\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nSeccomp:\t-1\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nThreads:\tmany\n",
                "State:\tS (sleeping)\nTgid:\t1\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nThreads:\t4294967296\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(bufs); i++) {
                ProcStatus st;

                if (proc_status_parse(bufs[i], &st) != -EBADMSG)
                        fail_msg("case %zu accepted: '%s'", i, bufs[i]);
        }
}

static void test_proc_status_parse_invalid_args(void **state) {
        ProcStatus st;

        assert_int_equal(proc_status_parse(NULL, &st), -EINVAL);
        assert_int_equal(proc_status_parse("State:\tS\n", NULL), -EINVAL);
}

/* ---- task_syscall_parse() ---- */

static void test_task_syscall_parse_real(void **state) {
        static const struct {
                const char *rel;
                bool running;
                long nr;
        } table[] = {
                /* real task/TID/syscall lines (x86_64 numbers) */
                { "proc/task-syscall-read",            false, 0 },     /* cat(1) reading a FIFO */
                { "proc/task-syscall-epoll_wait",      false, 232 },
                { "proc/task-syscall-clock_nanosleep", false, 230 },   /* sleep(1) */
                { "proc/task-syscall-restart_syscall", false, 219 },   /* sleep(1) after strace attached */
                { "proc/task-syscall-running",         true,  -1 },    /* busy loop on a CPU */
                { "proc/task-syscall-blocked",         false, -1 },    /* busy loop, then SIGSTOP */
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *buf = fixture_read(table[i].rel);
                TaskSyscall sc = { .running = !table[i].running, .nr = 12345 };

                assert_int_equal(task_syscall_parse(buf, &sc), 0);
                assert_int_equal(sc.running, table[i].running);
                assert_int_equal(sc.nr, table[i].nr);
        }
}

static void test_task_syscall_parse_valid(void **state) {
        TaskSyscall sc;

        /* no trailing newline */
        assert_int_equal(task_syscall_parse("running", &sc), 0);
        assert_true(sc.running);
        assert_int_equal(sc.nr, -1);
        assert_int_equal(task_syscall_parse("-1 0x7ffc0 0x401000", &sc), 0);
        assert_false(sc.running);
        assert_int_equal(sc.nr, -1);
        assert_int_equal(task_syscall_parse("441 0x1 0x2 0x3 0x4 0x5 0x6 0x7ffc0 0x401000\n", &sc), 0);
        assert_false(sc.running);
        assert_int_equal(sc.nr, 441);
}

static void test_task_syscall_parse_malformed(void **state) {
        static const char *const bufs[] = {
                "",
                "\n",
                " 232 0x3 0x0 0x0 0x0 0x0 0x0 0x7ffc0 0x401000\n",
                "runningX\n",
                "Running\n",
                "sleeping\n",
                "232\n",                /* a number alone: no sp/pc */
                "232",
                "-1\n",
                "232 \n",               /* truncated after the number */
                "-1 0x7ffc0\n",         /* sp without pc */
                "232 0x3 0x0 0x3ff\n",  /* args cut short */
                "-2 0x7ffc0 0x401000\n",
                "100001 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc0 0x401000\n",
                "0x10 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc0 0x401000\n",
                "12a 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc0 0x401000\n",
                "99999999999999999999999999999999 0x0\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(bufs); i++) {
                TaskSyscall sc = { .running = true, .nr = 777 };

                if (task_syscall_parse(bufs[i], &sc) != -EBADMSG)
                        fail_msg("'%s' accepted", bufs[i]);
                assert_true(sc.running);
                assert_int_equal(sc.nr, 777);
        }

        assert_int_equal(task_syscall_parse(NULL, &(TaskSyscall) {}), -EINVAL);
        assert_int_equal(task_syscall_parse("running\n", NULL), -EINVAL);
}

/* ---- syscall_never_restarted() / syscall_name() ---- */

static void test_syscall_never_restarted_table(void **state) {
        static const struct {
                long nr;
                const char *name;
        } yes[] = {
                { SYS_epoll_pwait, "epoll_pwait" },
                { 441, "epoll_pwait2" },                /* the same number on x86_64 and asm-generic */
                { SYS_io_pgetevents, "io_pgetevents" },
                { SYS_rt_sigtimedwait, "rt_sigtimedwait" },
                { SYS_semtimedop, "semtimedop" },
#ifdef SYS_epoll_wait
                { SYS_epoll_wait, "epoll_wait" },
#endif
#ifdef SYS_io_getevents
                { SYS_io_getevents, "io_getevents" },
#endif
        };
        static const long no[] = {
                -1, -2, 100000, LONG_MAX, LONG_MIN,
                SYS_read, SYS_write, SYS_futex, SYS_clock_nanosleep, SYS_restart_syscall,
                SYS_wait4, SYS_ppoll, SYS_pselect6, SYS_prctl, SYS_openat, SYS_accept4, SYS_recvfrom,
        };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                assert_true(syscall_never_restarted(yes[i].nr));
                assert_non_null(syscall_name(yes[i].nr));
                assert_string_equal(syscall_name(yes[i].nr), yes[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                assert_false(syscall_never_restarted(no[i]));
                assert_null(syscall_name(no[i]));
        }
}

static void test_syscall_never_restarted_real(void **state) {
#if defined(__x86_64__)
        static const struct {
                const char *rel;
                bool never_restarted;
        } table[] = {
                { "proc/task-syscall-epoll_wait", true },
                { "proc/task-syscall-read", false },
                { "proc/task-syscall-clock_nanosleep", false },
                { "proc/task-syscall-restart_syscall", false },
        };

        /* the fixtures carry x86_64 syscall numbers */
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *buf = fixture_read(table[i].rel);
                TaskSyscall sc;

                assert_int_equal(task_syscall_parse(buf, &sc), 0);
                assert_int_equal(syscall_never_restarted(sc.nr), table[i].never_restarted);
        }
        assert_string_equal(syscall_name(232), "epoll_wait");
#else
        skip();
#endif
}

/* ---- thread_choose() ---- */

#define RUNNING(t, st)          { .tid = (t), .state = (st), .sc = { .running = true, .nr = -1 }, \
                                  .sc_known = true }
#define BLOCKED(t, st)          { .tid = (t), .state = (st), .sc = { .nr = -1 }, .sc_known = true }
#define IN_SYSCALL(t, st, n)    { .tid = (t), .state = (st), .sc = { .nr = (n) }, .sc_known = true }
#define UNKNOWN(t, st)          { .tid = (t), .state = (st), .sc = { .nr = 0 }, .sc_known = false }

typedef struct ChooseCase {
        const char *name;
        ThreadInfo threads[6];
        size_t n;
        ThreadChoice choice;
        size_t index;           /* expected index when choice != NONE */
} ChooseCase;

static void test_thread_choose_table(void **state) {
        static const ChooseCase cases[] = {
                { "no threads", {}, 0, THREAD_CHOICE_NONE, 0 },
                { "all D",
                  { IN_SYSCALL(100, 'D', SYS_read), IN_SYSCALL(101, 'D', SYS_write), UNKNOWN(102, 'D') },
                  3, THREAD_CHOICE_NONE, 0 },
                { "D, Z, X, T, t are never chosen, whatever they are doing",
                  { RUNNING(100, 'D'), RUNNING(101, 'Z'), BLOCKED(102, 'X'), IN_SYSCALL(103, 'T', SYS_read),
                    IN_SYSCALL(104, 't', SYS_futex), UNKNOWN(105, 'T') },
                  6, THREAD_CHOICE_NONE, 0 },
                { "single sleeping main thread in a restartable syscall",
                  { IN_SYSCALL(100, 'S', SYS_clock_nanosleep) }, 1, THREAD_CHOICE_CLEAN, 0 },
                { "running beats restartable syscall",
                  { IN_SYSCALL(100, 'S', SYS_read), RUNNING(101, 'R') }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "blocked outside a syscall (-1) beats restartable syscall",
                  { IN_SYSCALL(100, 'S', SYS_futex), BLOCKED(101, 'S') }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "restartable syscall beats unknown",
                  { UNKNOWN(100, 'S'), IN_SYSCALL(101, 'S', SYS_futex) }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "unknown beats epoll_pwait (and is a clean choice)",
                  { IN_SYSCALL(100, 'S', SYS_epoll_pwait), UNKNOWN(101, 'S') }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "running beats unknown and epoll_pwait, in any order",
                  { IN_SYSCALL(100, 'S', SYS_epoll_pwait), UNKNOWN(101, 'S'), RUNNING(102, 'R'),
                    IN_SYSCALL(103, 'S', SYS_read) }, 4, THREAD_CHOICE_CLEAN, 2 },
                { "main thread preferred among restartable syscalls",
                  { IN_SYSCALL(101, 'S', SYS_futex), IN_SYSCALL(102, 'S', SYS_futex),
                    IN_SYSCALL(100, 'S', SYS_read), IN_SYSCALL(103, 'S', SYS_futex) },
                  4, THREAD_CHOICE_CLEAN, 2 },
                { "main thread preferred among running threads",
                  { RUNNING(101, 'R'), BLOCKED(102, 'S'), RUNNING(100, 'R') }, 3, THREAD_CHOICE_CLEAN, 2 },
                { "main thread preferred among unknowns",
                  { UNKNOWN(101, 'S'), UNKNOWN(100, 'S'), UNKNOWN(102, 'S') }, 3, THREAD_CHOICE_CLEAN, 1 },
                { "main thread not preferred over a better rank",
                  { IN_SYSCALL(100, 'S', SYS_futex), RUNNING(101, 'R') }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "main thread in epoll_pwait loses to a worker in futex",
                  { IN_SYSCALL(100, 'S', SYS_epoll_pwait), IN_SYSCALL(101, 'S', SYS_futex),
                    IN_SYSCALL(102, 'S', SYS_futex) }, 3, THREAD_CHOICE_CLEAN, 1 },
                { "a running main thread in T is skipped",
                  { RUNNING(100, 'T'), IN_SYSCALL(101, 'S', SYS_read) }, 2, THREAD_CHOICE_CLEAN, 1 },
                { "idle (I) threads are usable",
                  { IN_SYSCALL(100, 'D', SYS_read), IN_SYSCALL(101, 'I', SYS_futex) },
                  2, THREAD_CHOICE_CLEAN, 1 },
                { "only never-restarted syscalls: EINTR",
                  { IN_SYSCALL(101, 'S', SYS_epoll_pwait), IN_SYSCALL(102, 'S', SYS_rt_sigtimedwait) },
                  2, THREAD_CHOICE_EINTR, 0 },
                { "only never-restarted syscalls: EINTR, main thread preferred",
                  { IN_SYSCALL(101, 'S', SYS_epoll_pwait), IN_SYSCALL(100, 'S', SYS_epoll_pwait) },
                  2, THREAD_CHOICE_EINTR, 1 },
                { "never-restarted plus unusable threads: EINTR on the usable one",
                  { IN_SYSCALL(100, 'D', SYS_read), IN_SYSCALL(101, 'Z', SYS_read),
                    IN_SYSCALL(102, 'S', SYS_epoll_pwait), RUNNING(103, 't') },
                  4, THREAD_CHOICE_EINTR, 2 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const ChooseCase *c = &cases[i];
                size_t idx = SIZE_MAX;
                ThreadChoice ch;

                ch = thread_choose(c->n ? c->threads : NULL, c->n, 100, &idx);
                if (ch != c->choice || (c->choice != THREAD_CHOICE_NONE && idx != c->index))
                        fail_msg("case '%s': choice %d index %zu, expected %d index %zu",
                                 c->name, (int) ch, idx, (int) c->choice, c->index);
                if (c->choice == THREAD_CHOICE_NONE)
                        assert_int_equal(idx, SIZE_MAX);        /* untouched */
        }
}

static void test_thread_choose_epoll_only(void **state) {
        ThreadInfo t[5];
        size_t idx = SIZE_MAX;

        /* tgid 100 is not among them: any of the five, and EINTR */
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                t[i] = (ThreadInfo) IN_SYSCALL((pid_t) (200 + i), 'S', SYS_epoll_pwait);
        assert_int_equal(thread_choose(t, ELEMENTSOF(t), 100, &idx), THREAD_CHOICE_EINTR);
        assert_true(idx < ELEMENTSOF(t));

        /* one of them in D: still EINTR, never the D one */
        t[0].state = 'D';
        idx = SIZE_MAX;
        assert_int_equal(thread_choose(t, ELEMENTSOF(t), 100, &idx), THREAD_CHOICE_EINTR);
        assert_true(idx >= 1 && idx < ELEMENTSOF(t));

        /* the main thread among them (tid == tgid): that one */
        t[3].tid = 100;
        assert_int_equal(thread_choose(t, ELEMENTSOF(t), 100, &idx), THREAD_CHOICE_EINTR);
        assert_int_equal(idx, 3);

        /* a single restartable thread turns it CLEAN */
        t[4] = (ThreadInfo) IN_SYSCALL(204, 'S', SYS_futex);
        assert_int_equal(thread_choose(t, ELEMENTSOF(t), 100, &idx), THREAD_CHOICE_CLEAN);
        assert_int_equal(idx, 4);
}

/* ---- *_read_at() on the fake procfs ---- */

static void test_proc_status_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        ProcStatus st;

        /* procfs/4467: real copy of a python3 with two worker threads */
        assert_int_equal(proc_status_read_at(proc_fd, 4467, 0, &st), 0);
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.tgid, 4467);
        assert_int_equal(st.pid, 4467);
        assert_int_equal(st.threads, 3);
        assert_int_equal(st.tracer_pid, 0);
        assert_int_equal(st.seccomp, 0);

        assert_int_equal(proc_status_read_at(proc_fd, 4467, 4510, &st), 0);
        assert_int_equal(st.tgid, 4467);
        assert_int_equal(st.pid, 4510);
        assert_int_equal(st.threads, 3);

        assert_int_equal(proc_status_read_at(proc_fd, 4467, 4467, &st), 0);
        assert_int_equal(st.pid, 4467);

        /* gone: no such PID, no such thread, or no status file (procfs/1234 has only ksm files) */
        assert_int_equal(proc_status_read_at(proc_fd, 99999, 0, &st), -ESRCH);
        assert_int_equal(proc_status_read_at(proc_fd, 4467, 99999, &st), -ESRCH);
        assert_int_equal(proc_status_read_at(proc_fd, 1234, 0, &st), -ESRCH);
}

static void test_task_syscall_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        static const struct {
                pid_t tid;
                long nr;
        } table[] = {
                { 4467, 232 },          /* main thread: epoll_wait */
                { 4510, 202 },          /* workers: futex */
                { 4511, 202 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                TaskSyscall sc;

                assert_int_equal(task_syscall_read_at(proc_fd, 4467, table[i].tid, &sc), 0);
                assert_false(sc.running);
                assert_int_equal(sc.nr, table[i].nr);
        }
        assert_int_equal(task_syscall_read_at(proc_fd, 4467, 99999, &(TaskSyscall) {}), -ESRCH);
        assert_int_equal(task_syscall_read_at(proc_fd, 99999, 99999, &(TaskSyscall) {}), -ESRCH);
}

static void test_thread_choose_procfs(void **state) {
#if defined(__x86_64__)
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        static const pid_t tids[] = { 4467, 4510, 4511 };
        ThreadInfo t[ELEMENTSOF(tids)];
        size_t idx = SIZE_MAX;

        /* the real python3: the main thread in epoll_wait, the workers in futex → a worker, cleanly */
        for (size_t i = 0; i < ELEMENTSOF(tids); i++) {
                ProcStatus st;

                assert_int_equal(proc_status_read_at(proc_fd, 4467, tids[i], &st), 0);
                t[i] = (ThreadInfo) { .tid = tids[i], .state = st.state };
                t[i].sc_known = task_syscall_read_at(proc_fd, 4467, tids[i], &t[i].sc) >= 0;
                assert_true(t[i].sc_known);
        }
        assert_int_equal(thread_choose(t, ELEMENTSOF(t), 4467, &idx), THREAD_CHOICE_CLEAN);
        assert_true(idx == 1 || idx == 2);

        /* the main thread alone: EINTR */
        assert_int_equal(thread_choose(t, 1, 4467, &idx), THREAD_CHOICE_EINTR);
        assert_int_equal(idx, 0);
#else
        skip();
#endif
}

static void test_proc_status_read_at_real(void **state) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ProcStatus st;
        TaskSyscall sc;

        assert_true(proc_fd >= 0);
        assert_int_equal(proc_status_read_at(proc_fd, getpid(), 0, &st), 0);
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.pid, getpid());
        assert_int_equal(st.tgid, getpid());
        assert_int_equal(st.ppid, getppid());
        assert_true(st.threads >= 1);
        assert_true(st.seccomp >= -1 && st.seccomp <= 2);

        assert_int_equal(proc_status_read_at(proc_fd, getpid(), gettid(), &st), 0);
        assert_int_equal(st.pid, gettid());

        /* our own syscall file, read by ourselves: we are inside read() */
        assert_int_equal(task_syscall_read_at(proc_fd, getpid(), gettid(), &sc), 0);
        assert_false(sc.running);
        assert_int_equal(sc.nr, SYS_read);
}

/* Uid (the real one, first of four) and RssAnon, which the daemon uses for policies and the tuner. */
static void test_proc_status_uid_rss_anon(void **state) {
        _cleanup_free_ char *sleeping = fixture_read("proc/status-sleeping");
        _cleanup_free_ char *zombie = fixture_read("proc/status-zombie");
        ProcStatus st;

        assert_int_equal(proc_status_parse(sleeping, &st), 0);
        assert_int_equal(st.uid, 0);
        assert_true(st.rss_anon_bytes == 108ULL * 1024);
        assert_int_equal(proc_status_parse(zombie, &st), 0);        /* a zombie has no RssAnon line */
        assert_true(st.rss_anon_bytes == 0);
        assert_int_equal(proc_status_parse("State:\tS (sleeping)\nTgid:\t5\nPid:\t5\nPPid:\t1\nTracerPid:\t0\n"
                                           "Uid:\t1000\t0\t0\t0\nRssAnon:\t  12 kB\n", &st), 0);
        assert_int_equal(st.uid, 1000);                         /* real, not effective */
        assert_true(st.rss_anon_bytes == 12 * 1024);
        assert_int_equal(proc_status_parse("State:\tS (sleeping)\nTgid:\t5\nPid:\t5\nPPid:\t1\nTracerPid:\t0\n"
                                           "RssAnon:\t12 MB\n", &st), -EBADMSG);
        assert_int_equal(proc_status_parse("State:\tS (sleeping)\nTgid:\t5\nPid:\t5\nPPid:\t1\nTracerPid:\t0\n"
                                           "Uid:\tx\t0\t0\t0\n", &st), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_proc_status_uid_rss_anon),
                cmocka_unit_test(test_proc_status_parse_real),
                cmocka_unit_test(test_proc_status_parse_no_seccomp),
                cmocka_unit_test(test_proc_status_parse_malformed_fixtures),
                cmocka_unit_test(test_proc_status_parse_minimal),
                cmocka_unit_test(test_proc_status_parse_malformed),
                cmocka_unit_test(test_proc_status_parse_invalid_args),
                cmocka_unit_test(test_task_syscall_parse_real),
                cmocka_unit_test(test_task_syscall_parse_valid),
                cmocka_unit_test(test_task_syscall_parse_malformed),
                cmocka_unit_test(test_syscall_never_restarted_table),
                cmocka_unit_test(test_syscall_never_restarted_real),
                cmocka_unit_test(test_thread_choose_table),
                cmocka_unit_test(test_thread_choose_epoll_only),
                cmocka_unit_test(test_proc_status_read_at_procfs),
                cmocka_unit_test(test_task_syscall_read_at_procfs),
                cmocka_unit_test(test_thread_choose_procfs),
                cmocka_unit_test(test_proc_status_read_at_real),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
