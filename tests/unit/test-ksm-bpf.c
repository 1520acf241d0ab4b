/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ksm-bpf.c - the pure parts of the BPF statistics: the verdict on a probe (errno and reason
 * for every missing piece), the per-process accounting rules the BPF programs apply to map values
 * (bpf/ksm-stats.h), map value and scan ring conversions, cgroup ids, and the stub's answer.
 * No BPF, no root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ksm-bpf.h"
#include "ksm-stats.h"
#include "macro.h"

static KsmBpfProbe good_probe(void) {
        return (KsmBpfProbe) {
                .built = true, .have_btf = true, .btf_parsed = true,
                .have_mm_owner = true, .have_merging_pages = true,
                .have_cap_bpf = true, .have_cap_perfmon = true,
        };
}

static void test_verdict_ok(void **state) {
        KsmBpfProbe p = good_probe();
        char why[128];

        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), 0);
        assert_string_equal(why, "ok");
        /* CAP_SYS_ADMIN alone is enough (kernels before 5.8 know no CAP_BPF). */
        p.have_cap_bpf = p.have_cap_perfmon = false;
        p.have_cap_sys_admin = true;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), 0);
        /* No buffer is fine. */
        assert_int_equal(ksm_bpf_probe_verdict(&p, NULL, 0), 0);
}

static void test_verdict_reasons(void **state) {
        KsmBpfProbe p;
        char why[128];

        p = good_probe();
        p.built = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EOPNOTSUPP);
        assert_string_equal(why, "built without BPF support");

        p = good_probe();
        p.have_btf = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -ENOENT);
        assert_non_null(strstr(why, "no BTF at /sys/kernel/btf/vmlinux"));

        p = good_probe();
        p.btf_parsed = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EBADMSG);

        p = good_probe();
        p.missing_tracepoint = "ksm_merge_with_ksm_page";
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EOPNOTSUPP);
        assert_non_null(strstr(why, "tracepoint ksm_merge_with_ksm_page not in this kernel"));

        p = good_probe();
        p.have_mm_owner = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EOPNOTSUPP);
        assert_non_null(strstr(why, "CONFIG_MEMCG"));

        p = good_probe();
        p.have_merging_pages = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EOPNOTSUPP);

        p = good_probe();
        p.have_cap_bpf = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EPERM);
        assert_string_equal(why, "CAP_BPF missing");

        p = good_probe();
        p.have_cap_perfmon = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EPERM);
        assert_string_equal(why, "CAP_PERFMON missing");

        /* The first missing piece wins: build, then BTF, then the kernel, then privileges. */
        p = (KsmBpfProbe) {};
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -EOPNOTSUPP);
        assert_string_equal(why, "built without BPF support");
        p.built = true;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, sizeof(why)), -ENOENT);

        /* A short buffer is truncated, never overrun. */
        p = good_probe();
        p.have_cap_bpf = false;
        assert_int_equal(ksm_bpf_probe_verdict(&p, why, 4), -EPERM);
        assert_string_equal(why, "CAP");
}

/* A stable-tree merge per call, as ksmd does them; the kernel counter is what ksm_stat shows. */
static void test_account_merges(void **state) {
        struct ksm_stats_proc p = {};
        uint64_t kernel = 0;

        for (int i = 0; i < 100; i++) {
                ksm_stats_account_merge(&p, kernel, 1, 1000 + i);
                kernel++;               /* stable_tree_append() */
        }
        assert_int_equal(p.merges, 100);
        assert_int_equal(p.removals, 0);
        assert_int_equal(p.merged_pages, kernel);
        assert_int_equal(p.last_event_ns, 1099);
        assert_true(p.flags & KSM_STATS_PROC_SYNCED);

        /* Both halves of a two-page merge in one mm: +2, neither appended yet. */
        ksm_stats_account_merge(&p, kernel, 2, 2000);
        kernel += 2;
        assert_int_equal(p.merges, 102);
        assert_int_equal(p.merged_pages, kernel);
        assert_int_equal(p.removals, 0);
}

