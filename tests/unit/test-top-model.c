/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-top-model.c - the pure part of `ksmctl top`: rates from two samples (a process that
 * appeared, exited or had its PID reused between them, falling counters), the daemon's counters
 * preferred over ksm_merging_pages, the cgroup roll-up, sorting, host rates and the time per
 * full scan, and rows cut to the terminal width.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "top-model.h"

#define PAGE 4096U

/* A process with ksm_merging_pages @merging, in @cgroup. */
static TopProc proc(pid_t pid, const char *comm, const char *cgroup, uint64_t merging) {
        TopProc p = {
                .pid = pid,
                .start_time_ticks = 1000 + (uint64_t) pid,
                .cgroup = cgroup ? strdup(cgroup) : NULL,
                .st = {
                        .fields = KSM_STAT_RMAP_ITEMS | KSM_STAT_ZERO_PAGES | KSM_STAT_MERGING_PAGES |
                                  KSM_STAT_PROCESS_PROFIT | KSM_STAT_MERGE_ANY | KSM_STAT_MERGEABLE,
                        .merging_pages = merging,
                        .rmap_items = merging * 2,
                        .process_profit = (int64_t) (merging * PAGE) - 64,
                        .merge_any = true,
                },
        };

        snprintf(p.comm, sizeof(p.comm), "%s", comm);
        return p;
}

static TopSample sample(usec_t t, const TopProc *procs, size_t n) {
        TopSample s = { .timestamp_usec = t, .n_procs = n };

        s.procs = new0(TopProc, n ?: 1);
        assert_non_null(s.procs);
        if (n > 0)
                memcpy(s.procs, procs, n * sizeof(TopProc));
        top_sample_sort(&s);
        return s;
}

static const TopRow *row_of(const TopRow *rows, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (rows[i].proc && rows[i].proc->pid == pid)
                        return &rows[i];
        fail_msg("no row for PID %d", (int) pid);
        return NULL;
}

static void test_rate_per_ksec(void **state) {
        assert_int_equal(top_rate_per_ksec(0, USEC_PER_SEC), 0);
        assert_int_equal(top_rate_per_ksec(3, 2 * USEC_PER_SEC), 1500);         /* 1.5/s */
        assert_int_equal(top_rate_per_ksec(1, 3 * USEC_PER_SEC), 333);
        assert_int_equal(top_rate_per_ksec(100, 500 * USEC_PER_MSEC), 200000);  /* 200/s */
        assert_int_equal(top_rate_per_ksec(5, 0), 0);                           /* no interval, no rate */
        assert_int_equal(top_rate_per_ksec(UINT64_MAX, 1), UINT64_MAX);         /* saturates */
}

static void test_rows_two_samples(void **state) {
        /* 10: grows 100 pages in 2 s; 11: falls 40 pages; 12: exits; 13: appears; 14: PID reused. */
        TopProc a[] = {
                proc(10, "grow", "/a", 1000),
                proc(11, "shrink", "/a", 500),
                proc(12, "gone", "/b", 300),
                proc(14, "old", "/b", 50),
        };
        TopProc b[] = {
                proc(14, "new", "/b", 70),
                proc(13, "born", "/b", 200),
                proc(11, "shrink", "/a", 460),
                proc(10, "grow", "/a", 1100),
        };
        TopSample prev, cur;
        _cleanup_free_ TopRow *rows = NULL;
        const TopRow *r;
        size_t n;

        b[0].start_time_ticks = 99999;  /* another process with PID 14 */
        prev = sample(10 * USEC_PER_SEC, a, ELEMENTSOF(a));
        cur = sample(12 * USEC_PER_SEC, b, ELEMENTSOF(b));
        assert_int_equal(top_rows_compute(&prev, &cur, PAGE, &rows, &n), 0);
        assert_int_equal(n, 4);         /* the exited process has no row */

        r = row_of(rows, n, 10);
        assert_int_equal(r->rate_source, TOP_RATE_MERGING_PAGES);
        assert_int_equal(r->merges_per_ksec, 50000);   /* 100 pages / 2 s */
        assert_int_equal(r->unmerges_per_ksec, 0);
        assert_int_equal(r->saved_bytes, 1100 * PAGE);
        assert_int_equal(r->n_rated, 1);

        r = row_of(rows, n, 11);                        /* falling: unmerges, never a negative merge rate */
        assert_int_equal(r->rate_source, TOP_RATE_MERGING_PAGES);
        assert_int_equal(r->merges_per_ksec, 0);
        assert_int_equal(r->unmerges_per_ksec, 20000);

        r = row_of(rows, n, 13);                        /* appeared: no rate yet */
        assert_int_equal(r->rate_source, TOP_RATE_NONE);
        assert_int_equal(r->n_rated, 0);
        assert_int_equal(r->merges_per_ksec, 0);

        r = row_of(rows, n, 14);                        /* reused PID: no rate */
        assert_int_equal(r->rate_source, TOP_RATE_NONE);

        top_sample_done(&prev);
        top_sample_done(&cur);
        assert_null(cur.procs);
        assert_int_equal(cur.n_procs, 0);
}

