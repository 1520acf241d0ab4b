/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-stats.h - data shared between bpf/ksm-stats.bpf.c and src/bpf/ksm-bpf.c: map values, the
 * ring buffer record and the per-process accounting rules.
 *
 * Only __u32/__u64 fields and #defines, so that the BPF side (vmlinux.h) and user space
 * (<linux/types.h>) see the same layout.  The accounting helpers at the end are plain C on a
 * struct ksm_stats_proc: the BPF programs call them on map values, the unit tests on literals.
 */
#pragma once

#define KSM_STATS_SCAN_SLOTS 64U                /* power of two: the last full scans kept */
#define KSM_STATS_COMM_LEN 16U

/* struct ksm_stats_proc.flags */
#define KSM_STATS_PROC_EXITED 0x1U              /* no task with this tgid at the last sync */
#define KSM_STATS_PROC_SYNCED 0x2U              /* merged_pages was read from mm at least once */

/* Value of the per-process map, keyed by tgid (__u32). */
struct ksm_stats_proc {
        __u64 merges;           /* pages of this process merged into a KSM page */
        __u64 zero_merges;      /* pages replaced by the zero page (use_zero_pages=1) */
        __u64 removals;         /* merged pages that stopped being merged (unmerge, COW, unmap, exit) */
        __u64 merged_pages;     /* current estimate of mm->ksm_merging_pages */
        __u64 last_event_ns;    /* CLOCK_MONOTONIC of the last merge or removal */
        __u64 last_sync_ns;     /* CLOCK_MONOTONIC of the last read of mm->ksm_merging_pages */
        __u32 flags;            /* KSM_STATS_PROC_* */
        __u32 _pad;
};

/* One full scan of ksmd, between ksm_start_scan and ksm_stop_scan. */
struct ksm_stats_scan {
        __u64 seq;              /* ksm_scan.seqnr, as the tracepoints report it */
        __u64 start_ns;         /* CLOCK_MONOTONIC; 0 if the start was not seen (attached mid-scan) */
        __u64 duration_ns;      /* 0 if the start was not seen */
        __u64 rmap_entries;     /* ksm_rmap_items at the end of the scan */
};

/* The advisor's last decision (ksm_advisor tracepoint, 6.9+). */
struct ksm_stats_advisor {
        __u64 n_decisions;
        __u64 time_ns;
        __u64 scan_time_sec;    /* s64 in the kernel; never negative in practice */
        __u64 pages_to_scan;
        __u64 cpu_percent;
};

/* Global counters in .bss. */
struct ksm_stats_counters {
        __u64 unattributed;     /* merges/removals whose mm had no owner (exiting) */
        __u64 map_full;         /* a new tgid could not be inserted */
        __u64 exec_seen;        /* sched_process_exec events */
        __u64 exec_filtered;    /* ... not in a watched cgroup */
        __u64 exec_dropped;     /* ... lost because the ring buffer was full */
        __u64 syncs;            /* walks of the process map at ksm_stop_scan */
        __u64 pair_undone;      /* two-page merges whose second half failed */
};

/* Ring buffer record: a process called execve(). */
struct ksm_stats_exec {
        __u64 time_ns;          /* CLOCK_MONOTONIC */
        __u64 cgroup_id;        /* cgroup2 id (inode number of the cgroup directory) */
        __u32 tgid;
        __u32 ppid;
        char comm[KSM_STATS_COMM_LEN];
};

/*
 * Accounting.  The kernel's per-mm counter mm->ksm_merging_pages (what /proc/PID/ksm_stat shows
 * as ksm_merging_pages) is incremented only in stable_tree_append(), which runs right after a
 * successful merge, and decremented in remove_rmap_item_from_tree() and
 * remove_node_from_stable_tree().  The programs see every merge (a tracepoint) but only some
 * removals, so each merge carries the counter's value *before* its append (@pages_before): any
 * shortfall against our estimate is removals we did not see.  The same resync happens for every
 * tracked process at the end of each full scan.
 */

/* A merge of @n pages (1, or 2 for both halves of a two-page merge in the same mm). */
static inline void ksm_stats_account_merge(struct ksm_stats_proc *p, __u64 pages_before, __u32 n, __u64 now_ns) {
        if (p->merged_pages > pages_before)
                p->removals += p->merged_pages - pages_before;
        p->merged_pages = pages_before + n;
        p->merges += n;
        p->last_event_ns = now_ns;
        p->last_sync_ns = now_ns;
        p->flags |= KSM_STATS_PROC_SYNCED;
}

/* A removal seen by the ksm_remove_rmap_item tracepoint (fires before the decrement). */
static inline void ksm_stats_account_removal(struct ksm_stats_proc *p, __u64 now_ns) {
        p->removals++;
        if (p->merged_pages > 0)
                p->merged_pages--;
        p->last_event_ns = now_ns;
}

/* The counter read directly from the mm (@exited: the task is gone). */
static inline void ksm_stats_account_sync(struct ksm_stats_proc *p, __u64 pages_now, int exited, __u64 now_ns) {
        if (exited) {
                p->flags |= KSM_STATS_PROC_EXITED;
                return;
        }
        if (p->merged_pages > pages_now)
                p->removals += p->merged_pages - pages_now;
        p->merged_pages = pages_now;
        p->last_sync_ns = now_ns;
        p->flags |= KSM_STATS_PROC_SYNCED;
        p->flags &= ~KSM_STATS_PROC_EXITED;
}
