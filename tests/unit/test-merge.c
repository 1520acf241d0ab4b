/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-merge.c - the merge engine's non-ptrace parts: backend/outcome/reason names, the return
 * conventions of merge_result_set(), PR_SET_MEMORY_MERGE detection, the exec-time path (in a
 * child) and the backend probe.  Injection itself is covered by the integration tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "merge-internal.h"
#include "merge.h"
#include "missing.h"

/* A stable identifier: non-empty, lower case letters and '-' only. */
static void assert_identifier(const char *s) {
        assert_non_null(s);
        assert_true(s[0] != 0);
        assert_int_equal(strspn(s, "abcdefghijklmnopqrstuvwxyz-"), strlen(s));
}

/* Every name non-NULL, a stable identifier, and different from every other. */
static void assert_names_distinct(const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                assert_identifier(names[i]);
                for (size_t j = 0; j < i; j++)
                        if (streq(names[i], names[j]))
                                fail_msg("values %zu and %zu are both named '%s'", j, i, names[i]);
        }
}

static void test_merge_backend_to_string(void **state) {
        static const char *const expected[_MERGE_BACKEND_MAX] = {
                [MERGE_BACKEND_AUTO] = "auto",
                [MERGE_BACKEND_INJECT] = "inject",
                [MERGE_BACKEND_MADVISE] = "madvise",
        };
        const char *names[_MERGE_BACKEND_MAX];

        for (MergeBackend b = 0; b < _MERGE_BACKEND_MAX; b++) {
                names[b] = merge_backend_to_string(b);
                assert_non_null(names[b]);
                assert_string_equal(names[b], expected[b]);
        }
        assert_names_distinct(names, ELEMENTSOF(names));

        assert_null(merge_backend_to_string(_MERGE_BACKEND_MAX));
        assert_null(merge_backend_to_string(_MERGE_BACKEND_INVALID));
        assert_null(merge_backend_to_string((MergeBackend) -1));
        assert_null(merge_backend_to_string((MergeBackend) 1000));
}

static void test_merge_backend_from_string(void **state) {
        static const char *const bad[] = {
                "", "AUTO", "Inject", "inject ", " madvise", "ptrace", "process_madvise", "auto\n", "none",
        };

        /* round trip */
        for (MergeBackend b = 0; b < _MERGE_BACKEND_MAX; b++)
                assert_int_equal(merge_backend_from_string(merge_backend_to_string(b)), b);
        assert_int_equal(merge_backend_from_string("auto"), MERGE_BACKEND_AUTO);
        assert_int_equal(merge_backend_from_string("inject"), MERGE_BACKEND_INJECT);
        assert_int_equal(merge_backend_from_string("madvise"), MERGE_BACKEND_MADVISE);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(merge_backend_from_string(bad[i]), _MERGE_BACKEND_INVALID);
        assert_int_equal(merge_backend_from_string(NULL), _MERGE_BACKEND_INVALID);
        assert_int_equal(_MERGE_BACKEND_INVALID, -EINVAL);
}

static void test_merge_outcome_to_string(void **state) {
        static const char *const expected[_MERGE_OUTCOME_MAX] = {
                [MERGE_OUTCOME_DONE] = "done",
                [MERGE_OUTCOME_ALREADY] = "already",
                [MERGE_OUTCOME_SKIPPED] = "skipped",
                [MERGE_OUTCOME_FAILED] = "failed",
        };
        const char *names[_MERGE_OUTCOME_MAX];

        for (MergeOutcome o = 0; o < _MERGE_OUTCOME_MAX; o++) {
                names[o] = merge_outcome_to_string(o);
                assert_non_null(names[o]);
                assert_string_equal(names[o], expected[o]);
        }
        assert_names_distinct(names, ELEMENTSOF(names));

        assert_null(merge_outcome_to_string(_MERGE_OUTCOME_MAX));
        assert_null(merge_outcome_to_string((MergeOutcome) -1));
}

