/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-pidref.c - PidRef on a real child process (fork + pause, no privileges needed), identity
 * checks against a fake procfs, and pidfd_open() failures through --wrap=sys_pidfd_open.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "macro.h"
#include "pidref.h"
#include "proc-stat.h"
#include "sys.h"

/* --wrap=sys_pidfd_open: fail with wrap_pidfd_errno when it is set, else call the real shim. */
int __real_sys_pidfd_open(pid_t pid, unsigned flags);
int __wrap_sys_pidfd_open(pid_t pid, unsigned flags);

static int wrap_pidfd_errno = 0;

int __wrap_sys_pidfd_open(pid_t pid, unsigned flags) {
        if (wrap_pidfd_errno != 0) {
                errno = wrap_pidfd_errno;
                return -1;
        }
        return __real_sys_pidfd_open(pid, flags);
}

typedef struct Fixture {
        pid_t child;
        int proc_fd;
        char *scratch;
} Fixture;

static void reap(pid_t pid) {
        int status;

        assert_se(waitpid(pid, &status, 0) == pid);
}

static pid_t spawn_child(void) {
        pid_t pid = fork();

        assert_se(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
                _exit(EXIT_SUCCESS);
        }
        return pid;
}

static int setup_child(void **state) {
        Fixture *f = new0(Fixture, 1);

        assert_se(f);
        f->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_se(f->proc_fd >= 0);
        f->child = spawn_child();
        f->scratch = scratch_new();
        wrap_pidfd_errno = 0;
        *state = f;
        return 0;
}

static int teardown_child(void **state) {
        Fixture *f = *state;

        if (f->child > 0) {
                (void) kill(f->child, SIGKILL);
                reap(f->child);
        }
        safe_close(f->proc_fd);
        scratch_remove(f->scratch);
        wrap_pidfd_errno = 0;
        free(f);
        return 0;
}

#define CHILD_TEST(f) cmocka_unit_test_setup_teardown(f, setup_child, teardown_child)

static uint64_t start_time_of(int proc_fd, pid_t pid) {
        ProcStat st;

        assert_int_equal(proc_stat_read_at(proc_fd, pid, &st), 0);
        assert_int_equal(st.pid, pid);
        return st.start_time_ticks;
}

/* Waits until the pidfd of @p is readable, i.e. the process has exited (zombie or reaped). */
static void wait_exited(const PidRef *p) {
        struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

        assert_int_equal(poll(&pfd, 1, 5000), 1);
}

static void test_pidref_open_any_start_time(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL;

        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), 0);
        assert_int_equal(p.pid, f->child);
        assert_true(p.pidfd >= 0);
        assert_true(p.start_time_ticks == start_time_of(f->proc_fd, f->child));
        assert_int_equal(pidref_is_alive(&p), 1);
        assert_int_equal(pidref_verify(f->proc_fd, &p), 1);

        pidref_done(&p);
        assert_int_equal(p.pid, 0);
        assert_int_equal(p.pidfd, -EBADF);
        /* done twice is harmless */
        pidref_done(&p);
        pidref_done(NULL);
}

static void test_pidref_open_expected_start_time(void **state) {
        Fixture *f = *state;
        uint64_t start = start_time_of(f->proc_fd, f->child);
        PidRef p = PIDREF_NULL, q = { .pid = 4711, .pidfd = 4711 };

        assert_int_equal(pidref_open(f->proc_fd, f->child, start, &p), 0);
        assert_int_equal(p.pid, f->child);
        assert_true(p.start_time_ticks == start);
        assert_int_equal(pidref_verify(f->proc_fd, &p), 1);
        pidref_done(&p);

        /* a different start time means a different process that reuses the PID */
        assert_int_equal(pidref_open(f->proc_fd, f->child, start + 1, &q), -ESRCH);
        assert_int_equal(pidref_open(f->proc_fd, f->child, 0, &q), -ESRCH);
        /* *ret is left alone on failure */
        assert_int_equal(q.pid, 4711);
        assert_int_equal(q.pidfd, 4711);
}

static void test_pidref_exit_and_reap(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL, q = PIDREF_NULL;

        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), 0);
        assert_int_equal(pidref_is_alive(&p), 1);

        /* killed through the pidfd, not yet reaped: a zombie is not alive */
        assert_int_equal(pidref_kill(&p, SIGKILL), 0);
        wait_exited(&p);
        assert_int_equal(pidref_is_alive(&p), 0);
        assert_int_equal(pidref_verify(f->proc_fd, &p), 0);

        reap(f->child);
        assert_int_equal(pidref_is_alive(&p), 0);
        assert_int_equal(pidref_verify(f->proc_fd, &p), 0);
        /* signalling a reaped process through its pidfd fails cleanly */
        assert_int_equal(pidref_kill(&p, 0), -ESRCH);

        /* the PID is free now */
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &q), -ESRCH);
        f->child = 0;
        pidref_done(&p);
}

