/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ksm-stat.c - /proc/PID/ksm_stat (every kernel generation), the ksm_merging_pages fallback,
 * /proc/meminfo and PSI files: parsers on fixtures and literals, *_read_at() on the fake procfs.
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
#include "ksm-stat.h"
#include "macro.h"

#define KSM_STAT_ALL (KSM_STAT_RMAP_ITEMS | KSM_STAT_ZERO_PAGES | KSM_STAT_MERGING_PAGES | \
                      KSM_STAT_PROCESS_PROFIT | KSM_STAT_MERGE_ANY | KSM_STAT_MERGEABLE)
#define MEMINFO_ALL (MEMINFO_TOTAL | MEMINFO_FREE | MEMINFO_AVAILABLE | MEMINFO_ANON | \
                     MEMINFO_SWAP_TOTAL | MEMINFO_SWAP_FREE | MEMINFO_BUFFERS | MEMINFO_CACHED)

static const KsmStat sentinel_stat = { .fields = 0xdead, .rmap_items = 4711 };

static void parse_fixture(const char *rel, KsmStat *ret) {
        _cleanup_free_ char *buf = fixture_read(rel);

        assert_int_equal(ksm_stat_parse(buf, ret), 0);
}

static void assert_stat_untouched(const KsmStat *st) {
        assert_int_equal(st->fields, 0xdead);
        assert_int_equal(st->rmap_items, 4711);
}

/* ksm_stat */

static void test_ksm_stat_parse_6_18_idle(void **state) {
        KsmStat st = sentinel_stat;

        parse_fixture("proc/ksm_stat-6.18", &st);
        assert_int_equal(st.fields, KSM_STAT_ALL);
        assert_int_equal(st.rmap_items, 0);
        assert_int_equal(st.zero_pages, 0);
        assert_int_equal(st.merging_pages, 0);
        assert_int_equal(st.process_profit, 0);
        assert_false(st.merge_any);
        assert_false(st.mergeable);
}

static void test_ksm_stat_parse_6_18_merging(void **state) {
        KsmStat st = sentinel_stat;

        parse_fixture("proc/ksm_stat-6.18-merging", &st);
        assert_int_equal(st.fields, KSM_STAT_ALL);
        assert_int_equal(st.rmap_items, 2075);
        assert_int_equal(st.zero_pages, 0);
        assert_int_equal(st.merging_pages, 1792);
        assert_int_equal(st.process_profit, 7207232);
        assert_true(st.merge_any);
        assert_true(st.mergeable);
}

static void test_ksm_stat_parse_6_6(void **state) {
        KsmStat st = sentinel_stat;

        parse_fixture("proc/ksm_stat-6.6", &st);
        assert_int_equal(st.fields, KSM_STAT_RMAP_ITEMS | KSM_STAT_MERGING_PAGES | KSM_STAT_PROCESS_PROFIT |
                                    KSM_STAT_MERGE_ANY);
        assert_int_equal(st.rmap_items, 4);
        assert_int_equal(st.merging_pages, 3);
        assert_true(st.process_profit == -12);
        assert_true(st.merge_any);
        assert_int_equal(st.zero_pages, 0);
        assert_false(st.mergeable);
}

static void test_ksm_stat_parse_6_1(void **state) {
        KsmStat st = sentinel_stat;

        parse_fixture("proc/ksm_stat-6.1", &st);
        assert_int_equal(st.fields, KSM_STAT_RMAP_ITEMS);
        assert_int_equal(st.rmap_items, 17);
        assert_int_equal(st.merging_pages, 0);
        assert_int_equal(st.process_profit, 0);
}

static void test_ksm_stat_parse_kthread(void **state) {
        KsmStat st = sentinel_stat;

        /* the real /proc/37/ksm_stat of ksmd: empty, because a kernel thread has no mm */
        parse_fixture("proc/ksm_stat-kthread", &st);
        assert_int_equal(st.fields, 0);
        assert_int_equal(st.rmap_items, 0);

        st = sentinel_stat;
        assert_int_equal(ksm_stat_parse("\n\n  \n", &st), 0);
        assert_int_equal(st.fields, 0);
}