static void test_rows_first_sample(void **state) {
        TopProc a[] = { proc(1, "x", "/", 10) };
        TopSample cur = sample(USEC_PER_SEC, a, 1), empty = sample(USEC_PER_SEC, NULL, 0);
        _cleanup_free_ TopRow *rows = NULL, *none = NULL;
        size_t n;

        assert_int_equal(top_rows_compute(NULL, &cur, PAGE, &rows, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].rate_source, TOP_RATE_NONE);

        /* same timestamp twice: no interval, no rate */
        free(rows);
        rows = NULL;
        assert_int_equal(top_rows_compute(&cur, &cur, PAGE, &rows, &n), 0);
        assert_int_equal(rows[0].rate_source, TOP_RATE_NONE);

        assert_int_equal(top_rows_compute(&cur, &empty, PAGE, &none, &n), 0);
        assert_int_equal(n, 0);
        assert_null(none);
        top_sample_done(&cur);
        top_sample_done(&empty);
}

static void test_rows_counters(void **state) {
        TopProc a[] = { proc(1, "bpf", "/", 100), proc(2, "restart", "/", 100), proc(3, "half", "/", 100) };
        TopProc b[] = { proc(1, "bpf", "/", 100), proc(2, "restart", "/", 100), proc(3, "half", "/", 150) };
        _cleanup_free_ TopRow *rows = NULL;
        TopSample prev, cur;
        const TopRow *r;
        size_t n;

        /* 1: 300 merged, 300 unmerged: merging_pages unchanged, the counters see both. */
        a[0].have_counters = b[0].have_counters = true;
        a[0].merges = 1000, a[0].unmerges = 900;
        b[0].merges = 1300, b[0].unmerges = 1200;
        /* 2: the daemon restarted, its counters start again from 0: no rate, not a negative one. */
        a[1].have_counters = b[1].have_counters = true;
        a[1].merges = 5000, a[1].unmerges = 10;
        b[1].merges = 20, b[1].unmerges = 0;
        /* 3: counters only in the newer sample: falls back to ksm_merging_pages. */
        b[2].have_counters = true;
        b[2].merges = 7;

        prev = sample(0, a, 3);
        cur = sample(USEC_PER_SEC, b, 3);
        assert_int_equal(top_rows_compute(&prev, &cur, PAGE, &rows, &n), 0);
        r = row_of(rows, n, 1);
        assert_int_equal(r->rate_source, TOP_RATE_COUNTERS);
        assert_int_equal(r->merges_per_ksec, 300000);
        assert_int_equal(r->unmerges_per_ksec, 300000);
        r = row_of(rows, n, 2);
        assert_int_equal(r->rate_source, TOP_RATE_NONE);
        assert_int_equal(r->merges_per_ksec, 0);
        assert_int_equal(r->unmerges_per_ksec, 0);
        r = row_of(rows, n, 3);
        assert_int_equal(r->rate_source, TOP_RATE_MERGING_PAGES);
        assert_int_equal(r->merges_per_ksec, 50000);
        top_sample_done(&prev);
        top_sample_done(&cur);
}

