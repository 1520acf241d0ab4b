/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-bpf.h - per-process KSM statistics from eBPF (bpf/ksm-stats.bpf.c): merges, removals and
 * merged pages per tgid, ksmd's full scans, the advisor's decisions, and exec events through a
 * ring buffer so that new processes are seen at once.
 *
 * Optional at build time (-Dbpf=disabled, or clang/bpftool/libbpf missing: every call returns
 * -EOPNOTSUPP and ksm_bpf_open() says "built without BPF support") and at run time
 * (ksm_bpf_open() fails with a negative errno and a human reason; the caller falls back to
 * polling /proc/PID/ksm_stat).  Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to open; none
 * afterwards: the maps stay readable through the fds the object holds.
 *
 * Accuracy: merged_pages follows mm->ksm_merging_pages (what ksm_stat shows) exactly at every
 * merge and at the end of a full scan (at most one resync per sync_interval_usec); in between,
 * unmerges without a tracepoint show up late (see the top of bpf/ksm-stats.bpf.c).  Does not log above debug: libbpf's messages go to
 * log_debug().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "time-util.h"

typedef struct KsmBpf KsmBpf;

#define KSM_BPF_MAX_PROCESSES_DEFAULT 16384U
#define KSM_BPF_MAX_CGROUPS_DEFAULT 1024U
#define KSM_BPF_RINGBUF_BYTES_DEFAULT (256U * 1024U)
#define KSM_BPF_SCAN_SLOTS 64U          /* full scans remembered */
#define KSM_BPF_COMM_LEN 16U

typedef struct KsmBpfOptions {
        uint32_t max_processes;         /* bound of the per-tgid map (LRU); 0: default */
        uint32_t max_cgroups;           /* bound of the watched-cgroup set; 0: default */
        uint32_t ringbuf_bytes;         /* exec ring buffer, a power of two >= page size; 0: default */
        bool exec_events;               /* attach sched_process_exec and fill the ring buffer */
        bool no_sync;                   /* leave out the end-of-scan resync (for benchmarks) */
        usec_t sync_interval_usec;      /* at most one resync per interval; 0: 500 ms */
} KsmBpfOptions;

typedef struct KsmBpfProcess {
        pid_t tgid;
        uint64_t merges;                /* pages merged into KSM pages since attach (monotonic) */
        uint64_t zero_merges;           /* pages merged with the zero page (monotonic) */
        uint64_t removals;              /* merged pages that stopped being merged (monotonic) */
        uint64_t merged_pages;          /* now: mm->ksm_merging_pages as last seen */
        usec_t last_event_usec;         /* CLOCK_MONOTONIC of the last merge/removal, 0 if none */
        usec_t last_sync_usec;          /* CLOCK_MONOTONIC merged_pages was last read from the mm */
        bool exited;                    /* the process was gone at the last end-of-scan resync */
} KsmBpfProcess;

typedef struct KsmBpfScan {
        uint64_t seq;                   /* ksmd's scan sequence number */
        usec_t start_usec;              /* CLOCK_MONOTONIC; 0 if the start was not seen */
        usec_t duration_usec;           /* 0 if the start was not seen */
        uint64_t rmap_entries;          /* ksm_rmap_items at the end of the scan */
} KsmBpfScan;

typedef struct KsmBpfAdvisor {
        uint64_t n_decisions;           /* 0: none seen (advisor off, or kernel < 6.9) */
        usec_t time_usec;               /* CLOCK_MONOTONIC of the last decision */
        uint64_t scan_time_sec;
        uint64_t pages_to_scan;
        uint64_t cpu_percent;
} KsmBpfAdvisor;

typedef struct KsmBpfCounters {
        uint64_t unattributed;          /* merge/removal events of an mm without owner (exiting) */
        uint64_t map_full;              /* new processes not counted: the process map was full */
        uint64_t exec_seen, exec_filtered, exec_dropped;
        uint64_t syncs;                 /* end-of-scan resyncs done */
        uint64_t pair_undone;           /* two-page merges undone because the second half failed */
} KsmBpfCounters;

typedef struct KsmBpfExecEvent {
        pid_t tgid;
        pid_t ppid;
        uint64_t cgroup_id;             /* cgroup2 id = inode number of the cgroup directory */
        usec_t time_usec;               /* CLOCK_MONOTONIC */
        char comm[KSM_BPF_COMM_LEN];    /* NUL-terminated */
} KsmBpfExecEvent;

/* Which optional parts are loaded (ksm_bpf_features()). */
typedef enum KsmBpfFeature {
        KSM_BPF_FEATURE_ZERO_PAGES = 1U << 0,   /* ksm_merge_one_page */
        KSM_BPF_FEATURE_REMOVALS   = 1U << 1,   /* ksm_remove_rmap_item */
        KSM_BPF_FEATURE_SYNC       = 1U << 2,   /* end-of-scan resync (bpf_task_from_pid, 6.2+) */
        KSM_BPF_FEATURE_ADVISOR    = 1U << 3,   /* ksm_advisor (6.9+) */
        KSM_BPF_FEATURE_EXEC       = 1U << 4,   /* sched_process_exec ring buffer */
} KsmBpfFeature;