/* Already merged before we attached: the first event takes the kernel's figure as it is. */
static void test_account_attach_late(void **state) {
        struct ksm_stats_proc p = {};

        ksm_stats_account_merge(&p, 5000, 1, 1);
        assert_int_equal(p.merged_pages, 5001);
        assert_int_equal(p.merges, 1);
        assert_int_equal(p.removals, 0);
}

/* Removals without a tracepoint show up as the difference at the next merge or sync. */
static void test_account_unseen_removals(void **state) {
        struct ksm_stats_proc p = {};
        uint64_t kernel = 0;

        for (int i = 0; i < 10; i++)
                ksm_stats_account_merge(&p, kernel++, 1, 1);
        kernel -= 4;                            /* remove_rmap_item_from_tree() x4 */
        ksm_stats_account_merge(&p, kernel++, 1, 2);
        assert_int_equal(p.removals, 4);
        assert_int_equal(p.merged_pages, 7);
        assert_int_equal(p.merges, 11);

        kernel = 0;                             /* the process unmerged everything */
        ksm_stats_account_sync(&p, kernel, 0, 3);
        assert_int_equal(p.removals, 11);
        assert_int_equal(p.merged_pages, 0);
        assert_int_equal(p.last_sync_ns, 3);
        /* merges - removals == merged_pages (no pages merged before attach) */
        assert_int_equal(p.merges - p.removals, p.merged_pages);
}

/* Removals seen by ksm_remove_rmap_item are not counted again at the next sync. */
static void test_account_seen_removals(void **state) {
        struct ksm_stats_proc p = {};

        ksm_stats_account_merge(&p, 0, 2, 1);
        ksm_stats_account_merge(&p, 2, 1, 1);   /* kernel 3 */
        ksm_stats_account_removal(&p, 5);       /* kernel 2 */
        assert_int_equal(p.removals, 1);
        assert_int_equal(p.merged_pages, 2);
        assert_int_equal(p.last_event_ns, 5);
        ksm_stats_account_sync(&p, 2, 0, 6);
        assert_int_equal(p.removals, 1);
        assert_int_equal(p.merged_pages, 2);

        /* Never below zero, even if the tracepoint fires for pages merged before attach. */
        p = (struct ksm_stats_proc) {};
        ksm_stats_account_removal(&p, 1);
        assert_int_equal(p.merged_pages, 0);
        assert_int_equal(p.removals, 1);
}

/* A sync that finds more than we counted (merges before attach, a missed append) is not a removal. */
static void test_account_sync_higher(void **state) {
        struct ksm_stats_proc p = {};

        ksm_stats_account_merge(&p, 0, 1, 1);
        ksm_stats_account_sync(&p, 40, 0, 2);
        assert_int_equal(p.merged_pages, 40);
        assert_int_equal(p.removals, 0);
        assert_int_equal(p.merges, 1);
}

/* Exit: the entry keeps its last figures and is flagged; a later sync that finds the task clears it. */
static void test_account_exit(void **state) {
        struct ksm_stats_proc p = {};
        KsmBpfProcess out;

        ksm_stats_account_merge(&p, 0, 1, 1);
        ksm_stats_account_sync(&p, 0, /* exited= */ 1, 2);
        assert_true(p.flags & KSM_STATS_PROC_EXITED);
        assert_int_equal(p.merged_pages, 1);
        assert_int_equal(p.last_sync_ns, 1);
        ksm_bpf_process_from_raw(42, &p, &out);
        assert_true(out.exited);
        assert_int_equal(out.tgid, 42);
        ksm_stats_account_sync(&p, 1, 0, 3);
        assert_false(p.flags & KSM_STATS_PROC_EXITED);
}

static void test_process_from_raw(void **state) {
        struct ksm_stats_proc raw = {
                .merges = 10, .zero_merges = 3, .removals = 4, .merged_pages = 6,
                .last_event_ns = 5 * NSEC_PER_SEC + 999, .last_sync_ns = 7 * NSEC_PER_USEC,
                .flags = KSM_STATS_PROC_SYNCED,
        };
        KsmBpfProcess p;

        ksm_bpf_process_from_raw(1234, &raw, &p);
        assert_int_equal(p.tgid, 1234);
        assert_int_equal(p.merges, 10);
        assert_int_equal(p.zero_merges, 3);
        assert_int_equal(p.removals, 4);
        assert_int_equal(p.merged_pages, 6);
        assert_int_equal(p.last_event_usec, 5 * USEC_PER_SEC);
        assert_int_equal(p.last_sync_usec, 7);
        assert_false(p.exited);
}