static void test_pidref_kill_signal(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL;
        int status;

        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), 0);
        assert_int_equal(pidref_kill(&p, 0), 0);
        assert_int_equal(pidref_kill(&p, SIGTERM), 0);
        assert_int_equal(waitpid(f->child, &status, 0), f->child);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGTERM);
        f->child = 0;
        assert_int_equal(pidref_is_alive(&p), 0);
        pidref_done(&p);
}

static void test_pidref_verify_recycled(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fake_fd = -EBADF;
        _cleanup_free_ char *name = NULL, *line = NULL;
        PidRef p = PIDREF_NULL;

        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), 0);

        /* A procfs whose PID entry shows another start time: the PID was recycled. */
        assert_true(asprintf(&name, "%d/stat", (int) f->child) >= 0);
        assert_true(asprintf(&line, "%d (other) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu\n",
                             (int) f->child, (unsigned long long) p.start_time_ticks + 100) >= 0);
        scratch_write(f->scratch, name, line);
        fake_fd = open(f->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fake_fd >= 0);
        assert_int_equal(pidref_verify(fake_fd, &p), 0);

        /* and a procfs where the PID has no entry at all */
        assert_int_equal(unlinkat(fake_fd, name, 0), 0);
        assert_int_equal(pidref_verify(fake_fd, &p), 0);

        /* the real one still agrees */
        assert_int_equal(pidref_verify(f->proc_fd, &p), 1);
        pidref_done(&p);
}

static void test_pidref_open_bad_procfs(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fake_fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        PidRef p = PIDREF_NULL;

        fake_fd = open(f->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fake_fd >= 0);

        /* no stat file for the PID */
        assert_int_equal(pidref_open(fake_fd, f->child, UINT64_MAX, &p), -ESRCH);

        /* a stat file that names another PID */
        assert_true(asprintf(&name, "%d/stat", (int) f->child) >= 0);
        scratch_write(f->scratch, name, "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n");
        assert_int_equal(pidref_open(fake_fd, f->child, UINT64_MAX, &p), -EBADMSG);

        /* a malformed one */
        scratch_write(f->scratch, name, "garbage\n");
        assert_int_equal(pidref_open(fake_fd, f->child, UINT64_MAX, &p), -EBADMSG);
        assert_int_equal(p.pid, 0);
        assert_int_equal(p.pidfd, -EBADF);
}

static void test_pidref_open_self(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL;

        assert_int_equal(pidref_open(f->proc_fd, getpid(), start_time_of(f->proc_fd, getpid()), &p), 0);
        assert_int_equal(pidref_is_alive(&p), 1);
        assert_int_equal(pidref_verify(f->proc_fd, &p), 1);
        pidref_done(&p);
}

static void test_pidref_invalid_args(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL;

        assert_int_equal(pidref_open(f->proc_fd, 0, UINT64_MAX, &p), -EINVAL);
        assert_int_equal(pidref_open(f->proc_fd, -1, UINT64_MAX, &p), -EINVAL);
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, NULL), -EINVAL);
        assert_int_equal(pidref_is_alive(&p), -EBADF);
        assert_int_equal(pidref_is_alive(NULL), -EBADF);
        assert_int_equal(pidref_verify(f->proc_fd, &p), -EBADF);
        assert_int_equal(pidref_kill(&p, SIGTERM), -EBADF);
        assert_int_equal(pidref_kill(NULL, SIGTERM), -EBADF);
}

static void test_pidref_open_pidfd_errors(void **state) {
        Fixture *f = *state;
        PidRef p = PIDREF_NULL;

        /* errno from pidfd_open() is passed on as is */
        wrap_pidfd_errno = EMFILE;
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), -EMFILE);
        wrap_pidfd_errno = ENOSYS;
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), -ENOSYS);
        wrap_pidfd_errno = ESRCH;
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), -ESRCH);
        assert_int_equal(p.pidfd, -EBADF);

        wrap_pidfd_errno = 0;
        assert_int_equal(pidref_open(f->proc_fd, f->child, UINT64_MAX, &p), 0);
        pidref_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                CHILD_TEST(test_pidref_open_any_start_time),
                CHILD_TEST(test_pidref_open_expected_start_time),
                CHILD_TEST(test_pidref_exit_and_reap),
                CHILD_TEST(test_pidref_kill_signal),
                CHILD_TEST(test_pidref_verify_recycled),
                CHILD_TEST(test_pidref_open_bad_procfs),
                CHILD_TEST(test_pidref_open_self),
                CHILD_TEST(test_pidref_invalid_args),
                CHILD_TEST(test_pidref_open_pidfd_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
