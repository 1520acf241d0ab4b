/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-cgroup.c - cgroup2 mount discovery from mountinfo (hybrid, pure v2, escaped, v1-only), the
 * v2 path of a process from /proc/PID/cgroup, and cgroup_collect_pids() on a scratch tree shaped
 * like cgroupfs (directories with cgroup.procs, nested children).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- cgroup_collect_pids() on a scratch cgroupfs ---- */

/*
 * <root>/cgroup.procs                                  1
 * <root>/system.slice/cgroup.procs                     (empty)
 * <root>/system.slice/a.service/cgroup.procs           100 101 102
 * <root>/system.slice/b.service/cgroup.procs           200
 * <root>/system.slice/b.service/sub/cgroup.procs       201 202
 * <root>/system.slice/b.service/sub/deeper/cgroup.procs 203
 * <root>/system.slice/b.service/cgroup.controllers    (a file: never descended into)
 * <root>/user.slice/cgroup.procs                       (empty)
 * <root>/empty.scope/cgroup.procs                      (empty)
 */
static void make_tree(const char *root) {
        scratch_write(root, "cgroup.procs", "1\n");
        scratch_write(root, "cgroup.controllers", "cpu memory pids\n");
        scratch_write(root, "system.slice/cgroup.procs", "");
        scratch_write(root, "system.slice/a.service/cgroup.procs", "100\n101\n102\n");
        scratch_write(root, "system.slice/b.service/cgroup.procs", "200\n");
        scratch_write(root, "system.slice/b.service/cgroup.controllers", "");
        scratch_write(root, "system.slice/b.service/sub/cgroup.procs", "201\n202\n");
        scratch_write(root, "system.slice/b.service/sub/deeper/cgroup.procs", "203\n");
        scratch_write(root, "user.slice/cgroup.procs", "");
        scratch_write(root, "empty.scope/cgroup.procs", "");
}

static void scratch_mkdir(const char *root, const char *rel) {
        _cleanup_free_ char *p = NULL;

        assert_se(asprintf(&p, "%s/%s", root, rel) >= 0);
        assert_se(mkdir(p, 0755) >= 0);
}

#define ALL_SYSTEM_SLICE ((const pid_t[]) { 100, 101, 102, 200, 201, 202, 203 })

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;

        return x < y ? -1 : x > y;
}

/* Collects, sorts (readdir order is arbitrary) and compares with @expected. */
static void assert_collect(const char *root, const char *path, bool recursive,
                           const pid_t *expected, size_t n_expected) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = SIZE_MAX;

        assert_int_equal(cgroup_collect_pids(root, path, recursive, &pids, &n), 0);
        assert_int_equal(n, n_expected);
        if (n > 0) {
                assert_non_null(pids);
                qsort(pids, n, sizeof(pid_t), pid_compare);
        }
        for (size_t i = 0; i < n; i++)
                if (pids[i] != expected[i])
                        fail_msg("%s%s: pid #%zu is %d, expected %d", path,
                                 recursive ? " (recursive)" : "", i, (int) pids[i], (int) expected[i]);
}

static void assert_collect_fails(const char *root, const char *path, bool recursive, int expected) {
        pid_t *pids = (pid_t *) 0x1;
        size_t n = 4242;

        assert_int_equal(cgroup_collect_pids(root, path, recursive, &pids, &n), expected);
        /* outputs untouched on failure */
        assert_ptr_equal(pids, (pid_t *) 0x1);
        assert_int_equal(n, 4242);
}

static void test_cgroup_collect_pids_flat(void **state) {
        const char *root = *state;

        make_tree(root);
        assert_collect(root, "/system.slice/a.service", false, (const pid_t[]) { 100, 101, 102 }, 3);
        assert_collect(root, "/system.slice/b.service", false, (const pid_t[]) { 200 }, 1);
        assert_collect(root, "/system.slice/b.service/sub", false, (const pid_t[]) { 201, 202 }, 2);
        /* the root cgroup, spelled "/" */
        assert_collect(root, "/", false, (const pid_t[]) { 1 }, 1);
        /* doubled and trailing slashes name the same cgroup */
        assert_collect(root, "//system.slice//a.service/", false, (const pid_t[]) { 100, 101, 102 }, 3);
}

