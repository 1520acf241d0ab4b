/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-proc-stat.c - /proc/PID/stat (including comm with spaces and ')'), schedstat, CPU time,
 * comm and ksmd discovery, on real stat lines copied from this machine and on the fake procfs.
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

#include "fixture.h"
#include "macro.h"
#include "missing.h"
#include "proc-stat.h"

static void parse_fixture(const char *rel, ProcStat *ret) {
        _cleanup_free_ char *buf = fixture_read(rel);

        assert_int_equal(proc_stat_parse(buf, ret), 0);
}

static void test_proc_stat_parse_self(void **state) {
        ProcStat st;

        /* /proc/self/stat as read by cat(1) */
        parse_fixture("proc/stat-self", &st);
        assert_int_equal(st.pid, 4555);
        assert_string_equal(st.comm, "cat");
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.ppid, 4498);
        assert_int_equal(st.flags, 4194304);
        assert_int_equal(st.utime_ticks, 0);
        assert_int_equal(st.stime_ticks, 0);
        assert_int_equal(st.start_time_ticks, 71249);
        assert_false(proc_stat_is_kthread(&st));
}

static void test_proc_stat_parse_ksmd(void **state) {
        ProcStat st;

        /* /proc/37/stat: ksmd */
        parse_fixture("proc/stat-ksmd", &st);
        assert_int_equal(st.pid, 37);
        assert_string_equal(st.comm, "ksmd");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 2);
        assert_int_equal(st.flags, 2097216);
        assert_true(st.flags & PF_KTHREAD);
        assert_int_equal(st.utime_ticks, 0);
        assert_int_equal(st.stime_ticks, 0);
        assert_int_equal(st.start_time_ticks, 26);
        assert_true(proc_stat_is_kthread(&st));
}

static void test_proc_stat_parse_merging(void **state) {
        ProcStat st;

        parse_fixture("proc/stat-merging", &st);
        assert_int_equal(st.pid, 4891);
        assert_string_equal(st.comm, "gen");
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.ppid, 4890);
        assert_int_equal(st.start_time_ticks, 73129);
}

static void test_proc_stat_parse_comm_parens(void **state) {
        ProcStat st;

        /* comm "a) b) c": split at the last ')' */
        parse_fixture("proc/stat-comm-parens", &st);
        assert_int_equal(st.pid, 123);
        assert_string_equal(st.comm, "a) b) c");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 1);
        assert_int_equal(st.flags, 4194560);
        assert_int_equal(st.utime_ticks, 7);
        assert_int_equal(st.stime_ticks, 3);
        assert_int_equal(st.start_time_ticks, 4242);

        parse_fixture("proc/stat-comm-space", &st);
        assert_int_equal(st.pid, 77);
        assert_string_equal(st.comm, "tmux: server");
        assert_int_equal(st.utime_ticks, 11);
        assert_int_equal(st.stime_ticks, 22);
        assert_int_equal(st.start_time_ticks, 99);

        /* an opening parenthesis inside comm, and an empty comm */
        assert_int_equal(proc_stat_parse("5 ((sd-pam)) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 8\n", &st), 0);
        assert_string_equal(st.comm, "(sd-pam)");
        assert_int_equal(st.start_time_ticks, 8);
        assert_int_equal(proc_stat_parse("6 () S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9\n", &st), 0);
        assert_string_equal(st.comm, "");
}

static void test_proc_stat_parse_long_comm(void **state) {
        char line[256], comm[101];
        ProcStat st;

        memset(comm, 'x', 100);
        comm[100] = 0;
        snprintf(line, sizeof(line), "9 (%s) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 10\n", comm);
        assert_int_equal(proc_stat_parse(line, &st), 0);
        assert_int_equal(strlen(st.comm), PROC_COMM_MAX - 1);
        assert_int_equal(st.start_time_ticks, 10);
}

