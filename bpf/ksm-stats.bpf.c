/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-stats.bpf.c - per-process KSM merge statistics, ksmd's full scans, the advisor's decisions
 * and exec events, for src/bpf/ksm-bpf.c.  CO-RE, tp_btf only (no tracefs needed).
 *
 * Where each count comes from (mm/ksm.c, 6.18):
 *  - ksm_merge_with_ksm_page fires at the end of try_to_merge_with_ksm_page() for every merge
 *    attempt of ksmd.  A stable-tree merge (ksm_page != NULL, err == 0) is always followed by
 *    stable_tree_append(), which is where mm->ksm_merging_pages++ happens.  A merge of two
 *    unstable pages fires twice: first with ksm_page == NULL (the page becomes the KSM page), then
 *    with ksm_page == that page (same pfn) for the other page; if the second half fails the first is
 *    undone with break_cow(), so the first half only counts when the second succeeds.  (If
 *    stable_tree_insert() fails afterwards both are undone; that is rare, and the next resync
 *    corrects it.)
 *  - ksm_merge_one_page fires only for merges with the zero page (use_zero_pages=1): they count in
 *    ksm_zero_pages, not ksm_merging_pages.
 *  - Decrements of ksm_merging_pages have no reliable tracepoint: remove_rmap_item_from_tree()
 *    (unmerge, COW, unmap, exit) has none, and remove_node_from_stable_tree() fires
 *    ksm_remove_rmap_item for every rmap_item but the last.  A kprobe/fentry on
 *    remove_rmap_item_from_tree() would see them all but runs for every page ksmd scans (it is
 *    called from cmp_and_merge_page() for each unmerged page), which costs far more than our 3 %
 *    budget.  Instead every merge event reads mm->ksm_merging_pages before its append, and at each
 *    ksm_stop_scan a walk of the (bounded) process map reads the counter of every tracked process
 *    through bpf_task_from_pid(): removals we did not see show up as the difference.
 *  - Attribution: the tracepoints run in ksmd and carry only the mm; the owning process is
 *    mm->owner->tgid (CONFIG_MEMCG).  An exiting mm has owner NULL: counted as unattributed.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ksm-stats.h"

char LICENSE[] SEC("license") = "GPL";

/* Sizes are set by user space with bpf_map__set_max_entries() before load. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 16384);
        __type(key, __u32);
        __type(value, struct ksm_stats_proc);
} procs SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 1024);
        __type(key, __u64);
        __type(value, __u8);
} watched_cgroups SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

/* Set before load. */
const volatile __u32 max_cgroup_depth = 32;     /* ancestors checked for a watched cgroup */
/* Minimum time between two end-of-scan resyncs: a walk of the process map visits every bucket
 * (max_entries of them, about 250 us for 16384), and small workloads end many scans a second. */
const volatile __u64 sync_interval_ns = 500000000ULL;

/* Written by user space at run time (mmapped .bss). */
__u32 watch_enabled;            /* 0: emit every exec; else only in watched cgroups (and below) */

/* Read by user space. */
struct ksm_stats_counters counters;
struct ksm_stats_scan scans[KSM_STATS_SCAN_SLOTS];
__u64 n_scans;                  /* scans recorded; scans[(n_scans - 1) % SLOTS] is the newest */
struct ksm_stats_advisor advisor;

/* ksmd-private state: merges, scans and the advisor all run in the ksmd thread only. */
static __u64 scan_start_ns;
static __u64 last_sync_ns;
static __s64 scan_start_seq = -1;
/* The first half of a two-page merge.  Separate scalars: clang 14 splits a static struct into
 * pieces whose BTF the kernel rejects ("Invalid size" in .bss). */
static struct mm_struct *pending_mm;
static __u64 pending_pfn;
static __u64 pending_pages_before;

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/* ksmd merges page after page of one mm: remember the last mm's owner instead of reading
 * mm->owner->tgid (two probe reads) for every merge.  Merges run in ksmd only, so no race. */
static struct mm_struct *last_mm;
static __u32 last_tgid;

static __always_inline __u32 mm_tgid(struct mm_struct *mm) {
        struct task_struct *owner;
        __u32 tgid = 0;

        if (!mm)
                return 0;
        if (mm == last_mm)
                return last_tgid;
        owner = BPF_CORE_READ(mm, owner);
        if (owner)
                tgid = BPF_CORE_READ(owner, tgid);
        last_mm = mm;
        last_tgid = tgid;
        return tgid;
}

