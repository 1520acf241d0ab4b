/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-log.c - level and target names, and what the stderr backend writes (stderr is redirected
 * to a scratch file, so no journal is involved).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "fixture.h"
#include "log.h"
#include "macro.h"

typedef struct Capture {
        char *dir;
        char *path;
        int saved_stderr;
} Capture;

static int setup_capture(void **state) {
        Capture *c = new0(Capture, 1);
        int fd;

        assert_se(c);
        c->dir = scratch_new();
        assert_se(asprintf(&c->path, "%s/stderr", c->dir) >= 0);
        fflush(stderr);
        c->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        assert_se(c->saved_stderr >= 0);
        fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_se(fd >= 0);
        assert_se(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
        close(fd);

        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        log_set_ident(NULL);
        *state = c;
        return 0;
}

static int teardown_capture(void **state) {
        Capture *c = *state;

        fflush(stderr);
        assert_se(dup2(c->saved_stderr, STDERR_FILENO) == STDERR_FILENO);
        close(c->saved_stderr);
        log_set_target(LOG_TARGET_AUTO);
        log_set_max_level(LOG_INFO);
        scratch_remove(c->dir);
        free(c->path);
        free(c);
        return 0;
}

/* Everything written to stderr so far. */
static char *captured(Capture *c) {
        char *buf = NULL;

        fflush(stderr);
        assert_int_equal(read_virtual_file_at(AT_FDCWD, c->path, READ_VIRTUAL_MAX, &buf, NULL), 0);
        return buf;
}

static void test_log_level_from_string_names(void **state) {
        static const char *const names[] = {
                "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        };

        for (int i = 0; i < (int) ELEMENTSOF(names); i++) {
                char num[4];

                assert_int_equal(log_level_from_string(names[i]), i);
                assert_string_equal(log_level_to_string(i), names[i]);
                snprintf(num, sizeof(num), "%d", i);
                assert_int_equal(log_level_from_string(num), i);
        }
        assert_int_equal(log_level_from_string("error"), LOG_ERR);
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("emerg"), LOG_EMERG);
}

static void test_log_level_from_string_invalid(void **state) {
        static const char *const bad[] = {
                "", "8", "-1", " 3", "3 ", "DEBUG", "Info", "warn", "verbose", "07x", "99999999999",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (log_level_from_string(bad[i]) != -EINVAL)
                        fail_msg("log level \"%s\" was not rejected", bad[i]);
        assert_int_equal(log_level_from_string(NULL), -EINVAL);
        assert_null(log_level_to_string(-1));
        assert_null(log_level_to_string(8));
}

static void test_log_target_from_string_names(void **state) {
        assert_int_equal(log_target_from_string("auto"), LOG_TARGET_AUTO);
        assert_int_equal(log_target_from_string("journal"), LOG_TARGET_JOURNAL);
        assert_int_equal(log_target_from_string("stderr"), LOG_TARGET_STDERR);
        for (LogTarget t = 0; t < _LOG_TARGET_MAX; t++)
                assert_int_equal(log_target_from_string(log_target_to_string(t)), t);

        assert_int_equal(log_target_from_string("syslog"), -EINVAL);
        assert_int_equal(log_target_from_string("Journal"), -EINVAL);
        assert_int_equal(log_target_from_string(""), -EINVAL);
        assert_int_equal(log_target_from_string(NULL), -EINVAL);
        assert_null(log_target_to_string(_LOG_TARGET_MAX));
        assert_null(log_target_to_string(_LOG_TARGET_INVALID));
}

static void test_log_max_level(void **state) {
        int saved = log_get_max_level();

        log_set_max_level(LOG_DEBUG);
        assert_int_equal(log_get_max_level(), LOG_DEBUG);
        log_set_max_level(LOG_ERR);
        assert_int_equal(log_get_max_level(), LOG_ERR);
        log_set_max_level(saved);
}

static void test_log_stderr_errno(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL;

        assert_int_equal(log_get_effective_target(), LOG_TARGET_STDERR);
        /* returns the negative errno, whichever sign it was given; %m is that errno */
        assert_int_equal(log_error_errno(-ENOENT, "Failed to open '%s': %m", "x.json"), -ENOENT);
        assert_int_equal(log_warning_errno(EACCES, "Cannot read: %m"), -EACCES);
        assert_int_equal(log_notice("plain %d", 42), 0);
        /* not a terminal: "<priority>" prefix for journald's stdout transport */
        out = captured(c);
        assert_string_equal(out,
                            "<3>Failed to open 'x.json': No such file or directory\n"
                            "<4>Cannot read: Permission denied\n"
                            "<5>plain 42\n");
}

static void test_log_stderr_max_level(void **state) {
        Capture *c = *state;
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        /* filtered messages are not written, but _errno variants still return the error */
        assert_int_equal(log_debug("hidden"), 0);
        assert_int_equal(log_debug_errno(-EIO, "hidden: %m"), -EIO);
        assert_int_equal(log_info("shown"), 0);
        out = captured(c);
        assert_string_equal(out, "<6>shown\n");

        log_set_max_level(LOG_DEBUG);
        assert_int_equal(log_debug("now shown"), 0);
        log_set_max_level(LOG_ERR);
        assert_int_equal(log_warning("hidden again"), 0);
        out2 = captured(c);
        assert_string_equal(out2, "<6>shown\n<7>now shown\n");
}

static void test_log_preserves_errno(void **state) {
        errno = EAGAIN;
        (void) log_error_errno(-ENOENT, "x: %m");
        assert_int_equal(errno, EAGAIN);
        errno = EAGAIN;
        (void) log_debug_errno(-ENOENT, "x: %m");
        assert_int_equal(errno, EAGAIN);
}

static void test_log_fields_stderr(void **state) {
        Capture *c = *state;
        _cleanup_(log_fields_done) LogFields f = {};
        _cleanup_free_ char *out = NULL;

        log_fields_add(&f, "MESSAGE_ID=%s", KSMT_MESSAGE_ID_STATUS);
        log_fields_add(&f, "KSMT_PAGES_SHARING=%d", 1785);
        assert_int_equal(f.n, 2);
        assert_string_equal(f.items[0], "MESSAGE_ID=" KSMT_MESSAGE_ID_STATUS);
        assert_string_equal(f.items[1], "KSMT_PAGES_SHARING=1785");

        /* on stderr only the message appears */
        assert_int_equal(log_fields_send(&f, LOG_INFO, 0, "KSM: %d pages sharing", 1785), 0);
        assert_int_equal(log_fields_send(&f, LOG_ERR, -EBUSY, "KSM: %m"), -EBUSY);
        out = captured(c);
        assert_string_equal(out, "<6>KSM: 1785 pages sharing\n<3>KSM: Device or resource busy\n");

        log_fields_done(&f);
        assert_null(f.items);
        assert_int_equal(f.n, 0);
        assert_int_equal(f.allocated, 0);
}

static void test_log_fields_grow(void **state) {
        _cleanup_(log_fields_done) LogFields f = {};

        for (int i = 0; i < 100; i++)
                log_fields_add(&f, "KSMT_VALUE=%d", i);
        assert_int_equal(f.n, 100);
        assert_true(f.allocated >= 100);
        assert_string_equal(f.items[99], "KSMT_VALUE=99");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_level_from_string_names),
                cmocka_unit_test(test_log_level_from_string_invalid),
                cmocka_unit_test(test_log_target_from_string_names),
                cmocka_unit_test(test_log_max_level),
                cmocka_unit_test_setup_teardown(test_log_stderr_errno, setup_capture, teardown_capture),
                cmocka_unit_test_setup_teardown(test_log_stderr_max_level, setup_capture, teardown_capture),
                cmocka_unit_test_setup_teardown(test_log_preserves_errno, setup_capture, teardown_capture),
                cmocka_unit_test_setup_teardown(test_log_fields_stderr, setup_capture, teardown_capture),
                cmocka_unit_test(test_log_fields_grow),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