static void test_cgroup_collect_pids_recursive(void **state) {
        const char *root = *state;

        make_tree(root);
        assert_collect(root, "/system.slice/b.service", true, (const pid_t[]) { 200, 201, 202, 203 }, 4);
        assert_collect(root, "/system.slice", true, ALL_SYSTEM_SLICE, 7);
        assert_collect(root, "/", true, (const pid_t[]) { 1, 100, 101, 102, 200, 201, 202, 203 }, 8);
        /* a leaf: the same either way */
        assert_collect(root, "/system.slice/b.service/sub/deeper", true, (const pid_t[]) { 203 }, 1);
}

static void test_cgroup_collect_pids_empty(void **state) {
        const char *root = *state;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = SIZE_MAX;

        make_tree(root);
        assert_int_equal(cgroup_collect_pids(root, "/empty.scope", false, &pids, &n), 0);
        assert_int_equal(n, 0);
        /* recursive over empty cgroups only */
        n = SIZE_MAX;
        assert_int_equal(cgroup_collect_pids(root, "/user.slice", true, &pids, &n), 0);
        assert_int_equal(n, 0);
        /* a parent with no processes of its own, non-recursive */
        assert_collect(root, "/system.slice", false, NULL, 0);
        /* blank lines are not PIDs */
        scratch_write(root, "empty.scope/cgroup.procs", "\n\n");
        assert_collect(root, "/empty.scope", true, NULL, 0);
}

static void test_cgroup_collect_pids_missing(void **state) {
        const char *root = *state;
        _cleanup_free_ char *gone_root = NULL;

        make_tree(root);
        assert_collect_fails(root, "/system.slice/nope.service", false, -ENOENT);
        assert_collect_fails(root, "/system.slice/nope.service", true, -ENOENT);
        assert_collect_fails(root, "/no.slice/a.service", true, -ENOENT);
        /* a directory without cgroup.procs is not a cgroup */
        scratch_mkdir(root, "not-a-cgroup");
        assert_collect_fails(root, "/not-a-cgroup", false, -ENOENT);
        /* a file is not a cgroup either */
        assert_collect_fails(root, "/system.slice/a.service/cgroup.procs", false, -ENOTDIR);
        /* the root itself missing */
        assert_se(asprintf(&gone_root, "%s/unmounted", root) >= 0);
        assert_collect_fails(gone_root, "/", false, -ENOENT);
}

static void test_cgroup_collect_pids_child_vanished(void **state) {
        const char *root = *state;

        /* a child directory without cgroup.procs (removed while we walk) is skipped, not an error */
        make_tree(root);
        scratch_mkdir(root, "system.slice/dying.service");
        assert_collect(root, "/system.slice", true, ALL_SYSTEM_SLICE, 7);
}

static void test_cgroup_collect_pids_bad_path(void **state) {
        static const char *const bad[] = {
                "",
                "system.slice",
                "./system.slice",
                "../etc",
                "/../etc",
                "/system.slice/../..",
                "/system.slice/../user.slice",
                "/system.slice/a.service/../../..",
                "/..",
                "/system.slice/..",
        };
        const char *root = *state;

        make_tree(root);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                pid_t *pids = NULL;
                size_t n = 4242;

                if (cgroup_collect_pids(root, bad[i], true, &pids, &n) != -EINVAL)
                        fail_msg("path '%s' accepted", bad[i]);
                assert_null(pids);
                assert_int_equal(n, 4242);
        }
        assert_collect_fails(root, NULL, false, -EINVAL);
        assert_collect_fails(NULL, "/", false, -EINVAL);
        /* ".." inside a name is just a name */
        scratch_write(root, "a..b/cgroup.procs", "7\n");
        assert_collect(root, "/a..b", false, (const pid_t[]) { 7 }, 1);
}