static void test_merge_reason_to_string(void **state) {
        static const char *const expected[_MERGE_REASON_MAX] = {
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
        const char *names[_MERGE_REASON_MAX];

        /* a new reason without a name here fails: expected[] has a NULL hole */
        for (MergeReason r = 0; r < _MERGE_REASON_MAX; r++) {
                names[r] = merge_reason_to_string(r);
                assert_non_null(expected[r]);
                assert_non_null(names[r]);
                assert_string_equal(names[r], expected[r]);
        }
        assert_names_distinct(names, ELEMENTSOF(names));

        assert_null(merge_reason_to_string(_MERGE_REASON_MAX));
        assert_null(merge_reason_to_string((MergeReason) -1));
}

static void test_merge_result_set_returns(void **state) {
        static const struct {
                MergeOutcome outcome;
                MergeReason reason;
                int error;
                int ret;
        } table[] = {
                { MERGE_OUTCOME_DONE,    MERGE_REASON_NONE,            0,            0 },
                { MERGE_OUTCOME_ALREADY, MERGE_REASON_NONE,            0,            0 },
                { MERGE_OUTCOME_SKIPPED, MERGE_REASON_TRACED,          0,            1 },
                /* an error is kept, and SKIPPED is still 1 */
                { MERGE_OUTCOME_SKIPPED, MERGE_REASON_GONE,            -ESRCH,       1 },
                { MERGE_OUTCOME_FAILED,  MERGE_REASON_NO_PERMISSION,   -EPERM,       -EPERM },
                { MERGE_OUTCOME_FAILED,  MERGE_REASON_NO_BACKEND,      -EOPNOTSUPP,  -EOPNOTSUPP },
                { MERGE_OUTCOME_FAILED,  MERGE_REASON_KERNEL_REFUSED,  -EINVAL,      -EINVAL },
                /* FAILED without a negative errno: -EIO, stored in res.error too */
                { MERGE_OUTCOME_FAILED,  MERGE_REASON_VERIFY_FAILED,   0,            -EIO },
                { MERGE_OUTCOME_FAILED,  MERGE_REASON_PTRACE_ERROR,    EPERM,        -EIO },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                MergeResult res = {
                        .pid = 4242, .backend = MERGE_BACKEND_INJECT, .tid = 4243,
                        .stopped_usec = 17, .eintr = true,
                };
                char expected[32];

                assert_int_equal(merge_result_set(&res, table[i].outcome, table[i].reason, table[i].error,
                                                  "case %zu: %s", i, "detail"), table[i].ret);
                assert_int_equal(res.outcome, table[i].outcome);
                assert_int_equal(res.reason, table[i].reason);
                /* a failure always carries a negative errno (the one returned) */
                assert_int_equal(res.error, table[i].outcome == MERGE_OUTCOME_FAILED ? table[i].ret : table[i].error);
                snprintf(expected, sizeof(expected), "case %zu: detail", i);
                assert_string_equal(res.detail, expected);
                /* the rest of the result is not touched */
                assert_int_equal(res.pid, 4242);
                assert_int_equal(res.backend, MERGE_BACKEND_INJECT);
                assert_int_equal(res.tid, 4243);
                assert_int_equal(res.stopped_usec, 17);
                assert_true(res.eintr);
        }
}

static void test_merge_result_set_detail(void **state) {
        char long_text[400];
        MergeResult res = {};

        /* longer than detail[]: truncated, always terminated */
        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = 0;
        assert_int_equal(merge_result_set(&res, MERGE_OUTCOME_SKIPPED, MERGE_REASON_SECCOMP, 0,
                                          "%s", long_text), 1);
        assert_int_equal(strlen(res.detail), sizeof(res.detail) - 1);
        assert_int_equal(res.detail[0], 'x');

        /* a later call replaces the detail */
        assert_int_equal(merge_result_set(&res, MERGE_OUTCOME_DONE, MERGE_REASON_NONE, 0,
                                          "pid %d: %s", 7, "done"), 0);
        assert_string_equal(res.detail, "pid 7: done");
        assert_int_equal(merge_result_set(&res, MERGE_OUTCOME_ALREADY, MERGE_REASON_NONE, 0, "%s", ""), 0);
        assert_string_equal(res.detail, "");
}

/* PR_SET_MEMORY_MERGE came with Linux 6.4, and needs CONFIG_KSM. */
static bool kernel_has_memory_merge(void) {
        struct utsname u;
        unsigned major = 0, minor = 0;

        assert_int_equal(uname(&u), 0);
        assert_int_equal(sscanf(u.release, "%u.%u", &major, &minor), 2);
        return (major > 6 || (major == 6 && minor >= 4)) && access("/sys/kernel/mm/ksm", F_OK) == 0;
}

static void test_merge_prctl_supported(void **state) {
        int before = prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);

        /* 6.18 here: 1 */
        assert_int_equal(merge_prctl_supported(), kernel_has_memory_merge() ? 1 : 0);
        /* asking changes nothing */
        assert_int_equal(prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0), before);
}