static void test_rows_old_kernel(void **state) {
        /* 6.1's ksm_stat has no ksm_merging_pages: no rates, no profit. */
        TopProc a[] = { proc(1, "x", "/", 0) }, b[] = { proc(1, "x", "/", 0) };
        _cleanup_free_ TopRow *rows = NULL;
        TopSample prev, cur;
        size_t n;

        a[0].st.fields = b[0].st.fields = KSM_STAT_RMAP_ITEMS;
        prev = sample(0, a, 1);
        cur = sample(USEC_PER_SEC, b, 1);
        assert_int_equal(top_rows_compute(&prev, &cur, PAGE, &rows, &n), 0);
        assert_int_equal(rows[0].rate_source, TOP_RATE_NONE);
        assert_false(rows[0].have_profit);
        top_sample_done(&prev);
        top_sample_done(&cur);
}

static void test_rollup(void **state) {
        TopProc a[] = { proc(1, "a", "/x", 10), proc(2, "b", "/y", 20), proc(3, "c", "/x", 30), proc(4, "d", NULL, 5),
                        proc(5, "e", "/x/sub", 7) };
        TopProc b[] = { proc(1, "a", "/x", 20), proc(2, "b", "/y", 10), proc(3, "c", "/x", 40), proc(4, "d", NULL, 5),
                        proc(5, "e", "/x/sub", 7), proc(6, "f", "/x", 100) };
        _cleanup_free_ TopRow *rows = NULL, *groups = NULL;
        TopSample prev, cur;
        size_t n, ng;

        b[0].st.zero_pages = 3;
        b[2].st.fields &= ~KSM_STAT_PROCESS_PROFIT;
        prev = sample(0, a, ELEMENTSOF(a));
        cur = sample(USEC_PER_SEC, b, ELEMENTSOF(b));
        assert_int_equal(top_rows_compute(&prev, &cur, PAGE, &rows, &n), 0);
        assert_int_equal(top_rollup(rows, n, &groups, &ng), 0);
        assert_int_equal(ng, 4);        /* unknown, /x, /x/sub, /y: by exact path, not by subtree */

        assert_null(groups[0].cgroup);
        assert_int_equal(groups[0].n_procs, 1);
        assert_null(groups[0].proc);

        assert_string_equal(groups[1].cgroup, "/x");
        assert_int_equal(groups[1].n_procs, 3);
        assert_int_equal(groups[1].n_rated, 2);                 /* 6 appeared */
        assert_int_equal(groups[1].merging_pages, 20 + 40 + 100);
        assert_int_equal(groups[1].zero_pages, 3);
        assert_int_equal(groups[1].saved_bytes, (20 + 3 + 40 + 100) * PAGE);
        assert_int_equal(groups[1].rmap_items, 2 * (20 + 40 + 100));
        assert_true(groups[1].have_profit);                     /* 3 does not report it: left out */
        assert_int_equal(groups[1].profit_bytes, (20 * PAGE - 64) + (100 * PAGE - 64));
        assert_int_equal(groups[1].merges_per_ksec, 10000 + 10000);
        assert_int_equal(groups[1].rate_source, TOP_RATE_MERGING_PAGES);

        assert_string_equal(groups[2].cgroup, "/x/sub");
        assert_int_equal(groups[2].merges_per_ksec, 0);
        assert_string_equal(groups[3].cgroup, "/y");
        assert_int_equal(groups[3].unmerges_per_ksec, 10000);

        /* The roll-up is the sum of its processes, for every cgroup. */
        for (size_t g = 0; g < ng; g++) {
                uint64_t saved = 0, procs = 0;

                for (size_t i = 0; i < n; i++)
                        if (streq_ptr(rows[i].cgroup, groups[g].cgroup)) {
                                saved += rows[i].saved_bytes;
                                procs++;
                        }
                assert_int_equal(groups[g].saved_bytes, saved);
                assert_int_equal(groups[g].n_procs, procs);
        }

        free(groups);
        groups = NULL;
        assert_int_equal(top_rollup(NULL, 0, &groups, &ng), 0);
        assert_int_equal(ng, 0);
        top_sample_done(&prev);
        top_sample_done(&cur);
}