static void test_proc_stat_parse_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "123 cat R 1 2 3",                                                      /* no parens */
                "123 (cat R 1 2 3",
                "123 cat) R 1 (2 3",                                                    /* ')' before '(' */
                "(cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",                      /* no pid */
                "abc (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "-5 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "0 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "99999999999 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "1 (cat) RR 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",                   /* state */
                "1 (cat) 5 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "1 (cat) R x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",                    /* ppid */
                "1 (cat) R -1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1",
                "1 (cat) R 1 1 1 0 -1 4294967296 0 0 0 0 0 0 0 0 20 0 1 0 1",           /* flags */
                "1 (cat) R 1 1 1 0 -1 0 0 0 0 0 x 0 0 0 20 0 1 0 1",                    /* utime */
                "1 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 -3 0 0 20 0 1 0 1",                   /* stime */
                "1 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12a",                  /* starttime */
                "1 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999",
                "1 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0",                      /* ends before 22 */
                "1 (cat)",
        };
        _cleanup_free_ char *truncated = fixture_read("proc/stat-truncated");
        ProcStat st = { .pid = 4711 };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (proc_stat_parse(bad[i], &st) != -EBADMSG)
                        fail_msg("\"%s\" was not rejected with -EBADMSG", bad[i]);
        assert_int_equal(proc_stat_parse(truncated, &st), -EBADMSG);
        assert_int_equal(st.pid, 4711);
        assert_int_equal(proc_stat_parse(NULL, &st), -EINVAL);
        assert_int_equal(proc_stat_parse("1 (a) R", NULL), -EINVAL);
}

static void test_proc_stat_is_kthread_rules(void **state) {
        assert_true(proc_stat_is_kthread(&(ProcStat) { .pid = 2, .ppid = 0 }));
        assert_true(proc_stat_is_kthread(&(ProcStat) { .pid = 300, .ppid = 2 }));
        assert_true(proc_stat_is_kthread(&(ProcStat) { .pid = 300, .ppid = 1, .flags = PF_KTHREAD }));
        assert_false(proc_stat_is_kthread(&(ProcStat) { .pid = 1, .ppid = 0, .flags = 4194560 }));
        assert_false(proc_stat_is_kthread(&(ProcStat) { .pid = 300, .ppid = 1 }));
}

static void test_proc_stat_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        ProcStat st = { .pid = 4711 };

        assert_int_equal(proc_stat_read_at(proc_fd, 37, &st), 0);
        assert_int_equal(st.pid, 37);
        assert_string_equal(st.comm, "ksmd");
        assert_int_equal(st.start_time_ticks, 26);
        assert_int_equal(proc_stat_read_at(proc_fd, 2222, &st), 0);
        assert_string_equal(st.comm, "worker");
        assert_int_equal(st.utime_ticks, 150);
        assert_int_equal(st.stime_ticks, 50);
        /* gone (or never there): -ESRCH, not -ENOENT */
        assert_int_equal(proc_stat_read_at(proc_fd, 99999, &st), -ESRCH);
        /* a pid directory without stat */
        assert_int_equal(proc_stat_read_at(proc_fd, 1234, &st), -ESRCH);
}

static void test_proc_stat_read_at_real_self(void **state) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ProcStat st;

        assert_true(proc_fd >= 0);
        assert_int_equal(proc_stat_read_at(proc_fd, getpid(), &st), 0);
        assert_int_equal(st.pid, getpid());
        assert_int_equal(st.ppid, getppid());
        assert_int_equal(st.state, 'R');
        assert_false(proc_stat_is_kthread(&st));
        assert_true(st.start_time_ticks > 0);
}