static void test_merge_exec_prepare(void **state) {
        int status;
        pid_t pid;

        /* in a child: it changes the calling process, and the flag is inherited over fork */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = merge_exec_prepare(), code = 0;

                if (merge_prctl_supported() > 0) {
                        if (r != 0)
                                code = 1;
                        else if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1)
                                code = 2;
                        else {
                                pid_t grandchild = fork();
                                int st;

                                if (grandchild == 0)
                                        _exit(prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) == 1 ? 0 : 1);
                                if (grandchild < 0 || waitpid(grandchild, &st, 0) != grandchild ||
                                    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                        code = 3;
                        }
                } else if (r != -EINVAL)
                        code = 4;
                _exit(code);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_merge_engine_probe(void **state) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_(merge_engine_freep) MergeEngine *e = NULL;
        const MergeProbe *p;

        assert_true(proc_fd >= 0);
        assert_int_equal(merge_engine_new(proc_fd, &e), 0);
        assert_non_null(e);
        p = merge_engine_probe(e);
        assert_non_null(p);

        assert_int_equal(p->prctl_supported, merge_prctl_supported() > 0);
        /* inject needs PR_SET_MEMORY_MERGE */
        if (!p->prctl_supported)
                assert_false(p->available[MERGE_BACKEND_INJECT]);
        /* AUTO is available iff one of the real backends is, and names it */
        assert_int_equal(p->available[MERGE_BACKEND_AUTO],
                         p->available[MERGE_BACKEND_INJECT] || p->available[MERGE_BACKEND_MADVISE]);
        assert_string_equal(p->why[MERGE_BACKEND_AUTO],
                            p->available[MERGE_BACKEND_INJECT] ? "inject" :
                            p->available[MERGE_BACKEND_MADVISE] ? "madvise" : "none available");
        for (MergeBackend b = 0; b < _MERGE_BACKEND_MAX; b++) {
                assert_true(p->why[b][0] != 0);
                assert_true(strnlen(p->why[b], sizeof(p->why[b])) < sizeof(p->why[b]));
        }

        /* freeing the engine closes its own copy, not the caller's fd */
        assert_int_equal(fcntl(proc_fd, F_GETFD), FD_CLOEXEC);
        assert_null(merge_engine_free(TAKE_PTR(e)));
        assert_int_equal(fcntl(proc_fd, F_GETFD), FD_CLOEXEC);
        assert_null(merge_engine_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_backend_to_string),
                cmocka_unit_test(test_merge_backend_from_string),
                cmocka_unit_test(test_merge_outcome_to_string),
                cmocka_unit_test(test_merge_reason_to_string),
                cmocka_unit_test(test_merge_result_set_returns),
                cmocka_unit_test(test_merge_result_set_detail),
                cmocka_unit_test(test_merge_prctl_supported),
                cmocka_unit_test(test_merge_exec_prepare),
                cmocka_unit_test(test_merge_engine_probe),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