static __always_inline __u64 mm_merging_pages(struct mm_struct *mm) {
        return BPF_CORE_READ(mm, ksm_merging_pages);
}

static __always_inline struct ksm_stats_proc *proc_get(__u32 tgid) {
        struct ksm_stats_proc *p, zero = {};

        p = bpf_map_lookup_elem(&procs, &tgid);
        if (p)
                return p;
        if (bpf_map_update_elem(&procs, &tgid, &zero, BPF_NOEXIST) < 0 &&
            !bpf_map_lookup_elem(&procs, &tgid)) {
                __sync_fetch_and_add(&counters.map_full, 1);
                return NULL;
        }
        return bpf_map_lookup_elem(&procs, &tgid);
}

static __always_inline void credit(struct mm_struct *mm, __u64 pages_before, __u32 n) {
        struct ksm_stats_proc *p;
        __u32 tgid = mm_tgid(mm);

        if (tgid == 0) {
                __sync_fetch_and_add(&counters.unattributed, n);
                return;
        }
        p = proc_get(tgid);
        if (!p)
                return;
        ksm_stats_account_merge(p, pages_before, n, bpf_ktime_get_ns());
}

SEC("tp_btf/ksm_merge_with_ksm_page")
int BPF_PROG(ksm_merge_with_ksm_page, void *ksm_page, unsigned long pfn, void *rmap_item, void *mm_arg, int err) {
        struct mm_struct *mm = mm_arg;

        if (!ksm_page) {
                /* First half of try_to_merge_two_pages(): counts only if the second half succeeds. */
                pending_mm = err == 0 ? mm : NULL;
                pending_pfn = pfn;
                pending_pages_before = err == 0 ? mm_merging_pages(mm) : 0;
                return 0;
        }

        if (pending_mm && pending_pfn == pfn) {
                struct mm_struct *first = pending_mm;

                pending_mm = NULL;
                if (err != 0) {
                        __sync_fetch_and_add(&counters.pair_undone, 1);
                        return 0;
                }
                if (first == mm) {
                        /* Both pages in one mm: neither append has happened yet. */
                        credit(mm, pending_pages_before, 2);
                        return 0;
                }
                credit(first, pending_pages_before, 1);
        }
        if (err != 0)
                return 0;
        credit(mm, mm_merging_pages(mm), 1);
        return 0;
}

SEC("tp_btf/ksm_merge_one_page")
int BPF_PROG(ksm_merge_one_page, unsigned long pfn, void *rmap_item, void *mm_arg, int err) {
        struct ksm_stats_proc *p;
        __u32 tgid;

        if (err != 0)
                return 0;
        tgid = mm_tgid(mm_arg);
        if (tgid == 0) {
                __sync_fetch_and_add(&counters.unattributed, 1);
                return 0;
        }
        p = proc_get(tgid);
        if (!p)
                return 0;
        p->zero_merges++;
        p->last_event_ns = bpf_ktime_get_ns();
        return 0;
}

SEC("tp_btf/ksm_remove_rmap_item")
int BPF_PROG(ksm_remove_rmap_item, unsigned long pfn, void *rmap_item, void *mm_arg) {
        struct mm_struct *mm = mm_arg;
        struct task_struct *owner = BPF_CORE_READ(mm, owner);
        struct ksm_stats_proc *p;
        __u32 tgid = owner ? BPF_CORE_READ(owner, tgid) : 0;

        if (tgid == 0) {
                __sync_fetch_and_add(&counters.unattributed, 1);
                return 0;
        }
        p = bpf_map_lookup_elem(&procs, &tgid);
        if (p)
                ksm_stats_account_removal(p, bpf_ktime_get_ns());
        return 0;
}

/* An exiting mm may be freed and its address reused by a new mm: forget the cached owner.  (Also
 * at every scan start, in case this races with ksmd filling the cache.) */
SEC("tp_btf/ksm_exit")
int BPF_PROG(ksm_exit, void *mm) {
        if (mm == last_mm)
                last_mm = NULL;
        return 0;
}

