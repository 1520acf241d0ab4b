/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-cgroup.c - cgroup2 mount discovery from mountinfo (hybrid, pure v2, escaped, v1-only) and
 * the v2 path of a process from /proc/PID/cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fixture.h"
#include "macro.h"

static char *find_mount(const char *rel, int expected) {
        _cleanup_free_ char *buf = fixture_read(rel);
        char *m = NULL;

        assert_int_equal(cgroup2_find_mount_parse(buf, &m), expected);
        return m;
}

static char *v2_path(const char *rel, int expected) {
        _cleanup_free_ char *buf = fixture_read(rel);
        char *p = NULL;

        assert_int_equal(cgroup_parse_v2_path(buf, &p), expected);
        return p;
}

static void test_cgroup2_find_mount_hybrid(void **state) {
        _cleanup_free_ char *m = find_mount("proc/mountinfo-hybrid", 0);

        /* this machine: v1 controllers plus cgroup2 at .../unified */
        assert_string_equal(m, "/sys/fs/cgroup/unified");
}

static void test_cgroup2_find_mount_v2(void **state) {
        _cleanup_free_ char *m = find_mount("proc/mountinfo-v2", 0);

        /* optional fields ("shared:4") before the separator */
        assert_string_equal(m, "/sys/fs/cgroup");
}

static void test_cgroup2_find_mount_escaped(void **state) {
        _cleanup_free_ char *m = find_mount("proc/mountinfo-v2-escaped", 0);

        /* \040 is a space, \134 a backslash */
        assert_string_equal(m, "/mnt/my cgroup\\root");
}

static void test_cgroup2_find_mount_absent(void **state) {
        char *m = find_mount("proc/mountinfo-v1only", -ENOENT);

        assert_null(m);
        assert_int_equal(cgroup2_find_mount_parse("", &m), -ENOENT);
        assert_null(m);
}

static void test_cgroup2_find_mount_malformed(void **state) {
        char *m = NULL;

        /* a line without " - " */
        assert_int_equal(cgroup2_find_mount_parse("garbage line\n", &m), -EBADMSG);
        assert_int_equal(cgroup2_find_mount_parse("22 1 0:21 / /proc rw,relatime proc proc rw\n", &m),
                         -EBADMSG);
        /* a cgroup2 line with fewer than five fields before the separator */
        assert_int_equal(cgroup2_find_mount_parse("30 23 0:26 / - cgroup2 cgroup2 rw\n", &m), -EBADMSG);
        assert_null(m);
        assert_int_equal(cgroup2_find_mount_parse(NULL, &m), -EINVAL);
        assert_int_equal(cgroup2_find_mount_parse("", NULL), -EINVAL);
}

static void test_cgroup2_find_mount_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        _cleanup_free_ char *m = NULL;

        assert_int_equal(cgroup2_find_mount_at(proc_fd, &m), 0);
        assert_string_equal(m, "/sys/fs/cgroup/unified");
}

static void test_cgroup2_find_mount_at_real(void **state) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *m = NULL;
        int r;

        /* whatever this host has: a path, or no cgroup2 at all */
        assert_true(proc_fd >= 0);
        r = cgroup2_find_mount_at(proc_fd, &m);
        assert_true(r == 0 || r == -ENOENT);
        if (r == 0)
                assert_int_equal(m[0], '/');
}

static void test_cgroup_parse_v2_path_fixtures(void **state) {
        _cleanup_free_ char *hybrid = v2_path("proc/cgroup-hybrid", 0);
        _cleanup_free_ char *v2 = v2_path("proc/cgroup-v2", 0);
        _cleanup_free_ char *deleted = v2_path("proc/cgroup-v2-deleted", 0);
        _cleanup_free_ char *kthread = v2_path("proc/cgroup-kthread", 0);

        assert_string_equal(hybrid, "/");
        assert_string_equal(v2, "/system.slice/ksmtuned-ng.service");
        assert_string_equal(deleted, "/user.slice/user-1000.slice/session-3.scope (deleted)");
        assert_string_equal(kthread, "/");
}

static void test_cgroup_parse_v2_path_absent(void **state) {
        char *p = v2_path("proc/cgroup-v1only", -ENODATA);

        assert_null(p);
        assert_int_equal(cgroup_parse_v2_path("", &p), -ENODATA);
        /* "0:" with a controller is a v1 hierarchy, not the v2 line */
        assert_int_equal(cgroup_parse_v2_path("0:cpu:/\n", &p), -ENODATA);
        assert_null(p);
}

static void test_cgroup_parse_v2_path_malformed(void **state) {
        char *p = NULL;

        assert_int_equal(cgroup_parse_v2_path("0::\n", &p), -EBADMSG);
        assert_int_equal(cgroup_parse_v2_path("0::relative/path\n", &p), -EBADMSG);
        assert_int_equal(cgroup_parse_v2_path("1:cpu:/\n0::", &p), -EBADMSG);
        assert_null(p);
        assert_int_equal(cgroup_parse_v2_path(NULL, &p), -EINVAL);
        assert_int_equal(cgroup_parse_v2_path("0::/\n", NULL), -EINVAL);
}

static void test_cgroup_pid_get_path_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(cgroup_pid_get_path_at(proc_fd, 2222, &a), 0);
        assert_string_equal(a, "/system.slice/worker.service");
        assert_int_equal(cgroup_pid_get_path_at(proc_fd, 37, &b), 0);
        assert_string_equal(b, "/");
        assert_int_equal(cgroup_pid_get_path_at(proc_fd, 4891, &c), 0);
        assert_string_equal(c, "/");
        /* gone, or no cgroup file: -ESRCH */
        assert_int_equal(cgroup_pid_get_path_at(proc_fd, 99999, &a), -ESRCH);
        assert_int_equal(cgroup_pid_get_path_at(proc_fd, 3333, &a), -ESRCH);
}

static void test_cgroup_pid_get_path_at_real(void **state) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *p = NULL;
        int r;

        assert_true(proc_fd >= 0);
        r = cgroup_pid_get_path_at(proc_fd, getpid(), &p);
        assert_true(r == 0 || r == -ENODATA);
        if (r == 0)
                assert_int_equal(p[0], '/');
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgroup2_find_mount_hybrid),
                cmocka_unit_test(test_cgroup2_find_mount_v2),
                cmocka_unit_test(test_cgroup2_find_mount_escaped),
                cmocka_unit_test(test_cgroup2_find_mount_absent),
                cmocka_unit_test(test_cgroup2_find_mount_malformed),
                cmocka_unit_test(test_cgroup2_find_mount_at_procfs),
                cmocka_unit_test(test_cgroup2_find_mount_at_real),
                cmocka_unit_test(test_cgroup_parse_v2_path_fixtures),
                cmocka_unit_test(test_cgroup_parse_v2_path_absent),
                cmocka_unit_test(test_cgroup_parse_v2_path_malformed),
                cmocka_unit_test(test_cgroup_pid_get_path_at_procfs),
                cmocka_unit_test(test_cgroup_pid_get_path_at_real),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