static void test_ksm_stat_parse_variants(void **state) {
        KsmStat st = sentinel_stat;

        /* unknown keys of newer kernels are ignored, in any form */
        assert_int_equal(ksm_stat_parse("ksm_rmap_items 1\n"
                                        "ksm_future_counter 5\n"
                                        "ksm_future_flag: maybe\n"
                                        "ksm_merging_pages 2\n", &st), 0);
        assert_int_equal(st.fields, KSM_STAT_RMAP_ITEMS | KSM_STAT_MERGING_PAGES);
        assert_int_equal(st.rmap_items, 1);
        assert_int_equal(st.merging_pages, 2);

        /* any order, tabs, "1"/"0" for booleans, no final newline */
        assert_int_equal(ksm_stat_parse("ksm_mergeable: 1\nksm_merge_any:0\nksm_zero_pages\t9", &st), 0);
        assert_int_equal(st.fields, KSM_STAT_MERGEABLE | KSM_STAT_MERGE_ANY | KSM_STAT_ZERO_PAGES);
        assert_true(st.mergeable);
        assert_false(st.merge_any);
        assert_int_equal(st.zero_pages, 9);

        /* the extremes */
        assert_int_equal(ksm_stat_parse("ksm_rmap_items 18446744073709551615\n"
                                        "ksm_process_profit -9223372036854775808\n", &st), 0);
        assert_true(st.rmap_items == UINT64_MAX);
        assert_true(st.process_profit == INT64_MIN);
}

static void test_ksm_stat_parse_malformed(void **state) {
        static const struct {
                const char *text;
                int error;
        } cases[] = {
                { "ksm_rmap_items abc\n", -EBADMSG },
                { "ksm_rmap_items\n", -EBADMSG },                       /* no value */
                { "ksm_rmap_items \n", -EBADMSG },
                { "ksm_merge_any:\n", -EBADMSG },
                { "ksm_rmap_items 2075\nksm_zero_pa", -EBADMSG },      /* truncated mid-key */
                { "ksm_rmap_items -1\n", -EBADMSG },
                { "ksm_rmap_items 12x\n", -EBADMSG },
                { "ksm_rmap_items 1 2\n", -EBADMSG },
                { "ksm_merging_pages 1.5\n", -EBADMSG },
                { "ksm_process_profit 12x\n", -EBADMSG },
                { "ksm_process_profit --5\n", -EBADMSG },
                { "ksm_merge_any: maybe\n", -EBADMSG },
                { "ksm_mergeable: YES\n", -EBADMSG },
                { ": 5\n", -EBADMSG },                                  /* no key */
                { "lonely_word\n", -EBADMSG },                          /* unknown key, but no value */
                { "ksm_rmap_items 99999999999999999999999\n", -ERANGE },
                { "ksm_zero_pages 18446744073709551616\n", -ERANGE },
                { "ksm_process_profit 9223372036854775808\n", -ERANGE },
                { "ksm_process_profit -99999999999999999999\n", -ERANGE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                KsmStat st = sentinel_stat;
                int r = ksm_stat_parse(cases[i].text, &st);

                if (r != cases[i].error)
                        fail_msg("\"%s\": got %d, expected %d", cases[i].text, r, cases[i].error);
                assert_stat_untouched(&st);
        }
        assert_int_equal(ksm_stat_parse(NULL, &(KsmStat) {}), -EINVAL);
        assert_int_equal(ksm_stat_parse("", NULL), -EINVAL);
}

static void test_ksm_stat_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        KsmStat st = sentinel_stat;

        /* a real process that had 1792 pages merged */
        assert_int_equal(ksm_stat_read_at(proc_fd, 4891, &st), 0);
        assert_int_equal(st.fields, KSM_STAT_ALL);
        assert_int_equal(st.rmap_items, 2075);
        assert_int_equal(st.merging_pages, 1792);
        assert_int_equal(st.process_profit, 7207232);
        assert_true(st.merge_any);

        /* ksmd: empty file */
        st = sentinel_stat;
        assert_int_equal(ksm_stat_read_at(proc_fd, 37, &st), 0);
        assert_int_equal(st.fields, 0);
}