static void test_proc_schedstat_parse_values(void **state) {
        _cleanup_free_ char *ksmd = fixture_read("proc/schedstat-ksmd");
        _cleanup_free_ char *shell = fixture_read("proc/schedstat-shell");
        nsec_t ns = 4711;

        assert_int_equal(proc_schedstat_parse(ksmd, &ns), 0);
        assert_int_equal(ns, 5838);
        assert_int_equal(proc_schedstat_parse(shell, &ns), 0);
        assert_int_equal(ns, 210426911);
        assert_int_equal(proc_schedstat_parse("123", &ns), 0);
        assert_int_equal(ns, 123);
        assert_int_equal(proc_schedstat_parse("18446744073709551615 0 0\n", &ns), 0);
        assert_true(ns == UINT64_MAX);

        ns = 4711;
        assert_int_equal(proc_schedstat_parse("", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse("\n", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse(" 1 2 3\n", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse("abc 1 2\n", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse("-1 1 2\n", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse("18446744073709551616 1 2\n", &ns), -EBADMSG);
        assert_int_equal(proc_schedstat_parse("123456789012345678901234567890123 1 2\n", &ns), -EBADMSG);
        assert_int_equal(ns, 4711);
        assert_int_equal(proc_schedstat_parse(NULL, &ns), -EINVAL);
        assert_int_equal(proc_schedstat_parse("1 2 3", NULL), -EINVAL);
}

static void test_proc_cpu_time_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        nsec_t ns = 4711;

        /* schedstat present: nanoseconds from it */
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 37, 100, &ns), 0);
        assert_int_equal(ns, 5838);
        /* schedstat unreadable ("garbage"): (150 + 50) ticks at 100 Hz */
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 2222, 100, &ns), 0);
        assert_true(ns == 2 * NSEC_PER_SEC);
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 2222, 250, &ns), 0);
        assert_true(ns == 800 * 1000 * 1000ULL);
        /* no schedstat at all (CONFIG_SCHED_INFO off) */
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 4891, 100, &ns), 0);
        assert_int_equal(ns, 0);

        ns = 4711;
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 2222, 0, &ns), -EINVAL);
        assert_int_equal(proc_cpu_time_read_at(proc_fd, 99999, 100, &ns), -ESRCH);
        assert_int_equal(ns, 4711);
}

static void test_proc_comm_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        char buf[PROC_COMM_MAX], small[3];

        assert_int_equal(proc_comm_read_at(proc_fd, 37, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "ksmd");
        assert_int_equal(proc_comm_read_at(proc_fd, 4891, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "gen");
        /* truncated to the buffer */
        assert_int_equal(proc_comm_read_at(proc_fd, 37, small, sizeof(small)), 0);
        assert_string_equal(small, "ks");
        assert_int_equal(proc_comm_read_at(proc_fd, 99999, buf, sizeof(buf)), -ESRCH);
}

static void test_ksmd_find_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        pid_t pid = 0;

        /* 3333 is called "ksmd" too, but is a user process: only 37 is the kernel thread */
        assert_int_equal(ksmd_find_at(proc_fd, &pid), 0);
        assert_int_equal(pid, 37);
}

static void test_ksmd_find_at_none(void **state) {
        const char *dir = *state;
        _cleanup_close_ int proc_fd = -EBADF;
        _cleanup_free_ char *impostor = fixture_read("procfs/3333/stat");
        pid_t pid = 4711;

        scratch_write(dir, "3333/comm", "ksmd\n");
        scratch_write(dir, "3333/stat", impostor);
        scratch_write(dir, "meminfo", "MemTotal: 1 kB\n");
        scratch_write(dir, "self/mountinfo", "");
        proc_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(proc_fd >= 0);

        assert_int_equal(ksmd_find_at(proc_fd, &pid), -ESRCH);
        assert_int_equal(pid, 4711);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_proc_stat_parse_self),
                cmocka_unit_test(test_proc_stat_parse_ksmd),
                cmocka_unit_test(test_proc_stat_parse_merging),
                cmocka_unit_test(test_proc_stat_parse_comm_parens),
                cmocka_unit_test(test_proc_stat_parse_long_comm),
                cmocka_unit_test(test_proc_stat_parse_malformed),
                cmocka_unit_test(test_proc_stat_is_kthread_rules),
                cmocka_unit_test(test_proc_stat_read_at_procfs),
                cmocka_unit_test(test_proc_stat_read_at_real_self),
                cmocka_unit_test(test_proc_schedstat_parse_values),
                cmocka_unit_test(test_proc_cpu_time_read_at_procfs),
                cmocka_unit_test(test_proc_comm_read_at_procfs),
                cmocka_unit_test(test_ksmd_find_at_procfs),
                SCRATCH_TEST(test_ksmd_find_at_none),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