SEC("tp_btf/ksm_start_scan")
int BPF_PROG(ksm_start_scan, int seq, u32 rmap_entries) {
        last_mm = NULL;
        scan_start_ns = bpf_ktime_get_ns();
        scan_start_seq = seq;
        return 0;
}

SEC("tp_btf/ksm_stop_scan")
int BPF_PROG(ksm_stop_scan, int seq, u32 rmap_entries) {
        __u64 now = bpf_ktime_get_ns(), n = n_scans;
        struct ksm_stats_scan *s = &scans[n & (KSM_STATS_SCAN_SLOTS - 1)];

        s->seq = (__u32) seq;
        s->rmap_entries = rmap_entries;
        if (scan_start_seq == seq && scan_start_ns != 0) {
                s->start_ns = scan_start_ns;
                s->duration_ns = now - scan_start_ns;
        } else {
                s->start_ns = 0;
                s->duration_ns = 0;
        }
        scan_start_ns = 0;
        /* Publish: a value-returning atomic is fully ordered (BPF has no bare fence).  User
         * space reads n_scans before and after copying the ring. */
        __sync_fetch_and_add(&n_scans, 1);
        return 0;
}

static long sync_one(struct bpf_map *map, __u32 *tgid, struct ksm_stats_proc *p, void *ctx) {
        __u64 now = *(__u64 *) ctx;
        struct task_struct *t;
        struct mm_struct *mm;

        t = bpf_task_from_pid(*tgid);
        if (!t) {
                ksm_stats_account_sync(p, 0, /* exited= */ 1, now);
                return 0;
        }
        mm = t->mm;
        if (mm)
                ksm_stats_account_sync(p, mm->ksm_merging_pages, 0, now);
        else
                ksm_stats_account_sync(p, 0, /* exited= */ 1, now);      /* zombie */
        bpf_task_release(t);
        return 0;
}

/* Separate program on the same tracepoint, so that user space can leave it out (autoload) where
 * bpf_task_from_pid() is missing (before 6.2): the figures then rest on the merge events alone. */
SEC("tp_btf/ksm_stop_scan")
int BPF_PROG(ksm_sync, int seq, u32 rmap_entries) {
        __u64 now = bpf_ktime_get_ns();

        if (last_sync_ns != 0 && now - last_sync_ns < sync_interval_ns)
                return 0;
        last_sync_ns = now;
        bpf_for_each_map_elem(&procs, sync_one, &now, 0);
        counters.syncs++;
        return 0;
}

SEC("tp_btf/ksm_advisor")
int BPF_PROG(ksm_advisor, s64 scan_time, unsigned long pages_to_scan, unsigned int cpu_percent) {
        advisor.time_ns = bpf_ktime_get_ns();
        advisor.scan_time_sec = scan_time;
        advisor.pages_to_scan = pages_to_scan;
        advisor.cpu_percent = cpu_percent;
        __sync_fetch_and_add(&advisor.n_decisions, 1);
        return 0;
}

static __always_inline int cgroup_watched(__u64 id) {
        struct task_struct *t;
        int level;

        if (bpf_map_lookup_elem(&watched_cgroups, &id))
                return 1;
        t = bpf_get_current_task_btf();
        level = BPF_CORE_READ(t, cgroups, dfl_cgrp, level);
        /* Ancestors from just below the root down to the parent. */
        for (int i = 1; i < 64; i++) {
                __u64 a;

                if (i >= level || i > max_cgroup_depth)
                        break;
                a = bpf_get_current_ancestor_cgroup_id(i);
                if (bpf_map_lookup_elem(&watched_cgroups, &a))
                        return 1;
        }
        return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
        struct ksm_stats_exec *e;
        __u64 cg = bpf_get_current_cgroup_id();

        __sync_fetch_and_add(&counters.exec_seen, 1);
        if (watch_enabled && !cgroup_watched(cg)) {
                __sync_fetch_and_add(&counters.exec_filtered, 1);
                return 0;
        }
        e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);
        if (!e) {
                __sync_fetch_and_add(&counters.exec_dropped, 1);
                return 0;
        }
        e->time_ns = bpf_ktime_get_ns();
        e->cgroup_id = cg;
        e->tgid = p->tgid;
        e->ppid = BPF_CORE_READ(p, real_parent, tgid);
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        bpf_ringbuf_submit(e, 0);
        return 0;
}