static void test_sort(void **state) {
        TopProc a[] = { proc(1, "zeta", "/", 10), proc(2, "alpha", "/", 30), proc(3, "mid", "/", 20), proc(4, "new", "/", 25),
                        proc(5, "tie", "/", 30) };
        TopProc b[] = { proc(1, "zeta", "/", 40), proc(2, "alpha", "/", 30), proc(3, "mid", "/", 10), proc(6, "new", "/", 25),
                        proc(5, "tie", "/", 30) };
        _cleanup_free_ TopRow *rows = NULL;
        TopSample prev, cur;
        size_t n;

        b[1].st.process_profit = -100;
        prev = sample(0, a, ELEMENTSOF(a));
        cur = sample(USEC_PER_SEC, b, ELEMENTSOF(b));
        assert_int_equal(top_rows_compute(&prev, &cur, PAGE, &rows, &n), 0);

        top_rows_sort(rows, n, TOP_SORT_SAVED, false);          /* 40, 30 (PID 2 before 5), 30, 25, 10 */
        assert_int_equal(rows[0].proc->pid, 1);
        assert_int_equal(rows[1].proc->pid, 2);
        assert_int_equal(rows[2].proc->pid, 5);
        assert_int_equal(rows[3].proc->pid, 6);
        assert_int_equal(rows[4].proc->pid, 3);

        top_rows_sort(rows, n, TOP_SORT_SAVED, true);
        assert_int_equal(rows[0].proc->pid, 3);
        assert_int_equal(rows[4].proc->pid, 1);

        top_rows_sort(rows, n, TOP_SORT_PROFIT, false);         /* the negative profit last */
        assert_int_equal(rows[0].proc->pid, 1);
        assert_int_equal(rows[4].proc->pid, 2);

        top_rows_sort(rows, n, TOP_SORT_MERGES, false);         /* 30/s first; the new process (no rate) last */
        assert_int_equal(rows[0].proc->pid, 1);
        assert_int_equal(rows[4].proc->pid, 6);

        top_rows_sort(rows, n, TOP_SORT_UNMERGES, false);
        assert_int_equal(rows[0].proc->pid, 3);
        assert_int_equal(rows[4].proc->pid, 6);

        top_rows_sort(rows, n, TOP_SORT_PID, false);
        for (size_t i = 1; i < n; i++)
                assert_true(rows[i - 1].proc->pid < rows[i].proc->pid);

        top_rows_sort(rows, n, TOP_SORT_NAME, false);
        assert_string_equal(rows[0].proc->comm, "alpha");
        assert_string_equal(rows[4].proc->comm, "zeta");

        top_sample_done(&prev);
        top_sample_done(&cur);
}

static void test_sort_keys(void **state) {
        for (TopSortKey k = 0; k < _TOP_SORT_MAX; k++) {
                assert_int_equal(top_sort_key_from_string(top_sort_key_to_string(k)), k);
                assert_int_equal(top_sort_key_from_char(top_sort_key_to_char(k)), k);
        }
        assert_int_equal(top_sort_key_from_string("cpu"), _TOP_SORT_INVALID);
        assert_int_equal(top_sort_key_from_string(NULL), _TOP_SORT_INVALID);
        assert_int_equal(top_sort_key_from_char('q'), _TOP_SORT_INVALID);
        assert_int_equal(top_sort_key_from_char('c'), _TOP_SORT_INVALID);     /* c toggles the view */
        assert_null(top_sort_key_to_string(_TOP_SORT_MAX));
        assert_string_equal(top_rate_source_to_string(TOP_RATE_COUNTERS), "counters");
}