static void test_ksm_stat_read_at_fallback(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        KsmStat st = sentinel_stat;

        /* 5.19/6.0: no ksm_stat, only ksm_merging_pages */
        assert_int_equal(ksm_stat_read_at(proc_fd, 1234, &st), 0);
        assert_int_equal(st.fields, KSM_STAT_MERGING_PAGES);
        assert_int_equal(st.merging_pages, 321);
        assert_int_equal(st.rmap_items, 0);
}

static void test_ksm_stat_read_at_missing(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        KsmStat st = sentinel_stat;

        /* no such process */
        assert_int_equal(ksm_stat_read_at(proc_fd, 99999, &st), -ENOENT);
        /* a process, but a kernel with neither file */
        assert_int_equal(ksm_stat_read_at(proc_fd, 2222, &st), -ENOENT);
        assert_stat_untouched(&st);
}

static void test_ksm_stat_read_at_malformed(void **state) {
        const char *dir = *state;
        _cleanup_close_ int proc_fd = -EBADF;
        KsmStat st = sentinel_stat;

        scratch_write(dir, "10/ksm_merging_pages", "lots\n");
        scratch_write(dir, "11/ksm_merging_pages", "99999999999999999999999\n");
        scratch_write(dir, "12/ksm_merging_pages", "");
        scratch_write(dir, "13/ksm_stat", "ksm_rmap_items x\n");
        scratch_write(dir, "13/ksm_merging_pages", "5\n");
        proc_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(proc_fd >= 0);

        assert_int_equal(ksm_stat_read_at(proc_fd, 10, &st), -EBADMSG);
        assert_int_equal(ksm_stat_read_at(proc_fd, 11, &st), -ERANGE);
        assert_int_equal(ksm_stat_read_at(proc_fd, 12, &st), -EBADMSG);
        /* a bad ksm_stat is an error, not a reason to fall back */
        assert_int_equal(ksm_stat_read_at(proc_fd, 13, &st), -EBADMSG);
        assert_stat_untouched(&st);
}

/* meminfo */

static void test_meminfo_parse_real(void **state) {
        _cleanup_free_ char *buf = fixture_read("proc/meminfo");
        MemInfo mi;

        assert_int_equal(meminfo_parse(buf, &mi), 0);
        assert_int_equal(mi.fields, MEMINFO_ALL);
        assert_true(mi.total == 24684084ULL * 1024);
        assert_true(mi.free == 24527608ULL * 1024);
        assert_true(mi.available == 24440900ULL * 1024);
        assert_true(mi.anon_pages == 9504ULL * 1024);
        assert_true(mi.buffers == 472ULL * 1024);       /* ksmtuned's "free" adds these two */
        assert_true(mi.cached == 19412ULL * 1024);
        assert_int_equal(mi.swap_total, 0);
        assert_int_equal(mi.swap_free, 0);
}

static void test_meminfo_parse_partial(void **state) {
        MemInfo mi;

        /* only MemTotal is mandatory; lines we do not know (or without a colon) are skipped */
        assert_int_equal(meminfo_parse("MemTotal:       1000 kB\n"
                                       "HugePages_Total:       0\n"
                                       "no colon here\n"
                                       "Bogus: x y z\n", &mi), 0);
        assert_int_equal(mi.fields, MEMINFO_TOTAL);
        assert_int_equal(mi.total, 1024000);
        assert_int_equal(mi.available, 0);

        /* a value without unit is taken as is */
        assert_int_equal(meminfo_parse("MemTotal: 1234\nSwapFree: 5 kB", &mi), 0);
        assert_int_equal(mi.fields, MEMINFO_TOTAL | MEMINFO_SWAP_FREE);
        assert_int_equal(mi.total, 1234);
        assert_int_equal(mi.swap_free, 5120);
}

