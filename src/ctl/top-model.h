/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * top-model.h - the pure part of `ksmctl top`: per-process and host rates from two samples, the
 * cgroup roll-up, sorting, and text rows fitted to a terminal width.
 *
 * No I/O, no clock, no terminal: ksmctl-top.c fills TopSample from procfs, sysfs and the daemon
 * and draws what this module computes.  Rates are integers in pages per 1000 s (1500 = 1.5/s).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ksm-report.h"
#include "ksm-stat.h"
#include "ksm-sysfs.h"
#include "proc-stat.h"
#include "time-util.h"

typedef enum TopRateSource {
        TOP_RATE_NONE,                  /* no rate: first sample of this process, or a counter reset */
        TOP_RATE_MERGING_PAGES,         /* from the change of ksm_merging_pages between samples */
        TOP_RATE_COUNTERS,              /* from the daemon's cumulative "merges"/"unmerges" counters */
        _TOP_RATE_SOURCE_MAX,
} TopRateSource;

typedef enum TopSortKey {
        TOP_SORT_SAVED,                 /* saved bytes, largest first (the default) */
        TOP_SORT_PROFIT,                /* ksm_process_profit, largest first */
        TOP_SORT_MERGES,                /* merges per second, largest first */
        TOP_SORT_UNMERGES,              /* unmerges per second, largest first */
        TOP_SORT_PID,                   /* PID ascending (cgroup view: like name) */
        TOP_SORT_NAME,                  /* comm, or the cgroup path, ascending */
        _TOP_SORT_MAX,
        _TOP_SORT_INVALID = -EINVAL,
} TopSortKey;

typedef enum TopView {
        TOP_VIEW_PROCESSES,
        TOP_VIEW_CGROUPS,
        _TOP_VIEW_MAX,
} TopView;

/* One process in one sample. */
typedef struct TopProc {
        pid_t pid;
        uint64_t start_time_ticks;      /* with pid: identity (a reused PID is another process) */
        char comm[PROC_COMM_MAX];
        char *cgroup;                   /* owned; NULL when unknown */
        KsmStat st;
        bool have_counters;             /* the daemon reported cumulative merges/unmerges (eBPF) */
        uint64_t merges, unmerges;      /* pages, cumulative since the daemon started counting */
        char daemon[64];                /* "POLICY/STATE" from the daemon, "-" untracked, "" no daemon */
} TopProc;

typedef struct TopSample {
        usec_t timestamp_usec;          /* CLOCK_MONOTONIC when it was taken */
        TopProc *procs;                 /* owned, sorted by PID by top_sample_sort() */
        size_t n_procs;
        bool have_ksm;
        KsmSnapshot ksm;                /* /sys/kernel/mm/ksm */
        bool have_ksmd_cpu;
        nsec_t ksmd_cpu_nsec;           /* ksmd's CPU time so far */
} TopSample;

/* Frees what @s owns and zeroes it (accepts a zeroed sample). */
void top_sample_done(TopSample *s);
/* Sorts the processes by PID (needed before a sample serves as the previous one). */
void top_sample_sort(TopSample *s);

/* One line of a table: a process, or a cgroup with the sum of its processes. */
typedef struct TopRow {
        const TopProc *proc;            /* borrowed; NULL for a cgroup row */
        const char *cgroup;             /* borrowed; NULL when unknown */
        uint64_t n_procs;               /* 1 for a process */
        uint64_t n_rated;               /* how many of them have rates */
        uint64_t merging_pages, zero_pages, rmap_items;
        uint64_t saved_bytes;           /* (merging_pages + zero_pages) * page size */
        bool have_profit;
        int64_t profit_bytes;           /* ksm_process_profit (sum of those reporting it) */
        TopRateSource rate_source;      /* cgroup: COUNTERS if any member's rate came from them */
        uint64_t merges_per_ksec;       /* pages per 1000 s */
        uint64_t unmerges_per_ksec;
} TopRow;

/* @delta events over @interval_usec in events per 1000 s (saturating); 0 for an empty interval. */
uint64_t top_rate_per_ksec(uint64_t delta, usec_t interval_usec);

/*
 * One row per process of @cur, in @cur's order, with rates against @prev (NULL: none).  A process
 * absent from @prev, or with another start time (a reused PID), has no rates; one that exited
 * since @prev has no row.  A falling ksm_merging_pages counts as unmerges, a falling daemon
 * counter (a restarted daemon) as no rate: rates are never negative.  @prev must be sorted with
 * top_sample_sort().  Returns 0 and *ret (owned, may be NULL when @cur has no process), or -ENOMEM.
 */
int top_rows_compute(const TopSample *prev, const TopSample *cur, uint64_t page_size, TopRow **ret, size_t *ret_n);

/*
 * Sums process rows by their exact cgroup path (not by subtree; processes with an unknown cgroup
 * form one row with cgroup NULL).  Returns 0 and *ret (owned, sorted by path), or -ENOMEM.
 */
int top_rollup(const TopRow *procs, size_t n, TopRow **ret, size_t *ret_n);

void top_rows_sort(TopRow *rows, size_t n, TopSortKey key, bool reverse);

const char *top_sort_key_to_string(TopSortKey k);
TopSortKey top_sort_key_from_string(const char *s);
/* The interactive key for a sort order ('s', 'p', 'm', 'u', 'i', 'n'), and back (_TOP_SORT_INVALID). */
char top_sort_key_to_char(TopSortKey k);
TopSortKey top_sort_key_from_char(int c);

const char *top_rate_source_to_string(TopRateSource s);        /* "none", "merging_pages", "counters" */

/* Keeps the time of the last change of full_scans across refreshes. */
typedef struct TopScanClock {
        bool started;
        uint64_t full_scans;            /* the value at the last change */
        usec_t changed_usec;            /* when that change was seen (or the first sample) */
} TopScanClock;

typedef struct TopHost {
        usec_t interval_usec;           /* between the two samples; 0 with one sample */
        KsmReport report;               /* saved, profit, ratios; have_cpu/ksmd_cpu_pmy from ksmd's CPU time */
        uint64_t pages_shared, pages_sharing, pages_unshared, pages_volatile, zero_pages, full_scans;
        bool have_scan_rate;
        uint64_t pages_scanned_per_sec; /* pages_scanned delta per second */
        bool have_full_scan;
        usec_t full_scan_usec;          /* interval / full scans completed in it, when at least one did */
        usec_t no_full_scan_for_usec;   /* else: for at least how long none has completed (0: unknown) */
} TopHost;

/* Host figures of @cur with rates against @prev (NULL: none); @clock carries the last full scan. */
void top_host_compute(const TopSample *prev, const TopSample *cur, uint64_t page_size, TopScanClock *clock, TopHost *ret);

/* Copies @src into @dst (size > 0), replacing every byte that is not printable ASCII by '?'
 * (a process name or cgroup path must not be able to send escape sequences to the terminal). */
void top_sanitize(char *dst, size_t size, const char *src);

/* Cuts @line to at most @width columns (bytes: lines are sanitized ASCII); 0 leaves it whole.
 * Returns the new length. */
size_t top_fit(char *line, size_t width);

/* "12.3" (one decimal) or "-" when !have. */
const char *top_format_rate(char *buf, size_t size, bool have, uint64_t per_ksec);

#define TOP_LINE_MAX 1024

/* The column headings of @view; the POLICY/STATE column only with @daemon. */
void top_format_heading(TopView view, bool daemon, char *buf, size_t size);
/* One row of @view as text, sanitized, not fitted to a width. */
void top_format_row(const TopRow *r, TopView view, bool daemon, char *buf, size_t size);