static void set(KsmSnapshot *s, KsmKnob k, int64_t v) {
        s->present[k] = true;
        s->value[k] = v;
}

static TopSample host_sample(usec_t t, int64_t scanned, int64_t full_scans, nsec_t cpu) {
        TopSample s = { .timestamp_usec = t, .have_ksm = true, .have_ksmd_cpu = true, .ksmd_cpu_nsec = cpu };

        set(&s.ksm, KSM_KNOB_RUN, 1);
        set(&s.ksm, KSM_KNOB_PAGES_SHARED, 10);
        set(&s.ksm, KSM_KNOB_PAGES_SHARING, 1000);
        set(&s.ksm, KSM_KNOB_PAGES_UNSHARED, 5);
        set(&s.ksm, KSM_KNOB_PAGES_VOLATILE, 1);
        set(&s.ksm, KSM_KNOB_KSM_ZERO_PAGES, 24);
        set(&s.ksm, KSM_KNOB_PAGES_SCANNED, scanned);
        set(&s.ksm, KSM_KNOB_FULL_SCANS, full_scans);
        return s;
}

static void test_host(void **state) {
        TopScanClock clock = {};
        TopSample s0 = host_sample(0, 1000, 5, 0),
                  s1 = host_sample(2 * USEC_PER_SEC, 33000, 9, 500 * 1000 * 1000),   /* 4 full scans in 2 s */
                  s2 = host_sample(4 * USEC_PER_SEC, 33000, 9, 500 * 1000 * 1000),   /* idle */
                  s3 = host_sample(6 * USEC_PER_SEC, 100, 9, 400 * 1000 * 1000),     /* counters went down */
                  s4 = host_sample(8 * USEC_PER_SEC, 100, 10, 400 * 1000 * 1000);
        TopHost h;

        top_host_compute(NULL, &s0, PAGE, &clock, &h);
        assert_int_equal(h.interval_usec, 0);
        assert_false(h.report.have_cpu);
        assert_false(h.have_scan_rate);
        assert_false(h.have_full_scan);
        assert_int_equal(h.no_full_scan_for_usec, 0);
        assert_int_equal(h.report.saved_bytes, (1000 + 24) * PAGE);
        assert_int_equal(h.pages_sharing, 1000);
        assert_int_equal(h.zero_pages, 24);
        assert_int_equal(h.full_scans, 5);

        top_host_compute(&s0, &s1, PAGE, &clock, &h);
        assert_int_equal(h.interval_usec, 2 * USEC_PER_SEC);
        assert_true(h.report.have_cpu);
        assert_int_equal(h.report.ksmd_cpu_pmy, 2500);          /* 0.5 s of CPU in 2 s: 25 % */
        assert_true(h.have_scan_rate);
        assert_int_equal(h.pages_scanned_per_sec, 16000);
        assert_true(h.have_full_scan);
        assert_int_equal(h.full_scan_usec, 500 * USEC_PER_MSEC);

        top_host_compute(&s1, &s2, PAGE, &clock, &h);
        assert_int_equal(h.report.ksmd_cpu_pmy, 0);
        assert_int_equal(h.pages_scanned_per_sec, 0);
        assert_false(h.have_full_scan);
        assert_int_equal(h.no_full_scan_for_usec, 2 * USEC_PER_SEC);    /* since the change seen at s1 */

        top_host_compute(&s2, &s3, PAGE, &clock, &h);         /* falling counters: no rates, no negative CPU */
        assert_false(h.have_scan_rate);
        assert_true(h.report.have_cpu);
        assert_int_equal(h.report.ksmd_cpu_pmy, 0);
        assert_int_equal(h.no_full_scan_for_usec, 4 * USEC_PER_SEC);

        top_host_compute(&s3, &s4, PAGE, &clock, &h);
        assert_true(h.have_full_scan);
        assert_int_equal(h.full_scan_usec, 2 * USEC_PER_SEC);
        assert_int_equal(h.no_full_scan_for_usec, 0);
}