static void test_scans_from_ring(void **state) {
        struct ksm_stats_scan ring[KSM_STATS_SCAN_SLOTS] = {};
        KsmBpfScan out[KSM_STATS_SCAN_SLOTS + 8];
        size_t n;

        assert_int_equal(ksm_bpf_scans_from_ring(ring, 0, out, ELEMENTSOF(out)), 0);

        for (uint64_t i = 0; i < 3; i++)
                ring[i] = (struct ksm_stats_scan) { .seq = 100 + i, .start_ns = (i + 1) * NSEC_PER_MSEC,
                                                    .duration_ns = 2 * NSEC_PER_MSEC, .rmap_entries = 7 };
        n = ksm_bpf_scans_from_ring(ring, 3, out, ELEMENTSOF(out));
        assert_int_equal(n, 3);
        assert_int_equal(out[0].seq, 102);              /* newest first */
        assert_int_equal(out[2].seq, 100);
        assert_int_equal(out[0].start_usec, 3000);
        assert_int_equal(out[0].duration_usec, 2000);
        assert_int_equal(out[0].rmap_entries, 7);
        assert_int_equal(ksm_bpf_scans_from_ring(ring, 3, out, 2), 2);

        /* Wrapped: 70 scans recorded, slot i holds scan i (mod 64); only the last 64 come back. */
        for (uint64_t i = 0; i < 70; i++)
                ring[i % KSM_STATS_SCAN_SLOTS].seq = i;
        n = ksm_bpf_scans_from_ring(ring, 70, out, ELEMENTSOF(out));
        assert_int_equal(n, KSM_STATS_SCAN_SLOTS);
        assert_int_equal(out[0].seq, 69);
        assert_int_equal(out[KSM_STATS_SCAN_SLOTS - 1].seq, 6);
}

static void test_cgroup_id(void **state) {
        char dir[] = "/tmp/test-ksm-bpf.XXXXXX", file[64];
        struct stat st;
        uint64_t id = 0;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(ksm_bpf_cgroup_id(dir, &id), 0);
        assert_int_equal(id, st.st_ino);
        snprintf(file, sizeof(file), "%s/f", dir);
        fclose(fopen(file, "we"));
        assert_int_equal(ksm_bpf_cgroup_id(file, &id), -ENOTDIR);
        assert_int_equal(unlink(file), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(ksm_bpf_cgroup_id(dir, &id), -ENOENT);
}

/* Whatever the build, a failed open leaves *ret alone and explains itself. */
static void test_open_failure_shape(void **state) {
        KsmBpf *b = NULL;
        char why[256] = "";
        KsmBpfOptions o = { .ringbuf_bytes = 1000 };     /* not a power of two */
        int r;

        r = ksm_bpf_open(&o, &b, why, sizeof(why));
        assert_true(r < 0);
        assert_null(b);
        assert_true(strlen(why) > 0);
        if (r == -EOPNOTSUPP)                   /* the stub */
                assert_string_equal(why, "built without BPF support");
        else                                    /* checked before anything is probed */
                assert_int_equal(r, -EINVAL);
        assert_null(ksm_bpf_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_verdict_ok),
                cmocka_unit_test(test_verdict_reasons),
                cmocka_unit_test(test_account_merges),
                cmocka_unit_test(test_account_attach_late),
                cmocka_unit_test(test_account_unseen_removals),
                cmocka_unit_test(test_account_seen_removals),
                cmocka_unit_test(test_account_sync_higher),
                cmocka_unit_test(test_account_exit),
                cmocka_unit_test(test_process_from_raw),
                cmocka_unit_test(test_scans_from_ring),
                cmocka_unit_test(test_cgroup_id),
                cmocka_unit_test(test_open_failure_shape),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