static void test_meminfo_parse_malformed(void **state) {
        static const struct {
                const char *text;
                int error;
        } cases[] = {
                { "", -EBADMSG },
                { "MemFree: 5 kB\n", -EBADMSG },                                /* no MemTotal */
                { "MemTotal: abc kB\n", -EBADMSG },
                { "MemTotal:\n", -EBADMSG },
                { "MemTotal: 5 MB\n", -EBADMSG },
                { "MemTotal: -5 kB\n", -EBADMSG },
                { "MemTotal: 1000 kB\nMemAvailable: 12x kB\n", -EBADMSG },
                { "MemTotal: 99999999999999999999 kB\n", -ERANGE },
                { "MemTotal: 18014398509481984 kB\n", -ERANGE },                /* 2^54 KiB = 2^64 B */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                MemInfo mi = { .fields = 0xdead };
                int r = meminfo_parse(cases[i].text, &mi);

                if (r != cases[i].error)
                        fail_msg("\"%s\": got %d, expected %d", cases[i].text, r, cases[i].error);
                assert_int_equal(mi.fields, 0xdead);
        }
        assert_int_equal(meminfo_parse(NULL, &(MemInfo) {}), -EINVAL);
}

static void test_meminfo_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        _cleanup_close_ int empty_fd = -EBADF;
        const char *dir = *state;
        MemInfo mi;

        assert_int_equal(meminfo_read_at(proc_fd, &mi), 0);
        assert_int_equal(mi.fields, MEMINFO_ALL);
        assert_true(mi.total == 24684084ULL * 1024);

        empty_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(empty_fd >= 0);
        assert_int_equal(meminfo_read_at(empty_fd, &mi), -ENOENT);
}

/* PSI */

static void test_psi_parse_real(void **state) {
        _cleanup_free_ char *buf = fixture_read("proc/pressure-memory");
        PsiStats ps;

        memset(&ps, 0xff, sizeof(ps));
        assert_int_equal(psi_parse(buf, &ps), 0);
        assert_true(ps.have_full);
        assert_int_equal(ps.some.avg10_pmy, 0);
        assert_int_equal(ps.some.avg60_pmy, 0);
        assert_int_equal(ps.some.avg300_pmy, 0);
        assert_int_equal(ps.some.total_usec, 0);
        assert_int_equal(ps.full.avg10_pmy, 0);
        assert_int_equal(ps.full.total_usec, 0);
}

static void test_psi_parse_busy(void **state) {
        _cleanup_free_ char *buf = fixture_read("proc/pressure-memory-busy");
        PsiStats ps;

        assert_int_equal(psi_parse(buf, &ps), 0);
        assert_int_equal(ps.some.avg10_pmy, 123);
        assert_int_equal(ps.some.avg60_pmy, 45);
        assert_int_equal(ps.some.avg300_pmy, 7);
        assert_int_equal(ps.some.total_usec, 12345678);
        assert_true(ps.have_full);
        assert_int_equal(ps.full.avg10_pmy, 50);
        assert_int_equal(ps.full.avg60_pmy, 10);
        assert_int_equal(ps.full.avg300_pmy, 10000);
        assert_int_equal(ps.full.total_usec, 4567);
}

static void test_psi_parse_some_only(void **state) {
        _cleanup_free_ char *buf = fixture_read("proc/pressure-cpu-5.10");
        PsiStats ps;

        /* /proc/pressure/cpu before 5.13 has no "full" line */
        assert_int_equal(psi_parse(buf, &ps), 0);
        assert_false(ps.have_full);
        assert_int_equal(ps.some.avg10_pmy, 204);
        assert_int_equal(ps.some.avg60_pmy, 150);
        assert_int_equal(ps.some.avg300_pmy, 98);
        assert_int_equal(ps.some.total_usec, 7654321);
        assert_int_equal(ps.full.avg10_pmy, 0);
}