static void test_format(void **state) {
        char line[TOP_LINE_MAX], buf[32];
        TopProc p = proc(4242, "evil\033[2Jname", "/sys\ttem.slice/x.service", 256);
        TopRow r = {
                .proc = &p, .cgroup = p.cgroup, .n_procs = 1, .merging_pages = 256, .saved_bytes = 256 * PAGE,
                .have_profit = true, .profit_bytes = 1048576, .rate_source = TOP_RATE_MERGING_PAGES,
                .merges_per_ksec = 12345, .unmerges_per_ksec = 0,
        };

        assert_string_equal(top_format_rate(buf, sizeof(buf), true, 12345), "12.3");
        assert_string_equal(top_format_rate(buf, sizeof(buf), true, 999), "0.9");
        assert_string_equal(top_format_rate(buf, sizeof(buf), false, 12345), "-");

        top_sanitize(buf, sizeof(buf), "a\033b\nc\x80");
        assert_string_equal(buf, "a?b?c?");
        top_sanitize(buf, 4, "abcdef");                 /* cut to the buffer */
        assert_string_equal(buf, "abc");
        top_sanitize(buf, sizeof(buf), NULL);
        assert_string_equal(buf, "");

        top_format_row(&r, TOP_VIEW_PROCESSES, false, line, sizeof(line));
        assert_null(strchr(line, '\033'));              /* the name cannot reach the terminal as an escape */
        assert_non_null(strstr(line, "   4242 evil?[2Jname  "));
        assert_non_null(strstr(line, "1.0 MiB"));
        assert_non_null(strstr(line, " 12.3 "));
        assert_non_null(strstr(line, "/sys?tem.slice/x.service"));

        snprintf(p.daemon, sizeof(p.daemon), "50-web/enabled");
        top_format_row(&r, TOP_VIEW_PROCESSES, true, line, sizeof(line));
        assert_non_null(strstr(line, " 50-web/enabled           /sys?tem"));    /* 24 wide, then a space */

        top_format_heading(TOP_VIEW_PROCESSES, false, line, sizeof(line));
        assert_non_null(strstr(line, "PID COMM"));
        assert_null(strstr(line, "POLICY/STATE"));
        top_format_heading(TOP_VIEW_PROCESSES, true, line, sizeof(line));
        assert_non_null(strstr(line, "POLICY/STATE"));
        top_format_heading(TOP_VIEW_CGROUPS, true, line, sizeof(line));
        assert_true(strneq(line, " PROCS", 6));

        /* A cgroup row in the process view is still a cgroup row. */
        r.proc = NULL;
        r.n_procs = 3;
        top_format_row(&r, TOP_VIEW_CGROUPS, false, line, sizeof(line));
        assert_true(strneq(line, "     3 ", 7));

        free(p.cgroup);
}

static void test_fit(void **state) {
        char line[64];

        snprintf(line, sizeof(line), "0123456789");
        assert_int_equal(top_fit(line, 0), 10);         /* 0: no limit */
        assert_string_equal(line, "0123456789");
        assert_int_equal(top_fit(line, 80), 10);        /* shorter than the width: untouched */
        assert_string_equal(line, "0123456789");
        assert_int_equal(top_fit(line, 10), 10);
        assert_int_equal(top_fit(line, 4), 4);
        assert_string_equal(line, "0123");
        assert_int_equal(top_fit(line, 1), 1);
        assert_string_equal(line, "0");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rate_per_ksec),
                cmocka_unit_test(test_rows_two_samples),
                cmocka_unit_test(test_rows_first_sample),
                cmocka_unit_test(test_rows_counters),
                cmocka_unit_test(test_rows_old_kernel),
                cmocka_unit_test(test_rollup),
                cmocka_unit_test(test_sort),
                cmocka_unit_test(test_sort_keys),
                cmocka_unit_test(test_host),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_fit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