/*
 * Checks what is needed (built with BPF, BTF at /sys/kernel/btf/vmlinux, the ksm tracepoints and
 * mm->owner in it, capabilities), loads and attaches.  On failure returns a negative errno and
 * writes a one-line reason to @reterr_why (may be NULL):
 *   -EOPNOTSUPP  built without BPF support; tracepoint X not in this kernel; mm_struct has no
 *                owner (CONFIG_MEMCG off)
 *   -ENOENT      no BTF at /sys/kernel/btf/vmlinux
 *   -EPERM       CAP_BPF or CAP_PERFMON missing; or the kernel refused the load/attach
 *   other        load or attach failed: the reason names the step and libbpf's last message
 * @opts may be NULL (defaults, exec events on).
 */
int ksm_bpf_open(const KsmBpfOptions *opts, KsmBpf **ret, char *reterr_why, size_t whylen);
KsmBpf *ksm_bpf_free(KsmBpf *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(KsmBpf*, ksm_bpf_free);

/* KsmBpfFeature bits of what is attached. */
unsigned ksm_bpf_features(const KsmBpf *b);

/* 0 and *ret filled; -ENOENT if no merge of @tgid was seen (or it was forgotten). */
int ksm_bpf_read_process(KsmBpf *b, pid_t tgid, KsmBpfProcess *ret);

/* Drops @tgid from the map (call when a process exits).  0, or -ENOENT if it was not there. */
int ksm_bpf_forget(KsmBpf *b, pid_t tgid);

/* Calls @f for every process in the map; stops and returns @f's value if it is < 0.  Returns the
 * number of processes visited otherwise. */
typedef int (*KsmBpfProcessFunc)(const KsmBpfProcess *p, void *userdata);
int ksm_bpf_foreach_process(KsmBpf *b, KsmBpfProcessFunc f, void *userdata);

/* Copies up to @n of the last full scans, newest first, into @ret; *ret_total (may be NULL) gets
 * the number of scans seen since attach.  Returns the number copied. */
int ksm_bpf_scans(KsmBpf *b, KsmBpfScan *ret, size_t n, uint64_t *ret_total);

/* The advisor's last decision; ret->n_decisions == 0 if none.  -EOPNOTSUPP if not attached. */
int ksm_bpf_advisor(KsmBpf *b, KsmBpfAdvisor *ret);
int ksm_bpf_counters(KsmBpf *b, KsmBpfCounters *ret);

/*
 * Exec events.  ksm_bpf_exec_fd() is an epoll fd that becomes readable (EPOLLIN) when events are
 * waiting: add it to sd-event with sd_event_add_io() and call ksm_bpf_exec_consume() from the
 * callback.  consume calls @f once per event and returns the number consumed, or @f's negative
 * value.  -EOPNOTSUPP without exec events.
 */
typedef int (*KsmBpfExecFunc)(const KsmBpfExecEvent *e, void *userdata);
int ksm_bpf_exec_fd(KsmBpf *b);
int ksm_bpf_exec_consume(KsmBpf *b, KsmBpfExecFunc f, void *userdata);

/*
 * Restricts exec events to processes in watched cgroups and their descendants (cgroup2 ids, from
 * ksm_bpf_cgroup_id()).  With no cgroup watched every exec is reported.  0, or -E2BIG when the
 * set is full; unwatching a cgroup that is not watched returns -ENOENT.
 */
int ksm_bpf_watch_cgroup(KsmBpf *b, uint64_t cgroup_id, bool watch);
/* The cgroup2 id of the cgroup directory @path (its inode number).  Works without BPF. */
int ksm_bpf_cgroup_id(const char *path, uint64_t *ret);

/*
 * Pure helpers, exported for the unit tests; they work in builds without BPF.
 */

/* What ksm_bpf_open() found; ksm_bpf_probe_verdict() turns it into an errno and a reason. */
typedef struct KsmBpfProbe {
        bool built;                     /* compiled with BPF support */
        bool have_btf;                  /* /sys/kernel/btf/vmlinux exists */
        bool btf_parsed;                /* ... and libbpf parsed it */
        const char *missing_tracepoint; /* first required tracepoint not in the BTF, or NULL */
        bool have_mm_owner;             /* struct mm_struct has owner */
        bool have_merging_pages;        /* struct mm_struct has ksm_merging_pages */
        bool have_cap_bpf, have_cap_perfmon, have_cap_sys_admin;
} KsmBpfProbe;

int ksm_bpf_probe_verdict(const KsmBpfProbe *p, char *reterr_why, size_t whylen);

/* Raw map value (struct ksm_stats_proc in bpf/ksm-stats.h) to KsmBpfProcess. */
struct ksm_stats_proc;
void ksm_bpf_process_from_raw(pid_t tgid, const struct ksm_stats_proc *raw, KsmBpfProcess *ret);

/* The scan ring (KSM_BPF_SCAN_SLOTS entries, @total recorded so far) to a newest-first list. */
struct ksm_stats_scan;
size_t ksm_bpf_scans_from_ring(const struct ksm_stats_scan *ring, uint64_t total, KsmBpfScan *ret, size_t n);