static void test_psi_parse_variants(void **state) {
        PsiStats ps;

        /* unknown fields of a future kernel are skipped; more than two decimals are cut */
        assert_int_equal(psi_parse("some avg10=1.2345 avg60=0.00 avg300=0.00 avg600=1.00 total=0\n", &ps), 0);
        assert_int_equal(ps.some.avg10_pmy, 123);
        /* fields in any order */
        assert_int_equal(psi_parse("some total=5 avg300=3.00 avg60=2.00 avg10=1.00", &ps), 0);
        assert_int_equal(ps.some.avg10_pmy, 100);
        assert_int_equal(ps.some.avg60_pmy, 200);
        assert_int_equal(ps.some.avg300_pmy, 300);
        assert_int_equal(ps.some.total_usec, 5);
}

static void test_psi_parse_malformed(void **state) {
        static const struct {
                const char *text;
                int error;
        } cases[] = {
                { "", -EBADMSG },
                { "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },       /* no "some" */
                { "some avg10=1.23 avg60=0.45 avg300=0.07\n", -EBADMSG },               /* no total */
                { "some avg10=1.23 avg60=0.45 total=1\n", -EBADMSG },                   /* no avg300 */
                { "some avg10=abc avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },
                { "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },
                { "some avg10 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },            /* no '=' */
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=x\n", -EBADMSG },
                { "bogus avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },
                { "some\n", -EBADMSG },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00\n", -EBADMSG },
                { "some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },     /* > 100.00 */
                { "some avg10=99999999999999999999 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", -ERANGE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PsiStats ps = { .some.total_usec = 4711 };
                int r = psi_parse(cases[i].text, &ps);

                if (r != cases[i].error)
                        fail_msg("\"%s\": got %d, expected %d", cases[i].text, r, cases[i].error);
                assert_int_equal(ps.some.total_usec, 4711);
        }
        assert_int_equal(psi_parse(NULL, &(PsiStats) {}), -EINVAL);
}

static void test_psi_read_at_procfs(void **state) {
        _cleanup_close_ int proc_fd = fixture_open_dir("procfs");
        PsiStats ps;

        assert_int_equal(psi_read_at(proc_fd, "pressure/memory", &ps), 0);
        assert_true(ps.have_full);
        assert_int_equal(ps.some.avg10_pmy, 0);
        assert_int_equal(psi_read_at(proc_fd, "pressure/cpu", &ps), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ksm_stat_parse_6_18_idle),
                cmocka_unit_test(test_ksm_stat_parse_6_18_merging),
                cmocka_unit_test(test_ksm_stat_parse_6_6),
                cmocka_unit_test(test_ksm_stat_parse_6_1),
                cmocka_unit_test(test_ksm_stat_parse_kthread),
                cmocka_unit_test(test_ksm_stat_parse_variants),
                cmocka_unit_test(test_ksm_stat_parse_malformed),
                cmocka_unit_test(test_ksm_stat_read_at_procfs),
                cmocka_unit_test(test_ksm_stat_read_at_fallback),
                cmocka_unit_test(test_ksm_stat_read_at_missing),
                SCRATCH_TEST(test_ksm_stat_read_at_malformed),
                cmocka_unit_test(test_meminfo_parse_real),
                cmocka_unit_test(test_meminfo_parse_partial),
                cmocka_unit_test(test_meminfo_parse_malformed),
                SCRATCH_TEST(test_meminfo_read_at_procfs),
                cmocka_unit_test(test_psi_parse_real),
                cmocka_unit_test(test_psi_parse_busy),
                cmocka_unit_test(test_psi_parse_some_only),
                cmocka_unit_test(test_psi_parse_variants),
                cmocka_unit_test(test_psi_parse_malformed),
                cmocka_unit_test(test_psi_read_at_procfs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
