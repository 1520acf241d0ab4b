/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-fileio.c - bounded reads and single writes, on fixtures and on scratch files.
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

#include "fileio.h"
#include "fixture.h"
#include "macro.h"

static void test_read_virtual_file_at_fixture(void **state) {
        _cleanup_close_ int dfd = fixture_open_dir("sysfs/ksm-6.18");
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;

        assert_int_equal(read_virtual_file_at(dfd, "advisor_mode", 4096, &buf, &size), 0);
        assert_string_equal(buf, "[none] scan-time\n");
        assert_int_equal(size, strlen("[none] scan-time\n"));
}

static void test_read_virtual_file_at_absolute(void **state) {
        _cleanup_free_ char *path = fixture_path("proc/ksm_stat-6.1");
        _cleanup_free_ char *buf = NULL;

        /* an absolute path ignores the directory fd */
        assert_int_equal(read_virtual_file_at(-EBADF, path, 4096, &buf, NULL), 0);
        assert_string_equal(buf, "ksm_rmap_items 17\n");
}

static void test_read_virtual_file_at_empty(void **state) {
        _cleanup_close_ int dfd = fixture_open_dir("proc");
        _cleanup_free_ char *buf = NULL;
        size_t size = 4711;

        /* the real /proc/37/ksm_stat of ksmd is empty */
        assert_int_equal(read_virtual_file_at(dfd, "ksm_stat-kthread", 4096, &buf, &size), 0);
        assert_non_null(buf);
        assert_string_equal(buf, "");
        assert_int_equal(size, 0);
}

static void test_read_virtual_file_at_missing(void **state) {
        _cleanup_close_ int dfd = fixture_open_dir("proc");
        char *buf = NULL;

        assert_int_equal(read_virtual_file_at(dfd, "no-such-file", 4096, &buf, NULL), -ENOENT);
        assert_null(buf);
        assert_int_equal(read_virtual_file_at(dfd, NULL, 4096, &buf, NULL), -EINVAL);
        assert_int_equal(read_virtual_file_at(dfd, "meminfo", 4096, NULL, NULL), -EINVAL);
}

static void test_read_virtual_file_at_max(void **state) {
        const char *dir = *state;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *big = NULL;
        char *buf = NULL;
        size_t size;

        assert_true(dfd >= 0);
        scratch_write(dir, "ten", "0123456789");

        /* exactly @max bytes is allowed, one more is not */
        assert_int_equal(read_virtual_file_at(dfd, "ten", 10, &buf, &size), 0);
        assert_string_equal(buf, "0123456789");
        assert_int_equal(size, 10);
        free(TAKE_PTR(buf));
        assert_int_equal(read_virtual_file_at(dfd, "ten", 9, &buf, NULL), -EFBIG);
        assert_null(buf);
        assert_int_equal(read_virtual_file_at(dfd, "ten", 0, &buf, NULL), -EFBIG);

        /* the same across the internal buffer growth (4096, 8192, …) */
        big = malloc(20000 + 1);
        assert_non_null(big);
        memset(big, 'x', 20000);
        big[20000] = 0;
        scratch_write(dir, "big", big);
        assert_int_equal(read_virtual_file_at(dfd, "big", 20000, &buf, &size), 0);
        assert_int_equal(size, 20000);
        assert_string_equal(buf, big);
        free(TAKE_PTR(buf));
        assert_int_equal(read_virtual_file_at(dfd, "big", 19999, &buf, NULL), -EFBIG);
        assert_int_equal(read_virtual_file_at(dfd, "big", 4096, &buf, NULL), -EFBIG);
        assert_int_equal(read_virtual_file_at(dfd, "big", READ_VIRTUAL_MAX, &buf, &size), 0);
        assert_int_equal(size, 20000);
        free(buf);
}

static void test_read_virtual_file_at_nul(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *buf = NULL;

        assert_true(asprintf(&path, "%s/nul", dir) >= 0);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "12\0" "34\n", 6), 6);

        assert_int_equal(read_virtual_file_at(AT_FDCWD, path, 4096, &buf, NULL), -EBADMSG);
        assert_null(buf);
}

static void test_read_virtual_file_at_directory(void **state) {
        const char *dir = *state;
        char *buf = NULL;

        assert_int_equal(read_virtual_file_at(AT_FDCWD, dir, 4096, &buf, NULL), -EISDIR);
}

static void test_write_string_file_at_replaces(void **state) {
        const char *dir = *state;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *a = NULL, *b = NULL;

        assert_true(dfd >= 0);
        scratch_write(dir, "knob", "100\n");

        assert_int_equal(write_string_file_at(dfd, "knob", "5000"), 0);
        a = scratch_read(dir, "knob");
        assert_string_equal(a, "5000");

        /* a shorter value must not leave the tail of the old one behind */
        assert_int_equal(write_string_file_at(dfd, "knob", "5"), 0);
        b = scratch_read(dir, "knob");
        assert_string_equal(b, "5");
}

static void test_write_string_file_at_no_create(void **state) {
        const char *dir = *state;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(dfd >= 0);
        assert_int_equal(write_string_file_at(dfd, "absent", "1"), -ENOENT);
        assert_int_equal(faccessat(dfd, "absent", F_OK, 0), -1);
        assert_int_equal(write_string_file_at(dfd, NULL, "1"), -EINVAL);
        assert_int_equal(write_string_file_at(dfd, "absent", NULL), -EINVAL);
        assert_int_equal(write_string_file_at(dfd, ".", "1"), -EISDIR);
}

static void test_strstrip_cases(void **state) {
        char a[] = "  a b \n", b[] = "", c[] = " \t\n ", d[] = "x";

        assert_string_equal(strstrip(a), "a b");
        assert_string_equal(strstrip(b), "");
        assert_string_equal(strstrip(c), "");
        assert_string_equal(strstrip(d), "x");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_virtual_file_at_fixture),
                cmocka_unit_test(test_read_virtual_file_at_absolute),
                cmocka_unit_test(test_read_virtual_file_at_empty),
                cmocka_unit_test(test_read_virtual_file_at_missing),
                SCRATCH_TEST(test_read_virtual_file_at_max),
                SCRATCH_TEST(test_read_virtual_file_at_nul),
                SCRATCH_TEST(test_read_virtual_file_at_directory),
                SCRATCH_TEST(test_write_string_file_at_replaces),
                SCRATCH_TEST(test_write_string_file_at_no_create),
                cmocka_unit_test(test_strstrip_cases),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
