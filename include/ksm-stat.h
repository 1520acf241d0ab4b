/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ksm-stat.h - per-process and system-wide figures from procfs: /proc/PID/ksm_stat (with
 * /proc/PID/ksm_merging_pages as fallback), /proc/meminfo and PSI files.
 *
 * Each file has a pure *_parse() on a NUL-terminated buffer and a *_read_at() that reads it
 * relative to a procfs directory fd (tests pass a fixture tree).  Holds no state; does not log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Which lines a ksm_stat file had.  6.1 has only rmap_items; 6.18 all six. */
typedef enum KsmStatField {
        KSM_STAT_RMAP_ITEMS     = 1U << 0,
        KSM_STAT_ZERO_PAGES     = 1U << 1,
        KSM_STAT_MERGING_PAGES  = 1U << 2,
        KSM_STAT_PROCESS_PROFIT = 1U << 3,
        KSM_STAT_MERGE_ANY      = 1U << 4,
        KSM_STAT_MERGEABLE      = 1U << 5,
} KsmStatField;

typedef struct KsmStat {
        unsigned fields;                /* KsmStatField bits of what was present */
        uint64_t rmap_items;
        uint64_t zero_pages;
        uint64_t merging_pages;
        int64_t process_profit;         /* bytes; negative when rmap_items cost more than merges save */
        bool merge_any;                 /* prctl(PR_SET_MEMORY_MERGE) is on (MMF_VM_MERGE_ANY) */
        bool mergeable;                 /* at least one VMA is VM_MERGEABLE */
} KsmStat;

/*
 * Parses ksm_stat text:
 *     ksm_rmap_items 0
 *     ksm_zero_pages 0
 *     ksm_merging_pages 0
 *     ksm_process_profit 0
 *     ksm_merge_any: no
 *     ksm_mergeable: no
 * Keys are separated by a space or by ": ".  Unknown keys are ignored (newer kernels).  An empty
 * buffer is valid (a kernel thread has no mm) and yields fields == 0.
 * -EBADMSG for a known key with a malformed value or a line without a value, -ERANGE on overflow.
 */
int ksm_stat_parse(const char *buf, KsmStat *ret);

/*
 * Reads PID's ksm_stat relative to @proc_fd (an fd of /proc); if the file does not exist (before
 * 6.1) falls back to ksm_merging_pages (5.19+).  -ENOENT/-ESRCH when the process is gone or the
 * kernel has neither file, -EACCES/-EPERM without ptrace read access.
 */
int ksm_stat_read_at(int proc_fd, pid_t pid, KsmStat *ret);

/* /proc/meminfo, in bytes.  Missing lines stay 0 and their bit stays clear in `fields`. */
typedef enum MemInfoField {
        MEMINFO_TOTAL     = 1U << 0,
        MEMINFO_FREE      = 1U << 1,
        MEMINFO_AVAILABLE = 1U << 2,
        MEMINFO_ANON      = 1U << 3,
        MEMINFO_SWAP_TOTAL = 1U << 4,
        MEMINFO_SWAP_FREE = 1U << 5,
        MEMINFO_BUFFERS   = 1U << 6,
        MEMINFO_CACHED    = 1U << 7,
} MemInfoField;

typedef struct MemInfo {
        unsigned fields;
        uint64_t total, free, available, anon_pages, swap_total, swap_free, buffers, cached;
} MemInfo;

/* -EBADMSG if MemTotal is missing or a known line is malformed. */
int meminfo_parse(const char *buf, MemInfo *ret);
int meminfo_read_at(int proc_fd, MemInfo *ret);

/* One line of a PSI file; averages in permyriad (avg10=12.34 -> 1234), total in microseconds. */
typedef struct PsiLine {
        uint32_t avg10_pmy, avg60_pmy, avg300_pmy;
        uint64_t total_usec;
} PsiLine;

typedef struct PsiStats {
        PsiLine some, full;
        bool have_full;         /* the "full" line is absent in /proc/pressure/cpu before 5.13 */
} PsiStats;

/*
 * Parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull …".
 * -EBADMSG if "some" is missing or a field is malformed or an average exceeds 100.00.
 */
int psi_parse(const char *buf, PsiStats *ret);
/* Reads @path relative to @dir_fd: "pressure/memory" under /proc, or "memory.pressure" in a cgroup. */
int psi_read_at(int dir_fd, const char *path, PsiStats *ret);