static void test_cgroup_collect_pids_malformed(void **state) {
        static const char *const bad[] = {
                "abc\n",
                "12abc\n",
                "100\nx\n",
                "0\n",
                "-5\n",
                "100 101\n",
                "2147483648\n",
                "99999999999999999999\n",
                "0x10\n",
                "1.5\n",
        };
        const char *root = *state;

        make_tree(root);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                pid_t *pids = NULL;
                size_t n = 4242;

                scratch_write(root, "system.slice/b.service/sub/deeper/cgroup.procs", bad[i]);
                /* directly */
                if (cgroup_collect_pids(root, "/system.slice/b.service/sub/deeper", false,
                                        &pids, &n) != -EBADMSG)
                        fail_msg("cgroup.procs '%s' accepted", bad[i]);
                /* and from an ancestor, recursively */
                if (cgroup_collect_pids(root, "/system.slice", true, &pids, &n) != -EBADMSG)
                        fail_msg("cgroup.procs '%s' accepted in a descendant", bad[i]);
                assert_null(pids);
                assert_int_equal(n, 4242);
                /* not looked at without recursion */
                assert_collect(root, "/system.slice/b.service", false, (const pid_t[]) { 200 }, 1);
        }
}

static void test_cgroup_collect_pids_many(void **state) {
        const char *root = *state;
        _cleanup_free_ char *procs = NULL;
        _cleanup_free_ pid_t *expected = NULL;
        size_t len = 0;
        FILE *f;

        /* more than one allocation step, spread over two cgroups */
        f = open_memstream(&procs, &len);
        assert_non_null(f);
        expected = new0(pid_t, 1000);
        assert_non_null(expected);
        for (size_t i = 0; i < 1000; i++) {
                expected[i] = (pid_t) (1000 + i);
                if (i < 500)
                        fprintf(f, "%d\n", (int) expected[i]);
        }
        assert_int_equal(fclose(f), 0);
        scratch_write(root, "big/cgroup.procs", procs);
        free(procs);

        f = open_memstream(&procs, &len);
        assert_non_null(f);
        for (size_t i = 500; i < 1000; i++)
                fprintf(f, "%d\n", (int) expected[i]);
        assert_int_equal(fclose(f), 0);
        scratch_write(root, "big/child/cgroup.procs", procs);

        assert_collect(root, "/big", true, expected, 1000);
        assert_collect(root, "/big", false, expected, 500);
}

static void test_cgroup_collect_pids_depth(void **state) {
        const char *root = *state;
        char path[4 + 2 * 70] = "/big", procs[sizeof(path) + 16];
        size_t len = 4;

        /* /big plus 64 levels of descendants is the deepest walked; one more is -ELOOP */
        scratch_write(root, "big/cgroup.procs", "1\n");
        for (unsigned d = 1; d <= 64; d++) {
                path[len++] = '/';
                path[len++] = 'd';
                path[len] = 0;
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", path + 1);
                scratch_write(root, procs, "2\n");
        }
        assert_collect(root, "/big", false, (const pid_t[]) { 1 }, 1);
        {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;

                assert_int_equal(cgroup_collect_pids(root, "/big", true, &pids, &n), 0);
                assert_int_equal(n, 65);
        }
        path[len++] = '/';
        path[len++] = 'd';
        path[len] = 0;
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", path + 1);
        scratch_write(root, procs, "3\n");
        assert_collect_fails(root, "/big", true, -ELOOP);
        /* from one level further down it fits again */
        {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;

                assert_int_equal(cgroup_collect_pids(root, "/big/d", true, &pids, &n), 0);
                assert_int_equal(n, 65);
        }
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
                SCRATCH_TEST(test_cgroup_collect_pids_flat),
                SCRATCH_TEST(test_cgroup_collect_pids_recursive),
                SCRATCH_TEST(test_cgroup_collect_pids_empty),
                SCRATCH_TEST(test_cgroup_collect_pids_missing),
                SCRATCH_TEST(test_cgroup_collect_pids_child_vanished),
                SCRATCH_TEST(test_cgroup_collect_pids_bad_path),
                SCRATCH_TEST(test_cgroup_collect_pids_malformed),
                SCRATCH_TEST(test_cgroup_collect_pids_many),
                SCRATCH_TEST(test_cgroup_collect_pids_depth),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
