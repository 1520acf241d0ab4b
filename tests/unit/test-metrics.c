/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-metrics.c - the metrics module: Prometheus text (exact), label escaping, the journal field
 * sets, the roll-up per cgroup, deltas and running totals (monotonic across a process's exit), the
 * ksm_stat polling source, a stand-in for an exact (eBPF-like) source, the atomic file write and
 * the metrics_file configuration key.
 */
#include <errno.h>
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

#include "daemon-config.h"
#include "fixture.h"
#include "macro.h"
#include "metrics.h"

#define PAGE 4096U

static void set(KsmSnapshot *s, KsmKnob k, int64_t v) {
        s->present[k] = true;
        s->error[k] = 0;
        s->value[k] = v;
}

static KsmSnapshot host_snapshot(void) {
        KsmSnapshot s = {};

        set(&s, KSM_KNOB_RUN, 1);
        set(&s, KSM_KNOB_PAGES_SHARED, 10);
        set(&s, KSM_KNOB_PAGES_SHARING, 100);
        set(&s, KSM_KNOB_PAGES_UNSHARED, 5);
        set(&s, KSM_KNOB_PAGES_VOLATILE, 2);
        set(&s, KSM_KNOB_FULL_SCANS, 7);
        set(&s, KSM_KNOB_PAGES_SCANNED, 1000);
        set(&s, KSM_KNOB_KSM_ZERO_PAGES, 3);
        set(&s, KSM_KNOB_GENERAL_PROFIT, 400000);
        return s;
}

static KsmStat stat_of(uint64_t merging, uint64_t zero, uint64_t rmap, int64_t profit) {
        return (KsmStat) {
                .fields = KSM_STAT_RMAP_ITEMS | KSM_STAT_ZERO_PAGES | KSM_STAT_MERGING_PAGES | KSM_STAT_PROCESS_PROFIT,
                .rmap_items = rmap, .zero_pages = zero, .merging_pages = merging, .process_profit = profit,
        };
}

static MetricsState *new_state(void) {
        MetricsSource *src = NULL;
        MetricsState *s = NULL;

        assert_int_equal(metrics_source_ksm_stat_new(&src), 0);
        assert_int_equal(metrics_state_new(src, &s), 0);
        return s;
}

static const Metrics *update(MetricsState *s, usec_t now, const KsmSnapshot *k, const MetricsProcess *p, size_t n) {
        const Metrics *m = NULL;
        MetricsSample sample = {
                .timestamp_usec = now, .page_size = PAGE, .ksm = k,
                .have_ksmd_cpu = true, .ksmd_cpu_ns = 1500000000ULL,
                .have_ksmd_cpu_pmy = now > 1000000, .ksmd_cpu_pmy = 30,
                .processes = p, .n_processes = n,
        };

        assert_int_equal(metrics_update(s, &sample, &m), 0);
        assert_non_null(m);
        return m;
}

static char *prom(const Metrics *m) {
        char *text = NULL;
        size_t size = 0;

        assert_int_equal(metrics_format_prometheus(m, &text, &size), 0);
        assert_int_equal(strlen(text), size);
        return text;
}

/* Journal fields joined by '\n' for one comparison. */
static char *fields_text(const LogFields *f) {
        char *buf = NULL;
        size_t size = 0;
        FILE *o = open_memstream(&buf, &size);

        assert_non_null(o);
        for (size_t i = 0; i < f->n; i++)
                fprintf(o, "%s\n", f->items[i]);
        assert_int_equal(fclose(o), 0);
        return buf;
}

/* The workload used by several tests: /a has two enabled processes of 50-web, /b"q one pending of
 * 60-x without a ksm_stat, /c one process no policy selects (no record for /c). */
static KsmStat st101, st102, st104;
static MetricsProcess workload[4];

static void workload_init(uint64_t m101, uint64_t m102) {
        st101 = stat_of(m101, 1, 50, 1000);
        st102 = stat_of(m102, 0, 30, -200);
        st104 = stat_of(5, 0, 5, 0);
        workload[0] = (MetricsProcess) { .tgid = 101, .cgroup = "/a", .policy = "50-web", .enabled = true, .stat = &st101 };
        workload[1] = (MetricsProcess) { .tgid = 104, .cgroup = "/c", .policy = NULL, .stat = &st104 };
        workload[2] = (MetricsProcess) { .tgid = 103, .cgroup = "/b\"q", .policy = "60-x", .stat = NULL };
        workload[3] = (MetricsProcess) { .tgid = 102, .cgroup = "/a", .policy = "50-web", .enabled = true, .stat = &st102 };
}

static void test_metrics_prometheus_exact(void **state) {
        _cleanup_(metrics_state_freep) MetricsState *s = new_state();
        KsmSnapshot k = host_snapshot();
        _cleanup_free_ char *text = NULL;
        const Metrics *m;

        workload_init(40, 20);
        (void) update(s, 1000000, &k, workload, 4);
        workload_init(70, 10);          /* 101 merged 30 pages, 102 lost 10 */
        m = update(s, 11000000, &k, workload, 4);
        text = prom(m);
        assert_string_equal(text,
                "# HELP ksmtuned_ng_saved_bytes Memory KSM saves: host (pages_sharing + ksm_zero_pages) x page size; cgroup: its processes' (ksm_merging_pages + ksm_zero_pages) x page size.\n"
                "# TYPE ksmtuned_ng_saved_bytes gauge\n"
                "ksmtuned_ng_saved_bytes 421888\n"
                "ksmtuned_ng_saved_bytes{cgroup=\"/a\"} 331776\n"
                "ksmtuned_ng_saved_bytes{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_profit_bytes Saving minus KSM's metadata: host general_profit; cgroup: sum of its processes' ksm_process_profit.\n"
                "# TYPE ksmtuned_ng_profit_bytes gauge\n"
                "ksmtuned_ng_profit_bytes 400000\n"
                "ksmtuned_ng_profit_bytes{cgroup=\"/a\"} 800\n"
                "# HELP ksmtuned_ng_pages_shared KSM pages in use (pages_shared).\n"
                "# TYPE ksmtuned_ng_pages_shared gauge\n"
                "ksmtuned_ng_pages_shared 10\n"
                "# HELP ksmtuned_ng_pages_sharing Pages merged into KSM pages, saved (pages_sharing).\n"
                "# TYPE ksmtuned_ng_pages_sharing gauge\n"
                "ksmtuned_ng_pages_sharing 100\n"
                "# HELP ksmtuned_ng_pages_unshared Pages scanned repeatedly that stay unique (pages_unshared).\n"
                "# TYPE ksmtuned_ng_pages_unshared gauge\n"
                "ksmtuned_ng_pages_unshared 5\n"
                "# HELP ksmtuned_ng_pages_volatile Pages changing too fast to be merged (pages_volatile).\n"
                "# TYPE ksmtuned_ng_pages_volatile gauge\n"
                "ksmtuned_ng_pages_volatile 2\n"
                "# HELP ksmtuned_ng_zero_pages Empty pages merged with the kernel zero page (ksm_zero_pages).\n"
                "# TYPE ksmtuned_ng_zero_pages gauge\n"
                "ksmtuned_ng_zero_pages 3\n"
                "ksmtuned_ng_zero_pages{cgroup=\"/a\"} 1\n"
                "ksmtuned_ng_zero_pages{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_merging_pages Pages of the cgroup's processes merged into KSM pages (sum of ksm_merging_pages).\n"
                "# TYPE ksmtuned_ng_merging_pages gauge\n"
                "ksmtuned_ng_merging_pages{cgroup=\"/a\"} 80\n"
                "ksmtuned_ng_merging_pages{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_rmap_items Pages of the cgroup's processes that ksmd tracks (sum of ksm_rmap_items).\n"
                "# TYPE ksmtuned_ng_rmap_items gauge\n"
                "ksmtuned_ng_rmap_items{cgroup=\"/a\"} 80\n"
                "ksmtuned_ng_rmap_items{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_full_scans_total Full scans ksmd completed (full_scans).\n"
                "# TYPE ksmtuned_ng_full_scans_total counter\n"
                "ksmtuned_ng_full_scans_total 7\n"
                "# HELP ksmtuned_ng_pages_scanned_total Pages ksmd scanned (pages_scanned).\n"
                "# TYPE ksmtuned_ng_pages_scanned_total counter\n"
                "ksmtuned_ng_pages_scanned_total 1000\n"
                "# HELP ksmtuned_ng_ksmd_cpu_seconds_total CPU time used by the ksmd kernel thread.\n"
                "# TYPE ksmtuned_ng_ksmd_cpu_seconds_total counter\n"
                "ksmtuned_ng_ksmd_cpu_seconds_total 1.500000000\n"
                "# HELP ksmtuned_ng_merges_total Pages of tracked processes merged since the daemon started, from the statistics source.\n"
                "# TYPE ksmtuned_ng_merges_total counter\n"
                "ksmtuned_ng_merges_total 30\n"
                "ksmtuned_ng_merges_total{cgroup=\"/a\"} 30\n"
                "ksmtuned_ng_merges_total{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_unmerges_total Pages of tracked processes unmerged since the daemon started, from the statistics source.\n"
                "# TYPE ksmtuned_ng_unmerges_total counter\n"
                "ksmtuned_ng_unmerges_total 10\n"
                "ksmtuned_ng_unmerges_total{cgroup=\"/a\"} 10\n"
                "ksmtuned_ng_unmerges_total{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_processes_tracked Processes the daemon tracks in policy-watched cgroups.\n"
                "# TYPE ksmtuned_ng_processes_tracked gauge\n"
                "ksmtuned_ng_processes_tracked 4\n"
                "ksmtuned_ng_processes_tracked{cgroup=\"/a\"} 2\n"
                "ksmtuned_ng_processes_tracked{cgroup=\"/b\\\"q\"} 1\n"
                "# HELP ksmtuned_ng_processes_enabled Processes the daemon made mergeable.\n"
                "# TYPE ksmtuned_ng_processes_enabled gauge\n"
                "ksmtuned_ng_processes_enabled 2\n"
                "ksmtuned_ng_processes_enabled{cgroup=\"/a\"} 2\n"
                "ksmtuned_ng_processes_enabled{cgroup=\"/b\\\"q\"} 0\n"
                "# HELP ksmtuned_ng_ksm_run The KSM run knob: 0 stopped, 1 merging, 2 unmerging.\n"
                "# TYPE ksmtuned_ng_ksm_run gauge\n"
                "ksmtuned_ng_ksm_run 1\n"
                "# HELP ksmtuned_ng_statistics_source_info Where per-process merge and unmerge counts come from.\n"
                "# TYPE ksmtuned_ng_statistics_source_info gauge\n"
                "ksmtuned_ng_statistics_source_info{source=\"ksm_stat polling\",exact=\"false\"} 1\n");
}

/* An old kernel without most counters and no ksmd found, no processes: families without samples
 * are left out, never printed as 0. */
static void test_metrics_prometheus_sparse(void **state) {
        _cleanup_(metrics_state_freep) MetricsState *s = new_state();
        _cleanup_free_ char *text = NULL, *text2 = NULL;
        KsmSnapshot k = {};
        const Metrics *m;
        MetricsSample sample = { .timestamp_usec = 5, .page_size = PAGE, .ksm = &k };

        set(&k, KSM_KNOB_PAGES_SHARING, 2);
        k.present[KSM_KNOB_PAGES_SHARED] = true;
        k.error[KSM_KNOB_PAGES_SHARED] = -EIO;          /* failed to read: left out */
        assert_int_equal(metrics_update(s, &sample, &m), 0);
        text = prom(m);
        assert_string_equal(text,
                "# HELP ksmtuned_ng_saved_bytes Memory KSM saves: host (pages_sharing + ksm_zero_pages) x page size; cgroup: its processes' (ksm_merging_pages + ksm_zero_pages) x page size.\n"
                "# TYPE ksmtuned_ng_saved_bytes gauge\n"
                "ksmtuned_ng_saved_bytes 8192\n"
                "# HELP ksmtuned_ng_pages_sharing Pages merged into KSM pages, saved (pages_sharing).\n"
                "# TYPE ksmtuned_ng_pages_sharing gauge\n"
                "ksmtuned_ng_pages_sharing 2\n"
                "# HELP ksmtuned_ng_merges_total Pages of tracked processes merged since the daemon started, from the statistics source.\n"
                "# TYPE ksmtuned_ng_merges_total counter\n"
                "ksmtuned_ng_merges_total 0\n"
                "# HELP ksmtuned_ng_unmerges_total Pages of tracked processes unmerged since the daemon started, from the statistics source.\n"
                "# TYPE ksmtuned_ng_unmerges_total counter\n"
                "ksmtuned_ng_unmerges_total 0\n"
                "# HELP ksmtuned_ng_processes_tracked Processes the daemon tracks in policy-watched cgroups.\n"
                "# TYPE ksmtuned_ng_processes_tracked gauge\n"
                "ksmtuned_ng_processes_tracked 0\n"
                "# HELP ksmtuned_ng_processes_enabled Processes the daemon made mergeable.\n"
                "# TYPE ksmtuned_ng_processes_enabled gauge\n"
                "ksmtuned_ng_processes_enabled 0\n"
                "# HELP ksmtuned_ng_statistics_source_info Where per-process merge and unmerge counts come from.\n"
                "# TYPE ksmtuned_ng_statistics_source_info gauge\n"
                "ksmtuned_ng_statistics_source_info{source=\"ksm_stat polling\",exact=\"false\"} 1\n");

        /* without KSM at all, no host KSM figure either */
        sample.ksm = NULL;
        sample.timestamp_usec = 10;
        assert_int_equal(metrics_update(s, &sample, &m), 0);
        text2 = prom(m);
        assert_null(strstr(text2, "saved_bytes"));
        assert_null(strstr(text2, "pages_sharing"));
        assert_non_null(strstr(text2, "\nksmtuned_ng_processes_tracked 0\n"));
}

static char *escaped(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(metrics_escape_label_value(f, s), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_metrics_label_escaping(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/system.slice/web.service", "/system.slice/web.service" },
                { "", "" },
                { "a\\b", "a\\\\b" },
                { "say \"hi\"", "say \\\"hi\\\"" },
                { "two\nlines", "two\\nlines" },
                { "\\\"\n", "\\\\\\\"\\n" },
                { "tab\tstays", "tab\tstays" },                         /* only \ " and newline are escaped */
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3" },   /* UTF-8 kept */
                { "bad\xff", "bad\xef\xbf\xbd" },                       /* invalid byte -> U+FFFD */
                { "cut\xc3", "cut\xef\xbf\xbd" },                       /* truncated sequence */
                { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },             /* overlong '/' */
                { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = escaped(cases[i].in);

                assert_string_equal(e, cases[i].out);
        }
}

static void test_metrics_journal_fields(void **state) {
        _cleanup_(metrics_state_freep) MetricsState *s = new_state();
        _cleanup_(log_fields_done) LogFields h0 = {}, h = {}, c = {}, c2 = {};
        _cleanup_free_ char *th0 = NULL, *th = NULL, *tc = NULL, *tc2 = NULL;
        KsmSnapshot k = host_snapshot();
        const Metrics *m;

        workload_init(40, 20);
        m = update(s, 1000000, &k, workload, 4);
        metrics_journal_host(m, &h0);
        th0 = fields_text(&h0);
        /* the first sample: no interval, no CPU use yet, no events */
        assert_string_equal(th0,
                "KSMT_SOURCE=ksm_stat polling\n"
                "KSMT_RUN=1\n"
                "KSMT_PAGES_SHARED=10\n"
                "KSMT_PAGES_SHARING=100\n"
                "KSMT_PAGES_UNSHARED=5\n"
                "KSMT_PAGES_VOLATILE=2\n"
                "KSMT_ZERO_PAGES=3\n"
                "KSMT_FULL_SCANS=7\n"
                "KSMT_PAGES_SCANNED=1000\n"
                "KSMT_SAVED_BYTES=421888\n"
                "KSMT_PROFIT_BYTES=400000\n"
                "KSMT_KSMD_CPU_NSEC=1500000000\n"
                "KSMT_MERGES=0\n"
                "KSMT_UNMERGES=0\n"
                "KSMT_MERGES_TOTAL=0\n"
                "KSMT_UNMERGES_TOTAL=0\n"
                "KSMT_PROCESSES_TRACKED=4\n"
                "KSMT_PROCESSES_ENABLED=2\n"
                "KSMT_CGROUPS=2\n");

        workload_init(70, 10);
        m = update(s, 11000000, &k, workload, 4);
        metrics_journal_host(m, &h);
        th = fields_text(&h);
        assert_string_equal(th,
                "KSMT_SOURCE=ksm_stat polling\n"
                "KSMT_INTERVAL_USEC=10000000\n"
                "KSMT_RUN=1\n"
                "KSMT_PAGES_SHARED=10\n"
                "KSMT_PAGES_SHARING=100\n"
                "KSMT_PAGES_UNSHARED=5\n"
                "KSMT_PAGES_VOLATILE=2\n"
                "KSMT_ZERO_PAGES=3\n"
                "KSMT_FULL_SCANS=7\n"
                "KSMT_PAGES_SCANNED=1000\n"
                "KSMT_SAVED_BYTES=421888\n"
                "KSMT_PROFIT_BYTES=400000\n"
                "KSMT_KSMD_CPU_PMY=30\n"
                "KSMT_KSMD_CPU_NSEC=1500000000\n"
                "KSMT_MERGES=30\n"
                "KSMT_UNMERGES=10\n"
                "KSMT_MERGES_TOTAL=30\n"
                "KSMT_UNMERGES_TOTAL=10\n"
                "KSMT_PROCESSES_TRACKED=4\n"
                "KSMT_PROCESSES_ENABLED=2\n"
                "KSMT_CGROUPS=2\n");

        assert_int_equal(m->n_cgroups, 2);
        metrics_journal_cgroup(m, &m->cgroups[0], &c);
        tc = fields_text(&c);
        assert_string_equal(tc,
                "KSMT_CGROUP=/a\n"
                "KSMT_POLICY=50-web\n"
                "KSMT_SOURCE=ksm_stat polling\n"
                "KSMT_INTERVAL_USEC=10000000\n"
                "KSMT_SAVED_BYTES=331776\n"
                "KSMT_MERGING_PAGES=80\n"
                "KSMT_ZERO_PAGES=1\n"
                "KSMT_RMAP_ITEMS=80\n"
                "KSMT_PROFIT_BYTES=800\n"
                "KSMT_MERGES=30\n"
                "KSMT_UNMERGES=10\n"
                "KSMT_MERGES_TOTAL=30\n"
                "KSMT_UNMERGES_TOTAL=10\n"
                "KSMT_PROCESSES_TRACKED=2\n"
                "KSMT_PROCESSES_ENABLED=2\n");
        /* no ksm_stat read: no profit field, zeros for the sums */
        metrics_journal_cgroup(m, &m->cgroups[1], &c2);
        tc2 = fields_text(&c2);
        assert_string_equal(tc2,
                "KSMT_CGROUP=/b\"q\n"
                "KSMT_POLICY=60-x\n"
                "KSMT_SOURCE=ksm_stat polling\n"
                "KSMT_INTERVAL_USEC=10000000\n"
                "KSMT_SAVED_BYTES=0\n"
                "KSMT_MERGING_PAGES=0\n"
                "KSMT_ZERO_PAGES=0\n"
                "KSMT_RMAP_ITEMS=0\n"
                "KSMT_MERGES=0\n"
                "KSMT_UNMERGES=0\n"
                "KSMT_MERGES_TOTAL=0\n"
                "KSMT_UNMERGES_TOTAL=0\n"
                "KSMT_PROCESSES_TRACKED=1\n"
                "KSMT_PROCESSES_ENABLED=0\n");
}

static void test_metrics_rollup(void **state) {
        _cleanup_(metrics_state_freep) MetricsState *s = new_state();
        KsmStat a = stat_of(10, 2, 20, 100), b = stat_of(7, 0, 9, -50), c = stat_of(1, 0, 1, 0);
        KsmStat old = { .fields = KSM_STAT_RMAP_ITEMS, .rmap_items = 4 };     /* 6.1: rmap_items only */
        MetricsProcess p[] = {
                { .tgid = 1, .cgroup = "/z", .policy = "b-pol", .enabled = true, .stat = &a },
                { .tgid = 2, .cgroup = "/z", .policy = "a-pol", .stat = &b },
                { .tgid = 3, .cgroup = "/z", .policy = NULL, .stat = &c },     /* unmatched, same cgroup: counted */
                { .tgid = 4, .cgroup = "/z", .policy = "b-pol", .stat = &old },
                { .tgid = 5, .cgroup = "/y", .policy = NULL, .stat = &a },      /* no policy in /y: no record */
                { .tgid = 6, .cgroup = NULL, .policy = "b-pol", .stat = &a },   /* cgroup unknown: host only */
                { .tgid = 1, .cgroup = "/z", .policy = "b-pol", .stat = &a },   /* listed twice: once */
        };
        const Metrics *m = update(s, 1, NULL, p, ELEMENTSOF(p));
        const MetricsGroup *g;

        assert_int_equal(m->host.processes_tracked, 6);
        assert_int_equal(m->host.processes_enabled, 1);
        assert_int_equal(m->n_cgroups, 1);
        g = &m->cgroups[0];
        assert_string_equal(g->cgroup, "/z");
        assert_string_equal(g->policies[0], "a-pol");
        assert_string_equal(g->policies[1], "b-pol");
        assert_null(g->policies[2]);
        assert_int_equal(g->processes_tracked, 4);
        assert_int_equal(g->processes_enabled, 1);
        assert_int_equal(g->merging_pages, 18);
        assert_int_equal(g->zero_pages, 2);
        assert_int_equal(g->rmap_items, 34);
        assert_true(g->have_profit);
        assert_int_equal(g->profit_bytes, 50);
        assert_int_equal(g->saved_bytes, 20 * PAGE);
        assert_true(metrics_process_had_ksm(s, 4));     /* rmap items only */
        assert_false(metrics_process_had_ksm(s, 99));
}

/* The counters across samples: deltas, totals that never go down when a process exits, a cgroup
 * that empties and comes back, and the source forgetting exited processes. */
static void test_metrics_counters_monotonic(void **state) {
        _cleanup_(metrics_state_freep) MetricsState *s = new_state();
        KsmStat a = stat_of(100, 0, 100, 0), b = stat_of(50, 0, 50, 0);
        MetricsProcess p[] = {
                { .tgid = 10, .cgroup = "/w", .policy = "p", .enabled = true, .stat = &a },
                { .tgid = 11, .cgroup = "/w", .policy = "p", .enabled = true, .stat = &b },
        };
        const Metrics *m;

        /* first reading: the baseline, what merged before is no event the daemon saw */
        m = update(s, 1, NULL, p, 2);
        assert_int_equal(m->host.merges, 0);
        assert_int_equal(m->host.merges_total, 0);

        a.merging_pages = 300;  /* +200 */
        b.merging_pages = 20;   /* -30 */
        m = update(s, 2, NULL, p, 2);
        assert_int_equal(m->host.merges, 200);
        assert_int_equal(m->host.unmerges, 30);
        assert_int_equal(m->cgroups[0].merges_total, 200);
        assert_int_equal(m->cgroups[0].unmerges_total, 30);

        /* 10 exits: the totals keep what it contributed; 11 merges 5 more */
        b.merging_pages = 25;
        m = update(s, 3, NULL, p + 1, 1);
        assert_int_equal(m->host.merges, 5);
        assert_int_equal(m->host.merges_total, 205);
        assert_int_equal(m->host.unmerges_total, 30);
        assert_int_equal(m->cgroups[0].merges_total, 205);
        assert_int_equal(m->cgroups[0].processes_tracked, 1);
        assert_false(metrics_process_had_ksm(s, 10));   /* forgotten */

        /* a new process with the same pid is a new baseline, not 300 -> 1000 */
        a.merging_pages = 1000;
        m = update(s, 4, NULL, p, 2);
        assert_int_equal(m->host.merges, 0);
        assert_int_equal(m->host.merges_total, 205);

        /* unreadable ksm_stat: no event, the previous reading stays the reference */
        p[0].stat = NULL;
        m = update(s, 5, NULL, p, 2);
        assert_int_equal(m->host.merges, 0);
        a.merging_pages = 1010;
        p[0].stat = &a;
        m = update(s, 6, NULL, p, 2);
        assert_int_equal(m->host.merges, 10);
        assert_int_equal(m->host.merges_total, 215);

        /* the cgroup empties: its record goes; back later, its counters start from 0 again */
        m = update(s, 7, NULL, NULL, 0);
        assert_int_equal(m->n_cgroups, 0);
        assert_int_equal(m->host.merges_total, 215);
        m = update(s, 8, NULL, p, 1);
        assert_int_equal(m->n_cgroups, 1);
        assert_int_equal(m->cgroups[0].merges_total, 0);
        assert_int_equal(m->host.merges_total, 215);

        /* a process the daemon made mergeable, merged before its first sample: counted */
        {
                KsmStat n = stat_of(64, 0, 64, 0);
                MetricsProcess q = { .tgid = 12, .cgroup = "/w", .policy = "p", .enabled = true, .stat = &n,
                                     .from_zero = true };

                m = update(s, 9, NULL, &q, 1);
                assert_int_equal(m->host.merges, 64);
                assert_int_equal(m->host.merges_total, 279);
        }
}

/* A stand-in for an exact source (what eBPF gives: events per tgid since it attached). */
typedef struct FakeSource {
        MetricsSource base;
        MetricsCounters counts[8];
        unsigned forgotten;             /* bit per tgid */
        bool freed;
} FakeSource;

static bool fake_freed;

static int fake_read(MetricsSource *s, const MetricsProcess *p, MetricsCounters *ret) {
        FakeSource *f = (FakeSource *) s;

        assert_null(p->stat);           /* the caller need not read ksm_stat for an exact source */
        if (p->tgid < 0 || p->tgid >= 8)
                return 0;
        *ret = f->counts[p->tgid];
        return 1;
}

static void fake_forget(MetricsSource *s, pid_t tgid) {
        ((FakeSource *) s)->forgotten |= 1U << tgid;
}

static void fake_free(MetricsSource *s) {
        fake_freed = true;
        free(s);
}

static const MetricsSourceOps fake_ops = {
        .name = "eBPF (test)", .exact = true, .read = fake_read, .forget = fake_forget, .free = fake_free,
};

static void test_metrics_exact_source(void **state) {
        FakeSource *f = calloc(1, sizeof(FakeSource));
        MetricsState *s = NULL;
        MetricsProcess p[] = {
                { .tgid = 1, .cgroup = "/v", .policy = "p" },
                { .tgid = 2, .cgroup = "/v", .policy = "p" },
        };
        _cleanup_free_ char *text = NULL;
        const Metrics *m;

        assert_non_null(f);
        f->base.ops = &fake_ops;
        assert_int_equal(metrics_state_new(&f->base, &s), 0);

        /* an exact source counts from when it attached: the first sighting counts */
        f->counts[1] = (MetricsCounters) { .merges = 16384, .unmerges = 1 };
        m = update(s, 1, NULL, p, 2);
        assert_int_equal(m->host.merges, 16384);
        assert_int_equal(m->host.unmerges, 1);
        assert_string_equal(m->source, "eBPF (test)");
        assert_true(m->source_exact);

        /* a source that starts over (re-attached) counts from 0: never a negative delta */
        f->counts[1] = (MetricsCounters) { .merges = 4, .unmerges = 1 };
        f->counts[2] = (MetricsCounters) { .merges = 6 };
        m = update(s, 2, NULL, p, 2);
        assert_int_equal(m->host.merges, 10);
        assert_int_equal(m->host.unmerges, 0);
        assert_int_equal(m->host.merges_total, 16394);

        /* 1 exits: the source is told to drop it */
        m = update(s, 3, NULL, p + 1, 1);
        assert_int_equal(f->forgotten, 1U << 1);
        assert_int_equal(m->host.merges_total, 16394);

        text = prom(m);
        assert_non_null(strstr(text, "\nksmtuned_ng_statistics_source_info{source=\"eBPF (test)\",exact=\"true\"} 1\n"));
        assert_non_null(strstr(text, "\nksmtuned_ng_merges_total 16394\n"));
        assert_non_null(strstr(text, "\nksmtuned_ng_merges_total{cgroup=\"/v\"} 16394\n"));

        fake_freed = false;
        metrics_state_free(s);
        assert_true(fake_freed);
}

static void test_metrics_ksm_stat_source(void **state) {
        _cleanup_(metrics_source_freep) MetricsSource *src = NULL;
        KsmStat st = stat_of(10, 0, 10, 0), none = { .fields = KSM_STAT_RMAP_ITEMS, .rmap_items = 3 };
        MetricsProcess p = { .tgid = 7 }, q = { .tgid = 8, .stat = &st, .from_zero = true };
        MetricsCounters c = {};

        assert_int_equal(metrics_source_ksm_stat_new(&src), 0);
        assert_string_equal(metrics_source_name(src), "ksm_stat polling");
        assert_false(src->ops->exact);
        assert_int_equal(src->ops->read(src, &p, &c), 0);               /* no ksm_stat */
        p.stat = &none;
        assert_int_equal(src->ops->read(src, &p, &c), 0);               /* no ksm_merging_pages line */
        p.stat = &st;
        assert_int_equal(src->ops->read(src, &p, &c), 1);               /* the baseline */
        assert_int_equal(c.merges, 0);
        st.merging_pages = 15;
        assert_int_equal(src->ops->read(src, &p, &c), 1);
        assert_int_equal(c.merges, 5);
        st.merging_pages = 12;
        assert_int_equal(src->ops->read(src, &p, &c), 1);
        assert_int_equal(c.merges, 5);
        assert_int_equal(c.unmerges, 3);
        src->ops->forget(src, 7);
        st.merging_pages = 40;
        assert_int_equal(src->ops->read(src, &p, &c), 1);               /* a new baseline */
        assert_int_equal(c.merges, 0);
        assert_int_equal(c.unmerges, 0);

        /* made mergeable by the daemon: it had no KSM pages, its first reading is all merges */
        assert_int_equal(src->ops->read(src, &q, &c), 1);
        assert_int_equal(c.merges, 40);
        assert_int_equal(c.unmerges, 0);
}

static void test_metrics_write_file_atomic(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = NULL, *content = NULL, *missing = NULL;
        struct stat st;
        mode_t old = umask(077);

        assert_true(asprintf(&path, "%s/ksmtuned-ng.prom", dir) >= 0);
        assert_int_equal(metrics_write_file_atomic(path, "a 1\n", 4), 0);
        assert_int_equal(metrics_write_file_atomic(path, "b 2\n", 4), 0);
        content = scratch_read(dir, "ksmtuned-ng.prom");
        assert_string_equal(content, "b 2\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0644);      /* readable by node_exporter whatever the umask */
        umask(old);
        {
                /* nothing else is left in the directory */
                _cleanup_free_ char *cmd = NULL;

                assert_true(asprintf(&cmd, "test \"$(ls -A '%s')\" = ksmtuned-ng.prom", dir) >= 0);
                assert_int_equal(system(cmd), 0);
        }
        assert_true(asprintf(&missing, "%s/nope/x.prom", dir) >= 0);
        assert_int_equal(metrics_write_file_atomic(missing, "x", 1), -ENOENT);
        assert_int_equal(metrics_write_file_atomic("relative.prom", "x", 1), -EINVAL);
        assert_int_equal(metrics_write_file_atomic("/tmp/", "x", 1), -EINVAL);
}

static JsonError config_fail(const char *text) {
        DaemonConfig c;
        JsonError err = {};

        daemon_config_init(&c);
        assert_int_equal(daemon_config_parse_string(text, "test.json", &c, &err), -EINVAL);
        assert_string_equal(err.file, "test.json");
        assert_string_equal(err.path, "metrics_file");
        daemon_config_done(&c);
        return err;
}

static void test_metrics_config(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *text = NULL, *text2 = NULL, *msg = NULL;
        DaemonConfig c;
        JsonError err = {};
        JsonError e;

        /* the default, also when given explicitly: used only if node_exporter's directory exists */
        daemon_config_init(&c);
        assert_string_equal(c.metrics_file, METRICS_FILE_DEFAULT);
        assert_int_equal(daemon_config_parse_string("{\"metrics_file\": \"" METRICS_FILE_DEFAULT "\"}", "t", &c, &err), 0);
        assert_string_equal(c.metrics_file, METRICS_FILE_DEFAULT);
        /* "" and null: no file */
        assert_int_equal(daemon_config_parse_string("{\"metrics_file\": \"\"}", "t", &c, &err), 0);
        assert_null(c.metrics_file);
        assert_int_equal(daemon_config_parse_string("{\"metrics_file\": null}", "t", &c, &err), 0);
        assert_null(c.metrics_file);
        assert_true(asprintf(&text, "{\"metrics_file\": \"%s/m.prom\"}", dir) >= 0);
        assert_int_equal(daemon_config_parse_string(text, "t", &c, &err), 0);
        assert_true(strncmp(c.metrics_file, dir, strlen(dir)) == 0);
        daemon_config_done(&c);

        e = config_fail("{\"metrics_file\": \"metrics.prom\"}");
        assert_string_equal(e.message, "expected an absolute path, or \"\" or null for none, got 'metrics.prom'");
        e = config_fail("{\"metrics_file\": 5}");
        assert_string_equal(e.message, "expected an absolute path, or \"\" or null for none, got an integer");
        e = config_fail("{\"metrics_file\": \"/nonexistent-ksmt/x.prom\"}");
        assert_string_equal(e.message, "cannot use directory '/nonexistent-ksmt': No such file or directory");
        e = config_fail("{\"metrics_file\": \"/etc/passwd/x.prom\"}");
        assert_string_equal(e.message, "'/etc/passwd' is not a directory");
        e = config_fail("{\"metrics_file\": \"/tmp/\"}");
        assert_string_equal(e.message, "'/tmp/' names a directory, expected a file");
        assert_true(asprintf(&text2, "{\"metrics_file\": \"%s\"}", dir) >= 0);
        e = config_fail(text2);
        assert_true(asprintf(&msg, "'%s' is a directory, expected a file", dir) >= 0);
        assert_string_equal(e.message, msg);
        /* unwritable: nobody, root included, creates files in sysfs (and root passes access()) */
        e = config_fail("{\"metrics_file\": \"/sys/kernel/ksmtuned-ng.prom\"}");
        assert_string_equal(e.message, "cannot write to directory '/sys/kernel': Permission denied");
}

static int setup_scratch(void **state) {
        *state = scratch_new();
        return 0;
}

static int teardown_scratch(void **state) {
        scratch_remove(*state);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metrics_prometheus_exact),
                cmocka_unit_test(test_metrics_prometheus_sparse),
                cmocka_unit_test(test_metrics_label_escaping),
                cmocka_unit_test(test_metrics_journal_fields),
                cmocka_unit_test(test_metrics_rollup),
                cmocka_unit_test(test_metrics_counters_monotonic),
                cmocka_unit_test(test_metrics_exact_source),
                cmocka_unit_test(test_metrics_ksm_stat_source),
                cmocka_unit_test_setup_teardown(test_metrics_write_file_atomic, setup_scratch, teardown_scratch),
                cmocka_unit_test_setup_teardown(test_metrics_config, setup_scratch, teardown_scratch),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
